//! The router and the state handlers share. Handlers are thin: parse the request, call the
//! domain (`cas`, `accounts`, `sessions`), render a page or a protocol answer. The table in
//! `route` lists every path served under each prefix.

mod admin;
mod assets;
mod captcha;
mod demo;
mod error;
mod first_login;
mod login;
mod portal;
mod protocol;
mod qr;
mod recovery;
mod session;
mod social;

use crate::accounts::Accounts;
use crate::cas::Cas;
use crate::clock::Clock;
use crate::config::Config;
use crate::http::{Cookie, Cookies, Handler, Request, Response};
use crate::model::Client;
use crate::pages::{Chrome, Lang};
use crate::sessions::Sessions;
use crate::tickets::form::FormTokens;
use crate::tickets::{self, Kind};
use error::{Failure, Handled};
use hyper::{Method, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;

/// Client addresses counted at most for what they draw without a login.
const ANONYMOUS_CAPACITY: usize = 20_000;
/// Spent login-form tokens remembered at most (see `tickets::form`).
const SPENT_FORMS_CAPACITY: usize = 200_000;

/// The domain services the handlers call, wired once at start.
pub struct Parts {
    pub config: Arc<Config>,
    pub store: crate::store::Store,
    pub cas: Cas,
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub codes: crate::otp::Codes,
    pub wecom: Option<Arc<crate::social::WeCom>>,
    pub wechat: Option<Arc<crate::social::WeChat>>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub clock: Clock,
    pub keys: Arc<crate::secrets::Keys>,
}

pub struct App {
    config: Arc<Config>,
    cas: Cas,
    accounts: Accounts,
    sessions: Sessions,
    codes: crate::otp::Codes,
    wecom: Option<Arc<crate::social::WeCom>>,
    wechat: Option<Arc<crate::social::WeChat>>,
    metrics: Arc<crate::metrics::Metrics>,
    clock: Clock,
    cookies: Cookies,
    forms: FormTokens,
    /// The public URL's prefix; the demo application and absolute links use it.
    prefix: String,
    /// Every prefix served, longest first.
    prefixes: Vec<String>,
    /// Each room's own state between requests: paused logins, proofs of identity in the
    /// portal, recoveries, QR requests, OAuth round trips, console grants, captchas.
    first_login: first_login::State,
    portal: portal::State,
    recovery: recovery::State,
    qr: qr::State,
    social: social::State,
    admin: admin::State,
    captcha: captcha::State,
    /// What each client address had drawn without a login this minute (captchas, QR
    /// requests), by `what:address`.
    anonymous: crate::memory::ExpiringMap<u32>,
    logo: (&'static str, Vec<u8>),
    /// Where the built-in demo application is served, when `--demo` asked for it.
    demo: Option<demo::Demo>,
    /// Invalid tickets presented per client address since the last report.
    ticket_misses: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    store: crate::store::Store,
}

impl App {
    /// The SMS codes, for tests that fix them. Only with `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub fn codes(&self) -> &crate::otp::Codes {
        &self.codes
    }

    /// Wires the handlers. Reads the configured logo file: call it off the runtime threads.
    pub fn new(parts: Parts, demo_addr: Option<SocketAddr>) -> App {
        let Parts {
            config,
            store,
            cas,
            accounts,
            sessions,
            codes,
            wecom,
            wechat,
            metrics,
            clock,
            keys,
        } = parts;
        App {
            prefix: config.prefix(),
            prefixes: config.all_prefixes(),
            cookies: Cookies::new(&config),
            forms: FormTokens::new(
                keys,
                config.tickets.login_form_ttl,
                SPENT_FORMS_CAPACITY,
                &store,
            ),
            logo: assets::logo(config.logo.as_deref()),
            demo: demo_addr.map(|addr| demo::Demo::new(&config, addr)),
            first_login: first_login::State::new(&store),
            portal: portal::State::new(&store),
            recovery: recovery::State::new(&store),
            qr: qr::State::new(&store),
            social: social::State::new(&store),
            admin: admin::State::new(&store),
            captcha: captcha::State::new(&store),
            anonymous: crate::memory::ExpiringMap::bounded(ANONYMOUS_CAPACITY),
            ticket_misses: Default::default(),
            store,
            config,
            cas,
            accounts,
            sessions,
            codes,
            wecom,
            wechat,
            metrics,
            clock,
        }
    }

    /// Expired entries of the in-memory maps go.
    pub fn sweep_memory(&self) {
        let now = self.clock.now();
        self.first_login.sweep(now);
        self.portal.sweep(now);
        self.recovery.sweep(now);
        self.qr.sweep(now);
        self.social.sweep(now);
        self.admin.sweep(now);
        self.captcha.sweep(now);
        self.anonymous.sweep(now);
        // After a flood the freed entries' pages go back to the system.
        crate::memory::release_freed_memory();
    }

    /// Counts one `what` (a captcha, a QR request) drawn for this client without a login;
    /// `false` once its address had `http.anonymous_per_minute` this minute (docs/security.md
    /// J: a flood of them holds neither memory nor CPU).
    fn anonymous_allowed(&self, req: &Request, what: &str) -> bool {
        let (ip, now) = (self.client(req).ip, self.clock.now());
        let used = self.anonymous.bump(format!("{what}:{ip}"), now + 60, now);
        used <= self.config.http.anonymous_per_minute
    }

    /// Spends a form token of this browser: the page's salt if it was good and unspent.
    pub(super) async fn redeem(
        &self,
        req: &Request,
        token: &str,
    ) -> Result<Option<String>, Failure> {
        let flow = req.cookie(Cookie::Flow);
        Ok(self.forms.redeem(token, flow, self.clock.now()).await?)
    }

    /// Drops expired flow state from the shared database (every kind at once).
    pub async fn sweep_shared(&self) -> Result<usize, crate::store::StoreError> {
        match self.store.is_shared() {
            true => self.store.sweep_ephemeral(self.clock.now()).await,
            false => Ok(0),
        }
    }

    /// Every path under a prefix, from `ROUTES`: its handler for the method, or a 405 with
    /// the `Allow` the table gives; the forms of people checked for the same site first.
    /// Anything else is a 404 page.
    async fn route(&self, req: &Request, path: &str) -> Response {
        let Some(route) = ROUTES.iter().find(|r| r.path == path) else {
            let get = req.method == Method::GET || req.method == Method::HEAD;
            let handled = match path.strip_prefix("/assets/") {
                Some(name) if get => assets::asset(self, name),
                // A handler that panics, for the test of what a fault looks like from outside.
                #[cfg(feature = "test-hooks")]
                _ if path == "/test-panic" => panic!("a test asked for a panic"),
                _ => Err(Failure::Refused(StatusCode::NOT_FOUND)),
            };
            return self.respond(req, handled);
        };
        let endpoint = match req.method {
            Method::GET | Method::HEAD => route.get,
            Method::POST => route.post,
            _ => None,
        };
        let Some(endpoint) = endpoint else {
            return Response::method_not_allowed(&route.allow());
        };
        // Forms of people (not protocol endpoints, which servers call) are refused when a
        // browser says they were posted from another site (docs/security.md D02, D03).
        if route.form && req.method == Method::POST && !self.same_site(req) {
            tracing::info!(origin = ?req.header("origin"), path, "cross-site form post refused");
            return self.error_page(req, StatusCode::FORBIDDEN);
        }
        let handled = endpoint(self, req).await;
        self.respond(req, handled)
    }

    /// Whether a form post comes from our own pages (login CSRF, docs/security.md D02, D03, L06).
    ///
    /// A browser's `Origin` must be this host or the public URL's origin. Our pages send
    /// `Referrer-Policy: same-origin`, so browsers send the real origin on our own posts; a
    /// browser may still say `null` (a stricter policy of its own, a privacy extension), and
    /// then only its `Sec-Fetch-Site: same-origin` vouches for the post: `null` alone is what a
    /// sandboxed frame or a redirected cross-site post sends. A browser that sends neither
    /// (IE, scripts) is judged by the form's token alone.
    fn same_site(&self, req: &Request) -> bool {
        // A browser sends each once; two are no browser's, and the first may not be the one
        // a proxy or an application behind it reads.
        if ["origin", "sec-fetch-site", "host"]
            .iter()
            .any(|name| req.headers.get_all(*name).iter().count() > 1)
        {
            return false;
        }
        let fetch_site = req.header("sec-fetch-site").map(str::to_ascii_lowercase);
        let fetch_site = fetch_site.as_deref();
        if matches!(fetch_site, Some("cross-site" | "same-site")) {
            return false;
        }
        match req.header("origin") {
            Some("null") => fetch_site == Some("same-origin"),
            Some(origin) => self.own_origin(req, origin),
            None => true,
        }
    }

    /// Whether `origin` is the public URL's origin, or this host as the request names it
    /// (a deployment reached under another name), never over http when the public URL is
    /// https (a plain-http page on the same name is not ours).
    fn own_origin(&self, req: &Request, origin: &str) -> bool {
        let public = self.config.public_url().ok();
        if public
            .as_ref()
            .map(|u| u.origin().ascii_serialization())
            .as_deref()
            == Some(origin)
        {
            return true;
        }
        let Ok(origin) = url::Url::parse(origin) else {
            return false;
        };
        let downgrade =
            origin.scheme() != "https" && public.as_ref().is_some_and(|u| u.scheme() == "https");
        let host = origin.host_str().map(|host| match origin.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        });
        let named = host
            .zip(req.header("host"))
            .is_some_and(|(o, h)| o.eq_ignore_ascii_case(h));
        named && !downgrade && matches!(origin.scheme(), "http" | "https")
    }

    /// A handler's answer, or the error page for its failure.
    fn respond(&self, req: &Request, handled: Handled) -> Response {
        match handled {
            Ok(res) => res,
            Err(Failure::Internal(cause)) => {
                tracing::error!(path = ?req.path, "{cause}");
                self.error_page(req, StatusCode::INTERNAL_SERVER_ERROR)
            }
            Err(Failure::Refused(status)) => self.error_page(req, status),
        }
    }

    fn lang(&self, req: &Request) -> Lang {
        chosen_lang(req)
            .or_else(|| req.cookie(Cookie::Lang).and_then(Lang::parse))
            .unwrap_or(Lang::Zh)
    }

    /// Page chrome for this request, with language-switch links back to the same page.
    fn chrome<'a>(&'a self, req: &'a Request) -> Chrome<'a> {
        self.chrome_at(req, None)
    }

    /// Page chrome whose language switch leads to `page` (a path under the prefix), or else
    /// back to this page: for a GET, the same address; for a page that answers a form, the
    /// page the form belongs to, with what the flow carries (the service, the step), so a
    /// switch never loses the person's place or sends them to an address only forms use.
    fn chrome_at<'a>(&'a self, req: &'a Request, page: Option<&str>) -> Chrome<'a> {
        let rest = req.path.strip_prefix(&req.prefix).unwrap_or(&req.path);
        let (path, params): (String, Vec<(&str, &str)>) = match page {
            Some(page) => (format!("{}{page}", req.prefix), Vec::new()),
            None if req.method == Method::POST => {
                let carried = req.form.iter().filter(|(k, _)| CARRIED.contains(k));
                (
                    format!("{}{}", req.prefix, page_of(rest)),
                    carried.collect(),
                )
            }
            None => {
                let kept = req
                    .query
                    .iter()
                    .filter(|(k, _)| *k != "lang" && *k != "locale");
                (req.path.clone(), kept.collect())
            }
        };
        let switch = |lang: &str| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &params {
                q.append_pair(k, v);
            }
            q.append_pair("lang", lang);
            format!("{path}?{}", q.finish())
        };
        let lang = self.lang(req);
        let school_name = match lang {
            Lang::Zh => &self.config.school_name,
            Lang::En => &self.config.school_name_en,
        };
        Chrome {
            lang,
            prefix: &req.prefix,
            school_name,
            switch_zh: switch("zh-CN"),
            switch_en: switch("en"),
        }
    }

    /// Sends an HTML page; an explicit language choice is remembered in a cookie.
    fn page(&self, req: &Request, status: StatusCode, markup: maud::Markup) -> Response {
        let res = Response::html(status, markup);
        match chosen_lang(req) {
            Some(lang) => self
                .cookies
                .set(res, Cookie::Lang, lang.code(), Some(365 * 24 * 3600)),
            None => res,
        }
    }

    fn error_page(&self, req: &Request, status: StatusCode) -> Response {
        let chrome = self.chrome(req);
        let t = chrome.t();
        let (title, body) = match status {
            StatusCode::NOT_FOUND => (t.not_found_title, ""),
            StatusCode::BAD_REQUEST => (t.error_title, t.bad_request_body),
            StatusCode::FORBIDDEN => (t.form_expired, ""),
            _ => (t.error_title, t.error_body),
        };
        let back = [(t.back_to_login, format!("{}/login", req.prefix))];
        self.page(req, status, chrome.message(title, body, &back))
    }

    fn help(&self, req: &Request) -> Response {
        let chrome = self.chrome(req);
        self.page(req, StatusCode::OK, chrome.help())
    }

    /// `GET /health`: 200 when the database takes a write, else 503 (readiness);
    /// `/health/live`: 200 while the process answers (liveness).
    async fn health(&self, live_only: bool) -> Response {
        // A failed write marks the store unhealthy at once: the small probe below may still
        // fit while real writes (an audit row, a session) no longer do.
        let writable = live_only
            || (!self.store.out_of_room_lately(30)
                && self.store.call(|s| s.writable()).await.is_ok());
        let (status, body) = match writable {
            true => (StatusCode::OK, r#"{"status":"ok","database":"writable"}"#),
            false => (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"status":"unavailable","database":"not writable"}"#,
            ),
        };
        let body = if live_only {
            r#"{"status":"ok"}"#
        } else {
            body
        };
        Response::new(status, "application/json", body.to_string())
            .header(hyper::header::CACHE_CONTROL, "no-store")
    }

    /// `GET /metrics` for the addresses `metrics.allow` lists; a 404 for anyone else.
    async fn metrics_page(&self, req: &Request) -> Response {
        let ip = req.client_ip(&self.config.http.trusted_proxies);
        if !self
            .config
            .metrics
            .allow
            .iter()
            .any(|net| net.contains(&ip))
        {
            return Response::plain(StatusCode::NOT_FOUND, "not found");
        }
        let now = self.clock.now();
        // Off the runtime threads: a count and the database's size.
        let read = self
            .store
            .call(move |s| {
                Ok(crate::metrics::Gauges {
                    sessions: s.live_sessions(now)?,
                    database_bytes: s.size_bytes()?,
                })
            })
            .await;
        let gauges = read.unwrap_or(crate::metrics::Gauges {
            sessions: -1,
            database_bytes: 0,
        });
        Response::new(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            self.metrics.render(&gauges),
        )
        .header(hyper::header::CACHE_CONTROL, "no-store")
    }

    /// Who is asking: the client's address (seen through trusted reverse proxies) and
    /// browser, for throttling and the audit log.
    fn client(&self, req: &Request) -> Client {
        Client {
            ip: req.client_ip(&self.config.http.trusted_proxies).to_string(),
            user_agent: req
                .header("user-agent")
                .unwrap_or("")
                .chars()
                .take(256)
                .collect(),
        }
    }
}

