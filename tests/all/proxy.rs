//! Proxy authentication against a local HTTPS callback with a test CA: PGT delivery, /proxy,
//! /proxyValidate chains, and every refusal.

use crate::support::receiver::{Receiver, TestCa};
use crate::support::*;
use unicas::model::NewService;

const BACKEND: &str = "https://backend.test/api";
const THIRD: &str = "https://third.test/x";

struct Setup {
    t: TestServer,
    callback: Receiver,
    _ca_dir: tempfile::TempDir,
}

/// A server trusting the test CA; the portal (SERVICE) may proxy through callbacks on the
/// receiver, the backend may proxy again, the third service only receives.
async fn setup() -> Setup {
    let ca = TestCa::new("proxy test CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path());
    let callback = Receiver::https(&ca).await;
    let t = TestServer::start_with(|c| c.ca_file = Some(ca_file)).await;
    let callbacks = format!("{}*", callback.url("/"));
    let portal = "https://portal.test/";
    t.register(NewService {
        name: "portal".into(),
        pattern: portal.into(),
        allow_proxy: true,
        proxy_callback: Some(callbacks.clone()),
        ..Default::default()
    });
    t.register(NewService {
        name: "backend".into(),
        pattern: BACKEND.into(),
        allow_proxy: true,
        proxy_callback: Some(callbacks),
        ..Default::default()
    });
    t.add_service(THIRD, None);
    Setup {
        t,
        callback,
        _ca_dir: dir,
    }
}

const PORTAL: &str = "https://portal.test/";

fn element(xml: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name(("http://www.yale.edu/tp/cas", name)))
        .map(|n| n.text().unwrap_or("").to_string())
}

fn failure_code(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .find(|n| {
            n.tag_name().name() == "authenticationFailure" || n.tag_name().name() == "proxyFailure"
        })
        .and_then(|n| n.attribute("code").map(str::to_string))
}

fn proxy_path(pgt: &str, target: &str) -> String {
    format!("/cas/proxy?pgt={pgt}&targetService={}", enc(target))
}

/// A proxy ticket for `target`, which must be issued.
async fn proxy_ticket(c: &mut Client, pgt: &str, target: &str) -> String {
    let res = c.get(&proxy_path(pgt, target)).await;
    element(&res.body, "proxyTicket").expect(&res.body)
}

fn proxies(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name(("http://www.yale.edu/tp/cas", "proxy")))
        .map(|n| n.text().unwrap().to_string())
        .collect()
}

async fn validate_with_callback(
    c: &mut Client,
    endpoint: &str,
    service: &str,
    ticket: &str,
    pgt_url: &str,
) -> Resp {
    c.get(&format!(
        "{}&pgtUrl={}",
        validate_path(endpoint, service, ticket),
        enc(pgt_url)
    ))
    .await
}

