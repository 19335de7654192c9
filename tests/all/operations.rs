//! Running unicas: health and metrics, backups, shutdown.

use crate::support::*;

fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("{series} in\n{metrics}"))
        .parse()
        .unwrap()
}

/// Issue "Operations": `/health` says whether the database takes writes (readiness),
/// `/health/live` only that the process answers; both at the root, outside the prefix.
#[tokio::test]
async fn health_follows_the_database() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let ok = c.get("/health").await;
    assert_eq!(
        (ok.status, ok.body.as_str()),
        (200, r#"{"status":"ok","database":"writable"}"#)
    );
    t.server.store.fail_writes(true);
    let down = c.get("/health").await;
    assert_eq!(down.status, 503);
    assert!(down.body.contains("not writable"));
    assert_eq!(c.get("/health/live").await.status, 200);
    t.server.store.fail_writes(false);
    assert_eq!(c.get("/health").await.status, 200);
}

/// Issue "Operations": `/metrics` in Prometheus' text format counts logins by method and
/// outcome, tickets issued and validated by endpoint and outcome, messages by provider,
/// times each endpoint, and reads the live sessions; only for the allowed addresses.
#[tokio::test]
async fn metrics_count_what_happens() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let ticket = c.ticket(SERVICE).await;
    c.get(&validate_path("p3/serviceValidate", SERVICE, &ticket))
        .await;
    c.get(&validate_path("p3/serviceValidate", SERVICE, &ticket))
        .await;
    t.client().login("alice", "wrong", None).await;
    let mut m = t.client();
    let metrics = m.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = metrics.body;
    for (series, expected) in [
        (
            r#"unicas_logins_total{method="password",outcome="success"}"#,
            1.0,
        ),
        (
            r#"unicas_logins_total{method="password",outcome="failure"}"#,
            1.0,
        ),
        (r#"unicas_tickets_issued_total{kind="service"}"#, 1.0),
        (
            r#"unicas_validations_total{endpoint="/p3/serviceValidate",outcome="success"}"#,
            1.0,
        ),
        (
            r#"unicas_validations_total{endpoint="/p3/serviceValidate",outcome="INVALID_TICKET"}"#,
            1.0,
        ),
        (
            r#"unicas_request_duration_seconds_count{endpoint="/p3/serviceValidate"}"#,
            2.0,
        ),
        ("unicas_sso_sessions", 1.0),
    ] {
        assert_eq!(value(&text, series), expected, "{series}");
    }
    assert!(
        value(
            &text,
            r#"unicas_request_duration_seconds_count{endpoint="/login"}"#
        ) >= 4.0
    );
    assert!(value(&text, "unicas_database_bytes") > 0.0);
    assert!(text.contains("# TYPE unicas_request_duration_seconds histogram"));

    let elsewhere = t.client_from("127.0.0.2").get("/metrics").await;
    assert_eq!(
        elsewhere.status, 404,
        "not for addresses outside metrics.allow"
    );
}
