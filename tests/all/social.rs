//! WeCom (企业微信) and WeChat (微信): logging in with a bound identity, binding one (from the
//! portal and through WeCom's secondary verification), the QR code scanned inside the apps,
//! and the access token's life; against a local stand-in for their APIs.

use crate::portal::notices;
use crate::support::wx::{self, WeChatUser, WxMock};
use crate::support::*;

async fn server(mock: &WxMock, edit: impl FnOnce(&mut unicas::config::Config)) -> TestServer {
    let base = mock.base();
    TestServer::start_with(|c| {
        c.wecom.corp_id = wx::CORP.into();
        c.wecom.agent_id = wx::AGENT.into();
        c.wecom.secret = wx::CORP_SECRET.into();
        c.wecom.api_base = base.clone();
        c.wecom.login_base = base.clone();
        c.wecom.oauth_base = base.clone();
        c.wechat.app_id = wx::WECHAT_APP.into();
        c.wechat.secret = wx::WECHAT_SECRET.into();
        c.wechat.website_app_id = wx::WEBSITE_APP.into();
        c.wechat.website_secret = wx::WEBSITE_SECRET.into();
        c.wechat.api_base = base.clone();
        c.wechat.oauth_base = base;
        edit(c);
    })
    .await
}

/// Goes where `res` redirects, at the stand-in, and returns the path it sends the browser
/// back to on our server.
async fn through_provider(res: &Resp) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let at_provider = client.get(res.location()).send().await.unwrap();
    assert_eq!(
        at_provider.status(),
        302,
        "{}",
        at_provider.text().await.unwrap()
    );
    let back = at_provider.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    back.strip_prefix("https://cas.test")
        .expect("back to our public URL")
        .to_string()
}

/// Logs in through WeCom's web login as whoever the stand-in lets scan.
async fn wecom_login(c: &mut Client) -> Resp {
    let start = c
        .get(&format!("/cas/wecom/login?service={}", enc(SERVICE)))
        .await;
    assert_eq!(start.status, 302);
    assert!(
        start
            .location()
            .contains("/wwlogin/sso/login?login_type=CorpApp"),
        "{}",
        start.location()
    );
    let back = through_provider(&start).await;
    c.get(&back).await
}

/// Issue "WeCom": 企业微信扫码登录 logs a bound member in, audited; the access token is
/// fetched once and cached.
#[tokio::test]
async fn a_bound_wecom_member_logs_in() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    t.bind("alice", "wecom", &format!("{}/zhangsan", wx::CORP));
    let mut c = t.client();
    let page = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
    assert!(page.body.contains("企业微信登录") && page.body.contains("微信登录"));
    mock.wecom_scanner(Some("zhangsan"));
    let res = wecom_login(&mut c).await;
    assert_eq!(res.status, 302, "{}", res.body);
    let xml = c
        .get(&validate_path("serviceValidate", SERVICE, &res.ticket()))
        .await
        .body;
    assert_eq!(parse_cas(&xml).unwrap().0, "alice");
    let audit = t.server.store.recent_audit(Some("alice"), 5).unwrap();
    assert!(audit
        .iter()
        .any(|r| r.event == "login_success" && r.detail == "wecom"));
    assert_eq!(wecom_login(&mut t.client()).await.status, 302);
    assert_eq!(mock.token_calls(), 1, "the token is cached");
}

