//! Load generator for BENCHMARKS.md. Talks HTTP/1.1 keep-alive to a running server, bounded
//! in time, loopback only.
//!
//!   loadgen ADDR[,ADDR...] MODE SECONDS CONNECTIONS
//!   With several addresses (nodes behind one load balancer), connection i lives on node
//!   i mod n and, in `sso`, validates its tickets on the next node: each ticket is minted on
//!   one node and validated on another.
//!   MODE: sso       log in once per connection, then loop: /login?service= (mints) and
//!                   /serviceValidate of that ticket
//!         mint      log in once per connection, then loop /login?service= only
//!         login     every iteration a fresh browser: GET the form, POST the password
//!         mixed     CONNECTIONS/2 connections run `login`, the rest `sso`; reports the
//!                   validation latency percentiles while bcrypt is saturated
//!         anon      anonymous GET /login (a fresh browser each time: no cookies) until
//!                   SECONDS thousand forms were served
//!         prefill   mint until SECONDS thousand tickets are live, then stop (for the
//!                   runs at a million live tickets); counts as `mint`
//!         timing    SECONDS rounds, one connection: each round a wrong password for an
//!                   unknown name (`zz999`), a real account (`bench1`) and a locked one
//!                   (`bench2`), in a shuffled order; reports the POSTs' median times and a
//!                   Mann-Whitney test of each against `bench1` (docs/security.md E02)
//! The server needs accounts `bench0`..`bench63` / `Bench-Pass-1` and service
//! `https://bench.test/*`. The ceiling (examples/ceiling.rs) answers every mode the same way:
//! its `/login` is already "logged in".

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SERVICE: &str = "https%3A%2F%2Fbench.test%2Fapp";

struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    cookies: String,
}

async fn connect(addr: SocketAddr) -> Conn {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).ok();
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    Conn {
        sender,
        cookies: String::new(),
    }
}

impl Conn {
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> (u16, String, Vec<String>) {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1");
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookies.clone());
        }
        if body.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .unwrap();
        self.sender.ready().await.expect("connection");
        let res = self.sender.send_request(req).await.expect("request");
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").to_string())
            .filter(|c| !c.ends_with('='))
            .collect();
        let body = res
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let text = if location.is_empty() {
            String::from_utf8_lossy(&body).into_owned()
        } else {
            location
        };
        (status, text, cookies)
    }

    async fn login(&mut self, account: usize) -> bool {
        self.cookies.clear();
        let (status, page, cookies) = self
            .send("GET", &format!("/cas/login?service={SERVICE}"), None)
            .await;
        // The ceiling has no login form: its /login always answers with a ticket.
        if status == 302 {
            return true;
        }
        self.cookies = cookies.join("; ");
        let Some(start) = page.find("name=\"execution\" value=\"").map(|i| i + 24) else {
            return false;
        };
        let token = &page[start..start + page[start..].find('"').unwrap_or(0)];
        let form = format!(
            "username=bench{}&password=Bench-Pass-1&execution={token}&service={SERVICE}",
            account % 64
        );
        let (status, _, cookies) = self.send("POST", "/cas/login", Some(form)).await;
        if let Some(tgc) = cookies.iter().find(|c| c.starts_with("CASTGC=")) {
            self.cookies = tgc.clone();
        }
        status == 302
    }
}

#[derive(Default)]
struct Tally {
    requests: u64,
    done: u64,
    errors: u64,
    latencies_us: Vec<u32>,
}

