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
use super::session::Target;
use super::App;
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Request, Response};
use crate::model::audit::Method;
use crate::model::{AuditEvent, Factor, Status};
use crate::otp::Notice;
use crate::social::{WeComUser, WxError};
use crate::store::Bound;
use crate::store::Store;
use crate::tickets::{self, Kind};
use hyper::StatusCode;

/// Seconds between leaving for the provider's page and coming back.
const STATE_TTL: i64 = 600;
const STATE_CAPACITY: usize = 50_000;
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

    /// What a login through it proved.
    fn factor(self) -> Factor {
        match self {
            Provider::WeCom => Factor::WeCom,
            Provider::WeChat { .. } => Factor::WeChat,
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

/// The social room's state: round trips through WeCom or WeChat under way (by hash of their
/// `state`), and WeCom secondary verifications waiting for the account's password.
pub(super) struct State {
    pub(super) states: Ephemeral<OAuthState>,
    pub(super) wecom_codes: Ephemeral<WeComVerification>,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            states: Ephemeral::new(store, "oauth", STATE_CAPACITY),
            wecom_codes: Ephemeral::new(store, "wecom_code", STATE_CAPACITY),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.states.sweep(now);
        self.wecom_codes.sweep(now);
    }
}

/// Inside the WeCom or WeChat app (by its user agent), with that provider configured.
fn in_app(app: &App, req: &Request) -> Option<Provider> {
    let ua = req.header("user-agent").unwrap_or("");
    if ua.contains("wxwork") && app.wecom.is_some() {
        Some(Provider::WeCom)
    } else if ua.contains("MicroMessenger") && app.wechat.is_some() {
        Some(Provider::WeChat { website: false })
    } else {
        None
    }
}

/// Sends the browser to `provider`'s page, to come back to our callback with `purpose`.
async fn to_provider(app: &App, req: &Request, provider: Provider, purpose: Purpose) -> Handled {
    let (flow, new_flow) = super::flow(req);
    let state = tickets::new_id(Kind::OAuthState);
    let now = app.clock.now();
    let record = OAuthState {
        flow: tickets::hash_id(&flow),
        provider,
        purpose,
    };
    app.social
        .states
        .insert(tickets::hash_id(&state), record, now + STATE_TTL, now)
        .await?;
    let origin = app
        .config
        .public_url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let callback = format!("{origin}{}/{}/callback", req.prefix, provider.kind());
    let in_app = in_app(app, req) == Some(provider);
    let url = match (provider, &app.wecom, &app.wechat) {
        (Provider::WeCom, Some(w), _) if in_app => w.oauth_url(&callback, &state),
        (Provider::WeCom, Some(w), _) => w.web_login_url(&callback, &state),
        (Provider::WeChat { website: true }, _, Some(w)) => w.qr_url(&callback, &state),
        (Provider::WeChat { .. }, _, Some(w)) => w.oauth_url(&callback, &state),
        _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
    };
    let res = Response::redirect(&url);
    Ok(match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    })
}

/// `GET wecom/login`, `wechat/login` (`service` kept).
pub(super) async fn social_login(app: &App, req: &Request, kind: &str) -> Handled {
    let provider = match kind {
        "wecom" if app.wecom.is_some() => Provider::WeCom,
        "wechat" => match (&app.wechat, in_app(app, req)) {
            (Some(_), Some(Provider::WeChat { .. })) => Provider::WeChat { website: false },
            (Some(w), _) if w.has_website() => Provider::WeChat { website: true },
            _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
        },
        _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
    };
    let target = Target {
        service: match super::session::service_param(app, req) {
            Ok(service) => service,
            Err(refusal) => return Ok(refusal),
        },
        post: false,
    };
    to_provider(app, req, provider, Purpose::Login(target)).await
}

