//! The command line: a public interface schools script against.

use crate::support::unicas;

/// docs/security.md C08
#[test]
fn user_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let (ok, out, _) = unicas(
        &db,
        &[
            "user",
            "add",
            "20231234",
            "--name",
            "张三",
            "--password",
            "Init-Pass-1",
            "--kind",
            "student",
            "--email",
            "z@example.edu",
            "--department",
            "物理学院",
            "--attr",
            "memberOf=a",
            "--attr",
            "memberOf=b",
            "--must-change",
        ],
    );
    assert!(ok, "{out}");
    let (ok, _, err) = unicas(
        &db,
        &[
            "user",
            "add",
            "20231234",
            "--name",
            "x",
            "--password",
            "Other-Pass-2",
        ],
    );
    assert!(
        !ok && err.trim().lines().count() == 1 && err.contains("already exists"),
        "{err}"
    );
    let (_, out, _) = unicas(&db, &["user", "show", "20231234"]);
    for line in [
        "name: 张三",
        "kind: student",
        "status: active",
        "must_change: true",
        "attr: memberOf=a",
        "attr: memberOf=b",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    assert!(!out.contains("$2b$"), "no hash shown");
    assert!(unicas(&db, &["user", "lock", "20231234"]).0);
    let (ok, out, _) = unicas(&db, &["user", "logout", "20231234"]);
    assert!(ok && out.trim() == "20231234: 0 session(s) ended", "{out}");
    assert!(unicas(&db, &["user", "list"])
        .1
        .contains("20231234\tstudent\tlocked\t张三"));
    assert!(unicas(&db, &["user", "unlock", "20231234"]).0);
    assert!(
        unicas(
            &db,
            &["user", "passwd", "20231234", "--password", "Other-Pass-2"]
        )
        .0
    );
    assert!(unicas(&db, &["user", "show", "20231234"])
        .1
        .contains("must_change: false"));
    for bad in [
        vec!["user", "add", "<x>&", "--name", "n", "--password", "p"],
        vec!["user", "add", "a b", "--name", "n", "--password", "p"],
        vec![
            "user",
            "add",
            "ok",
            "--name",
            "n",
            "--password",
            "p",
            "--kind",
            "wizard",
        ],
        vec![
            "user",
            "add",
            "ok",
            "--name",
            "n",
            "--password",
            "p",
            "--attr",
            "bad name=1",
        ],
        vec![
            "user",
            "add",
            "ok",
            "--name",
            "n",
            "--password",
            &"x".repeat(80),
        ],
        vec!["user", "passwd", "ghost", "--password", "p"],
        vec!["user", "lock", "ghost"],
        vec!["user", "logout", "ghost"],
    ] {
        let (ok, _, err) = unicas(&db, &bad);
        assert!(
            !ok && err.starts_with("unicas: ") && err.trim().lines().count() == 1,
            "{bad:?}: {err}"
        );
    }
    assert!(
        !unicas(&db, &["user", "list"]).1.contains("ok\t"),
        "nothing half-written"
    );
}

