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

/// Issue "Operations": `unicas backup` copies the database while it serves and is written
/// to; the copy passes SQLite's integrity check and holds every row committed before it
/// began, in order, none missing.
#[tokio::test]
async fn a_backup_under_write_load_holds_every_committed_row() {
    use unicas::model::{AuditEvent, AuditRecord};
    let t = TestServer::start().await;
    if on_postgres() {
        // PostgreSQL's own tools back it up; the command says so and does nothing.
        let copy = t.dir.path().join("copy.db");
        let (ok, _, err) = unicas(&t.config.db, &["backup", copy.to_str().unwrap()]);
        assert!(!ok && err.contains("pg_dump") && !copy.exists(), "{err}");
        return;
    }
    let store = t.server.store.clone();
    let now = t.clock().now();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let committed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let writer = {
        let (stop, committed) = (stop.clone(), committed.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                n += 1;
                let record =
                    AuditRecord::system(AuditEvent::InvalidTickets { count: n }, Some("load"));
                store.audit(&record, now).unwrap();
                committed.store(n, std::sync::atomic::Ordering::SeqCst);
            }
        })
    };
    while committed.load(std::sync::atomic::Ordering::SeqCst) < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before = committed.load(std::sync::atomic::Ordering::SeqCst);
    let copy = t.dir.path().join("backup.db");
    let (ok, out, err) = unicas(&t.config.db, &["backup", copy.to_str().unwrap()]);
    let after = committed.load(std::sync::atomic::Ordering::SeqCst);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.join().unwrap();
    assert!(ok, "{out}{err}");
    assert!(after > before, "the writer kept going during the backup");

    let backup = rusqlite::Connection::open(&copy).unwrap();
    let verdict: String = backup
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
    let rows: Vec<u64> = backup
        .prepare("SELECT detail FROM audit_log WHERE account_id = 'load' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|d| d.unwrap().split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        rows.len() as u64 >= before,
        "{} rows, {before} committed before",
        rows.len()
    );
    assert!(
        rows.iter().copied().eq(1..=rows.len() as u64),
        "in order, none missing"
    );
    assert!(
        backup
            .query_row(
                "SELECT count(*) FROM accounts WHERE id = 'alice'",
                [],
                |r| r.get::<_, i64>(0)
            )
            .unwrap()
            == 1
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&copy).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let (ok, _, err) = unicas(&t.config.db, &["backup", copy.to_str().unwrap()]);
    assert!(!ok && err.contains("exists already"), "{err}");
}

