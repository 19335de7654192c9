//! The first login as the school's manual describes it: the initial password from the
//! roster, the forced change, the phone bound with an SMS code, "我已完成", and on to the
//! service; every way of skipping it; resuming; the initial password's budget and expiry.

use crate::support::*;

const PHONE: &str = "13800138000";
const NEW: &str = "New-Pass-2026";

fn login_path(service: &str) -> String {
    format!("/cas/login?service={}", enc(service))
}

/// The token of the steps page.
fn token(page: &Resp) -> String {
    page.input("execution").expect("the steps page's token")
}

async fn change(c: &mut Client, token: &str, current: &str) -> Resp {
    c.post(
        "/cas/login/first/password",
        &[
            ("execution", token),
            ("password", current),
            ("newPassword", NEW),
            ("confirmPassword", NEW),
        ],
    )
    .await
}

/// docs/security.md H08; the manual's 1.1: 修改密码, 绑定 (获取验证码, 确定绑定), 我已完成.
#[tokio::test]
async fn the_whole_first_login_as_the_manual_describes_it() {
    let t = TestServer::start().await;
    t.add_imported("20240001", "31002X");
    let mut c = t.client();
    let steps = c.login("20240001", "31002X", Some(SERVICE)).await;
    assert_eq!(steps.status, 200);
    assert!(steps.set_cookie("CASTGC").is_none());
    for label in [
        "首次登录",
        "修改密码",
        "绑定手机",
        "我已完成",
        "注：手机绑定为必填项。",
        "请先修改密码",
    ] {
        assert!(steps.body.contains(label), "{label}");
    }
    let token = token(&steps);
    assert_eq!(change(&mut c, &token, "31002X").await.status, 303);
    let page = c.get("/cas/login/first").await;
    assert!(page.body.contains("name=\"phone\"") && page.body.contains("获取验证码"));
    assert!(page.body.contains("修改密码<span class=\"done\"> ✓ 已完成"));
    let sent = c.send_phone_code(&token, "+86 138 0013 8000").await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains("验证码已发送至 138****8000"));
    assert!(sent.body.contains("data-countdown=\"60\""));
    assert!(sent.body.contains("name=\"code\"") && sent.body.contains("确定绑定"));
    let code = t
        .sms_code(PHONE)
        .await
        .expect("the log provider kept the text");
    assert_eq!(c.bind_phone(&token, &code).await.status, 303);
    let page = c.get("/cas/login/first").await;
    assert!(page.body.contains("已绑定 138****8000"));
    let done = c
        .post("/cas/login/first/done", &[("execution", &token)])
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    let res = c
        .get(&validate_path("serviceValidate", SERVICE, &done.ticket()))
        .await;
    let (user, attrs) = parse_cas(&res.body).unwrap();
    assert_eq!(user, "20240001");
    assert!(
        attrs.contains(&("mobile".into(), PHONE.into())),
        "the bound number is released"
    );
    assert!(c.jar.contains_key("CASTGC") && !c.jar.contains_key("UNICAS_PENDING"));
    // Next time: straight in with the new password.
    assert_eq!(
        t.client()
            .login("20240001", NEW, Some(SERVICE))
            .await
            .status,
        302
    );
    let account = t.server.store.account("20240001").unwrap().unwrap();
    assert!(!account.initial_password && !account.must_change);
    let audit = t.server.store.recent_audit(Some("20240001"), 20).unwrap();
    for event in [
        "password_changed",
        "code_sent",
        "phone_bound",
        "login_success",
    ] {
        assert!(audit.iter().any(|r| r.event == event), "{event}");
    }
    // In English too.
    let mut en = t.client();
    t.add_imported("20240002", "31002X");
    let steps = en.login("20240002", "31002X", None).await;
    let page = en.get("/cas/login/first?lang=en").await;
    assert!(
        steps.status == 200 && page.body.contains("First login") && page.body.contains("I'm done")
    );
}

