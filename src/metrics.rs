//! What `GET /metrics` reports, in Prometheus' text format: logins by method and outcome,
//! tickets issued and validated (by endpoint and outcome), SMS and e-mail by provider and
//! result, single-logout deliveries, request latency per endpoint, and (read at scrape time)
//! active SSO sessions and the database's size. The counters on every request's path are
//! plain atomics; the rare ones share a small map.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The endpoints timed, by the path after the prefix; anything else is `other`.
pub const ENDPOINTS: [&str; 12] = [
    "/login",
    "/logout",
    "/validate",
    "/serviceValidate",
    "/proxyValidate",
    "/p3/serviceValidate",
    "/p3/proxyValidate",
    "/proxy",
    "/samlValidate",
    "/qrCode",
    "/account",
    "other",
];

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];

/// Validation outcomes: success, then the CAS error codes.
pub const OUTCOMES: [&str; 10] = [
    "success",
    "INVALID_REQUEST",
    "INVALID_TICKET_SPEC",
    "INVALID_TICKET",
    "INVALID_SERVICE",
    "UNAUTHORIZED_SERVICE",
    "UNAUTHORIZED_SERVICE_PROXY",
    "INVALID_PROXY_CALLBACK",
    "BAD_PGT",
    "INTERNAL_ERROR",
];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Microseconds.
    sum: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    latency: [Histogram; ENDPOINTS.len()],
    /// Validations by endpoint (the six that validate) and outcome.
    validations: [[AtomicU64; OUTCOMES.len()]; 6],
    service_tickets: AtomicU64,
    proxy_tickets: AtomicU64,
    /// Everything rarer: one series (`name{labels}`) each.
    rare: Mutex<BTreeMap<String, u64>>,
}

/// What a scrape reads from outside the counters.
pub struct Gauges {
    pub sessions: i64,
    pub database_bytes: u64,
}

impl Metrics {
    /// The index of an endpoint in `ENDPOINTS` for a path below the prefix.
    pub fn endpoint(path: &str) -> usize {
        let base = match path {
            p if p.starts_with("/qrCode/") => "/qrCode",
            p if p.starts_with("/account") => "/account",
            p => p,
        };
        ENDPOINTS
            .iter()
            .position(|e| *e == base)
            .unwrap_or(ENDPOINTS.len() - 1)
    }

    pub fn observe(&self, endpoint: usize, took: Duration) {
        let h = &self.latency[endpoint.min(ENDPOINTS.len() - 1)];
        let secs = took.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|le| secs <= *le) {
            h.buckets[b].fetch_add(1, Ordering::Relaxed);
        }
        h.count.fetch_add(1, Ordering::Relaxed);
        h.sum.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// A validation answered at `endpoint` (a path such as `/p3/serviceValidate`) with
    /// `outcome` (`success` or a CAS error code).
    pub fn validated(&self, endpoint: &str, outcome: &str) {
        let row = match endpoint {
            "/validate" => 0,
            "/serviceValidate" => 1,
            "/proxyValidate" => 2,
            "/p3/serviceValidate" => 3,
            "/p3/proxyValidate" => 4,
            _ => 5,
        };
        let column = OUTCOMES.iter().position(|o| *o == outcome).unwrap_or(0);
        self.validations[row][column].fetch_add(1, Ordering::Relaxed);
    }

    pub fn ticket_issued(&self, proxy: bool) {
        match proxy {
            true => &self.proxy_tickets,
            false => &self.service_tickets,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// A login: `method` (password, sms code, qr code, wecom, wechat) and `outcome`
    /// (success, failure, throttled).
    pub fn login(&self, method: &str, outcome: &str) {
        self.count(format!(
            "unicas_logins_total{{method=\"{method}\",outcome=\"{outcome}\"}}"
        ));
    }

    /// A message handed to a gateway: `channel` (sms, email), `provider`, `result` (sent,
    /// failed, not sent).
    pub fn message(&self, channel: &str, provider: &str, result: &str) {
        self.count(format!(
            "unicas_messages_total{{channel=\"{channel}\",provider=\"{provider}\",result=\"{result}\"}}"
        ));
    }

    /// A back-channel logout delivery's end: `delivered` or `failed`.
    pub fn logout_delivery(&self, result: &str) {
        self.count(format!(
            "unicas_slo_deliveries_total{{result=\"{result}\"}}"
        ));
    }

    fn count(&self, series: String) {
        *self
            .rare
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(series)
            .or_default() += 1;
    }

    /// The text exposition (format 0.0.4).
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str(
            "# HELP unicas_request_duration_seconds Time to answer a request, by endpoint.\n",
        );
        out.push_str("# TYPE unicas_request_duration_seconds histogram\n");
        for (name, h) in ENDPOINTS.iter().zip(&self.latency) {
            let mut cumulative = 0;
            for (le, b) in BUCKETS.iter().zip(&h.buckets) {
                cumulative += load(b);
                let _ = writeln!(
                    out,
                    "unicas_request_duration_seconds_bucket{{endpoint=\"{name}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let count = load(&h.count);
            let _ = writeln!(
                out,
                "unicas_request_duration_seconds_bucket{{endpoint=\"{name}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "unicas_request_duration_seconds_sum{{endpoint=\"{name}\"}} {}",
                load(&h.sum) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "unicas_request_duration_seconds_count{{endpoint=\"{name}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP unicas_validations_total Ticket validations, by endpoint and outcome.\n",
        );
        out.push_str("# TYPE unicas_validations_total counter\n");
        let endpoints = [
            "/validate",
            "/serviceValidate",
            "/proxyValidate",
            "/p3/serviceValidate",
            "/p3/proxyValidate",
            "/samlValidate",
        ];
        for (endpoint, row) in endpoints.iter().zip(&self.validations) {
            for (outcome, n) in OUTCOMES.iter().zip(row) {
                let n = load(n);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "unicas_validations_total{{endpoint=\"{endpoint}\",outcome=\"{outcome}\"}} {n}"
                    );
                }
            }
        }
        out.push_str("# HELP unicas_tickets_issued_total Service and proxy tickets issued.\n");
        out.push_str("# TYPE unicas_tickets_issued_total counter\n");
        let _ = writeln!(
            out,
            "unicas_tickets_issued_total{{kind=\"service\"}} {}",
            load(&self.service_tickets)
        );
        let _ = writeln!(
            out,
            "unicas_tickets_issued_total{{kind=\"proxy\"}} {}",
            load(&self.proxy_tickets)
        );
        let rare = self.rare.lock().unwrap_or_else(|p| p.into_inner());
        for (name, help) in [
            ("unicas_logins_total", "Logins, by method and outcome."),
            (
                "unicas_messages_total",
                "SMS and e-mail handed to a gateway, by provider and result.",
            ),
            (
                "unicas_slo_deliveries_total",
                "Back-channel single-logout deliveries, by result.",
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (series, n) in rare
                .iter()
                .filter(|(s, _)| s.starts_with(&format!("{name}{{")))
            {
                let _ = writeln!(out, "{series} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP unicas_sso_sessions Live SSO sessions.\n# TYPE unicas_sso_sessions gauge\nunicas_sso_sessions {}",
            gauges.sessions
        );
        let _ = writeln!(
            out,
            "# HELP unicas_database_bytes The database's files (with its write-ahead log).\n# TYPE unicas_database_bytes gauge\nunicas_database_bytes {}",
            gauges.database_bytes
        );
        out
    }
}
