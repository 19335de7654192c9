//! QR-code login (扫码登录) with two devices: a computer showing the code and a phone
//! confirming it.

use crate::support::*;

/// The computer's login page in the QR mode, and the uuid of its request.
async fn qr_page(computer: &mut Client) -> (Resp, String) {
    let page = computer
        .get(&format!("/cas/login?service={}&cllt=qrLogin", enc(SERVICE)))
        .await;
    assert_eq!(page.status, 200);
    let uuid = page.input("uuid").expect("the request's uuid");
    (page, uuid)
}

async fn status(c: &mut Client, uuid: &str) -> String {
    c.get(&format!("/cas/qrCode/getStatus.htl?uuid={uuid}"))
        .await
        .body
}

/// The phone, logged in as alice, opens what the code says and answers `action`.
async fn phone_answers(phone: &mut Client, uuid: &str, action: &str) -> Resp {
    let page = phone
        .get(&format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}"))
        .await;
    let token = page.input("execution").expect("the confirmation's token");
    phone
        .post(
            "/cas/qrCode/qrCodeLogin.do",
            &[("execution", &token), ("uuid", uuid), ("action", action)],
        )
        .await
}

async fn computer_logs_in(computer: &mut Client, page: &Resp, uuid: &str) -> Resp {
    let token = page.token_for("/cas/login");
    computer
        .post(
            "/cas/login",
            &[
                ("execution", &token),
                ("cllt", "qrLogin"),
                ("uuid", uuid),
                ("service", SERVICE),
            ],
        )
        .await
}

/// Issue "QR-code login": the code the computer shows opens the phone's page; the phone,
/// logged in, sees who asks and confirms; the computer then gets its own session and a
/// ticket; the request is spent.
#[tokio::test]
async fn a_phone_confirms_and_the_computer_logs_in() {
    let t = TestServer::start().await;
    let mut computer = t.client_from("127.0.0.21");
    computer.headers.push((
        "user-agent".into(),
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
            .into(),
    ));
    let (page, uuid) = qr_page(&mut computer).await;
    assert!(page.body.contains("扫码登录") && page.body.contains("qrlogin.js"));
    let image = computer
        .get(&format!("/cas/qrCode/getCode?uuid={uuid}"))
        .await;
    assert_eq!(image.header("content-type"), Some("image/png"));
    let picture = image::load_from_memory(&image.raw).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        picture.width() as usize,
        picture.height() as usize,
        |x, y| picture.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    let (_, content) = grids[0].decode().expect("a readable QR code");
    assert_eq!(
        content,
        format!("https://cas.test/cas/qrCode/qrCodeLogin.do?uuid={uuid}")
    );
    assert_eq!(status(&mut computer, &uuid).await, "0");

    let mut phone = t.client();
    phone.login("alice", PASSWORD, None).await;
    let confirm = phone
        .get(&format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}"))
        .await;
    for shown in [
        "确认在电脑上登录？",
        "alice",
        "127.0.0.21",
        "Chrome · Windows",
        "确认登录",
        "取消",
    ] {
        assert!(confirm.body.contains(shown), "{shown} in {}", confirm.body);
    }
    assert_eq!(status(&mut computer, &uuid).await, "2", "scanned");
    let early = computer_logs_in(&mut computer, &page, &uuid).await;
    assert_eq!(early.status, 401, "not confirmed yet");
    assert!(early.body.contains("尚未在手机上确认"));
    assert_eq!(
        early.input("uuid").as_deref(),
        Some(uuid.as_str()),
        "the same code, still valid"
    );

    let page = early;
    let done = phone_answers(&mut phone, &uuid, "confirm").await;
    assert!(done.body.contains("已确认，请在电脑上继续"));
    assert_eq!(status(&mut computer, &uuid).await, "1");
    let res = computer_logs_in(&mut computer, &page, &uuid).await;
    assert_eq!(res.status, 302, "{}", res.body);
    let ticket = res.ticket();
    assert!(
        res.set_cookie("CASTGC").is_some(),
        "the computer's own session"
    );
    let xml = computer
        .get(&validate_path("serviceValidate", SERVICE, &ticket))
        .await
        .body;
    assert_eq!(parse_cas(&xml).unwrap().0, "alice");
    let audit = t.server.store.recent_audit(Some("alice"), 10).unwrap();
    assert!(audit
        .iter()
        .any(|r| r.event == "login_success" && r.detail == "qr code"));
    assert!(audit
        .iter()
        .any(|r| r.event == "qr_confirmed" && r.detail.contains("127.0.0.21")));

    // Spent: the same post again gives nothing, and the request is gone.
    let replay = computer_logs_in(&mut computer, &page, &uuid).await;
    assert_eq!(replay.status, 403);
    assert!(replay.set_cookie("CASTGC").is_none());
    assert_eq!(status(&mut computer, &uuid).await, "3");
}