/// docs/security.md A05
#[tokio::test]
async fn a_pgt_buys_proxy_tickets_and_chains_grow_newest_first() {
    let Setup { t, callback, .. } = setup().await;
    let mut c = t.client();
    let ticket = c.ticket(PORTAL).await;
    let cb1 = callback.url("/portal/pgtCallback?keep=1");
    let res = validate_with_callback(&mut c, "p3/serviceValidate", PORTAL, &ticket, &cb1).await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    let iou = element(&res.body, "proxyGrantingTicket").expect(&res.body);
    assert!(iou.starts_with("PGTIOU-") && iou.len() <= 64);

    // The callback got pgtId and pgtIou, with its own query kept.
    let got = callback.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "GET");
    assert!(got[0]
        .target
        .starts_with("/portal/pgtCallback?keep=1&pgtId="));
    assert_eq!(got[0].query("pgtIou").as_deref(), Some(iou.as_str()));
    let pgt = got[0].query("pgtId").unwrap();
    assert!(pgt.starts_with("PGT-") && pgt.len() <= 64);

    let res = c.get(&proxy_path(&pgt, BACKEND)).await;
    let pt = element(&res.body, "proxyTicket").expect(&res.body);
    assert!(pt.starts_with("PT-") && pt.len() <= 32, "{pt}");

    // A PT is refused by serviceValidate (and spent by that attempt)...
    let refused = c.get(&validate_path("serviceValidate", BACKEND, &pt)).await;
    assert_eq!(
        failure_code(&refused.body).as_deref(),
        Some("INVALID_TICKET_SPEC")
    );
    let pt = proxy_ticket(&mut c, &pgt, BACKEND).await;
    // ...and accepted by proxyValidate, with the chain; the backend asks for its own PGT.
    let cb2 = callback.url("/backend/cb");
    let res = validate_with_callback(&mut c, "proxyValidate", BACKEND, &pt, &cb2).await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    assert_eq!(proxies(&res.body), std::slice::from_ref(&cb1));
    assert!(element(&res.body, "proxyGrantingTicket").is_some());
    let again = c.get(&validate_path("proxyValidate", BACKEND, &pt)).await;
    assert_eq!(failure_code(&again.body).as_deref(), Some("INVALID_TICKET"));

    let pgt2 = callback.received()[1].query("pgtId").unwrap();
    let pt2 = proxy_ticket(&mut c, &pgt2, THIRD).await;
    let res = c.get(&validate_path("p3/proxyValidate", THIRD, &pt2)).await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    assert_eq!(proxies(&res.body), [cb2, cb1]);

    // JSON carries the same chain, newest first.
    let pt3 = proxy_ticket(&mut c, &pgt2, THIRD).await;
    let res = c
        .get(&format!(
            "{}&format=JSON",
            validate_path("proxyValidate", THIRD, &pt3)
        ))
        .await;
    let json: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let chain = &json["serviceResponse"]["authenticationSuccess"]["proxies"];
    assert_eq!(chain[0], callback.url("/backend/cb"));
}

/// docs/security.md A10
#[tokio::test]
async fn callbacks_that_are_not_safe_or_not_allowed_get_no_pgt() {
    let Setup { t, callback, .. } = setup().await;
    let mut c = t.client();

    // Plain http, or a callback outside the registered pattern.
    for url in [
        format!("http://{}/cb", callback.addr),
        "https://elsewhere.test/cb".to_string(),
    ] {
        let ticket = c.ticket(PORTAL).await;
        let res = validate_with_callback(&mut c, "serviceValidate", PORTAL, &ticket, &url).await;
        assert_eq!(
            failure_code(&res.body).as_deref(),
            Some("INVALID_PROXY_CALLBACK"),
            "{url}"
        );
    }
    // A service without proxy rights.
    let ticket = c.ticket(SERVICE).await;
    let res = validate_with_callback(
        &mut c,
        "serviceValidate",
        SERVICE,
        &ticket,
        &callback.url("/"),
    )
    .await;
    assert_eq!(
        failure_code(&res.body).as_deref(),
        Some("UNAUTHORIZED_SERVICE_PROXY")
    );
    assert!(callback.received().is_empty());

    // A certificate from a CA we do not trust: the TLS handshake fails, and the answer is
    // the same as for any failed delivery (no oracle): success, without a PGT.
    let stranger = Receiver::https(&TestCa::new("stranger CA")).await;
    t.register(NewService {
        name: "stranger".into(),
        pattern: "https://stranger.test/".into(),
        allow_proxy: true,
        proxy_callback: Some(format!("{}*", stranger.url("/"))),
        ..Default::default()
    });
    let ticket = c.ticket("https://stranger.test/").await;
    let res = validate_with_callback(
        &mut c,
        "serviceValidate",
        "https://stranger.test/",
        &ticket,
        &stranger.url("/cb"),
    )
    .await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    assert!(element(&res.body, "proxyGrantingTicket").is_none());
    assert!(stranger.received().is_empty());

    // A callback answering 404: validation succeeds without a PGT, and the PGT it was
    // offered buys nothing.
    callback
        .status
        .store(404, std::sync::atomic::Ordering::SeqCst);
    let ticket = c.ticket(PORTAL).await;
    let res = validate_with_callback(
        &mut c,
        "serviceValidate",
        PORTAL,
        &ticket,
        &callback.url("/cb"),
    )
    .await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    assert!(element(&res.body, "proxyGrantingTicket").is_none());
    let offered = callback.received()[0].query("pgtId").unwrap();
    let res = c.get(&proxy_path(&offered, BACKEND)).await;
    assert_eq!(failure_code(&res.body).as_deref(), Some("BAD_PGT"));
}