/// Issue "WeCom": an unbound member, someone outside the directory, a declined scan, a
/// replayed or foreign `state`: no session, and a page that says why.
#[tokio::test]
async fn nobody_logs_in_without_a_bound_identity_and_this_browsers_state() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    mock.wecom_scanner(Some("lisi"));
    let res = wecom_login(&mut t.client()).await;
    assert!(
        res.body.contains("尚未绑定统一身份认证账号"),
        "{}",
        res.body
    );
    assert!(res.set_cookie("CASTGC").is_none());
    mock.wecom_scanner(None);
    let res = wecom_login(&mut t.client()).await;
    assert!(res.body.contains("不是本校成员"), "{}", res.body);
    mock.declines();
    let res = wecom_login(&mut t.client()).await;
    assert!(res.body.contains("您已取消授权"));

    t.bind("alice", "wecom", &format!("{}/zhangsan", wx::CORP));
    mock.wecom_scanner(Some("zhangsan"));
    let mut c = t.client();
    let start = c.get("/cas/wecom/login").await;
    let back = through_provider(&start).await;
    let mut other = t.client();
    let stolen = other.get(&back).await;
    assert_eq!(stolen.status, 403, "another browser's state");
    assert!(stolen.set_cookie("CASTGC").is_none());
    let mut c = t.client();
    let start = c.get("/cas/wecom/login").await;
    let back = through_provider(&start).await;
    assert_eq!(c.get(&back).await.status, 303, "to the portal");
    assert_eq!(c.get(&back).await.status, 403, "a state is single use");
}

/// Issue "WeCom": the access token is renewed before it expires, once when WeCom says it
/// expired, and one refresh serves many logins at once.
#[tokio::test]
async fn the_access_token_is_renewed_once_at_a_time() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    t.bind("alice", "wecom", &format!("{}/zhangsan", wx::CORP));
    mock.wecom_scanner(Some("zhangsan"));
    let logins: Vec<_> = (0..8)
        .map(|_| {
            let mut c = t.client();
            tokio::spawn(async move { wecom_login(&mut c).await.status })
        })
        .collect();
    for login in logins {
        assert_eq!(login.await.unwrap(), 302);
    }
    assert_eq!(mock.token_calls(), 1, "eight logins at once, one token");
    mock.expire_tokens();
    assert_eq!(
        wecom_login(&mut t.client()).await.status,
        302,
        "42001: renewed and retried"
    );
    assert_eq!(mock.token_calls(), 2);
    t.clock().advance(7200);
    assert_eq!(wecom_login(&mut t.client()).await.status, 302);
    assert_eq!(mock.token_calls(), 3, "renewed before it expires");
}

/// Issue "WeCom", the manual's "点击验证身份 → 学号/工号 + 密码 → 绑定成功": WeCom's secondary
/// verification opens our page with a code; the account's password binds the member and
/// WeCom is told (tfa_succ; legacy: authsucc). One member binds one account.
#[tokio::test]
async fn secondary_verification_binds_the_member() {
    for legacy in [false, true] {
        let mock = WxMock::start().await;
        let t = server(&mock, |c| {
            if legacy {
                c.wecom.tfa_api = unicas::config::TfaApi::Legacy;
            }
        })
        .await;
        t.add_user("bob", "Tea-Kettle-2026", false, &[]);
        let code = mock.wecom_code("wangwu");
        let mut phone = t.client();
        let page = phone.get(&format!("/cas/wecom/verify?code={code}")).await;
        assert!(page.body.contains("验证身份") && page.body.contains("学号"));
        let form = |page: &Resp, user: &'static str, password: &'static str| {
            vec![
                ("execution", page.input("execution").unwrap()),
                ("key", page.input("key").unwrap()),
                ("username", user.to_string()),
                ("password", password.to_string()),
            ]
        };
        let wrong = phone
            .post_owned("/cas/wecom/verify", &form(&page, "alice", "nope"))
            .await;
        assert_eq!(wrong.status, 401);
        let done = phone
            .post_owned("/cas/wecom/verify", &form(&wrong, "alice", PASSWORD))
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(done.body.contains("绑定成功") && done.body.contains("返回(1)"));
        // Issue "Day one" 6: the member is logged in, and the button leads to 个人中心.
        let portal = phone.get("/cas/portal").await;
        assert_eq!(portal.status, 200, "{}", portal.body);
        assert!(portal.body.contains("alice"), "{}", portal.body);
        let told = if legacy { "authsucc" } else { "tfa_succ" };
        assert_eq!(mock.confirmed(), [("wangwu".to_string(), told.to_string())]);
        assert_eq!(
            t.server.store.binding("alice", "wecom").unwrap().as_deref(),
            Some(format!("{}/wangwu", wx::CORP).as_str())
        );
        mock.wecom_scanner(Some("wangwu"));
        let res = wecom_login(&mut t.client()).await;
        assert_eq!(res.status, 302);

        // The same member cannot be bound to bob too.
        let code = mock.wecom_code("wangwu");
        let page = phone.get(&format!("/cas/wecom/verify?code={code}")).await;
        let taken = phone
            .post_owned("/cas/wecom/verify", &form(&page, "bob", "Tea-Kettle-2026"))
            .await;
        assert_eq!(taken.status, 409);
        assert!(taken.body.contains("已绑定其他账号"));
        assert!(t.server.store.binding("bob", "wecom").unwrap().is_none());
    }
}