/// Issue "QR-code login": only the browser that showed the code can use the request; one
/// who only saw the code (or its uuid) gets nothing, even after the phone confirmed.
#[tokio::test]
async fn the_request_belongs_to_the_browser_that_showed_it() {
    let t = TestServer::start().await;
    let mut computer = t.client();
    let (page, uuid) = qr_page(&mut computer).await;
    let mut onlooker = t.client();
    let (onlooker_page, _) = qr_page(&mut onlooker).await;
    assert_eq!(status(&mut onlooker, &uuid).await, "3", "not its request");
    let mut phone = t.client();
    phone.login("alice", PASSWORD, None).await;
    phone_answers(&mut phone, &uuid, "confirm").await;
    let stolen = computer_logs_in(&mut onlooker, &onlooker_page, &uuid).await;
    assert_eq!(stolen.status, 403);
    assert!(stolen.set_cookie("CASTGC").is_none());
    assert_eq!(
        computer_logs_in(&mut computer, &page, &uuid).await.status,
        302
    );
}

/// Issue "QR-code login": a cancel on the phone, and two minutes without a scan, end the
/// request; the phone's page says the code expired.
#[tokio::test]
async fn cancelled_and_expired_requests_end() {
    let t = TestServer::start().await;
    let mut computer = t.client();
    let mut phone = t.client();
    phone.login("alice", PASSWORD, None).await;
    let (page, uuid) = qr_page(&mut computer).await;
    let cancelled = phone_answers(&mut phone, &uuid, "cancel").await;
    assert!(cancelled.body.contains("已取消登录"));
    assert_eq!(status(&mut computer, &uuid).await, "3");
    assert_eq!(
        computer_logs_in(&mut computer, &page, &uuid).await.status,
        401
    );

    let (_, uuid) = qr_page(&mut computer).await;
    t.clock().advance(121);
    assert_eq!(status(&mut computer, &uuid).await, "3");
    let late = phone
        .get(&format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}"))
        .await;
    assert_eq!(late.status, 404);
    assert!(late.body.contains("二维码已失效"));
    let image = computer
        .get(&format!("/cas/qrCode/getCode?uuid={uuid}"))
        .await;
    assert_eq!(image.status, 404);
}