impl Handler for App {
    /// Only the console's roster import, posted by an administrator past the second factor.
    async fn takes_upload(&self, req: &Request) -> bool {
        let import = req.method == Method::POST
            && self
                .prefixes
                .iter()
                .any(|p| req.path.strip_prefix(p.as_str()) == Some("/admin/import"));
        if !import {
            return false;
        }
        matches!(admin::admin_granted(self, req).await, Ok(true))
    }

    async fn handle(&self, mut req: Request) -> Response {
        req.prefix = self.prefix.clone();
        // Operations, at the root whatever the prefix.
        match req.path.as_str() {
            "/health" => return self.health(false).await,
            "/health/live" => return self.health(true).await,
            "/metrics" => return self.metrics_page(&req).await,
            _ => {}
        }
        if let Some(demo) = &self.demo {
            if req.path.starts_with(demo.path()) {
                return demo.handle(self, &req).await;
            }
        }
        let matched = self.prefixes.iter().find_map(|p| {
            let rest = req.path.strip_prefix(p.as_str())?;
            (rest.is_empty() || rest.starts_with('/')).then(|| (p.clone(), rest.to_string()))
        });
        let Some((prefix, rest)) = matched else {
            return self.error_page(&req, StatusCode::NOT_FOUND);
        };
        req.prefix = prefix;
        let started = std::time::Instant::now();
        let res = self.route(&req, &rest).await;
        self.metrics
            .observe(crate::metrics::Metrics::endpoint(&rest), started.elapsed());
        res
    }
}