/// Issue "WeCom": with `userid_is_account`, a member whose userid is a student number logs
/// in as that account, which is bound at this first use.
#[tokio::test]
async fn a_userid_that_is_the_account_logs_in_and_is_bound() {
    let mock = WxMock::start().await;
    let t = server(&mock, |c| c.wecom.userid_is_account = true).await;
    mock.wecom_scanner(Some("alice"));
    assert_eq!(wecom_login(&mut t.client()).await.status, 302);
    assert_eq!(
        t.server.store.binding("alice", "wecom").unwrap().as_deref(),
        Some(format!("{}/alice", wx::CORP).as_str())
    );
}

/// Issue "QR-code login" and "WeCom": binding from the portal needs a proof, then the
/// WeCom round trip; unbinding ends WeCom logins.
#[tokio::test]
async fn binding_and_unbinding_from_the_portal() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let account = c.get("/cas/account").await;
    assert!(account.body.contains("next=bind-wecom"));
    let verify = c.get("/cas/account/verify?next=bind-wecom").await;
    let proved = c
        .post(
            "/cas/account/verify",
            &[
                ("execution", &verify.tokens()[0]),
                ("next", "bind-wecom"),
                ("action", "password"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(proved.location(), "/cas/wecom/bind");
    let start = c.get("/cas/wecom/bind").await;
    mock.wecom_scanner(Some("zhaoliu"));
    let back = through_provider(&start).await;
    let bound = c.get(&back).await;
    assert_eq!(
        (bound.status, bound.location()),
        (303, "/cas/account?done=bind")
    );
    assert!(c
        .get("/cas/account")
        .await
        .body
        .contains("企业微信: 已绑定"));
    let audit = t.server.store.recent_audit(Some("alice"), 5).unwrap();
    assert!(audit
        .iter()
        .any(|r| r.event == "identity_bound" && r.detail == "wecom"));
    mock.wecom_scanner(Some("zhaoliu"));
    assert_eq!(wecom_login(&mut t.client()).await.status, 302);

    let verify = c.get("/cas/account/verify?next=unbind-wecom").await;
    let unbound = c
        .post(
            "/cas/account/verify",
            &[
                ("execution", &verify.tokens()[0]),
                ("next", "unbind-wecom"),
                ("action", "password"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(unbound.location(), "/cas/account?done=unbind");
    mock.wecom_scanner(Some("zhaoliu"));
    assert!(wecom_login(&mut t.client()).await.body.contains("尚未绑定"));

    // The administrator unbinds too, audited.
    t.bind("alice", "wechat", "union/U-ALICE");
    assert!(unicas(&t.config.db, &["user", "show", "alice"])
        .1
        .contains("bound: wechat"));
    let (ok, out, _) = unicas(&t.config.db, &["user", "unbind", "alice", "wechat"]);
    assert!(ok && out.contains("alice: wechat unbound"), "{out}");
    assert!(t.server.store.binding("alice", "wechat").unwrap().is_none());
    let (ok, _, err) = unicas(&t.config.db, &["user", "unbind", "alice", "wechat"]);
    assert!(!ok && err.contains("no wechat binding"));
    let audit = t.server.store.recent_audit(Some("alice"), 3).unwrap();
    assert!(audit
        .iter()
        .any(|r| r.event == "unbound" && r.detail == "wechat"));
}

/// Issue "QR-code login": inside WeCom, the page a scanned code opens identifies the member
/// silently (snsapi_base) and asks for the confirmation.
#[tokio::test]
async fn a_qr_code_scanned_inside_wecom_needs_no_password() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    t.bind("alice", "wecom", &format!("{}/zhangsan", wx::CORP));
    let mut computer = t.client();
    let page = computer.get("/cas/login?cllt=qrLogin").await;
    let uuid = page.input("uuid").unwrap();
    let mut phone = t.client();
    phone.headers.push((
        "user-agent".into(),
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 wxwork/4.1.22 MicroMessenger/7.0.1".into(),
    ));
    let scan = phone
        .get(&format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}"))
        .await;
    assert_eq!(scan.status, 302);
    assert!(
        scan.location().contains("/connect/oauth2/authorize?appid=")
            && scan.location().contains("scope=snsapi_base")
    );
    mock.wecom_scanner(Some("zhangsan"));
    let back = through_provider(&scan).await;
    let signed_in = phone.get(&back).await;
    assert_eq!(signed_in.status, 303);
    assert!(signed_in.set_cookie("CASTGC").is_some());
    let confirm = phone.get(signed_in.location()).await;
    assert!(confirm.body.contains("确认在电脑上登录？") && confirm.body.contains("alice"));
    let token = confirm.input("execution").unwrap();
    phone
        .post(
            "/cas/qrCode/qrCodeLogin.do",
            &[
                ("execution", &token),
                ("uuid", &uuid),
                ("action", "confirm"),
            ],
        )
        .await;
    let res = computer
        .post(
            "/cas/login",
            &[
                ("execution", &page.token_for("/cas/login")),
                ("cllt", "qrLogin"),
                ("uuid", &uuid),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "logged in, on to the portal");
    assert!(res.set_cookie("CASTGC").is_some());
}

/// Issue "WeChat": the website application's QR code on a computer (unionid), the official
/// account inside WeChat (openid only), snapshot visitors refused, codes single use.
#[tokio::test]
async fn wechat_identities_log_in() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    t.bind("alice", "wechat", "union/UNION-ALICE");
    t.add_user("bob", "Tea-Kettle-2026", false, &[]);
    t.bind("bob", "wechat", &format!("{}/oBOB", wx::WECHAT_APP));

    mock.wechat_scanner(WeChatUser {
        openid: "oWEBALICE".into(),
        unionid: Some("UNION-ALICE".into()),
        snapshot: false,
    });
    let mut c = t.client();
    let start = c
        .get(&format!("/cas/wechat/login?service={}", enc(SERVICE)))
        .await;
    assert!(
        start.location().contains("/connect/qrconnect?appid=")
            && start.location().contains("scope=snsapi_login")
    );
    let back = through_provider(&start).await;
    let res = c.get(&back).await;
    assert_eq!(res.status, 302, "{}", res.body);
    let xml = c
        .get(&validate_path("serviceValidate", SERVICE, &res.ticket()))
        .await
        .body;
    assert_eq!(parse_cas(&xml).unwrap().0, "alice");

    // Inside WeChat, the official account's page; no unionid: the app's openid.
    mock.wechat_scanner(WeChatUser {
        openid: "oBOB".into(),
        unionid: None,
        snapshot: false,
    });
    let mut phone = t.client();
    phone.headers.push((
        "user-agent".into(),
        "Mozilla/5.0 (iPhone) AppleWebKit MicroMessenger/8.0.47".into(),
    ));
    let start = phone.get("/cas/wechat/login").await;
    assert!(start
        .location()
        .contains("/connect/oauth2/authorize?appid="));
    let back = through_provider(&start).await;
    let res = phone.get(&back).await;
    assert_eq!(res.status, 303, "bob, to the portal: {}", res.body);
    let audit = t.server.store.recent_audit(Some("bob"), 5).unwrap();
    assert!(audit
        .iter()
        .any(|r| r.event == "login_success" && r.detail == "wechat"));

    mock.wechat_scanner(WeChatUser {
        openid: "oSNAP".into(),
        unionid: None,
        snapshot: true,
    });
    let mut snap = t.client();
    snap.headers
        .push(("user-agent".into(), "MicroMessenger/8.0".into()));
    let start = snap.get("/cas/wechat/login").await;
    let back = through_provider(&start).await;
    let res = snap.get(&back).await;
    assert!(
        res.body.contains("无法登录") && res.set_cookie("CASTGC").is_none(),
        "{}",
        res.body
    );
}

/// The secondary verification's form, opened with a code WeCom gave `userid`, posted with
/// `username` and `password`.
async fn verify_as(
    t: &TestServer,
    mock: &WxMock,
    userid: &str,
    username: &str,
    password: &str,
) -> Resp {
    let mut phone = t.client();
    let code = mock.wecom_code(userid);
    let page = phone.get(&format!("/cas/wecom/verify?code={code}")).await;
    let form = [
        ("execution", page.input("execution").unwrap()),
        ("key", page.input("key").unwrap()),
        ("username", username.to_string()),
        ("password", password.to_string()),
    ];
    phone.post_owned("/cas/wecom/verify", &form).await
}

/// docs/security.md M02, found by an outsider's reading: WeCom may take seconds to take the
/// confirmation; an account locked meanwhile is neither bound nor logged in.
#[tokio::test]
async fn an_account_locked_while_wecom_confirms_is_not_bound() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    let (arrived, release) = mock.hold_confirmations();
    let lock = async {
        arrived.notified().await;
        let now = t.clock().now();
        let locked = unicas::model::Status::Locked;
        assert!(t.server.store.set_status("alice", locked, now).unwrap());
        release.notify_one();
    };
    let (res, ()) = tokio::join!(verify_as(&t, &mock, "zhaoliu", "alice", PASSWORD), lock);
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.set_cookie("CASTGC").is_none(), "no session");
    assert!(t.server.store.binding("alice", "wecom").unwrap().is_none());
}

/// docs/security.md M01: a roster account's initial password (guessable) binds no WeCom member:
/// the 二次验证 is refused with a pointer to the first login, WeCom is not told, and after
/// the student's own first login that member still logs in as nobody.
#[tokio::test]
async fn the_initial_password_binds_no_wecom_member() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    t.add_imported("20240001", "31002X");
    let res = verify_as(&t, &mock, "attacker", "20240001", "31002X").await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("首次登录"), "{}", res.body);
    assert!(mock.confirmed().is_empty(), "WeCom is not told");
    let store = &t.server.store;
    assert!(store.binding("20240001", "wecom").unwrap().is_none());
    // The student's first login, then the attacker's WeCom login: nobody's.
    let mut c = t.client();
    let steps = c.login("20240001", "31002X", None).await;
    let done = c
        .change_initial_password(&steps, "31002X", "Lake-Violet-2026")
        .await;
    assert_eq!(done.status, 400, "the phone step remains: {}", done.body);
    mock.wecom_scanner(Some("attacker"));
    let res = wecom_login(&mut t.client()).await;
    assert!(res.body.contains("尚未绑定"), "{}", res.body);
    assert!(res.set_cookie("CASTGC").is_none());
}

