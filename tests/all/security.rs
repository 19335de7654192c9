//! Cases of `docs/security.md` that no other area's tests cover, each tagged with its id
//! (`git grep -w D06 tests src` finds every test of a case).

use crate::support::*;
use std::sync::atomic::Ordering;
use unicas::model::{NewService, Release, Status};

fn login_path(service: &str) -> String {
    format!("/cas/login?service={}", enc(service))
}

/// docs/security.md A06: a burst of invalid tickets from one address is one audit event (and one
/// warning), not one line per ticket; every one is answered INVALID_TICKET, none with a 5xx.
#[tokio::test]
async fn a_burst_of_invalid_tickets_is_one_audit_event() {
    let t = TestServer::start().await;
    let mut c = t.client_from("127.0.0.40");
    for i in 0..500 {
        let ticket = format!("ST-{i:029}");
        let res = c
            .get(&validate_path("serviceValidate", SERVICE, &ticket))
            .await;
        assert_eq!(res.status, 200);
        assert_eq!(parse_cas(&res.body).unwrap_err().0, "INVALID_TICKET");
    }
    // A user with one stale ticket is no event.
    t.client_from("127.0.0.41")
        .get(&validate_path("serviceValidate", SERVICE, "ST-stale"))
        .await;
    t.server.sweep().await;
    let audit = t.server.store.recent_audit(None, 100).unwrap();
    let bursts: Vec<_> = audit
        .iter()
        .filter(|r| r.event == "invalid_tickets")
        .collect();
    assert_eq!(bursts.len(), 1, "{audit:?}");
    assert_eq!(bursts[0].client_ip, "127.0.0.40");
    assert_eq!(bursts[0].detail, "500 invalid tickets");
}

/// docs/security.md B09: look-alike hosts (Cyrillic letters, the ideographic full stop, full-width
/// letters, their punycode) are not the registered host.
#[tokio::test]
async fn look_alike_hosts_are_not_the_registered_one() {
    let t = TestServer::start().await;
    t.add_service("https://app.test/portal/*", None);
    for service in [
        "https://\u{430}pp.test/portal/",
        "https://app.test\u{3002}evil.test/portal/",
        "\u{ff48}\u{ff54}\u{ff54}\u{ff50}\u{ff53}://app.test/portal/",
        "https://xn--pp-6kc.test/portal/",
        "https://app.test\u{ff0e}evil.test/portal/",
    ] {
        let res = t.client().get(&login_path(service)).await;
        assert_eq!(res.status, 403, "{service}");
        assert!(res.header("location").is_none());
    }
}

/// docs/security.md B13, C01: `method` values other than POST are the ordinary redirect; with
/// POST, the form's action is the escaped registered URL and no markup gets in.
#[tokio::test]
async fn method_values_are_never_reflected_raw() {
    let t = TestServer::start().await;
    t.add_service("https://app.test/portal/*", None);
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    for method in ["HEADER", "<script>alert(1)</script>", "get"] {
        let res = c
            .get(&format!("{}&method={}", login_path(SERVICE), enc(method)))
            .await;
        assert_eq!(res.status, 302, "{method}");
    }
    let hostile = "https://app.test/portal/x\"><script>alert(1)</script>";
    let res = c.get(&format!("{}&method=POST", login_path(hostile))).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.body.matches("<script").count(),
        1,
        "only our autosubmit.js"
    );
    assert!(res
        .body
        .contains("action=\"https://app.test/portal/x&quot;&gt;&lt;script&gt;"));
}

/// docs/security.md B16: `Host` and `X-Forwarded-Host` never reach an absolute URL we emit: pages,
/// redirects, SAML `Recipient`/`Issuer`.
#[tokio::test]
async fn host_headers_never_reach_what_we_emit() {
    let t = TestServer::start().await;
    let evil = [("host", "evil.test"), ("x-forwarded-host", "evil.test")];
    let mut c = t.client();
    let page = c.send("GET", &login_path(SERVICE), &evil, "").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("evil.test"));
    let token = page.input("execution").unwrap();
    let body = format!(
        "username=alice&password={}&service={}&execution={}",
        enc(PASSWORD),
        enc(SERVICE),
        enc(&token)
    );
    let mut headers = evil.to_vec();
    headers.push(("content-type", "application/x-www-form-urlencoded"));
    let res = c.send("POST", "/cas/login", &headers, &body).await;
    assert_eq!(res.status, 302);
    assert!(!res.location().contains("evil.test"));
    let ticket = res.ticket();
    let saml = format!(
        "<Envelope><Body><Request RequestID=\"r\"><AssertionArtifact>{ticket}</AssertionArtifact></Request></Body></Envelope>"
    );
    let mut headers = evil.to_vec();
    headers.push(("content-type", "text/xml"));
    let res = c
        .send(
            "POST",
            &format!("/cas/samlValidate?TARGET={}", enc(SERVICE)),
            &headers,
            &saml,
        )
        .await;
    assert!(res.body.contains("samlp:Success"), "{}", res.body);
    assert!(!res.body.contains("evil.test"));
    assert!(res.body.contains("Issuer=\"cas.test\""));
    for path in ["/cas/logout", "/cas/nope", "/cas/help"] {
        let res = c.send("GET", path, &evil, "").await;
        assert!(
            !res.body.contains("evil.test")
                && !res.headers.iter().any(|(_, v)| v.contains("evil.test")),
            "{path}"
        );
    }
}

