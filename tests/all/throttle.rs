//! Failed-login throttling: per account across addresses, per address across accounts,
//! persistent across restarts.

use crate::support::*;

/// These tests drive the lock itself, as a script that solves captchas would: the captcha
/// demanded after a few failures is covered in tests/captcha.rs.
async fn no_captcha() -> TestServer {
    TestServer::start_with(|c| c.throttle.captcha_after = 0).await
}

#[tokio::test]
async fn five_failures_from_five_addresses_lock_the_account_until_it_expires() {
    let t = no_captcha().await;
    for i in 2..7 {
        let res = t
            .client_from(&format!("127.0.0.{i}"))
            .login("alice", "wrong", None)
            .await;
        assert_eq!(res.status, 401);
    }
    let locked = t
        .client_from("127.0.0.7")
        .login("alice", PASSWORD, Some(SERVICE))
        .await;
    assert_eq!(locked.status, 423);
    assert!(locked.body.contains("登录失败次数过多"));
    assert!(locked.set_cookie("CASTGC").is_none());
    // An invented name is locked the same way (no enumeration through lock-outs).
    for _ in 0..5 {
        t.client_from("127.0.0.8")
            .login("nobody", "wrong", None)
            .await;
    }
    assert_eq!(
        t.client_from("127.0.0.9")
            .login("nobody", "x", None)
            .await
            .status,
        423
    );
    t.clock().advance(901);
    assert_eq!(
        t.client_from("127.0.0.7")
            .login("alice", PASSWORD, Some(SERVICE))
            .await
            .status,
        302
    );
}

#[tokio::test]
async fn success_resets_the_account_counter() {
    let t = no_captcha().await;
    for _ in 0..4 {
        t.client().login("alice", "wrong", None).await;
    }
    assert_eq!(
        t.client()
            .login("alice", PASSWORD, Some(SERVICE))
            .await
            .status,
        302
    );
    for _ in 0..4 {
        assert_eq!(t.client().login("alice", "wrong", None).await.status, 401);
    }
    assert_eq!(
        t.client()
            .login("alice", PASSWORD, Some(SERVICE))
            .await
            .status,
        302
    );
}

#[tokio::test]
async fn lock_survives_a_restart() {
    let t = no_captcha().await;
    for _ in 0..5 {
        t.client().login("alice", "wrong", None).await;
    }
    let t = t.restart().await;
    assert_eq!(t.client().login("alice", PASSWORD, None).await.status, 423);
}

#[tokio::test]
async fn one_address_spraying_many_accounts_is_blocked_others_are_not() {
    let t = TestServer::start_with(|c| {
        c.throttle.address_failures = 10;
        c.throttle.captcha_after = 0;
    })
    .await;
    for i in 0..10 {
        let res = t
            .client_from("127.0.0.20")
            .login(&format!("user{i}"), "wrong", None)
            .await;
        assert_eq!(res.status, 401);
    }
    assert_eq!(
        t.client_from("127.0.0.20")
            .login("alice", PASSWORD, None)
            .await
            .status,
        423
    );
    assert_eq!(
        t.client_from("127.0.0.21")
            .login("alice", PASSWORD, Some(SERVICE))
            .await
            .status,
        302
    );
}

#[tokio::test]
async fn concurrent_guesses_cannot_exceed_the_budget() {
    let t = no_captcha().await;
    for _ in 0..4 {
        t.client().login("alice", "wrong", None).await;
    }
    let mut forms = Vec::new();
    for _ in 0..20 {
        let mut c = t.client();
        let form = c.get("/cas/login").await;
        forms.push((c, form.input("execution").unwrap()));
    }
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|(mut c, token)| {
            tokio::spawn(async move {
                c.post(
                    "/cas/login",
                    &[
                        ("username", "alice"),
                        ("password", "wrong"),
                        ("execution", &token),
                    ],
                )
                .await
                .status
            })
        })
        .collect();
    let mut evaluated = 0;
    for task in tasks {
        if task.await.unwrap() == 401 {
            evaluated += 1;
        }
    }
    assert_eq!(evaluated, 1, "only the fifth guess may be evaluated");
}

#[tokio::test]
async fn many_simultaneous_good_logins_from_one_address_lock_nothing() {
    let t = TestServer::start_with(|c| c.throttle.address_failures = 5).await;
    for i in 0..12 {
        t.add_user(&format!("s{i}"), PASSWORD, false, &[]);
    }
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let mut c = t.client();
            tokio::spawn(async move {
                c.login(&format!("s{i}"), PASSWORD, Some(SERVICE))
                    .await
                    .status
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 302);
    }
    assert_eq!(
        t.client()
            .login("alice", PASSWORD, Some(SERVICE))
            .await
            .status,
        302
    );
}

#[tokio::test]
async fn behind_a_reverse_proxy_each_client_has_its_own_address_budget() {
    let t = TestServer::start_with(|c| {
        c.throttle.address_failures = 3;
        c.throttle.captcha_after = 0;
    })
    .await;
    // Both come through the proxy on 127.0.0.1, which names them in X-Forwarded-For.
    let via_proxy = |client: &str| {
        let mut c = t.client();
        c.headers
            .push(("x-forwarded-for".into(), format!("6.6.6.6, {client}")));
        c
    };
    for i in 0..3 {
        let res = via_proxy("198.51.100.7")
            .login(&format!("nobody{i}"), "wrong", None)
            .await;
        assert_eq!(res.status, 401);
    }
    let blocked = via_proxy("198.51.100.7")
        .login("alice", PASSWORD, None)
        .await;
    assert_eq!(blocked.status, 423, "the spraying client is blocked");
    let other = via_proxy("198.51.100.8")
        .login("alice", PASSWORD, None)
        .await;
    assert_eq!(
        other.status, 200,
        "its neighbour behind the same proxy is not"
    );
    let audit = t.server.store.recent_audit(10).unwrap();
    assert!(audit.iter().any(|r| r.client_ip == "198.51.100.7"));
    assert!(audit.iter().all(|r| r.client_ip != "6.6.6.6"));
}
