//! SMS codes: their limits, each gateway against a stand-in that checks its signature, the
//! messages people see when a gateway says no, and logging in with a code.

use crate::support::sms_gateway::{self, Gateway, Mode};
use crate::support::*;
use unicas::config::SmsProvider;

const PHONE: &str = "13800138000";

/// A browser at the phone step of bob's first login; returns it with the steps' token.
async fn at_phone_step(t: &TestServer, id: &str, from: &str) -> (Client, String) {
    t.add_imported(id, "31002X");
    let mut c = t.client_from(from);
    let steps = c.login(id, "31002X", None).await;
    let token = steps.input("execution").unwrap();
    let changed = c
        .post(
            "/cas/login/first/password",
            &[
                ("execution", token.as_str()),
                ("password", "31002X"),
                ("newPassword", "New-Pass-2026"),
                ("confirmPassword", "New-Pass-2026"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303);
    (c, token)
}

/// docs/security.md G01, G02, G06, G08: 60 s between codes to one number, 5 an hour; a code is
/// spent by its use and dies after 5 minutes.
#[tokio::test]
async fn codes_wait_between_sends_are_capped_and_expire() {
    // Only the number's hourly cap matters here (the others, and the captcha that comes
    // near them, have their own tests).
    let t = TestServer::start_with(|c| {
        c.sms.per_phone_day = 100;
        c.sms.per_address_hour = 100;
        c.sms.per_address_day = 100;
    })
    .await;
    let (mut c, token) = at_phone_step(&t, "20240001", "127.0.0.2").await;
    assert!(c
        .send_phone_code(&token, PHONE)
        .await
        .body
        .contains("验证码已发送至"));
    let again = c.send_phone_code(&token, PHONE).await;
    assert_eq!(again.status, 429);
    assert!(again.body.contains("秒后重新获取"), "{}", again.body);
    assert_eq!(t.sms_count(), 1);
    for _ in 0..4 {
        t.clock().advance(61);
        assert_eq!(c.send_phone_code(&token, PHONE).await.status, 200);
    }
    t.clock().advance(61);
    let capped = c.send_phone_code(&token, PHONE).await;
    assert_eq!(capped.status, 429);
    assert!(capped.body.contains("验证码发送次数已达上限"));
    assert_eq!(t.sms_count(), 5, "five an hour");
    // The last code: expired at 5 minutes + 1 s, never accepted after.
    let code = t.sms_code(PHONE).await.unwrap();
    t.clock().advance(300);
    let late = c.bind_phone(&token, &code).await;
    assert!(late.body.contains("验证码已失效"), "{}", late.body);
    // An hour later (the paused login is gone: log in again) a fresh code works at
    // 5 minutes − 1 s, once.
    t.clock().advance(3600);
    let mut c = t.client_from("127.0.0.2");
    let steps = c.login("20240001", "New-Pass-2026", None).await;
    let token = steps.input("execution").unwrap();
    assert_eq!(c.send_phone_code(&token, PHONE).await.status, 200);
    let code = t.sms_code(PHONE).await.unwrap();
    t.clock().advance(299);
    assert_eq!(c.bind_phone(&token, &code).await.status, 303);
    assert!(c.bind_phone(&token, &code).await.status >= 400, "spent");
}

/// docs/security.md G05, G07: five wrong entries void a code (the right one then fails); a code
/// for one account, number or purpose serves no other.
#[tokio::test]
async fn wrong_entries_void_a_code_and_codes_stay_where_they_belong() {
    let t = TestServer::start().await;
    let (mut c, token) = at_phone_step(&t, "20240001", "127.0.0.3").await;
    c.send_phone_code(&token, PHONE).await;
    let code = t.sms_code(PHONE).await.unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let res = c.bind_phone(&token, wrong).await;
        assert!(
            res.body.contains(&format!("还可尝试{left}次")),
            "{left}: {}",
            res.body
        );
    }
    assert!(
        c.bind_phone(&token, &code)
            .await
            .body
            .contains("验证码已失效"),
        "void"
    );
    // Bob's code in carol's flow does nothing.
    let (mut carol, carol_token) = at_phone_step(&t, "20240002", "127.0.0.4").await;
    t.clock().advance(61);
    c.send_phone_code(&token, PHONE).await;
    let bobs = t.sms_code(PHONE).await.unwrap();
    carol.send_phone_code(&carol_token, "13900139000").await;
    assert!(carol.bind_phone(&carol_token, &bobs).await.status >= 400);
    assert_eq!(
        c.bind_phone(&token, &bobs).await.status,
        303,
        "still bob's, unspent"
    );
}

/// docs/security.md G01, G05: twenty sends at once give one message; fifty wrong guesses at once
/// evaluate at most five.
#[tokio::test]
async fn parallel_sends_and_guesses_stay_within_their_limits() {
    let t = TestServer::start().await;
    let (c, token) = at_phone_step(&t, "20240001", "127.0.0.5").await;
    let race = |n: usize, code: Option<String>| {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let mut browser = Client::new(t.server.addr, None);
                browser.jar = c.jar.clone();
                let (token, code) = (token.clone(), code.clone());
                tokio::spawn(async move {
                    match code {
                        None => browser.send_phone_code(&token, PHONE).await.body,
                        Some(_) => {
                            browser
                                .bind_phone(&token, &format!("{:06}", 900_000 + i))
                                .await
                                .body
                        }
                    }
                })
            })
            .collect::<Vec<_>>();
        async move {
            let mut bodies = Vec::new();
            for task in tasks {
                bodies.push(task.await.unwrap());
            }
            bodies
        }
    };
    race(20, None).await;
    assert_eq!(t.sms_count(), 1, "one message");
    let bodies = race(50, Some(String::new())).await;
    let evaluated = bodies.iter().filter(|b| b.contains("还可尝试")).count();
    assert!(
        (1..=5).contains(&evaluated),
        "{evaluated} wrong guesses evaluated"
    );
    let audit = t.server.store.recent_audit(Some("20240001"), 200).unwrap();
    let failed: i64 = audit
        .iter()
        .filter(|r| r.event == "code_failed")
        .map(|r| r.repeats)
        .sum();
    assert!(failed as usize >= evaluated);
}

