//! The admin console (管理控制台): who may enter (an administrator, logged in through unicas,
//! past a second factor), its own CSRF token, and every action it offers, each audited under
//! the administrator's account.

use crate::support::receiver::Receiver;
use crate::support::*;
use unicas::model::{Kind, LogoutType, NewAccount, NewService};

const ADMIN: &str = "it01";
const ADMIN_PHONE: &str = "+8613900139000";

fn add_admin(t: &TestServer, id: &str, phone: Option<&str>) {
    let mut account =
        NewAccount::new(id, "信息中心管理员", Kind::Admin, "信息中心", "", "", &[]).unwrap();
    account.password_hash = unicas::accounts::hash_now(PASSWORD, 4).unwrap();
    let store = &t.server.store;
    assert!(store.insert_account(&account, t.clock().now()).unwrap());
    if let Some(phone) = phone {
        t.bind(id, "phone", phone);
    }
}

/// The administrator's audit rows of `event`: their details.
fn audited(t: &TestServer, account: &str, event: &str) -> Vec<String> {
    let filter = unicas::store::AuditFilter {
        account: account.into(),
        event: event.into(),
        ..Default::default()
    };
    t.server
        .store
        .audit_search(&filter, 1000)
        .unwrap()
        .into_iter()
        .map(|r| r.detail)
        .collect()
}

/// A browser of an administrator (added here, with a phone) past the second factor.
pub async fn admin_console(t: &TestServer) -> Client {
    add_admin(t, ADMIN, Some(ADMIN_PHONE));
    console(t).await.0
}

/// Logs the administrator in and passes the SMS second factor: the browser, and the
/// console's CSRF token.
async fn console(t: &TestServer) -> (Client, String) {
    let mut c = t.client();
    assert_eq!(c.login(ADMIN, PASSWORD, None).await.status, 303);
    let gate = c.get("/cas/admin").await;
    let sent = c
        .post(
            "/cas/admin/verify",
            &[
                ("execution", &gate.token_for("/cas/admin/verify")),
                ("action", "send"),
            ],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let code = t
        .sms_code(ADMIN_PHONE)
        .await
        .expect("a code to the admin's phone");
    let entered = c
        .post(
            "/cas/admin/verify",
            &[
                ("execution", &sent.token_for("/cas/admin/verify")),
                ("action", "sms"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!((entered.status, entered.location()), (303, "/cas/admin"));
    let home = c.get("/cas/admin").await;
    assert_eq!(home.status, 200);
    let csrf = home.input("csrf").unwrap_or_default();
    // The overview has no form; any console page carries the token in its forms.
    let csrf = match csrf.is_empty() {
        true => c
            .get("/cas/admin/totp")
            .await
            .input("csrf")
            .expect("the console token"),
        false => csrf,
    };
    (c, csrf)
}

/// Issue "Operations", done means: a non-admin, an admin without the second factor and a
/// forged CSRF token all fail; the second factor is audited; the console is never cached.
/// docs/security.md D03 (admin actions), D11 (a console lock ends the session and its tickets).
#[tokio::test]
async fn only_an_administrator_past_the_second_factor_acts() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    let lock_alice = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("id", "alice".into()),
            ("action", "lock".into()),
        ]
    };
    let alice_status = || t.server.store.account("alice").unwrap().unwrap().status;

    let anonymous = t.client().get("/cas/admin").await;
    assert_eq!(
        (anonymous.status, anonymous.location()),
        (302, "/cas/login")
    );

    let mut student = t.client();
    student.login("alice", PASSWORD, None).await;
    let refused = student.get("/cas/admin/accounts?q=alice").await;
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .body
            .contains("The admin console is for administrator accounts")
            || refused.body.contains("管理控制台")
    );
    assert_eq!(
        student
            .post_owned("/cas/admin/account", &lock_alice("x"))
            .await
            .status,
        403
    );

    // An administrator without the second factor sees only the second-factor page.
    let mut admin = t.client();
    admin.login(ADMIN, PASSWORD, None).await;
    let gate = admin.get("/cas/admin/accounts?q=alice").await;
    assert_eq!(gate.status, 200);
    assert!(
        gate.body.contains("第二重验证") && gate.body.contains("139****9000"),
        "{}",
        gate.body
    );
    assert!(!gate.body.contains("User alice") && gate.input("csrf").is_none());
    assert_eq!(
        admin
            .post_owned("/cas/admin/account", &lock_alice("x"))
            .await
            .status,
        403
    );
    let service = [
        ("csrf", "x"),
        ("id", "new"),
        ("name", "x"),
        ("pattern", "https://x.test/*"),
    ];
    assert_eq!(admin.post("/cas/admin/service", &service).await.status, 403);

    // A wrong code is refused and audited.
    let wrong = admin
        .post(
            "/cas/admin/verify",
            &[
                ("execution", &gate.token_for("/cas/admin/verify")),
                ("action", "sms"),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(audited(&t, ADMIN, "identity_not_confirmed").len(), 1);
    assert_eq!(alice_status(), unicas::model::Status::Active);

    let (mut admin, csrf) = console(&t).await;
    assert_eq!(audited(&t, ADMIN, "admin_entered"), vec!["sms code"]);
    let home = admin.get("/cas/admin").await;
    assert_eq!(home.header("cache-control"), Some("no-store"));
    assert!(
        home.body.contains("概览") && home.body.contains("login_success"),
        "{}",
        home.body
    );

    // With the grant: a forged, a missing and a cross-site token are refused.
    for forged in ["", "forged-token"] {
        assert_eq!(
            admin
                .post_owned("/cas/admin/account", &lock_alice(forged))
                .await
                .status,
            403
        );
    }
    let no_token = admin
        .post("/cas/admin/account", &[("id", "alice"), ("action", "lock")])
        .await;
    assert_eq!(no_token.status, 403);
    let body = format!("csrf={csrf}&id=alice&action=lock");
    let cross_site = admin
        .send(
            "POST",
            "/cas/admin/account",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", "https://evil.test"),
            ],
            &body,
        )
        .await;
    assert_eq!(cross_site.status, 403);
    let fetch_cross_site = admin
        .send(
            "POST",
            "/cas/admin/account",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "cross-site"),
            ],
            &body,
        )
        .await;
    assert_eq!(fetch_cross_site.status, 403);
    // The same action by GET changes nothing; the console's POST-only paths answer 405.
    let by_get = admin
        .get(&format!(
            "/cas/admin/account?id=alice&action=lock&csrf={csrf}"
        ))
        .await;
    assert_eq!(by_get.status, 200);
    for path in ["/cas/admin/verify", "/cas/admin/sessions"] {
        assert_eq!(admin.get(path).await.status, 405, "{path}");
    }
    // The token of one administrator's console is not another's.
    let mut student_with_token = t.client();
    student_with_token.login("alice", PASSWORD, None).await;
    assert_eq!(
        student_with_token
            .post_owned("/cas/admin/account", &lock_alice(&csrf))
            .await
            .status,
        403
    );
    assert_eq!(alice_status(), unicas::model::Status::Active);
    assert!(audited(&t, ADMIN, "admin_action").is_empty());

    // Alice holds a session and an outstanding ticket when the console locks her.
    let outstanding = student
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await
        .ticket();
    let done = admin
        .post_owned("/cas/admin/account", &lock_alice(&csrf))
        .await;
    assert_eq!(
        (done.status, done.location()),
        (303, "/cas/admin/account?id=alice&done=lock")
    );
    assert_eq!(alice_status(), unicas::model::Status::Locked);
    assert_eq!(audited(&t, ADMIN, "admin_action"), vec!["lock alice"]);
    let refused = t
        .client()
        .get(&validate_path("serviceValidate", SERVICE, &outstanding))
        .await;
    assert_eq!(parse_cas(&refused.body).unwrap_err().0, "INVALID_TICKET");
    let again = student
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await;
    assert!(
        again.body.contains("name=\"password\""),
        "the login form, no ticket"
    );

    // Another browser of the same administrator is another session: its own second factor.
    let mut other = t.client();
    other.login(ADMIN, PASSWORD, None).await;
    assert!(other.get("/cas/admin").await.body.contains("第二重验证"));

    // The grant is shorter than the SSO session: 15 idle minutes and it asks again.
    t.clock().advance(14 * 60);
    assert!(admin.get("/cas/admin").await.body.contains("概览"));
    t.clock().advance(16 * 60);
    let again = admin.get("/cas/admin").await;
    assert!(again.body.contains("第二重验证"), "{}", again.body);
    assert_eq!(
        admin.get("/cas/portal").await.status,
        200,
        "the SSO session lives on"
    );
    assert_eq!(
        admin
            .post_owned("/cas/admin/account", &lock_alice(&csrf))
            .await
            .status,
        403
    );
}