/// `GET wecom/bind`, `wechat/bind` (the portal): needs the session and a fresh proof.
pub(super) async fn social_bind(app: &App, req: &Request, kind: &str) -> Handled {
    let Some(h) = super::portal::holder(app, req).await? else {
        return Ok(Response::redirect(&format!("{}/login", req.prefix)));
    };
    if !super::portal::verified(app, &h).await? {
        return Ok(Response::redirect(&format!(
            "{}/account/verify?next=bind-{kind}",
            req.prefix
        )));
    }
    let provider = match kind {
        "wecom" if app.wecom.is_some() => Provider::WeCom,
        "wechat" => match (&app.wechat, in_app(app, req)) {
            (Some(_), Some(Provider::WeChat { .. })) => Provider::WeChat { website: false },
            (Some(w), _) if w.has_website() => Provider::WeChat { website: true },
            _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
        },
        _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
    };
    let (session, account) = h.ids();
    to_provider(app, req, provider, Purpose::Bind { session, account }).await
}

/// Inside WeCom or WeChat, a phone without a session that scanned `uuid` is identified
/// silently; `None` elsewhere.
pub(super) async fn scan_in_app(app: &App, req: &Request, uuid: &str) -> Option<Handled> {
    let provider = in_app(app, req)?;
    Some(to_provider(app, req, provider, Purpose::Scan(uuid.to_string())).await)
}