/// docs/security.md A10, D11
#[tokio::test]
async fn proxy_endpoint_errors_and_pgts_end_with_the_session() {
    let Setup { t, callback, .. } = setup().await;
    let mut browser = t.client();
    let ticket = browser.ticket(PORTAL).await;
    let mut app = t.client();
    validate_with_callback(
        &mut app,
        "serviceValidate",
        PORTAL,
        &ticket,
        &callback.url("/cb"),
    )
    .await;
    let pgt = callback.received()[0].query("pgtId").unwrap();

    let code = |body: &str| failure_code(body).unwrap();
    let res = app.get("/cas/proxy").await;
    assert_eq!(code(&res.body), "INVALID_REQUEST");
    let res = app.get(&format!("/cas/proxy?pgt={pgt}")).await;
    assert_eq!(code(&res.body), "INVALID_REQUEST");
    let res = app.get(&proxy_path("PGT-nope", BACKEND)).await;
    assert_eq!(code(&res.body), "BAD_PGT");
    let res = app.get(&proxy_path(&pgt, "https://unknown.test/")).await;
    assert_eq!(code(&res.body), "UNAUTHORIZED_SERVICE");
    let res = app
        .get(&format!("{}&format=JSON", proxy_path(&pgt, BACKEND)))
        .await;
    let json: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert!(json["serviceResponse"]["proxySuccess"]["proxyTicket"]
        .as_str()
        .unwrap()
        .starts_with("PT-"));

    // The user logs out: the PGT dies with the session.
    browser.get("/cas/logout").await;
    let res = app.get(&proxy_path(&pgt, BACKEND)).await;
    assert_eq!(code(&res.body), "BAD_PGT");
}