/// docs/security.md M01: an identity bound before a password change does not outlive it unless
/// its holder, changing the password in 账号管理, asks to keep it; recovery and an
/// administrator's reset end it too.
#[tokio::test]
async fn bindings_made_before_a_password_change_end_with_it() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    let value = format!("{}/lisi", wx::CORP);
    let change = |keep: bool, new: &'static str| {
        let t = &t;
        async move {
            let mut c = t.client();
            c.login("alice", PASSWORD, None).await;
            let page = c.get("/cas/account").await;
            assert!(page.body.contains("keepIdentities"), "offered when bound");
            let mut form = vec![
                ("execution", page.token_for("/cas/account/password")),
                ("password", PASSWORD.to_string()),
                ("newPassword", new.to_string()),
                ("confirmPassword", new.to_string()),
            ];
            if keep {
                form.push(("keepIdentities", "true".to_string()));
            }
            let res = c.post_owned("/cas/account/password", &form).await;
            assert_eq!(res.status, 303, "{}", res.body);
        }
    };
    t.bind("alice", "wecom", &value);
    change(true, "Quiet-Harbor-2026").await;
    assert_eq!(
        t.server.store.binding("alice", "wecom").unwrap().as_deref(),
        Some(value.as_str()),
        "kept when asked"
    );
    // Back to the old password for the next change, by an administrator.
    assert!(
        unicas(
            &t.config.db,
            &["user", "passwd", "alice", "--password", PASSWORD]
        )
        .0
    );
    assert!(
        t.server.store.binding("alice", "wecom").unwrap().is_none(),
        "an administrator's password ends it"
    );
    t.bind("alice", "wecom", &value);
    change(false, "Maple-Lantern-2026").await;
    assert!(t.server.store.binding("alice", "wecom").unwrap().is_none());
    mock.wecom_scanner(Some("lisi"));
    assert!(wecom_login(&mut t.client())
        .await
        .set_cookie("CASTGC")
        .is_none());
    let ended = t
        .server
        .store
        .recent_audit(Some("alice"), 50)
        .unwrap()
        .into_iter()
        .filter(|r| r.event == "binding_ended")
        .count();
    assert_eq!(ended, 2, "each end audited");
}

