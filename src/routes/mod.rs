//! The router and what every room shares. A room per thing a person does (login, first
//! login, portal, recovery, QR, social, admin) and one for the protocol's endpoints, each
//! with its handlers, free functions taking `&App`, and its own `State`. Handlers are thin:
//! parse the request, call the domain (`cas`, `accounts`, `sessions`), render a page or a
//! protocol answer. `table.rs` lists every path served under each prefix.

mod admin;
mod assets;
mod captcha;
mod demo;
mod error;
mod first_login;
mod login;
mod mfa;
mod operations;
mod portal;
mod protocol;
mod qr;
mod recovery;
mod same_site;
mod session;
mod social;
mod table;

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
    pub passkeys: crate::passkeys::Passkeys,
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
    passkeys: crate::passkeys::Passkeys,
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
    /// portal, recoveries, QR requests, OAuth round trips, console grants, captchas,
    /// authenticators being enrolled at a step-up.
    first_login: first_login::State,
    mfa: mfa::State,
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

    /// The passkeys, for tests that assert one as the step-up page does. Only with
    /// `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub fn passkeys(&self) -> &crate::passkeys::Passkeys {
        &self.passkeys
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
            passkeys,
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
            mfa: mfa::State::new(&store),
            captcha: captcha::State::new(&store),
            anonymous: crate::memory::ExpiringMap::bounded(ANONYMOUS_CAPACITY),
            ticket_misses: Default::default(),
            store,
            config,
            cas,
            accounts,
            sessions,
            codes,
            passkeys,
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
        self.mfa.sweep(now);
        self.accounts.sweep_factors(now);
        self.captcha.sweep(now);
        self.passkeys.sweep(now);
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
        let Some(route) = table::ROUTES.iter().find(|r| r.path == path) else {
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
        if route.form && req.method == Method::POST && !same_site::same_site(self, req) {
            tracing::info!(origin = ?req.header("origin"), path, "cross-site form post refused");
            return self.error_page(req, StatusCode::FORBIDDEN);
        }
        let handled = endpoint(self, req).await;
        self.remember_lang(req, self.respond(req, handled))
    }

    /// A language chosen with the switch is remembered whatever a page's route answers (the
    /// page, or a redirect to the next one); never on assets, which caches may share.
    fn remember_lang(&self, req: &Request, res: Response) -> Response {
        match chosen_lang(req) {
            Some(lang) => self
                .cookies
                .set(res, Cookie::Lang, lang.code(), Some(365 * 24 * 3600)),
            None => res,
        }
    }

    /// A handler's answer, or the error page for its failure.
    fn respond(&self, req: &Request, handled: Handled) -> Response {
        match handled {
            Ok(res) => res,
            Err(Failure::Internal(cause)) => {
                // The cause and what caused it, down the chain.
                let mut text = cause.to_string();
                let mut source = cause.source();
                while let Some(e) = source {
                    text.push_str(&format!(": {e}"));
                    source = e.source();
                }
                tracing::error!(path = ?req.path, "{text}");
                self.error_page(req, StatusCode::INTERNAL_SERVER_ERROR)
            }
            Err(Failure::Refused(status)) => self.error_page(req, status),
            Err(Failure::Answer(res)) => *res,
        }
    }

    /// The language asked for with the switch, else the one chosen before (its cookie),
    /// else the browser's own preference on a first visit, else Chinese.
    fn lang(&self, req: &Request) -> Lang {
        chosen_lang(req)
            .or_else(|| req.cookie(Cookie::Lang).and_then(Lang::parse))
            .or_else(|| req.header("accept-language").and_then(Lang::preferred))
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
                    format!("{}{}", req.prefix, table::page_of(rest)),
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

    /// Sends an HTML page.
    fn page(&self, status: StatusCode, markup: maud::Markup) -> Response {
        Response::html(status, markup)
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
        self.page(status, chrome.message(title, body, &back))
    }

    fn help(&self, req: &Request) -> Response {
        let chrome = self.chrome(req);
        let h = &self.config.help;
        let help = match chrome.lang {
            Lang::Zh => crate::pages::Help {
                desk: &h.desk,
                phone: &h.phone,
                hours: &h.hours,
                place: &h.place,
                items: &h.items,
            },
            Lang::En => crate::pages::Help {
                desk: &h.desk_en,
                phone: &h.phone,
                hours: &h.hours_en,
                place: &h.place_en,
                items: &h.items_en,
            },
        };
        self.page(StatusCode::OK, chrome.help(&help))
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
            "/health" => return operations::health(self, false).await,
            "/health/live" => return operations::health(self, true).await,
            "/metrics" => return operations::metrics_page(self, &req).await,
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

pub(super) fn local_time(app: &App, unix: i64) -> String {
    crate::clock::local_time(unix, app.config.utc_offset_minutes)
}