/// A server sending through `provider` at the gateway stand-in.
async fn with_gateway(provider: &str, gateway: &Gateway) -> TestServer {
    let url = |path: &str| gateway.url(path);
    let (aliyun, tencent, webhook) = (url("/aliyun/"), url("/tencent/"), url("/webhook"));
    let provider = match provider {
        "aliyun" => SmsProvider::Aliyun,
        "tencent" => SmsProvider::Tencent,
        _ => SmsProvider::Webhook,
    };
    TestServer::start_with(move |c| {
        c.sms.provider = provider;
        c.sms.timeout = 1;
        c.sms.aliyun.access_key_id = sms_gateway::ALIYUN_ID.into();
        c.sms.aliyun.access_key_secret = sms_gateway::ALIYUN_SECRET.into();
        c.sms.aliyun.template_code = "SMS_000000001".into();
        c.sms.aliyun.endpoint = aliyun;
        c.sms.tencent.secret_id = sms_gateway::TENCENT_ID.into();
        c.sms.tencent.secret_key = sms_gateway::TENCENT_KEY.into();
        c.sms.tencent.sdk_app_id = "1400000000".into();
        c.sms.tencent.template_id = "100000".into();
        c.sms.tencent.endpoint = tencent;
        c.sms.webhook.url = webhook;
        c.sms.webhook.secret = sms_gateway::WEBHOOK_SECRET.into();
    })
    .await
}