/// docs/security.md M01: the member is bound only once WeCom took the confirmation, and the
/// account's bound phone is told.
#[tokio::test]
async fn a_member_is_bound_only_after_wecom_confirms_and_the_phone_is_told() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    t.bind("alice", "phone", "+8613800138000");
    mock.refuse_confirmations();
    let refused = verify_as(&t, &mock, "lisi", "alice", PASSWORD).await;
    assert_eq!(refused.status, 502, "{}", refused.body);
    assert!(t.server.store.binding("alice", "wecom").unwrap().is_none());

    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    t.bind("alice", "phone", "+8613800138000");
    let done = verify_as(&t, &mock, "lisi", "alice", PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(t.server.store.binding("alice", "wecom").unwrap().is_some());
    t.settle_messages().await;
    let told = notices(&t, "+8613800138000").await;
    assert!(
        told.iter().any(|n| n.contains("已绑定企业微信")),
        "{told:?}"
    );
}

/// docs/security.md M04, E01: without a code WeCom gave, the form checks no password (no bcrypt,
/// no failure counted, one answer for a right and a wrong password); with one, failures
/// bring the captcha as on the login page.
#[tokio::test]
async fn the_secondary_verification_checks_no_password_without_a_wecom_code() {
    let mock = WxMock::start().await;
    let t = server(&mock, |c| c.throttle.captcha_after = 2).await;
    let verifications = || {
        t.server
            .password_verifications
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let before = verifications();
    let mut answers = Vec::new();
    for password in [PASSWORD, "wrong"] {
        let mut phone = t.client();
        let page = phone.get("/cas/wecom/verify?code=INVENTED").await;
        let form = [
            ("execution", page.input("execution").unwrap()),
            ("key", page.input("key").unwrap()),
            ("username", "alice".to_string()),
            ("password", password.to_string()),
        ];
        let res = phone.post_owned("/cas/wecom/verify", &form).await;
        answers.push((res.status, res.body.replace(password, "")));
    }
    assert_eq!(answers[0], answers[1], "the same answer");
    assert_eq!(answers[0].0, 403);
    assert_eq!(verifications(), before, "no password was checked");

    // With real codes, failures bring the captcha.
    for _ in 0..2 {
        let res = verify_as(&t, &mock, "lisi", "alice", "wrong").await;
        assert_eq!(res.status, 401);
    }
    let res = verify_as(&t, &mock, "lisi", "alice", PASSWORD).await;
    assert_eq!(res.status, 401, "the captcha first: {}", res.body);
    assert!(res.body.contains("captcha.html"));
    assert!(t.server.store.binding("alice", "wecom").unwrap().is_none());
}

/// docs/security.md M01: an account that owes its first login logs in through no identity
/// (WeCom with `userid_is_account` binds nothing for it) and not with an SMS code.
#[tokio::test]
async fn an_account_owing_its_first_login_uses_no_other_way_in() {
    let mock = WxMock::start().await;
    let t = server(&mock, |c| c.wecom.userid_is_account = true).await;
    t.add_imported("20240001", "31002X");
    mock.wecom_scanner(Some("20240001"));
    let res = wecom_login(&mut t.client()).await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("首次登录"));
    assert!(t
        .server
        .store
        .binding("20240001", "wecom")
        .unwrap()
        .is_none());

    t.add_user("bob", PASSWORD, true, &[]);
    t.bind("bob", "phone", "+8613900139000");
    let mut c = t.client();
    let form = c.get("/cas/login?cllt=dynamicLogin").await;
    c.get("/cas/captcha.html").await;
    let answer = t.captcha(&c).await;
    let sent = c
        .post(
            "/cas/login",
            &[
                ("execution", &form.input("execution").unwrap()),
                ("cllt", "dynamicLogin"),
                ("action", "send"),
                ("mobile", "13900139000"),
                ("captcha", &answer),
            ],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let code = t.sms_code("13900139000").await.unwrap();
    let res = c
        .post(
            "/cas/login",
            &[
                ("execution", &sent.input("execution").unwrap()),
                ("cllt", "dynamicLogin"),
                ("mobile", "13900139000"),
                ("dynamicCode", &code),
            ],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.set_cookie("CASTGC").is_none());
    assert!(res.body.contains("首次登录"));
}

/// Issue "Defects found from outside" #12: an identity bound by its openid (before the
/// school's applications shared an Open Platform account) still logs in once WeChat also
/// gives a unionid.
#[tokio::test]
async fn an_openid_binding_survives_the_arrival_of_a_unionid() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    t.bind("alice", "wechat", &format!("{}/oALICE", wx::WECHAT_APP));
    mock.wechat_scanner(WeChatUser {
        openid: "oALICE".into(),
        unionid: Some("UNION-ALICE".into()),
        snapshot: false,
    });
    let mut phone = t.client();
    phone.headers.push((
        "user-agent".into(),
        "Mozilla/5.0 (iPhone) AppleWebKit MicroMessenger/8.0.47".into(),
    ));
    let start = phone.get("/cas/wechat/login").await;
    let back = through_provider(&start).await;
    let res = phone.get(&back).await;
    assert_eq!(res.status, 303, "alice, to the portal: {}", res.body);
    assert!(res.set_cookie("CASTGC").is_some());
}