/// Logs in first if the mode needs a session, waits until every connection is ready (so
/// the initial logins' bcrypt is not in the measurement), then runs for `duration`.
async fn worker(
    addrs: Arc<Vec<SocketAddr>>,
    mode: &'static str,
    duration: Duration,
    ready: Arc<tokio::sync::Barrier>,
    account: usize,
    quota: u64,
) -> Tally {
    let n = addrs.len();
    let mut conn = connect(addrs[account % n]).await;
    // Where this connection's tickets are validated: another node when there are several.
    let mut validating = match n {
        1 => None,
        _ => Some(connect(addrs[(account + 1) % n]).await),
    };
    let mut t = Tally::default();
    let logged_in = !matches!(mode, "sso" | "mint" | "prefill") || conn.login(account).await;
    ready.wait().await;
    if !logged_in {
        t.errors += 1;
        return t;
    }
    let until = Instant::now() + duration;
    while Instant::now() < until && !(quota > 0 && t.done >= quota) {
        match mode {
            "anon" => {
                conn.cookies.clear();
                let (status, page, _) = conn.send("GET", "/cas/login", None).await;
                t.requests += 1;
                // The form itself, as a browser would render it.
                if status == 200 && page.contains("name=\"execution\"") {
                    t.done += 1
                } else {
                    t.errors += 1
                }
            }
            "login" => {
                let ok = conn.login(account).await;
                t.requests += 2;
                if ok {
                    t.done += 1
                } else {
                    t.errors += 1
                }
            }
            _ => {
                let (status, location, _) = conn
                    .send("GET", &format!("/cas/login?service={SERVICE}"), None)
                    .await;
                t.requests += 1;
                let Some(ticket) = location.split("ticket=").nth(1).filter(|_| status == 302)
                else {
                    t.errors += 1;
                    continue;
                };
                if mode != "sso" {
                    t.done += 1;
                    continue;
                }
                let started = Instant::now();
                let (_, body, _) = validating
                    .as_mut()
                    .unwrap_or(&mut conn)
                    .send(
                        "GET",
                        &format!("/cas/serviceValidate?service={SERVICE}&ticket={ticket}"),
                        None,
                    )
                    .await;
                t.latencies_us.push(started.elapsed().as_micros() as u32);
                t.requests += 1;
                if body.contains("authenticationSuccess") {
                    t.done += 1
                } else {
                    t.errors += 1
                }
            }
        }
    }
    t
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addrs: Vec<SocketAddr> = args
        .get(1)
        .map_or("127.0.0.1:18080", String::as_str)
        .split(',')
        .map(|a| a.parse().expect("ADDR"))
        .collect();
    let addr = addrs[0];
    let addrs = Arc::new(addrs);
    let mode: &'static str = Box::leak(
        args.get(2)
            .cloned()
            .unwrap_or_else(|| "sso".into())
            .into_boxed_str(),
    );
    let number: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let conns: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(32);
    if mode == "timing" {
        return timing(addr, number as usize).await;
    }
    // `prefill N` and `anon N`: N thousand answers, within at most five minutes.
    let (duration, quota) = match mode {
        "prefill" | "anon" => (Duration::from_secs(300), number * 1000 / conns as u64 + 1),
        _ => (Duration::from_secs(number.min(300)), 0),
    };
    let ready = Arc::new(tokio::sync::Barrier::new(conns));
    let tasks: Vec<_> = (0..conns)
        .map(|i| {
            let m = match mode {
                "mixed" if i % 2 == 0 => "login",
                "mixed" => "sso",
                m => m,
            };
            (
                m,
                tokio::spawn(worker(
                    Arc::clone(&addrs),
                    m,
                    duration,
                    ready.clone(),
                    i,
                    quota,
                )),
            )
        })
        .collect();
    let started = Instant::now();
    let mut by_mode: std::collections::BTreeMap<&str, Tally> = Default::default();
    for (m, task) in tasks {
        let t = task.await.expect("worker");
        let total = by_mode.entry(m).or_default();
        total.requests += t.requests;
        total.done += t.done;
        total.errors += t.errors;
        total.latencies_us.extend(t.latencies_us);
    }
    // A prefill runs until its quota; every other mode for the duration asked.
    let secs = match mode {
        "prefill" | "anon" => started.elapsed().as_secs_f64(),
        _ => duration.as_secs_f64(),
    };
    for (m, t) in by_mode.iter_mut() {
        let what = match *m {
            "login" => "logins",
            "mint" | "prefill" => "tickets minted",
            "anon" => "login forms",
            _ => "tickets validated",
        };
        print!(
            "{m}: {:.0} requests/s, {:.0} {what}/s, {} errors",
            t.requests as f64 / secs,
            t.done as f64 / secs,
            t.errors
        );
        if !t.latencies_us.is_empty() {
            t.latencies_us.sort_unstable();
            let p = |q: f64| {
                t.latencies_us[((t.latencies_us.len() - 1) as f64 * q) as usize] as f64 / 1000.0
            };
            print!(
                ", validation latency p50 {:.2} ms, p99 {:.2} ms",
                p(0.5),
                p(0.99)
            );
        }
        println!();
    }
}

/// docs/security.md E02: does a failed login take longer for a real account than for an invented
/// or locked one? Interleaved samples, so drift affects every kind alike.
async fn timing(addr: SocketAddr, rounds: usize) {
    use rand::seq::SliceRandom;
    const NAMES: [&str; 3] = ["zz999", "bench1", "bench2"];
    let mut conn = connect(addr).await;
    let mut samples: [Vec<f64>; 3] = Default::default();
    let mut order = [0, 1, 2];
    for _ in 0..rounds {
        order.shuffle(&mut rand::rng());
        for &i in &order {
            conn.cookies.clear();
            let (_, page, cookies) = conn.send("GET", "/cas/login", None).await;
            conn.cookies = cookies.join("; ");
            let start = page.find("name=\"execution\" value=\"").expect("a form") + 24;
            let token = &page[start..start + page[start..].find('"').unwrap_or(0)];
            let form = format!(
                "username={}&password=Wrong-Pass-1&execution={token}",
                NAMES[i]
            );
            let started = Instant::now();
            let (status, _, _) = conn.send("POST", "/cas/login", Some(form)).await;
            samples[i].push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(
                status, 401,
                "{}: raise the throttle limits for this run",
                NAMES[i]
            );
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let reference = median(&samples[1]);
    for (i, name) in NAMES.iter().enumerate() {
        print!("{name}: median {:.2} ms", median(&samples[i]));
        if i != 1 {
            print!(
                " (Δ {:+.2} ms against bench1, Mann-Whitney p = {:.3})",
                median(&samples[i]) - reference,
                mann_whitney_p(&samples[i], &samples[1])
            );
        }
        println!();
    }
}

/// Two-sided p-value of the Mann-Whitney U test, by the normal approximation (fine for
/// samples of a few hundred; ties are rare with microsecond timings).
fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let mut all: Vec<(f64, bool)> = a.iter().map(|&x| (x, true)).collect();
    all.extend(b.iter().map(|&x| (x, false)));
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let rank_sum: f64 = all
        .iter()
        .enumerate()
        .filter(|(_, (_, from_a))| *from_a)
        .map(|(r, _)| r as f64 + 1.0)
        .sum();
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let u = rank_sum - n1 * (n1 + 1.0) / 2.0;
    let z = (u - n1 * n2 / 2.0) / (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// The complementary error function (Abramowitz and Stegun 7.1.26, error below 1.5e-7).
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    poly * (-x * x).exp()
}