/// Issue "First login": each provider signs its request the way its gateway checks it, and
/// the code it carries binds the phone.
#[tokio::test]
async fn each_provider_is_accepted_by_its_gateway() {
    for (provider, phone_on_the_wire) in [
        ("aliyun", "13800138000"),
        ("tencent", "+8613800138000"),
        ("webhook", "13800138000"),
    ] {
        let gateway = Gateway::start().await;
        let t = with_gateway(provider, &gateway).await;
        let (mut c, token) = at_phone_step(&t, "20240001", "127.0.0.6").await;
        let sent = c.send_phone_code(&token, PHONE).await;
        assert_eq!(sent.status, 200, "{provider}: {}", sent.body);
        assert!(
            gateway.rejected.lock().unwrap().is_empty(),
            "{provider}: {:?}",
            gateway.rejected
        );
        let delivered = gateway.delivered();
        assert_eq!(delivered.len(), 1, "{provider}");
        assert_eq!(delivered[0].phone, phone_on_the_wire);
        assert_eq!(delivered[0].provider, provider);
        assert_eq!(
            c.bind_phone(&token, &delivered[0].code).await.status,
            303,
            "{provider}"
        );
        // Nothing of the code is kept anywhere but its hash: no outbox text for real gateways.
        assert!(t.sms_code(PHONE).await.is_none());
    }
}

/// Issue "First login": a gateway's refusal is a sentence people understand, and a slow
/// gateway holds the page for the configured timeout only.
#[tokio::test]
async fn gateway_refusals_become_clear_messages() {
    let gateway = Gateway::start().await;
    for (provider, mode, message) in [
        ("aliyun", Mode::RateLimited, "验证码发送次数已达上限"),
        ("aliyun", Mode::BadTemplate, "短信服务暂不可用"),
        ("tencent", Mode::RateLimited, "验证码发送次数已达上限"),
        ("tencent", Mode::BadTemplate, "短信服务暂不可用"),
        ("webhook", Mode::BadTemplate, "短信服务暂不可用"),
        ("webhook", Mode::Slow, "短信发送失败"),
    ] {
        gateway.set_mode(mode);
        let t = with_gateway(provider, &gateway).await;
        let (mut c, token) = at_phone_step(&t, "20240001", "127.0.0.7").await;
        let started = std::time::Instant::now();
        let res = c.send_phone_code(&token, PHONE).await;
        assert!(
            res.body.contains(message),
            "{provider} {mode:?}: {}",
            res.body
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(8),
            "bounded by the timeout"
        );
        // Audited as the failure it is, and no wait: asking again goes to the gateway again
        // (issue "Defects found from outside" #17).
        let audit = t.server.store.recent_audit(Some("20240001"), 10).unwrap();
        assert!(
            audit.iter().any(|r| r.event == "code_not_sent"),
            "{audit:?}"
        );
        assert!(!audit.iter().any(|r| r.event == "code_sent"), "{audit:?}");
        let tries = gateway.attempts();
        let again = c.send_phone_code(&token, PHONE).await;
        assert!(!again.body.contains("秒后重新获取"), "{}", again.body);
        assert_eq!(gateway.attempts(), tries + 1, "{provider} {mode:?}");
    }
}

/// Issue "First login", docs/security.md G04: once the sends from an address near their cap, an
/// image captcha comes first.
#[tokio::test]
async fn near_a_cap_a_captcha_comes_first() {
    let t = TestServer::start_with(|c| c.sms.per_address_hour = 4).await;
    let (mut c, token) = at_phone_step(&t, "20240001", "127.0.0.8").await;
    c.send_phone_code(&token, PHONE).await;
    t.clock().advance(61);
    c.send_phone_code(&token, "13900139000").await;
    t.clock().advance(61);
    let asked = c.send_phone_code(&token, "13700137000").await;
    assert!(asked.body.contains("请先输入图片验证码"), "{}", asked.body);
    assert_eq!(t.sms_count(), 2);
    c.get("/cas/captcha.html").await;
    let answer = t.captcha(&c).await;
    let res = c
        .post(
            "/cas/login/first/phone",
            &[
                ("execution", token.as_str()),
                ("action", "send"),
                ("phone", "13700137000"),
                ("captcha", answer.as_str()),
            ],
        )
        .await;
    assert!(
        res.body.contains("验证码已发送至 137****7000"),
        "{}",
        res.body
    );
}

