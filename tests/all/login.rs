//! The login and logout flows as a browser sees them.

use crate::support::*;

fn login_path(service: &str) -> String {
    format!("/cas/login?service={}", enc(service))
}

/// docs/security.md L06
#[tokio::test]
async fn login_page_has_the_manual_labels_and_standard_field_names() {
    let t = TestServer::start().await;
    let res = t.client().get(&login_path(SERVICE)).await;
    assert_eq!(res.status, 200);
    for needle in [
        "请输入学号/工号",
        "请输入密码",
        ">登录<",
        "忘记密码",
        "在线帮助",
        "name=\"username\"",
        "id=\"username\"",
        "name=\"password\"",
        "name=\"rememberMe\"",
        "name=\"execution\"",
        "name=\"lt\"",
        "name=\"_eventId\" value=\"submit\"",
        "English",
    ] {
        assert!(res.body.contains(needle), "missing {needle}");
    }
    assert_eq!(res.input("service").as_deref(), Some(SERVICE));
    let csp = res.header("content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(res.header("x-frame-options"), Some("DENY"));
    assert_eq!(res.header("referrer-policy"), Some("same-origin"));
    // The one inline script declares the campus page's salt variable, and nothing else.
    assert_eq!(res.body.matches("<script>").count(), 1);
    assert!(res.body.contains("<script>var pwdDefaultEncryptSalt = \""));
    let en = t
        .client()
        .get(&format!("{}&lang=en", login_path(SERVICE)))
        .await;
    assert!(en.body.contains("Student or staff number") && en.body.contains("lang=\"en\""));
    assert!(en
        .set_cookie("unicas_lang")
        .unwrap()
        .starts_with("unicas_lang=en"));
}

/// Issue "Day one" 7: a first visit speaks the browser's language (`Accept-Language`, by its
/// q-values); a choice made with the switch outlives the redirects that follow it.
#[tokio::test]
async fn the_language_follows_the_browser_and_then_the_choice() {
    let t = TestServer::start().await;
    let english = "Student or staff number";
    for (header, in_english) in [
        ("en-US,en;q=0.9", true),
        ("zh-CN,zh;q=0.9,en;q=0.8", false),
        ("en;q=0.5, zh-TW;q=0.8", false),
        ("fr-FR, en;q=0.7, zh;q=0.3", true),
        ("de, en;q=0", false),
    ] {
        let mut c = t.client();
        c.headers.push(("accept-language".into(), header.into()));
        let page = c.get("/cas/login").await;
        assert_eq!(page.body.contains(english), in_english, "{header}");
    }
    // English chosen on a page that only redirects (the portal, logged out): the choice
    // is kept, and the login page it leads to is English despite a Chinese browser.
    let mut c = t.client();
    c.headers
        .push(("accept-language".into(), "zh-CN,zh;q=0.9".into()));
    let res = c.get("/cas/portal?lang=en").await;
    assert!((300..400).contains(&res.status), "{}", res.status);
    assert!(res
        .set_cookie("unicas_lang")
        .is_some_and(|v| v.starts_with("unicas_lang=en")));
    let next = c.get(res.location()).await;
    assert!(next.body.contains(english), "{}", next.body);
    // And the switch back wins over the browser too.
    c.get("/cas/login?lang=zh-CN").await;
    assert!(!c.get("/cas/login").await.body.contains(english));
    // Never on an asset, which a cache may hand to everyone.
    let css = t.client().get("/cas/assets/unicas.css?lang=en").await;
    assert_eq!(css.status, 200);
    assert!(css.set_cookie("unicas_lang").is_none());
}

/// docs/security.md D07, D08, L07
#[tokio::test]
async fn password_login_redirects_with_a_ticket_and_sets_a_hardened_tgc() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let res = c.login("alice", PASSWORD, Some(SERVICE)).await;
    assert_eq!(res.status, 302);
    assert!(res
        .location()
        .starts_with("https://app.test/home?ticket=ST-"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let tgc = res.set_cookie("CASTGC").unwrap();
    for flag in ["Path=/cas", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(tgc.contains(flag), "{tgc} lacks {flag}");
    }
    assert!(
        !tgc.contains("Max-Age") && !tgc.contains("Domain"),
        "a session cookie: {tgc}"
    );
    let value = c.jar["CASTGC"].clone();
    assert!(value.starts_with("TGT-") && value.len() >= 25);
    // The database keeps only the hash of the session id.
    let tables = dump_database(&t.config.db);
    let sessions = tables
        .iter()
        .find(|(table, _)| table == "sso_sessions")
        .unwrap();
    assert_eq!(sessions.1.len(), 1, "the session is stored");
    assert!(
        tables
            .iter()
            .flat_map(|(_, rows)| rows)
            .all(|row| !row.contains(&value)),
        "the session id in clear"
    );
    // SSO: no form the second time, a new ticket each time.
    let again = c.get(&login_path(SERVICE)).await;
    assert_eq!(again.status, 302);
    assert_ne!(again.ticket(), res.ticket());
    // Without a service: on to the portal, which knows who it is.
    let without = c.get("/cas/login").await;
    assert_eq!(without.status, 303);
    assert_eq!(without.location(), "/cas/portal");
    let portal = c.get("/cas/portal").await;
    assert!(portal.body.contains("综合服务大厅") && portal.body.contains("User alice (alice)"));
}

/// docs/security.md E01
#[tokio::test]
async fn every_failure_looks_the_same_and_answers_401() {
    let t = TestServer::start().await;
    t.add_user("carol", PASSWORD, false, &[]);
    t.server
        .store
        .set_status("carol", unicas::model::Status::Locked, t.clock().now())
        .unwrap();
    let mut bodies = Vec::new();
    for (user, pw) in [
        ("alice", "wrong"),
        ("zz999", "wrong"),
        ("carol", PASSWORD),
        ("carol", "wrong"),
    ] {
        let mut c = t.client();
        let res = c.login(user, pw, Some(SERVICE)).await;
        assert_eq!(res.status, 401, "{user}");
        assert!(res.set_cookie("CASTGC").is_none());
        let body = res
            .body
            .replace(&res.input("execution").unwrap(), "")
            .replace(&res.salt(), "")
            .replace(user, "");
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert!(bodies[0].contains("用户名或密码错误"));
}

/// docs/security.md E07
#[tokio::test]
async fn account_names_are_canonical() {
    let t = TestServer::start().await;
    for variant in ["ALICE", " alice ", "ａｌｉｃｅ"] {
        let res = t.client().login(variant, PASSWORD, Some(SERVICE)).await;
        assert_eq!(res.status, 302, "{variant}");
    }
}

/// docs/security.md D01, D02
#[tokio::test]
async fn form_tokens_are_single_use_and_bound_to_the_browser() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let form = c.get(&login_path(SERVICE)).await;
    let token = form.input("execution").unwrap();
    let fields = |tok: &str| {
        vec![
            ("username", "alice"),
            ("password", PASSWORD),
            ("service", SERVICE),
            ("execution", tok),
        ]
        .into_iter()
        .map(|(a, b)| (a, b.to_string()))
        .collect::<Vec<_>>()
    };
    // Another browser (no flow cookie, or its own) cannot use this token.
    let mut other = t.client();
    let f = fields(&token);
    let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(other.post("/cas/login", &refs).await.status, 403);
    other.get("/cas/login").await;
    assert_eq!(other.post("/cas/login", &refs).await.status, 403);
    // One attempt spends it, failed or not: the right browser cannot try again with it.
    let mut wrong = refs.clone();
    wrong[1] = ("password", "wrong");
    assert_eq!(c.post("/cas/login", &wrong).await.status, 401);
    assert_eq!(c.post("/cas/login", &refs).await.status, 403);
    // No token at all.
    assert_eq!(c.post("/cas/login", &refs[..3]).await.status, 403);
    let res = c.login("alice", PASSWORD, Some(SERVICE)).await;
    assert_eq!(res.status, 302);
}

/// docs/security.md D05
#[tokio::test]
async fn a_cookie_set_before_login_is_never_the_session() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let planted = "TGT-attackerchosenvalue000000000".to_string();
    c.jar.insert("CASTGC".into(), planted.clone());
    let res = c.login("alice", PASSWORD, Some(SERVICE)).await;
    assert_eq!(res.status, 302);
    assert_ne!(c.jar["CASTGC"], planted);
    let mut attacker = t.client();
    attacker.jar.insert("CASTGC".into(), planted);
    assert_eq!(attacker.get(&login_path(SERVICE)).await.status, 200);
}

/// docs/security.md D06
#[tokio::test]
async fn renew_asks_again_and_rotates_the_session() {
    let t = TestServer::start().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, Some(SERVICE)).await;
    let old = c.jar["CASTGC"].clone();
    let form = c.get(&format!("{}&renew=true", login_path(SERVICE))).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.input("renew").as_deref(), Some("true"));
    let token = form.input("execution").unwrap();
    let fields = [
        ("username", "alice"),
        ("password", PASSWORD),
        ("service", SERVICE),
        ("renew", "true"),
        ("execution", &token),
    ];
    let res = c.post("/cas/login", &fields).await;
    assert_eq!(res.status, 302);
    assert_ne!(c.jar["CASTGC"], old);
    // The old session is revoked, not merely replaced in this browser.
    let mut replay = t.client();
    replay.jar.insert("CASTGC".into(), old);
    assert_eq!(replay.get(&login_path(SERVICE)).await.status, 200);
    assert_eq!(
        c.get(&login_path(SERVICE)).await.status,
        302,
        "the new one works"
    );
}