/// What a form carries that places the person in a flow: kept by the language switch.
const CARRIED: [&str; 9] = [
    "service", "TARGET", "renew", "method", "cllt", "display", "next", "uuid", "id",
];

/// The page (shown with GET) a form posted to `path` belongs to.
fn page_of(path: &str) -> &str {
    ROUTES
        .iter()
        .find(|r| r.path == path)
        .and_then(|r| r.page)
        .unwrap_or(path)
}

/// A handler: the request in, a page or an answer out.
type Endpoint = for<'a> fn(&'a App, &'a Request) -> BoxFuture<'a, Handled>;
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// One path under a prefix: its handlers by method, whether its POST is a person's form
/// (checked for the same site), and for a path only forms post to, the page it belongs to.
struct Route {
    path: &'static str,
    /// GET, and HEAD with it.
    get: Option<Endpoint>,
    post: Option<Endpoint>,
    form: bool,
    page: Option<&'static str>,
}

impl Route {
    /// `Allow` for a method this path does not take.
    fn allow(&self) -> String {
        let mut allow = Vec::new();
        if self.get.is_some() {
            allow.extend(["GET", "HEAD"]);
        }
        if self.post.is_some() {
            allow.push("POST");
        }
        allow.join(", ")
    }
}

/// A handler that cannot fail.
macro_rules! answer {
    ($handler:path) => {
        |a, r| Box::pin(async move { Ok($handler(a, r).await) })
    };
}