/// Enters the console with an authenticator code, from the second-factor page `gate`.
async fn enter(c: &mut Client, gate: &Resp, code: String) -> Resp {
    let token = gate.token_for("/cas/admin/verify");
    let form = [
        ("execution", token),
        ("action", "totp".into()),
        ("code", code),
    ];
    c.post_owned("/cas/admin/verify", &form).await
}

/// Issue "Operations": TOTP with a QR enrolment. The QR code is what an authenticator app
/// reads; the first code confirms it; later entries take a code, each time step once.
#[tokio::test]
async fn an_administrator_enrols_an_authenticator_and_enters_with_it() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    let (mut admin, csrf) = console(&t).await;

    let page = admin.get("/cas/admin/totp").await;
    assert_eq!(page.status, 200);
    // The QR code is inside the page (the secret has no URL of its own).
    let start = page.body.find("src=\"data:image/png;base64,").unwrap() + 27;
    let end = start + page.body[start..].find('"').unwrap();
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &page.body[start..end],
    )
    .unwrap();
    let picture = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        picture.width() as usize,
        picture.height() as usize,
        |x, y| picture.get_pixel(x as u32, y as u32).0[0],
    );
    let (_, uri) = prepared.detect_grids()[0].decode().unwrap();
    let parsed = url::Url::parse(&uri).unwrap();
    assert_eq!(parsed.scheme(), "otpauth");
    assert_eq!(parsed.host_str(), Some("totp"));
    let secret = parsed
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .unwrap()
        .1
        .into_owned();
    assert!(secret.len() >= 32, "160 bits: {secret}");
    let start = page.body.find("<code class=\"secret\">").unwrap() + 21;
    let shown = &page.body[start..start + page.body[start..].find('<').unwrap()];
    assert_eq!(shown.replace(' ', ""), secret, "also shown for typing in");

    let wrong = admin
        .post_owned(
            "/cas/admin/totp",
            &[("csrf", csrf.clone()), ("code", "123456".into())],
        )
        .await;
    assert_eq!(wrong.status, 400);
    let now = t.clock().now();
    let confirmed = admin
        .post_owned(
            "/cas/admin/totp",
            &[
                ("csrf", csrf.clone()),
                ("code", authenticator_code(&secret, now)),
            ],
        )
        .await;
    assert_eq!(confirmed.status, 303);
    assert!(admin.get("/cas/admin/totp").await.body.contains("已登记"));
    assert_eq!(
        audited(&t, ADMIN, "admin_action"),
        vec![format!("enrol authenticator {ADMIN}")]
    );

    let mut next = t.client();
    next.login(ADMIN, PASSWORD, None).await;
    let gate = next.get("/cas/admin").await;
    assert!(gate.body.contains("动态口令"), "{}", gate.body);
    // The code that confirmed the enrolment is spent.
    let replay = enter(&mut next, &gate, authenticator_code(&secret, now)).await;
    assert_eq!(replay.status, 401);
    t.clock().advance(30);
    let fresh = authenticator_code(&secret, t.clock().now());
    let entered = enter(&mut next, &replay, fresh.clone()).await;
    assert_eq!((entered.status, entered.location()), (303, "/cas/admin"));
    assert!(next.get("/cas/admin").await.body.contains("概览"));
    assert_eq!(
        audited(&t, ADMIN, "admin_entered"),
        vec!["totp", "sms code"]
    );

    // The same code from another browser (read over a shoulder) is refused.
    let mut thief = t.client();
    thief.login(ADMIN, PASSWORD, None).await;
    let gate = thief.get("/cas/admin").await;
    assert_eq!(enter(&mut thief, &gate, fresh).await.status, 401);

    // A lost authenticator is removed from the command line; the phone still works.
    let (ok, out, err) = unicas(&t.config.db, &["user", "unbind", ADMIN, "totp"]);
    assert!(ok, "{out}{err}");
    let gate = thief.get("/cas/admin").await;
    assert!(!gate.body.contains("value=\"totp\"") && gate.body.contains("value=\"send\""));
}

