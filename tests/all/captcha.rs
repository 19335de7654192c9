//! The captcha demanded after a few failures, and the campus product's endpoints that
//! report it (needCaptcha.html, checkNeedCaptcha.htl, captcha.html), all from one state.

use crate::support::*;

async fn need(c: &mut Client, name: &str) -> (String, String) {
    let v4 = c
        .get(&format!(
            "/cas/needCaptcha.html?username={name}&pwdEncrypt2=pwdEncryptSalt&_=1"
        ))
        .await;
    assert_eq!(v4.status, 200);
    let v5 = c
        .get(&format!("/cas/checkNeedCaptcha.htl?username={name}&_=1"))
        .await;
    assert!(v5
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    (v4.body, v5.body)
}

/// security.md E03, F04
#[tokio::test]
async fn failures_bring_the_captcha_for_real_and_invented_names_alike() {
    let t = TestServer::start().await;
    let mut c = t.client();
    for name in ["alice", "ghost"] {
        assert_eq!(
            need(&mut c, name).await,
            ("false".into(), "{\"isNeed\":false}".into())
        );
        for _ in 0..3 {
            let res = t.client().login(name, "wrong", Some(SERVICE)).await;
            assert_eq!(res.status, 401);
        }
        assert_eq!(
            need(&mut c, name).await,
            ("true".into(), "{\"isNeed\":true}".into())
        );
    }
    // The form shown after the third failure asks for it.
    let res = t.client().login("alice", "wrong", Some(SERVICE)).await;
    assert!(res.body.contains("name=\"captcha\""), "{}", res.body);
    assert!(res.body.contains("src=\"/cas/captcha.html\""));
    // A name with no failures still gets the plain form.
    let res = t.client().login("bob", "wrong", Some(SERVICE)).await;
    assert!(!res.body.contains("name=\"captcha\""));
}

/// security.md F04
#[tokio::test]
async fn without_the_right_captcha_the_password_is_not_even_tried() {
    let t = TestServer::start().await;
    for _ in 0..3 {
        t.client().login("alice", "wrong", None).await;
    }
    // Many attempts without a captcha (or with a wrong one) neither log in nor lock.
    for extra in [&[][..], &[("captcha", "nope")][..]] {
        for _ in 0..4 {
            let res = t
                .client()
                .login_with("alice", PASSWORD, Some(SERVICE), extra)
                .await;
            assert_eq!(res.status, 401);
            assert!(res.body.contains("验证码错误"), "{}", res.body);
            assert!(res.set_cookie("CASTGC").is_none());
        }
    }

    // A browser fetches the image, reads it, and logs in.
    let mut browser = t.client();
    let form = browser
        .get(&format!(
            "/cas/login?service={}&username=alice",
            enc(SERVICE)
        ))
        .await;
    assert!(form.body.contains("name=\"captcha\""));
    let image = browser.get("/cas/captcha.html").await;
    assert_eq!(image.status, 200);
    assert_eq!(image.header("content-type"), Some("image/png"));
    assert_eq!(&image.raw[..8], b"\x89PNG\r\n\x1a\n");
    let flow = browser.jar.get("UNICAS_FLOW").unwrap().clone();
    let answer = t.server.app.captcha_answer(&flow).await.unwrap();
    let res = browser
        .post(
            "/cas/login",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("execution", &form.input("execution").unwrap()),
                ("service", SERVICE),
                ("captcha", &answer.to_lowercase()),
            ],
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    // Success clears the counter: no captcha any more.
    assert_eq!(
        need(&mut t.client(), "alice").await.0,
        "false",
        "the counter is cleared"
    );

    // An answer is good once: replaying it fails.
    for _ in 0..3 {
        t.client().login("alice", "wrong", None).await;
    }
    let mut replay = t.client();
    replay.jar.insert("UNICAS_FLOW".into(), flow);
    let res = replay
        .login_with("alice", PASSWORD, None, &[("captcha", &answer)])
        .await;
    assert_eq!(res.status, 401);
}

/// security.md F04: a wrong captcha is no password guess, but it is counted against the
/// client's address, so guessing captchas is throttled too.
#[tokio::test]
async fn wrong_captchas_count_against_the_address() {
    let t = TestServer::start_with(|c| {
        c.throttle.captcha_after = 1;
        c.throttle.address_failures = 3;
    })
    .await;
    let from = "127.0.0.90";
    assert_eq!(
        t.client_from(from)
            .login("alice", "wrong", None)
            .await
            .status,
        401
    );
    for _ in 0..2 {
        let res = t
            .client_from(from)
            .login_with("alice", PASSWORD, None, &[("captcha", "nope")])
            .await;
        assert!(res.body.contains("验证码错误"));
    }
    let res = t.client_from(from).login("bob", "x", None).await;
    assert_eq!(res.status, 423, "the address is blocked");
    let audit = t.server.store.recent_audit(Some("alice"), 10).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.detail == "wrong captcha")
            .map(|r| r.repeats as usize)
            .sum::<usize>(),
        2
    );
}