/// A validation endpoint (GET or POST), which knows which one it is.
macro_rules! validation {
    ($path:literal) => {
        protocol(
            $path,
            Some(|a, r| {
                Box::pin(async move { Ok(protocol::validate::validate(a, r, $path).await) })
            }),
            |a, r| Box::pin(async move { Ok(protocol::validate::validate(a, r, $path).await) }),
        )
    };
}

const fn page(path: &'static str, get: Endpoint) -> Route {
    Route {
        path,
        get: Some(get),
        post: None,
        form: false,
        page: None,
    }
}

const fn protocol(path: &'static str, get: Option<Endpoint>, post: Endpoint) -> Route {
    Route {
        path,
        get,
        post: Some(post),
        form: false,
        page: None,
    }
}

/// A person's form, and the page it is on (with GET, if the path shows one).
const fn form(
    path: &'static str,
    get: Option<Endpoint>,
    post: Endpoint,
    page: Option<&'static str>,
) -> Route {
    Route {
        path,
        get,
        post: Some(post),
        form: true,
        page,
    }
}

/// Every path served under each prefix (`/health` and `/metrics` are at the root). The
/// table is the one place a path is declared: dispatch, 405 with `Allow`, the same-site
/// check of forms and the language switch's page all come from it.
#[rustfmt::skip]
const ROUTES: &[Route] = &[
    page("", |_, r| Box::pin(async move { Ok(Response::redirect(&format!("{}/login", r.prefix))) })),
    page("/", |_, r| Box::pin(async move { Ok(Response::redirect(&format!("{}/login", r.prefix))) })),
    form("/login", Some(|a, r| Box::pin(login::login_get(a, r))), |a, r| Box::pin(login::login_post(a, r)), None),
    page("/login/first", |a, r| Box::pin(first_login::first_login_get(a, r))),
    form("/login/first/password", None, |a, r| Box::pin(first_login::first_login_password(a, r)), Some("/login/first")),
    form("/login/first/phone", None, |a, r| Box::pin(first_login::first_login_phone(a, r)), Some("/login/first")),
    form("/login/first/done", None, |a, r| Box::pin(first_login::first_login_done(a, r)), Some("/login/first")),
    protocol("/logout", Some(answer!(protocol::logout::logout)), answer!(protocol::logout::logout)),
    validation!("/validate"),
    validation!("/serviceValidate"),
    validation!("/proxyValidate"),
    validation!("/p3/serviceValidate"),
    validation!("/p3/proxyValidate"),
    protocol("/proxy", Some(answer!(protocol::validate::proxy)), answer!(protocol::validate::proxy)),
    protocol("/samlValidate", None, answer!(protocol::validate::saml_validate)),
    page("/captcha.html", answer!(captcha::captcha_image)),
    page("/getCaptcha.htl", answer!(captcha::captcha_image)),
    page("/needCaptcha.html", |a, r| Box::pin(async move { Ok(login::campus::need_captcha(a, r, false).await) })),
    page("/checkNeedCaptcha.htl", |a, r| Box::pin(async move { Ok(login::campus::need_captcha(a, r, true).await) })),
    form("/dynamicCode/getDynamicCode.htl", None, |a, r| Box::pin(login::sms::dynamic_code(a, r)), None),
    page("/help", |a, r| Box::pin(async move { Ok(a.help(r)) })),
    page("/portal", |a, r| Box::pin(portal::portal(a, r))),
    page("/account", |a, r| Box::pin(portal::account_get(a, r))),
    form("/account/password", None, |a, r| Box::pin(portal::account_password(a, r)), Some("/account")),
    form("/account/sessions", None, |a, r| Box::pin(portal::account_sessions(a, r)), Some("/account")),
    form("/account/verify", Some(|a, r| Box::pin(portal::verify_get(a, r))), |a, r| Box::pin(portal::verify_post(a, r)), None),
    form("/account/phone", Some(|a, r| Box::pin(portal::bind_get(a, r, false))), |a, r| Box::pin(portal::bind_post(a, r, false)), None),
    form("/account/email", Some(|a, r| Box::pin(portal::bind_get(a, r, true))), |a, r| Box::pin(portal::bind_post(a, r, true)), None),
    form("/account/questions", Some(|a, r| Box::pin(portal::questions_get(a, r))), |a, r| Box::pin(portal::questions_post(a, r)), None),
    form("/forgot", Some(|a, r| Box::pin(recovery::forgot_get(a, r))), |a, r| Box::pin(recovery::forgot_post(a, r)), None),
    form("/forgot/verify", None, |a, r| Box::pin(recovery::forgot_verify(a, r)), Some("/forgot")),
    form("/forgot/password", None, |a, r| Box::pin(recovery::forgot_password(a, r)), Some("/forgot")),
    page("/forgot/done", |a, r| Box::pin(async move { Ok(recovery::forgot_done(a, r)) })),
    page("/qrCode/getToken", |a, r| Box::pin(qr::qr_token(a, r))),
    page("/qrCode/getCode", |a, r| Box::pin(qr::qr_image(a, r))),
    page("/qrCode/getStatus.htl", |a, r| Box::pin(qr::qr_status(a, r))),
    form("/qrCode/qrCodeLogin.do", Some(|a, r| Box::pin(qr::qr_scan(a, r))), |a, r| Box::pin(qr::qr_scan_post(a, r)), None),
    page("/wecom/login", |a, r| Box::pin(social::social_login(a, r, "wecom"))),
    page("/wechat/login", |a, r| Box::pin(social::social_login(a, r, "wechat"))),
    page("/wecom/bind", |a, r| Box::pin(social::social_bind(a, r, "wecom"))),
    page("/wechat/bind", |a, r| Box::pin(social::social_bind(a, r, "wechat"))),
    page("/wecom/callback", |a, r| Box::pin(social::social_callback(a, r, "wecom"))),
    page("/wechat/callback", |a, r| Box::pin(social::social_callback(a, r, "wechat"))),
    form("/wecom/verify", Some(|a, r| Box::pin(social::wecom_verify_get(a, r))), |a, r| Box::pin(social::wecom_verify_post(a, r)), None),
    page("/admin", |a, r| Box::pin(admin::admin_home(a, r))),
    form("/admin/verify", None, |a, r| Box::pin(admin::admin_verify(a, r)), Some("/admin")),
    page("/admin/accounts", |a, r| Box::pin(admin::admin_accounts(a, r))),
    form("/admin/account", Some(|a, r| Box::pin(admin::admin_account(a, r))), |a, r| Box::pin(admin::admin_account_action(a, r)), None),
    form("/admin/sessions", None, |a, r| Box::pin(admin::admin_end_all(a, r)), Some("/admin")),
    page("/admin/services", |a, r| Box::pin(admin::admin_services(a, r))),
    form("/admin/service", Some(|a, r| Box::pin(admin::admin_service(a, r))), |a, r| Box::pin(admin::admin_service_save(a, r)), None),
    page("/admin/audit", |a, r| Box::pin(admin::admin_audit(a, r))),
    form("/admin/import", Some(|a, r| Box::pin(admin::admin_import_page(a, r))), |a, r| Box::pin(admin::admin_import(a, r)), None),
    form("/admin/totp", Some(|a, r| Box::pin(admin::admin_totp_page(a, r))), |a, r| Box::pin(admin::admin_totp_confirm(a, r)), None),
];

/// The language asked for in the query: `lang=` (our switch) or `locale=` (Apereo's).
fn chosen_lang(req: &Request) -> Option<Lang> {
    req.query
        .get("lang")
        .or_else(|| req.query.get("locale"))
        .and_then(Lang::parse)
}

/// This browser's flow id (from its cookie, or a new one) and whether it is new.
pub(super) fn flow(req: &Request) -> (String, bool) {
    match req
        .cookie(Cookie::Flow)
        .filter(|v| tickets::well_formed(v, Kind::Flow))
    {
        Some(v) => (v.to_string(), false),
        None => (tickets::new_id(Kind::Flow), true),
    }
}