/// docs/security.md B01
#[tokio::test]
async fn gateway_redirects_without_a_ticket_when_there_is_no_session() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let res = c
        .get(&format!("{}&gateway=true", login_path(SERVICE)))
        .await;
    assert_eq!(res.status, 302);
    assert_eq!(res.location(), SERVICE);
    c.login("alice", PASSWORD, None).await;
    let res = c
        .get(&format!("{}&gateway=true", login_path(SERVICE)))
        .await;
    assert!(res.location().contains("ticket=ST-"));
}

/// docs/security.md B01, B02, B03, B04, B05, B06, B07, B08, B10, B11, C01
#[tokio::test]
async fn unregistered_and_hostile_services_are_never_redirected_to() {
    let t = TestServer::start().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let hostile = "https://evil.test/\"><script>alert(1)</script>";
    for service in [
        hostile,
        "javascript:alert(1)",
        "//evil.test/",
        "https://app.test/home@evil.test",
    ] {
        for extra in ["", "&gateway=true", "&renew=true", "&method=POST"] {
            let res = c.get(&format!("{}{extra}", login_path(service))).await;
            assert_eq!(res.status, 403, "{service}{extra}");
            assert!(res.header("location").is_none());
            assert!(!res.body.contains("<script>alert"), "escaped");
            assert!(res.body.contains("应用未授权"));
        }
    }
    let res = c
        .get(&format!(
            "/cas/logout?service={}",
            enc("https://evil.test/")
        ))
        .await;
    assert_eq!(res.status, 200);
    assert!(res.header("location").is_none());
}