/// Issue "First login": log in with the bound phone and a code (动态码登录), the tab on the
/// login page and the campus product's JSON endpoint; an unbound number gets the same
/// answers and no message.
#[tokio::test]
async fn logging_in_with_the_bound_phone_and_a_code() {
    let t = TestServer::start().await;
    let record =
        unicas::model::AuditRecord::system(unicas::model::AuditEvent::AccountUnlocked, None);
    t.server
        .store
        .bind("alice", "phone", "+8613800138000", &record, t.clock().now())
        .unwrap();
    let mut c = t.client();
    let page = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
    assert!(page.body.contains("短信登录"));
    let page = c
        .get(&format!(
            "/cas/login?service={}&cllt=dynamicLogin",
            enc(SERVICE)
        ))
        .await;
    assert!(page.body.contains("name=\"mobile\"") && page.body.contains("name=\"captcha\""));
    let ask = |c: &mut Client, page: &Resp, phone: &str| {
        let token = page.input("execution").unwrap();
        let phone = phone.to_string();
        let flow = c.jar["UNICAS_FLOW"].clone();
        let app = std::sync::Arc::clone(&t.server.app);
        async move { (token, phone, app.captcha_answer(&flow).await) }
    };
    c.get("/cas/captcha.html").await;
    let (token, phone, answer) = ask(&mut c, &page, PHONE).await;
    let sent = c
        .post(
            "/cas/login",
            &[
                ("cllt", "dynamicLogin"),
                ("action", "send"),
                ("execution", &token),
                ("mobile", &phone),
                ("captcha", &answer.unwrap()),
                ("service", SERVICE),
            ],
        )
        .await;
    assert!(
        sent.body.contains("验证码已发送至 138****8000"),
        "{}",
        sent.body
    );
    let code = t.sms_code(PHONE).await.unwrap();
    let token = sent.input("execution").unwrap();
    let wrong = c
        .post(
            "/cas/login",
            &[
                ("cllt", "dynamicLogin"),
                ("execution", &token),
                ("mobile", PHONE),
                ("dynamicCode", "000001"),
                ("service", SERVICE),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("手机号或验证码错误"));
    let token = wrong.input("execution").unwrap();
    let res = c
        .post(
            "/cas/login",
            &[
                ("cllt", "dynamicLogin"),
                ("execution", &token),
                ("mobile", PHONE),
                ("dynamicCode", &code),
                ("service", SERVICE),
            ],
        )
        .await;
    // The wrong guess voided nothing but one try: the right code still logs in.
    assert_eq!(res.status, 302, "{}", res.body);
    let ok = c
        .get(&validate_path("serviceValidate", SERVICE, &res.ticket()))
        .await;
    assert_eq!(parse_cas(&ok.body).unwrap().0, "alice");
    let audit = t.server.store.recent_audit(Some("alice"), 10).unwrap();
    assert!(audit
        .iter()
        .any(|r| r.event == "login_success" && r.detail == "sms code"));

    // The JSON endpoint, for a bound and an unbound number: alike, and only one message.
    let before = t.sms_count();
    let mut answers = Vec::new();
    for phone in ["13800138000", "13900139000"] {
        let mut app = t.client();
        app.get("/cas/captcha.html").await;
        let answer = t.captcha(&app).await;
        t.clock().advance(61);
        let res = app
            .post(
                "/cas/dynamicCode/getDynamicCode.htl",
                &[("mobile", phone), ("captcha", &answer)],
            )
            .await;
        assert_eq!(
            res.header("content-type"),
            Some("application/json; charset=UTF-8")
        );
        answers.push(res.body);
        let wrong = app
            .post(
                "/cas/dynamicCode/getDynamicCode.htl",
                &[("mobile", phone), ("captcha", "nope")],
            )
            .await;
        assert!(wrong.body.contains("\"code\":\"captchaError\""));
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].contains("\"code\":\"success\"") && answers[0].contains("\"time\":60"));
    t.settle_messages().await;
    let delivered: Vec<_> = t
        .server
        .store
        .outbox("sms", None, 100)
        .unwrap()
        .into_iter()
        .take(t.sms_count() - before)
        .filter(|r| r.result == "sent")
        .collect();
    assert_eq!(delivered.len(), 1, "only the bound number got a message");
}