#[test]
fn service_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let (ok, out, _) = unicas(
        &db,
        &[
            "service",
            "add",
            "--name",
            "教务系统",
            "--pattern",
            "https://jw.example.edu/*",
            "--attributes",
            "uid,cn",
        ],
    );
    assert!(ok && out.contains("added service 1"), "{out}");
    assert!(
        unicas(
            &db,
            &[
                "service",
                "add",
                "--name",
                "lib",
                "--pattern",
                r"^https://lib\.example\.edu/.*$",
                "--all-attributes",
                "--proxy"
            ]
        )
        .0
    );
    let (ok, _, err) = unicas(
        &db,
        &[
            "service",
            "add",
            "--name",
            "open",
            "--pattern",
            "https://evil.example*",
        ],
    );
    assert!(!ok && err.contains("host"), "{err}");
    assert!(
        !unicas(
            &db,
            &["service", "add", "--name", "x", "--pattern", "^(unclosed"]
        )
        .0
    );
    assert!(
        !unicas(
            &db,
            &[
                "service",
                "add",
                "--name",
                "dup",
                "--pattern",
                "https://jw.example.edu/*"
            ]
        )
        .0
    );
    let (_, list, _) = unicas(&db, &["service", "list"]);
    assert!(
        list.contains("1\tenabled\t教务系统\thttps://jw.example.edu/*\tuid,cn"),
        "{list}"
    );
    assert!(
        list.contains("2\tenabled\tlib\t^https://lib\\.example\\.edu/.*$\t*"),
        "{list}"
    );
    assert!(unicas(&db, &["service", "remove", "1"]).0);
    assert!(!unicas(&db, &["service", "remove", "1"]).0);

    // The protocol settings: aliases, proxy callbacks, logout.
    let (ok, out, err) = unicas(
        &db,
        &[
            "service",
            "add",
            "--name",
            "portal",
            "--pattern",
            "https://portal.example.edu/*",
            "--attributes",
            "cn,containerId",
            "--alias",
            "cn=userName",
            "--alias",
            "cn=user_name",
            "--proxy",
            "--proxy-callback",
            "https://portal.example.edu/cas/proxy*",
            "--logout-type",
            "front",
            "--logout-url",
            "https://portal.example.edu/logout",
        ],
    );
    assert!(ok, "{err}");
    let id = out.trim().rsplit(' ').next().unwrap().to_string();
    let (ok, show, _) = unicas(&db, &["service", "show", &id]);
    assert!(ok);
    for line in [
        "name: portal",
        "attributes: cn,containerId",
        "alias: cn=userName",
        "alias: cn=user_name",
        "proxy: true",
        "proxy_callback: https://portal.example.edu/cas/proxy*",
        "logout_type: front",
        "logout_url: https://portal.example.edu/logout",
    ] {
        assert!(show.lines().any(|l| l == line), "{line} in {show}");
    }
    for bad in [
        &["--alias", "cn"][..],
        &["--alias", "cn=bad name"][..],
        &["--logout-type", "sideways"][..],
        &["--logout-type", "front"][..],
        &["--proxy", "--proxy-callback", "^(unclosed"][..],
    ] {
        let mut args = vec![
            "service",
            "add",
            "--name",
            "b",
            "--pattern",
            "https://b.example.edu/",
        ];
        args.extend_from_slice(bad);
        let (ok, _, err) = unicas(&db, &args);
        assert!(!ok && err.trim().lines().count() == 1, "{bad:?}: {err}");
    }
    // A callback pattern without --proxy is a usage error (clap explains it at length).
    let (ok, _, err) = unicas(
        &db,
        &[
            "service",
            "add",
            "--name",
            "b",
            "--pattern",
            "https://b.example.edu/",
            "--proxy-callback",
            "https://b.example.edu/*",
        ],
    );
    assert!(!ok && err.contains("--proxy"), "{err}");
    assert!(!unicas(&db, &["service", "show", "99"]).0);
}

#[test]
fn config_example_prints_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, _) = unicas(&dir.path().join("c.db"), &["config", "example"]);
    assert!(ok);
    for section in [
        "[tickets]",
        "[sessions]",
        "[throttle]",
        "[passwords]",
        "[http]",
        "[saml]",
        "[outbound]",
        "[logout]",
        "prefixes",
        "captcha_after",
        "public_url",
    ] {
        assert!(out.contains(section));
    }
}

#[tokio::test]
async fn services_added_by_the_cli_reach_a_running_server() {
    let t = crate::support::TestServer::start().await;
    let db = t.config.db.clone();
    let service = "https://new.example.edu/";
    let path = format!("/cas/login?service={}", crate::support::enc(service));
    assert_eq!(t.client().get(&path).await.status, 403);
    assert!(tokio::task::spawn_blocking(move || unicas(
        &db,
        &["service", "add", "--name", "n", "--pattern", service]
    )
    .0)
    .await
    .unwrap());
    t.server.reload_registry().unwrap();
    assert_eq!(t.client().get(&path).await.status, 200);
}

/// Issue "Defects found from outside" #1, docs/security.md A15: a service registered without
/// `--attributes` learns nothing beyond the user id, and `service show` says so in words.
#[tokio::test]
async fn services_release_nothing_beyond_the_id_unless_told() {
    let t = crate::support::TestServer::start().await;
    let db = t.config.db.clone();
    let service = "https://quiet.example.edu/";
    let out = tokio::task::spawn_blocking(move || {
        let added = unicas(
            &db,
            &["service", "add", "--name", "quiet", "--pattern", service],
        );
        let id = added.1.trim().rsplit(' ').next().unwrap().to_string();
        (
            added.0,
            unicas(&db, &["service", "show", &id]).1,
            unicas(&db, &["service", "list"]).1,
        )
    })
    .await
    .unwrap();
    assert!(out.0);
    assert!(
        out.1.contains("release: none beyond the user id"),
        "{}",
        out.1
    );
    assert!(out.2.contains(&format!("quiet\t{service}\t-")), "{}", out.2);
    t.server.reload_registry().unwrap();
    let mut c = t.client();
    let ticket = c.ticket(service).await;
    let res = c
        .get(&crate::support::validate_path(
            "p3/serviceValidate",
            service,
            &ticket,
        ))
        .await;
    let (user, attrs) = crate::support::parse_cas(&res.body).unwrap();
    assert_eq!(user, "alice");
    let names: Vec<&str> = attrs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "authenticationDate",
            "longTermAuthenticationRequestTokenUsed",
            "isFromNewLogin",
            "authenticationMethod",
            "successfulAuthenticationHandlers"
        ]
    );
}

