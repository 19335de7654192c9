//! Single logout: back-channel LogoutRequests to local receivers (with retries and their
//! audit), however the session ends, and front-channel logout on the logged-out page.

use crate::support::receiver::{Received, Receiver};
use crate::support::*;
use std::sync::atomic::Ordering;
use unicas::model::{LogoutType, NewService};

async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.logout.retry_delay = 1;
        c.logout.attempts = 3;
    })
    .await
}

/// Registers `service` with its logout requests going to `receiver`.
fn register(t: &TestServer, service: &str, receiver: &Receiver, logout_type: LogoutType) {
    t.register(NewService {
        name: service.into(),
        pattern: service.into(),
        logout_type,
        logout_url: Some(receiver.url("/logout")),
        ..Default::default()
    });
}

/// The SessionIndex of a received back-channel request, checked the way phpCAS and
/// mod_auth_cas read it.
fn session_index(r: &Received) -> String {
    assert_eq!(r.method, "POST");
    assert_eq!(r.content_type, "application/x-www-form-urlencoded");
    // mod_auth_cas: the body must start with the field name.
    assert!(r.body.starts_with("logoutRequest="), "{}", r.body);
    let xml: String = url::form_urlencoded::parse(r.body.as_bytes())
        .find(|(k, _)| k == "logoutRequest")
        .unwrap()
        .1
        .into_owned();
    // phpCAS: a regex over one line with the literal samlp: prefix.
    let start = xml.find("<samlp:SessionIndex>").expect(&xml) + "<samlp:SessionIndex>".len();
    let end = xml[start..].find("</samlp:SessionIndex>").unwrap() + start;
    let index = xml[start..end].to_string();
    assert!(!index.contains('\n'));
    // mod_auth_cas: a direct child of the root.
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let child = doc
        .root_element()
        .children()
        .find(|n| n.tag_name().name() == "SessionIndex")
        .unwrap();
    assert_eq!(child.text(), Some(index.as_str()));
    index
}

async fn validate(t: &TestServer, service: &str, ticket: &str) {
    let res = t
        .client()
        .get(&validate_path("serviceValidate", service, ticket))
        .await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice", "{}", res.body);
}