/// Issue "Operations", accounts: search by account, name, department and phone (masked in
/// the list); one account's bindings, sign-ins and sessions; every action, audited.
/// docs/security.md I02 (`%` and `_` match literally), H10 (the reset's temporary password).
#[tokio::test]
async fn accounts_are_found_and_managed_from_the_console() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    t.bind("alice", "phone", "+8613800138000");
    t.bind("alice", "email", "alice.private@example.com");
    t.bind("alice", "wecom", "wx-alice");
    t.add_user("bob", PASSWORD, false, &[]);
    let mut alice = t.client_from("127.0.0.7");
    alice.login("alice", PASSWORD, None).await;
    let (mut admin, csrf) = console(&t).await;

    for (q, finds_bob) in [
        ("alice", false),
        ("User alice", false),
        ("Physics", true),
        ("138 0013 8000", false),
    ] {
        let list = admin
            .get(&format!("/cas/admin/accounts?q={}", enc(q)))
            .await;
        assert!(
            list.body.contains("/cas/admin/account?id=alice"),
            "{q}: {}",
            list.body
        );
        assert_eq!(list.body.contains("?id=bob"), finds_bob, "{q}");
        assert!(
            list.body.contains("138****8000") && !list.body.contains("13800138000"),
            "{q}"
        );
    }
    for literal in ["nobody-at-all", "%", "_", "a%e", "_lice"] {
        let list = admin
            .get(&format!("/cas/admin/accounts?q={}", enc(literal)))
            .await;
        assert!(!list.body.contains("?id="), "{literal}: {}", list.body);
    }

    let page = admin.get("/cas/admin/account?id=alice").await;
    for shown in [
        "138****8000",
        "a***@example.com",
        "127.0.0.7",
        "password",
        "unbind-wecom",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(!page.body.contains("alice.private") && !page.body.contains("wx-alice"));

    // Each action as its confirmation page posts it.
    let act = |action: &str| {
        [
            ("csrf", csrf.clone()),
            ("id", "alice".to_string()),
            ("action", action.to_string()),
            ("confirm", "yes".to_string()),
        ]
    };
    // Ending her sessions logs her browser out.
    assert_eq!(
        admin
            .post_owned("/cas/admin/account", &act("logout"))
            .await
            .status,
        303
    );
    assert!(
        alice
            .get("/cas/login")
            .await
            .body
            .contains("name=\"password\""),
        "logged out"
    );
    assert!(t.server.store.sessions_of("alice").unwrap().is_empty());

    for kind in ["phone", "email", "wecom"] {
        let res = admin
            .post_owned("/cas/admin/account", &act(&format!("unbind-{kind}")))
            .await;
        assert_eq!(res.status, 303, "{kind}");
        assert!(
            t.server.store.binding("alice", kind).unwrap().is_none(),
            "{kind}"
        );
    }
    let again = admin
        .post_owned("/cas/admin/account", &act("unbind-phone"))
        .await;
    assert_eq!(again.status, 404, "nothing left to unbind");
    assert_eq!(
        admin
            .post_owned("/cas/admin/account", &act("unbind-anything"))
            .await
            .status,
        400
    );

    // The temporary password is shown once; it logs in only to a forced change.
    let reset = admin.post_owned("/cas/admin/account", &act("reset")).await;
    assert_eq!(reset.status, 200);
    let start = reset.body.find("<code class=\"slip-password\">").unwrap()
        + "<code class=\"slip-password\">".len();
    let temporary = reset.body[start..start + reset.body[start..].find('<').unwrap()].to_string();
    assert!(temporary.len() >= 10, "{temporary}");
    assert!(!admin
        .get("/cas/admin/account?id=alice")
        .await
        .body
        .contains(&temporary));
    assert!(
        t.server
            .store
            .account("alice")
            .unwrap()
            .unwrap()
            .must_change
    );
    assert_eq!(t.client().login("alice", PASSWORD, None).await.status, 401);
    let forced = t.client().login("alice", &temporary, None).await;
    assert!(
        forced.body.contains("name=\"newPassword\""),
        "{}",
        forced.body
    );

    for (action, status) in [
        ("disable", "disabled"),
        ("unlock", "active"),
        ("lock", "locked"),
    ] {
        assert_eq!(
            admin
                .post_owned("/cas/admin/account", &act(action))
                .await
                .status,
            303
        );
        let now = t.server.store.account("alice").unwrap().unwrap().status;
        assert_eq!(now.as_str(), status, "{action}");
    }
    let no_one = admin
        .post_owned(
            "/cas/admin/account",
            &[
                ("csrf", csrf.clone()),
                ("id", "nobody".into()),
                ("action", "lock".into()),
            ],
        )
        .await;
    assert_eq!(no_one.status, 404);
    // An administrator does not lock themselves out by a slip.
    let own = admin
        .post_owned(
            "/cas/admin/account",
            &[
                ("csrf", csrf.clone()),
                ("id", ADMIN.into()),
                ("action", "lock".into()),
            ],
        )
        .await;
    assert_eq!(own.status, 409);
    // A page that says why, and the way back; not "service busy".
    assert!(
        own.body.contains("无法对自己的账号执行此操作"),
        "{}",
        own.body
    );
    assert!(own.body.contains("/cas/admin/account?id="), "{}", own.body);

    let mut actions = audited(&t, ADMIN, "admin_action");
    actions.reverse();
    assert_eq!(
        actions,
        [
            "logout alice",
            "unbind-phone alice",
            "unbind-email alice",
            "unbind-wecom alice",
            "reset alice",
            "disable alice",
            "unlock alice",
            "lock alice"
        ]
    );
    // The account's own trail says what was done to it, from the administrator's address.
    let changed = audited(&t, "alice", "password_changed");
    assert_eq!(changed, vec!["administrator"]);
}

fn service_form(
    csrf: &str,
    id: &str,
    fields: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let mut form = vec![("csrf", csrf.to_string()), ("id", id.to_string())];
    form.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    form
}

