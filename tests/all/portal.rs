//! The portal (综合服务大厅) and account management (账号管理), as a browser uses them.

use crate::support::receiver::TestCa;
use crate::support::smtp::{Recipients, Security, SmtpServer};
use crate::support::*;
use unicas::model::{Effect, NewService, Rule};

const NEW: &str = "New-Pass-2026";

async fn logged_in(t: &TestServer) -> Client {
    let mut c = t.client();
    let res = c.login("alice", PASSWORD, None).await;
    assert_eq!(res.status, 303);
    c
}

/// The texts of the notices the `log` provider sent to `phone`.
pub async fn notices(t: &TestServer, phone: &str) -> Vec<String> {
    t.settle_messages().await;
    let store = &t.server.store;
    let hash = store.keys().lookup("phone", phone);
    store
        .outbox("sms", Some(&hash), 100)
        .unwrap()
        .into_iter()
        .filter(|r| r.purpose == "notice" && r.result == "sent")
        .filter_map(|r| store.keys().open(&r.text))
        .collect()
}

/// Proves it is alice by her password, for `next`; returns where that leads.
async fn confirm(c: &mut Client, next: &str) -> Resp {
    let page = c.get(&format!("/cas/account/verify?next={next}")).await;
    let token = page.tokens()[0].clone();
    c.post(
        "/cas/account/verify",
        &[
            ("execution", token.as_str()),
            ("next", next),
            ("action", "password"),
            ("password", PASSWORD),
        ],
    )
    .await
}

/// Issue "Self-service": after a login without a service people land in the portal, which
/// lists the applications marked for it that they may use, each opened through /login.
#[tokio::test]
async fn a_login_without_a_service_lands_in_the_portal() {
    let t = TestServer::start().await;
    t.register(NewService {
        name: "教务系统".into(),
        pattern: "https://jw.test/*".into(),
        portal_url: Some("https://jw.test/home".into()),
        portal_description: Some("选课、成绩查询".into()),
        ..NewService::default()
    });
    t.register(NewService {
        name: "财务系统".into(),
        pattern: "https://cw.test/*".into(),
        portal_url: Some("https://cw.test/".into()),
        rules: vec![Rule::parse(Effect::Allow, "kind=staff").unwrap()],
        ..NewService::default()
    });
    t.register(NewService {
        name: "Not in the portal".into(),
        pattern: "https://hidden.test/*".into(),
        ..NewService::default()
    });
    let mut c = t.client();
    let res = c.login("alice", PASSWORD, None).await;
    assert_eq!((res.status, res.location()), (303, "/cas/portal"));
    let portal = c.get("/cas/portal").await;
    assert_eq!(portal.status, 200);
    assert!(portal.body.contains("综合服务大厅") && portal.body.contains("账号管理"));
    assert!(portal.body.contains("教务系统") && portal.body.contains("选课、成绩查询"));
    assert!(
        !portal.body.contains("财务系统"),
        "a student may not use it"
    );
    assert!(!portal.body.contains("Not in the portal"));
    let link = format!("/cas/login?service={}", enc("https://jw.test/home"));
    assert!(
        portal.body.contains(&format!("href=\"{link}\"")),
        "{}",
        portal.body
    );
    let app = c.get(&link).await;
    assert_eq!(app.status, 302);
    assert!(app
        .location()
        .starts_with("https://jw.test/home?ticket=ST-"));
    assert_eq!(portal.header("cache-control"), Some("no-store"));

    for path in ["/cas/portal", "/cas/account", "/cas/account/phone"] {
        let anonymous = t.client().get(path).await;
        assert_eq!(
            (anonymous.status, anonymous.location()),
            (302, "/cas/login"),
            "{path}"
        );
    }
}