/// docs/security.md B13, L06
#[tokio::test]
async fn method_post_answers_an_auto_submitting_form() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let res = c
        .login_with("alice", PASSWORD, Some(SERVICE), &[("method", "POST")])
        .await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains(&format!("action=\"{SERVICE}\"")));
    assert!(res.input("ticket").unwrap().starts_with("ST-"));
    // The form posts to the application, and whatever it redirects to next must load.
    assert!(!res
        .header("content-security-policy")
        .unwrap()
        .contains("form-action"));
    let st = res.input("ticket").unwrap();
    assert_eq!(
        c.get(&validate_path("validate", SERVICE, &st)).await.body,
        "yes\nalice\n"
    );
}

/// docs/security.md D07, D13
#[tokio::test]
async fn remember_me_makes_a_persistent_cookie_and_is_reported() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let res = c
        .login_with("alice", PASSWORD, Some(SERVICE), &[("rememberMe", "true")])
        .await;
    assert!(res.set_cookie("CASTGC").unwrap().contains("Max-Age=604800"));
    let st = res.ticket();
    let (_, attrs) = parse_cas(
        &c.get(&validate_path("p3/serviceValidate", SERVICE, &st))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(
        attrs[1],
        (
            "longTermAuthenticationRequestTokenUsed".into(),
            "true".into()
        )
    );
    // Outlives the ordinary idle timeout.
    t.clock().advance(3 * 3600);
    assert_eq!(c.get(&login_path(SERVICE)).await.status, 302);
}

/// docs/security.md D09, K06
#[tokio::test]
async fn sessions_end_at_idle_and_absolute_limits() {
    let t = TestServer::start().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    t.clock().advance(7200 - 60);
    assert_eq!(
        c.get(&login_path(SERVICE)).await.status,
        302,
        "within idle time"
    );
    t.clock().advance(7200 + 1);
    assert_eq!(
        c.get(&login_path(SERVICE)).await.status,
        200,
        "idle too long"
    );
    c.login("alice", PASSWORD, None).await;
    for _ in 0..9 {
        t.clock().advance(3500);
        c.get(&login_path(SERVICE)).await;
    }
    assert_eq!(
        c.get(&login_path(SERVICE)).await.status,
        200,
        "past 8 hours despite activity"
    );
    t.server.sweep().await;
}