/// `GET wecom/callback`, `wechat/callback`: `code` (absent if the person declined) and
/// `state`.
pub(super) async fn social_callback(app: &App, req: &Request, kind: &str) -> Handled {
    let chrome = app.chrome(req);
    let t = chrome.t();
    // Its pages are titled by the provider the person came back from.
    let title = match kind {
        "wecom" => t.wecom,
        _ => t.wechat,
    };
    let now = app.clock.now();
    let state = req.query.get("state").unwrap_or("");
    let taken = match tickets::well_formed(state, Kind::OAuthState) {
        true => app.social.states.take(&tickets::hash_id(state)).await?,
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
        return Ok(app.page(StatusCode::FORBIDDEN, page));
    };
    let Some(code) = req.query.get("code").filter(|c| !c.is_empty()) else {
        let page = chrome.message(
            title,
            t.social_declined,
            &[(t.back_to_login, format!("{}/login", req.prefix))],
        );
        return Ok(app.page(StatusCode::OK, page));
    };
    let identity = match identity(app, state.provider, code).await {
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
            return Ok(app.page(StatusCode::BAD_GATEWAY, page));
        }
    };
    let client = app.client(req);
    match state.purpose {
        Purpose::Login(target) => {
            let links = [(t.back_to_login, format!("{}/login", req.prefix))];
            let Some(account) =
                bound_account(app, state.provider, &identity.0, &identity.1).await?
            else {
                let page = chrome.message(title, t.social_not_bound, &links);
                return Ok(app.page(StatusCode::OK, page));
            };
            // The first login (a new password, a bound phone) is taken with the password
            // on the login page, never through an identity (docs/security.md M01).
            if super::first_login::needs_first_login(app, &account, false).await? {
                let page = chrome.message(title, t.first_login_needed, &links);
                return Ok(app.page(StatusCode::FORBIDDEN, page));
            }
            let method = match state.provider {
                Provider::WeCom => Method::WeCom,
                Provider::WeChat { .. } => Method::WeChat,
            };
            app.accounts
                .record_login(&account.id, method, &client)
                .await?;
            let first = state.provider.factor();
            super::first_login::finish_login(app, req, &account, first, &target, false, false).await
        }
        Purpose::Bind { session, account } => {
            // The portal's session must still be the one that asked.
            let current = super::portal::holder(app, req).await?;
            let Some(holder) = current.filter(|h| h.ids() == (session.clone(), account.clone()))
            else {
                return Err(Failure::Refused(StatusCode::FORBIDDEN));
            };
            let kind = state.provider.kind();
            let event = AuditEvent::IdentityBound { kind };
            let value = identity.0[0].clone();
            let bound = app
                .accounts
                .bind(&account, kind, value, event, &client, false)
                .await?;
            let notice = match state.provider {
                Provider::WeCom => Notice::WeComBound,
                Provider::WeChat { .. } => Notice::WeChatBound,
            };
            Ok(match bound {
                Bound::Bound => {
                    let client = app.client(req);
                    app.codes
                        .notify_holder(holder.account(), notice, &client)
                        .await;
                    Response::see_other(&format!("{}/account?done=bind", req.prefix))
                }
                Bound::Taken => Response::see_other(&format!("{}/account?done=taken", req.prefix)),
            })
        }
        Purpose::Scan(uuid) => {
            let back = format!("{}/qrCode/qrCodeLogin.do?uuid={}", req.prefix, uuid);
            match bound_account(app, state.provider, &identity.0, &identity.1).await? {
                Some(account)
                    if !super::first_login::needs_first_login(app, &account, false).await? =>
                {
                    let first = state.provider.factor();
                    let (tgc, _) =
                        super::session::start_session(app, req, &account, first, false).await?;
                    Ok(super::session::with_session_cookie(
                        app,
                        req,
                        Response::see_other(&back),
                        &tgc,
                        false,
                    ))
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
    app: &App,
    provider: Provider,
    code: &str,
) -> Result<(Vec<String>, Option<String>), WxError> {
    match (provider, &app.wecom, &app.wechat) {
        (Provider::WeCom, Some(w), _) => match w.user_of_code(code).await? {
            WeComUser::Member(userid) => {
                Ok((vec![format!("{}/{userid}", w.corp_id())], Some(userid)))
            }
            WeComUser::Outsider => Err(WxError::NotAnIdentity),
        },
        (Provider::WeChat { website }, _, Some(w)) => Ok((w.identity(code, website).await?, None)),
        _ => Err(WxError::Unavailable("not configured")),
    }
}

/// The active account bound to the identity. With `wecom.userid_is_account` (a school
/// syncing WeCom from its roster), a userid that is an account's id is that account,
/// bound at this first use, unless the account has another WeCom identity already.
async fn bound_account(
    app: &App,
    provider: Provider,
    values: &[String],
    userid: &Option<String>,
) -> Result<Option<crate::model::Account>, Failure> {
    let kind = provider.kind();
    if let Some(id) = app.accounts.holder(kind, values.to_vec()).await? {
        return Ok(app.accounts.active(&id).await?);
    }
    let value = values.first().cloned().unwrap_or_default();
    let Some(id) = userid
        .as_deref()
        .filter(|_| app.config.wecom.userid_is_account)
        .and_then(crate::model::canonical_id)
    else {
        return Ok(None);
    };
    let Some(account) = app.accounts.active(&id).await? else {
        return Ok(None);
    };
    // Not bound for an account that owes its first login: it is refused as such.
    if super::first_login::needs_first_login(app, &account, false).await? {
        return Ok(Some(account));
    }
    let event = AuditEvent::IdentityBound { kind };
    let server = crate::model::Client::default();
    let bound = app
        .accounts
        .bind(&id, kind, value, event, &server, true)
        .await?;
    Ok((bound == Bound::Bound).then_some(account))
}

/// `GET wecom/verify?code=`: WeCom's secondary verification opens this page; the code is
/// kept here until the account is proved.
pub(super) async fn wecom_verify_get(app: &App, req: &Request) -> Handled {
    if app.wecom.is_none() {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    }
    let code = req.query.get("code").unwrap_or("");
    if code.is_empty() || code.len() > 512 {
        return Err(Failure::Refused(StatusCode::BAD_REQUEST));
    }
    let key = tickets::new_id(Kind::OAuthState);
    let now = app.clock.now();
    app.social
        .wecom_codes
        .insert(
            tickets::hash_id(&key),
            WeComVerification::Code(code.to_string()),
            now + VERIFY_TTL,
            now,
        )
        .await?;
    Ok(verify_form(app, req, &key, "", None, StatusCode::OK).await)
}

async fn verify_form(
    app: &App,
    req: &Request,
    key: &str,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (flow, new_flow) = super::flow(req);
    let token = app.forms.issue(&flow, app.clock.now()).token;
    // The same captcha rule as the login page: this form checks the same passwords.
    let captcha =
        !username.is_empty() && app.accounts.needs_captcha(username, &app.client(req)).await;
    let chrome = app.chrome(req);
    let page = chrome.wecom_verify(&token, key, username, captcha, error);
    let res = app.page(status, page);
    match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    }
}

/// `POST wecom/verify`: `username`, `password` (throttled as a login, with its captcha).
/// WeCom's code is checked first, so without a code WeCom gave, the form checks no
/// password. An account that owes its first login is not bound; one that may be is
/// bound only once WeCom took the confirmation, and its phone is told. "绑定成功".
pub(super) async fn wecom_verify_post(app: &App, req: &Request) -> Handled {
    let Some(wecom) = &app.wecom else {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    };
    let f = &req.form;
    let chrome = app.chrome(req);
    let t = chrome.t();
    if app
        .redeem(req, f.get("execution").unwrap_or(""))
        .await?
        .is_none()
    {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let key = f.get("key").unwrap_or("");
    let username = f.get("username").unwrap_or("");
    let hashed = tickets::hash_id(key);
    let now = app.clock.now();
    let ended = |why: &'static str, status| {
        let page = chrome.message(t.wecom, why, &[]);
        Ok(app.page(status, page))
    };
    // "看不清，换一张": the form again with a new captcha, nothing checked; the key stays out
    // of any address.
    if f.get("action") == Some("refresh") {
        if app.social.wecom_codes.get(&hashed, now).await?.is_none() {
            return ended(t.social_expired, StatusCode::FORBIDDEN);
        }
        return Ok(verify_form(app, req, key, username, None, StatusCode::OK).await);
    }
    let Some((expires, pending)) = app.social.wecom_codes.take(&hashed).await? else {
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
        app.social
            .wecom_codes
            .insert(hashed.clone(), member, expires, now)
    };
    let client = app.client(req);
    let answer = f.get("captcha").unwrap_or("");
    if app.accounts.needs_captcha(username, &client).await
        && !super::captcha::solve_captcha(app, req, answer).await?
    {
        app.accounts.captcha_refused(username, &client).await?;
        keep().await?;
        let error = Some(super::captcha::refusal(t, answer));
        return Ok(verify_form(app, req, key, username, error, StatusCode::UNAUTHORIZED).await);
    }
    let password = f.get("password").unwrap_or("").to_string();
    let (account, weak) = match app
        .accounts
        .password_login(username, password, &client)
        .await?
    {
        crate::accounts::Login::Success { account, weak } => (account, weak),
        failed => {
            keep().await?;
            let (error, status) = match failed {
                crate::accounts::Login::Throttled => (t.login_locked, StatusCode::LOCKED),
                _ => (t.bad_credentials, StatusCode::UNAUTHORIZED),
            };
            return Ok(verify_form(app, req, key, username, Some(error), status).await);
        }
    };
    // The roster's initial password binds nothing: the first login comes first.
    if super::first_login::needs_first_login(app, &account, weak).await? {
        let links = [(t.back_to_login, format!("{}/login", req.prefix))];
        let page = chrome.message(t.wecom, t.first_login_needed, &links);
        return Ok(app.page(StatusCode::FORBIDDEN, page));
    }
    let value = format!("{}/{}", wecom.corp_id(), verification.userid);
    let holder = app.accounts.holder("wecom", vec![value.clone()]).await?;
    if holder.is_some_and(|id| id != account.id) {
        return ended(t.social_taken, StatusCode::CONFLICT);
    }
    if let Err(e) = wecom.verified(&verification).await {
        tracing::warn!(error = %e, "WeCom did not take the confirmation");
        return ended(t.social_failed, StatusCode::BAD_GATEWAY);
    }
    // WeCom may take seconds to answer: an account locked, reset or logged out meanwhile
    // is neither bound nor logged in (docs/security.md M02).
    let now_as = super::first_login::account(app, &account.id).await?;
    if now_as.status != Status::Active || now_as.generation != account.generation {
        return ended(t.social_expired, StatusCode::FORBIDDEN);
    }
    let event = AuditEvent::IdentityBound { kind: "wecom" };
    let bound = app
        .accounts
        .bind(&account.id, "wecom", value, event, &client, false)
        .await?;
    if bound == Bound::Taken {
        return ended(t.social_taken, StatusCode::CONFLICT);
    }
    app.codes
        .notify_holder(&account, Notice::WeComBound, &client)
        .await;
    // The password just proved the account: the person is logged in, and "绑定成功" leads
    // to their 个人中心 (the manual's last picture), not to the login page.
    let (tgc, _) =
        super::session::start_session(app, req, &account, Factor::Password, false).await?;
    let portal = format!("{}/portal", req.prefix);
    let res = app.page(StatusCode::OK, chrome.bound(&portal));
    let res = super::session::with_session_cookie(app, req, res, &tgc, false);
    Ok(app.cookies.clear(res, Cookie::Flow))
}