/// Issue "QR-code login": a phone without a session logs in on the page the code opened
/// (throttled like any login: `the_phones_login_is_throttled_like_any`), then confirms; the campus product's `getToken` makes a
/// request too.
#[tokio::test]
async fn a_phone_without_a_session_logs_in_first() {
    let t = TestServer::start().await;
    let mut computer = t.client();
    let uuid = computer.get("/cas/qrCode/getToken").await.body;
    assert!(uuid.starts_with("QR-"), "{uuid}");
    let page = computer.get("/cas/login?display=qrLogin").await;
    let mut phone = t.client();
    let first = phone
        .get(&format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}"))
        .await;
    assert!(first.body.contains("请先在手机上登录"));
    let login = |token: String, password: &'static str| {
        vec![
            ("execution", token),
            ("uuid", uuid.clone()),
            ("action", "login".to_string()),
            ("username", "alice".to_string()),
            ("password", password.to_string()),
        ]
    };
    let wrong = phone
        .post_owned(
            "/cas/qrCode/qrCodeLogin.do",
            &login(first.input("execution").unwrap(), "nope"),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let ok = phone
        .post_owned(
            "/cas/qrCode/qrCodeLogin.do",
            &login(wrong.input("execution").unwrap(), PASSWORD),
        )
        .await;
    assert_eq!(ok.status, 303);
    assert!(ok.set_cookie("CASTGC").is_some());
    let confirmed = phone_answers(&mut phone, &uuid, "confirm").await;
    assert!(confirmed.body.contains("已确认"));
    let res = computer_logs_in(&mut computer, &page, &uuid).await;
    assert_eq!(res.status, 302);
}

/// Issue "QR-code login": under `/authserver` the campus product's paths work as its pages
/// and scripts call them, and the code points at the same prefix.
#[tokio::test]
async fn the_campus_products_paths_under_authserver() {
    let t = TestServer::start_with(|c| c.prefixes = vec!["/authserver".into()]).await;
    let mut computer = t.client();
    let uuid = computer
        .get("/authserver/qrCode/getToken?ts=1700000000000")
        .await
        .body;
    assert!(uuid.starts_with("QR-"));
    let status = computer
        .get(&format!(
            "/authserver/qrCode/getStatus.htl?ts=1&uuid={uuid}"
        ))
        .await;
    assert_eq!(status.body, "0");
    let image = computer
        .get(&format!("/authserver/qrCode/getCode?uuid={uuid}"))
        .await;
    let picture = image::load_from_memory(&image.raw).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        picture.width() as usize,
        picture.height() as usize,
        |x, y| picture.get_pixel(x as u32, y as u32).0[0],
    );
    let (_, content) = prepared.detect_grids()[0].decode().unwrap();
    assert_eq!(
        content,
        format!("https://cas.test/authserver/qrCode/qrCodeLogin.do?uuid={uuid}")
    );
    let page = computer.get("/authserver/login?display=qrLogin").await;
    assert!(page.body.contains("id=\"qrLoginForm\""));
}

/// docs/security.md M02: a code confirmed on the phone is void once the account is locked, its
/// password reset, or its sessions ended before the computer comes for its session.
#[tokio::test]
async fn a_confirmation_is_void_after_a_lock_a_reset_or_a_logout() {
    let t = TestServer::start().await;
    let store = &t.server.store;
    for (who, what) in [("bob", "reset"), ("carol", "logout"), ("dave", "lock")] {
        t.add_user(who, PASSWORD, false, &[]);
        let mut computer = t.client();
        let (page, uuid) = qr_page(&mut computer).await;
        let mut phone = t.client();
        phone.login(who, PASSWORD, None).await;
        let confirmed = phone_answers(&mut phone, &uuid, "confirm").await;
        assert_eq!(confirmed.status, 200, "{what}");
        let now = t.clock().now();
        match what {
            "reset" => assert!(unicas(&t.config.db, &["user", "reset-password", who]).0),
            "logout" => assert!(store
                .delete_sessions_of(who, None, None, now)
                .unwrap()
                .is_some()),
            _ => assert!(store
                .set_status(who, unicas::model::Status::Locked, now)
                .unwrap()),
        }
        let res = computer_logs_in(&mut computer, &page, &uuid).await;
        assert_eq!(res.status, 403, "{what}");
        assert!(res.set_cookie("CASTGC").is_none(), "{what}");
    }
}