/// docs/security.md C02, C03: a hostile user name is shown escaped on the form it comes back to,
/// never as markup.
#[tokio::test]
async fn hostile_user_names_are_escaped_on_every_form() {
    let t = TestServer::start().await;
    let hostile = "<img src=x onerror=alert(1)>\"'</script>";
    let res = t.client().login(hostile, "wrong", Some(SERVICE)).await;
    assert_eq!(res.status, 401);
    assert!(!res.body.contains("<img src=x"));
    assert!(res
        .body
        .contains("&lt;img src=x onerror=alert(1)&gt;&quot;'&lt;/script&gt;"));
    assert_eq!(
        res.body.matches("<script").count(),
        1,
        "only the salt script"
    );
    let res = t
        .client()
        .get(&format!("/cas/login?username={}", enc(hostile)))
        .await;
    assert!(!res.body.contains("<img src=x"));
}

/// docs/security.md C04: markup inserted without escaping (`PreEscaped`) appears only where a
/// comment says why it is safe; a new unexplained use fails this test.
#[test]
fn unescaped_markup_is_only_where_marked_safe() {
    let mut uses = Vec::new();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![src];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if line.contains("PreEscaped(") {
                    let explained = lines[i.saturating_sub(2)..i]
                        .iter()
                        .any(|l| l.contains("// safe:"));
                    uses.push((path.display().to_string(), i + 1, explained));
                }
            }
        }
    }
    assert!(!uses.is_empty(), "the scan found the known use");
    let unexplained: Vec<_> = uses.iter().filter(|u| !u.2).collect();
    assert!(
        unexplained.is_empty(),
        "PreEscaped without a `// safe:` reason: {unexplained:?}"
    );
}

/// docs/security.md C10: SAML bodies with a document type, entities or deep nesting are refused
/// quickly, fetch nothing, expand nothing; an oversized one is 413 before it is read.
#[tokio::test]
async fn saml_bodies_with_dtds_or_entities_are_refused() {
    let t = TestServer::start().await;
    let spy = crate::support::receiver::Receiver::http().await;
    let mut c = t.client();
    let target = format!("/cas/samlValidate?TARGET={}", enc(SERVICE));
    let xml = [("content-type", "text/xml")];
    let laughs = format!(
        "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">{}]><Envelope><Request><AssertionArtifact>&z;</AssertionArtifact></Request></Envelope>",
        (b'b'..=b'z')
            .map(|c| format!("<!ENTITY {} \"{}\">", c as char, format!("&{};", (c - 1) as char).repeat(10)))
            .collect::<String>()
    );
    for body in [
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"{}\">]><Envelope><Request><AssertionArtifact>&x;</AssertionArtifact></Request></Envelope>",
            spy.url("/x")
        ),
        "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Request><AssertionArtifact>&x;</AssertionArtifact></Request>".to_string(),
        laughs,
        format!("{}<AssertionArtifact>ST-x</AssertionArtifact>", "<a>".repeat(3_000)),
    ] {
        let res = c.send("POST", &target, &xml, &body).await;
        assert_eq!(res.status, 200);
        assert!(res.body.contains("RequestDenied"), "{}", res.body);
        assert!(!res.body.contains("root:") && !res.body.contains("aaaaaaaaaa"));
    }
    let huge = "x".repeat(10 * 1024 * 1024);
    assert_eq!(c.send("POST", &target, &xml, &huge).await.status, 413);
    assert!(spy.received().is_empty(), "no outbound connection");
}

/// docs/security.md D02, D03: a form posted from another site is refused, with or without a
/// valid token: the login (login CSRF) and the first-login step; that step is POST only.
#[tokio::test]
async fn forms_posted_from_another_site_are_refused() {
    let t = TestServer::start().await;
    t.add_user("bob", "123456", true, &[]);
    let mut c = t.client();
    let form = c.get(&login_path(SERVICE)).await;
    let token = form.input("execution").unwrap();
    let fields = [
        ("username", "alice"),
        ("password", PASSWORD),
        ("service", SERVICE),
        ("execution", token.as_str()),
    ];
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    for foreign in [
        ("origin", "https://evil.test"),
        ("sec-fetch-site", "cross-site"),
        ("origin", "null"),
    ] {
        let headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            foreign,
        ];
        let res = c.send("POST", "/cas/login", &headers, &body).await;
        assert_eq!(res.status, 403, "{foreign:?}");
        assert!(res.set_cookie("CASTGC").is_none());
    }
    // Our own origin, or the host the browser reached, is fine.
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", "https://cas.test"),
    ];
    assert_eq!(
        c.send("POST", "/cas/login", &headers, &body).await.status,
        302
    );

    let mut bob = t.client();
    let step = bob.login("bob", "123456", Some(SERVICE)).await;
    let token = step.input("execution").unwrap();
    let change = format!(
        "execution={}&password=123456&newPassword=New-Pass-2026&confirmPassword=New-Pass-2026",
        enc(&token)
    );
    let form = ("content-type", "application/x-www-form-urlencoded");
    let no_token = "password=123456&newPassword=New-Pass-2026&confirmPassword=New-Pass-2026";
    assert_eq!(
        bob.send("POST", "/cas/login/first/password", &[form], no_token)
            .await
            .status,
        403
    );
    for foreign in [
        ("origin", "https://evil.test"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let res = bob
            .send(
                "POST",
                "/cas/login/first/password",
                &[form, foreign],
                &change,
            )
            .await;
        assert_eq!(res.status, 403, "{foreign:?}");
    }
    assert_eq!(bob.get("/cas/login/first/password").await.status, 405);
    // Nothing changed: the initial password still leads to the step.
    let again = t.client().login("bob", "123456", Some(SERVICE)).await;
    assert!(again.body.contains("修改密码"));
}

