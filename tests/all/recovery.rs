//! Forgot password (忘记密码), the manual's four steps, as a browser walks them; and the
//! administrator's reset.

use crate::portal::notices;
use crate::support::*;
use unicas::accounts::{hash_now, normalize_answer};
use unicas::model::{AuditEvent, AuditRecord, Email};
use unicas::otp::Recipient;

const NEW: &str = "New-Pass-2026";

/// Step 1 for `name` (the captcha solved), from `/forgot` + `query`: returns step 2.
async fn start(t: &TestServer, c: &mut Client, name: &str, query: &str) -> Resp {
    let page = c.get(&format!("/cas/forgot{query}")).await;
    assert_eq!(page.status, 200);
    let token = page.input("execution").unwrap();
    let service = page.input("service").unwrap_or_default();
    c.get("/cas/captcha.html").await;
    let answer = t.captcha(c).await;
    let res = c
        .post(
            "/cas/forgot",
            &[
                ("execution", &token),
                ("username", name),
                ("captcha", &answer),
                ("service", &service),
            ],
        )
        .await;
    assert_eq!(
        (res.status, res.location()),
        (303, "/cas/forgot"),
        "{}",
        res.body
    );
    c.get("/cas/forgot").await
}

async fn verify(c: &mut Client, step: &Resp, fields: &[(&str, &str)]) -> Resp {
    let token = step.input("execution").unwrap();
    let mut form = vec![("execution", token.as_str())];
    form.extend_from_slice(fields);
    c.post("/cas/forgot/verify", &form).await
}

async fn set_password(c: &mut Client, step: &Resp, new: &str) -> Resp {
    let token = step.input("execution").unwrap();
    c.post(
        "/cas/forgot/password",
        &[
            ("execution", &token),
            ("newPassword", new),
            ("confirmPassword", new),
        ],
    )
    .await
}