/// Issue "Operations", applications: add, edit and disable entries (release, rules, logout,
/// portal), refused input loses nothing, and the pattern tester says which entry matches
/// and how the URL was normalised.
#[tokio::test]
async fn applications_are_added_edited_disabled_and_tested() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    let (mut admin, csrf) = console(&t).await;
    let mut alice = t.client();
    alice.login("alice", PASSWORD, None).await;
    let library = "https://lib.test/opac";
    let login = format!("/cas/login?service={}", enc(library));

    let list = admin.get("/cas/admin/services").await;
    assert!(list.body.contains("https://app.test/home"), "{}", list.body);
    assert_eq!(alice.get(&login).await.status, 403, "not registered yet");

    let fields = [
        ("name", "图书馆"),
        ("pattern", "https://lib.test/*"),
        ("attributes", "cn, mail"),
        ("rules", "deny kind=student"),
        ("logout_type", "back"),
        ("logout_url", "https://lib.test/logout"),
        ("portal_url", "https://lib.test/opac"),
        ("title", "图书馆"),
        ("description", "馆藏检索"),
        ("enabled", "true"),
    ];
    // A rule in the wrong shape is refused with the reason, and nothing is saved.
    let mut bad = fields.to_vec();
    bad[3] = ("rules", "permit kind=student");
    let refused = admin
        .post_owned("/cas/admin/service", &service_form(&csrf, "new", &bad))
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("allow or deny"), "{}", refused.body);
    assert_eq!(t.server.store.services().unwrap().len(), 1);

    let created = admin
        .post_owned("/cas/admin/service", &service_form(&csrf, "new", &fields))
        .await;
    assert_eq!(created.status, 303);
    let id = created.location().rsplit('=').next().unwrap().to_string();
    let saved = t
        .server
        .store
        .service(id.parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(saved.settings.pattern, "https://lib.test/*");
    assert_eq!(saved.settings.release.describe(), "only cn, mail");
    assert_eq!(
        saved.settings.logout_url.as_deref(),
        Some("https://lib.test/logout")
    );
    assert_eq!(
        saved.settings.portal_description.as_deref(),
        Some("馆藏检索")
    );
    // The running server follows at once: the rule keeps students out.
    assert_eq!(alice.get(&login).await.status, 403);
    let page = admin.get(&format!("/cas/admin/service?id={id}")).await;
    assert!(
        page.body.contains("deny userType=student") && page.body.contains("value=\"cn,mail\""),
        "{}",
        page.body
    );

    let mut open = fields.to_vec();
    open[3] = ("rules", "");
    let edited = admin
        .post_owned("/cas/admin/service", &service_form(&csrf, &id, &open))
        .await;
    assert_eq!(edited.status, 303);
    let res = alice.get(&login).await;
    assert_eq!(res.status, 302);
    assert!(res
        .location()
        .starts_with("https://lib.test/opac?ticket=ST-"));

    // Disabled (the box unticked): the entry stays, listed as disabled, and matches nothing.
    let disabled = open
        .iter()
        .filter(|(k, _)| *k != "enabled")
        .copied()
        .collect::<Vec<_>>();
    assert_eq!(
        admin
            .post_owned("/cas/admin/service", &service_form(&csrf, &id, &disabled))
            .await
            .status,
        303
    );
    assert_eq!(alice.get(&login).await.status, 403);
    assert!(admin.get("/cas/admin/services").await.body.contains("停用"));

    // Two entries with one pattern: refused, the first kept.
    let mut twin = fields.to_vec();
    twin[1] = ("pattern", "https://app.test/home");
    twin[6] = ("portal_url", "");
    let taken = admin
        .post_owned("/cas/admin/service", &service_form(&csrf, "new", &twin))
        .await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert!(taken.body.contains("已有其他应用使用这个服务地址规则"));

    let tested = admin
        .get(&format!(
            "/cas/admin/services?test={}",
            enc("HTTPS://APP.test:443/home")
        ))
        .await;
    assert!(
        tested.body.contains("<code>https://app.test/home</code>"),
        "{}",
        tested.body
    );
    assert!(
        tested.body.contains("1 · https://app.test/home"),
        "{}",
        tested.body
    );
    let unmatched = admin
        .get(&format!(
            "/cas/admin/services?test={}",
            enc("https://evil.test/")
        ))
        .await;
    assert!(unmatched.body.contains("没有应用匹配"));

    let mut actions = audited(&t, ADMIN, "admin_action");
    actions.reverse();
    assert_eq!(
        actions,
        vec![
            format!("service {id}"),
            format!("service {id}"),
            format!("service {id}")
        ]
    );
}

/// Issue "Operations": a validation refused with INVALID_SERVICE shows on the application's
/// page with both URLs, and single-logout deliveries show with their HTTP result and tries.
#[tokio::test]
async fn mismatches_and_logout_deliveries_show_per_application() {
    let t = TestServer::start_with(|c| {
        c.logout.retry_delay = 1;
        c.logout.attempts = 2;
    })
    .await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    let receiver = Receiver::http().await;
    let mail = "https://mail.test/";
    t.register(NewService {
        name: "邮件系统".into(),
        pattern: mail.into(),
        logout_type: LogoutType::Back,
        logout_url: Some(receiver.url("/logout")),
        ..Default::default()
    });

    let mut browser = t.client();
    let ticket = browser.ticket(SERVICE).await;
    let presented = "HTTPS://APP.test:443/elsewhere";
    let refused = t
        .client()
        .get(&validate_path("serviceValidate", presented, &ticket))
        .await;
    assert_eq!(parse_cas(&refused.body).unwrap_err().0, "INVALID_SERVICE");

    let ticket = browser.ticket(mail).await;
    let ok = t
        .client()
        .get(&validate_path("serviceValidate", mail, &ticket))
        .await;
    assert!(parse_cas(&ok.body).is_ok());
    browser.get("/cas/logout").await;
    receiver.wait_for(1).await;
    let delivered = unicas::store::AuditFilter {
        event: "slo_sent".into(),
        ..Default::default()
    };
    for _ in 0..100 {
        if !t
            .server
            .store
            .audit_search(&delivered, 1)
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let (mut admin, _) = console(&t).await;
    let app = admin.get("/cas/admin/service?id=1").await;
    assert!(
        app.body.contains("<code>https://app.test/home</code>"),
        "{}",
        app.body
    );
    assert!(
        app.body.contains("<code>https://app.test/elsewhere</code>"),
        "normalised: {}",
        app.body
    );
    let mail_page = admin.get("/cas/admin/service?id=2").await;
    assert!(
        mail_page.body.contains("slo_sent")
            && mail_page.body.contains("result=HTTP 200 attempts=1"),
        "{}",
        mail_page.body
    );
    assert!(
        !mail_page.body.contains("elsewhere"),
        "mismatches are per application"
    );
    assert!(
        !app.body.contains("slo_sent"),
        "deliveries are per application"
    );
    assert_eq!(admin.get("/cas/admin/service?id=99").await.status, 404);
}

/// Issue "Operations": the audit viewer filters by account, event, address and dates, and
/// exports the same rows as CSV a spreadsheet opens safely; the export itself is audited.
/// docs/security.md I04.
#[tokio::test]
async fn the_audit_log_is_filtered_and_exported() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    t.add_user("bob", PASSWORD, false, &[]);
    let mut hostile = t.client_from("127.0.0.9");
    hostile.headers.push((
        "user-agent".into(),
        "=HYPERLINK(\"http://evil.test\",\"x\")".into(),
    ));
    hostile.login("alice", PASSWORD, None).await;
    t.client_from("127.0.0.8")
        .login("bob", "wrong-password-1", None)
        .await;
    let (mut admin, _) = console(&t).await;

    let alice = admin.get("/cas/admin/audit?account=alice").await;
    assert!(
        alice
            .body
            .contains("<td title=\"login_success\">登录成功</td>")
            && !alice.body.contains("title=\"login_failure\""),
        "{}",
        alice.body
    );
    let failures = admin.get("/cas/admin/audit?event=login_failure").await;
    assert!(failures.body.contains("bob") && failures.body.contains("127.0.0.8"));
    assert!(!failures.body.contains("127.0.0.9"));
    let by_address = admin.get("/cas/admin/audit?address=127.0.0.9").await;
    assert!(by_address.body.contains("alice") && !by_address.body.contains("127.0.0.8"));
    // Today (in the configured zone) holds them; a day long past holds none.
    let today =
        unicas::clock::local_time(t.clock().now(), t.config.utc_offset_minutes)[..10].to_string();
    let dated = admin
        .get(&format!(
            "/cas/admin/audit?event=login_failure&from={today}&to={today}"
        ))
        .await;
    assert!(dated.body.contains("127.0.0.8"), "{today}: {}", dated.body);
    let past = admin
        .get("/cas/admin/audit?event=login_failure&from=2001-01-01&to=2001-01-31")
        .await;
    assert!(!past.body.contains("127.0.0.8"));
    // Markup in a stored user agent is shown as text.
    assert!(!by_address.body.contains("<script"));

    let csv = admin.get("/cas/admin/audit?account=alice&format=csv").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=UTF-8"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .contains("attachment"));
    assert!(
        csv.raw.starts_with(b"\xEF\xBB\xBF"),
        "Excel reads UTF-8 with a BOM"
    );
    let text = csv.body.trim_start_matches('\u{feff}');
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("time,event,account,address,detail,user_agent,repeats,last,event_words")
    );
    let row = lines
        .find(|l| l.contains("login_success"))
        .expect("alice's login");
    assert!(row.contains(",alice,127.0.0.9,"), "{row}");
    assert!(
        row.contains(",\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"x\"\")\",1,"),
        "defused and quoted: {row}"
    );
    assert!(!text.contains(",bob,"));
    assert_eq!(
        audited(&t, ADMIN, "admin_action"),
        vec!["audit export 1 row(s)".to_string()]
    );
}

