//! Issue "A second factor for people, per application" (docs/security.md P01–P19): an
//! application registered with `--mfa required` gets a ticket only from a session that proved
//! a second factor, asked once per session (step-up), on every path that issues tickets; the
//! factor is named in the validation answer; guesses are throttled and audited; an account
//! without a factor enrols one; 账号管理 manages them.

use crate::support::*;
use unicas::model::{Mfa, NewService};

const HR: &str = "https://hr.test/";
const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const PHONE: &str = "+8613800138000";

/// A server where `HR` requires a second factor and alice has an authenticator.
async fn setup() -> TestServer {
    let t = TestServer::start().await;
    t.register(NewService {
        name: "人事系统".into(),
        pattern: HR.into(),
        mfa: Mfa::Required,
        ..NewService::default()
    });
    t.bind("alice", "totp", SECRET);
    t
}

fn step_up_path(service: &str) -> String {
    format!("/cas/mfa?service={}", enc(service))
}

/// The code alice's authenticator shows now, `offset` steps from the current one.
fn code(t: &TestServer, offset: i64) -> String {
    authenticator_code(SECRET, t.clock().now() + offset * 30)
}

/// Posts `action` with `fields` on the step-up page `page`, for `service`.
async fn answer(c: &mut Client, page: &Resp, action: &str, code: &str, service: &str) -> Resp {
    let token = form_token(page, action);
    c.post(
        "/cas/mfa",
        &[
            ("execution", &token),
            ("action", action),
            ("code", code),
            ("service", service),
        ],
    )
    .await
}

/// The token of the step-up page's form whose button (or hidden field) says `action`.
pub(crate) fn form_token(page: &Resp, action: &str) -> String {
    let marker = format!("value=\"{action}\"");
    let at = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {action} form in {}", page.body));
    let form = page.body[..at].rfind("<form").expect("its form");
    let rest = Resp {
        status: page.status,
        headers: Vec::new(),
        body: page.body[form..].to_string(),
        raw: Vec::new(),
    };
    rest.input("execution").expect("the form's token")
}

/// The authenticator key an enrolment page shows under its QR code (grouped by four).
pub(crate) fn enrolment_secret(page: &Resp) -> String {
    page.body
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .unwrap_or_else(|| panic!("no key in {}", page.body))
        .split_whitespace()
        .collect()
}

/// A login by a code sent to `PHONE` (动态码登录) in `c`, for `service`: the answer to the
/// code, and the code.
async fn sms_login(t: &TestServer, c: &mut Client, service: Option<&str>) -> (Resp, String) {
    let query = service.map(|s| format!("service={}&", enc(s)));
    let page = c
        .get(&format!(
            "/cas/login?{}cllt=dynamicLogin",
            query.unwrap_or_default()
        ))
        .await;
    c.get("/cas/captcha.html").await;
    let flow = c.jar["UNICAS_FLOW"].clone();
    let captcha = t.server.app.captcha_answer(&flow).await.unwrap();
    let token = page.input("execution").unwrap();
    let mut send = vec![
        ("cllt", "dynamicLogin"),
        ("action", "send"),
        ("execution", token.as_str()),
        ("mobile", PHONE),
        ("captcha", captcha.as_str()),
    ];
    send.extend(service.map(|s| ("service", s)));
    let sent = c.post("/cas/login", &send).await;
    let code = t.sms_code(PHONE).await.unwrap();
    let token = sent.input("execution").unwrap();
    let mut log_in = vec![
        ("cllt", "dynamicLogin"),
        ("execution", token.as_str()),
        ("mobile", PHONE),
        ("dynamicCode", code.as_str()),
    ];
    log_in.extend(service.map(|s| ("service", s)));
    let answer = c.post("/cas/login", &log_in).await;
    (answer, code)
}

/// Validates `ticket` for `service` at /p3/serviceValidate: the attributes by name.
async fn attributes(c: &mut Client, service: &str, ticket: &str) -> Vec<(String, String)> {
    let res = c
        .get(&validate_path("p3/serviceValidate", service, ticket))
        .await;
    parse_cas(&res.body).unwrap().1
}