/// docs/security.md D02, D03, L06: the same-site check as real browsers meet it. Each set is the
/// headers a browser sends with a form post (Chromium 148 and Firefox ESR 140 as seen on this
/// machine; Safari and IE as their makers document them): our own posts pass, whatever the
/// page's referrer policy made of `Origin`; a post from another site, a sibling subdomain or
/// a sandboxed frame does not, and `Origin: null` alone never passes.
#[tokio::test]
async fn the_same_site_check_passes_real_browsers_own_posts_and_nothing_else() {
    let t = TestServer::start().await;
    let own = [
        (
            "Chromium",
            vec![
                ("origin", "https://cas.test"),
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", "document"),
                ("sec-fetch-user", "?1"),
            ],
        ),
        (
            "Chromium under no-referrer",
            vec![
                ("origin", "null"),
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", "document"),
                ("sec-fetch-user", "?1"),
            ],
        ),
        (
            "Firefox",
            vec![
                ("origin", "https://cas.test"),
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", "document"),
                ("sec-fetch-user", "?1"),
            ],
        ),
        (
            "Firefox under no-referrer",
            vec![
                ("origin", "null"),
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", "document"),
                ("sec-fetch-user", "?1"),
            ],
        ),
        (
            "Safari 17",
            vec![
                ("origin", "https://cas.test"),
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", "document"),
            ],
        ),
        (
            "Safari 15 (no Sec-Fetch-*)",
            vec![("origin", "https://cas.test")],
        ),
        ("IE 11 (no Origin)", vec![]),
    ];
    let foreign = [
        (
            "another site",
            vec![
                ("origin", "https://evil.test"),
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-mode", "navigate"),
            ],
        ),
        (
            "a sibling subdomain",
            vec![
                ("origin", "https://app.cas.test"),
                ("sec-fetch-site", "same-site"),
                ("sec-fetch-mode", "navigate"),
            ],
        ),
        (
            "a sandboxed frame",
            vec![
                ("origin", "null"),
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-mode", "navigate"),
            ],
        ),
        (
            "a cross-site post redirected here",
            vec![("origin", "null"), ("sec-fetch-site", "same-site")],
        ),
        ("null without Sec-Fetch-Site", vec![("origin", "null")]),
        (
            "a plain-http page of the same name",
            vec![
                ("origin", "http://cas.test"),
                ("sec-fetch-site", "same-site"),
            ],
        ),
        (
            "a plain-http page, old browser",
            vec![("origin", "http://cas.test")],
        ),
        ("another scheme", vec![("origin", "ws://cas.test")]),
        (
            "a cross-site post, the header in capitals",
            vec![("sec-fetch-site", "Cross-Site")],
        ),
        (
            "two origins, ours first",
            vec![
                ("origin", "https://cas.test"),
                ("origin", "https://evil.test"),
            ],
        ),
        (
            "two Sec-Fetch-Site",
            vec![
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-site", "cross-site"),
            ],
        ),
        (
            "another site, old browser",
            vec![("origin", "https://evil.test")],
        ),
        (
            "a look-alike host",
            vec![
                ("origin", "https://cas.test.evil.test"),
                ("sec-fetch-site", "cross-site"),
            ],
        ),
    ];
    for (browser, headers, accepted) in own
        .iter()
        .map(|(b, h)| (b, h, true))
        .chain(foreign.iter().map(|(b, h)| (b, h, false)))
    {
        let mut c = t.client();
        let form = c.get(&login_path(SERVICE)).await;
        let body = format!(
            "username=alice&password={}&service={}&execution={}",
            enc(PASSWORD),
            enc(SERVICE),
            enc(&form.input("execution").unwrap())
        );
        let mut sent = vec![("content-type", "application/x-www-form-urlencoded")];
        sent.extend(headers.iter().copied());
        let res = c.send("POST", "/cas/login", &sent, &body).await;
        match accepted {
            true => assert_eq!(res.status, 302, "{browser}: {}", res.body),
            false => {
                assert_eq!(res.status, 403, "{browser}");
                assert!(res.set_cookie("CASTGC").is_none(), "{browser}");
            }
        }
    }
}

/// docs/security.md D04, an accepted risk (README): logout is a GET by protocol, so another site
/// can log a user out; it still never redirects off the registry.
#[tokio::test]
async fn a_cross_site_logout_ends_the_session_but_redirects_nowhere_foreign() {
    let t = TestServer::start().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let res = c
        .send(
            "GET",
            &format!("/cas/logout?service={}", enc("https://evil.test/")),
            &[("sec-fetch-site", "cross-site")],
            "",
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.header("location").is_none());
    assert_eq!(c.get(&login_path(SERVICE)).await.status, 200, "logged out");
}

/// docs/security.md E02: unknown, locked, disabled and real accounts each cost exactly one bcrypt
/// verification, so no path is faster than another (BENCHMARKS.md has the timings). The
/// counter counts bcrypt runs, not calls: without the dummy verification for an unknown
/// account this test fails (tried).
#[tokio::test]
async fn every_failed_login_pays_one_password_verification() {
    let t = TestServer::start_with(|c| c.throttle.captcha_after = 0).await;
    t.add_user("carol", PASSWORD, false, &[]);
    t.add_user("dave", PASSWORD, false, &[]);
    t.add_user("bob", "123456", true, &[]);
    let now = t.clock().now();
    t.server
        .store
        .set_status("carol", Status::Locked, now)
        .unwrap();
    t.server
        .store
        .set_status("dave", Status::Disabled, now)
        .unwrap();
    let counter = &t.server.password_verifications;
    for (user, password) in [
        ("zz999", "wrong"),
        ("alice", "wrong"),
        ("carol", PASSWORD),
        ("dave", "wrong"),
        ("bob", "wrong"),
        ("<x>", "wrong"),
    ] {
        let before = counter.load(Ordering::SeqCst);
        let res = t
            .client_from("127.0.0.60")
            .login(user, password, None)
            .await;
        assert_eq!(res.status, 401, "{user}");
        assert_eq!(counter.load(Ordering::SeqCst) - before, 1, "{user}");
    }
}

