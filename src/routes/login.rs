//! `/login`: the credential requestor (GET) and acceptor (POST), and `/logout`.

use super::{wisedu, App, FLOW, TGC};
use crate::accounts::{Account, Outcome, MAX_PASSWORD_BYTES};
use crate::cas::{Cas, LiveSession, NewSession};
use crate::http::{Request, Response};
use crate::pages::LoginForm;
use crate::tickets::{self, Kind};
use hyper::StatusCode;

/// A login form token (Apereo's `execution`, CAS `lt`): single use, and bound to the browser
/// that loaded the form through the flow cookie, so a form posted from another site or
/// another browser is refused (login CSRF) and a captured form cannot be replayed.
#[derive(Clone, Debug)]
pub struct LoginFormState {
    browser_hash: String,
    /// The page's `pwdEncryptSalt`, for clients that wrap the password (see `wisedu`).
    salt: String,
}

/// What the login was for, carried from the request to the end of the flow.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub service: Option<String>,
    pub post: bool,
}

impl App {
    /// `service` (or the SAML alias `TARGET`): absent, registered, or refused with a page.
    fn service_param(&self, req: &Request) -> Result<Option<String>, Response> {
        let params = if req.method == hyper::Method::POST {
            &req.form
        } else {
            &req.query
        };
        let service = match (params.unique("service"), params.unique("TARGET")) {
            (Ok(s), Ok(t)) => s.or(t),
            _ => return Err(self.error_page(req, StatusCode::BAD_REQUEST)),
        };
        match service.filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) if self.cas.registry.find(s).is_some() => Ok(Some(s.to_string())),
            Some(s) => {
                tracing::info!(service = ?s.chars().take(200).collect::<String>(), "login for an unregistered service refused");
                let chrome = self.chrome(req);
                let t = chrome.t();
                let page = chrome.message(t.not_authorized_title, t.not_authorized_body, &[]);
                Err(self.page(req, StatusCode::FORBIDDEN, page))
            }
        }
    }

    pub(super) async fn login_get(&self, req: &Request) -> Response {
        let service = match self.service_param(req) {
            Ok(service) => service,
            Err(refusal) => return refusal,
        };
        let renew = req.query.flag("renew");
        // Protocol: renew wins over gateway; gateway without service is a plain login.
        let gateway = req.query.flag("gateway") && !renew && service.is_some();
        let target = Target {
            service,
            post: wants_post(req.query.get("method")),
        };

        let session = match (renew, req.cookie(TGC)) {
            (false, Some(tgc)) => match self.cas.session(tgc).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("session lookup: {e}");
                    return self.error_page(req, StatusCode::INTERNAL_SERVER_ERROR);
                }
            },
            _ => None,
        };
        match (session, &target.service) {
            (Some(session), Some(_)) => self.deliver(req, &session, &target, false),
            (Some(session), None) => self.logged_in_page(req, &session.account_id),
            (None, Some(service)) if gateway => Response::redirect(service),
            (None, _) => {
                // `username` pre-fills the form (and brings the captcha if that name needs it).
                let username = req.query.get("username").unwrap_or("");
                self.login_form(req, &target, renew, username, None, StatusCode::OK)
                    .await
            }
        }
    }

    pub(super) async fn login_post(&self, req: &Request) -> Response {
        let service = match self.service_param(req) {
            Ok(service) => service,
            Err(refusal) => return refusal,
        };
        let f = &req.form;
        let target = Target {
            service,
            post: wants_post(f.get("method")),
        };
        let renew = f.flag("renew");
        let username = f.get("username").unwrap_or("");
        let t = self.chrome(req).t();
        // The form again, with a message and status; every refusal ends here.
        let again =
            |error, status| self.login_form(req, &target, renew, username, Some(error), status);

        let token = f.get("execution").or_else(|| f.get("lt")).unwrap_or("");
        let Some(form) = self.take_form_token(req, token) else {
            return again(t.form_expired, StatusCode::FORBIDDEN).await;
        };
        // Once the account name has collected failures, the captcha comes first; a wrong one
        // costs no password check. `captchaResponse` is the older campus pages' field.
        if self.auth.needs_captcha(username).await {
            let answer = f.get("captcha").or_else(|| f.get("captchaResponse"));
            if !self.solve_captcha(req, answer.unwrap_or("")) {
                return again(t.captcha_wrong, StatusCode::UNAUTHORIZED).await;
            }
        }
        // A password too long to be one we accept may be the campus page's wrapped form.
        let sent = f.get("password").unwrap_or("");
        let password = match sent.len() > MAX_PASSWORD_BYTES {
            true => wisedu::unwrap_password(sent, &form.salt).unwrap_or_else(|| sent.to_string()),
            false => sent.to_string(),
        };
        let outcome = self
            .auth
            .password_login(username, password, self.client_ip(req))
            .await;
        let account = match outcome {
            Ok(Outcome::Success(account)) => account,
            Ok(Outcome::Invalid) => {
                return again(t.bad_credentials, StatusCode::UNAUTHORIZED).await
            }
            Ok(Outcome::Throttled) => return again(t.throttled, StatusCode::LOCKED).await,
            Err(e) => {
                tracing::error!("login: {e}");
                return self.error_page(req, StatusCode::INTERNAL_SERVER_ERROR);
            }
        };
        let remember = self.config.sessions.remember_me && f.flag("rememberMe");
        self.finish_login(req, &account, &target, remember).await
    }

    /// The one place every successful authentication ends: an SSO session is created, the
    /// TGC set, and the user sent on. Steps that must come first (a forced password change)
    /// are interposed here, before any session or ticket exists.
    pub(super) async fn finish_login(
        &self,
        req: &Request,
        account: &Account,
        target: &Target,
        remember: bool,
    ) -> Response {
        if account.must_change {
            return self.start_first_login(req, account, target, remember);
        }
        let new = NewSession {
            account,
            remember_me: remember,
            client_ip: self.client_ip(req).to_string(),
            user_agent: req.header("user-agent").unwrap_or("").to_string(),
        };
        let (tgc, session) = match self.cas.create_session(new).await {
            Ok(created) => created,
            Err(e) => {
                tracing::error!("create session: {e}");
                return self.error_page(req, StatusCode::INTERNAL_SERVER_ERROR);
            }
        };
        tracing::info!(account = %account.id, tgt = %tickets::log_label(&tgc), "SSO session started");
        let max_age = remember.then_some(self.config.sessions.remember_me_lifetime);
        let res = match &target.service {
            Some(_) => self.deliver(req, &session, target, true),
            None => self.logged_in_page(req, &account.id),
        };
        self.cookie_everywhere(res, TGC, &tgc, max_age)
            .cookie(&self.cookie(req, FLOW, "", Some(0)))
    }

    /// Issues a service ticket and sends the browser to the service with it.
    fn deliver(
        &self,
        req: &Request,
        session: &LiveSession,
        target: &Target,
        from_new_login: bool,
    ) -> Response {
        let Some(service) = &target.service else {
            return self.logged_in_page(req, &session.account_id);
        };
        let ticket = self
            .cas
            .issue_service_ticket(service, session, from_new_login);
        if target.post {
            let chrome = self.chrome(req);
            // The form posts to the service, so its origin joins form-action.
            let origin = url::Url::parse(service)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default();
            let csp = crate::http::csp_with_form_action(&origin);
            Response::html(StatusCode::OK, chrome.post_redirect(service, &ticket))
                .header(hyper::header::CONTENT_SECURITY_POLICY, csp)
        } else {
            Response::redirect(&Cas::service_with_ticket(service, &ticket))
        }
    }

    fn logged_in_page(&self, req: &Request, account_id: &str) -> Response {
        let chrome = self.chrome(req);
        let t = chrome.t();
        let body = format!("{} ({account_id})", t.logged_in_body);
        let page = chrome.message(
            t.logged_in_title,
            &body,
            &[(t.logout, format!("{}/logout", req.prefix))],
        );
        self.page(req, StatusCode::OK, page)
    }

    /// Shows the form with a fresh single-use token bound to this browser's flow cookie.
    /// An account name that has collected failures gets the captcha field too.
    async fn login_form(
        &self,
        req: &Request,
        target: &Target,
        renew: bool,
        username: &str,
        error: Option<&str>,
        status: StatusCode,
    ) -> Response {
        let captcha = !username.is_empty() && self.auth.needs_captcha(username).await;
        let (browser, new_cookie) = self.flow_id(req);
        let token = tickets::new_id(Kind::LoginForm);
        let salt = tickets::random_base62(wisedu::SALT_CHARS);
        let expires = self.cas.clock.now() + self.config.tickets.login_form_ttl;
        self.login_forms.insert(
            token.clone(),
            LoginFormState {
                browser_hash: tickets::hash_id(&browser),
                salt: salt.clone(),
            },
            expires,
        );
        let chrome = self.chrome(req);
        let form = LoginForm {
            token: &token,
            salt: &salt,
            service: target.service.as_deref(),
            renew,
            method: target.post.then_some("POST"),
            username,
            error,
            remember_me: self.config.sessions.remember_me,
            captcha,
        };
        let csp = crate::http::csp_with_script(&crate::pages::salt_script(&salt));
        let res = self
            .page(req, status, chrome.login(&form))
            .header(hyper::header::CONTENT_SECURITY_POLICY, csp);
        if new_cookie {
            res.cookie(&self.cookie(req, FLOW, &browser, None))
        } else {
            res
        }
    }

    /// Spends a form token; its state if it was live and issued to this browser.
    fn take_form_token(&self, req: &Request, token: &str) -> Option<LoginFormState> {
        let (expires, state) = self.login_forms.take(token)?;
        let browser = req.cookie(FLOW).map(tickets::hash_id);
        (expires >= self.cas.clock.now() && browser.as_deref() == Some(state.browser_hash.as_str()))
            .then_some(state)
    }

    pub(super) async fn logout(&self, req: &Request) -> Response {
        let mut ended = None;
        if let Some(tgc) = req.cookie(TGC) {
            match self.cas.end_session(tgc).await {
                Ok(true) => {
                    tracing::info!(tgt = %tickets::log_label(tgc), "SSO session ended by logout");
                    ended = Some(tickets::hash_id(tgc));
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::error!("logout: {e}");
                    return self.error_page(req, StatusCode::INTERNAL_SERVER_ERROR);
                }
            }
        }
        // Back-channel logout starts in the background; front-channel URLs come back for
        // this page to load.
        let front = match &ended {
            Some(hash) => self.cas.announce_ended(Some(hash)).await,
            None => Vec::new(),
        };
        // CAS 3.0 `service` redirects, only to a registered service; CAS 2.0 `url` is shown
        // as a link, never followed automatically.
        let registered = |name: &str| {
            req.query
                .get(name)
                .filter(|s| self.cas.registry.find(s).is_some())
                .map(str::to_string)
        };
        let (service, link) = (registered("service"), registered("url"));
        let res = match (&service, front.is_empty()) {
            (Some(service), true) => Response::redirect(service),
            _ => {
                let chrome = self.chrome(req);
                let t = chrome.t();
                let mut links = vec![(t.back_to_login, format!("{}/login", req.prefix))];
                if let Some(url) = link.or(service.clone()) {
                    links.insert(0, (t.continue_to, url));
                }
                let page = chrome.logged_out(&links, &front, service.as_deref());
                let origins: Vec<String> = front
                    .iter()
                    .filter_map(|u| url::Url::parse(u).ok())
                    .map(|u| u.origin().ascii_serialization())
                    .collect();
                self.page(req, StatusCode::OK, page).header(
                    hyper::header::CONTENT_SECURITY_POLICY,
                    crate::http::csp_with_images(&origins),
                )
            }
        };
        self.cookie_everywhere(res, TGC, "", Some(0))
    }
}

fn wants_post(method: Option<&str>) -> bool {
    method.is_some_and(|m| m.eq_ignore_ascii_case("POST"))
}