/// Issue "Operations": `unicas restore` refuses while the database is in use, and once the
/// server is stopped puts the backup back, which the next start serves.
#[tokio::test]
async fn a_restore_waits_for_the_server_to_stop() {
    let t = TestServer::start().await;
    if on_postgres() {
        let (ok, _, err) = unicas(&t.config.db, &["restore", "/nonexistent.db"]);
        assert!(!ok && err.contains("pg_restore"), "{err}");
        return;
    }
    let copy = t.dir.path().join("before.db");
    assert!(unicas(&t.config.db, &["backup", copy.to_str().unwrap()]).0);
    t.add_user("later", "Tea-Kettle-2026", false, &[]);
    let (ok, _, err) = unicas(&t.config.db, &["restore", copy.to_str().unwrap()]);
    assert!(!ok && err.contains("in use"), "{err}");
    let TestServer {
        server,
        config,
        dir,
    } = t;
    server.stop().await;
    let (ok, out, err) = unicas(&config.db, &["restore", copy.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let t = TestServer {
        server: unicas::start(config.clone(), unicas::clock::Clock::system(), false)
            .await
            .unwrap(),
        config,
        dir,
    };
    assert_eq!(t.client().login("alice", PASSWORD, None).await.status, 303);
    assert!(
        t.server.store.account("later").unwrap().is_none(),
        "the backup's state"
    );

    // A file that is no database of this installation is refused.
    let junk = t.dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let (ok, _, err) = unicas(&t.config.db, &["restore", junk.to_str().unwrap()]);
    assert!(!ok, "{err}");
}

/// Issue "Operations": SIGTERM stops accepting, lets the requests in flight finish, and
/// writes the single-logout records still in memory before the process exits.
#[tokio::test]
async fn sigterm_finishes_what_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    seed_with_cli(&db);
    let mut running = serve_binary(&db, &[], None);
    let addr = running.addr;
    // A validation leaves a single-logout record in memory (written every few seconds).
    let mut c = Client::new(addr, None);
    let ticket = c
        .login("gina", "Tea-Kettle-2026", Some(SERVICE))
        .await
        .ticket();
    let xml = c
        .get(&validate_path("serviceValidate", SERVICE, &ticket))
        .await
        .body;
    assert!(xml.contains("<cas:user>gina</cas:user>"));
    // Logins at bcrypt cost 10 on two threads: each has its form first, then all post at once.
    let mut forms = Vec::new();
    for _ in 0..12 {
        let mut c = Client::new(addr, None);
        let token = c.get("/cas/login").await.input("execution").unwrap();
        forms.push((c, token));
    }
    let logins: Vec<_> = forms
        .into_iter()
        .map(|(mut c, token)| {
            tokio::spawn(async move {
                let fields = [
                    ("username", "gina"),
                    ("password", "Tea-Kettle-2026"),
                    ("execution", token.as_str()),
                ];
                c.post("/cas/login", &fields).await.status
            })
        })
        .collect();
    // The signal comes once the server has taken every post (each reserved its place in the
    // throttle, or already ended in a session) while some are still being verified.
    let reader = rusqlite::Connection::open(&db).unwrap();
    loop {
        let (in_flight, finished): (i64, i64) = reader
            .query_row(
                "SELECT (SELECT coalesce(max(in_flight), 0) FROM login_throttle),
                        (SELECT count(*) - 1 FROM sso_sessions)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(
            finished < 12,
            "every login ended before the signal could come"
        );
        if in_flight > 0 && in_flight + finished >= 12 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    drop(reader);
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(running.child.id() as i32, libc::SIGTERM) };
    for login in logins {
        assert_eq!(
            login.await.unwrap(),
            303,
            "a request in flight was answered"
        );
    }
    let status = running.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let recorded: i64 = conn
        .query_row("SELECT count(*) FROM logout_participants", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        recorded, 1,
        "the single-logout record was written at shutdown"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

/// Issue "Operations": `trusted_proxies` takes CIDR ranges, and `Forwarded` (RFC 7239) is
/// believed like `X-Forwarded-For`, only from a trusted peer.
#[tokio::test]
async fn forwarded_addresses_only_from_trusted_peers() {
    let t = TestServer::start_with(|c| {
        c.http.trusted_proxies = vec!["127.0.0.0/24".parse().unwrap()];
    })
    .await;
    for (peer, claimed, recorded) in [
        ("127.0.0.5", "for=198.51.100.9;proto=https", "198.51.100.9"),
        (
            "127.0.0.6",
            r#"for=6.6.6.6, for="[2001:db8::7]:4711""#,
            "2001:db8::7",
        ),
        ("127.1.0.1", "for=198.51.100.10", "127.1.0.1"),
    ] {
        let mut c = t.client_from(peer);
        c.headers.push(("forwarded".into(), claimed.into()));
        c.login("alice", "wrong", None).await;
        let last = t.server.store.recent_audit(Some("alice"), 1).unwrap();
        assert_eq!(last[0].client_ip, recorded, "{peer} said {claimed}");
    }
}

/// Issue "Operations": the log can be JSON, every line of a request carries its id (which
/// the answer names in `X-Request-Id`), and the per-ticket line can be turned down while
/// the audit table keeps every event.
#[tokio::test]
async fn json_logs_with_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let config = dir.path().join("unicas.toml");
    std::fs::write(
        &config,
        "[log]\nformat = \"json\"\nlevel = \"info,unicas::tickets=warn\"\n",
    )
    .unwrap();
    assert!(
        unicas(
            &db,
            &[
                "user",
                "add",
                "jo",
                "--name",
                "J",
                "--password",
                "Tea-Kettle-2026"
            ]
        )
        .0
    );
    assert!(
        unicas(
            &db,
            &["service", "add", "--name", "a", "--pattern", SERVICE]
        )
        .0
    );
    let log = dir.path().join("log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_unicas"))
        .arg("--db")
        .arg(&db)
        .arg("--config")
        .arg(&config)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://cas.test/cas",
        ])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let addr = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    let mut c = Client::new(addr, None);
    let login = c.login("jo", "Tea-Kettle-2026", Some(SERVICE)).await;
    let id = login
        .header("x-request-id")
        .expect("the request's id")
        .to_string();
    c.get(&validate_path("serviceValidate", SERVICE, &login.ticket()))
        .await;
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let started = lines
        .iter()
        .find(|l| l["fields"]["message"] == "SSO session started")
        .expect("the login's line");
    assert_eq!(started["span"]["id"], id.as_str(), "{started}");
    assert!(!text.contains("ticket validated"), "turned down: {text}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let logins: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE event = 'login_success'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logins, 1);
}

/// Issue "Operations": direct HTTPS from PEM files, read again on SIGHUP; a file that does
/// not load keeps the certificate in use.
#[tokio::test]
async fn direct_https_and_a_certificate_renewed_on_sighup() {
    use crate::support::receiver::TestCa;
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (TestCa::new("First CA"), TestCa::new("Second CA"));
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (c1, k1) = first.server_pem();
    std::fs::write(&cert, c1).unwrap();
    std::fs::write(&key, k1).unwrap();
    let config = dir.path().join("unicas.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let db = dir.path().join("t.db");
    let log = dir.path().join("t.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_unicas"))
        .arg("--db")
        .arg(&db)
        .arg("--config")
        .arg(&config)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://127.0.0.1/cas",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let addr: std::net::SocketAddr = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    let trusting = |ca: &TestCa| {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap())
            .build()
            .unwrap()
    };
    let url = format!("https://127.0.0.1:{}/cas/login", addr.port());
    let status = |client: reqwest::Client| {
        let url = url.clone();
        async move { client.get(&url).send().await.map(|r| r.status().as_u16()) }
    };
    assert_eq!(status(trusting(&first)).await.unwrap(), 200);
    assert!(
        status(trusting(&second)).await.is_err(),
        "not the second CA's yet"
    );
    let plain = reqwest::get(format!("http://127.0.0.1:{}/cas/login", addr.port())).await;
    assert!(plain.is_err(), "no plain HTTP on a TLS listener");

    let (c2, k2) = second.server_pem();
    std::fs::write(&cert, c2).unwrap();
    std::fs::write(&key, k2).unwrap();
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    let mut renewed = false;
    for _ in 0..50 {
        if status(trusting(&second)).await.ok() == Some(200) {
            renewed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(renewed, "the renewed certificate is served after SIGHUP");
    std::fs::write(&cert, "not a certificate").unwrap();
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    // The server says when it has read the broken file; only then is the answer its verdict.
    let mut reported = false;
    for _ in 0..200 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("TLS certificate kept") {
            reported = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(reported, "the failed reload is reported");
    assert_eq!(
        status(trusting(&second)).await.unwrap(),
        200,
        "the broken file changed nothing"
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// `unicas check URL --service S --account alice` with the password in the environment.
fn run_check(url: String, service: String, password: String, extra: Vec<String>) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_unicas"))
        .args(["check", &url, "--service", &service, "--account", "alice"])
        .args(extra)
        .env("UNICAS_CHECK_PASSWORD", password)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Issue "Operations": `unicas check URL` runs the protocol against a live deployment as a
/// stock client would, and says which part fails.
#[tokio::test]
async fn check_runs_the_protocol_against_a_live_deployment() {
    // The proxy check needs a callback the server trusts: a local https receiver.
    let ca = crate::support::receiver::TestCa::new("check test CA");
    let ca_dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(ca_dir.path());
    let callback = crate::support::receiver::Receiver::https(&ca).await;
    let t = TestServer::start_with(|c| c.ca_file = Some(ca_file)).await;
    let portal = "https://portal.test/";
    t.register(unicas::model::NewService {
        name: "portal".into(),
        pattern: portal.into(),
        allow_proxy: true,
        proxy_callback: Some(format!("{}*", callback.url("/"))),
        ..Default::default()
    });
    let url = format!("http://{}/cas", t.server.addr);
    let check_with = |service: &str, password: &str, extra: &[&str]| {
        let (url, service, password) = (url.clone(), service.to_string(), password.to_string());
        let extra: Vec<String> = extra.iter().map(|e| e.to_string()).collect();
        tokio::task::spawn_blocking(move || run_check(url, service, password, extra))
    };
    let check = |service: &str, password: &str| check_with(service, password, &[]);
    let (ok, out) = check(SERVICE, PASSWORD).await.unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("skip  proxy"), "{out}");
    for line in [
        "ok    login:",
        "ok    CAS 3.0 /p3/serviceValidate: <cas:user>alice</cas:user>",
        "ok    a ticket is single use",
        "ok    /validate",
        "ok    /p3/serviceValidate&format=JSON",
        "ok    SAML 1.1 /samlValidate",
        "ok    logout",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    let (ok, out) = check(SERVICE, "wrong").await.unwrap();
    assert!(!ok && out.contains("FAIL  login: HTTP 401"), "{out}");
    let (ok, out) = check("https://unknown.test/", PASSWORD).await.unwrap();
    assert!(!ok && out.contains("FAIL  login page: HTTP 403"), "{out}");

    // Proxy granting: the callback receives the PGT, and the check says so.
    let pgt_url = callback.url("/pgtCallback");
    let (ok, out) = check_with(portal, PASSWORD, &["--proxy-callback", &pgt_url])
        .await
        .unwrap();
    assert!(ok && out.contains("ok    proxy granting (pgtUrl)"), "{out}");
    let got = callback.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].query("pgtId").unwrap().starts_with("PGT-"));
    // A service that may not proxy: the check fails and shows the CAS answer.
    let (ok, out) = check_with(SERVICE, PASSWORD, &["--proxy-callback", &pgt_url])
        .await
        .unwrap();
    assert!(
        !ok && out.contains("FAIL  proxy granting (pgtUrl): "),
        "{out}"
    );
    assert!(out.contains("UNAUTHORIZED_SERVICE_PROXY"), "{out}");
    assert_eq!(callback.received().len(), 1, "no callback for it");
}

/// docs/security.md M10, issue "Defects found from outside" #13, #14: housekeeping keeps what it
/// says and no longer: expired codes go, the message log after `retention.messages_days`,
/// audit rows after `retention.audit_days`; and every statement of the sweep runs (on
/// SQLite and, in the PostgreSQL pass, there).
#[tokio::test]
async fn housekeeping_deletes_what_is_past_its_retention() {
    let t = TestServer::start().await;
    let record =
        unicas::model::AuditRecord::system(unicas::model::AuditEvent::AccountUnlocked, None);
    t.server
        .store
        .bind("alice", "phone", "+8613800138000", &record, t.clock().now())
        .unwrap();
    // A message, a live code, throttle counters and audit rows.
    let mut c = t.client();
    c.login("alice", "wrong", None).await;
    let page = c.get("/cas/login?cllt=dynamicLogin").await;
    c.get("/cas/captcha.html").await;
    let answer = t.captcha(&c).await;
    c.post(
        "/cas/login",
        &[
            ("cllt", "dynamicLogin"),
            ("action", "send"),
            ("execution", &page.input("execution").unwrap()),
            ("mobile", "13800138000"),
            ("captcha", &answer),
        ],
    )
    .await;
    t.settle_messages().await;
    let store = &t.server.store;
    let messages = || store.outbox("sms", None, 100).unwrap().len();
    let audit = || store.recent_audit(None, 1000).unwrap().len();
    assert_eq!(messages(), 1);
    assert!(audit() > 0);
    assert!(t.server.sweep().await.is_empty(), "every statement ran");
    assert_eq!(messages(), 1, "nothing is past its days yet");

    t.clock().advance(179 * 86_400);
    assert!(t.server.sweep().await.is_empty());
    assert_eq!(messages(), 1);
    t.clock().advance(2 * 86_400);
    assert!(t.server.sweep().await.is_empty());
    assert_eq!(messages(), 0, "the message log past 180 days");
    assert!(audit() > 0, "the audit log is kept a year");
    t.clock().advance(185 * 86_400);
    assert!(t.server.sweep().await.is_empty());
    assert_eq!(audit(), 0, "the audit log past 365 days");
}

/// Issue "Defects found from outside" #18: on a full disk `/health` stops saying writable
/// as soon as a real write failed, though its own small probe still fits. (SQLite's case:
/// a PostgreSQL server's disk is its own.)
#[tokio::test]
async fn a_failed_write_makes_health_unready_at_once() {
    let sqlite = tempfile::tempdir().unwrap();
    let t = TestServer::start_with(|c| {
        c.db = sqlite.path().join("unicas.db");
        c.key_file = None;
    })
    .await;
    let mut c = t.client();
    assert_eq!(c.get("/health").await.status, 200);
    t.server.store.fill_disk().unwrap();
    // Logins fail once their rows need a page the disk has not got...
    let mut statuses = Vec::new();
    for n in 0..200 {
        let res = t
            .client_from(&format!("127.0.{}.{}", n / 200 + 1, n % 200 + 1))
            .login(&format!("nobody-{n}-{}", "x".repeat(40)), "wrong", None)
            .await;
        statuses.push(res.status);
        if res.status == 500 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&500), "{statuses:?}");
    // ...and health says so at once.
    assert_eq!(c.get("/health").await.status, 503);
}

/// docs/security.md L09: `/metrics` from an address not allowed is the same 404 however it is
/// spelled, and no answer names a version or carries a trace.
#[tokio::test]
async fn metrics_stay_closed_however_spelled() {
    let t = TestServer::start().await;
    let mut c = t.client_from("127.0.0.50");
    for path in [
        "/metrics",
        "/cas/metrics",
        "/cas//metrics",
        "/cas/metrics;x",
        "/cas/%6detrics",
        "/cas/./metrics",
        "/cas/metrics/",
        "//metrics",
        "/metrics/",
        "/%6detrics",
    ] {
        let res = c.get(path).await;
        assert_eq!(res.status, 404, "{path}");
        assert!(!res.body.contains("unicas_"), "{path}: {}", res.body);
        assert!(res.header("server").is_none(), "{path}");
        assert!(!res.body.contains(env!("CARGO_PKG_VERSION")), "{path}");
        assert!(!res.body.contains(".rs"), "{path}");
    }
}