/// Issue "Defects found from outside" #16: when WeCom is slow, people logging in at once
/// share one renewal of the token and its one answer, instead of each renewing in turn
/// after the one before timed out.
#[tokio::test]
async fn people_logging_in_at_once_share_one_slow_renewal() {
    let mock = WxMock::start().await;
    let t = server(&mock, |c| c.wecom.timeout = 1).await;
    t.bind("alice", "wecom", &format!("{}/lisi", wx::CORP));
    mock.slow_tokens(std::time::Duration::from_secs(3));
    mock.wecom_scanner(Some("lisi"));
    let logins: Vec<_> = (0..8)
        .map(|_| {
            let mut c = t.client();
            tokio::spawn(async move { wecom_login(&mut c).await.status })
        })
        .collect();
    for login in logins {
        assert_eq!(login.await.unwrap(), 502, "WeCom could not be reached");
    }
    assert_eq!(mock.token_requests(), 1, "one renewal for the eight");
}

/// Issue 24, item 8: 最近登录 in 账号管理 says how each login happened: 密码, 扫码, 企业微信,
/// 微信 (and in English).
#[tokio::test]
async fn recent_sign_ins_say_how_each_login_happened() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    t.bind("alice", "wecom", &format!("{}/zhangsan", wx::CORP));
    t.bind("alice", "wechat", "union/UNION-ALICE");
    let mut phone = t.client();
    assert_eq!(phone.login("alice", PASSWORD, None).await.status, 303);

    mock.wecom_scanner(Some("zhangsan"));
    assert_eq!(wecom_login(&mut t.client()).await.status, 302);
    mock.wechat_scanner(WeChatUser {
        openid: "oWEBALICE".into(),
        unionid: Some("UNION-ALICE".into()),
        snapshot: false,
    });
    let mut c = t.client();
    let start = c.get("/cas/wechat/login").await;
    let back = through_provider(&start).await;
    assert_eq!(c.get(&back).await.status, 303);

    // The QR code: shown on a computer, confirmed on the phone logged in above.
    let mut computer = t.client();
    let page = computer.get("/cas/login?cllt=qrLogin").await;
    let uuid = page.input("uuid").expect("the request's uuid");
    let confirm = phone
        .get(&format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}"))
        .await;
    let token = confirm
        .input("execution")
        .expect("the confirmation's token");
    let confirmed = phone
        .post(
            "/cas/qrCode/qrCodeLogin.do",
            &[
                ("execution", &token),
                ("uuid", &uuid),
                ("action", "confirm"),
            ],
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let token = page.token_for("/cas/login");
    let res = computer
        .post(
            "/cas/login",
            &[("execution", &token), ("cllt", "qrLogin"), ("uuid", &uuid)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);

    let account = computer.get("/cas/account").await;
    for method in [
        "<td>密码</td>",
        "<td>扫码</td>",
        "<td>企业微信</td>",
        "<td>微信</td>",
    ] {
        assert!(account.body.contains(method), "{method}: {}", account.body);
    }
    let english = computer.get("/cas/account?lang=en").await;
    for method in [
        "<td>password</td>",
        "<td>QR code</td>",
        "<td>WeCom</td>",
        "<td>WeChat</td>",
    ] {
        assert!(english.body.contains(method), "{method}");
    }
}

/// Issue 24, item 3: WeCom's verification, once it asks for the captcha, offers
/// "看不清，换一张" as a submit after the login button (its key stays out of addresses): the
/// form comes back with the name kept and no password checked.
#[tokio::test]
async fn the_secondary_verification_can_redraw_its_captcha() {
    let mock = WxMock::start().await;
    let t = server(&mock, |_| {}).await;
    for _ in 0..3 {
        assert_eq!(t.client().login("alice", "nope", None).await.status, 401);
    }
    let mut phone = t.client();
    let code = mock.wecom_code("zhangsan");
    let page = phone.get(&format!("/cas/wecom/verify?code={code}")).await;
    let key = page.input("key").unwrap();
    let form = [
        ("execution", page.input("execution").unwrap()),
        ("key", key.clone()),
        ("username", "alice".to_string()),
        ("password", "nope".to_string()),
    ];
    let asked = phone.post_owned("/cas/wecom/verify", &form).await;
    let login_button = asked.body.find("登录</button>").expect("the login button");
    let refresh = asked
        .body
        .find("name=\"action\" value=\"refresh\" formnovalidate>看不清，换一张</button>")
        .expect("the redraw");
    assert!(login_button < refresh, "Enter must still log in");
    let failures = |t: &TestServer| {
        t.server
            .store
            .recent_audit(Some("alice"), 50)
            .unwrap()
            .into_iter()
            .filter(|r| r.event == "login_failure")
            .count()
    };
    let before = failures(&t);
    let form = [
        ("execution", asked.input("execution").unwrap()),
        ("key", key),
        ("username", "alice".to_string()),
        ("action", "refresh".to_string()),
    ];
    let again = phone.post_owned("/cas/wecom/verify", &form).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.contains("value=\"alice\"") && again.body.contains("captcha.html"));
    assert_eq!(failures(&t), before, "nothing was checked");
}