/// docs/security.md H08, D03: no way round the steps: another service, the form's token from
/// another browser, the phone before the password, 我已完成 too early, direct URLs.
#[tokio::test]
async fn nothing_skips_the_steps() {
    let t = TestServer::start().await;
    t.add_imported("20240001", "31002X");
    let mut c = t.client();
    let steps = c.login("20240001", "31002X", Some(SERVICE)).await;
    let token = token(&steps);
    // No session yet: any service asks for the login again.
    assert_eq!(c.get(&login_path(SERVICE)).await.status, 200);
    assert!(!c.jar.contains_key("CASTGC"));
    // The phone step before the password step, and 我已完成 before either.
    assert_eq!(c.send_phone_code(&token, PHONE).await.status, 403);
    let early = c
        .post("/cas/login/first/done", &[("execution", &token)])
        .await;
    assert_eq!(early.status, 400);
    assert!(early.body.contains("请先完成以上步骤"));
    // Another browser with the token but not the cookie; this browser with a wrong token.
    let mut other = t.client();
    assert_eq!(change(&mut other, &token, "31002X").await.status, 403);
    assert_eq!(change(&mut c, "PL-forged", "31002X").await.status, 403);
    assert_eq!(other.get("/cas/login/first").await.status, 403);
    assert_eq!(change(&mut c, &token, "31002X").await.status, 303);
    let early = c
        .post("/cas/login/first/done", &[("execution", &token)])
        .await;
    assert_eq!(early.status, 400, "the phone is still missing");
    // Someone else's SSO session in the same browser gives tickets for that someone only.
    let mut alice = t.client();
    alice.login("alice", PASSWORD, None).await;
    c.jar.insert("CASTGC".into(), alice.jar["CASTGC"].clone());
    let ticket = c.get(&login_path(SERVICE)).await.ticket();
    let res = c
        .get(&validate_path("serviceValidate", SERVICE, &ticket))
        .await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
}

#[tokio::test]
async fn leaving_half_way_resumes_where_it_stopped() {
    let t = TestServer::start().await;
    t.add_imported("20240001", "31002X");
    let mut c = t.client();
    let steps = c.login("20240001", "31002X", Some(SERVICE)).await;
    assert_eq!(change(&mut c, &token(&steps), "31002X").await.status, 303);
    // Gone; back with the new password: only the phone is left.
    let mut back = t.client();
    let steps = back.login("20240001", NEW, Some(SERVICE)).await;
    assert_eq!(steps.status, 200);
    assert!(steps.body.contains("✓ 已完成") && steps.body.contains("name=\"phone\""));
    assert!(back
        .send_phone_code(&token(&steps), PHONE)
        .await
        .body
        .contains("验证码已发送至"));
    // Gone again with a code on its way; back once more: the code still works.
    let mut again = t.client();
    let steps = again.login("20240001", NEW, Some(SERVICE)).await;
    assert!(
        steps.body.contains("验证码已发送至 138****8000"),
        "{}",
        steps.body
    );
    let code = t.sms_code(PHONE).await.unwrap();
    let token = token(&steps);
    let bound = again
        .post(
            "/cas/login/first/phone",
            &[
                ("execution", token.as_str()),
                ("action", "bind"),
                ("code", code.as_str()),
            ],
        )
        .await;
    assert_eq!(bound.status, 303, "{}", bound.body);
    let done = again
        .post("/cas/login/first/done", &[("execution", &token)])
        .await;
    assert_eq!(done.status, 302);
}

/// Issue "First login": a password that fails today's policy forces the change at login,
/// even for an account without the flag; such an account is not asked for a phone.
#[tokio::test]
async fn a_password_that_fails_the_policy_forces_a_change() {
    let t = TestServer::start().await;
    t.add_user("weak", "abcdefgh", false, &[]);
    let mut c = t.client();
    let steps = c.login("weak", "abcdefgh", Some(SERVICE)).await;
    assert_eq!(steps.status, 200);
    assert!(steps.body.contains("修改密码") && !steps.body.contains("注：手机绑定为必填项"));
    let done = c.change_initial_password(&steps, "abcdefgh", NEW).await;
    assert_eq!(done.status, 302);
}

/// Issue "First login": `user add` accounts are not interrupted, `--phone` is a verified
/// binding, `--must-bind-phone` asks for one.
#[tokio::test]
async fn accounts_are_asked_for_a_phone_only_when_they_must() {
    let t = TestServer::start().await;
    let db = t.config.db.clone();
    let (plain, flagged) = tokio::task::spawn_blocking(move || {
        let a = unicas(
            &db,
            &[
                "user",
                "add",
                "t1",
                "--name",
                "T",
                "--password",
                "Staff-Pass-2026",
                "--kind",
                "staff",
                "--phone",
                "13900139000",
            ],
        );
        let b = unicas(
            &db,
            &[
                "user",
                "add",
                "t2",
                "--name",
                "T",
                "--password",
                "Staff-Pass-2026",
                "--must-bind-phone",
            ],
        );
        let show = unicas(&db, &["user", "show", "t1"]).1;
        (a.0 && show.contains("bound_phone: 139****9000"), b.0)
    })
    .await
    .unwrap();
    assert!(plain && flagged);
    assert_eq!(
        t.client()
            .login("t1", "Staff-Pass-2026", Some(SERVICE))
            .await
            .status,
        302
    );
    let steps = t
        .client()
        .login("t2", "Staff-Pass-2026", Some(SERVICE))
        .await;
    assert_eq!(steps.status, 200);
    assert!(steps.body.contains("name=\"phone\"") && !steps.body.contains("name=\"newPassword\""));
}

