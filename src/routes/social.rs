//! Logging in and binding with WeCom (企业微信) and WeChat (微信).
//!
//! - `wecom/login`, `wechat/login`: to the provider's page (its QR code on a computer, its
//!   silent OAuth inside its app), back at `…/callback` with a code and our `state`, which is
//!   single use and bound to the browser's flow cookie; the identity's account logs in.
//! - `wecom/bind`, `wechat/bind` (the portal, after a proof of identity): the same round
//!   trip binds the identity to the logged-in account.
//! - Inside WeCom or WeChat, a scanned QR code's page identifies the person silently.
//! - `wecom/verify`: WeCom's secondary verification (二次验证), "学号/工号 + 密码 → 绑定成功":
//!   WeCom opens it with a code; after the account's password, the member is bound and WeCom
//!   told so.
//!
//! One identity binds one account; nothing is bound on a phone-number match.

use super::error::{Failure, Handled};
use super::login::Target;
use super::App;
use crate::http::{Cookie, Request, Response};
use crate::model::audit::Method;
use crate::model::{AuditEvent, Status};
use crate::otp::Notice;
use crate::social::{WeComUser, WxError};
use crate::store::Bound;
use crate::tickets::{self, Kind};
use hyper::StatusCode;

/// Seconds between leaving for the provider's page and coming back.
const STATE_TTL: i64 = 600;
pub(super) const STATE_CAPACITY: usize = 50_000;
/// Seconds WeCom's secondary-verification code lives (its codes last five minutes).
const VERIFY_TTL: i64 = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum Provider {
    WeCom,
    /// `website`: the Open Platform website application (a QR code on a computer).
    WeChat {
        website: bool,
    },
}

impl Provider {
    fn kind(self) -> &'static str {
        match self {
            Provider::WeCom => "wecom",
            Provider::WeChat { .. } => "wechat",
        }
    }
}

/// Why we sent someone to the provider.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
enum Purpose {
    Login(Target),
    /// Bind to the account of this session.
    Bind {
        session: String,
        account: String,
    },
    /// Identify the phone that scanned this QR code.
    Scan(String),
}

/// A WeCom secondary verification between its page and the account's password: the code
/// WeCom gave the page, then (once WeCom said whose it is) the member.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) enum WeComVerification {
    Code(String),
    Member(crate::social::wecom::Verification),
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct OAuthState {
    flow: String,
    provider: Provider,
    purpose: Purpose,
}

impl App {
    /// Inside the WeCom or WeChat app (by its user agent), with that provider configured.
    fn in_app(&self, req: &Request) -> Option<Provider> {
        let ua = req.header("user-agent").unwrap_or("");
        if ua.contains("wxwork") && self.wecom.is_some() {
            Some(Provider::WeCom)
        } else if ua.contains("MicroMessenger") && self.wechat.is_some() {
            Some(Provider::WeChat { website: false })
        } else {
            None
        }
    }

    /// Sends the browser to `provider`'s page, to come back to our callback with `purpose`.
    async fn to_provider(&self, req: &Request, provider: Provider, purpose: Purpose) -> Handled {
        let (flow, new_flow) = self.flow(req);
        let state = tickets::new_id(Kind::OAuthState);
        let now = self.clock.now();
        let record = OAuthState {
            flow: tickets::hash_id(&flow),
            provider,
            purpose,
        };
        self.oauth_states
            .insert(tickets::hash_id(&state), record, now + STATE_TTL, now)
            .await?;
        let origin = self
            .config
            .public_url()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let callback = format!("{origin}{}/{}/callback", req.prefix, provider.kind());
        let in_app = self.in_app(req) == Some(provider);
        let url = match (provider, &self.wecom, &self.wechat) {
            (Provider::WeCom, Some(w), _) if in_app => w.oauth_url(&callback, &state),
            (Provider::WeCom, Some(w), _) => w.web_login_url(&callback, &state),
            (Provider::WeChat { website: true }, _, Some(w)) => w.qr_url(&callback, &state),
            (Provider::WeChat { .. }, _, Some(w)) => w.oauth_url(&callback, &state),
            _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
        };
        let res = Response::redirect(&url);
        Ok(match new_flow {
            true => self.cookies.set(res, Cookie::Flow, &flow, None),
            false => res,
        })
    }