/// Issue "Defects found from outside" #6, docs/security.md A10: without a registered callback
/// pattern, a proxying service may only use callbacks at its own scheme, host and port;
/// another port of its host is refused before any connection is made.
#[tokio::test]
async fn callbacks_default_to_the_services_own_origin() {
    let ca = TestCa::new("origin test CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path());
    let (own, other_port) = (Receiver::https(&ca).await, Receiver::https(&ca).await);
    let t = TestServer::start_with(|c| c.ca_file = Some(ca_file)).await;
    let service = own.url("/app");
    t.register(NewService {
        name: "own origin".into(),
        pattern: service.clone(),
        allow_proxy: true,
        ..Default::default()
    });
    let mut c = t.client();
    for refused in [
        other_port.url("/cb"),
        own.url("/cb").replacen("https:", "http:", 1),
    ] {
        let ticket = c.ticket(&service).await;
        let res =
            validate_with_callback(&mut c, "serviceValidate", &service, &ticket, &refused).await;
        assert_eq!(
            failure_code(&res.body).as_deref(),
            Some("INVALID_PROXY_CALLBACK"),
            "{refused}"
        );
    }
    assert!(
        other_port.received().is_empty(),
        "no connection to another port"
    );
    let ticket = c.ticket(&service).await;
    let res = validate_with_callback(
        &mut c,
        "serviceValidate",
        &service,
        &ticket,
        &own.url("/cb"),
    )
    .await;
    assert!(
        element(&res.body, "proxyGrantingTicket").is_some(),
        "{}",
        res.body
    );
    assert_eq!(own.received().len(), 1);
}

/// docs/security.md A10 (d, e and the timeout): a callback that redirects is not followed, one
/// that stalls is given up after the outbound timeout, an address inside the service's host
/// on another port is refused unconnected; none of them gets a PGT, and validation succeeds.
#[tokio::test]
async fn redirecting_and_stalling_callbacks_get_no_pgt() {
    let ca = TestCa::new("a10 test CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path());
    let (callback, elsewhere) = (Receiver::https(&ca).await, Receiver::https(&ca).await);
    let t = TestServer::start_with(|c| {
        c.ca_file = Some(ca_file);
        c.outbound.timeout = 1;
    })
    .await;
    t.register(NewService {
        name: "portal".into(),
        pattern: PORTAL.into(),
        allow_proxy: true,
        proxy_callback: Some(format!("{}*", callback.url("/"))),
        ..Default::default()
    });
    let mut c = t.client();
    callback
        .status
        .store(302, std::sync::atomic::Ordering::SeqCst);
    *callback.location.lock().unwrap() = elsewhere.url("/cb");
    let ticket = c.ticket(PORTAL).await;
    let res = validate_with_callback(
        &mut c,
        "serviceValidate",
        PORTAL,
        &ticket,
        &callback.url("/cb"),
    )
    .await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    assert!(element(&res.body, "proxyGrantingTicket").is_none());
    assert!(
        elsewhere.received().is_empty(),
        "the redirect was not followed"
    );

    callback
        .status
        .store(200, std::sync::atomic::Ordering::SeqCst);
    callback
        .delay_ms
        .store(3000, std::sync::atomic::Ordering::SeqCst);
    let ticket = c.ticket(PORTAL).await;
    let res = validate_with_callback(
        &mut c,
        "serviceValidate",
        PORTAL,
        &ticket,
        &callback.url("/cb"),
    )
    .await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    assert!(
        element(&res.body, "proxyGrantingTicket").is_none(),
        "stalled: no PGT"
    );

    for internal in [
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:22/",
    ] {
        let ticket = c.ticket(PORTAL).await;
        let res =
            validate_with_callback(&mut c, "serviceValidate", PORTAL, &ticket, internal).await;
        assert_eq!(
            failure_code(&res.body).as_deref(),
            Some("INVALID_PROXY_CALLBACK"),
            "{internal}"
        );
    }
}

/// Access rules: a proxy ticket is refused for a target whose rules refuse the account, at
/// `/proxy`, and one issued before a rule changed is refused at its validation.
#[tokio::test]
async fn proxy_tickets_follow_the_targets_access_rules() {
    use unicas::model::{Effect, Rule};
    let Setup { t, callback, .. } = setup().await;
    let restricted = "https://restricted.test/";
    t.register(NewService {
        name: "restricted".into(),
        pattern: restricted.into(),
        rules: vec![Rule::parse(Effect::Deny, "uid=alice").unwrap()],
        ..Default::default()
    });
    let mut c = t.client();
    let ticket = c.ticket(PORTAL).await;
    validate_with_callback(
        &mut c,
        "serviceValidate",
        PORTAL,
        &ticket,
        &callback.url("/cb"),
    )
    .await;
    let pgt = callback.received()[0].query("pgtId").unwrap();
    let res = c.get(&proxy_path(&pgt, restricted)).await;
    assert_eq!(
        failure_code(&res.body).as_deref(),
        Some("UNAUTHORIZED_SERVICE")
    );
    // Issued while allowed, refused once the rule says otherwise.
    let pt = proxy_ticket(&mut c, &pgt, THIRD).await;
    let mut third = t
        .server
        .store
        .services()
        .unwrap()
        .into_iter()
        .find(|s| s.settings.pattern == THIRD)
        .unwrap();
    third.settings.rules = vec![Rule::parse(Effect::Allow, "kind=staff").unwrap()];
    t.server
        .store
        .update_service(third.id, &third.settings)
        .unwrap();
    t.server.reload_registry().unwrap();
    let res = c.get(&validate_path("proxyValidate", THIRD, &pt)).await;
    assert_eq!(
        failure_code(&res.body).as_deref(),
        Some("UNAUTHORIZED_SERVICE")
    );
}

/// docs/security.md D11: an account locked while its application holds a PGT: the PGT buys
/// nothing more, and its outstanding service ticket fails validation.
#[tokio::test]
async fn a_lock_ends_the_accounts_pgts_and_tickets() {
    let Setup { t, callback, .. } = setup().await;
    let mut browser = t.client();
    let ticket = browser.ticket(PORTAL).await;
    let mut app = t.client();
    validate_with_callback(
        &mut app,
        "serviceValidate",
        PORTAL,
        &ticket,
        &callback.url("/cb"),
    )
    .await;
    let pgt = callback.received()[0].query("pgtId").unwrap();
    proxy_ticket(&mut app, &pgt, BACKEND).await;
    let outstanding = browser.ticket(PORTAL).await;
    let now = t.clock().now();
    assert!(t
        .server
        .store
        .set_status("alice", unicas::model::Status::Locked, now)
        .unwrap());
    // Locked from outside this process (as the command line does): its memory of the
    // session holds at most 2 s.
    t.clock().advance(3);
    let res = app.get(&proxy_path(&pgt, BACKEND)).await;
    assert_eq!(failure_code(&res.body).as_deref(), Some("BAD_PGT"));
    let res = app
        .get(&validate_path("serviceValidate", PORTAL, &outstanding))
        .await;
    assert_eq!(failure_code(&res.body).as_deref(), Some("INVALID_TICKET"));
}

/// docs/security.md P04: a proxy ticket for an application that requires a second factor
/// comes only from a PGT granted for a ticket with one; a password session's PGT is refused
/// it, also after the session passed a second factor elsewhere.
#[tokio::test]
async fn proxy_tickets_for_an_application_that_requires_a_second_factor() {
    let Setup { t, callback, .. } = setup().await;
    let guarded = "https://payroll.test/";
    t.register(NewService {
        name: "payroll".into(),
        pattern: guarded.into(),
        mfa: unicas::model::Mfa::Required,
        ..Default::default()
    });
    let mut c = t.client();
    let ticket = c.ticket(PORTAL).await;
    validate_with_callback(
        &mut c,
        "serviceValidate",
        PORTAL,
        &ticket,
        &callback.url("/cb"),
    )
    .await;
    let pgt = callback.received()[0].query("pgtId").unwrap();
    let res = c.get(&proxy_path(&pgt, guarded)).await;
    assert_eq!(
        failure_code(&res.body).as_deref(),
        Some("UNAUTHORIZED_SERVICE"),
        "{}",
        res.body
    );
    // The same PGT still buys tickets for an application that asks nothing more.
    proxy_ticket(&mut c, &pgt, THIRD).await;
    // The session then passes a second factor for payroll itself: the PGT keeps the factors
    // of the ticket it was granted for, and still buys nothing for payroll.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    t.bind("alice", "totp", secret);
    let step_up = c.get(&format!("/cas/mfa?service={}", enc(guarded))).await;
    let token = crate::mfa::form_token(&step_up, "totp");
    let code = authenticator_code(secret, t.clock().now());
    let passed = c
        .post(
            "/cas/mfa",
            &[
                ("execution", token.as_str()),
                ("action", "totp"),
                ("code", code.as_str()),
                ("service", guarded),
            ],
        )
        .await;
    assert_eq!(passed.status, 302, "{}", passed.body);
    let res = c.get(&proxy_path(&pgt, guarded)).await;
    assert_eq!(
        failure_code(&res.body).as_deref(),
        Some("UNAUTHORIZED_SERVICE"),
        "{}",
        res.body
    );
}