/// docs/security.md E06, E01, E03: every auth-adjacent endpoint answers a known and an unknown
/// account alike: status, redirect, cookie names, and the page apart from its tokens.
#[tokio::test]
async fn auth_endpoints_answer_known_and_unknown_accounts_alike() {
    let t = TestServer::start().await;
    let mut answers = Vec::new();
    for user in ["alice", "zz999"] {
        let mut seen = Vec::new();
        for round in 0..4 {
            let res = t
                .client_from("127.0.0.61")
                .login(user, "wrong", Some(SERVICE))
                .await;
            let cookies: Vec<String> = res
                .all("set-cookie")
                .iter()
                .map(|c| c.split('=').next().unwrap().to_string())
                .collect();
            let body = res
                .body
                .replace(&res.input("execution").unwrap_or_default(), "")
                .replace(&res.salt(), "")
                .replace(user, "");
            seen.push(format!("{round}:{}:{cookies:?}:{}", res.status, body.len()));
            for path in [
                format!("/cas/needCaptcha.html?username={user}"),
                format!("/cas/checkNeedCaptcha.htl?username={user}"),
                format!("/cas/login?username={user}"),
                "/cas/forgot".to_string(),
            ] {
                let res = t.client().get(&path).await;
                seen.push(format!(
                    "{path}:{}:{}:{}",
                    res.status,
                    res.header("location").unwrap_or(""),
                    res.body
                        .replace(&res.input("execution").unwrap_or_default(), "")
                        .replace(&res.salt_if_any(), "")
                        .replace(user, "")
                        .len()
                ));
            }
        }
        answers.push(seen.join("\n").replace("zz999", "alice"));
    }
    assert_eq!(answers[0], answers[1]);
}

/// docs/security.md I03: control characters in a user name never forge or colour a log line.
#[tokio::test]
async fn hostile_user_names_never_forge_log_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("i.db");
    let log = dir.path().join("log");
    let running = serve_binary(&db, &[], Some(&log));
    let forged = "x\r\n2026-01-01T00:00:00Z  INFO unicas: login ok user=admin";
    for name in [forged, "\u{1b}[31mred\u{1b}[0m", "a\nb"] {
        Client::new(running.addr, None)
            .login(name, "wrong", None)
            .await;
    }
    drop(running);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("login failed"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("2026-01-01")), "{text}");
    assert!(!text.contains('\u{1b}'));
}

/// docs/security.md J07: a flood of idle connections beyond the open-file limit neither crashes
/// the server nor keeps it from serving once they go (the accept loop backs off on EMFILE).
#[tokio::test]
async fn running_out_of_file_descriptors_is_survived() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_unicas"));
    command
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    // SAFETY: setrlimit is async-signal-safe and touches only the child being started.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 64,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr: std::net::SocketAddr = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    let mut idle = Vec::new();
    for _ in 0..150 {
        if let Ok(s) = tokio::net::TcpStream::connect(addr).await {
            idle.push(s);
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server is still running"
    );
    drop(idle);
    let mut served = false;
    for _ in 0..50 {
        let res = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            Client::new(addr, None).get("/cas/login"),
        )
        .await;
        if res.is_ok_and(|r| r.status == 200) {
            served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(served, "serving again once the connections went");
}

/// docs/security.md J08: ambiguous message framing (request smuggling material) is refused, or,
/// where hyper settles it first (`Content-Length` beside `Transfer-Encoding: chunked` is
/// read as chunked, the length dropped), the connection closes after that one answer, so
/// nothing can be smuggled behind it.
#[tokio::test]
async fn ambiguous_framing_is_refused() {
    let t = TestServer::start().await;
    for request in [
        &b"POST /cas/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"[..],
        b"POST /cas/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        b"POST /cas/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
        b"GET /cas/login HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
    ] {
        let reply = raw(t.server.addr, request).await;
        assert!(reply.starts_with("HTTP/1.1 400"), "{:?} -> {reply:?}", String::from_utf8_lossy(request));
    }
    let smuggled = b"POST /cas/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /cas/help HTTP/1.1\r\nHost: x\r\n\r\n";
    let reply = raw(t.server.addr, smuggled).await;
    assert_eq!(reply.matches("HTTP/1.1 ").count(), 1, "{reply}");
    assert!(reply.to_ascii_lowercase().contains("connection: close"));
    // Bare LF line endings are read as the line ends they mean (one consistent reading).
    let reply = raw(
        t.server.addr,
        b"GET /cas/help HTTP/1.1\nHost: x\nConnection: close\n\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply:?}");
    assert_eq!(t.client().get("/cas/login").await.status, 200);
}

/// docs/security.md J11, K05: a fault inside (a handler's panic, a store that fails) gives a
/// generic 500 page or `INTERNAL_ERROR`, nothing of the cause, and other requests go on.
#[tokio::test]
async fn a_fault_gives_a_generic_answer() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let res = c.get("/cas/test-panic").await;
    assert_eq!(res.status, 500);
    assert!(!res.body.contains("panic") && !res.body.contains(".rs"));
    assert_eq!(c.get("/cas/login").await.status, 200);
    let ticket = c.ticket(SERVICE).await;
    t.clock().advance(3); // past the 2 s memory of sessions: validation must read the store
    t.server.store.fail_reads(true);
    let res = c
        .get(&validate_path("serviceValidate", SERVICE, &ticket))
        .await;
    assert_eq!(parse_cas(&res.body).unwrap_err().0, "INTERNAL_ERROR");
    assert!(!res.body.to_lowercase().contains("readonly"));
    t.server.store.fail_reads(false);
    t.server.store.fail_writes(true);
    let res = t.client().login("alice", PASSWORD, Some(SERVICE)).await;
    assert_eq!(res.status, 500);
    assert!(res.body.contains("系统繁忙"));
    assert!(!res.body.to_lowercase().contains("readonly") && !res.body.contains("database"));
    t.server.store.fail_writes(false);
    assert_eq!(
        t.client()
            .login("alice", PASSWORD, Some(SERVICE))
            .await
            .status,
        302
    );
}