/// docs/security.md F07, §1.8: an initial password is guessable, so the account has 20 failures
/// a day from anywhere, an audit row when they are spent, and the password expires.
#[tokio::test]
async fn initial_passwords_have_a_daily_budget_and_expire() {
    let t = TestServer::start_with(|c| c.throttle.captcha_after = 0).await;
    t.add_imported("20240001", "31002X");
    // Four wrong guesses from each of five addresses: no pair lock, the daily budget spent,
    // even with the housekeeping's sweep of short-lived counters run half way.
    for ip in 2..7 {
        for _ in 0..4 {
            let res = t
                .client_from(&format!("127.0.0.{ip}"))
                .login("20240001", "000000", None)
                .await;
            assert_eq!(res.status, 401);
        }
        if ip == 3 {
            t.clock().advance(20 * 60);
            t.server.sweep().await;
        }
    }
    let res = t
        .client_from("127.0.0.9")
        .login("20240001", "31002X", None)
        .await;
    assert_eq!(res.status, 423, "20 guesses today, from anywhere");
    let audit = t.server.store.recent_audit(Some("20240001"), 50).unwrap();
    assert!(audit.iter().any(|r| r.event == "initial_password_locked"));
    // Tomorrow it may try again.
    t.clock().advance(86_401);
    let res = t
        .client_from("127.0.0.9")
        .login("20240001", "31002X", None)
        .await;
    assert_eq!(res.status, 200, "the steps page");
    // After 90 days the initial password is no credential: answered like a wrong one.
    t.clock().advance(90 * 86_400);
    let res = t
        .client_from("127.0.0.10")
        .login("20240001", "31002X", None)
        .await;
    assert_eq!(res.status, 401);
    let audit = t.server.store.recent_audit(Some("20240001"), 5).unwrap();
    assert_eq!(audit[0].detail, "initial password expired");
}

/// docs/security.md E05: whether a number is bound elsewhere shows only after its code proved
/// it belongs to whoever asks, with a clear message then.
#[tokio::test]
async fn a_number_bound_to_another_account_is_refused_after_its_code() {
    let t = TestServer::start().await;
    t.add_imported("20240001", "31002X");
    let record =
        unicas::model::AuditRecord::system(unicas::model::AuditEvent::AccountUnlocked, None);
    t.server
        .store
        .bind("alice", "phone", "+8613800138000", &record, t.clock().now())
        .unwrap();
    let mut c = t.client();
    let steps = c.login("20240001", "31002X", None).await;
    let token = token(&steps);
    change(&mut c, &token, "31002X").await;
    let sent = c.send_phone_code(&token, PHONE).await;
    assert_eq!(sent.status, 200, "the same answer as for a free number");
    let code = t.sms_code(PHONE).await.unwrap();
    let refused = c.bind_phone(&token, &code).await;
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains("该手机号已绑定其他账号"));
    assert!(t
        .server
        .store
        .binding("20240001", "phone")
        .unwrap()
        .is_none());
}

/// docs/security.md M02: a first login paused at its steps ends when the account is locked, its
/// password set or reset by an administrator, or its sessions ended ("user logout"): no
/// step is taken after, and no session comes of it.
#[tokio::test]
async fn a_paused_first_login_ends_with_a_lock_a_reset_or_a_logout() {
    let t = TestServer::start().await;
    let store = &t.server.store;
    for (n, what) in ["lock", "logout", "password set", "reset"]
        .iter()
        .enumerate()
    {
        let id = format!("2024100{n}");
        t.add_imported(&id, "31002X");
        let mut c = t.client();
        let steps = c.login(&id, "31002X", Some(SERVICE)).await;
        assert_eq!(steps.status, 200, "{what}");
        let token = token(&steps);
        // The password step done before the action: it moved the generation itself.
        assert_eq!(change(&mut c, &token, "31002X").await.status, 303, "{what}");
        let now = t.clock().now();
        match *what {
            "lock" => assert!(store
                .set_status(&id, unicas::model::Status::Locked, now)
                .unwrap()),
            "logout" => assert!(store
                .delete_sessions_of(&id, None, None, now)
                .unwrap()
                .is_some()),
            "password set" => assert!(
                unicas(
                    &t.config.db,
                    &["user", "passwd", &id, "--password", "Admin-Set-2026"]
                )
                .0
            ),
            _ => assert!(unicas(&t.config.db, &["user", "reset-password", &id]).0),
        }
        let after = c.send_phone_code(&token, PHONE).await;
        assert_eq!(after.status, 403, "{what}: the phone step after it");
        let done = c
            .post("/cas/login/first/done", &[("execution", token.as_str())])
            .await;
        assert_eq!(done.status, 403, "{what}: 我已完成 after it");
        assert!(done.set_cookie("CASTGC").is_none(), "{what}");
        assert_eq!(c.get("/cas/login/first").await.status, 403, "{what}");
        assert_eq!(c.get("/cas/portal").await.status, 302, "{what}: no portal");
    }
}

