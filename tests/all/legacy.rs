//! Legacy compatibility: several path prefixes at once, and the campus product's login page
//! as its scripted clients use it (scraped salt and execution, AES-wrapped password).

use crate::support::*;
use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::Engine;

async fn two_prefixes() -> TestServer {
    TestServer::start_with(|c| c.prefixes = vec!["/authserver".into()]).await
}

#[tokio::test]
async fn a_ticket_from_one_prefix_validates_on_the_other_and_sso_spans_both() {
    let t = two_prefixes().await;
    let mut browser = t.client();
    let form = browser
        .get(&format!("/authserver/login?service={}", enc(SERVICE)))
        .await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("action=\"/authserver/login\""));
    let token = form.input("execution").unwrap();
    let res = browser
        .post(
            "/authserver/login",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("execution", &token),
                ("service", SERVICE),
            ],
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    let tgc_paths: Vec<&str> = res
        .all("set-cookie")
        .into_iter()
        .filter(|c| c.starts_with("CASTGC=TGT-"))
        .collect();
    assert_eq!(tgc_paths.len(), 2, "{tgc_paths:?}");
    assert!(tgc_paths.iter().any(|c| c.contains("Path=/cas;")));
    assert!(tgc_paths.iter().any(|c| c.contains("Path=/authserver;")));

    let mut app = t.client();
    let ok = app
        .get(&validate_path("serviceValidate", SERVICE, &res.ticket()))
        .await;
    assert_eq!(parse_cas(&ok.body).unwrap().0, "alice");

    // The same browser is already logged in under the other prefix.
    let sso = browser
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await;
    assert_eq!(sso.status, 302);
    let ok = app
        .get(&format!(
            "/authserver/p3/serviceValidate?service={}&ticket={}",
            enc(SERVICE),
            sso.ticket()
        ))
        .await;
    assert_eq!(parse_cas(&ok.body).unwrap().0, "alice");

    // Logging out under one prefix clears the cookie under both.
    let out = browser.get("/authserver/logout").await;
    let cleared = out
        .all("set-cookie")
        .into_iter()
        .filter(|c| c.starts_with("CASTGC=;") && c.contains("Max-Age=0"))
        .count();
    assert_eq!(cleared, 2);
}

#[tokio::test]
async fn prefixes_match_whole_path_segments_only() {
    let t = two_prefixes().await;
    let mut c = t.client();
    assert_eq!(c.get("/authserverx/login").await.status, 404);
    assert_eq!(c.get("/casx/login").await.status, 404);
    assert_eq!(c.get("/authserver").await.location(), "/authserver/login");
    assert_eq!(c.get("/authserver/").await.location(), "/authserver/login");
}

/// What the campus page's script (and every client that imitates it) sends as the password.
fn wrap(password: &str, salt: &str) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKMNPQRSTWXYZabcdefhijkmnprstwxyz2345678";
    let mut plain: Vec<u8> = (0..64)
        .map(|_| CHARS[rand::random_range(0..CHARS.len())])
        .collect();
    plain.extend_from_slice(password.as_bytes());
    let iv: [u8; 16] = std::array::from_fn(|_| CHARS[rand::random_range(0..CHARS.len())]);
    let key: [u8; 16] = salt.as_bytes().try_into().unwrap();
    let len = plain.len();
    plain.resize(len + 16, 0);
    let out = cbc::Encryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .encrypt_padded_mut::<Pkcs7>(&mut plain, len)
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// The value after `marker` up to the next `"`, as the public clients' regexes take it.
fn scrape<'a>(page: &'a str, marker: &str) -> &'a str {
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    &page[start..end]
}

#[tokio::test]
async fn a_scripted_campus_client_logs_in_with_a_wrapped_password() {
    let t = two_prefixes().await;
    let mut c = t.client();
    let page = c
        .get(&format!("/authserver/login?service={}", enc(SERVICE)))
        .await;
    // Newer clients read the hidden input, older ones the script variable: both agree.
    let salt = scrape(&page.body, "id=\"pwdEncryptSalt\" value=\"").to_string();
    assert_eq!(
        salt,
        scrape(&page.body, "var pwdDefaultEncryptSalt = \"").to_string()
    );
    assert_eq!(salt.len(), 16);
    // The inline script is allowed by its hash, nothing else inline is.
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self' 'sha256-"), "{csp}");
    let lt = scrape(&page.body, "name=\"lt\" value=\"").to_string();
    let execution = scrape(&page.body, "name=\"execution\" value=\"").to_string();
    for hidden in ["dllt", "cllt", "rmShown", "_eventId"] {
        assert!(page.input(hidden).is_some(), "{hidden} missing");
    }

    let wrapped = wrap(PASSWORD, &salt);
    assert_eq!(wrapped.len(), 108);
    let res = c
        .post(
            "/authserver/login",
            &[
                ("username", "alice"),
                ("password", &wrapped),
                ("captcha", ""),
                ("rememberMe", "true"),
                ("_eventId", "submit"),
                ("cllt", "userNameLogin"),
                ("dllt", "generalLogin"),
                ("lt", &lt),
                ("execution", &execution),
                ("service", SERVICE),
            ],
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    let ok = t
        .client()
        .get(&validate_path("serviceValidate", SERVICE, &res.ticket()))
        .await;
    assert_eq!(parse_cas(&ok.body).unwrap().0, "alice");

    // Wrapped with another page's salt: the failure page, 401.
    let mut c = t.client();
    let page = c
        .get(&format!("/authserver/login?service={}", enc(SERVICE)))
        .await;
    let execution = page.input("execution").unwrap();
    let res = c
        .post(
            "/authserver/login",
            &[
                ("username", "alice"),
                ("password", &wrap(PASSWORD, &salt)),
                ("execution", &execution),
                ("service", SERVICE),
            ],
        )
        .await;
    assert_eq!(res.status, 401);
    assert!(res.body.contains("name=\"password\""));
    // Scripts written for the campus product detect the failure by this element.
    assert!(res.body.contains("id=\"showErrorTip\""), "{}", res.body);
}

#[tokio::test]
async fn attributes_are_released_on_service_validate_with_aliases_and_container_id() {
    let t = TestServer::start().await;
    let portal = "https://portal.test/";
    t.register(unicas::model::NewService {
        name: "portal".into(),
        pattern: portal.into(),
        release: unicas::model::Release::Only(vec!["cn".into(), "containerId".into()]),
        attribute_aliases: vec![
            ("cn".into(), "userName".into()),
            ("cn".into(), "user_name".into()),
        ],
        ..Default::default()
    });
    let mut c = t.client();
    let ticket = c.ticket(portal).await;
    let res = c
        .get(&validate_path("serviceValidate", portal, &ticket))
        .await;
    let (user, attrs) = parse_cas(&res.body).unwrap();
    assert_eq!(user, "alice");
    let get = |name: &str| {
        attrs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(get("cn"), ["User alice"]);
    assert_eq!(get("userName"), ["User alice"]);
    assert_eq!(get("user_name"), ["User alice"]);
    assert_eq!(get("containerId"), ["ou=student,ou=People"]);
    // Not in the release list: withheld, even though the account has them.
    assert!(get("mail").is_empty() && get("memberOf").is_empty());
}