/// Issue "Self-service", docs/security.md H09, D10: the password changes with the current one
/// under the policy; the change ends every other session of the account (single logout) and
/// keeps this one, and a ticket the other browser held fails validation; the bound phone is
/// told. Forms are single use.
#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "+8613800138000");
    let mut elsewhere = logged_in(&t).await;
    let outstanding = elsewhere
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await
        .ticket();
    let mut c = logged_in(&t).await;
    let page = c.get("/cas/account").await;
    for label in [
        "账号管理",
        "登录密码",
        "上次修改",
        "密码规则",
        "手机绑定",
        "138****8000",
        "邮箱绑定",
        "密保问题",
        "最近登录",
        "在线会话",
        "（当前）",
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    assert!(!page.body.contains("13800138000"), "numbers are masked");
    let change = |token: String, current: &'static str, new: &'static str| {
        vec![
            ("execution", token),
            ("password", current.to_string()),
            ("newPassword", new.to_string()),
            ("confirmPassword", new.to_string()),
        ]
    };
    let token = page.token_for("/cas/account/password");
    let wrong = c
        .post_owned("/cas/account/password", &change(token.clone(), "nope", NEW))
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("当前密码不正确"));
    let replayed = c
        .post_owned("/cas/account/password", &change(token, PASSWORD, NEW))
        .await;
    assert_eq!(
        replayed.status, 403,
        "a form token is spent by its first use"
    );
    let weak = c
        .post_owned(
            "/cas/account/password",
            &change(
                wrong.token_for("/cas/account/password"),
                PASSWORD,
                "12345678",
            ),
        )
        .await;
    assert_eq!(weak.status, 400);
    let done = c
        .post_owned(
            "/cas/account/password",
            &change(weak.token_for("/cas/account/password"), PASSWORD, NEW),
        )
        .await;
    assert_eq!(
        (done.status, done.location()),
        (303, "/cas/account?done=password")
    );
    assert!(c.get(done.location()).await.body.contains("密码修改成功"));

    let here = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
    assert_eq!(here.status, 302, "this session stays");
    let there = elsewhere
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await;
    assert_eq!(there.status, 200, "the other session ended: the login form");
    let xml = c
        .get(&validate_path("serviceValidate", SERVICE, &outstanding))
        .await
        .body;
    assert_eq!(parse_cas(&xml).unwrap_err().0, "INVALID_TICKET");
    assert_eq!(t.client().login("alice", PASSWORD, None).await.status, 401);
    assert_eq!(t.client().login("alice", NEW, None).await.status, 303);
    let told = notices(&t, "+8613800138000").await;
    assert!(
        told.len() == 1 && told[0].contains("您的账号密码已修改"),
        "{told:?}"
    );
}