/// docs/security.md A12, B12
#[tokio::test]
async fn logout_ends_the_session_and_redirects_only_to_registered_services() {
    let t = TestServer::start().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let old = c.jar["CASTGC"].clone();
    let res = c
        .get(&format!("/cas/logout?service={}", enc(SERVICE)))
        .await;
    assert_eq!(res.status, 302);
    assert_eq!(res.location(), SERVICE);
    assert!(res.set_cookie("CASTGC").unwrap().contains("Max-Age=0"));
    let mut replay = t.client();
    replay.jar.insert("CASTGC".into(), old);
    assert_eq!(replay.get(&login_path(SERVICE)).await.status, 200);
    let page = t
        .client()
        .get(&format!("/cas/logout?url={}", enc(SERVICE)))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("已退出登录") && page.body.contains(&format!("href=\"{SERVICE}\"")));
}

/// docs/security.md H07, H08
#[tokio::test]
async fn must_change_accounts_change_their_password_before_any_session() {
    let t = TestServer::start().await;
    t.add_user("bob", "123456", true, &[]);
    let mut c = t.client();
    let res = c.login("bob", "123456", Some(SERVICE)).await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("修改密码"));
    assert!(res.body.contains("密码规则"), "the rules beside the field");
    assert!(res.set_cookie("CASTGC").is_none());
    let token = res.input("execution").unwrap();
    let step = |current: &'static str, new: &'static str, confirm: &'static str| {
        vec![
            ("execution", token.clone()),
            ("password", current.to_string()),
            ("newPassword", new.to_string()),
            ("confirmPassword", confirm.to_string()),
        ]
    };
    for (fields, message) in [
        (step("123456", "abc", "abc"), "不符合学校密码要求"),
        (
            step("123456", "New-Pass-2026", "New-Pass-2027"),
            "两次输入的密码不一致",
        ),
        (
            step("wrong", "New-Pass-2026", "New-Pass-2026"),
            "当前密码不正确",
        ),
        (step("123456", "P@ssw0rd!", "P@ssw0rd!"), "过于常见"),
    ] {
        let refused = c.post_owned("/cas/login/first/password", &fields).await;
        assert_eq!(refused.status, 400);
        assert!(
            refused.body.contains(message),
            "{message}: {}",
            refused.body
        );
    }
    let mut other = t.client();
    let stolen = other
        .post_owned(
            "/cas/login/first/password",
            &step("123456", "New-Pass-2026", "New-Pass-2026"),
        )
        .await;
    assert_eq!(stolen.status, 403);
    // "我已完成" before the password is changed: the steps again, no session.
    let early = c
        .post("/cas/login/first/done", &[("execution", &token)])
        .await;
    assert_eq!(early.status, 400);
    assert!(early.set_cookie("CASTGC").is_none());
    let changed = c
        .post_owned(
            "/cas/login/first/password",
            &step("123456", "New-Pass-2026", "New-Pass-2026"),
        )
        .await;
    assert_eq!(changed.status, 303);
    assert!(!c.jar.contains_key("CASTGC"), "no session before 我已完成");
    let done = c
        .post("/cas/login/first/done", &[("execution", &token)])
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(done
        .location()
        .starts_with("https://app.test/home?ticket=ST-"));
    assert!(c.jar.contains_key("CASTGC"));
    assert_eq!(t.client().login("bob", "123456", None).await.status, 401);
    assert_eq!(
        t.client()
            .login("bob", "New-Pass-2026", Some(SERVICE))
            .await
            .status,
        302
    );
}