/// Issue "First login": `unicas sms outbox` prints the log provider's messages, newest first.
#[tokio::test]
async fn the_outbox_shows_what_the_log_provider_sent() {
    let t = TestServer::start().await;
    let (mut c, token) = at_phone_step(&t, "20240001", "127.0.0.9").await;
    c.send_phone_code(&token, PHONE).await;
    let code = t.sms_code(PHONE).await.unwrap();
    let db = t.config.db.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        unicas(&db, &["sms", "outbox", "--phone", "13800138000"])
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    let line = out.lines().next().unwrap();
    assert!(
        line.contains("+8613800138000\tbind\tlog\tsent") && line.contains(&code),
        "{line}"
    );
}

/// A send with the image captcha solved first.
async fn send_with_captcha(t: &TestServer, c: &mut Client, token: &str, phone: &str) -> Resp {
    c.get("/cas/captcha.html").await;
    let answer = t.captcha(c).await;
    c.post(
        "/cas/login/first/phone",
        &[
            ("execution", token),
            ("action", "send"),
            ("phone", phone),
            ("captcha", answer.as_str()),
        ],
    )
    .await
}

/// docs/security.md G11: a number is read the ways people type it and becomes one +86 mobile
/// number; anything else is refused with a clear message, escaped, and nothing is sent.
#[tokio::test]
async fn phone_numbers_are_normalised_or_refused() {
    let t = TestServer::start_with(|c| {
        c.sms.per_phone_hour = 100;
        c.sms.per_phone_day = 100;
        c.sms.per_address_hour = 100;
        c.sms.per_address_day = 100;
    })
    .await;
    let (mut c, token) = at_phone_step(&t, "20240001", "127.0.0.20").await;
    for typed in [
        "+86 138 0013 8000",
        "0086-138-0013-8000",
        "１３８００１３８０００",
        "(138) 0013 8000",
    ] {
        t.clock().advance(61);
        let sent = c.send_phone_code(&token, typed).await;
        assert!(
            sent.body.contains("验证码已发送至 138****8000"),
            "{typed}: {}",
            sent.body
        );
    }
    let before = t.sms_count();
    for typed in [
        "1380013800",
        "138001380001",
        "12345678901",
        "+1 202 555 0123",
        "+44 7911 123456",
        "'; DROP TABLE accounts;--",
        "<script>alert(1)</script>",
    ] {
        t.clock().advance(61);
        let refused = c.send_phone_code(&token, typed).await;
        assert!(
            refused.body.contains("请输入正确的手机号"),
            "{typed}: {}",
            refused.body
        );
        assert!(!refused.body.contains("<script>alert"));
    }
    assert_eq!(t.sms_count(), before, "no message for a refused number");
    // The number all four forms named is the one bound.
    t.clock().advance(61);
    c.send_phone_code(&token, "+86１３８-0013-8000").await;
    let code = t.sms_code(PHONE).await.unwrap();
    let bound = c.bind_phone(&token, &code).await;
    assert_eq!(bound.status, 303, "{}", bound.body);
    assert!(unicas(&t.config.db, &["user", "show", "20240001"])
        .1
        .contains("bound_phone: 138****8000"));
}