/// docs/security.md J12: a thousand pipelined requests on one connection are answered in order.
#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let t = TestServer::start().await;
    let mut requests = Vec::new();
    for i in 0..1000 {
        requests.extend_from_slice(
            format!(
                "GET /cas/serviceValidate?service={}&ticket=ST-{i:05} HTTP/1.1\r\nHost: x\r\n\r\n",
                enc(SERVICE)
            )
            .as_bytes(),
        );
    }
    requests.extend_from_slice(b"GET /cas/help HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let reply = raw(t.server.addr, &requests).await;
    assert_eq!(reply.matches("HTTP/1.1 200").count(), 1001);
    // The refusals echo their ticket (escaped: `'` is `&apos;`).
    let marker = "Ticket &apos;ST-";
    let order: Vec<usize> = reply
        .match_indices(marker)
        .map(|(i, _)| {
            reply[i + marker.len()..i + marker.len() + 5]
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(order, (0..1000).collect::<Vec<_>>());
}

/// docs/security.md K02: one-time secrets have one winner in a 16-way race: a login form token, a
/// proxy-less PT stand-in (a service ticket at /proxyValidate), a captcha answer, and the
/// first-login step.
#[tokio::test]
async fn one_time_secrets_have_one_winner_in_a_race() {
    let t = TestServer::start().await;
    // The form token.
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
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let mut c = t.client();
            c.jar.insert("UNICAS_FLOW".into(), flow.clone());
            let body = body.clone();
            tokio::spawn(async move {
                c.send(
                    "POST",
                    "/cas/login",
                    &[("content-type", "application/x-www-form-urlencoded")],
                    &body,
                )
                .await
                .status
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += (task.await.unwrap() == 302) as usize;
    }
    assert_eq!(wins, 1, "one login from one form token");

    // A ticket at /proxyValidate, where proxy tickets go too.
    let ticket = t.client().ticket(SERVICE).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let mut c = t.client();
            let path = validate_path("proxyValidate", SERVICE, &ticket);
            tokio::spawn(async move { parse_cas(&c.get(&path).await.body).is_ok() as usize })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += task.await.unwrap();
    }
    assert_eq!(wins, 1);

    // The first-login steps: the password change, then "我已完成".
    t.add_user("bob", "123456", true, &[]);
    let mut bob = t.client();
    let step = bob.login("bob", "123456", Some(SERVICE)).await;
    let token = step.input("execution").unwrap();
    let pending = bob.jar["UNICAS_PENDING"].clone();
    let race = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let mut c = t.client();
                c.jar.insert("UNICAS_PENDING".into(), pending.clone());
                let fields = fields.clone();
                tokio::spawn(async move { c.post_owned(path, &fields).await.status })
            })
            .collect::<Vec<_>>();
        async move {
            let mut statuses = Vec::new();
            for task in tasks {
                statuses.push(task.await.unwrap());
            }
            statuses
        }
    };
    let changes = race(
        "/cas/login/first/password",
        vec![
            ("execution", token.clone()),
            ("password", "123456".into()),
            ("newPassword", "New-Pass-2026".into()),
            ("confirmPassword", "New-Pass-2026".into()),
        ],
    )
    .await;
    assert_eq!(
        changes.iter().filter(|s| **s == 303).count(),
        1,
        "{changes:?}"
    );
    let done = race("/cas/login/first/done", vec![("execution", token.clone())]).await;
    assert_eq!(
        done.iter().filter(|s| **s == 302).count(),
        1,
        "one session: {done:?}"
    );
    let audit = t.server.store.recent_audit(Some("bob"), 50).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.event == "password_changed")
            .count(),
        1
    );
}

/// docs/security.md K02: a captcha answer lets at most one login past it.
#[tokio::test]
async fn a_captcha_answer_is_spent_once_in_a_race() {
    let t = TestServer::start().await;
    for _ in 0..3 {
        t.client_from("127.0.0.70")
            .login("alice", "wrong", None)
            .await;
    }
    let mut c = t.client();
    c.get("/cas/login?username=alice").await;
    c.get("/cas/captcha.html").await;
    let flow = c.jar["UNICAS_FLOW"].clone();
    let answer = t.server.app.captcha_answer(&flow).await.unwrap();
    let mut forms = Vec::new();
    for _ in 0..16 {
        let page = c.get("/cas/login?username=alice").await;
        forms.push(page.input("execution").unwrap());
    }
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|token| {
            let mut c = t.client();
            c.jar.insert("UNICAS_FLOW".into(), flow.clone());
            let answer = answer.clone();
            // Wrong passwords: a success would end the need for a captcha, and a request that
            // came in after it would rightly need none.
            tokio::spawn(async move {
                let fields = [
                    ("username", "alice"),
                    ("password", "still-wrong"),
                    ("captcha", answer.as_str()),
                    ("execution", token.as_str()),
                ];
                c.post("/cas/login", &fields).await
            })
        })
        .collect();
    let mut passed = 0;
    for task in tasks {
        let res = task.await.unwrap();
        assert!(res.status == 401 || res.status == 423, "{}", res.status);
        passed += !res.body.contains("验证码错误") as usize;
    }
    assert_eq!(passed, 1, "one attempt got past one captcha answer");
}

