//! Issue "Several nodes on PostgreSQL": nodes sharing one database act as one server. These
//! tests need the cluster named by `UNICAS_TEST_POSTGRES`, so they are ignored in a plain
//! `cargo test` (on SQLite there is only ever one node); `.ci/run` starts a cluster and runs
//! them with `--include-ignored`.

use crate::support::*;
use std::time::Duration;

/// Stops a test that was run without the cluster, saying what it needs.
fn needs_postgres() {
    assert!(
        on_postgres(),
        "several nodes need PostgreSQL: set UNICAS_TEST_POSTGRES (tests/postgres/cluster.sh)"
    );
}

/// Two nodes on one fresh database (A has alice and the service).
async fn two_nodes() -> (TestServer, TestServer) {
    needs_postgres();
    let a = TestServer::start().await;
    let b = a.another_node().await;
    (a, b)
}

/// Whether `c`, asking for a ticket with its session cookie, gets the login form within a
/// second (the session or its account changed on another node; the notice takes
/// milliseconds, A's own memory would hold for seconds or, with its clock set back, minutes).
async fn asks_for_the_password(c: &mut Client) -> bool {
    let sso = format!("/cas/login?service={}", enc(SERVICE));
    for _ in 0..50 {
        if c.get(&sso).await.status == 200 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A client of `node` holding the cookies of `other` (the same browser, sent elsewhere by
/// the load balancer).
fn same_browser(node: &TestServer, other: &Client) -> Client {
    let mut c = node.client();
    c.jar = other.jar.clone();
    c
}

/// Logged in on A; B issues a ticket to the same browser from A's session; A validates it,
/// once; B never again.
#[tokio::test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
async fn a_ticket_from_one_node_validates_on_the_other_once() {
    let (a, b) = two_nodes().await;
    let mut on_a = a.client();
    let first = on_a.login("alice", PASSWORD, Some(SERVICE)).await.ticket();
    let mut on_b = same_browser(&b, &on_a);
    let res = on_b
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await;
    assert_eq!(res.status, 302, "single sign-on on B: {}", res.body);
    let from_b = res.ticket();
    let xml = on_a
        .get(&validate_path("p3/serviceValidate", SERVICE, &from_b))
        .await
        .body;
    assert_eq!(parse_cas(&xml).unwrap().0, "alice", "{xml}");
    for node in [&a, &b] {
        let again = node
            .client()
            .get(&validate_path("serviceValidate", SERVICE, &from_b))
            .await
            .body;
        assert_eq!(parse_cas(&again).unwrap_err().0, "INVALID_TICKET");
    }
    // And the other way round: minted on A, validated on B.
    let xml = b
        .client()
        .get(&validate_path("serviceValidate", SERVICE, &first))
        .await
        .body;
    assert_eq!(parse_cas(&xml).unwrap().0, "alice", "{xml}");
    // Logging out on B ends the session A made: A asks for the password again, once the
    // notice has reached it (milliseconds; the test allows seconds).
    on_b.get("/cas/logout").await;
    assert!(
        asks_for_the_password(&mut on_a).await,
        "the login form, not a ticket"
    );
}

/// docs/security.md A05 across nodes: each ticket presented at once to both nodes, many times,
/// validates exactly once.
#[tokio::test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
async fn a_ticket_is_spent_once_under_concurrent_validation_on_two_nodes() {
    let (a, b) = two_nodes().await;
    let mut c = a.client();
    for _ in 0..10 {
        let ticket = c.ticket(SERVICE).await;
        let validations: Vec<_> = (0..8)
            .map(|i| {
                let mut client = if i % 2 == 0 { a.client() } else { b.client() };
                let path = validate_path("serviceValidate", SERVICE, &ticket);
                tokio::spawn(async move { client.get(&path).await.body })
            })
            .collect();
        let mut successes = 0;
        for v in validations {
            let xml = v.await.unwrap();
            match parse_cas(&xml) {
                Ok(s) => {
                    assert_eq!(s.0, "alice");
                    successes += 1;
                }
                Err((code, _)) => assert_eq!(code, "INVALID_TICKET", "{xml}"),
            }
        }
        assert_eq!(successes, 1, "ticket {ticket}");
    }
}

/// Flow state is shared: a first login begun on one node goes on on the other; a form token
/// spent on one node is spent on the other.
#[tokio::test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
async fn a_flow_begun_on_one_node_goes_on_on_the_other() {
    let (a, b) = two_nodes().await;
    a.add_user("bob", "Initial-Pass-1", true, &[]);
    let mut on_a = a.client();
    let step = on_a.login("bob", "Initial-Pass-1", Some(SERVICE)).await;
    assert_eq!(step.status, 200);
    let mut on_b = same_browser(&b, &on_a);
    let done = on_b
        .change_initial_password(&step, "Initial-Pass-1", "Brand-New-Pass-7")
        .await;
    assert_eq!(
        done.status,
        302,
        "{:?} {}",
        done.header("location"),
        done.body
    );
    // One login form, posted to A and then replayed to B.
    let mut c = a.client();
    let form = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
    let token = form.input("execution").unwrap();
    let fields = [
        ("username", "alice"),
        ("password", PASSWORD),
        ("execution", token.as_str()),
        ("service", SERVICE),
    ];
    // Replayed with the cookies the browser had when it posted (the login replaces them).
    let mut replay = same_browser(&b, &c);
    let first = c.post("/cas/login", &fields).await;
    assert_eq!(first.status, 302, "{}", first.body);
    let again = replay.post("/cas/login", &fields).await;
    assert_eq!(
        again.status,
        403,
        "a spent token, on any node: {:?} {}",
        again.header("location"),
        again.body
    );
}

/// The invalidation bound: what a node remembers of an account and its sessions is dropped
/// when another node changes them, as soon as the database's notice arrives. A's clock is
/// set back so its own memory would hold for a quarter of an hour: only the notice can
/// make A refuse in time.
#[tokio::test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
async fn a_lock_on_one_node_is_honoured_by_the_other_at_once() {
    let (a, b) = two_nodes().await;
    let mut on_a = a.client();
    on_a.login("alice", PASSWORD, Some(SERVICE)).await.ticket();
    let sso = format!("/cas/login?service={}", enc(SERVICE));
    assert_eq!(on_a.get(&sso).await.status, 302, "A remembers the session");
    a.clock().advance(-900);
    assert_eq!(on_a.get(&sso).await.status, 302, "and still does");
    let now = b.clock().now();
    assert!(b
        .server
        .store
        .set_status("alice", unicas::model::Status::Locked, now)
        .unwrap());
    // Well within the bound: notices arrive in milliseconds.
    assert!(
        asks_for_the_password(&mut on_a).await,
        "A still issues tickets to a locked account"
    );
    let res = on_a.login("alice", PASSWORD, Some(SERVICE)).await;
    assert_ne!(res.status, 302, "nor logs it in");
}

/// One node killed (SIGKILL) while both serve: the other keeps serving, and sessions made
/// on the dead node carry on on the live one.
#[tokio::test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
async fn one_node_killed_under_load_the_other_serves_every_session() {
    needs_postgres();
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = test_database(&dir);
    seed_with_cli(&db);
    let mut doomed = serve_binary(&db, &[], None);
    let survivor = serve_binary(&db, &[], None);
    let (a, b) = (doomed.addr, survivor.addr);
    // Browsers log in on A.
    let mut browsers = Vec::new();
    for _ in 0..4 {
        let mut c = Client::new(a, None);
        let ticket = c
            .login("gina", "Tea-Kettle-2026", Some(SERVICE))
            .await
            .ticket();
        let xml = Client::new(b, None)
            .get(&validate_path("serviceValidate", SERVICE, &ticket))
            .await
            .body;
        assert!(xml.contains("<cas:user>gina</cas:user>"), "{xml}");
        browsers.push(c.jar.clone());
    }
    // Load on both: single sign-on cycles, each browser alternating between the nodes.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = browsers
        .iter()
        .enumerate()
        .map(|(i, jar)| {
            let (jar, stop) = (jar.clone(), std::sync::Arc::clone(&stop));
            tokio::spawn(async move {
                let mut cycles = 0u32;
                let mut n = i;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let node = if n % 2 == 0 { a } else { b };
                    n += 1;
                    let mut c = Client::new(node, None);
                    c.jar = jar.clone();
                    // Requests to the node being killed may fail; that is the load balancer's
                    // to retry, and what the survivor does is checked below.
                    let res = tokio::time::timeout(
                        Duration::from_secs(2),
                        c.try_get(&format!("/cas/login?service={}", enc(SERVICE))),
                    )
                    .await;
                    if let Ok(Ok(res)) = res {
                        cycles += (res.status == 302) as u32;
                    }
                }
                cycles
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    doomed.child.kill().unwrap();
    doomed.child.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in load {
        assert!(l.await.unwrap() > 0);
    }
    // Every session made on the dead node works on the survivor: a ticket, validated there.
    for jar in &browsers {
        let mut c = Client::new(b, None);
        c.jar = jar.clone();
        let res = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
        assert_eq!(res.status, 302, "the session lived on: {}", res.body);
        let xml = Client::new(b, None)
            .get(&validate_path("serviceValidate", SERVICE, &res.ticket()))
            .await
            .body;
        assert!(xml.contains("<cas:user>gina</cas:user>"), "{xml}");
    }
    // A login begun now on the survivor works too.
    let res = Client::new(b, None)
        .login("gina", "Tea-Kettle-2026", Some(SERVICE))
        .await;
    assert_eq!(res.status, 302);
}

/// `unicas store copy`: a school on one SQLite VM moves to PostgreSQL. Accounts with their
/// changed passwords and history, bindings, the registry and the audit log arrive; new rows
/// get new ids; a second copy into the same database is refused.
#[tokio::test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
async fn a_school_moves_from_sqlite_to_postgres() {
    needs_postgres();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("school.db");
    let key = dir.path().join("school.key");
    let mut config = test_config(&dir);
    (config.db, config.key_file) = (sqlite.clone(), None);
    let one = unicas::start(config.clone(), unicas::clock::Clock::system(), false)
        .await
        .unwrap();
    let t = TestServer {
        server: one,
        config,
        dir: tempfile::tempdir().unwrap(),
    };
    t.add_user("alice", PASSWORD, false, &[("memberOf", "library")]);
    t.add_service(SERVICE, None);
    let mut c = t.client();
    let ticket = c.login("alice", PASSWORD, Some(SERVICE)).await.ticket();
    c.get(&validate_path("serviceValidate", SERVICE, &ticket))
        .await;
    let phone = unicas::model::Phone::parse("13912345678").unwrap();
    let record = unicas::model::AuditRecord::system(
        unicas::model::AuditEvent::AccountUnlocked,
        Some("alice"),
    );
    let now = t.clock().now();
    t.server
        .store
        .bind("alice", "phone", &phone.e164(), &record, now)
        .unwrap();
    let audit_before = t.server.store.recent_audit(Some("alice"), 100).unwrap();
    t.server.stop().await;

    let pg = fresh_postgres();
    let copy = |to: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_unicas"))
            .args([
                "--key-file",
                key.to_str().unwrap(),
                "store",
                "copy",
                "--from",
            ])
            .arg(&sqlite)
            .args(["--to", to])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let (ok, out) = copy(&pg);
    assert!(ok, "{out}");
    assert!(
        out.contains("accounts: 1 rows") && out.contains("bindings: 1 rows"),
        "{out}"
    );
    let (again, out) = copy(&pg);
    assert!(!again && out.contains("empty database"), "{out}");

    let mut config = test_config(&dir);
    (config.db, config.key_file) = (pg.into(), Some(key));
    let node = unicas::start(config.clone(), unicas::clock::Clock::system(), false)
        .await
        .unwrap();
    let moved = TestServer {
        server: node,
        config,
        dir,
    };
    let store = &moved.server.store;
    let alice = store.account("alice").unwrap().unwrap();
    assert_eq!(alice.bound_phone.as_deref(), Some("+8613912345678"));
    assert_eq!(
        alice.attributes,
        vec![("memberOf".into(), "library".into())]
    );
    assert_eq!(
        store.recent_audit(Some("alice"), 100).unwrap(),
        audit_before
    );
    // She logs in on the new database, which writes new audit rows after the copied ids.
    let mut c = moved.client();
    let ticket = c.login("alice", PASSWORD, Some(SERVICE)).await.ticket();
    let xml = c
        .get(&validate_path("serviceValidate", SERVICE, &ticket))
        .await
        .body;
    assert_eq!(parse_cas(&xml).unwrap().0, "alice");
    assert!(store.recent_audit(Some("alice"), 100).unwrap().len() > audit_before.len());
}

/// TLS to the database: with `sslmode=require` the connection is encrypted and the server's
/// certificate checked, against the system's roots and libpq's `sslrootcert`; a certificate
/// nobody vouches for is refused at start.
#[tokio::test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
async fn the_database_is_reached_over_tls_with_its_certificate_checked() {
    needs_postgres();
    let admin = fresh_postgres();
    let db = admin.split('?').next().unwrap().to_string();
    let data = admin_query(&admin, "SHOW data_directory").remove(0);
    let ca = format!("{data}/ca.crt");
    let keys = std::sync::Arc::new(unicas::secrets::Keys::random());
    let open = |url: String| {
        let keys = std::sync::Arc::clone(&keys);
        std::thread::spawn(move || unicas::store::Store::open(std::path::Path::new(&url), keys))
            .join()
            .unwrap()
    };
    let refused = open(format!("{db}?sslmode=require"))
        .err()
        .expect("a self-signed certificate is not trusted");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    let store = open(format!("{db}?sslmode=require&sslrootcert={ca}")).unwrap();
    assert!(store.writable().is_ok());
    let name = db.rsplit('/').next().unwrap().to_string();
    let encrypted = admin_query(
        &admin,
        &format!(
            "SELECT count(*)::text FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
             WHERE ssl AND datname = '{name}'"
        ),
    );
    assert_ne!(encrypted, ["0"], "the store's connections are encrypted");
    drop(store);
}

/// A node whose database is gone says so at `/health` (the balancer stops sending it
/// people), answers logins and validations with errors rather than hanging or panicking,
/// and is ready again when the database is back.
#[tokio::test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
async fn a_node_without_its_database_is_not_ready() {
    needs_postgres();
    let t = TestServer::start().await;
    let mut c = t.client();
    let ticket = c.ticket(SERVICE).await;
    assert_eq!(c.get("/health").await.status, 200);
    let url = t.config.db.to_str().unwrap().to_string();
    let name = url
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let admin = std::env::var(POSTGRES).unwrap();
    // Renamed away with its connections ended: to the node, the database is gone. The node
    // may connect again in between; then the rename is tried again.
    let away = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';
         ALTER DATABASE {name} RENAME TO {name}_away"
    );
    let renamed = (0..50).any(|_| admin_exec(&admin, &away).is_ok());
    assert!(renamed);
    let down = c.get("/health").await;
    assert_eq!(down.status, 503, "{}", down.body);
    assert_eq!(c.get("/health/live").await.status, 200);
    let xml = c
        .get(&validate_path("serviceValidate", SERVICE, &ticket))
        .await
        .body;
    assert_eq!(parse_cas(&xml).unwrap_err().0, "INTERNAL_ERROR", "{xml}");
    let mut fresh = t.client();
    let res = fresh.login("alice", PASSWORD, Some(SERVICE)).await;
    assert!(res.status >= 500, "{}", res.status);
    admin_exec(
        &admin,
        &format!("ALTER DATABASE {name}_away RENAME TO {name}"),
    )
    .unwrap();
    let mut ready = false;
    for _ in 0..50 {
        if c.get("/health").await.status == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "ready again once the database is back");
    let ticket = c.ticket(SERVICE).await;
    let xml = c
        .get(&validate_path("serviceValidate", SERVICE, &ticket))
        .await
        .body;
    assert_eq!(parse_cas(&xml).unwrap().0, "alice");
}

/// The store's synchronous calls never stall on a runtime thread. A task that has spent
/// tokio's cooperative budget gets `Pending` from the pool with its wake-up deferred until the
/// task yields; a thread blocked waiting for the answer never yields, so the call (and its open
/// transaction) hung forever. Two hundred calls in one poll of one task spend it many times.
#[test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
fn synchronous_store_calls_finish_on_a_runtime_thread() {
    needs_postgres();
    let (done, finished) = std::sync::mpsc::channel();
    // On a thread of its own, so a stall fails the test instead of hanging it.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let t = TestServer::start().await;
            let now = t.clock().now();
            for i in 0..200 {
                let status = match i % 2 {
                    0 => unicas::model::Status::Locked,
                    _ => unicas::model::Status::Active,
                };
                t.server.store.set_status("alice", status, now).unwrap();
                assert!(t.server.store.account("alice").unwrap().is_some());
                done.send(i).unwrap();
            }
        });
    });
    let mut last = None;
    while let Ok(i) = finished.recv_timeout(Duration::from_secs(30)) {
        last = Some(i);
    }
    assert_eq!(last, Some(199), "the 200 calls stalled after call {last:?}");
}