/// A multipart/form-data body with the console token, the roster file and the action.
fn upload(csrf: &str, roster: &str, action: &str) -> (String, String) {
    let boundary = "----unicas-test-7d1f";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"名单.csv\"\r\nContent-Type: text/csv\r\n\r\n{roster}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\n{action}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Issue "Operations": the roster is imported from the browser: uploaded, previewed with
/// its errors (nothing written), then run with progress to a report; the accounts log in
/// with their initial passwords, and the console shows the ID number's last four.
#[tokio::test]
async fn the_roster_is_imported_from_the_browser() {
    // bcrypt at its production cost, so a larger import is still running when asked again.
    let t = TestServer::start_with(|c| c.passwords.bcrypt_cost = 10).await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    let (mut admin, csrf) = console(&t).await;
    let first = id_number("11010520030807451");
    let second = id_number("31010419780312283");
    let roster = format!(
        "学号/工号,姓名,类别,身份证号,院系,手机,邮箱\n\
         20240001,张三,学生,{first},物理学院,,\n\
         T1001,李四,教职工,{second},财务处,,\n\
         20240002,王五,学生,110105200308074512,物理学院,,\n"
    );
    let (ct, body) = upload(&csrf, &roster, "preview");
    let preview = admin
        .send("POST", "/cas/admin/import", &[("content-type", &ct)], &body)
        .await;
    assert_eq!(
        (preview.status, preview.location()),
        (303, "/cas/admin/import")
    );
    let report = admin.get("/cas/admin/import").await;
    assert!(
        report
            .body
            .contains("2 行可以导入（新增 2，已有 0），1 行有误"),
        "{}",
        report.body
    );
    assert!(report.body.contains("第 4 行：身份证号"), "{}", report.body);
    assert!(
        t.server.store.account("20240001").unwrap().is_none(),
        "a preview writes nothing"
    );

    // Without the console's token the upload is refused.
    let (ct, body) = upload("forged", &roster, "run");
    assert_eq!(
        admin
            .send("POST", "/cas/admin/import", &[("content-type", &ct)], &body)
            .await
            .status,
        403
    );

    let (ct, body) = upload(&csrf, &roster, "run");
    let run = admin
        .send("POST", "/cas/admin/import", &[("content-type", &ct)], &body)
        .await;
    assert_eq!(run.status, 303);
    let mut done = None;
    for _ in 0..200 {
        let page = admin.get("/cas/admin/import").await;
        if page.body.contains("已导入：") {
            assert!(page.header("refresh").is_none());
            done = Some(page);
            break;
        }
        assert!(
            page.body.contains("正在导入") && page.header("refresh") == Some("2"),
            "{}",
            page.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let done = done.expect("the import finishes");
    assert!(
        done.body.contains("已导入：新增 2，更新 0，未变 0，有误 1"),
        "{}",
        done.body
    );

    let account = admin.get("/cas/admin/account?id=20240001").await;
    assert!(
        account.body.contains(&first[14..]),
        "the last four: {}",
        account.body
    );
    assert!(
        !account.body.contains(&first[..14]),
        "never the whole number"
    );
    let step = t.client().login("20240001", &first[12..], None).await;
    assert!(step.body.contains("name=\"newPassword\""), "{}", step.body);
    assert_eq!(
        audited(&t, ADMIN, "admin_action"),
        vec!["import 2 row(s), 1 refused"]
    );

    // While an import runs, another run or a preview is refused: it would hide the progress.
    let mut larger = String::from("account,name,kind,id_number,department,phone,email\n");
    for i in 0..20 {
        let number = id_number(&format!("11010520030807{:03}", 100 + i));
        larger.push_str(&format!(
            "2024{:04},学生{i},学生,{number},物理学院,,\n",
            1000 + i
        ));
    }
    let (ct, body) = upload(&csrf, &larger, "run");
    let started = admin
        .send("POST", "/cas/admin/import", &[("content-type", &ct)], &body)
        .await;
    assert_eq!(started.status, 303);
    let (ct, body) = upload(&csrf, &roster, "preview");
    let refused = admin
        .send("POST", "/cas/admin/import", &[("content-type", &ct)], &body)
        .await;
    assert_eq!(refused.status, 409);
    for _ in 0..400 {
        if admin
            .get("/cas/admin/import")
            .await
            .body
            .contains("已导入：新增 20")
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the larger import did not finish");
}

/// docs/security.md ASVS 7.4.5: an administrator ends everyone's sessions (after an incident) but
/// their own, only when they confirm; every application is told by single logout.
#[tokio::test]
async fn an_administrator_ends_every_session() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    t.add_user("bob", PASSWORD, false, &[]);
    let receiver = Receiver::http().await;
    let mail = "https://mail.test/";
    t.register(NewService {
        name: "mail".into(),
        pattern: mail.into(),
        logout_type: LogoutType::Back,
        logout_url: Some(receiver.url("/logout")),
        ..Default::default()
    });
    let mut alice = t.client();
    let ticket = alice.ticket(mail).await;
    let ok = t
        .client()
        .get(&validate_path("serviceValidate", mail, &ticket))
        .await;
    assert!(parse_cas(&ok.body).is_ok());
    let mut bob = t.client();
    bob.login("bob", PASSWORD, None).await;
    let (mut admin, csrf) = console(&t).await;
    assert!(t.server.store.sessions_of("alice").unwrap().len() == 1);

    let unconfirmed = admin
        .post_owned("/cas/admin/sessions", &[("csrf", csrf.clone())])
        .await;
    assert_eq!(unconfirmed.status, 400);
    assert_eq!(t.server.store.sessions_of("bob").unwrap().len(), 1);

    let ended = admin
        .post_owned(
            "/cas/admin/sessions",
            &[("csrf", csrf.clone()), ("confirm", "yes".into())],
        )
        .await;
    assert_eq!(
        (ended.status, ended.location()),
        (303, "/cas/admin?ended=2")
    );
    for (who, browser) in [("alice", &mut alice), ("bob", &mut bob)] {
        assert!(t.server.store.sessions_of(who).unwrap().is_empty(), "{who}");
        let page = browser.get("/cas/login").await;
        assert!(
            page.body.contains("name=\"password\""),
            "{who} logs in again"
        );
    }
    let home = admin.get("/cas/admin?ended=2").await;
    assert!(home.body.contains("已结束 2 个登录会话"), "{}", home.body);
    assert_eq!(t.server.store.sessions_of(ADMIN).unwrap().len(), 1);
    assert_eq!(
        audited(&t, ADMIN, "admin_action"),
        vec!["end every session 2 session(s)"]
    );
    let got = receiver.wait_for(1).await;
    assert!(got[0].body.starts_with("logoutRequest="), "{}", got[0].body);
}

const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// docs/security.md M03: the console's second factor takes a handful of wrong codes, from
/// anywhere and by either factor, then locks (audited, the phone told); the right code is
/// refused while it is locked; guesses in parallel are bounded too.
#[tokio::test]
async fn wrong_second_factors_lock_the_console() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    t.bind(ADMIN, "totp", SECRET);
    let mut statuses = Vec::new();
    for n in 0..8 {
        // Each from another address: the budget is the administrator's.
        let mut c = t.client_from(&format!("127.0.0.{}", 30 + n));
        c.login(ADMIN, PASSWORD, None).await;
        let gate = c.get("/cas/admin").await;
        let wrong = format!(
            "{:06}",
            (authenticator_code(SECRET, t.clock().now())
                .parse::<u32>()
                .unwrap()
                + 1)
                % 1_000_000
        );
        statuses.push(enter(&mut c, &gate, wrong).await.status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 423, 423, 423, 423]);
    let mut c = t.client();
    c.login(ADMIN, PASSWORD, None).await;
    let gate = c.get("/cas/admin").await;
    let right = enter(&mut c, &gate, authenticator_code(SECRET, t.clock().now())).await;
    assert_eq!(right.status, 423, "the right code, locked");
    assert_eq!(audited(&t, ADMIN, "second_factor_locked").len(), 1);
    assert_eq!(audited(&t, ADMIN, "identity_not_confirmed").len(), 5);
    let told = crate::portal::notices(&t, ADMIN_PHONE).await;
    assert!(told.iter().any(|n| n.contains("第二重验证")), "{told:?}");
    // After the lock, the factor works again.
    t.clock().advance(t.config.throttle.lock_duration + 31);
    let gate = c.get("/cas/admin").await;
    let right = enter(&mut c, &gate, authenticator_code(SECRET, t.clock().now())).await;
    assert_eq!((right.status, right.location()), (303, "/cas/admin"));
}

/// docs/security.md M03: forty guesses at once evaluate no more than the budget.
#[tokio::test]
async fn parallel_second_factor_guesses_are_bounded() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    t.bind(ADMIN, "totp", SECRET);
    let guesses: Vec<_> = (0..40)
        .map(|n| {
            let mut c = t.client();
            async move {
                c.login(ADMIN, PASSWORD, None).await;
                let gate = c.get("/cas/admin").await;
                enter(&mut c, &gate, format!("{:06}", n)).await.status
            }
        })
        .collect();
    let statuses = futures_util::future::join_all(guesses).await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 423),
        "{statuses:?}"
    );
    let filter = unicas::store::AuditFilter {
        account: ADMIN.into(),
        event: "identity_not_confirmed".into(),
        ..Default::default()
    };
    let rows = t.server.store.audit_search(&filter, 1000).unwrap();
    let evaluated: i64 = rows.iter().map(|r| r.repeats).sum();
    assert!((1..=5).contains(&evaluated), "{evaluated} evaluated");
}