/// docs/security.md L02, D08, G09: a dump of every table after logins, validations, a password
/// change, an SMS code and single-logout records holds no password, no whole ticket or TGC,
/// no code, no contact detail in clear.
#[tokio::test]
async fn a_dump_of_every_table_holds_no_secret() {
    let t = TestServer::start().await;
    t.add_user("bob", "Initial-Pass-1", true, &[]);
    let mut c = t.client();
    let ticket = c.ticket(SERVICE).await;
    let tgc = c.jar["CASTGC"].clone();
    c.get(&validate_path("serviceValidate", SERVICE, &ticket))
        .await;
    let mut bob = t.client();
    let step = bob.login("bob", "Initial-Pass-1", Some(SERVICE)).await;
    let done = bob
        .change_initial_password(&step, "Initial-Pass-1", "Brand-New-Pass-7")
        .await;
    assert_eq!(done.status, 302);
    // A phone code waiting to be entered (docs/security.md G09: only its keyed hash is kept).
    t.add_imported("s9", "31002X");
    let mut carol = t.client();
    let step = carol.login("s9", "31002X", None).await;
    let token = step.input("execution").unwrap();
    let fields = [
        ("execution", token.as_str()),
        ("password", "31002X"),
        ("newPassword", "Carol-Pass-2026"),
        ("confirmPassword", "Carol-Pass-2026"),
    ];
    assert_eq!(
        carol
            .post("/cas/login/first/password", &fields)
            .await
            .status,
        303
    );
    let sent = carol
        .post(
            "/cas/login/first/phone",
            &[
                ("execution", &token),
                ("action", "send"),
                ("phone", "13912345678"),
            ],
        )
        .await;
    let code = t.sms_code("13912345678").await.unwrap();
    assert!(!sent.body.contains(&code), "the page never shows the code");
    t.server.settle_logout().await;
    let tables = dump_database(&t.config.db);
    let mut dump = String::new();
    for (table, rows) in &tables {
        for row in rows {
            // Only where a code could be: elsewhere six digits may occur by chance.
            if table == "one_time_codes" || table == "sms_log" {
                assert!(!row.contains(&code), "the code in {table}: {row}");
            }
            dump.push_str(row);
            dump.push('\n');
        }
    }
    assert!(
        tables
            .iter()
            .any(|(table, rows)| table == "logout_participants" && !rows.is_empty()),
        "single-logout records were looked at too"
    );
    for secret in [
        PASSWORD,
        "Initial-Pass-1",
        "Brand-New-Pass-7",
        &ticket,
        &tgc,
        "13800000000",
        "13912345678",
        "alice@example.edu",
    ] {
        assert!(!dump.contains(secret), "{secret} in a table");
    }
    assert!(dump.contains("$2b$"), "bcrypt hashes, for comparison");
}

/// docs/security.md L04, G09: the log at `trace` holds no password, whole ticket, TGC, SMS code,
/// phone number or cookie value.
#[tokio::test]
async fn trace_logs_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let add = [
        "user",
        "add",
        "s1",
        "--name",
        "S",
        "--password",
        "Log-Secret-Pass-9",
        "--phone",
        "13912345678",
    ];
    assert!(unicas(&db, &add).0);
    let add = [
        "user",
        "add",
        "s2",
        "--name",
        "S",
        "--password",
        "Log-Secret-Pass-8",
        "--must-bind-phone",
    ];
    assert!(unicas(&db, &add).0);
    assert!(
        unicas(
            &db,
            &[
                "service",
                "add",
                "--name",
                "a",
                "--pattern",
                SERVICE,
                "--all-attributes"
            ]
        )
        .0
    );
    let log = dir.path().join("log");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_unicas"));
    command
        .arg("--db")
        .arg(&db)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://cas.test/cas",
        ])
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = command.spawn().unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let addr = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    let mut c = Client::new(addr, None);
    let res = c.login("s1", "Log-Secret-Pass-9", Some(SERVICE)).await;
    let ticket = res.ticket();
    let tgc = c.jar["CASTGC"].clone();
    let flow_cookie = res.set_cookie("CASTGC").unwrap().to_string();
    c.get(&validate_path("p3/serviceValidate", SERVICE, &ticket))
        .await;
    Client::new(addr, None)
        .login("s1", "Wrong-Guess-Pass-1", None)
        .await;
    c.get("/cas/logout").await;
    // An SMS code sent and used (docs/security.md G09).
    let mut phone_step = Client::new(addr, None);
    let step = phone_step.login("s2", "Log-Secret-Pass-8", None).await;
    let token = step.input("execution").unwrap();
    let send = [
        ("execution", token.as_str()),
        ("action", "send"),
        ("phone", "13712345678"),
    ];
    phone_step.post("/cas/login/first/phone", &send).await;
    let outbox = unicas(&db, &["sms", "outbox", "--phone", "13712345678"]).1;
    let start = outbox.find("验证码为").expect("the outbox has the message") + "验证码为".len();
    let code = outbox[start..start + 6].to_string();
    let bind = [
        ("execution", token.as_str()),
        ("action", "bind"),
        ("code", code.as_str()),
    ];
    assert_eq!(
        phone_step
            .post("/cas/login/first/phone", &bind)
            .await
            .status,
        303
    );
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    // Six digits standing alone (not a timestamp's fraction, not part of a longer number).
    let bytes = text.as_bytes();
    let standalone = text.match_indices(&code).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 6).copied();
        !matches!(before, Some(b'0'..=b'9' | b'.')) && !matches!(after, Some(b'0'..=b'9'))
    });
    assert!(!standalone, "the SMS code {code} in the log");
    assert!(text.contains("137****5678"), "the send was logged, masked");
    assert!(
        text.contains("SSO session started"),
        "the log was written: {text}"
    );
    for secret in [
        "Log-Secret-Pass-9",
        "Log-Secret-Pass-8",
        "Wrong-Guess-Pass-1",
        "13712345678",
        ticket.as_str(),
        tgc.as_str(),
        "13912345678",
        &flow_cookie,
    ] {
        assert!(!text.contains(secret), "{secret} in the log");
    }
}

