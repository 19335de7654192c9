//! Per-application access rules: who may use which application, at login, at validation,
//! for proxy tickets, and from the command line.

use crate::support::*;
use unicas::accounts::hash_now;
use unicas::model::{Effect, Kind, NewAccount, NewService, Release, Rule};

const FINANCE: &str = "https://finance.test/";
const LIBRARY: &str = "https://library.test/";

fn add(t: &TestServer, id: &str, kind: Kind, department: &str) {
    let mut a = NewAccount::new(id, &format!("User {id}"), kind, department, "", "", &[]).unwrap();
    a.password_hash = hash_now(PASSWORD, 4).unwrap();
    assert!(t.server.store.insert_account(&a, t.clock().now()).unwrap());
}

fn rules(list: &[(Effect, &str)]) -> Vec<Rule> {
    list.iter()
        .map(|(effect, text)| Rule::parse(*effect, text).unwrap())
        .collect()
}

/// A server with a staff-only finance system (titled 财务系统) and an open library.
async fn campus() -> TestServer {
    let t = TestServer::start().await;
    add(&t, "t1001", Kind::Staff, "财务处");
    add(&t, "20240001", Kind::Student, "物理学院");
    t.register(NewService {
        name: "finance".into(),
        pattern: FINANCE.into(),
        portal_title: Some("财务系统".into()),
        rules: rules(&[(Effect::Allow, "kind=staff")]),
        release: Release::All,
        ..Default::default()
    });
    t.add_service(LIBRARY, None);
    t
}

fn login_path(service: &str) -> String {
    format!("/cas/login?service={}", enc(service))
}

#[tokio::test]
async fn a_student_is_refused_the_staff_only_service_and_keeps_the_session() {
    let t = campus().await;
    let mut student = t.client();
    let res = student.login("20240001", PASSWORD, Some(FINANCE)).await;
    assert_eq!(res.status, 403);
    assert!(res.header("location").is_none(), "no ticket");
    assert!(res.body.contains("您没有访问该应用的权限"));
    assert!(res.body.contains("应用名称：财务系统"));
    assert!(res.body.contains(&format!("href=\"{FINANCE}\"")));
    assert!(res.body.contains("href=\"/cas/login\""), "on to the portal");
    assert!(
        student.jar.contains_key("CASTGC"),
        "the login itself succeeded"
    );
    // The same session gives tickets to other applications, and not to this one.
    let library = student.get(&login_path(LIBRARY)).await;
    assert_eq!(library.status, 302);
    assert!(library
        .location()
        .starts_with(&format!("{LIBRARY}?ticket=ST-")));
    let again = student.get(&login_path(FINANCE)).await;
    assert_eq!(again.status, 403);
    let english = student
        .get(&format!("{}&lang=en", login_path(FINANCE)))
        .await;
    assert!(english.body.contains("You may not use this application"));
    let audit = t.server.store.recent_audit(Some("20240001"), 20).unwrap();
    let denied: Vec<_> = audit
        .iter()
        .filter(|r| r.event == "access_denied")
        .collect();
    assert_eq!(denied.len(), 3, "{audit:?}");
    assert!(denied[0].detail.contains("finance"));

    let mut staff = t.client();
    let res = staff.login("t1001", PASSWORD, Some(FINANCE)).await;
    assert_eq!(res.status, 302);
    let ticket = res.ticket();
    let ok = staff
        .get(&validate_path("serviceValidate", FINANCE, &ticket))
        .await;
    assert_eq!(parse_cas(&ok.body).unwrap().0, "t1001");
}

#[tokio::test]
async fn gateway_returns_without_a_ticket_and_renew_does_not_help() {
    let t = campus().await;
    let mut student = t.client();
    student.login("20240001", PASSWORD, None).await;
    let res = student
        .get(&format!("{}&gateway=true", login_path(FINANCE)))
        .await;
    assert_eq!(res.status, 302);
    assert_eq!(res.location(), FINANCE, "back without a ticket");
    let form = student
        .get(&format!("{}&renew=true", login_path(FINANCE)))
        .await;
    assert_eq!(form.status, 200);
    let fields = [
        ("username", "20240001"),
        ("password", PASSWORD),
        ("service", FINANCE),
        ("renew", "true"),
        ("execution", &form.input("execution").unwrap()),
    ];
    assert_eq!(student.post("/cas/login", &fields).await.status, 403);
}

#[tokio::test]
async fn a_rule_changed_after_the_ticket_refuses_its_validation() {
    let t = campus().await;
    let mut c = t.client();
    let ticket = c.ticket(LIBRARY).await;
    let mut library = t
        .server
        .store
        .services()
        .unwrap()
        .into_iter()
        .find(|s| s.settings.pattern == LIBRARY)
        .unwrap();
    library.settings.rules = rules(&[(Effect::Deny, "uid=alice")]);
    t.server
        .store
        .update_service(library.id, &library.settings)
        .unwrap();
    t.server.reload_registry().unwrap();
    let res = c
        .get(&validate_path("serviceValidate", LIBRARY, &ticket))
        .await;
    assert_eq!(parse_cas(&res.body).unwrap_err().0, "UNAUTHORIZED_SERVICE");
    let audit = t.server.store.recent_audit(Some("alice"), 10).unwrap();
    assert!(audit.iter().any(|r| r.event == "access_denied"));
}