/// docs/security.md M02: the pause lasts 30 minutes from the login, whatever is posted in it.
#[tokio::test]
async fn posts_do_not_extend_a_paused_first_login() {
    let t = TestServer::start().await;
    t.add_imported("20240001", "31002X");
    let mut c = t.client();
    let steps = c.login("20240001", "31002X", Some(SERVICE)).await;
    let token = token(&steps);
    for _ in 0..3 {
        t.clock().advance(590);
        // A refused change is still a post into the pause.
        let refused = c
            .post(
                "/cas/login/first/password",
                &[
                    ("execution", token.as_str()),
                    ("password", "31002X"),
                    ("newPassword", "short"),
                    ("confirmPassword", "short"),
                ],
            )
            .await;
        assert_eq!(refused.status, 400);
    }
    t.clock().advance(60);
    assert_eq!(change(&mut c, &token, "31002X").await.status, 403);
}

/// docs/security.md M02: a password change that began before an administrator's logout,
/// reset or lock (its bcrypt still running) is not written over it: the store sets a
/// password only at the generation the change read. Found by an attack that raced
/// `unicas user logout` against the first-login password step.
#[tokio::test]
async fn a_change_begun_before_an_administrators_action_loses_to_it() {
    let t = TestServer::start().await;
    let store = &t.server.store;
    let now = t.clock().now();
    let before = store.account("alice").unwrap().unwrap();
    let record = unicas::model::AuditRecord::system(
        unicas::model::AuditEvent::AccountUnlocked,
        Some("alice"),
    );
    // The administrator ends the sessions while the change is being hashed.
    store.delete_sessions_of("alice", None, None, now).unwrap();
    let written = store
        .set_password(
            "alice",
            "$2b$04$not-a-real-hash-but-a-different-one",
            false,
            None,
            false,
            Some(before.generation),
            &record,
            now,
        )
        .unwrap();
    assert!(!written, "the change lost to the administrator");
    let after = store.account("alice").unwrap().unwrap();
    assert_eq!(after.password_hash, before.password_hash);
    // At the account's current generation it goes through.
    assert!(store
        .set_password(
            "alice",
            "$2b$04$another",
            false,
            None,
            false,
            Some(after.generation),
            &record,
            now
        )
        .unwrap());
}

/// docs/security.md F07: the initial password's check character is an upper-case `X`, and
/// most people type `x`: for an account still on its initial password the lower case is
/// accepted (at login and at the first-login step), at one verification each and within the
/// same budget; a password the person chose stays case-sensitive.
#[tokio::test]
async fn a_lower_case_x_opens_the_initial_password_and_nothing_else() {
    let t = TestServer::start().await;
    t.add_imported("20240001", "31002X");
    let mut c = t.client();
    let steps = c.login("20240001", "31002x", None).await;
    assert_eq!(steps.status, 200, "{}", steps.body);
    assert!(steps.body.contains("修改密码"), "{}", steps.body);
    // The step's current password takes the lower case too.
    assert_eq!(change(&mut c, &token(&steps), "31002x").await.status, 303);
    // Now the password is one the person chose: case matters again, and the old initial
    // password in either case is no longer it.
    t.add_user("alice2", "Chosen-Pass-2026x", false, &[]);
    let wrong = t.client().login("alice2", "Chosen-Pass-2026X", None).await;
    assert_eq!(wrong.status, 401, "a chosen password stays case-sensitive");
    for old in ["31002x", "31002X"] {
        assert_eq!(t.client().login("20240001", old, None).await.status, 401);
    }
    assert_eq!(t.client().login("20240001", NEW, None).await.status, 200);
}