/// docs/security.md L05: each security event is in the audit log with the client's address and
/// browser.
#[tokio::test]
async fn the_audit_log_records_each_event_with_its_client() {
    let t = TestServer::start().await;
    t.add_user("bob", "123456", true, &[]);
    let browser = || {
        let mut c = t.client_from("127.0.0.80");
        c.headers
            .push(("user-agent".into(), "TestBrowser/1.0".into()));
        c
    };
    browser().login("alice", "wrong", None).await;
    browser().login("alice", PASSWORD, None).await;
    let mut c = browser();
    let step = c.login("bob", "123456", None).await;
    c.change_initial_password(&step, "123456", "New-Pass-2026")
        .await;
    let audit = t.server.store.recent_audit(None, 50).unwrap();
    for (event, account) in [
        ("login_failure", "alice"),
        ("login_success", "alice"),
        ("login_success", "bob"),
        ("password_changed", "bob"),
    ] {
        let row = audit
            .iter()
            .find(|r| r.event == event && r.account_id.as_deref() == Some(account))
            .unwrap_or_else(|| panic!("no {event} for {account}: {audit:?}"));
        assert_eq!(row.client_ip, "127.0.0.80");
        assert_eq!(row.user_agent, "TestBrowser/1.0");
    }
    let failure = audit.iter().find(|r| r.event == "login_failure").unwrap();
    assert_eq!(failure.detail, "wrong password");
}

/// docs/security.md L06: every kind of page carries the browser-hardening headers; forms post
/// only here (`form-action 'self'`) except on pages whose forms lead on to an application,
/// which Chromium would otherwise stop at the redirect after the post.
#[tokio::test]
async fn every_kind_of_page_carries_the_security_headers() {
    let t = TestServer::start().await;
    t.add_user("bob", "123456", true, &[]);
    let mut pages = Vec::new();
    let mut c = t.client();
    pages.push(("login", c.get("/cas/login").await));
    pages.push(("login for a service", c.get(&login_path(SERVICE)).await));
    pages.push((
        "first login for a service",
        t.client().login("bob", "123456", Some(SERVICE)).await,
    ));
    pages.push((
        "not authorized",
        c.get(&login_path("https://evil.test/")).await,
    ));
    pages.push(("not found", c.get("/cas/nope").await));
    pages.push(("help", c.get("/cas/help").await));
    pages.push(("forgot", c.get("/cas/forgot").await));
    pages.push((
        "failed login",
        t.client().login("alice", "wrong", None).await,
    ));
    pages.push(("first login", t.client().login("bob", "123456", None).await));
    let mut alice = t.client();
    alice.login("alice", PASSWORD, None).await;
    pages.push(("portal", alice.get("/cas/portal").await));
    pages.push(("account", alice.get("/cas/account").await));
    pages.push(("logged out", alice.get("/cas/logout").await));
    t.server.store.fail_writes(true);
    pages.push(("error", t.client().login("alice", PASSWORD, None).await));
    t.server.store.fail_writes(false);
    for (name, res) in &pages {
        let csp = res
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{name}: no CSP"));
        for directive in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{name}: {csp}");
        }
        let leads_to_app = name.ends_with("for a service");
        assert_eq!(csp.contains("form-action"), !leads_to_app, "{name}: {csp}");
        if !leads_to_app {
            assert!(csp.ends_with("form-action 'self'"), "{name}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{name}");
        for (header, value) in [
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
            ("x-content-type-options", "nosniff"),
            ("cache-control", "no-store"),
            ("cross-origin-opener-policy", "same-origin"),
            ("strict-transport-security", "max-age=31536000"),
        ] {
            assert_eq!(res.header(header), Some(value), "{name}: {header}");
        }
        assert!(res.header("access-control-allow-origin").is_none());
    }
}

/// docs/security.md L11, ASVS 6.3.2: a fresh installation without `--demo` has no account and no
/// service.
#[tokio::test]
async fn a_fresh_install_has_no_accounts_or_services() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let running = serve_binary(&db, &[], None);
    let res = Client::new(running.addr, None)
        .login("admin", "admin", None)
        .await;
    assert_eq!(res.status, 401);
    drop(running);
    assert_eq!(unicas(&db, &["user", "list"]).1, "");
    assert_eq!(unicas(&db, &["service", "list"]).1, "");
}

/// docs/security.md A09, A10(h): other kinds of ticket presented as service tickets are refused,
/// and presenting them spends nothing (the session and the PGT stay valid).
#[tokio::test]
async fn other_ticket_kinds_are_not_service_tickets() {
    let t = TestServer::start().await;
    let mut c = t.client();
    c.login("alice", PASSWORD, None).await;
    let tgc = c.jar["CASTGC"].clone();
    let form = t
        .client()
        .get("/cas/login")
        .await
        .input("execution")
        .unwrap();
    for (endpoint, ticket) in [
        ("serviceValidate", tgc.as_str()),
        ("p3/serviceValidate", form.as_str()),
        ("proxyValidate", "PGT-abcdefghijklmnopqrstuvwxyz0"),
        ("serviceValidate", "PGTIOU-abcdefghijklmnopqrstuvwxyz0"),
    ] {
        let res = c.get(&validate_path(endpoint, SERVICE, ticket)).await;
        let code = parse_cas(&res.body).unwrap_err().0;
        assert!(
            code == "INVALID_TICKET" || code == "INVALID_REQUEST",
            "{ticket}: {code}"
        );
    }
    assert_eq!(
        c.get(&validate_path("validate", SERVICE, &tgc)).await.body,
        "no\n\n"
    );
    assert_eq!(
        c.get(&login_path(SERVICE)).await.status,
        302,
        "the session is untouched"
    );
}

