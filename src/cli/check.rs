//! `unicas check URL`: a self-test of a live deployment, as the school's applications see
//! it. With a test account and a registered service URL it logs in, validates tickets on
//! every endpoint and format (CAS 1.0, 2.0, 3.0, JSON, SAML 1.1), checks that a ticket is
//! single use, that a proxy-granting ticket reaches the application's callback (when one is
//! given), and logs out; it prints what a stock client would read, and exits non-zero
//! if anything is not as the protocol says. The tool to run after an upgrade or migration.

use std::collections::BTreeMap;
use std::time::Duration;

pub struct CheckArgs<'a> {
    pub base: &'a str,
    pub service: &'a str,
    pub account: &'a str,
    pub password: &'a str,
    /// The application's proxy callback (`pgtUrl`), to check proxy granting.
    pub proxy_callback: Option<&'a str>,
}

/// A browser enough for the check: cookies by name (the client follows no redirects).
struct Browser {
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: u16,
    location: String,
    body: String,
}

impl Browser {
    async fn send(&mut self, request: reqwest::RequestBuilder) -> Result<Page, String> {
        let cookies: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let request = match cookies.is_empty() {
            true => request,
            false => request.header("cookie", cookies.join("; ")),
        };
        let res = request
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        for value in res.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap_or("").split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                match value.is_empty() {
                    true => self.cookies.remove(name),
                    false => self.cookies.insert(name.to_string(), value.to_string()),
                };
            }
        }
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = res.text().await.unwrap_or_default();
        Ok(Page {
            status,
            location,
            body,
        })
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The hidden input `name` of a page.
fn input(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].replace("&amp;", "&"))
}

/// The ticket in a redirect to the service.
fn ticket(location: &str) -> Option<String> {
    let query = url::Url::parse(location).ok()?;
    let found = query
        .query_pairs()
        .find(|(k, _)| k == "ticket")?
        .1
        .into_owned();
    Some(found)
}

/// Runs every check, printing a line each; `Ok` when all passed.
pub fn run(args: &CheckArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(checks(args))
}