/// docs/security.md G03, G04; issue 24, item 4: one address sending to many numbers (a
/// computer lab, a carrier's NAT) is asked for a captcha, not refused, past its caps; the
/// number's and the account's caps still refuse, captcha or not; across addresses the
/// server's daily budget stops every send, with one audit alert.
#[tokio::test]
async fn address_caps_bring_a_captcha_and_the_server_budget_holds() {
    let t = TestServer::start_with(|c| {
        c.sms.per_address_hour = 3;
        c.sms.per_account_day = 5;
        c.sms.per_day = 7;
    })
    .await;
    let (mut c, token) = at_phone_step(&t, "20240001", "127.0.0.30").await;
    assert!(c
        .send_phone_code(&token, "13800138001")
        .await
        .body
        .contains("验证码已发送"));
    assert!(c
        .send_phone_code(&token, "13800138002")
        .await
        .body
        .contains("验证码已发送"));
    let third = send_with_captcha(&t, &mut c, &token, "13800138003").await;
    assert!(third.body.contains("验证码已发送"), "{}", third.body);
    // Past the address's hourly cap: a captcha, never "上限".
    let plain = c.send_phone_code(&token, "13800138004").await;
    assert!(plain.body.contains("请先输入图片验证码"), "{}", plain.body);
    for n in 4..=5 {
        let sent = send_with_captcha(&t, &mut c, &token, &format!("1380013800{n}")).await;
        assert!(sent.body.contains("验证码已发送"), "{}", sent.body);
    }
    assert_eq!(t.sms_count(), 5);
    // The account's daily cap (5) refuses, captcha or not.
    let capped = send_with_captcha(&t, &mut c, &token, "13800138006").await;
    assert!(
        capped.body.contains("验证码发送次数已达上限"),
        "{}",
        capped.body
    );
    assert_eq!(t.sms_count(), 5);

    for (n, ip) in ["127.0.0.31", "127.0.0.32"].into_iter().enumerate() {
        let (mut other, token) = at_phone_step(&t, &format!("2024010{n}"), ip).await;
        let sent = other
            .send_phone_code(&token, &format!("1390013900{n}"))
            .await;
        assert!(sent.body.contains("验证码已发送"), "{}", sent.body);
    }
    for (n, ip) in ["127.0.0.33", "127.0.0.34"].into_iter().enumerate() {
        let (mut late, token) = at_phone_step(&t, &format!("2024020{n}"), ip).await;
        let refused = late
            .send_phone_code(&token, &format!("1370013700{n}"))
            .await;
        assert!(
            refused.body.contains("验证码发送次数已达上限"),
            "{}",
            refused.body
        );
    }
    assert_eq!(t.sms_count(), 7, "the server's budget holds");
    let alarms = t
        .server
        .store
        .recent_audit(None, 100)
        .unwrap()
        .into_iter()
        .filter(|r| r.event == "sms_budget_spent")
        .count();
    assert_eq!(alarms, 1, "one alert a day, not one per refusal");
}

/// docs/security.md G10: two people given the same code at once (a test hook fixes it) each
/// complete only their own binding: codes are looked up by account, never by value.
#[tokio::test]
async fn the_same_code_for_two_people_binds_each_only_to_their_own() {
    let t = TestServer::start().await;
    t.server.app.codes().fix_codes(Some("424242"));
    let (mut alice, alice_token) = at_phone_step(&t, "20240001", "127.0.0.40").await;
    let (mut bob, bob_token) = at_phone_step(&t, "20240002", "127.0.0.41").await;
    alice.send_phone_code(&alice_token, "13800138001").await;
    bob.send_phone_code(&bob_token, "13900139002").await;
    assert_eq!(t.sms_code("13800138001").await.as_deref(), Some("424242"));
    assert_eq!(t.sms_code("13900139002").await.as_deref(), Some("424242"));
    assert_eq!(bob.bind_phone(&bob_token, "424242").await.status, 303);
    assert_eq!(alice.bind_phone(&alice_token, "424242").await.status, 303);
    let shown = |id: &str| unicas(&t.config.db, &["user", "show", id]).1;
    assert!(shown("20240001").contains("bound_phone: 138****8001"));
    assert!(shown("20240002").contains("bound_phone: 139****9002"));
}