/// Issue "Self-service", docs/security.md G12, D12: a new phone needs a fresh proof of identity (the
/// password, or a code to the bound phone) and a code to the new number; the old number is
/// told; the proof lasts ten minutes.
#[tokio::test]
async fn a_new_phone_needs_a_fresh_proof_and_a_code_to_it() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "+8613800138000");
    let mut c = logged_in(&t).await;
    let first = c.get("/cas/account/phone").await;
    assert!(first.body.contains("验证身份") && first.body.contains("138****8000"));
    let tokens = first.tokens();
    let wrong = c
        .post(
            "/cas/account/verify",
            &[
                ("execution", &tokens[0]),
                ("next", "phone"),
                ("action", "password"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("验证失败"));
    // A code to the bound phone instead of the password.
    let sent = c
        .post(
            "/cas/account/verify",
            &[
                ("execution", &wrong.tokens()[1]),
                ("next", "phone"),
                ("action", "send"),
            ],
        )
        .await;
    assert_eq!(sent.status, 200);
    let code = t.sms_code("13800138000").await.unwrap();
    let proved = c
        .post(
            "/cas/account/verify",
            &[
                ("execution", &sent.tokens()[1]),
                ("next", "phone"),
                ("action", "code"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(
        (proved.status, proved.location()),
        (303, "/cas/account/phone")
    );

    let page = c.get("/cas/account/phone").await;
    assert!(page.body.contains("name=\"phone\""), "{}", page.body);
    let sent = c
        .post(
            "/cas/account/phone",
            &[
                ("execution", &page.tokens()[0]),
                ("action", "send"),
                ("phone", "139 0013 9000"),
            ],
        )
        .await;
    assert!(
        sent.body.contains("验证码已发送至 139****9000"),
        "{}",
        sent.body
    );
    let code = t.sms_code("13900139000").await.unwrap();
    let bound = c
        .post(
            "/cas/account/phone",
            &[
                ("execution", &sent.tokens()[0]),
                ("action", "bind"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(
        (bound.status, bound.location()),
        (303, "/cas/account?done=phone")
    );
    let account = c.get(bound.location()).await;
    assert!(account.body.contains("手机绑定成功") && account.body.contains("139****9000"));
    let told = notices(&t, "+8613800138000").await;
    assert!(
        told.len() == 1 && told[0].contains("绑定手机已更换"),
        "{told:?}"
    );
    assert!(
        notices(&t, "+8613900139000").await.is_empty(),
        "the new number got its code only"
    );
    let audit = t.server.store.recent_audit(Some("alice"), 20).unwrap();
    assert!(audit
        .iter()
        .any(|r| r.event == "phone_bound" && r.detail == "139****9000"));
    assert!(audit
        .iter()
        .any(|r| r.event == "identity_confirmed" && r.detail == "sms code"));

    // Ten minutes later the proof is gone: the page asks again, and a post is refused.
    t.clock().advance(601);
    let again = c.get("/cas/account/phone").await;
    assert!(again.body.contains("验证身份"));
    let refused = c
        .post(
            "/cas/account/phone",
            &[
                ("execution", &again.tokens()[0]),
                ("action", "send"),
                ("phone", "13700137000"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("验证身份"));
}

/// Issue "Self-service": e-mail codes go through the school's mail server (STARTTLS, the
/// certificate checked against the configured CA, authentication), in both languages; the
/// address is shown masked.
#[tokio::test]
async fn an_e_mail_address_is_bound_through_the_mail_server() {
    let ca = TestCa::new("Campus Mail CA");
    let smtp = SmtpServer::start(
        &ca,
        Security::StartTls,
        ("unicas", "mail-secret"),
        Recipients::Accept,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path());
    let port = smtp.addr.port();
    let t = TestServer::start_with(|c| {
        c.ca_file = Some(ca_file.clone());
        c.mail.provider = unicas::config::MailProvider::Smtp;
        c.mail.from = "统一身份认证 <sso@example.edu>".into();
        c.mail.smtp.host = "127.0.0.1".into();
        c.mail.smtp.port = port;
        c.mail.smtp.username = "unicas".into();
        c.mail.smtp.password = "mail-secret".into();
    })
    .await;
    let mut c = logged_in(&t).await;
    assert_eq!(
        confirm(&mut c, "email").await.location(),
        "/cas/account/email"
    );
    let page = c.get("/cas/account/email").await;
    let sent = c
        .post(
            "/cas/account/email",
            &[
                ("execution", &page.tokens()[0]),
                ("action", "send"),
                ("email", "Alice.Wang@Example.EDU"),
            ],
        )
        .await;
    assert!(
        sent.body.contains("验证码已发送至 a***@example.edu"),
        "{}",
        sent.body
    );
    let mail = smtp.received().pop().expect("a message at the mail server");
    assert!(mail.tls && mail.user == "unicas");
    assert_eq!(mail.from, "sso@example.edu");
    assert_eq!(mail.to, ["alice.wang@example.edu"]);
    assert!(
        mail.subject().contains("验证码") && mail.subject().contains("Verification code"),
        "{}",
        mail.subject()
    );
    let body = mail.body();
    assert!(
        body.contains("用于绑定") && body.contains("for binding"),
        "{body}"
    );
    let code = mail.code().unwrap();
    let bound = c
        .post(
            "/cas/account/email",
            &[
                ("execution", &sent.tokens()[0]),
                ("action", "bind"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(
        (bound.status, bound.location()),
        (303, "/cas/account?done=email")
    );
    let account = c.get(bound.location()).await;
    assert!(account.body.contains("a***@example.edu"));
    assert!(!account.body.contains("alice.wang@"));
    // The verified address is what applications receive as `mail` from now on.
    let ticket = c.ticket(SERVICE).await;
    let xml = c
        .get(&validate_path("p3/serviceValidate", SERVICE, &ticket))
        .await
        .body;
    assert!(
        xml.contains("<cas:mail>alice.wang@example.edu</cas:mail>"),
        "{xml}"
    );
}

/// Issue "Self-service": a mail server that refuses the recipient for good or for now, or
/// cannot be reached, gives a clear message; the code is withdrawn and the log says why.
#[tokio::test]
async fn mail_server_refusals_become_clear_messages() {
    let ca = TestCa::new("Campus Mail CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (answer, page, logged) in [
        (
            Some(Recipients::Refuse),
            "邮件服务暂不可用",
            "failed, refused: SMTP 550",
        ),
        (
            Some(Recipients::Defer),
            "邮件发送失败",
            "failed, rate limited: SMTP 451",
        ),
        (
            None,
            "邮件发送失败",
            "failed, unavailable: connection failed",
        ),
    ] {
        let smtp = match answer {
            Some(r) => {
                Some(SmtpServer::start(&ca, Security::Implicit, ("unicas", "mail-secret"), r).await)
            }
            None => None,
        };
        let port = smtp.as_ref().map_or(closed, |s| s.addr.port());
        let t = TestServer::start_with(|c| {
            c.ca_file = Some(ca_file.clone());
            c.mail.provider = unicas::config::MailProvider::Smtp;
            c.mail.smtp.host = "127.0.0.1".into();
            c.mail.smtp.port = port;
            c.mail.smtp.security = unicas::config::SmtpSecurity::Tls;
            c.mail.smtp.username = "unicas".into();
            c.mail.smtp.password = "mail-secret".into();
        })
        .await;
        let mut c = logged_in(&t).await;
        confirm(&mut c, "email").await;
        let form = c.get("/cas/account/email").await;
        let refused = c
            .post(
                "/cas/account/email",
                &[
                    ("execution", &form.tokens()[0]),
                    ("action", "send"),
                    ("email", "nobody@example.edu"),
                ],
            )
            .await;
        assert!(refused.body.contains(page), "{page}: {}", refused.body);
        assert!(!refused.body.contains("验证码已发送"));
        let rows = t.server.store.outbox("email", None, 5).unwrap();
        assert_eq!(rows[0].result, logged);
        assert!(smtp.is_none_or(|s| s.received().is_empty()));
    }
}

/// Issue "Self-service": up to three questions, answers hashed (never stored as typed).
#[tokio::test]
async fn security_questions_are_set_after_a_proof_and_hashed() {
    let t = TestServer::start().await;
    let mut c = logged_in(&t).await;
    confirm(&mut c, "questions").await;
    let page = c.get("/cas/account/questions").await;
    assert!(page.body.contains("您母亲的姓名是？"));
    let token = page.tokens()[0].clone();
    let same_twice = c
        .post(
            "/cas/account/questions",
            &[
                ("execution", &token),
                ("question1", "mother"),
                ("answer1", "王芳"),
                ("question2", "mother"),
                ("answer2", "李"),
            ],
        )
        .await;
    assert_eq!(same_twice.status, 400);
    assert!(same_twice.body.contains("请选择一至三个不同的问题"));
    let saved = c
        .post(
            "/cas/account/questions",
            &[
                ("execution", &same_twice.tokens()[0]),
                ("question1", "mother"),
                ("answer1", "Wang Fang"),
                ("question2", "pet"),
                ("answer2", "旺财"),
                ("question3", ""),
                ("answer3", ""),
            ],
        )
        .await;
    assert_eq!(
        (saved.status, saved.location()),
        (303, "/cas/account?done=questions")
    );
    let stored = t.server.store.questions("alice").unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].0, "mother");
    assert!(stored
        .iter()
        .all(|(_, h)| h.starts_with("$2b$") && !h.contains("Wang")));
    assert!(c.get("/cas/account").await.body.contains("已设置 2 个"));
}

/// Issue "Self-service", docs/security.md D12: recent sign-ins (time, address, browser, method),
/// the sessions, and "sign out everywhere else"; WeCom unbinding needs a proof.
#[tokio::test]
async fn sessions_sign_ins_and_unbinding() {
    let t = TestServer::start().await;
    t.bind("alice", "wecom", "wx-alice");
    let mut phone = t.client_from("127.0.0.77");
    phone.headers.push((
        "user-agent".into(),
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 wxwork/4.1".into(),
    ));
    phone.login("alice", PASSWORD, None).await;
    let mut c = logged_in(&t).await;
    let page = c.get("/cas/account").await;
    assert!(
        page.body.contains("127.0.0.77") && page.body.contains("企业微信 WeCom · Android"),
        "{}",
        page.body
    );
    assert!(page.body.contains("企业微信: 已绑定"));
    let out = c
        .post(
            "/cas/account/sessions",
            &[("execution", &page.token_for("/cas/account/sessions"))],
        )
        .await;
    assert_eq!(
        (out.status, out.location()),
        (303, "/cas/account?done=sessions")
    );
    let on_phone = phone
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await;
    assert_eq!(on_phone.status, 200, "signed out there");
    assert_eq!(
        c.get(&format!("/cas/login?service={}", enc(SERVICE)))
            .await
            .status,
        302
    );

    let unbound = confirm(&mut c, "unbind-wecom").await;
    assert_eq!(
        (unbound.status, unbound.location()),
        (303, "/cas/account?done=unbind")
    );
    assert!(t.server.store.binding("alice", "wecom").unwrap().is_none());
    assert!(c
        .get("/cas/account")
        .await
        .body
        .contains("企业微信: 未绑定"));
}

/// docs/security.md D02, D03: the account forms refuse a post from another site, a post
/// without its token, and a GET.
#[tokio::test]
async fn account_forms_refuse_other_sites() {
    let t = TestServer::start().await;
    let mut c = logged_in(&t).await;
    let page = c.get("/cas/account").await;
    let token = page.token_for("/cas/account/sessions");
    let res = c
        .send(
            "POST",
            "/cas/account/sessions",
            &[
                ("origin", "https://evil.test"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            &format!("execution={}", enc(&token)),
        )
        .await;
    assert_eq!(res.status, 403);
    for path in ["/cas/account/sessions", "/cas/account/password"] {
        let no_token = c.post(path, &[("password", PASSWORD)]).await;
        assert_eq!(no_token.status, 403, "{path}");
        assert_eq!(c.get(path).await.status, 405, "{path}");
    }
    assert!(
        c.get(&format!("/cas/login?service={}", enc(SERVICE)))
            .await
            .status
            == 302,
        "still logged in"
    );
}

/// docs/security.md M04: the current password on 账号管理's change form (and on the first
/// login's step) is checked as a login's is: audited, and after a few wrong ones refused
/// unchecked, even the right one.
#[tokio::test]
async fn guessing_the_current_password_is_throttled_and_audited() {
    let t = TestServer::start().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let mut answers = Vec::new();
    for current in ["guess-1234"; 5].into_iter().chain([PASSWORD]) {
        let page = c.get("/cas/account").await;
        let form = [
            ("execution", page.token_for("/cas/account/password")),
            ("password", current.to_string()),
            ("newPassword", "Quiet-Harbor-2026".to_string()),
            ("confirmPassword", "Quiet-Harbor-2026".to_string()),
        ];
        answers.push(c.post_owned("/cas/account/password", &form).await.body);
    }
    assert!(answers[..5].iter().all(|a| a.contains("当前密码不正确")));
    assert!(answers[5].contains("登录失败次数过多"), "{}", answers[5]);
    let hash = t
        .server
        .store
        .account("alice")
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(bcrypt::verify(PASSWORD, &hash).unwrap(), "unchanged");
    let audited = t
        .server
        .store
        .recent_audit(Some("alice"), 100)
        .unwrap()
        .into_iter()
        .filter(|r| r.event == "identity_not_confirmed")
        .map(|r| r.repeats)
        .sum::<i64>();
    assert_eq!(audited, 5);

    t.add_imported("20240001", "31002X");
    let mut s = t.client();
    let steps = s.login("20240001", "31002X", None).await;
    let token = steps.input("execution").unwrap();
    let mut answers = Vec::new();
    for current in ["999999"; 5].into_iter().chain(["31002X"]) {
        let fields = [
            ("execution", token.as_str()),
            ("password", current),
            ("newPassword", "Lake-Violet-2026"),
            ("confirmPassword", "Lake-Violet-2026"),
        ];
        answers.push(s.post("/cas/login/first/password", &fields).await.body);
    }
    assert!(answers[..5].iter().all(|a| a.contains("当前密码不正确")));
    assert!(answers[5].contains("登录失败次数过多"), "{}", answers[5]);
}

/// Issue 24, item 9 (the manual's section 2): an account without a bound phone is told so in
/// the portal, with "立即绑定" leading to the phone's page; once a phone is bound the notice
/// goes.
#[tokio::test]
async fn the_portal_asks_accounts_without_a_phone_to_bind_one() {
    let t = TestServer::start().await;
    let mut c = logged_in(&t).await;
    let portal = c.get("/cas/portal").await;
    assert!(portal.body.contains("尚未绑定手机"), "{}", portal.body);
    assert!(portal
        .body
        .contains("<a class=\"button\" href=\"/cas/account/phone\">立即绑定</a>"));
    let english = c.get("/cas/portal?lang=en").await;
    assert!(english.body.contains("No mobile phone is bound") && english.body.contains("Bind now"));

    assert_eq!(
        confirm(&mut c, "phone").await.location(),
        "/cas/account/phone"
    );
    let page = c.get("/cas/account/phone").await;
    let sent = c
        .post(
            "/cas/account/phone",
            &[
                ("execution", &page.tokens()[0]),
                ("action", "send"),
                ("phone", "13900139000"),
            ],
        )
        .await;
    let code = t.sms_code("13900139000").await.unwrap();
    let bound = c
        .post(
            "/cas/account/phone",
            &[
                ("execution", &sent.tokens()[0]),
                ("action", "bind"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(bound.status, 303, "{}", bound.body);
    let portal = c.get("/cas/portal").await;
    assert!(!portal.body.contains("尚未绑定手机") && !portal.body.contains("立即绑定"));
}

/// Issue 24, item 5: notices (a password changed, a phone changed) never count against the
/// caps for codes: after them the bound number still gets its code, without a captcha.
/// docs/security.md G02, H09
#[tokio::test]
async fn notices_count_against_no_cap_for_codes() {
    let t = TestServer::start_with(|c| {
        c.sms.per_phone_hour = 2;
        c.sms.per_address_hour = 2;
    })
    .await;
    t.bind("alice", "phone", "+8613800138000");
    let mut c = logged_in(&t).await;
    let mut current = PASSWORD;
    for new in [NEW, "Other-Pass-2027"] {
        let page = c.get("/cas/account").await;
        let token = page.token_for("/cas/account/password");
        let done = c
            .post(
                "/cas/account/password",
                &[
                    ("execution", &token),
                    ("password", current),
                    ("newPassword", new),
                    ("confirmPassword", new),
                ],
            )
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        current = new;
    }
    assert_eq!(notices(&t, "+8613800138000").await.len(), 2);
    let page = c.get("/cas/account/verify?next=phone").await;
    let sent = c
        .post(
            "/cas/account/verify",
            &[
                ("execution", &page.tokens()[1]),
                ("next", "phone"),
                ("action", "send"),
            ],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(t.sms_code("13800138000").await.is_some());
}