/// docs/security.md M08, issue "Defects found from outside" #10: an administrator cannot remove
/// its own last second factor in the console, and the console's token is taken from the form
/// only, never from the address.
#[tokio::test]
async fn the_console_keeps_its_own_second_factor_and_its_token_in_the_form() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    let (mut admin, csrf) = console(&t).await;
    let unbind = [
        ("csrf", csrf.clone()),
        ("id", ADMIN.to_string()),
        ("action", "unbind-phone".to_string()),
        ("confirm", "yes".to_string()),
    ];
    let res = admin.post_owned("/cas/admin/account", &unbind).await;
    assert_eq!(res.status, 409);
    assert!(res.body.contains("身份验证器"), "{}", res.body);
    assert!(t.server.store.binding(ADMIN, "phone").unwrap().is_some());
    let in_query = admin
        .post(
            &format!("/cas/admin/account?csrf={csrf}"),
            &[("id", "alice"), ("action", "lock")],
        )
        .await;
    assert_eq!(in_query.status, 403);
    let alice = t.server.store.account("alice").unwrap().unwrap();
    assert_eq!(alice.status, unicas::model::Status::Active);
    // With an authenticator enrolled, the phone may go.
    t.bind(ADMIN, "totp", SECRET);
    let res = admin.post_owned("/cas/admin/account", &unbind).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