async fn code_login(c: &mut Client, token: &str, code: &str) -> Resp {
    let fields = [
        ("cllt", "dynamicLogin"),
        ("execution", token),
        ("mobile", PHONE),
        ("dynamicCode", code),
    ];
    c.post("/cas/login", &fields).await
}

/// docs/security.md F11: code logins and password logins feed one throttle: four wrong passwords
/// and one wrong code lock the account for that address, and then even the right code is
/// refused there.
#[tokio::test]
async fn code_logins_share_the_password_throttle() {
    let t = TestServer::start_with(|c| c.throttle.captcha_after = 0).await;
    let record =
        unicas::model::AuditRecord::system(unicas::model::AuditEvent::AccountUnlocked, None);
    t.server
        .store
        .bind("alice", "phone", "+8613800138000", &record, t.clock().now())
        .unwrap();
    for _ in 0..4 {
        let res = t
            .client_from("127.0.0.50")
            .login("alice", "wrong", None)
            .await;
        assert_eq!(res.status, 401);
    }
    let mut c = t.client_from("127.0.0.50");
    let page = c.get("/cas/login?cllt=dynamicLogin").await;
    c.get("/cas/captcha.html").await;
    let answer = t.captcha(&c).await;
    let token = page.input("execution").unwrap();
    let sent = c
        .post(
            "/cas/login",
            &[
                ("cllt", "dynamicLogin"),
                ("action", "send"),
                ("execution", &token),
                ("mobile", PHONE),
                ("captcha", &answer),
            ],
        )
        .await;
    assert!(sent.body.contains("验证码已发送"), "{}", sent.body);
    let code = t.sms_code(PHONE).await.unwrap();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let res = code_login(&mut c, &sent.input("execution").unwrap(), wrong).await;
    assert_eq!(res.status, 401);
    let res = code_login(&mut c, &res.input("execution").unwrap(), &code).await;
    assert_eq!(res.status, 423, "{}", res.body);
    assert!(res.set_cookie("CASTGC").is_none());
    let res = t
        .client_from("127.0.0.50")
        .login("alice", PASSWORD, None)
        .await;
    assert_eq!(res.status, 423);
}

/// Asks for a login code for `phone` from a fresh form (the captcha solved); the page.
async fn ask_login_code(t: &TestServer, c: &mut Client, phone: &str) -> Resp {
    let page = c.get("/cas/login?cllt=dynamicLogin").await;
    c.get("/cas/captcha.html").await;
    let answer = t.captcha(c).await;
    let fields = [
        ("cllt", "dynamicLogin"),
        ("action", "send"),
        ("execution", &page.input("execution").unwrap()),
        ("mobile", phone),
        ("captcha", &answer),
    ];
    c.post("/cas/login", &fields).await
}

/// A wrong code for `phone` from the page `sent`.
async fn wrong_code(c: &mut Client, sent: &Resp, phone: &str) -> Resp {
    let fields = [
        ("cllt", "dynamicLogin"),
        ("execution", &sent.input("execution").unwrap()),
        ("mobile", phone),
        ("dynamicCode", "000000"),
    ];
    c.post("/cas/login", &fields).await
}

/// docs/security.md M07: failures on numbers no account has are counted per number, as a bound
/// one's are per account: after five on one unbound number, another unbound number and a
/// bound one answer alike.
#[tokio::test]
async fn unbound_and_bound_numbers_answer_alike_after_failures() {
    let t = TestServer::start_with(|c| c.throttle.captcha_after = 0).await;
    let record =
        unicas::model::AuditRecord::system(unicas::model::AuditEvent::AccountUnlocked, None);
    t.server
        .store
        .bind("alice", "phone", "+8613800138000", &record, t.clock().now())
        .unwrap();
    let mut c = t.client_from("127.0.0.70");
    for n in 0..5 {
        let sent = ask_login_code(&t, &mut c, "13700000001").await;
        assert_eq!(
            wrong_code(&mut c, &sent, "13700000001").await.status,
            401,
            "{n}"
        );
        t.clock().advance(61);
    }
    let answers = {
        let mut answers = Vec::new();
        for phone in ["13700000002", PHONE] {
            let sent = ask_login_code(&t, &mut c, phone).await;
            let res = wrong_code(&mut c, &sent, phone).await;
            answers.push((res.status, res.body.contains("验证码错误")));
        }
        answers
    };
    assert_eq!(answers[0], answers[1], "{answers:?}");
    assert_eq!(answers[0].0, 401);
}

