//! A local stand-in for WeCom and WeChat, speaking the JSON of their
//! server API documentation: WeCom's access token (with expiry, and 42001 for a token it has
//! expired), `auth/getuserinfo` and the legacy `user/getuserinfo`, secondary verification
//! (`auth/get_tfa_info` + `user/tfa_succ`, legacy `user/authsucc`), its web login page and
//! the OAuth page inside the apps; WeChat's `sns/oauth2/access_token` and its QR page.
//! Codes are single use (40029 unknown, WeChat 40163 reused); secrets are checked.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const CORP: &str = "ww0123456789abcdef";
pub const AGENT: &str = "1000002";
pub const CORP_SECRET: &str = "wecom-app-secret";
pub const WECHAT_APP: &str = "wx1111111111111111";
pub const WECHAT_SECRET: &str = "wechat-mp-secret";
pub const WEBSITE_APP: &str = "wx2222222222222222";
pub const WEBSITE_SECRET: &str = "wechat-web-secret";

/// Who a WeChat code stands for.
#[derive(Clone, Debug)]
pub struct WeChatUser {
    pub openid: String,
    pub unionid: Option<String>,
    pub snapshot: bool,
}

#[derive(Default)]
struct State {
    /// The WeCom member (userid; `None`: an outsider) who scans or opens pages next; no one:
    /// the person declines.
    wecom_scanner: Option<Option<String>>,
    wechat_scanner: Option<WeChatUser>,
    /// Live WeCom codes → userid (None: outsider).
    wecom_codes: HashMap<String, Option<String>>,
    /// WeChat codes → (app, user, used).
    wechat_codes: HashMap<String, (String, WeChatUser, bool)>,
    /// Issued tokens → expired?
    tokens: HashMap<String, bool>,
    token_calls: usize,
    /// gettoken requests received (answered or not).
    token_requests: usize,
    tfa: HashMap<String, String>,
    /// Confirmations received: (userid, "tfa_succ" | "authsucc").
    confirmed: Vec<(String, String)>,
    /// WeCom refuses every confirmation (an outage, a code it already forgot).
    refuse_confirmations: bool,
    /// gettoken answers only after this long (a slow WeCom).
    token_delay: Option<std::time::Duration>,
    /// Confirmations wait here: told when one arrives, answered when released.
    held: Option<(Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>)>,
    serial: usize,
}