    /// `GET wecom/login`, `wechat/login` (`service` kept).
    pub(super) async fn social_login(&self, req: &Request, kind: &str) -> Handled {
        let provider = match kind {
            "wecom" if self.wecom.is_some() => Provider::WeCom,
            "wechat" => match (&self.wechat, self.in_app(req)) {
                (Some(_), Some(Provider::WeChat { .. })) => Provider::WeChat { website: false },
                (Some(w), _) if w.has_website() => Provider::WeChat { website: true },
                _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
            },
            _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
        };
        let target = Target {
            service: match self.service_param(req) {
                Ok(service) => service,
                Err(refusal) => return Ok(refusal),
            },
            post: false,
        };
        self.to_provider(req, provider, Purpose::Login(target))
            .await
    }

    /// `GET wecom/bind`, `wechat/bind` (the portal): needs the session and a fresh proof.
    pub(super) async fn social_bind(&self, req: &Request, kind: &str) -> Handled {
        let Some(h) = self.holder(req).await? else {
            return Ok(Response::redirect(&format!("{}/login", req.prefix)));
        };
        if !self.verified(&h).await? {
            return Ok(Response::redirect(&format!(
                "{}/account/verify?next=bind-{kind}",
                req.prefix
            )));
        }
        let provider = match kind {
            "wecom" if self.wecom.is_some() => Provider::WeCom,
            "wechat" => match (&self.wechat, self.in_app(req)) {
                (Some(_), Some(Provider::WeChat { .. })) => Provider::WeChat { website: false },
                (Some(w), _) if w.has_website() => Provider::WeChat { website: true },
                _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
            },
            _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
        };
        let (session, account) = h.ids();
        self.to_provider(req, provider, Purpose::Bind { session, account })
            .await
    }

    /// Inside WeCom or WeChat, a phone without a session that scanned `uuid` is identified
    /// silently; `None` elsewhere.
    pub(super) async fn scan_in_app(&self, req: &Request, uuid: &str) -> Option<Handled> {
        let provider = self.in_app(req)?;
        Some(
            self.to_provider(req, provider, Purpose::Scan(uuid.to_string()))
                .await,
        )
    }

