//! The router and the state handlers share. Handlers are thin: parse the request, call the
//! domain (`cas`, `accounts`), render a page or a protocol answer.

mod assets;
mod captcha;
mod demo;
mod first_login;
mod login;
mod validate;
mod wisedu;

use crate::accounts::Authenticator;
use crate::cas::Cas;
use crate::config::Config;
use crate::http::{Cookie, Handler, Request, Response};
use crate::pages::{Chrome, Lang};
use crate::tickets::ExpiringMap;
use hyper::{Method, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;

pub use demo::service_url as demo_service_url;
pub use login::LoginFormState;

/// Cookie names. `CASTGC` is the name the widespread campus product and older Apereo use.
pub const TGC: &str = "CASTGC";
const FLOW: &str = "UNICAS_FLOW";
const LANG: &str = "unicas_lang";

pub struct App {
    pub config: Arc<Config>,
    pub cas: Cas,
    pub auth: Authenticator,
    /// The public URL's prefix; the demo application and absolute links use it.
    pub prefix: String,
    /// Every prefix served, longest first.
    prefixes: Vec<String>,
    login_forms: ExpiringMap<LoginFormState>,
    pending_logins: ExpiringMap<first_login::PendingLogin>,
    /// Captcha answers by browser (hash of the flow cookie).
    captchas: ExpiringMap<String>,
    /// Captcha images drawn at once.
    captcha_renders: tokio::sync::Semaphore,
    logo: (&'static str, Vec<u8>),
    /// Where the built-in demo application is served, when `--demo` asked for it.
    demo: Option<demo::Demo>,
}

impl App {
    pub fn new(
        config: Arc<Config>,
        cas: Cas,
        auth: Authenticator,
        demo_addr: Option<SocketAddr>,
    ) -> App {
        let prefix = config.prefix();
        let prefixes = config.all_prefixes();
        let logo = assets::logo(config.logo.as_deref());
        let demo = demo_addr.map(|addr| demo::Demo::new(&config, addr));
        App {
            config,
            cas,
            auth,
            prefix,
            prefixes,
            login_forms: ExpiringMap::default(),
            pending_logins: ExpiringMap::default(),
            captchas: ExpiringMap::default(),
            captcha_renders: tokio::sync::Semaphore::new(2),
            logo,
            demo,
        }
    }

    /// Expired entries of the in-memory maps go; the protocol's sweep runs alongside.
    pub async fn sweep(&self) {
        self.login_forms.sweep(self.cas.clock.now());
        self.pending_logins.sweep(self.cas.clock.now());
        self.captchas.sweep(self.cas.clock.now());
        self.cas.sweep().await;
    }

    fn lang(&self, req: &Request) -> Lang {
        req.query
            .get("lang")
            .or_else(|| req.query.get("locale"))
            .and_then(Lang::parse)
            .or_else(|| req.cookie(LANG).and_then(Lang::parse))
            .unwrap_or(Lang::Zh)
    }

    /// Page chrome for this request, with language-switch links back to the same page.
    fn chrome<'a>(&'a self, req: &'a Request) -> Chrome<'a> {
        let switch = |lang: &str| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in req
                .query
                .iter()
                .filter(|(k, _)| *k != "lang" && *k != "locale")
            {
                q.append_pair(k, v);
            }
            q.append_pair("lang", lang);
            format!("{}?{}", req.path, q.finish())
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

    /// Sends an HTML page; an explicit `lang=` choice is remembered in a cookie.
    fn page(&self, req: &Request, status: StatusCode, markup: maud::Markup) -> Response {
        let res = Response::html(status, markup);
        match req.query.get("lang").and_then(Lang::parse) {
            Some(lang) => self.cookie_everywhere(res, LANG, lang.code(), Some(365 * 24 * 3600)),
            None => res,
        }
    }

    fn error_page(&self, req: &Request, status: StatusCode) -> Response {
        let chrome = self.chrome(req);
        let t = chrome.t();
        let (title, body) = match status {
            StatusCode::NOT_FOUND => (t.not_found_title, ""),
            StatusCode::BAD_REQUEST => (t.error_title, ""),
            _ => (t.error_title, t.error_body),
        };
        self.page(
            req,
            status,
            chrome.message(
                title,
                body,
                &[(t.back_to_login, format!("{}/login", req.prefix))],
            ),
        )
    }

    /// The client's address, seen through trusted reverse proxies.
    fn client_ip(&self, req: &Request) -> std::net::IpAddr {
        req.client_ip(&self.config.http.trusted_proxies)
    }

    /// A cookie for the prefix this request came in under.
    fn cookie<'a>(
        &'a self,
        req: &'a Request,
        name: &'a str,
        value: &'a str,
        max_age: Option<i64>,
    ) -> Cookie<'a> {
        Cookie {
            name,
            value,
            path: &req.prefix,
            max_age,
            secure: self.config.secure_cookies(),
        }
    }

    /// Sets a cookie under every prefix served, each with its own narrow `Path`: one SSO
    /// session (and language choice) for applications on `/cas` and `/authserver` alike.
    fn cookie_everywhere(
        &self,
        mut res: Response,
        name: &str,
        value: &str,
        max_age: Option<i64>,
    ) -> Response {
        for prefix in &self.prefixes {
            res = res.cookie(&Cookie {
                name,
                value,
                path: prefix,
                max_age,
                secure: self.config.secure_cookies(),
            });
        }
        res
    }
}

impl Handler for App {
    async fn handle(&self, mut req: Request) -> Response {
        req.prefix = self.prefix.clone();
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
        let method = req.method.clone();
        let is_get = method == Method::GET || method == Method::HEAD;
        let is_post = method == Method::POST;
        match rest.as_str() {
            "" | "/" if is_get => Response::redirect(&format!("{}/login", req.prefix)),
            "/login" if is_get => self.login_get(&req).await,
            "/login" if is_post => self.login_post(&req).await,
            "/login" => Response::method_not_allowed("GET, HEAD, POST"),
            "/login/password" if is_post => self.first_login_password(&req).await,
            "/logout" if is_get || is_post => self.logout(&req).await,
            "/validate"
            | "/serviceValidate"
            | "/proxyValidate"
            | "/p3/serviceValidate"
            | "/p3/proxyValidate"
                if is_get || is_post =>
            {
                self.validate(&req, &rest).await
            }
            "/validate"
            | "/serviceValidate"
            | "/proxyValidate"
            | "/p3/serviceValidate"
            | "/p3/proxyValidate" => Response::method_not_allowed("GET, HEAD, POST"),
            "/proxy" if is_get || is_post => self.proxy(&req).await,
            "/proxy" => Response::method_not_allowed("GET, HEAD, POST"),
            "/samlValidate" if is_post => self.saml_validate(&req).await,
            "/samlValidate" => Response::method_not_allowed("POST"),
            "/captcha.html" | "/getCaptcha.htl" if is_get => self.captcha_image(&req).await,
            "/needCaptcha.html" if is_get => self.need_captcha(&req, false).await,
            "/checkNeedCaptcha.htl" if is_get => self.need_captcha(&req, true).await,
            "/help" if is_get => {
                let chrome = self.chrome(&req);
                self.page(&req, StatusCode::OK, chrome.help())
            }
            "/forgot" if is_get => {
                let chrome = self.chrome(&req);
                let t = chrome.t();
                let body = chrome.message(
                    t.forgot_title,
                    t.forgot_body,
                    &[(t.back_to_login, format!("{}/login", req.prefix))],
                );
                self.page(&req, StatusCode::OK, body)
            }
            path if path.starts_with("/assets/") && is_get => {
                self.asset(&req, &path["/assets/".len()..])
            }
            _ => self.error_page(&req, StatusCode::NOT_FOUND),
        }
    }
}