/// docs/security.md A12, L04
#[tokio::test]
async fn logout_tells_every_service_that_validated_a_ticket_of_the_session() {
    let t = server().await;
    let (library, mail, quiet) = (
        Receiver::http().await,
        Receiver::http().await,
        Receiver::http().await,
    );
    register(&t, "https://library.test/", &library, LogoutType::Back);
    register(&t, "https://mail.test/", &mail, LogoutType::Back);
    register(&t, "https://quiet.test/", &quiet, LogoutType::None);

    let mut browser = t.client();
    let first = browser.ticket("https://library.test/").await;
    validate(&t, "https://library.test/", &first).await;
    let sso = |s: &str| format!("/cas/login?service={}", enc(s));
    // The library validates a second ticket: only the most recent is announced.
    let second = browser.get(&sso("https://library.test/")).await.ticket();
    validate(&t, "https://library.test/", &second).await;
    let mail_ticket = browser.get(&sso("https://mail.test/")).await.ticket();
    validate(&t, "https://mail.test/", &mail_ticket).await;
    let quiet_ticket = browser.get(&sso("https://quiet.test/")).await.ticket();
    validate(&t, "https://quiet.test/", &quiet_ticket).await;
    // Issued but never validated: the application never had a session to end.
    let _unvalidated = browser.get(&sso("https://mail.test/")).await.ticket();
    assert!(library.received().is_empty() && mail.received().is_empty());

    let out = browser.get("/cas/logout").await;
    assert_eq!(out.status, 200);
    let got = library.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(session_index(&got[0]), second);
    let got = mail.wait_for(1).await;
    assert_eq!(session_index(&got[0]), mail_ticket);

    // Nothing more arrives: no duplicates, nothing for the service that opted out. Every
    // delivery started (by the logout or by this sweep) has finished before the counts.
    t.server.sweep().await;
    t.server.settle_logout().await;
    assert_eq!(library.received().len(), 1);
    assert_eq!(mail.received().len(), 1);
    assert!(quiet.received().is_empty());

    let audit = t.server.store.recent_audit(None, 20).unwrap();
    let sent: Vec<_> = audit.iter().filter(|r| r.event == "slo_sent").collect();
    assert_eq!(sent.len(), 2, "{audit:?}");
    assert!(sent.iter().all(|r| r.detail.contains("result=HTTP 200")));
    // The audit never holds a whole ticket.
    assert!(audit.iter().all(|r| !r.detail.contains(&second)));
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_and_audited() {
    let t = server().await;
    let flaky = Receiver::http().await;
    flaky.fail_first.store(1, Ordering::SeqCst);
    let down = Receiver::http().await;
    down.status.store(500, Ordering::SeqCst);
    register(&t, "https://flaky.test/", &flaky, LogoutType::Back);
    register(&t, "https://down.test/", &down, LogoutType::Back);

    let mut browser = t.client();
    let ticket = browser.ticket("https://flaky.test/").await;
    validate(&t, "https://flaky.test/", &ticket).await;
    let down_ticket = browser
        .get(&format!("/cas/login?service={}", enc("https://down.test/")))
        .await
        .ticket();
    validate(&t, "https://down.test/", &down_ticket).await;
    browser.get("/cas/logout").await;

    let got = flaky.wait_for(2).await;
    assert_eq!(got.len(), 2, "one failure, one retry");
    assert_eq!(session_index(&got[1]), ticket);
    // 1 s, then 2 s: three attempts in all, then it gives up.
    let got = down.wait_for(3).await;
    assert_eq!(got.len(), 3);
    let mut audit = Vec::new();
    for _ in 0..100 {
        audit = t.server.store.recent_audit(None, 20).unwrap();
        if audit.iter().any(|r| r.event == "slo_failed") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let failed = audit.iter().find(|r| r.event == "slo_failed").unwrap();
    assert!(
        failed.detail.contains("result=HTTP 500 attempts=3"),
        "{}",
        failed.detail
    );
    let sent = audit.iter().find(|r| r.event == "slo_sent").unwrap();
    assert!(sent.detail.contains("attempts=2"), "{}", sent.detail);
    assert_eq!(sent.account_id.as_deref(), Some("alice"));
}

#[tokio::test]
async fn sessions_ended_by_expiry_or_by_an_administrator_are_announced_too() {
    let t = server().await;
    let app = Receiver::http().await;
    register(&t, "https://app2.test/", &app, LogoutType::Back);

    // Expiry: the idle timeout passes and the sweep removes the session.
    let mut browser = t.client();
    let ticket = browser.ticket("https://app2.test/").await;
    validate(&t, "https://app2.test/", &ticket).await;
    t.clock().advance(t.config.sessions.idle_timeout + 1);
    t.server.sweep().await;
    let got = app.wait_for(1).await;
    assert_eq!(session_index(&got[0]), ticket);

    // An administrator locks the account (which ends its sessions), as the CLI does from
    // another process: the server notices the session is gone.
    let ticket = browser.ticket("https://app2.test/").await;
    validate(&t, "https://app2.test/", &ticket).await;
    t.server
        .store
        .set_status("alice", unicas::model::Status::Locked, t.clock().now())
        .unwrap();
    t.server.sweep().await;
    let got = app.wait_for(2).await;
    assert_eq!(session_index(&got[1]), ticket);
}

#[tokio::test]
async fn front_channel_applications_are_logged_out_by_the_browser() {
    let t = server().await;
    let browser_only = Receiver::http().await;
    register(&t, "https://old.test/", &browser_only, LogoutType::Front);
    // A back-channel application of the same session: its message marks when the server has
    // told every participant it tells.
    let server_told = Receiver::http().await;
    register(&t, "https://new.test/", &server_told, LogoutType::Back);

    let mut browser = t.client();
    let ticket = browser.ticket("https://old.test/").await;
    validate(&t, "https://old.test/", &ticket).await;
    // The same session's ticket for the other application (single sign-on, no new login).
    let sso = browser
        .get(&format!("/cas/login?service={}", enc("https://new.test/")))
        .await;
    assert_eq!(sso.status, 302);
    validate(&t, "https://new.test/", &sso.ticket()).await;
    let out = browser
        .get(&format!("/cas/logout?service={}", enc("https://old.test/")))
        .await;
    // Not a redirect: the page must load first, then it moves on without JavaScript.
    assert_eq!(out.status, 200);
    let logout_url = browser_only.url("/logout");
    assert!(out
        .body
        .contains(&format!("<img class=\"slo\" src=\"{logout_url}\"")));
    assert!(out
        .body
        .contains("<meta http-equiv=\"refresh\" content=\"1;url=https://old.test/\">"));
    let csp = out.header("content-security-policy").unwrap();
    assert!(
        csp.contains(&format!(
            "img-src 'self' data: http://{}",
            browser_only.addr
        )),
        "{csp}"
    );
    assert!(out.set_cookie("CASTGC").unwrap().contains("Max-Age=0"));
    // The server itself sends nothing to a front-channel application.
    server_told.wait_for(1).await;
    assert!(browser_only.received().is_empty());

    // Without front-channel applications, `service` is still a plain redirect.
    let ticket = browser.ticket(SERVICE).await;
    validate(&t, SERVICE, &ticket).await;
    let out = browser
        .get(&format!("/cas/logout?service={}", enc(SERVICE)))
        .await;
    assert_eq!(out.status, 302);
}

#[tokio::test]
async fn an_administrator_ends_the_sessions_from_the_command_line() {
    let t = server().await;
    let app = Receiver::http().await;
    register(&t, "https://app3.test/", &app, LogoutType::Back);
    let mut browser = t.client();
    let ticket = browser.ticket("https://app3.test/").await;
    validate(&t, "https://app3.test/", &ticket).await;

    // Another process: the real binary on the same database.
    let db = t.config.db.clone();
    let (ok, out, _) =
        tokio::task::spawn_blocking(move || unicas(&db, &["user", "logout", "alice"]))
            .await
            .unwrap();
    assert!(ok);
    assert_eq!(out.trim(), "alice: 1 session(s) ended");
    // The running server notices within its 5 s check, without any call from the test.
    let mut got = Vec::new();
    for _ in 0..80 {
        got = app.received();
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(got.len(), 1, "no LogoutRequest within 8 s");
    assert_eq!(session_index(&got[0]), ticket);
    let again = browser
        .get(&format!("/cas/login?service={}", enc("https://app3.test/")))
        .await;
    assert_eq!(again.status, 200, "the session is gone");
}

/// Issue "Defects found from outside" #2, the third-party suite's "single_logout (multiple
/// services)": two applications under one registered pattern are each told.
#[tokio::test]
async fn applications_under_one_registration_are_each_told() {
    let t = server().await;
    let receiver = Receiver::http().await;
    t.register(NewService {
        name: "campus".into(),
        pattern: format!("{}*", receiver.url("/")),
        ..Default::default()
    });
    let (app1, app2) = (receiver.url("/app1/"), receiver.url("/app2/?x=1"));
    let mut browser = t.client();
    let first = browser.ticket(&app1).await;
    validate(&t, &app1, &first).await;
    let second = browser
        .get(&format!("/cas/login?service={}", enc(&app2)))
        .await
        .ticket();
    validate(&t, &app2, &second).await;
    browser.get("/cas/logout").await;
    t.server.settle_logout().await;
    let got = receiver.received();
    let mut indexes: Vec<String> = got.iter().map(session_index).collect();
    indexes.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(indexes, expected);
    let targets: Vec<&str> = got.iter().map(|r| r.target.as_str()).collect();
    assert!(
        targets.contains(&"/app1/") && targets.contains(&"/app2/?x=1"),
        "{targets:?}"
    );
}

/// Issue "Defects found from outside" #10: participants recorded while the store cannot be
/// written are kept until it can, and their logout still reaches the application.
#[tokio::test]
async fn participants_recorded_while_the_store_fails_are_not_lost() {
    let t = server().await;
    let app = Receiver::http().await;
    register(&t, "https://kept.test/", &app, LogoutType::Back);
    let mut browser = t.client();
    let ticket = browser.ticket("https://kept.test/").await;
    validate(&t, "https://kept.test/", &ticket).await;
    t.server.store.fail_writes(true);
    t.server.settle_logout().await; // the flush fails
    t.server.store.fail_writes(false);
    browser.get("/cas/logout").await;
    t.server.settle_logout().await;
    let got = app.received();
    assert_eq!(got.len(), 1, "the participant survived the failed flush");
    assert_eq!(session_index(&got[0]), ticket);
}

/// Issue "Defects found from outside" #11, docs/security.md K05: a logout while the store cannot
/// be written still forgets the cookie, refuses the session at once, and writes its end
/// (with the single logout) once the store is back.
#[tokio::test]
async fn logout_while_the_store_fails_still_ends_the_session() {
    let t = server().await;
    let app = Receiver::http().await;
    register(&t, "https://late.test/", &app, LogoutType::Back);
    let mut browser = t.client();
    let ticket = browser.ticket("https://late.test/").await;
    validate(&t, "https://late.test/", &ticket).await;
    let tgc = browser.jar["CASTGC"].clone();
    t.server.settle_logout().await;
    t.server.store.fail_writes(true);
    let out = browser.get("/cas/logout").await;
    assert_eq!(out.status, 200);
    assert!(out.set_cookie("CASTGC").unwrap().contains("Max-Age=0"));
    let mut replay = t.client();
    replay.jar.insert("CASTGC".into(), tgc.clone());
    let res = replay
        .get(&format!("/cas/login?service={}", enc("https://late.test/")))
        .await;
    assert_eq!(res.status, 200, "no ticket from an ended session");
    t.server.store.fail_writes(false);
    t.server.sweep().await;
    t.server.settle_logout().await;
    assert!(t
        .server
        .store
        .session(&unicas::tickets::hash_id(&tgc))
        .unwrap()
        .is_none());
    assert_eq!(session_index(&app.received()[0]), ticket);
}