#[tokio::test]
async fn deny_beats_allow_and_values_may_be_prefixes() {
    let t = TestServer::start().await;
    for id in ["20240001", "20240013", "20230001"] {
        add(&t, id, Kind::Student, "物理学院");
    }
    let service = "https://select.test/";
    t.register(NewService {
        name: "course selection".into(),
        pattern: service.into(),
        rules: rules(&[
            (Effect::Allow, "uid=2024*"),
            (Effect::Allow, "department=物理*"),
            (Effect::Deny, "uid=20240013"),
        ]),
        ..Default::default()
    });
    for (id, status) in [
        ("20240001", 302),
        ("20240013", 403),
        ("20230001", 403),
        ("alice", 403),
    ] {
        let res = t.client().login(id, PASSWORD, Some(service)).await;
        assert_eq!(res.status, status, "{id}");
    }
}

#[tokio::test]
async fn service_edit_changes_each_setting_and_show_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.db");
    let add = [
        "service",
        "add",
        "--name",
        "jw",
        "--pattern",
        "https://jw.test/*",
    ];
    let (ok, out, err) = unicas(&db, &add);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "added service 1");
    let edits: &[(&[&str], &str)] = &[
        (&["--name", "教务系统"], "name: 教务系统"),
        (
            &["--pattern", "https://jw2.test/*"],
            "pattern: https://jw2.test/*",
        ),
        (
            &["--attributes", "cn,containerId"],
            "release: only cn, containerId",
        ),
        (&["--all-attributes"], "release: all attributes"),
        (&["--no-attributes"], "release: none beyond the user id"),
        (&["--alias", "cn=userName"], "alias: cn=userName"),
        (&["--proxy"], "proxy: true"),
        (
            &["--proxy-callback", "https://jw2.test/cb/*"],
            "proxy_callback: https://jw2.test/cb/*",
        ),
        (&["--logout-type", "none"], "logout_type: none"),
        (
            &["--logout-url", "https://jw2.test/logout"],
            "logout_url: https://jw2.test/logout",
        ),
        (
            &["--title", "教务", "--description", "选课与成绩"],
            "description: 选课与成绩",
        ),
        (
            &["--allow", "kind=student", "--allow", "kind=staff"],
            "access: allow only if userType is student or staff",
        ),
        (
            &["--deny", "department=外聘*"],
            "access: deny if department is 外聘*",
        ),
        (&["--disable"], "enabled: false"),
        (&["--enable"], "enabled: true"),
        (&["--no-rules"], "access: everyone with an account"),
        (
            &[
                "--no-aliases",
                "--no-logout-url",
                "--no-proxy-callback",
                "--proxy",
                "false",
            ],
            "proxy: false",
        ),
    ];
    for (flags, expected) in edits {
        let mut args = vec!["service", "edit", "1"];
        args.extend_from_slice(flags);
        let (ok, _, err) = unicas(&db, &args);
        assert!(ok, "{flags:?}: {err}");
        let (_, show, _) = unicas(&db, &["service", "show", "1"]);
        assert!(show.contains(expected), "{flags:?}: {show}");
    }
    let (_, show, _) = unicas(&db, &["service", "show", "1"]);
    assert!(
        !show.contains("alias:") && show.contains("logout_url: \n"),
        "{show}"
    );
    for bad in [
        &["service", "edit", "1", "--allow", "novalue"][..],
        &["service", "edit", "1", "--pattern", "^.*$"],
        &["service", "edit", "9", "--name", "x"],
    ] {
        let (ok, _, err) = unicas(&db, bad);
        assert!(!ok && err.starts_with("unicas: "), "{bad:?}");
    }
    assert!(
        unicas(
            &db,
            &[
                "service",
                "add",
                "--name",
                "b",
                "--pattern",
                "https://b.test/"
            ]
        )
        .0
    );
    let (ok, _, err) = unicas(
        &db,
        &["service", "edit", "2", "--pattern", "https://jw2.test/*"],
    );
    assert!(!ok && err.contains("already registered"), "{err}");
}

#[tokio::test]
async fn a_running_server_follows_edits_made_from_the_command_line() {
    let t = campus().await;
    let db = t.config.db.clone();
    let res = t.client().login("20240001", PASSWORD, Some(LIBRARY)).await;
    assert_eq!(res.status, 302);
    let id = t
        .server
        .store
        .services()
        .unwrap()
        .into_iter()
        .find(|s| s.settings.pattern == LIBRARY)
        .unwrap()
        .id
        .to_string();
    let (ok, _, err) = tokio::task::spawn_blocking(move || {
        unicas(&db, &["service", "edit", &id, "--deny", "kind=student"])
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    t.server.reload_registry().unwrap();
    let res = t.client().login("20240001", PASSWORD, Some(LIBRARY)).await;
    assert_eq!(res.status, 403);
}