async fn checks(args: &CheckArgs<'_>) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("unicas-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let base = args.base.trim_end_matches('/');
    let service = args.service;
    let mut browser = Browser {
        cookies: BTreeMap::new(),
    };
    let mut failures = 0;
    let mut report = |name: &str, result: Result<String, String>| match result {
        Ok(seen) => println!("ok    {name}: {seen}"),
        Err(why) => {
            failures += 1;
            println!("FAIL  {name}: {why}");
        }
    };

    // 1. The login page, and a login.
    let form = browser
        .send(http.get(format!("{base}/login?service={}", enc(service))))
        .await;
    let token = match &form {
        Ok(p) if p.status == 200 => input(&p.body, "execution"),
        _ => None,
    };
    report(
        "login page",
        match (&form, &token) {
            (Ok(_), Some(_)) => Ok("the form, with its execution token".into()),
            (Ok(p), None) => Err(format!(
                "HTTP {}, no login form (is the service registered?)",
                p.status
            )),
            (Err(e), _) => Err(e.clone()),
        },
    );
    let Some(token) = token else {
        return Err("cannot go on without a login form".into());
    };
    let fields = [
        ("username", args.account),
        ("password", args.password),
        ("execution", &token),
        ("_eventId", "submit"),
        ("service", service),
    ];
    let login = browser
        .send(http.post(format!("{base}/login")).form(&fields))
        .await?;
    let first = ticket(&login.location);
    report(
        "login",
        match (&first, login.status) {
            (Some(t), 302) if login.location.starts_with(service) => Ok(format!("302 to the service with {}…", &t[..t.len().min(8)])),
            (_, 200) => Err("HTTP 200: the account must take its first-login steps, or the password fails the policy".into()),
            (_, s) => Err(format!("HTTP {s}, no ticket (wrong password? locked?)")),
        },
    );
    let Some(first) = first else {
        return Err("cannot go on without a ticket".into());
    };

    // 2. Validation on every endpoint, each with a fresh ticket from the SSO session.
    let validate = |endpoint: &str, ticket: &str, extra: &str| {
        http.get(format!(
            "{base}/{endpoint}?service={}&ticket={}{extra}",
            enc(service),
            enc(ticket)
        ))
    };
    let user = |xml: &str| -> Option<String> {
        let start = xml.find("<cas:user>")? + "<cas:user>".len();
        Some(xml[start..start + xml[start..].find('<')?].to_string())
    };
    let p3 = browser
        .send(validate("p3/serviceValidate", &first, ""))
        .await?;
    report(
        "CAS 3.0 /p3/serviceValidate",
        match user(&p3.body) {
            Some(u) if u == args.account => {
                let attributes = p3.body.matches("<cas:").count().saturating_sub(8);
                Ok(format!(
                    "<cas:user>{u}</cas:user>, about {attributes} attribute elements"
                ))
            }
            _ => Err(format!(
                "no authenticationSuccess for {}: {}",
                args.account,
                p3.body.trim()
            )),
        },
    );
    let again = browser
        .send(validate("p3/serviceValidate", &first, ""))
        .await?;
    report(
        "a ticket is single use",
        match again.body.contains("INVALID_TICKET") {
            true => Ok("the second validation: INVALID_TICKET".into()),
            false => Err(format!(
                "a second validation answered: {}",
                again.body.trim()
            )),
        },
    );
    for (endpoint, extra, check) in [
        ("serviceValidate", "", "xml"),
        ("proxyValidate", "", "xml"),
        ("p3/serviceValidate", "&format=JSON", "json"),
        ("validate", "", "cas1"),
    ] {
        let next = browser
            .send(http.get(format!("{base}/login?service={}", enc(service))))
            .await?;
        let Some(t) = ticket(&next.location) else {
            report(
                &format!("/{endpoint}"),
                Err(format!("no SSO: HTTP {} without a ticket", next.status)),
            );
            continue;
        };
        let answer = browser.send(validate(endpoint, &t, extra)).await?;
        let seen = match check {
            "json" => {
                answer.body.contains("\"authenticationSuccess\"")
                    && answer.body.contains(args.account)
            }
            "cas1" => answer.body == format!("yes\n{}\n", args.account),
            _ => user(&answer.body).as_deref() == Some(args.account),
        };
        report(
            &format!("/{endpoint}{extra}"),
            match seen {
                true => Ok(answer
                    .body
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(60)
                    .collect()),
                false => Err(answer.body.trim().chars().take(200).collect()),
            },
        );
    }

    // 3. Proxy granting: the server calls the application's callback over https and, once
    // it answered, names the PGT's IOU in the validation. The PGT itself goes only to the
    // callback, so the check stops there.
    match args.proxy_callback {
        None => println!(
            "skip  proxy: give --proxy-callback URL (the application's pgtUrl) to check it"
        ),
        Some(callback) => {
            let next = browser
                .send(http.get(format!("{base}/login?service={}", enc(service))))
                .await?;
            let result = match ticket(&next.location) {
                None => Err(format!("no SSO: HTTP {} without a ticket", next.status)),
                Some(t) => {
                    let extra = format!("&pgtUrl={}", enc(callback));
                    let answer = browser
                        .send(validate("serviceValidate", &t, &extra))
                        .await?;
                    match answer.body.contains("<cas:proxyGrantingTicket>PGTIOU-") {
                        true => {
                            Ok("the callback took the PGT; the validation names its IOU".into())
                        }
                        false => Err(answer.body.trim().chars().take(200).collect()),
                    }
                }
            };
            report("proxy granting (pgtUrl)", result);
        }
    }

    // 4. SAML 1.1, as phpCAS and mod_auth_cas ask.
    let next = browser
        .send(http.get(format!("{base}/login?service={}", enc(service))))
        .await?;
    if let Some(t) = ticket(&next.location) {
        let soap = format!(
            r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/><SOAP-ENV:Body><samlp:Request xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" MajorVersion="1" MinorVersion="1" RequestID="unicas-check" IssueInstant="2026-01-01T00:00:00Z"><samlp:AssertionArtifact>{t}</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
        );
        let answer = browser
            .send(
                http.post(format!("{base}/samlValidate?TARGET={}", enc(service)))
                    .header("content-type", "text/xml")
                    .body(soap),
            )
            .await?;
        report(
            "SAML 1.1 /samlValidate",
            match answer.body.contains("samlp:Success")
                && answer.body.contains(&format!(">{}<", args.account))
            {
                true => Ok("samlp:Success with the NameIdentifier".into()),
                false => Err(answer.body.trim().chars().take(200).collect()),
            },
        );
    }

    // 5. Logout ends the session.
    let out = browser.send(http.get(format!("{base}/logout"))).await?;
    let after = browser
        .send(http.get(format!("{base}/login?service={}", enc(service))))
        .await?;
    report(
        "logout",
        match (out.status, after.status) {
            (200 | 302, 200) => Ok("the session ended: the login form again".into()),
            (o, a) => Err(format!(
                "logout HTTP {o}, then login HTTP {a} (a ticket after logout?)"
            )),
        },
    );
    match failures {
        0 => Ok(()),
        n => Err(format!("{n} check(s) failed")),
    }
}