/// docs/security.md M05, M08: the console's second factor has an allowance of its own: the
/// administrator's other codes (here its own logins by SMS, up to the daily cap) do not use
/// it up.
#[tokio::test]
async fn the_consoles_codes_have_an_allowance_of_their_own() {
    let t = TestServer::start_with(|c| c.sms.per_account_day = 2).await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    for n in 0..3 {
        let mut c = t.client_from(&format!("127.0.0.{}", 60 + n));
        let form = c.get("/cas/login?cllt=dynamicLogin").await;
        c.get("/cas/captcha.html").await;
        let answer = t.captcha(&c).await;
        c.post(
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
        t.clock().advance(61);
    }
    t.settle_messages().await;
    let (mut admin, _) = console(&t).await;
    assert_eq!(admin.get("/cas/admin").await.status, 200);
}

/// Issue 24 item 13: the audit viewer says what happened in words, in the console's
/// language (登录成功, not `login_success`); the CSV keeps the machine name and adds the words.
#[tokio::test]
async fn the_audit_viewer_shows_events_in_words_in_both_languages() {
    let t = TestServer::start().await;
    let mut admin = admin_console(&t).await;
    assert_eq!(t.client().login("alice", PASSWORD, None).await.status, 303);
    let zh = admin.get("/cas/admin/audit?account=alice").await;
    assert_eq!(zh.status, 200);
    assert!(zh.body.contains(">登录成功<"), "{}", zh.body);
    assert!(!zh.body.contains(">login_success<"), "{}", zh.body);
    let home = admin.get("/cas/admin").await;
    assert!(home.body.contains(">进入管理控制台<"), "{}", home.body);
    let en = admin.get("/cas/admin/audit?account=alice&lang=en").await;
    assert!(en.body.contains(">Signed in<"), "{}", en.body);
    assert!(!en.body.contains(">login_success<"));
    let csv = admin
        .get("/cas/admin/audit?account=alice&format=csv&lang=zh")
        .await;
    let row = csv
        .body
        .split("\r\n")
        .find(|l| l.contains("login_success"))
        .expect("alice's login")
        .to_string();
    assert!(row.ends_with(",登录成功"), "{row}");
}

/// Issue 24 item 10: the console reports a roster's problems in Chinese: every missing
/// column at once, and an ID number Excel turned into scientific notation with the fix; in
/// English when the console is in English.
#[tokio::test]
async fn the_console_says_what_is_wrong_with_a_roster_in_its_language() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    let (mut admin, csrf) = console(&t).await;
    let (ct, body) = upload(&csrf, "学号/工号,电话\r\n1,2\r\n", "preview");
    admin
        .send("POST", "/cas/admin/import", &[("content-type", &ct)], &body)
        .await;
    let page = admin.get("/cas/admin/import").await;
    assert!(
        page.body
            .contains("名单缺少这些列：姓名、类别、身份证号、院系。"),
        "{}",
        page.body
    );
    let roster = "序号,工资号,姓名,身份证号,部门\r\n1,T1001,李四,1.10105E+17,财务处\r\n";
    let (ct, body) = upload(&csrf, roster, "preview");
    admin
        .send("POST", "/cas/admin/import", &[("content-type", &ct)], &body)
        .await;
    let page = admin.get("/cas/admin/import").await;
    assert!(
        page.body
            .contains("第 2 行：身份证号 1.10105E+17 被 Excel 改成了科学计数法")
            && page.body.contains("设置该列为文本格式后重新导出"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("must have 18 characters"));
    let (ct, body) = upload(&csrf, roster, "preview");
    admin
        .send(
            "POST",
            "/cas/admin/import?lang=en",
            &[("content-type", &ct)],
            &body,
        )
        .await;
    let page = admin.get("/cas/admin/import?lang=en").await;
    assert!(
        page.body
            .contains("format the column as text and export again"),
        "{}",
        page.body
    );
}

/// Issue 24 item 12: disabling, resetting, ending sessions and unbinding ask first (确认…？
/// with 确认 and 取消); only the confirming post, with the console's token, acts.
/// docs/security.md D03.
#[tokio::test]
async fn the_console_asks_before_it_cuts_someone_off() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    t.bind("alice", "phone", "+8613800138000");
    let (mut admin, csrf) = console(&t).await;
    let mut alice = t.client();
    alice.login("alice", PASSWORD, None).await;
    let hash = || {
        t.server
            .store
            .account("alice")
            .unwrap()
            .unwrap()
            .password_hash
    };
    let before = hash();
    for (action, asked) in [
        ("disable", "确认停用？"),
        ("reset", "确认重置密码？"),
        ("logout", "确认退出所有登录？"),
        ("unbind-phone", "确认解除绑定 手机？"),
    ] {
        let form = [("csrf", csrf.as_str()), ("id", "alice"), ("action", action)];
        let page = admin.post("/cas/admin/account", &form).await;
        assert_eq!(page.status, 200, "{action}: {}", page.body);
        assert!(page.body.contains(asked), "{action}: {}", page.body);
        assert!(page.body.contains(">确认<") && page.body.contains(">取消<"));
        assert_eq!(page.input("confirm").as_deref(), Some("yes"));
        assert_eq!(page.input("csrf").as_deref(), Some(csrf.as_str()));
        assert!(page.body.contains("href=\"/cas/admin/account?id=alice\""));
        // Nothing happened yet.
        let a = t.server.store.account("alice").unwrap().unwrap();
        assert_eq!(a.status, unicas::model::Status::Active, "{action}");
        assert_eq!(hash(), before, "{action}");
        assert!(t.server.store.binding("alice", "phone").unwrap().is_some());
        assert!(!t.server.store.sessions_of("alice").unwrap().is_empty());
        // The confirming post without the token does nothing either.
        let forged = [
            ("csrf", "forged"),
            ("id", "alice"),
            ("action", action),
            ("confirm", "yes"),
        ];
        assert_eq!(admin.post("/cas/admin/account", &forged).await.status, 403);
    }
    assert!(audited(&t, ADMIN, "admin_action").is_empty());
    let confirmed = [
        ("csrf", csrf.as_str()),
        ("id", "alice"),
        ("action", "disable"),
        ("confirm", "yes"),
    ];
    assert_eq!(
        admin.post("/cas/admin/account", &confirmed).await.status,
        303
    );
    let a = t.server.store.account("alice").unwrap().unwrap();
    assert_eq!(a.status, unicas::model::Status::Disabled);
    // English too.
    let form = [
        ("csrf", csrf.as_str()),
        ("id", "alice"),
        ("action", "reset"),
    ];
    let page = admin.post("/cas/admin/account?lang=en", &form).await;
    assert!(
        page.body.contains("Reset password: are you sure?"),
        "{}",
        page.body
    );
}