/// docs/security.md M09: a login code sent before a password change or reset logs nobody in
/// after it.
#[tokio::test]
async fn codes_sent_before_a_password_reset_are_void_after_it() {
    let t = TestServer::start().await;
    let record =
        unicas::model::AuditRecord::system(unicas::model::AuditEvent::AccountUnlocked, None);
    t.server
        .store
        .bind("alice", "phone", "+8613800138000", &record, t.clock().now())
        .unwrap();
    let mut c = t.client();
    let sent = ask_login_code(&t, &mut c, PHONE).await;
    let code = t.sms_code(PHONE).await.unwrap();
    assert!(unicas(&t.config.db, &["user", "reset-password", "alice"]).0);
    let res = code_login(&mut c, &sent.input("execution").unwrap(), &code).await;
    assert_eq!(res.status, 401, "{}", res.body);
    assert!(res.set_cookie("CASTGC").is_none());
}

/// docs/security.md M10, issue "Defects found from outside" #15: a flood of wrong captchas on
/// getDynamicCode.htl from one address is one audit row, counted, and no row holds the
/// number typed.
#[tokio::test]
async fn a_flood_of_failures_is_one_counted_row_without_the_number() {
    let t = TestServer::start().await;
    let mut c = t.client_from("127.0.0.71");
    c.get("/cas/login?cllt=dynamicLogin").await;
    for _ in 0..60 {
        let res = c
            .post(
                "/cas/dynamicCode/getDynamicCode.htl",
                &[("mobile", "13712345678"), ("captcha", "wrong")],
            )
            .await;
        assert!(res.body.contains("captchaError"), "{}", res.body);
    }
    let rows: Vec<_> = t
        .server
        .store
        .recent_audit(None, 1000)
        .unwrap()
        .into_iter()
        .filter(|r| r.client_ip == "127.0.0.71")
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].repeats, 60);
    for row in t.server.store.recent_audit(None, 1000).unwrap() {
        let seen = format!("{:?} {}", row.account_id, row.detail);
        assert!(!seen.contains("13712345678"), "{seen}");
    }
}

/// docs/security.md H09: a notice is told however soon after another one to the same number
/// (a binding changed, then the password reset a minute later); codes still wait.
#[tokio::test]
async fn notices_wait_for_no_resend_interval() {
    use unicas::store::{Limits, MessageRequest, Reserved};
    let t = TestServer::start().await;
    let limits = Limits {
        resend_after: 60,
        per_target_hour: 5,
        per_target_day: 10,
        per_account_day: 20,
        per_address_hour: 10,
        per_address_day: 50,
        per_day: 1000,
    };
    let request = |purpose: &'static str, code_hash: Option<&'static str>| MessageRequest {
        channel: "sms",
        target_hash: "the-number",
        target: "sealed",
        account_id: "alice",
        client_ip: "",
        purpose,
        provider: "log",
        code_hash,
        expires_at: 0,
        captcha: false,
    };
    let now = t.clock().now();
    let store = &t.server.store;
    for _ in 0..2 {
        let reserved = store
            .reserve_message(&request("notice", None), &limits, now)
            .unwrap();
        assert!(matches!(reserved, Reserved::Go { .. }), "{reserved:?}");
    }
    let first = store
        .reserve_message(&request("bind", Some("h1")), &limits, now)
        .unwrap();
    assert!(matches!(first, Reserved::Go { .. }), "{first:?}");
    let again = store
        .reserve_message(&request("bind", Some("h2")), &limits, now + 1)
        .unwrap();
    assert!(matches!(again, Reserved::TooSoon(_)), "{again:?}");
}