fn values<'a>(attrs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    attrs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// P01, P02, P07: a password session gets tickets for ordinary applications at once; for HR
/// it is sent to the second factor, which it proves once: HR's ticket names the factor, and
/// later visits need nothing more. `renew=true` asks for both again.
#[tokio::test]
async fn an_application_that_requires_a_second_factor_asks_for_it_once() {
    let t = setup().await;
    let mut c = t.client();
    let plain = c.login("alice", PASSWORD, Some(SERVICE)).await;
    assert_eq!(plain.status, 302, "{}", plain.body);
    let attrs = attributes(&mut c, SERVICE, &plain.ticket()).await;
    assert_eq!(
        values(&attrs, "authenticationMethod"),
        ["PasswordAuthenticationHandler"]
    );
    assert!(values(&attrs, "authnContextClass").is_empty());

    // Single sign-on to HR: no ticket, the step-up instead.
    let sso = c.get(&format!("/cas/login?service={}", enc(HR))).await;
    assert_eq!(sso.status, 303, "{}", sso.body);
    assert_eq!(sso.location(), step_up_path(HR));
    // Gateway cannot ask: back to HR without a ticket.
    let gateway = c
        .get(&format!("/cas/login?service={}&gateway=true", enc(HR)))
        .await;
    assert_eq!(gateway.status, 302);
    assert!(
        !gateway.location().contains("ticket="),
        "{}",
        gateway.location()
    );

    let page = c.get(&step_up_path(HR)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("「人事系统」要求二次认证"),
        "{}",
        page.body
    );
    assert!(page.body.contains("身份验证器"));
    assert!(!page.body.contains("value=\"sms\""), "no phone is bound");
    let wrong = answer(&mut c, &page, "totp", "000000", HR).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("不正确"));
    let right = answer(&mut c, &wrong, "totp", &code(&t, 0), HR).await;
    assert_eq!(right.status, 302, "{}", right.body);
    assert!(right.location().starts_with(HR));
    let attrs = attributes(&mut c, HR, &right.ticket()).await;
    let both = [
        "PasswordAuthenticationHandler",
        "GoogleAuthenticatorAuthenticationHandler",
    ];
    assert_eq!(values(&attrs, "authenticationMethod"), both);
    assert_eq!(values(&attrs, "successfulAuthenticationHandlers"), both);
    assert_eq!(values(&attrs, "authnContextClass"), ["mfa-gauth"]);

    // The session remembers it: HR again, and in JSON and SAML too.
    let again = c.get(&format!("/cas/login?service={}", enc(HR))).await;
    assert_eq!(again.status, 302, "{}", again.body);
    let json = c
        .get(&format!(
            "{}&format=JSON",
            validate_path("p3/serviceValidate", HR, &again.ticket())
        ))
        .await;
    let json: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(
        json["serviceResponse"]["authenticationSuccess"]["attributes"]["authnContextClass"],
        "mfa-gauth"
    );

    // renew=true: the password and then the second factor, both again.
    let renewed = c
        .get(&format!("/cas/login?service={}&renew=true", enc(HR)))
        .await;
    assert_eq!(renewed.status, 200, "the login form");
    let token = renewed.input("execution").unwrap();
    let posted = c
        .post(
            "/cas/login",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("execution", &token),
                ("service", HR),
            ],
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    assert_eq!(posted.location(), step_up_path(HR));
    // The same code is spent: the step it belongs to was used.
    let page = c.get(&step_up_path(HR)).await;
    let reused = answer(&mut c, &page, "totp", &code(&t, 0), HR).await;
    assert_eq!(reused.status, 401, "a code is good for one use");
}

