//! The application stand-in: what a campus system behind a stock CAS client does, on
//! `http://127.0.0.1:<port>/` (another site than the CAS server, as in production). Without a
//! session of its own it sends the browser to the login page; back with a ticket, it validates
//! it at `/p3/serviceValidate` over TLS (as mod_auth_cas does), keeps a session under its
//! cookie and shows who is logged in; `/renew` asks for a fresh login (`renew=true`, and
//! validates with it) before it shows the page; a
//! back-channel logout request (single logout) ends the session it names.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// A session of the application: who, and the ticket that opened it (single logout names it).
#[derive(Clone, Debug)]
struct AppSession {
    user: String,
    name: Option<String>,
    ticket: String,
    /// Opened by a fresh login (`renew=true`), and not yet shown.
    renewed: bool,
}

#[derive(Default)]
struct State {
    /// By cookie value.
    sessions: HashMap<String, AppSession>,
    /// Users whose session a logout request ended.
    logged_out: Vec<String>,
}

pub struct Application {
    pub addr: SocketAddr,
    /// What its pages are titled ("教务系统").
    pub title: &'static str,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Application {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How the stand-in reaches the CAS server: its address, and the test CA it trusts.
#[derive(Clone)]
pub struct CasLink {
    pub addr: SocketAddr,
    pub ca_pem: String,
}

impl Application {
    pub async fn start(title: &'static str, cas: CasLink) -> Application {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let validator = reqwest::Client::builder()
            .resolve("cas.test", cas.addr)
            .add_root_certificate(reqwest::Certificate::from_pem(cas.ca_pem.as_bytes()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, validator) = (Arc::clone(&shared), validator.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (state, validator) = (Arc::clone(&state), validator.clone());
                        async move {
                            let page = answer(req, addr, title, &state, &validator).await;
                            Ok::<_, std::convert::Infallible>(page)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Application {
            addr,
            title,
            state,
            task,
        }
    }

    /// Its address, as registered: `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The registry pattern covering every page of it.
    pub fn pattern(&self) -> String {
        format!("{}*", self.url())
    }

    /// The users whose session a single-logout request ended so far.
    pub fn logged_out(&self) -> Vec<String> {
        self.state.lock().unwrap().logged_out.clone()
    }
}

fn cookie_name(addr: SocketAddr) -> String {
    format!("app{}", addr.port())
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    addr: SocketAddr,
    title: &str,
    state: &Mutex<State>,
    validator: &reqwest::Client,
) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let cookie = req
        .headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == cookie_name(addr))
        .map(|(_, v)| v.to_string());
    if req.method() == hyper::Method::POST {
        let body = req.into_body().collect().await.unwrap().to_bytes();
        return logout_request(&body, state);
    }
    let here = format!("http://{addr}{path}");
    let renew = path == "/renew";
    if let Some(ticket) = query.get("ticket") {
        return match validate(validator, &here, ticket, renew).await {
            Ok(session) => {
                let id = format!("{:032x}", rand::random::<u128>());
                state.lock().unwrap().sessions.insert(id.clone(), session);
                // As stock clients do: the ticket leaves the address bar.
                let mut res = page(hyper::StatusCode::FOUND, title, "");
                let headers = res.headers_mut();
                headers.insert("location", here.parse().unwrap());
                let set = format!("{}={id}; Path=/; HttpOnly", cookie_name(addr));
                headers.insert("set-cookie", set.parse().unwrap());
                res
            }
            Err(refusal) => page(
                hyper::StatusCode::FORBIDDEN,
                title,
                &format!("<p id=\"refused\">Ticket refused: {refusal}</p>"),
            ),
        };
    }
    let session = cookie.and_then(|c| {
        let mut state = state.lock().unwrap();
        let session = state.sessions.get_mut(&c)?;
        let shown = session.clone();
        // A fresh login is shown once on `/renew`; the next visit there asks again.
        session.renewed &= !renew;
        Some(shown)
    });
    match session {
        Some(s) if !renew || s.renewed => {
            let logout = format!(
                "https://cas.test/cas/logout?service={}",
                enc(&format!("http://{addr}/"))
            );
            let body = format!(
                "<p id=\"user\">Signed in as {}</p><p id=\"name\">{}</p>\
                 <p><a href=\"/renew\">Sign in again</a></p><p><a href=\"{logout}\">Sign out</a></p>",
                escape(&s.user),
                escape(&s.name.unwrap_or_default())
            );
            page(hyper::StatusCode::OK, title, &body)
        }
        _ => {
            let mut login = format!("https://cas.test/cas/login?service={}", enc(&here));
            if renew {
                login.push_str("&renew=true");
            }
            let mut res = page(hyper::StatusCode::FOUND, title, "");
            res.headers_mut().insert("location", login.parse().unwrap());
            res
        }
    }
}

/// `/p3/serviceValidate` as a stock client asks it, and the user and name it answers.
async fn validate(
    validator: &reqwest::Client,
    service: &str,
    ticket: &str,
    renew: bool,
) -> Result<AppSession, String> {
    let mut url = format!(
        "https://cas.test/cas/p3/serviceValidate?service={}&ticket={}",
        enc(service),
        enc(ticket)
    );
    if renew {
        url.push_str("&renew=true");
    }
    let xml = validator
        .get(&url)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let doc = roxmltree::Document::parse(&xml).map_err(|e| e.to_string())?;
    let find = |name: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == name)
            .map(|n| n.text().unwrap_or("").to_string())
    };
    if let Some(node) = doc
        .descendants()
        .find(|n| n.tag_name().name() == "authenticationFailure")
    {
        return Err(node.attribute("code").unwrap_or("").to_string());
    }
    Ok(AppSession {
        user: find("user").ok_or("no user")?,
        name: find("name"),
        ticket: ticket.to_string(),
        renewed: renew,
    })
}

/// A back-channel logout: the `SessionIndex` names the ticket whose session ends.
fn logout_request(body: &[u8], state: &Mutex<State>) -> hyper::Response<Full<Bytes>> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let index = form.get("logoutRequest").and_then(|xml| {
        let start = xml.find("<samlp:SessionIndex>")? + "<samlp:SessionIndex>".len();
        let end = xml[start..].find('<')? + start;
        Some(xml[start..end].trim().to_string())
    });
    let mut state = state.lock().unwrap();
    let ended: Vec<String> = state
        .sessions
        .iter()
        .filter(|(_, s)| Some(&s.ticket) == index.as_ref())
        .map(|(k, _)| k.clone())
        .collect();
    for key in ended {
        if let Some(s) = state.sessions.remove(&key) {
            state.logged_out.push(s.user);
        }
    }
    hyper::Response::new(Full::new(Bytes::new()))
}

fn page(status: hyper::StatusCode, title: &str, body: &str) -> hyper::Response<Full<Bytes>> {
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    );
    let mut res = hyper::Response::new(Full::new(Bytes::from(html)));
    *res.status_mut() = status;
    res.headers_mut()
        .insert("content-type", "text/html; charset=utf-8".parse().unwrap());
    res
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