/// Issue 24 item 12: a reset answers a slip to print: the school, the account, a temporary
/// password without look-alikes in groups, and 首次登录须修改密码; the password is in no
/// audit row. The account page says 手机：未绑定 and shows the roster's phone masked.
/// docs/security.md L05.
#[tokio::test]
async fn a_reset_answers_a_slip_to_print() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    let mut imported = NewAccount::new(
        "20240001",
        "张三",
        Kind::Student,
        "物理学院",
        "",
        "13800138000",
        &[],
    )
    .unwrap();
    imported.password_hash = unicas::accounts::hash_now(PASSWORD, 4).unwrap();
    assert!(t
        .server
        .store
        .insert_account(&imported, t.clock().now())
        .unwrap());
    let (mut admin, csrf) = console(&t).await;
    let page = admin.get("/cas/admin/account?id=20240001").await;
    assert!(
        page.body.contains("<th>手机</th><td>未绑定</td>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<th>名单中的手机</th><td>138****8000</td>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("13800138000"));
    let en = admin.get("/cas/admin/account?id=20240001&lang=en").await;
    assert!(en.body.contains("not bound"), "{}", en.body);
    admin.get("/cas/admin/account?id=20240001&lang=zh").await;

    let form = [
        ("csrf", csrf.as_str()),
        ("id", "20240001"),
        ("action", "reset"),
        ("confirm", "yes"),
    ];
    let slip = admin.post("/cas/admin/account", &form).await;
    assert_eq!(slip.status, 200);
    let marker = "<code class=\"slip-password\">";
    let start = slip.body.find(marker).expect(&slip.body) + marker.len();
    let temporary = &slip.body[start..start + 14];
    let groups: Vec<&str> = temporary.split('-').collect();
    assert_eq!(groups.len(), 3, "{temporary}");
    assert!(groups[1].bytes().all(|b| b.is_ascii_digit()), "{temporary}");
    assert!(groups[0]
        .bytes()
        .chain(groups[2].bytes())
        .all(|b| b.is_ascii_lowercase()));
    let school = t.config.school_name.as_str();
    for shown in [
        school,
        "20240001",
        "张三",
        "首次登录须修改密码",
        "class=\"slip\"",
    ] {
        assert!(slip.body.contains(shown), "{shown}: {}", slip.body);
    }
    let everything = t
        .server
        .store
        .audit_search(&Default::default(), 1000)
        .unwrap();
    assert!(everything.iter().all(|r| !r.detail.contains(temporary)));
    let forced = t.client().login("20240001", temporary, None).await;
    assert!(
        forced.body.contains("name=\"newPassword\""),
        "{}",
        forced.body
    );
}

/// Issue 24 item 11: who has not finished. The account list filters by department, kind,
/// status, 未绑定手机, 仍为初始密码 and 从未登录 (combined), pages past 100 with links that
/// keep the filters, and exports the same accounts as CSV (audited); the overview counts each
/// group with a link to its list. docs/security.md I04 (the export's cells).
#[tokio::test]
async fn the_account_list_finds_who_has_not_finished() {
    let t = TestServer::start().await;
    add_admin(&t, ADMIN, Some(ADMIN_PHONE));
    for i in 0..105 {
        t.add_imported(&format!("2024{i:04}"), "31002X");
    }
    t.bind("20240000", "phone", "+8613800138001");
    t.add_user("bob", PASSWORD, false, &[]);
    t.server
        .store
        .set_status("bob", unicas::model::Status::Locked, t.clock().now())
        .unwrap();
    assert_eq!(t.client().login("alice", PASSWORD, None).await.status, 303);
    let mut hostile = NewAccount::new(
        "mallory",
        "=HYPERLINK(\"http://evil.test\")",
        Kind::Staff,
        "Hostile",
        "",
        "",
        &[],
    )
    .unwrap();
    hostile.password_hash = unicas::accounts::hash_now(PASSWORD, 4).unwrap();
    assert!(t
        .server
        .store
        .insert_account(&hostile, t.clock().now())
        .unwrap());
    let (mut admin, _) = console(&t).await;
    let rows = |body: &str| body.matches("href=\"/cas/admin/account?id=").count();
    let defused = admin
        .get("/cas/admin/accounts?department=Hostile&format=csv")
        .await;
    assert!(
        defused
            .body
            .contains("\r\nmallory,\"'=HYPERLINK(\"\"http://evil.test\"\")\",staff,"),
        "{}",
        defused.body
    );

    let first = admin
        .get(&format!(
            "/cas/admin/accounts?department={}&no_phone=1",
            enc("物理学院")
        ))
        .await;
    assert_eq!(first.status, 200);
    assert!(
        first.body.contains("共 104 个账号，第 1/2 页"),
        "{}",
        first.body
    );
    assert_eq!(rows(&first.body), 100);
    assert!(!first.body.contains("?id=20240000\""), "bound: not listed");
    let next = format!(
        "/cas/admin/accounts?department={}&amp;no_phone=1&amp;page=2",
        enc("物理学院")
    );
    assert!(first.body.contains(&next), "{}", first.body);
    let second = admin.get(&next.replace("&amp;", "&")).await;
    assert!(
        second.body.contains("共 104 个账号，第 2/2 页"),
        "{}",
        second.body
    );
    assert_eq!(rows(&second.body), 4);
    assert!(second.body.contains("rel=\"prev\"") && !second.body.contains("rel=\"next\""));
    // A page past any list, up to the largest number: the last page, not a fault.
    for page in ["3", "9223372036854775807"] {
        let past = admin
            .get(
                &next
                    .replace("&amp;", "&")
                    .replace("page=2", &format!("page={page}")),
            )
            .await;
        assert_eq!(past.status, 200, "{page}");
        assert!(past.body.contains("第 2/2 页"), "{}", past.body);
    }

    let initial = admin.get("/cas/admin/accounts?initial_password=1").await;
    assert!(initial.body.contains("共 105 个账号"), "{}", initial.body);
    // alice logged in; the imported accounts never did.
    let never = admin
        .get("/cas/admin/accounts?q=alice&never_logged_in=1")
        .await;
    assert_eq!(rows(&never.body), 0, "{}", never.body);
    let alice = admin.get("/cas/admin/accounts?q=alice").await;
    assert_eq!(rows(&alice.body), 1);
    assert!(!alice.body.contains("<td>从未登录</td>"), "{}", alice.body);
    let imported = admin.get("/cas/admin/accounts?q=20240001").await;
    assert!(
        imported.body.contains("<td>从未登录</td>"),
        "{}",
        imported.body
    );
    let locked = admin.get("/cas/admin/accounts?status=locked").await;
    assert_eq!(rows(&locked.body), 1);
    assert!(locked.body.contains("?id=bob\""));
    let admins = admin.get("/cas/admin/accounts?kind=admin").await;
    assert_eq!(rows(&admins.body), 1);
    assert!(admins.body.contains("?id=it01\""));
    let by_phone = admin.get("/cas/admin/accounts?q=13800138001").await;
    assert_eq!(rows(&by_phone.body), 1);
    assert!(by_phone.body.contains("?id=20240000\""));
    let en = admin
        .get("/cas/admin/accounts?initial_password=1&lang=en")
        .await;
    assert!(en.body.contains("105 accounts, page 1 of 2"), "{}", en.body);
    admin.get("/cas/admin/accounts?lang=zh").await;

    let csv = admin
        .get(&format!(
            "/cas/admin/accounts?department={}&no_phone=1&format=csv",
            enc("物理学院")
        ))
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .contains("attachment"));
    let text = csv.body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "account,name,kind,status,department,phone,initial_password,last_login"
    );
    assert_eq!(lines.len(), 105, "the header and every account, not a page");
    assert_eq!(
        lines[1],
        "20240001,学生20240001,student,active,物理学院,,true,"
    );
    assert_eq!(
        audited(&t, ADMIN, "admin_action"),
        vec![
            "accounts export 104 row(s)".to_string(),
            "accounts export 1 row(s)".to_string()
        ]
    );

    // Active: alice (logged in, no phone), it01, 105 imported (one bound), mallory.
    let home = admin.get("/cas/admin").await;
    for (filter, n) in [
        ("no_phone", 106),
        ("initial_password", 105),
        ("never_logged_in", 106),
    ] {
        let link = format!("/cas/admin/accounts?status=active&amp;{filter}=1\">{n}</a>");
        assert!(home.body.contains(&link), "{link}: {}", home.body);
    }
}