    /// `GET wecom/callback`, `wechat/callback`: `code` (absent if the person declined) and
    /// `state`.
    pub(super) async fn social_callback(&self, req: &Request, kind: &str) -> Handled {
        let chrome = self.chrome(req);
        let t = chrome.t();
        // Its pages are titled by the provider the person came back from.
        let title = match kind {
            "wecom" => t.wecom,
            _ => t.wechat,
        };
        let now = self.clock.now();
        let state = req.query.get("state").unwrap_or("");
        let taken = match tickets::well_formed(state, Kind::OAuthState) {
            true => self.oauth_states.take(&tickets::hash_id(state)).await?,
            false => None,
        };
        let found = taken.filter(|(expires, s)| {
            *expires >= now
                && s.provider.kind() == kind
                && req.cookie(Cookie::Flow).map(tickets::hash_id).as_deref() == Some(&s.flow)
        });
        let Some((_, state)) = found else {
            let page = chrome.message(
                title,
                t.social_expired,
                &[(t.back_to_login, format!("{}/login", req.prefix))],
            );
            return Ok(self.page(req, StatusCode::FORBIDDEN, page));
        };
        let Some(code) = req.query.get("code").filter(|c| !c.is_empty()) else {
            let page = chrome.message(
                title,
                t.social_declined,
                &[(t.back_to_login, format!("{}/login", req.prefix))],
            );
            return Ok(self.page(req, StatusCode::OK, page));
        };
        let identity = match self.identity(state.provider, code).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(provider = kind, error = %e, "identity from code refused");
                let why = match e {
                    WxError::NotAnIdentity => t.social_outsider,
                    _ => t.social_failed,
                };
                let page = chrome.message(
                    title,
                    why,
                    &[(t.back_to_login, format!("{}/login", req.prefix))],
                );
                return Ok(self.page(req, StatusCode::BAD_GATEWAY, page));
            }
        };
        let client = self.client(req);
        match state.purpose {
            Purpose::Login(target) => {
                let links = [(t.back_to_login, format!("{}/login", req.prefix))];
                let Some(account) = self
                    .bound_account(state.provider, &identity.0, &identity.1)
                    .await?
                else {
                    let page = chrome.message(title, t.social_not_bound, &links);
                    return Ok(self.page(req, StatusCode::OK, page));
                };
                // The first login (a new password, a bound phone) is taken with the password
                // on the login page, never through an identity (security.md M01).
                if self.needs_first_login(&account, false).await? {
                    let page = chrome.message(title, t.first_login_needed, &links);
                    return Ok(self.page(req, StatusCode::FORBIDDEN, page));
                }
                let method = match state.provider {
                    Provider::WeCom => Method::WeCom,
                    Provider::WeChat { .. } => Method::WeChat,
                };
                self.accounts
                    .record_login(&account.id, method, &client)
                    .await?;
                self.finish_login(req, &account, &target, false, false)
                    .await
            }
            Purpose::Bind { session, account } => {
                // The portal's session must still be the one that asked.
                let current = self.holder(req).await?;
                let Some(holder) =
                    current.filter(|h| h.ids() == (session.clone(), account.clone()))
                else {
                    return Err(Failure::Refused(StatusCode::FORBIDDEN));
                };
                let kind = state.provider.kind();
                let event = AuditEvent::IdentityBound { kind };
                let value = identity.0[0].clone();
                let bound = self
                    .store
                    .call(move |s| {
                        s.bind(
                            &account,
                            kind,
                            &value,
                            &client.record(event, Some(&account)),
                            now,
                        )
                    })
                    .await?;
                let notice = match state.provider {
                    Provider::WeCom => Notice::WeComBound,
                    Provider::WeChat { .. } => Notice::WeChatBound,
                };
                Ok(match bound {
                    Bound::Bound => {
                        let client = self.client(req);
                        self.notify_bound(holder.account(), notice, &client).await;
                        Response::see_other(&format!("{}/account?done=bind", req.prefix))
                    }
                    Bound::Taken => {
                        Response::see_other(&format!("{}/account?done=taken", req.prefix))
                    }
                })
            }
            Purpose::Scan(uuid) => {
                let back = format!("{}/qrCode/qrCodeLogin.do?uuid={}", req.prefix, uuid);
                match self
                    .bound_account(state.provider, &identity.0, &identity.1)
                    .await?
                {
                    Some(account) if !self.needs_first_login(&account, false).await? => {
                        let (tgc, _) = self.start_session(req, &account, false).await?;
                        Ok(self.with_session_cookie(req, Response::see_other(&back), &tgc, false))
                    }
                    // Not bound (or not ready): the page asks for the password instead.
                    _ => Ok(Response::see_other(&back)),
                }
            }
        }
    }

    /// The identity behind a provider's code: the values it may be bound under (the first
    /// is what a new binding holds; a WeChat identity also under its earlier openid), and
    /// the WeCom userid if any.
    async fn identity(
        &self,
        provider: Provider,
        code: &str,
    ) -> Result<(Vec<String>, Option<String>), WxError> {
        match (provider, &self.wecom, &self.wechat) {
            (Provider::WeCom, Some(w), _) => match w.user_of_code(code).await? {
                WeComUser::Member(userid) => {
                    Ok((vec![format!("{}/{userid}", w.corp_id())], Some(userid)))
                }
                WeComUser::Outsider => Err(WxError::NotAnIdentity),
            },
            (Provider::WeChat { website }, _, Some(w)) => {
                Ok((w.identity(code, website).await?, None))
            }
            _ => Err(WxError::Unavailable("not configured")),
        }
    }

    /// The active account bound to the identity. With `wecom.userid_is_account` (a school
    /// syncing WeCom from its roster), a userid that is an account's id is that account,
    /// bound at this first use, unless the account has another WeCom identity already.
    async fn bound_account(
        &self,
        provider: Provider,
        values: &[String],
        userid: &Option<String>,
    ) -> Result<Option<crate::model::Account>, Failure> {
        let (kind, candidates) = (provider.kind(), values.to_vec());
        let found = self
            .store
            .call(move |s| {
                for v in &candidates {
                    if let Some(id) = s.account_by_binding(kind, v)? {
                        return Ok(Some(id));
                    }
                }
                Ok(None)
            })
            .await?;
        if let Some(id) = found {
            return self.active_account(&id).await;
        }
        let value = values.first().cloned().unwrap_or_default();
        let Some(id) = userid
            .as_deref()
            .filter(|_| self.config.wecom.userid_is_account)
            .and_then(crate::model::canonical_id)
        else {
            return Ok(None);
        };
        let Some(account) = self.active_account(&id).await? else {
            return Ok(None);
        };
        // Not bound for an account that owes its first login: it is refused as such.
        if self.needs_first_login(&account, false).await? {
            return Ok(Some(account));
        }
        let (v, now) = (value, self.clock.now());
        let bound = self
            .store
            .call(move |s| {
                if s.binding(&id, kind)?.is_some() {
                    return Ok(Bound::Taken);
                }
                let event = AuditEvent::IdentityBound { kind };
                s.bind(
                    &id,
                    kind,
                    &v,
                    &crate::model::AuditRecord::system(event, Some(&id)),
                    now,
                )
            })
            .await?;
        Ok((bound == Bound::Bound).then_some(account))
    }

    async fn active_account(&self, id: &str) -> Result<Option<crate::model::Account>, Failure> {
        let id = id.to_string();
        Ok(self
            .store
            .call(move |s| s.account(&id))
            .await?
            .filter(|a| a.status == Status::Active))
    }

    /// `GET wecom/verify?code=`: WeCom's secondary verification opens this page; the code is
    /// kept here until the account is proved.
    pub(super) async fn wecom_verify_get(&self, req: &Request) -> Handled {
        if self.wecom.is_none() {
            return Err(Failure::Refused(StatusCode::NOT_FOUND));
        }
        let code = req.query.get("code").unwrap_or("");
        if code.is_empty() || code.len() > 512 {
            return Err(Failure::Refused(StatusCode::BAD_REQUEST));
        }
        let key = tickets::new_id(Kind::OAuthState);
        let now = self.clock.now();
        self.wecom_codes
            .insert(
                tickets::hash_id(&key),
                WeComVerification::Code(code.to_string()),
                now + VERIFY_TTL,
                now,
            )
            .await?;
        Ok(self.verify_form(req, &key, "", None, StatusCode::OK).await)
    }

    async fn verify_form(
        &self,
        req: &Request,
        key: &str,
        username: &str,
        error: Option<&str>,
        status: StatusCode,
    ) -> Response {
        let (flow, new_flow) = self.flow(req);
        let token = self.forms.issue(&flow, self.clock.now()).token;
        // The same captcha rule as the login page: this form checks the same passwords.
        let captcha = !username.is_empty()
            && self
                .accounts
                .needs_captcha(username, &self.client(req))
                .await;
        let chrome = self.chrome(req);
        let page = chrome.wecom_verify(&token, key, username, captcha, error);
        let res = self.page(req, status, page);
        match new_flow {
            true => self.cookies.set(res, Cookie::Flow, &flow, None),
            false => res,
        }
    }

    /// `POST wecom/verify`: `username`, `password` (throttled as a login, with its captcha).
    /// WeCom's code is checked first, so without a code WeCom gave, the form checks no
    /// password. An account that owes its first login is not bound; one that may be is
    /// bound only once WeCom took the confirmation, and its phone is told. "绑定成功".
    pub(super) async fn wecom_verify_post(&self, req: &Request) -> Handled {
        let Some(wecom) = &self.wecom else {
            return Err(Failure::Refused(StatusCode::NOT_FOUND));
        };
        let f = &req.form;
        let chrome = self.chrome(req);
        let t = chrome.t();
        if self
            .redeem(req, f.get("execution").unwrap_or(""))
            .await?
            .is_none()
        {
            return Err(Failure::Refused(StatusCode::FORBIDDEN));
        }
        let key = f.get("key").unwrap_or("");
        let username = f.get("username").unwrap_or("");
        let hashed = tickets::hash_id(key);
        let now = self.clock.now();
        let ended = |why: &'static str, status| {
            let page = chrome.message(t.wecom, why, &[]);
            Ok(self.page(req, status, page))
        };
        let Some((expires, pending)) = self.wecom_codes.take(&hashed).await? else {
            return ended(t.social_expired, StatusCode::FORBIDDEN);
        };
        let verification = match pending {
            WeComVerification::Member(v) => v,
            WeComVerification::Code(code) => match wecom.verification(&code).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "WeCom secondary verification refused the code");
                    return ended(t.social_expired, StatusCode::FORBIDDEN);
                }
            },
        };
        // Kept for another try at the password, until its five minutes are over.
        let keep = || {
            let member = WeComVerification::Member(verification.clone());
            self.wecom_codes
                .insert(hashed.clone(), member, expires, now)
        };
        let client = self.client(req);
        if self.accounts.needs_captcha(username, &client).await
            && !self
                .solve_captcha(req, f.get("captcha").unwrap_or(""))
                .await?
        {
            self.accounts.captcha_refused(username, &client).await?;
            keep().await?;
            let error = Some(t.captcha_wrong);
            return Ok(self
                .verify_form(req, key, username, error, StatusCode::UNAUTHORIZED)
                .await);
        }
        let password = f.get("password").unwrap_or("").to_string();
        let (account, weak) = match self
            .accounts
            .password_login(username, password, &client)
            .await?
        {
            crate::accounts::Login::Success { account, weak } => (account, weak),
            failed => {
                keep().await?;
                let (error, status) = match failed {
                    crate::accounts::Login::Throttled => (t.throttled, StatusCode::LOCKED),
                    _ => (t.bad_credentials, StatusCode::UNAUTHORIZED),
                };
                return Ok(self
                    .verify_form(req, key, username, Some(error), status)
                    .await);
            }
        };
        // The roster's initial password binds nothing: the first login comes first.
        if self.needs_first_login(&account, weak).await? {
            let links = [(t.back_to_login, format!("{}/login", req.prefix))];
            let page = chrome.message(t.wecom, t.first_login_needed, &links);
            return Ok(self.page(req, StatusCode::FORBIDDEN, page));
        }
        let value = format!("{}/{}", wecom.corp_id(), verification.userid);
        let v = value.clone();
        let holder = self
            .store
            .call(move |s| s.account_by_binding("wecom", &v))
            .await?;
        if holder.is_some_and(|id| id != account.id) {
            return ended(t.social_taken, StatusCode::CONFLICT);
        }
        if let Err(e) = wecom.verified(&verification).await {
            tracing::warn!(error = %e, "WeCom did not take the confirmation");
            return ended(t.social_failed, StatusCode::BAD_GATEWAY);
        }
        let (id, c) = (account.id.clone(), client.clone());
        let event = AuditEvent::IdentityBound { kind: "wecom" };
        let bound = self
            .store
            .call(move |s| s.bind(&id, "wecom", &value, &c.record(event, Some(&id)), now))
            .await?;
        if bound == Bound::Taken {
            return ended(t.social_taken, StatusCode::CONFLICT);
        }
        self.notify_bound(&account, Notice::WeComBound, &client)
            .await;
        let portal = format!("{}/portal", req.prefix);
        Ok(self.page(req, StatusCode::OK, chrome.bound(&portal)))
    }
}