/// P04: no path issues HR's ticket without the factor: the login form posted directly, a
/// login by SMS code (whose phone cannot also be the second factor), and proxy tickets. A
/// ticket issued before HR required one fails validation once it does.
#[tokio::test]
async fn no_path_issues_a_ticket_without_the_second_factor() {
    let t = setup().await;
    t.bind("alice", "phone", PHONE);
    // Before HR required a factor: a ticket for it, then the requirement, then validation.
    let open = "https://open.test/";
    t.add_service(open, None);
    let mut c = t.client();
    let early = c.ticket(open).await;
    let mut entry = t
        .server
        .store
        .services()
        .unwrap()
        .into_iter()
        .find(|s| s.settings.pattern == open)
        .unwrap();
    entry.settings.mfa = Mfa::Required;
    t.server
        .store
        .update_service(entry.id, &entry.settings)
        .unwrap();
    t.server.reload_registry().unwrap();
    let res = c.get(&validate_path("serviceValidate", open, &early)).await;
    assert!(
        res.body.contains("INVALID_TICKET") && res.body.contains("second factor"),
        "{}",
        res.body
    );

    // The login form's POST with HR as its service.
    c.jar.clear();
    let res = c.login("alice", PASSWORD, Some(HR)).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), step_up_path(HR));

    // A login by a code to the phone: the step-up offers the authenticator, not the phone.
    let mut phone = t.client();
    let (logged_in, sms) = sms_login(&t, &mut phone, Some(HR)).await;
    assert_eq!(logged_in.status, 303, "{}", logged_in.body);
    assert_eq!(logged_in.location(), step_up_path(HR));
    let step_up = phone.get(&step_up_path(HR)).await;
    assert!(step_up.body.contains("value=\"totp\""));
    assert!(
        !step_up.body.contains("value=\"send\""),
        "the phone that logged in is not also the second factor"
    );
    // Posting the SMS way anyway is refused, and nothing is issued.
    let token = form_token(&step_up, "totp");
    let forced = phone
        .post(
            "/cas/mfa",
            &[
                ("execution", &token),
                ("action", "sms"),
                ("code", &sms),
                ("service", HR),
            ],
        )
        .await;
    assert_eq!(forced.status, 400);
}

/// P05: the bound phone is a second factor (a code sent to it, checked once), and so is
/// each recovery code, once.
#[tokio::test]
async fn the_bound_phone_passes_with_its_code() {
    let t = TestServer::start().await;
    t.register(NewService {
        name: "finance".into(),
        pattern: HR.into(),
        mfa: Mfa::Required,
        ..NewService::default()
    });
    t.bind("alice", "phone", PHONE);
    let mut c = t.client();
    let res = c.login("alice", PASSWORD, Some(HR)).await;
    assert_eq!(res.location(), step_up_path(HR));
    let page = c.get(&step_up_path(HR)).await;
    assert!(page.body.contains("138****8000"), "{}", page.body);
    let sent = answer(&mut c, &page, "send", "", HR).await;
    assert_eq!(sent.status, 200);
    let sms = t.sms_code(PHONE).await.expect("a code went to the phone");
    let wrong = answer(&mut c, &sent, "sms", "000000", HR).await;
    assert_eq!(wrong.status, 401);
    let right = answer(&mut c, &wrong, "sms", &sms, HR).await;
    assert_eq!(right.status, 302, "{}", right.body);
    let attrs = attributes(&mut c, HR, &right.ticket()).await;
    assert_eq!(values(&attrs, "authnContextClass"), ["mfa-simple"]);
}