/// Issue "Self-service", the manual's 三: account and captcha, 手机号验证 with the full bound
/// number and a code, "请设置帐号 X 的密码", "密码找回成功 去登录" back to the service's login.
/// docs/security.md H01, H05, H06: single use, every session ends, no session from the reset.
#[tokio::test]
async fn the_manuals_four_steps_by_phone() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "+8613800138000");
    let mut elsewhere = t.client();
    elsewhere.login("alice", PASSWORD, None).await;
    let mut c = t.client();
    let first = c
        .get(&format!("/cas/forgot?service={}", enc(SERVICE)))
        .await;
    for label in ["忘记密码", "请输入学号/工号", "下一步", "captcha.html"] {
        assert!(first.body.contains(label), "{label}");
    }
    let step2 = start(&t, &mut c, "ALICE", &format!("?service={}", enc(SERVICE))).await;
    for label in [
        "您可以通过以下方式安全验证",
        "手机号验证",
        "请输入你绑定的手机号",
        "如果没有绑定邮箱、手机或没有预设问题，请联系管理员",
    ] {
        assert!(step2.body.contains(label), "{label}");
    }
    assert!(
        !step2.body.contains("邮箱验证") && !step2.body.contains(">密保问题<"),
        "only what alice has"
    );
    let sent = verify(
        &mut c,
        &step2,
        &[
            ("method", "phone"),
            ("action", "send"),
            ("phone", "13800138000"),
        ],
    )
    .await;
    assert_eq!(sent.status, 200);
    assert!(
        sent.body.contains("验证码已发送至 138****8000"),
        "{}",
        sent.body
    );
    let code = t.sms_code("13800138000").await.unwrap();
    let verified = verify(
        &mut c,
        &sent,
        &[
            ("method", "phone"),
            ("action", "verify"),
            ("phone", "13800138000"),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(verified.status, 303);
    let step3 = c.get("/cas/forgot").await;
    assert!(step3.body.contains("请设置帐号 alice 的密码") && step3.body.contains("密码规则"));
    let weak = set_password(&mut c, &step3, "abc").await;
    assert_eq!(weak.status, 400);
    assert!(weak.body.contains("新密码不符合"));
    let done = set_password(&mut c, &weak, NEW).await;
    assert_eq!(done.status, 303);
    assert_eq!(
        done.location(),
        format!("/cas/forgot/done?service={}", enc(SERVICE))
    );
    assert!(
        done.set_cookie("CASTGC").is_none(),
        "the reset itself logs nobody in"
    );
    let page = c.get(done.location()).await;
    let login = format!("/cas/login?service={}", enc(SERVICE));
    assert!(page.body.contains("密码找回成功") && page.body.contains("去登录"));
    assert!(
        page.body.contains(&format!("content=\"3;url={login}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("正在前往3s"));

    // Spent: a replay of the last step changes nothing.
    let replay = set_password(&mut c, &step3, "Other-Pass-2027").await;
    assert_eq!(replay.status, 403);
    assert!(replay.body.contains("找回密码已超时或已完成"));
    assert_eq!(t.client().login("alice", NEW, None).await.status, 303);
    assert_eq!(t.client().login("alice", PASSWORD, None).await.status, 401);
    let there = elsewhere
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await;
    assert_eq!(there.status, 200, "the other session ended");
    let told = notices(&t, "+8613800138000").await;
    assert!(
        told.len() == 1 && told[0].contains("密码已通过找回密码重置"),
        "{told:?}"
    );
    let events: Vec<String> = t
        .server
        .store
        .recent_audit(Some("alice"), 20)
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {}", r.event, r.detail))
        .collect();
    for e in [
        "recovery_started captcha solved",
        "recovery_verified phone",
        "password_changed recovery",
    ] {
        assert!(events.iter().any(|x| x == e), "{e} in {events:?}");
    }
}

/// docs/security.md E04: a name that is no account, and a number that is not the account's, get
/// the same pages and answers as the real thing; nothing is sent; and a name's methods stay
/// the same when asked again.
#[tokio::test]
async fn unknown_names_and_wrong_numbers_look_like_the_real_thing() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "+8613800138000");
    // A name that is no account and (by its key-derived methods) offers the phone, as alice.
    let mut ghost = None;
    for n in 0..40 {
        let name = format!("zz{n:04}");
        let mut c = t.client();
        let step2 = start(&t, &mut c, &name, "").await;
        if step2.body.contains("手机号验证")
            && !step2.body.contains("邮箱验证")
            && !step2.body.contains(">密保问题<")
        {
            ghost = Some((name, c, step2));
            break;
        }
    }
    let (name, mut g, ghost_step) = ghost.expect("some names look like phone-only accounts");
    let mut a = t.client();
    let alice_step = start(&t, &mut a, "alice", "").await;
    // Alike but for the form's token and the name typed, which step 2 shows back.
    let strip = |r: &Resp, typed: &str| {
        r.body
            .replace(&r.input("execution").unwrap_or_default(), "")
            .replace(&format!("<strong>{typed}</strong>"), "")
    };
    assert_eq!(strip(&ghost_step, &name), strip(&alice_step, "alice"));

    let ask = [
        ("method", "phone"),
        ("action", "send"),
        ("phone", "13900139000"),
    ];
    let ghost_sent = verify(&mut g, &ghost_step, &ask).await;
    t.clock().advance(61); // the same number again: past its resend wait
    let alice_sent = verify(&mut a, &alice_step, &ask).await;
    assert_eq!(
        (ghost_sent.status, strip(&ghost_sent, &name)),
        (alice_sent.status, strip(&alice_sent, "alice"))
    );
    assert!(alice_sent.body.contains("验证码已发送至 139****9000"));
    let check = [
        ("method", "phone"),
        ("action", "verify"),
        ("phone", "13900139000"),
        ("code", "123456"),
    ];
    let ghost_wrong = verify(&mut g, &ghost_sent, &check).await;
    let alice_wrong = verify(&mut a, &alice_sent, &check).await;
    assert_eq!(
        (ghost_wrong.status, strip(&ghost_wrong, &name)),
        (alice_wrong.status, strip(&alice_wrong, "alice"))
    );
    assert!(alice_wrong.body.contains("验证码错误或已失效"));
    t.settle_messages().await;
    let rows = t.server.store.outbox("sms", None, 10).unwrap();
    assert_eq!(rows.len(), 2, "both counted against the limits");
    assert!(
        rows.iter()
            .all(|r| r.result == "not sent (no such binding)"),
        "nothing sent"
    );

    // The same name again: the same methods.
    let mut again = t.client();
    let second = start(&t, &mut again, &name, "").await;
    assert_eq!(strip(&second, &name), strip(&ghost_step, &name));
}

/// docs/security.md H02, H03, H04: no step can be skipped, the account comes from the server's
/// state, a wrong captcha starts nothing, and a recovery ends after 15 minutes.
#[tokio::test]
async fn no_step_can_be_skipped_or_stretched() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "+8613800138000");
    t.add_user("bob", "Tea-Kettle-2026", false, &[]);
    let mut c = t.client();
    let page = c.get("/cas/forgot").await;
    let wrong_captcha = c
        .post(
            "/cas/forgot",
            &[
                ("execution", &page.input("execution").unwrap()),
                ("username", "alice"),
                ("captcha", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong_captcha.status, 401);
    assert!(wrong_captcha.set_cookie("UNICAS_RECOVERY").is_none());

    let step2 = start(&t, &mut c, "alice", "").await;
    let token = step2.input("execution").unwrap();
    let early = c
        .post(
            "/cas/forgot/password",
            &[
                ("execution", &token),
                ("newPassword", NEW),
                ("confirmPassword", NEW),
            ],
        )
        .await;
    assert_eq!(early.status, 403, "no new password before step 2");
    let not_offered = verify(
        &mut c,
        &step2,
        &[("method", "email"), ("action", "send"), ("email", "a@b.cn")],
    )
    .await;
    assert_eq!(not_offered.status, 400);
    // A code sent for binding is no recovery code (docs/security.md G07).
    let sent = verify(
        &mut c,
        &step2,
        &[
            ("method", "phone"),
            ("action", "send"),
            ("phone", "13800138000"),
        ],
    )
    .await;
    let code = t.sms_code("13800138000").await.unwrap();
    let done = verify(
        &mut c,
        &sent,
        &[
            ("method", "phone"),
            ("action", "verify"),
            ("phone", "13800138000"),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(done.status, 303);
    // A field naming bob changes nothing: the account is the recovery's.
    let step3 = c.get("/cas/forgot").await;
    let res = c
        .post(
            "/cas/forgot/password",
            &[
                ("execution", &step3.input("execution").unwrap()),
                ("username", "bob"),
                ("account", "bob"),
                ("newPassword", NEW),
                ("confirmPassword", NEW),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        t.client()
            .login("bob", "Tea-Kettle-2026", None)
            .await
            .status,
        303
    );
    assert_eq!(t.client().login("alice", NEW, None).await.status, 303);

    // Verified, then 15 minutes pass: the recovery is gone.
    let mut late = t.client();
    let step2 = start(&t, &mut late, "alice", "").await;
    t.clock().advance(61);
    let sent = verify(
        &mut late,
        &step2,
        &[
            ("method", "phone"),
            ("action", "send"),
            ("phone", "13800138000"),
        ],
    )
    .await;
    let code = t.sms_code("13800138000").await.unwrap();
    verify(
        &mut late,
        &sent,
        &[
            ("method", "phone"),
            ("action", "verify"),
            ("phone", "13800138000"),
            ("code", &code),
        ],
    )
    .await;
    let step3 = late.get("/cas/forgot").await;
    assert!(step3.body.contains("请设置帐号 alice 的密码"));
    t.clock().advance(15 * 60);
    let expired = set_password(&mut late, &step3, "Later-Pass-2028").await;
    assert_eq!(expired.status, 403);
    assert!(expired.body.contains("找回密码已超时或已完成"));
    assert_eq!(t.client().login("alice", NEW, None).await.status, 303);
}

/// Issue "Self-service": 邮箱验证 and the security questions (answers compared without
/// case, width or spaces; five wrong sets end the recovery).
#[tokio::test]
async fn by_e_mail_and_by_security_questions() {
    let t = TestServer::start().await;
    t.bind("alice", "email", "alice@example.edu");
    let hash = |a: &str| hash_now(&normalize_answer(a), 4).unwrap();
    let set = vec![
        ("mother".to_string(), hash("Wang Fang")),
        ("pet".to_string(), hash("旺财")),
    ];
    let record = AuditRecord::system(AuditEvent::SecurityQuestionsSet { count: 2 }, Some("alice"));
    t.server
        .store
        .set_questions("alice", &set, &record, t.clock().now())
        .unwrap();

    let mut c = t.client();
    let step2 = start(&t, &mut c, "alice", "").await;
    assert!(step2.body.contains("邮箱验证") && step2.body.contains("密保问题"));
    assert!(!step2.body.contains("手机号验证"));
    let by_mail = c.get("/cas/forgot?method=email").await;
    assert!(by_mail.body.contains("请输入你绑定的邮箱"));
    let sent = verify(
        &mut c,
        &by_mail,
        &[
            ("method", "email"),
            ("action", "send"),
            ("email", "ALICE@example.edu"),
        ],
    )
    .await;
    assert!(
        sent.body.contains("验证码已发送至 a***@example.edu"),
        "{}",
        sent.body
    );
    let to = Recipient::Email(Email::parse("alice@example.edu").unwrap());
    let code = t.delivered("email", &to).await.unwrap();
    let done = verify(
        &mut c,
        &sent,
        &[
            ("method", "email"),
            ("action", "verify"),
            ("email", "alice@example.edu"),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(done.status, 303);
    assert!(c
        .get("/cas/forgot")
        .await
        .body
        .contains("请设置帐号 alice 的密码"));

    let mut q = t.client();
    start(&t, &mut q, "alice", "").await;
    let by_questions = q.get("/cas/forgot?method=questions").await;
    assert!(
        by_questions.body.contains("您母亲的姓名是？")
            && by_questions.body.contains("您的第一只宠物叫什么？")
    );
    let mut page = by_questions;
    for _ in 0..4 {
        page = verify(
            &mut q,
            &page,
            &[
                ("method", "questions"),
                ("answer1", "wang fang"),
                ("answer2", "来福"),
            ],
        )
        .await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("答案不正确"));
    }
    let right = verify(
        &mut q,
        &page,
        &[
            ("method", "questions"),
            ("answer1", "ＷＡＮＧ　fang"),
            ("answer2", " 旺财 "),
        ],
    )
    .await;
    assert_eq!(right.status, 303, "{}", right.body);

    let mut r = t.client();
    start(&t, &mut r, "alice", "").await;
    let mut page = r.get("/cas/forgot?method=questions").await;
    for n in 0..5 {
        page = verify(
            &mut r,
            &page,
            &[("method", "questions"), ("answer1", "x"), ("answer2", "y")],
        )
        .await;
        if n < 4 {
            assert!(page.body.contains("答案不正确"));
        }
    }
    assert!(
        page.body.contains("找回密码已超时或已完成"),
        "five wrong sets end it"
    );
    let audit = t.server.store.recent_audit(Some("alice"), 50).unwrap();
    assert!(audit
        .iter()
        .any(|r| r.event == "recovery_failed" && r.detail == "questions"));
}

/// Issue "Self-service": with nothing bound the page says whom to ask, and offers nothing.
#[tokio::test]
async fn with_nothing_bound_the_administrator_is_the_way() {
    let t = TestServer::start_with(|c| {
        c.recovery.contact = "请携带校园卡到信息中心（图书馆 201）办理。".into()
    })
    .await;
    let mut c = t.client();
    let step2 = start(&t, &mut c, "alice", "").await;
    assert!(step2
        .body
        .contains("请携带校园卡到信息中心（图书馆 201）办理。"));
    assert!(!step2.body.contains("name=\"method\""));
    assert!(
        step2.body.contains("/cas/help"),
        "the desk's hours are one link away"
    );
}

/// Issue "Day one", found by a walk in Chromium: a mistyped account at step 1 held the
/// browser at step 2 for the recovery's lifetime. Step 2 names the account and offers
/// 换一个账号; the login page's 忘记密码 (which keeps the application) starts afresh too.
#[tokio::test]
async fn a_mistyped_account_can_be_changed() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "13800138000");
    let mut c = t.client();
    let wrong = start(&t, &mut c, "alcie", &format!("?service={}", enc(SERVICE))).await;
    assert!(wrong.body.contains("找回账号：") && wrong.body.contains("<strong>alcie</strong>"));
    assert!(wrong.body.contains("换一个账号"), "{}", wrong.body);
    // Without the way out, /forgot keeps showing the same account.
    assert!(c
        .get("/cas/forgot")
        .await
        .body
        .contains("<strong>alcie</strong>"));
    let login = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
    let link = format!("/cas/forgot?again=1&amp;service={}", enc(SERVICE));
    assert!(login.body.contains(&link), "{}", login.body);
    let again = c
        .get(&format!("/cas/forgot?again=1&service={}", enc(SERVICE)))
        .await;
    assert!(again.body.contains("name=\"username\""), "{}", again.body);
    assert!(again
        .set_cookie("UNICAS_RECOVERY")
        .is_some_and(|v| v.contains("Max-Age=0")));
    let right = start(&t, &mut c, "alice", &format!("?service={}", enc(SERVICE))).await;
    assert!(
        right.body.contains("<strong>alice</strong>"),
        "{}",
        right.body
    );
    // 返回登录 keeps the application.
    let back = format!("/cas/login?service={}", enc(SERVICE));
    assert!(right.body.contains(&back), "{}", right.body);
}

/// Issue "Self-service", docs/security.md H10: `user reset-password` sets a random temporary
/// password, shown once, that must be changed at the next login; sessions end.
#[tokio::test]
async fn an_administrator_resets_a_password() {
    let t = TestServer::start().await;
    let mut before = t.client();
    before.login("alice", PASSWORD, None).await;
    let (ok, out, err) = unicas(&t.config.db, &["user", "reset-password", "ALICE"]);
    assert!(ok, "{err}");
    let temporary = out
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("temporary password for alice: "))
        .expect("the password, once")
        .to_string();
    assert_eq!(temporary.len(), 14);
    let (_, again, _) = unicas(&t.config.db, &["user", "reset-password", "alice"]);
    assert!(!again.contains(&temporary), "a new one each time");
    let temporary = again
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let steps = t.client().login("alice", &temporary, Some(SERVICE)).await;
    assert_eq!(steps.status, 200);
    assert!(
        steps.body.contains("name=\"newPassword\""),
        "it must be changed"
    );
    // The command line is another process: the server sees its change once what it
    // remembers of the session (two seconds, sessions/memory.rs) is past.
    t.clock().advance(3);
    let gone = before
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await;
    assert_eq!(gone.status, 200, "sessions ended");
    assert!(unicas(&t.config.db, &["user", "show", "alice"])
        .1
        .contains("must_change: true"));
    let (ok, _, err) = unicas(&t.config.db, &["user", "reset-password", "nobody"]);
    assert!(!ok && err.contains("no account"));
}

/// docs/security.md M02: a recovery past its proof is over once the account is locked (or its
/// password set elsewhere): the new password is refused and nothing changes.
#[tokio::test]
async fn a_recovery_ends_when_the_account_is_locked_mid_way() {
    let t = TestServer::start().await;
    t.add_user("bob", PASSWORD, false, &[]);
    t.bind("bob", "phone", "+8613800138000");
    let mut c = t.client();
    let step2 = start(&t, &mut c, "bob", "").await;
    let send = [
        ("method", "phone"),
        ("action", "send"),
        ("phone", "13800138000"),
    ];
    let sent = verify(&mut c, &step2, &send).await;
    let code = t.sms_code("13800138000").await.unwrap();
    let check = [
        ("method", "phone"),
        ("action", "verify"),
        ("phone", "13800138000"),
        ("code", code.as_str()),
    ];
    assert_eq!(verify(&mut c, &sent, &check).await.status, 303);
    let page = c.get("/cas/forgot").await;
    assert!(page.body.contains("请设置帐号 bob 的密码"));
    let token = page.input("execution").unwrap();
    let now = t.clock().now();
    assert!(t
        .server
        .store
        .set_status("bob", unicas::model::Status::Locked, now)
        .unwrap());
    let res = c
        .post(
            "/cas/forgot/password",
            &[
                ("execution", token.as_str()),
                ("newPassword", "Fresh-Start-2026"),
                ("confirmPassword", "Fresh-Start-2026"),
            ],
        )
        .await;
    assert_ne!(res.status, 303, "{}", res.body);
    assert!(res.body.contains("找回密码已超时或已完成"), "{}", res.body);
    let hash = t
        .server
        .store
        .account("bob")
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(
        bcrypt::verify(PASSWORD, &hash).unwrap(),
        "the password stands"
    );
}

/// docs/security.md M12, found by an outsider's attack: a phone an administrator unbinds (lost
/// or stolen) cannot finish a recovery begun with it: the recovery ends, its code is void.
#[tokio::test]
async fn an_unbound_phone_cannot_finish_its_recovery() {
    let t = TestServer::start().await;
    t.add_user("bob", PASSWORD, false, &[]);
    t.bind("bob", "phone", "+8613800138000");
    let mut c = t.client();
    let step2 = start(&t, &mut c, "bob", "").await;
    let send = [
        ("method", "phone"),
        ("action", "send"),
        ("phone", "13800138000"),
    ];
    let sent = verify(&mut c, &step2, &send).await;
    let code = t.sms_code("13800138000").await.unwrap();
    let now = t.clock().now();
    let by = unicas::accounts::admin::By::CommandLine;
    let kind = unicas::accounts::admin::BindingKind::Phone;
    unicas::accounts::admin::unbind(&t.server.store, &by, "bob", kind, now).unwrap();
    let check = [
        ("method", "phone"),
        ("action", "verify"),
        ("phone", "13800138000"),
        ("code", code.as_str()),
    ];
    let res = verify(&mut c, &sent, &check).await;
    assert_ne!(res.status, 303, "{}", res.body);
    assert!(!c
        .get("/cas/forgot")
        .await
        .body
        .contains("请设置帐号 bob 的密码"));
}

/// docs/security.md M13, found by an outsider's attack: the recovery cookie alone, planted in
/// or copied to another browser, is no recovery: it belongs to the browser that began it.
#[tokio::test]
async fn a_recovery_cookie_alone_is_no_recovery() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "13800138000");
    let mut c = t.client();
    let step2 = start(&t, &mut c, "alice", "").await;
    assert!(step2.body.contains("<strong>alice</strong>"));
    let mut other = t.client();
    let cookie = c.jar.get("UNICAS_RECOVERY").unwrap().clone();
    other.jar.insert("UNICAS_RECOVERY".into(), cookie);
    let page = other.get("/cas/forgot").await;
    assert!(
        !page.body.contains("<strong>alice</strong>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("name=\"username\""),
        "step 1: {}",
        page.body
    );
    let forged = [
        ("execution", step2.input("execution").unwrap()),
        ("method", "phone".into()),
        ("action", "send".into()),
        ("phone", "13800138000".into()),
    ];
    let sent = other.post_owned("/cas/forgot/verify", &forged).await;
    assert_eq!(sent.status, 403, "{}", sent.body);
    // The browser that began it goes on.
    assert!(c
        .get("/cas/forgot")
        .await
        .body
        .contains("<strong>alice</strong>"));
}

/// docs/security.md M05: a stranger's sends in alice's recovery to numbers she does not own fall
/// on the stranger's addresses and the numbers, never on alice: her own recovery code
/// still arrives after them, and the code she has stays live.
#[tokio::test]
async fn strangers_sends_neither_use_up_nor_void_an_accounts_codes() {
    let t = TestServer::start_with(|c| c.sms.per_account_day = 3).await;
    t.bind("alice", "phone", "+8613800138000");
    let send_to = |phone: &'static str| [("method", "phone"), ("action", "send"), ("phone", phone)];
    let mut alice = t.client_from("127.0.0.40");
    let step2 = start(&t, &mut alice, "alice", "").await;
    let sent = verify(&mut alice, &step2, &send_to("13800138000")).await;
    assert!(sent.body.contains("验证码已发送至"));
    let code = t.sms_code("13800138000").await.unwrap();
    for n in 0..6 {
        let mut stranger = t.client_from(&format!("127.0.0.{}", 50 + n));
        let step2 = start(&t, &mut stranger, "alice", "").await;
        let numbers = [
            "13900000001",
            "13900000002",
            "13900000003",
            "13900000004",
            "13900000005",
            "13900000006",
        ];
        let res = verify(&mut stranger, &step2, &send_to(numbers[n])).await;
        assert!(res.body.contains("验证码已发送至"), "{}", res.body);
    }
    // Her code from before still works.
    let check = [
        ("method", "phone"),
        ("action", "verify"),
        ("phone", "13800138000"),
        ("code", code.as_str()),
    ];
    assert_eq!(verify(&mut alice, &sent, &check).await.status, 303);
    // And a new one still comes, tomorrow's budget untouched by the strangers.
    t.clock().advance(61);
    let mut again = t.client_from("127.0.0.41");
    let step2 = start(&t, &mut again, "alice", "").await;
    let res = verify(&mut again, &step2, &send_to("13800138000")).await;
    assert!(res.body.contains("验证码已发送至"), "{}", res.body);
    t.settle_messages().await;
    let sent_to_her = t
        .server
        .store
        .outbox(
            "sms",
            Some(&t.server.store.keys().lookup("phone", "+8613800138000")),
            10,
        )
        .unwrap()
        .into_iter()
        .filter(|r| r.result == "sent")
        .count();
    assert_eq!(sent_to_her, 2);
}

/// Issue 24, item 5: a mistyped number, then the right one at once: the right one gets its
/// code without waiting (the wait is per number), the page names the number the code went
/// to, and the code is checked against it even if the field was edited since.
/// docs/security.md E04, G01
#[tokio::test]
async fn a_mistyped_number_corrected_gets_its_code_at_once() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "+8613800138000");
    let mut c = t.client();
    let step2 = start(&t, &mut c, "alice", "").await;
    let send = |phone: &'static str| [("method", "phone"), ("action", "send"), ("phone", phone)];
    let mistyped = verify(&mut c, &step2, &send("13800138001")).await;
    assert!(mistyped.body.contains("验证码已发送至 138****8001"));
    let corrected = verify(&mut c, &mistyped, &send("13800138000")).await;
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    assert!(
        corrected.body.contains("验证码已发送至 138****8000"),
        "{}",
        corrected.body
    );
    let code = t.sms_code("13800138000").await.unwrap();
    // The field edited back to the wrong number: the page still names where the code went.
    let wrong = verify(
        &mut c,
        &corrected,
        &[
            ("method", "phone"),
            ("action", "verify"),
            ("phone", "13800138001"),
            ("code", "000000"),
        ],
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("验证码已发送至 138****8000")
            && !wrong.body.contains("已发送至 138****8001"),
        "{}",
        wrong.body
    );
    let verified = verify(
        &mut c,
        &wrong,
        &[
            ("method", "phone"),
            ("action", "verify"),
            ("phone", "13800138001"),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(verified.status, 303, "{}", verified.body);
}