/// Issue "Day one" 2: 在线帮助 says what a student asks the counter (the X, no bound phone,
/// QR and WeCom), and the school's desk and its own items when configured, in each language.
#[tokio::test]
async fn the_help_page_is_the_schools_own() {
    let built_in = TestServer::start().await;
    let page = built_in.client().get("/cas/help").await.body;
    for needed in ["X 或 x 均可", "没有绑定手机和邮箱", "企业微信", "服务台"] {
        assert!(page.contains(needed), "{needed}: {page}");
    }
    let t = TestServer::start_with(|c| {
        c.help.desk = "信息中心服务台".into();
        c.help.phone = "0571-8888 0000".into();
        c.help.hours_en = "Weekdays 8:00-17:30".into();
        c.help.items = vec!["新生请于开学前<完成>激活。".into()];
    })
    .await;
    let zh = t.client().get("/cas/help").await.body;
    assert!(
        zh.contains("信息中心服务台") && zh.contains("0571-8888 0000"),
        "{zh}"
    );
    assert!(
        zh.contains("新生请于开学前&lt;完成&gt;激活。"),
        "escaped: {zh}"
    );
    assert!(
        !zh.contains("X 或 x 均可"),
        "the school's items replace the built-in ones"
    );
    let en = t.client().get("/cas/help?lang=en").await.body;
    assert!(en.contains("Weekdays 8:00-17:30") && en.contains("0571-8888 0000"));
    assert!(
        en.contains("href=\"tel:057188880000\""),
        "dials from a phone: {en}"
    );
    assert!(
        en.contains("X and x both work"),
        "no English items set: the built-in ones"
    );
    assert!(
        !en.contains("信息中心服务台"),
        "no English desk name set: none shown"
    );
}

/// docs/security.md L10
#[tokio::test]
async fn help_assets_and_unknown_paths() {
    let t = TestServer::start().await;
    let mut c = t.client();
    assert!(c.get("/cas/help").await.body.contains("IE10"));
    let css = c.get("/cas/assets/unicas.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    for bad in [
        "/cas/assets/../schema.sql",
        "/cas/assets/%2e%2e/Cargo.toml",
        "/cas/assets/",
        "/.git/config",
        "/cas/nope",
    ] {
        assert_eq!(c.get(bad).await.status, 404, "{bad}");
    }
    assert_eq!(c.get("/cas/").await.location(), "/cas/login");
}

/// Issue "Defects found from outside" #3, docs/security.md B03: a service whose raw form has no
/// `//` after the scheme parses to a host, but browsers resolve the raw string against our
/// own origin: it is refused, not redirected to.
#[tokio::test]
async fn services_without_an_authority_in_their_raw_form_are_refused() {
    let t = TestServer::start().await;
    t.add_service("http://127.0.0.1:9911/*", None);
    for raw in [
        "http:/127.0.0.1:9911/x",
        "http:127.0.0.1:9911/x",
        "http:///127.0.0.1:9911/x",
        "//127.0.0.1:9911/x",
    ] {
        let mut c = t.client();
        for path in [login_path(raw), format!("{}&gateway=true", login_path(raw))] {
            let res = c.get(&path).await;
            assert_eq!(res.status, 403, "{raw}");
            assert!(res.header("location").is_none());
        }
        c.login("alice", PASSWORD, None).await;
        let res = c.get(&login_path(raw)).await;
        assert_eq!(res.status, 403, "{raw} with a session");
    }
    let ok = t
        .client()
        .login("alice", PASSWORD, Some("http://127.0.0.1:9911/x"))
        .await;
    assert_eq!(ok.status, 302);
}