/// Issue "Defects found from outside" #9, docs/security.md B04: a pattern that admits any host is
/// an open redirector and needs `--allow-any-host` (and `service list` flags it); a logout
/// URL is a URL, not a pattern.
#[test]
fn open_patterns_need_a_word_and_logout_urls_are_urls() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    for pattern in ["^.*$", "^https?://.*$", "^https://[^/]+/.*$"] {
        let (ok, _, err) = unicas(
            &db,
            &["service", "add", "--name", "n", "--pattern", pattern],
        );
        assert!(!ok && err.contains("--allow-any-host"), "{pattern}: {err}");
    }
    let (ok, _, err) = unicas(
        &db,
        &[
            "service",
            "add",
            "--name",
            "n",
            "--pattern",
            "^.*$",
            "--allow-any-host",
        ],
    );
    assert!(ok, "{err}");
    assert!(unicas(&db, &["service", "list"]).1.contains("\tANY HOST"));
    assert!(unicas(&db, &["service", "show", "1"])
        .1
        .contains("any_host: yes"));
    for url in [
        "^https://.*$",
        "https://app.test/*",
        "app.test/logout",
        "https:/app.test/x",
    ] {
        let (ok, _, err) = unicas(
            &db,
            &[
                "service",
                "add",
                "--name",
                "n",
                "--pattern",
                "https://app.test/",
                "--logout-url",
                url,
            ],
        );
        assert!(!ok && err.contains("invalid logout URL"), "{url}: {err}");
    }
}

/// Issue "Defects found from outside" #12, docs/security.md L11: the demo account never outlives
/// demo mode, and demo mode is refused on a database with real accounts.
#[tokio::test]
async fn demo_data_never_outlives_demo_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let demo = crate::support::serve_binary(&db, &["--demo"], None);
    let mut c = crate::support::Client::new(demo.addr, None);
    // Straight in: the demo's password passes the policy (it once held the account's name,
    // so every demo began with a forced change).
    let res = c.login("demo", unicas::demo::PASSWORD, None).await;
    assert_eq!((res.status, res.location()), (303, "/cas/portal"));
    drop(demo);
    let plain = crate::support::serve_binary(&db, &[], None);
    let mut c = crate::support::Client::new(plain.addr, None);
    let res = c.login("demo", unicas::demo::PASSWORD, None).await;
    assert_eq!(res.status, 401);
    drop(plain);
    let (ok, _, err) = unicas(
        &db,
        &[
            "user",
            "add",
            "s2024",
            "--name",
            "R",
            "--password",
            "Real-Pass-2026",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = unicas(&db, &["serve", "--demo", "--listen", "127.0.0.1:0"]);
    assert!(!ok && err.contains("--demo refused"), "{err}");
}

/// Issue "Defects found from outside" #13, docs/security.md L01: a database someone made readable
/// is tightened at start, and logs written to a file carry no colour codes.
#[tokio::test]
async fn an_existing_database_is_made_private_and_logs_are_plain_text() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    assert!(
        unicas(
            &db,
            &[
                "service",
                "add",
                "--name",
                "n",
                "--pattern",
                "https://a.test/"
            ]
        )
        .0
    );
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let log = dir.path().join("log");
    let running = crate::support::serve_binary(&db, &[], Some(&log));
    let mut c = crate::support::Client::new(running.addr, None);
    c.login("nobody", "wrong", None).await;
    drop(running);
    for file in ["p.db", "p.db-wal", "p.db-shm", "p.key"] {
        let path = dir.path().join(file);
        if let Ok(meta) = std::fs::metadata(&path) {
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
        }
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("login failed"), "{text}");
    assert!(!text.contains('\u{1b}'), "ANSI escapes in a log file");
}

/// Issue "Defects found from outside" #14, docs/security.md L05: locking and unlocking are
/// audited, like every other administrator action.
#[test]
fn lock_and_unlock_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let add = [
        "user",
        "add",
        "s1",
        "--name",
        "S",
        "--password",
        "Init-Pass-2026",
    ];
    assert!(unicas(&db, &add).0);
    assert!(unicas(&db, &["user", "lock", "s1"]).0);
    assert!(unicas(&db, &["user", "unlock", "s1"]).0);
    let (ok, out, _) = unicas(&db, &["audit", "tail", "--account", "s1"]);
    assert!(ok);
    let events: Vec<&str> = out.lines().map(|l| l.split('\t').nth(1).unwrap()).collect();
    assert_eq!(events, ["account_unlocked", "account_locked"], "{out}");
}

/// Issue "Defects found from outside" #12: a database whose lock file cannot be opened for
/// writing (a read-only file system; here the lock file's place is taken by a directory, as
/// root ignores permissions) says so, not that a restore is under way.
#[test]
fn an_unwritable_place_for_the_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unicas.db");
    assert!(unicas(&db, &["user", "list"]).0);
    let lock = dir.path().join("unicas.db-lock");
    std::fs::remove_file(&lock).unwrap();
    std::fs::create_dir(&lock).unwrap();
    let (ok, _, err) = unicas(&db, &["user", "list"]);
    assert!(!ok);
    assert!(
        err.contains("cannot open") && err.contains("writable"),
        "{err}"
    );
    assert!(!err.contains("restore"), "{err}");
}