/// docs/security.md A15, C06: the release policy and the escaping hold at `/proxyValidate` and
/// `/samlValidate` too.
#[tokio::test]
async fn release_and_escaping_hold_at_every_validation_endpoint() {
    let t = TestServer::start().await;
    let evil = "</cas:user><cas:user>admin & \"x\" ]]>";
    t.add_user(
        "mallory",
        PASSWORD,
        false,
        &[("note", evil), ("secret", "s3")],
    );
    t.register(NewService {
        name: "narrow".into(),
        pattern: "https://narrow.test/".into(),
        release: Release::Only(vec!["note".into()]),
        ..Default::default()
    });
    let mut c = t.client();
    let res = c
        .login("mallory", PASSWORD, Some("https://narrow.test/"))
        .await;
    let ticket = res.ticket();
    let xml = c
        .get(&validate_path(
            "p3/proxyValidate",
            "https://narrow.test/",
            &ticket,
        ))
        .await
        .body;
    let (user, attrs) = parse_cas(&xml).unwrap();
    assert_eq!(user, "mallory");
    assert_eq!(attrs.iter().find(|(k, _)| k == "note").unwrap().1, evil);
    assert!(!attrs
        .iter()
        .any(|(k, _)| k == "secret" || k == "mobile" || k == "mail"));
    let ticket = c.get(&login_path("https://narrow.test/")).await.ticket();
    let saml = format!(
        "<Envelope><Body><Request RequestID=\"r\"><AssertionArtifact>{ticket}</AssertionArtifact></Request></Body></Envelope>"
    );
    let res = c
        .send(
            "POST",
            &format!("/cas/samlValidate?TARGET={}", enc("https://narrow.test/")),
            &[("content-type", "text/xml")],
            &saml,
        )
        .await;
    let doc = roxmltree::Document::parse(&res.body).unwrap();
    let values: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Attribute")
        .map(|n| {
            (
                n.attribute("AttributeName").unwrap().to_string(),
                n.descendants()
                    .find(|v| v.tag_name().name() == "AttributeValue")
                    .unwrap()
                    .text()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    assert!(values.contains(&("note".into(), evil.into())), "{values:?}");
    assert!(!values.iter().any(|(k, _)| k == "secret" || k == "mobile"));
}

/// docs/security.md D01, E01: a post with an expired form token sets no cookie and checks no
/// password (so dropping the token buys no free guess); must-change and disabled accounts
/// fail like any. (A lock ending a PGT: `proxy::a_lock_ends_the_accounts_pgts_and_tickets`.)
#[tokio::test]
async fn expired_tokens_and_special_accounts() {
    let t = TestServer::start_with(|c| c.throttle.captcha_after = 0).await;
    let mut c = t.client();
    let form = c.get(&login_path(SERVICE)).await;
    let token = form.input("execution").unwrap();
    t.clock().advance(1801);
    let checked = t.server.password_verifications.load(Ordering::SeqCst);
    let res = c
        .post(
            "/cas/login",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("service", SERVICE),
                ("execution", &token),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(res.set_cookie("CASTGC").is_none());
    assert_eq!(
        t.server.password_verifications.load(Ordering::SeqCst),
        checked,
        "no password was checked"
    );
    t.add_user("bob", "123456", true, &[]);
    t.add_user("dave", PASSWORD, false, &[]);
    t.server
        .store
        .set_status("dave", Status::Disabled, t.clock().now())
        .unwrap();
    let shape = |res: &Resp, user: &str| {
        res.body
            .replace(&res.input("execution").unwrap(), "")
            .replace(&res.salt(), "")
            .replace(user, "")
    };
    let a = t.client().login("bob", "wrong", None).await;
    let b = t.client().login("dave", PASSWORD, None).await;
    let z = t.client().login("zz999", "wrong", None).await;
    assert_eq!((a.status, b.status, z.status), (401, 401, 401));
    assert_eq!(shape(&a, "bob"), shape(&z, "zz999"));
    assert_eq!(shape(&b, "dave"), shape(&z, "zz999"));
}

impl Resp {
    /// The login page's salt, or nothing for pages without one.
    pub fn salt_if_any(&self) -> String {
        match self.body.contains("id=\"pwdEncryptSalt\"") {
            true => self.salt(),
            false => String::new(),
        }
    }
}

/// docs/security.md C05: nothing a person or a link sends reaches a script: the pages' only
/// scripts are files of ours and the login page's salt line (allowed by its hash), the
/// countdowns read `data-*` attributes, and a service or name carrying `</script>` and
/// U+2028 stays escaped text.
#[tokio::test]
async fn server_data_never_reaches_a_script() {
    let t = TestServer::start().await;
    t.add_service("https://app.test/*", None);
    let hostile = "</script><script>alert(1)</script>\u{2028}";
    let service = format!("https://app.test/x?q={}", enc(hostile));
    let mut c = t.client();
    let mut pages = Vec::new();
    for path in [
        format!(
            "/cas/login?service={}&username={}",
            enc(&service),
            enc(hostile)
        ),
        format!("/cas/login?service={}&cllt=dynamicLogin", enc(&service)),
        format!("/cas/login?service={}&cllt=qrLogin", enc(&service)),
        format!("/cas/forgot?service={}", enc(&service)),
        format!("/cas/forgot/done?service={}", enc(&service)),
    ] {
        pages.push((path.clone(), c.get(&path).await));
    }
    pages.push((
        "failed login".into(),
        t.client().login(hostile, "wrong", Some(&service)).await,
    ));
    for (path, page) in &pages {
        assert_eq!(
            page.status / 100,
            if path == "failed login" { 4 } else { 2 },
            "{path}"
        );
        for script in page.body.split("<script").skip(1) {
            assert!(
                script.starts_with(" src=\"/cas/assets/")
                    || script.starts_with(">var pwdDefaultEncryptSalt = \""),
                "{path}: <script{}",
                &script[..script.len().min(80)]
            );
            let inline = script.split("</script>").next().unwrap_or("");
            assert!(
                !inline.contains('\u{2028}') && !inline.contains("alert"),
                "{path}"
            );
        }
        assert!(!page.body.contains("<script>alert"), "{path}");
    }
}