/// P06: an account with no second factor, asked for one, enrols an authenticator (its
/// first code confirms it), sees ten recovery codes once, and goes on to the application. A
/// recovery code then opens the factor once; an enrolment cannot be posted by an account
/// that has a factor.
#[tokio::test]
async fn an_account_without_a_factor_enrols_one_and_gets_recovery_codes() {
    let t = TestServer::start().await;
    t.register(NewService {
        name: "grades".into(),
        pattern: HR.into(),
        mfa: Mfa::Required,
        ..NewService::default()
    });
    let mut c = t.client();
    c.login("alice", PASSWORD, Some(HR)).await;
    let page = c.get(&step_up_path(HR)).await;
    assert!(page.body.contains("尚未设置二次认证方式"), "{}", page.body);
    let secret = enrolment_secret(&page);
    let wrong = answer(&mut c, &page, "enrol", "000000", HR).await;
    assert_eq!(wrong.status, 401);
    let now = t.clock().now();
    let enrolled = answer(
        &mut c,
        &wrong,
        "enrol",
        &authenticator_code(&secret, now),
        HR,
    )
    .await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    let codes: Vec<String> = enrolled
        .body
        .split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next().map(str::to_string))
        .collect();
    assert_eq!(codes.len(), 10, "{}", enrolled.body);
    let next = c.get(&step_up_path(HR)).await;
    assert_eq!(next.status, 302, "the session proved the authenticator");
    assert!(next.location().starts_with(HR));
    assert!(t.server.store.binding("alice", "totp").unwrap().is_some());

    // Another browser: the authenticator and the recovery codes, no enrolment any more.
    let mut other = t.client();
    other.login("alice", PASSWORD, Some(HR)).await;
    let page = other.get(&step_up_path(HR)).await;
    assert!(page.body.contains("value=\"recovery\""));
    let token = form_token(&page, "totp");
    let forced = other
        .post(
            "/cas/mfa",
            &[
                ("execution", &token),
                ("action", "enrol"),
                ("code", "123456"),
                ("service", HR),
            ],
        )
        .await;
    assert_eq!(forced.status, 400, "no enrolment past an existing factor");
    let page = other.get(&step_up_path(HR)).await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    let used = answer(&mut other, &page, "recovery", &typed, HR).await;
    assert_eq!(used.status, 302, "{}", used.body);
    let attrs = attributes(&mut other, HR, &used.ticket()).await;
    assert_eq!(values(&attrs, "authnContextClass"), ["mfa-recovery"]);
    let mut third = t.client();
    third.login("alice", PASSWORD, Some(HR)).await;
    let page = third.get(&step_up_path(HR)).await;
    let again = answer(&mut third, &page, "recovery", &codes[0], HR).await;
    assert_eq!(again.status, 401, "a recovery code is spent once");
}

/// P03: wrong second factors share the account's one budget: the fifth locks it (423, the
/// right code refused too), each guess is audited, and the bound phone is told.
#[tokio::test]
async fn guesses_at_a_second_factor_are_throttled_and_audited() {
    let t = setup().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, Some(HR)).await;
    let mut page = c.get(&step_up_path(HR)).await;
    for _ in 0..5 {
        page = answer(&mut c, &page, "totp", "000000", HR).await;
    }
    assert_eq!(page.status, 423, "{}", page.body);
    let right = answer(&mut c, &page, "totp", &code(&t, 0), HR).await;
    assert_eq!(right.status, 423, "locked: not even the right code");
    let (_, out, _) = unicas(&t.config.db, &["audit", "tail", "--account", "alice"]);
    assert!(out.contains("second_factor_failed"), "{out}");
}

/// P08: a session that ends during the step-up (a logout, a lock) proves nothing: the
/// answer is the login page, no ticket.
#[tokio::test]
async fn a_session_ended_mid_step_up_gets_no_ticket() {
    let t = setup().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, Some(HR)).await;
    let page = c.get(&step_up_path(HR)).await;
    let (ok, _, err) = unicas(&t.config.db, &["user", "lock", "alice"]);
    assert!(ok, "{err}");
    t.clock().advance(3);
    let res = answer(&mut c, &page, "totp", &code(&t, 0), HR).await;
    assert_eq!(res.status, 303);
    assert!(
        res.location().starts_with("/cas/login"),
        "{}",
        res.location()
    );
}

