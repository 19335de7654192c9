//! The command line: a public interface schools script against.

use crate::support::unicas;

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
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(t.client().get(&path).await.status, 200);
}