/// Issue "Defects found from outside" #4: a second CASTGC (planted by a sibling subdomain or
/// another path) means no SSO session, and the next login clears both.
#[tokio::test]
async fn two_sso_cookies_are_no_session_and_are_replaced() {
    let t = TestServer::start().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let real = c.jar["CASTGC"].clone();
    for cookies in [
        format!("CASTGC={real}; CASTGC=TGT-planted0000000000000000000"),
        format!("CASTGC=TGT-planted0000000000000000000; CASTGC={real}"),
    ] {
        let mut other = t.client();
        let res = other
            .send("GET", &login_path(SERVICE), &[("cookie", &cookies)], "")
            .await;
        assert_eq!(res.status, 200, "the login form, no ticket");
        assert!(res.header("location").is_none());
    }
    // Logging in with both present sets ours and clears the planted one at the root.
    let mut c = t.client();
    let form = c.get(&login_path(SERVICE)).await;
    let token = form.input("execution").unwrap();
    let flow = c.jar["UNICAS_FLOW"].clone();
    let body = format!(
        "username=alice&password={}&service={}&execution={}",
        enc(PASSWORD),
        enc(SERVICE),
        enc(&token)
    );
    let cookies =
        format!("UNICAS_FLOW={flow}; CASTGC={real}; CASTGC=TGT-planted0000000000000000000");
    c.jar.clear();
    let res = c
        .send(
            "POST",
            "/cas/login",
            &[
                ("cookie", &cookies),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            &body,
        )
        .await;
    assert_eq!(res.status, 302);
    let set: Vec<&str> = res
        .all("set-cookie")
        .into_iter()
        .filter(|c| c.starts_with("CASTGC="))
        .collect();
    assert!(
        set.iter()
            .any(|c| c.contains("Path=/;") && c.contains("Max-Age=0")),
        "{set:?}"
    );
    assert!(
        set.last().unwrap().contains("Path=/cas;") && !set.last().unwrap().contains("Max-Age=0")
    );
}

/// Issue "Defects found from outside" #5: with a public URL at the root, cookies get
/// `Path=/` (an empty Path is read as the request's directory), so logout ends the session.
#[tokio::test]
async fn at_the_root_cookies_cover_every_path_and_logout_works() {
    let t = TestServer::start_with(|c| c.public_url = "https://cas.test/".into()).await;
    let mut c = t.client();
    let form = c.get("/login").await;
    assert_eq!(form.status, 200);
    let token = form.input("execution").unwrap();
    assert!(form.set_cookie("UNICAS_FLOW").unwrap().contains("Path=/;"));
    let res = c
        .post(
            "/login",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("execution", &token),
                ("service", SERVICE),
            ],
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    let tgc = res.set_cookie("CASTGC").unwrap();
    assert!(tgc.contains("Path=/;"), "{tgc}");
    let out = c.get("/logout").await;
    assert!(out.set_cookie("CASTGC").unwrap().contains("Path=/;"));
    let mut replay = t.client();
    replay.jar.insert(
        "CASTGC".into(),
        tgc.split(';').next().unwrap()[7..].to_string(),
    );
    assert_eq!(
        replay
            .get(&format!("/login?service={}", enc(SERVICE)))
            .await
            .status,
        200
    );
}

/// Issue "Defects found from outside" #7, docs/security.md L06: HSTS on every response when users
/// reach the server over https, and never over plain http.
#[tokio::test]
async fn hsts_follows_the_public_url() {
    let t = TestServer::start().await;
    let mut c = t.client();
    for path in [
        "/cas/login",
        "/cas/nope",
        "/cas/assets/unicas.css",
        "/cas/serviceValidate",
    ] {
        let res = c.get(path).await;
        assert_eq!(
            res.header("strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    let plain = TestServer::start_with(|c| c.public_url = "http://cas.test/cas".into()).await;
    assert!(plain
        .client()
        .get("/cas/login")
        .await
        .header("strict-transport-security")
        .is_none());
}

/// docs/security.md B15: a registered service of 8 KB is served with its page echo bounded; a
/// 60 KB one never reaches a handler (414 or 431).
#[tokio::test]
async fn very_long_services_are_bounded() {
    let t = TestServer::start().await;
    t.add_service("https://app.test/long/*", None);
    let long = format!("https://app.test/long/{}", "a".repeat(8 * 1024));
    let res = t.client().get(&login_path(&long)).await;
    assert_eq!(res.status, 403, "over the 2 KB service cap: not registered");
    assert!(res.body.len() < 20 * 1024);
    let huge = format!("https://app.test/long/{}", "a".repeat(60 * 1024));
    let res = t.client().get(&login_path(&huge)).await;
    assert!(res.status == 414 || res.status == 431, "{}", res.status);
}

/// docs/security.md B05: no service with user info is ever redirected to, even where a loose
/// pattern would take its text (here a regex that any prefix before `app.test/` satisfies):
/// only the user-info rule refuses these.
#[tokio::test]
async fn services_with_user_info_are_refused_whatever_the_pattern() {
    let t = TestServer::start().await;
    t.register(unicas::model::NewService {
        name: "loose".into(),
        pattern: r"^https://.*app\.test/.*$".into(),
        ..unicas::model::NewService::default()
    });
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let fine = c.get(&login_path("https://www.app.test/portal/")).await;
    assert_eq!(fine.status, 302, "the pattern itself is fine");
    for service in [
        "https://u:p@app.test/portal/",
        "https://u@app.test/portal/",
        "https://u:p@www.app.test/portal/",
    ] {
        let res = c.get(&login_path(service)).await;
        assert_eq!(res.status, 403, "{service}");
        assert!(res.header("location").is_none(), "{service}");
    }
}