/// P09: `service add/edit --mfa`, shown by `service show`; a wrong value is refused.
#[tokio::test]
async fn the_command_line_sets_an_applications_second_factor() {
    let t = TestServer::start().await;
    let db = &t.config.db;
    let (ok, out, err) = unicas(
        db,
        &[
            "service",
            "add",
            "--name",
            "财务",
            "--pattern",
            "https://fin.test/",
            "--mfa",
            "required",
        ],
    );
    assert!(ok, "{err}");
    let id = out.trim().rsplit(' ').next().unwrap().to_string();
    let (_, shown, _) = unicas(db, &["service", "show", &id]);
    assert!(shown.contains("mfa: required"), "{shown}");
    let (ok, _, err) = unicas(db, &["service", "edit", &id, "--mfa", "sometimes"]);
    assert!(!ok && err.contains("--mfa"), "{err}");
    let (ok, _, _) = unicas(db, &["service", "edit", &id, "--mfa", "none"]);
    assert!(ok);
    let (_, shown, _) = unicas(db, &["service", "show", &id]);
    assert!(shown.contains("mfa: none"), "{shown}");
}

/// P10: 账号管理 → 二次认证 after the proof of identity: set up an authenticator (the first
/// factor beyond the phone brings recovery codes), "always ask", which then asks at a login
/// without any application; `user unbind … totp|recovery` removes them, audited.
#[tokio::test]
async fn account_management_sets_up_factors_and_always_ask() {
    let t = TestServer::start().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let gate = c.get("/cas/account/factors").await;
    assert!(
        gate.body.contains("name=\"next\" value=\"factors\""),
        "the proof of identity first"
    );
    let token = gate.token_for("/cas/account/verify");
    let verified = c
        .post(
            "/cas/account/verify",
            &[
                ("execution", &token),
                ("next", "factors"),
                ("action", "password"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(verified.status, 303, "{}", verified.body);
    let page = c.get("/cas/account/factors").await;
    assert!(page.body.contains("二次认证"));
    let started = answer_account(&mut c, &page, "totp-start", "").await;
    let secret = enrolment_secret(&started);
    let now = t.clock().now();
    let confirmed = answer_account(
        &mut c,
        &started,
        "totp-confirm",
        &authenticator_code(&secret, now),
    )
    .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(
        confirmed.body.matches("<li><code>").count(),
        10,
        "recovery codes, once"
    );
    let page = c.get("/cas/account/factors").await;
    assert!(
        page.body.contains("剩余 10 个（共 10 个）"),
        "{}",
        page.body
    );
    let on = answer_account(&mut c, &page, "always-on", "").await;
    assert_eq!(on.status, 303);

    // Always ask: a login with no application goes to the second factor, not the portal.
    let mut fresh = t.client();
    let res = fresh.login("alice", PASSWORD, None).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/cas/mfa");
    let portal = fresh.get("/cas/portal").await;
    assert_eq!(portal.status, 302, "its own pages ask first too");

    let db = &t.config.db;
    for kind in ["totp", "recovery"] {
        let (ok, _, err) = unicas(db, &["user", "unbind", "alice", kind]);
        assert!(ok, "{kind}: {err}");
    }
    assert!(t.server.store.binding("alice", "totp").unwrap().is_none());
    let (_, out, _) = unicas(db, &["audit", "tail", "--account", "alice"]);
    assert!(
        out.contains("factor_added") && out.contains("factor_removed"),
        "{out}"
    );
}

/// Posts `action` (and `code`) on 账号管理's page of second factors.
async fn answer_account(c: &mut Client, page: &Resp, action: &str, code: &str) -> Resp {
    let token = form_token(page, action);
    c.post(
        "/cas/account/factors",
        &[("execution", &token), ("action", action), ("code", code)],
    )
    .await
}

/// P13: with only the password (or only the phone) nobody changes an account's second
/// factors: 账号管理's pages send a session that has not passed one to the step-up first,
/// and a post changes nothing; after the step-up (back to the page) they work.
#[tokio::test]
async fn changing_factors_needs_a_session_that_passed_one() {
    let t = setup().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let page = c.get("/cas/account/factors").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/cas/mfa?next=factors");
    // A post with a good form token from this browser changes nothing either.
    let verify = c.get("/cas/account/verify?next=factors").await;
    let token = verify.tokens()[0].clone();
    let forced = c
        .post(
            "/cas/account/factors",
            &[("execution", &token), ("action", "recovery")],
        )
        .await;
    assert_eq!(forced.location(), "/cas/mfa?next=factors");
    assert!(!forced.body.contains("<li><code>"));
    let held = t.server.store.held_factors("alice").unwrap();
    assert_eq!(held.recovery_made, 0, "no codes were made");
    let step_up = c.get("/cas/mfa?next=factors").await;
    assert!(
        step_up.body.contains("更改二次认证方式前"),
        "{}",
        step_up.body
    );
    let token = form_token(&step_up, "totp");
    let passed = c
        .post(
            "/cas/mfa",
            &[
                ("execution", &token),
                ("action", "totp"),
                ("code", &code(&t, 0)),
                ("next", "factors"),
            ],
        )
        .await;
    assert_eq!(passed.status, 303, "{}", passed.body);
    assert_eq!(passed.location(), "/cas/account/factors");
    // The factor just passed is a fresh proof of identity too: the page itself.
    let page = c.get("/cas/account/factors").await;
    assert!(page.body.contains("value=\"totp-remove\""), "{}", page.body);

    // Only the phone: a login by SMS code cannot pass the step-up with that same phone.
    t.add_user("carol", PASSWORD, false, &[]);
    t.bind("carol", "phone", PHONE);
    let mut phone = t.client();
    let (logged_in, _) = sms_login(&t, &mut phone, None).await;
    assert_eq!(logged_in.status, 303, "{}", logged_in.body);
    let page = phone.get("/cas/account/factors").await;
    assert_eq!(page.location(), "/cas/mfa?next=factors");
    let step_up = phone.get("/cas/mfa?next=factors").await;
    assert!(
        step_up.body.contains("使用密码登录") && !step_up.body.contains("value=\"send\""),
        "{}",
        step_up.body
    );
}

/// P14: a broader pattern registered earlier never waives a narrower one's `--mfa
/// required`: the strictest requirement among the entries that match holds.
#[tokio::test]
async fn a_broader_pattern_never_waives_a_narrower_ones_second_factor() {
    let t = TestServer::start().await;
    t.add_service("https://apps.test/*", None);
    t.register(NewService {
        name: "finance".into(),
        pattern: "https://apps.test/finance/*".into(),
        mfa: Mfa::Required,
        ..NewService::default()
    });
    let mut c = t.client();
    let res = c
        .login("alice", PASSWORD, Some("https://apps.test/finance/x"))
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(res.location().starts_with("/cas/mfa?service="));
    let other = c
        .get(&format!(
            "/cas/login?service={}",
            enc("https://apps.test/library")
        ))
        .await;
    assert_eq!(
        other.status, 302,
        "the broader entry's own URLs ask nothing more"
    );
}

/// P15: two first enrolments of one account at once (two browsers, each with its own
/// authenticator) make exactly one factor; the other is told to pass it instead.
#[tokio::test]
async fn two_first_enrolments_at_once_make_one() {
    let t = TestServer::start().await;
    t.register(NewService {
        name: "grades".into(),
        pattern: HR.into(),
        mfa: Mfa::Required,
        ..NewService::default()
    });
    let mut pages = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let mut c = t.client();
        c.login("alice", PASSWORD, Some(HR)).await;
        let page = c.get(&step_up_path(HR)).await;
        let secret = enrolment_secret(&page);
        pages.push((page, secret));
        clients.push(c);
    }
    let now = t.clock().now();
    let (mut first, mut second) = (clients.remove(0), clients.remove(0));
    let codes = [
        authenticator_code(&pages[0].1, now),
        authenticator_code(&pages[1].1, now),
    ];
    let (a, b) = tokio::join!(
        answer(&mut first, &pages[0].0, "enrol", &codes[0], HR),
        answer(&mut second, &pages[1].0, "enrol", &codes[1], HR),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{}\n{}", a.body, b.body);
    assert_eq!(
        t.server.store.held_factors("alice").unwrap().recovery_made,
        10
    );
}