pub struct WxMock {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WxMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WxMock {
    pub async fn start() -> WxMock {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, std::convert::Infallible>(answer(req, &state).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        WxMock { addr, state, task }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The WeCom member who scans next (`None`: someone outside the directory).
    pub fn wecom_scanner(&self, userid: Option<&str>) {
        self.state.lock().unwrap().wecom_scanner = Some(userid.map(str::to_string));
    }

    /// The next scan is declined.
    pub fn declines(&self) {
        let mut s = self.state.lock().unwrap();
        s.wecom_scanner = None;
        s.wechat_scanner = None;
    }

    pub fn wechat_scanner(&self, user: WeChatUser) {
        self.state.lock().unwrap().wechat_scanner = Some(user);
    }

    /// A WeCom code for `userid`, as WeCom puts on the secondary-verification page.
    pub fn wecom_code(&self, userid: &str) -> String {
        let mut s = self.state.lock().unwrap();
        new_wecom_code(&mut s, Some(userid.to_string()))
    }

    /// gettoken requests received so far, whatever became of them.
    pub fn token_requests(&self) -> usize {
        self.state.lock().unwrap().token_requests
    }

    /// Tokens issued so far.
    pub fn token_calls(&self) -> usize {
        self.state.lock().unwrap().token_calls
    }

    /// WeCom ends every token it gave (the next call with one answers 42001).
    pub fn expire_tokens(&self) {
        for expired in self.state.lock().unwrap().tokens.values_mut() {
            *expired = true;
        }
    }

    /// From now on gettoken takes `delay` to answer (each call is still counted at once).
    pub fn slow_tokens(&self, delay: std::time::Duration) {
        self.state.lock().unwrap().token_delay = Some(delay);
    }

    /// From now on confirmations (tfa_succ, authsucc) wait: the first notify says one has
    /// arrived, and it is answered once the second is notified.
    pub fn hold_confirmations(&self) -> (Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>) {
        let gate = (Arc::default(), Arc::default());
        self.state.lock().unwrap().held = Some(gate.clone());
        gate
    }

    /// From now on WeCom refuses confirmations (tfa_succ, authsucc).
    pub fn refuse_confirmations(&self) {
        self.state.lock().unwrap().refuse_confirmations = true;
    }

    pub fn confirmed(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().confirmed.clone()
    }
}

fn new_wecom_code(s: &mut State, userid: Option<String>) -> String {
    s.serial += 1;
    let code = format!("WECOM-CODE-{}", s.serial);
    s.wecom_codes.insert(code.clone(), userid);
    code
}

fn new_wechat_code(s: &mut State, app: &str, user: WeChatUser) -> String {
    s.serial += 1;
    let code = format!("WECHAT-CODE-{}", s.serial);
    s.wechat_codes
        .insert(code.clone(), (app.to_string(), user, false));
    code
}

fn reply(body: Value) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn error(code: i64, message: &str) -> hyper::Response<Full<Bytes>> {
    reply(json!({ "errcode": code, "errmsg": format!("{message}, hint: [mock]") }))
}

/// A redirect to `redirect_uri` with `code` (none: declined) and `state`.
fn back(redirect_uri: &str, code: Option<String>, state: &str) -> hyper::Response<Full<Bytes>> {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let query = match code {
        Some(c) => format!("code={c}&state={state}"),
        None => format!("state={state}"),
    };
    hyper::Response::builder()
        .status(302)
        .header("location", format!("{redirect_uri}{sep}{query}"))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    state: &Mutex<State>,
) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if path == "/cgi-bin/user/tfa_succ" || path == "/cgi-bin/user/authsucc" {
        let held = state.lock().unwrap().held.clone();
        if let Some((arrived, release)) = held {
            arrived.notify_one();
            release.notified().await;
        }
    }
    if path == "/cgi-bin/gettoken" {
        let delay = {
            let mut s = state.lock().unwrap();
            s.token_requests += 1;
            s.token_delay
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
    }
    let mut s = state.lock().unwrap();
    // Every WeCom server call but gettoken needs a live token.
    if path.starts_with("/cgi-bin/") && path != "/cgi-bin/gettoken" {
        match s.tokens.get(&get("access_token")) {
            None => return error(40014, "invalid access_token"),
            Some(true) => return error(42001, "access_token expired"),
            Some(false) => {}
        }
    }
    match path.as_str() {
        "/cgi-bin/gettoken" => {
            if get("corpid") != CORP {
                return error(40013, "invalid corpid");
            }
            if get("corpsecret") != CORP_SECRET {
                return error(40001, "invalid credential");
            }
            s.token_calls += 1;
            let token = format!("TOKEN-{}", s.token_calls);
            s.tokens.insert(token.clone(), false);
            reply(
                json!({ "errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200 }),
            )
        }
        "/cgi-bin/auth/getuserinfo" | "/cgi-bin/user/getuserinfo" => {
            let legacy = path.contains("/user/");
            match s.wecom_codes.remove(&get("code")) {
                None => error(40029, "invalid code"),
                Some(Some(userid)) if legacy => {
                    reply(json!({ "errcode": 0, "errmsg": "ok", "UserId": userid, "DeviceId": "" }))
                }
                Some(Some(userid)) => {
                    reply(json!({ "errcode": 0, "errmsg": "ok", "userid": userid }))
                }
                Some(None) if legacy => {
                    reply(json!({ "errcode": 0, "errmsg": "ok", "OpenId": "oOUTSIDER" }))
                }
                Some(None) => reply(
                    json!({ "errcode": 0, "errmsg": "ok", "openid": "oOUTSIDER", "external_userid": "wmOUTSIDER" }),
                ),
            }
        }
        "/cgi-bin/auth/get_tfa_info" => match s
            .wecom_codes
            .remove(body["code"].as_str().unwrap_or(""))
        {
            Some(Some(userid)) => {
                s.serial += 1;
                let tfa = format!("TFA-{}", s.serial);
                s.tfa.insert(tfa.clone(), userid.clone());
                reply(json!({ "errcode": 0, "errmsg": "ok", "userid": userid, "tfa_code": tfa }))
            }
            _ => error(40029, "invalid code"),
        },
        "/cgi-bin/user/tfa_succ" | "/cgi-bin/user/authsucc" if s.refuse_confirmations => {
            error(-1, "system busy")
        }
        "/cgi-bin/user/tfa_succ" => {
            let (userid, tfa) = (
                body["userid"].as_str().unwrap_or(""),
                body["tfa_code"].as_str().unwrap_or(""),
            );
            match s.tfa.remove(tfa) {
                Some(u) if u == userid => {
                    s.confirmed.push((u, "tfa_succ".into()));
                    reply(json!({ "errcode": 0, "errmsg": "ok" }))
                }
                _ => error(40029, "invalid tfa_code"),
            }
        }
        "/cgi-bin/user/authsucc" => {
            s.confirmed.push((get("userid"), "authsucc".into()));
            reply(json!({ "errcode": 0, "errmsg": "ok" }))
        }
        // WeCom's web login (the QR code on a computer).
        "/wwlogin/sso/login" => {
            if get("appid") != CORP || get("agentid") != AGENT || get("login_type") != "CorpApp" {
                return error(40013, "invalid appid");
            }
            let code = s
                .wecom_scanner
                .clone()
                .map(|who| new_wecom_code(&mut s, who));
            back(&get("redirect_uri"), code, &get("state"))
        }
        // The OAuth page inside WeCom (appid = corp id) or WeChat (the official account).
        "/connect/oauth2/authorize" | "/connect/qrconnect" => {
            let app = get("appid");
            let code = if app == CORP {
                if get("scope") != "snsapi_base" || get("agentid") != AGENT {
                    return error(40013, "invalid scope or agentid");
                }
                s.wecom_scanner
                    .clone()
                    .map(|who| new_wecom_code(&mut s, who))
            } else if (app == WECHAT_APP && path.ends_with("authorize"))
                || (app == WEBSITE_APP && path.ends_with("qrconnect"))
            {
                s.wechat_scanner
                    .clone()
                    .map(|who| new_wechat_code(&mut s, &app, who))
            } else {
                return error(40013, "invalid appid");
            };
            back(&get("redirect_uri"), code, &get("state"))
        }
        "/sns/oauth2/access_token" => {
            let (app, secret) = (get("appid"), get("secret"));
            let right = (app == WECHAT_APP && secret == WECHAT_SECRET)
                || (app == WEBSITE_APP && secret == WEBSITE_SECRET);
            if !right {
                return error(40125, "invalid appsecret");
            }
            if get("grant_type") != "authorization_code" {
                return error(40002, "invalid grant_type");
            }
            let Some((for_app, user, used)) = s.wechat_codes.get_mut(&get("code")) else {
                return error(40029, "invalid code");
            };
            if *used || *for_app != app {
                return error(40163, "code been used");
            }
            *used = true;
            let mut answer = json!({ "access_token": "ACCESS", "expires_in": 7200, "refresh_token": "REFRESH", "openid": user.openid, "scope": "snsapi_base" });
            if let Some(u) = &user.unionid {
                answer["unionid"] = json!(u);
            }
            if user.snapshot {
                answer["is_snapshotuser"] = json!(1);
            }
            reply(answer)
        }
        _ => error(404, "no such API"),
    }
}