/// docs/security.md F11: the phone's login on the page a code opened is throttled as the login
/// page is: after five wrong passwords from that address even the right one is refused.
#[tokio::test]
async fn the_phones_login_is_throttled_like_any() {
    let t = TestServer::start_with(|c| c.throttle.captcha_after = 0).await;
    let mut computer = t.client();
    let uuid = computer.get("/cas/qrCode/getToken").await.body;
    let mut phone = t.client_from("127.0.0.95");
    let mut page = phone
        .get(&format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}"))
        .await;
    let mut statuses = Vec::new();
    for password in ["nope"; 5].into_iter().chain([PASSWORD]) {
        let form = [
            ("execution", page.input("execution").unwrap()),
            ("uuid", uuid.clone()),
            ("action", "login".to_string()),
            ("username", "alice".to_string()),
            ("password", password.to_string()),
        ];
        page = phone.post_owned("/cas/qrCode/qrCodeLogin.do", &form).await;
        statuses.push(page.status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 423]);
    assert!(page.set_cookie("CASTGC").is_none());
}

/// Issue 24, item 3: once the phone's login asks for the captcha, "看不清，换一张" loads the
/// form again (the request and the name kept in its address, never the password) with a new
/// image.
#[tokio::test]
async fn the_phones_login_can_redraw_its_captcha() {
    let t = TestServer::start().await;
    let mut computer = t.client();
    let uuid = computer.get("/cas/qrCode/getToken").await.body;
    let mut phone = t.client_from("127.0.0.96");
    let mut page = phone
        .get(&format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}"))
        .await;
    for _ in 0..3 {
        let form = [
            ("execution", page.input("execution").unwrap()),
            ("uuid", uuid.clone()),
            ("action", "login".to_string()),
            ("username", "alice".to_string()),
            ("password", "nope".to_string()),
        ];
        page = phone.post_owned("/cas/qrCode/qrCodeLogin.do", &form).await;
    }
    let link = format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}&amp;username=alice");
    assert!(
        page.body.contains(&format!(
            "<a class=\"refresh\" href=\"{link}\">看不清，换一张</a>"
        )),
        "{}",
        page.body
    );
    let again = phone.get(&link.replace("&amp;", "&")).await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("value=\"alice\"") && again.body.contains("captcha.html"));
}

/// docs/security.md P12: a login by scanning counts as the phone's possession factor for an
/// application that requires a second factor only when the school says so
/// (`[mfa] scan_is_second_factor`); then the ticket says `mfa-qr`, else the step-up asks.
#[tokio::test]
async fn a_scan_is_a_second_factor_only_when_the_school_says_so() {
    let hr = "https://hr.test/";
    for counts in [false, true] {
        let t = TestServer::start_with(|c| c.mfa.scan_is_second_factor = counts).await;
        t.register(unicas::model::NewService {
            name: "hr".into(),
            pattern: hr.into(),
            mfa: unicas::model::Mfa::Required,
            ..Default::default()
        });
        let mut computer = t.client();
        let page = computer
            .get(&format!("/cas/login?service={}&cllt=qrLogin", enc(hr)))
            .await;
        let uuid = page.input("uuid").unwrap();
        let mut phone = t.client();
        phone.login("alice", PASSWORD, None).await;
        phone_answers(&mut phone, &uuid, "confirm").await;
        let token = page.token_for("/cas/login");
        let res = computer
            .post(
                "/cas/login",
                &[
                    ("execution", &token),
                    ("cllt", "qrLogin"),
                    ("uuid", &uuid),
                    ("service", hr),
                ],
            )
            .await;
        if !counts {
            assert_eq!(res.status, 303, "{}", res.body);
            assert_eq!(res.location(), format!("/cas/mfa?service={}", enc(hr)));
            continue;
        }
        assert_eq!(res.status, 302, "{}", res.body);
        let valid = computer
            .get(&validate_path("p3/serviceValidate", hr, &res.ticket()))
            .await;
        let (_, attrs) = parse_cas(&valid.body).unwrap();
        let class: Vec<&str> = attrs
            .iter()
            .filter(|(k, _)| k == "authnContextClass")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(class, ["mfa-qr"]);
        assert!(attrs.contains(&(
            "authenticationMethod".to_string(),
            "QrCodeAuthenticationHandler".to_string()
        )));
    }
}
