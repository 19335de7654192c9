//! `/login`: the credential requestor (GET) and acceptor (POST), and `finish_login`, where
//! every way of proving who one is ends.

use super::error::{Failure, Handled};
use super::App;
use crate::accounts::{Login, MAX_PASSWORD_BYTES};
use crate::cas::Cas;
use crate::http::{Cookie, Csp, Request, Response};
use crate::model::{Account, Status};
use crate::pages::{LoginForm, LoginMode, QrForm, SmsForm};
use crate::sessions::{LiveSession, NewSession};
use crate::tickets::{self, Kind};
use hyper::StatusCode;
use std::sync::Arc;

/// Which form the login page shows.
pub(super) enum Form<'a> {
    Password,
    Sms(SmsForm<'a>),
    /// The QR code of a login request: this one, or a new one.
    Qr(Option<&'a str>),
}

/// What the login was for, carried from the request to the end of the flow.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Target {
    pub service: Option<String>,
    pub post: bool,
}

/// `service` (or the SAML alias `TARGET`): absent, registered, or refused with a page.
pub(super) fn service_param(app: &App, req: &Request) -> Result<Option<String>, Response> {
    let params = if req.method == hyper::Method::POST {
        &req.form
    } else {
        &req.query
    };
    let service = match (params.unique("service"), params.unique("TARGET")) {
        (Ok(s), Ok(t)) => s.or(t),
        _ => return Err(app.error_page(req, StatusCode::BAD_REQUEST)),
    };
    match service.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if app.cas.registered(s).is_some() => Ok(Some(s.to_string())),
        Some(s) => {
            tracing::info!(service = ?s.chars().take(200).collect::<String>(), "login for an unregistered service refused");
            let chrome = app.chrome(req);
            let t = chrome.t();
            let page = chrome.message(t.not_authorized_title, t.not_authorized_body, &[]);
            Err(app.page(req, StatusCode::FORBIDDEN, page))
        }
    }
}

pub(super) async fn login_get(app: &App, req: &Request) -> Handled {
    let service = match service_param(app, req) {
        Ok(service) => service,
        Err(refusal) => return Ok(refusal),
    };
    let renew = req.query.flag("renew");
    // Protocol: renew wins over gateway; gateway without service is a plain login.
    let gateway = req.query.flag("gateway") && !renew && service.is_some();
    let target = Target {
        service,
        post: wants_post(req.query.get("method")),
    };
    let session = match (renew, req.cookie(Cookie::Tgc)) {
        (false, Some(tgc)) => app.sessions.find(tgc).await?,
        _ => None,
    };
    match (session, &target.service) {
        (Some(session), Some(_)) => deliver(app, req, &session, &target, false, gateway).await,
        (Some(_), None) => Ok(logged_in_page(req)),
        (None, Some(service)) if gateway => Ok(Response::redirect(service)),
        (None, _) if sms_mode(app, &req.query) => {
            let form = SmsForm {
                phone: "",
                code_sent_to: None,
                wait: 0,
            };
            Ok(login_form(
                app,
                req,
                &target,
                renew,
                "",
                Form::Sms(form),
                None,
                StatusCode::OK,
            )
            .await)
        }
        (None, _) if qr_mode(app, &req.query) => Ok(login_form(
            app,
            req,
            &target,
            renew,
            "",
            Form::Qr(None),
            None,
            StatusCode::OK,
        )
        .await),
        (None, _) => {
            // `username` pre-fills the form (and brings the captcha if that name needs it).
            let username = req.query.get("username").unwrap_or("");
            Ok(login_form(
                app,
                req,
                &target,
                renew,
                username,
                Form::Password,
                None,
                StatusCode::OK,
            )
            .await)
        }
    }
}

pub(super) async fn login_post(app: &App, req: &Request) -> Handled {
    let service = match service_param(app, req) {
        Ok(service) => service,
        Err(refusal) => return Ok(refusal),
    };
    let f = &req.form;
    let target = Target {
        service,
        post: wants_post(f.get("method")),
    };
    let renew = f.flag("renew");
    if sms_mode(app, f) {
        return super::sms_login::sms_login_post(app, req, &target, renew).await;
    }
    if qr_mode(app, f) {
        return super::qr_login::qr_login_post(app, req, &target, renew).await;
    }
    let username = f.get("username").unwrap_or("");
    let t = app.chrome(req).t();
    let client = app.client(req);
    // The form again, with a message and status; every refusal ends here.
    let again = |error, status| {
        login_form(
            app,
            req,
            &target,
            renew,
            username,
            Form::Password,
            Some(error),
            status,
        )
    };

    let token = f.get("execution").or_else(|| f.get("lt")).unwrap_or("");
    let Some(salt) = app.redeem(req, token).await? else {
        return Ok(again(t.form_expired, StatusCode::FORBIDDEN).await);
    };
    // Once the account name has collected failures, the captcha comes first; a wrong one
    // costs no password check. `captchaResponse` is the older campus pages' field.
    if app.accounts.needs_captcha(username, &client).await {
        let answer = f.get("captcha").or_else(|| f.get("captchaResponse"));
        if !super::captcha::solve_captcha(app, req, answer.unwrap_or("")).await? {
            app.accounts.captcha_refused(username, &client).await?;
            return Ok(again(t.captcha_wrong, StatusCode::UNAUTHORIZED).await);
        }
    }
    // A password too long to be one we accept may be the campus page's wrapped form.
    let sent = f.get("password").unwrap_or("");
    let password = match sent.len() > MAX_PASSWORD_BYTES {
        true => {
            crate::tickets::form::unwrap_password(sent, &salt).unwrap_or_else(|| sent.to_string())
        }
        false => sent.to_string(),
    };
    match app
        .accounts
        .password_login(username, password, &client)
        .await?
    {
        Login::Success { account, weak } => {
            let remember = app.config.sessions.remember_me && f.flag("rememberMe");
            finish_login(app, req, &account, &target, remember, weak).await
        }
        Login::Invalid => Ok(again(t.bad_credentials, StatusCode::UNAUTHORIZED).await),
        Login::Throttled => Ok(again(t.throttled, StatusCode::LOCKED).await),
    }
}

/// The one place every successful authentication ends: the first-login steps are
/// interposed when the account needs them (`weak`: the password just typed fails today's
/// policy), before any session or ticket exists; then the SSO session is created, the
/// TGC set (always a fresh value, replacing the browser's earlier session), and the user
/// sent on.
pub(super) async fn finish_login(
    app: &App,
    req: &Request,
    account: &Account,
    target: &Target,
    remember: bool,
    weak: bool,
) -> Handled {
    // The account as it is now: a flow that paused between the proof and here (the
    // first-login steps, a QR code's confirmation, WeCom's round trip) ends if it was
    // locked, or its password set or its sessions ended, meanwhile.
    let current = super::first_login::account(app, &account.id).await?;
    if current.status != Status::Active || current.generation != account.generation {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    if super::first_login::needs_first_login(app, account, weak).await? {
        return super::first_login::start_first_login(app, req, account, target, remember, weak)
            .await;
    }
    let (tgc, session) = start_session(app, req, account, remember).await?;
    let res = match &target.service {
        Some(_) => deliver(app, req, &session, target, true, false).await?,
        None => logged_in_page(req),
    };
    let res = with_session_cookie(app, req, res, &tgc, remember);
    Ok(app.cookies.clear(res, Cookie::Flow))
}

/// A new SSO session for `account` in this browser (ending the one it had).
pub(super) async fn start_session(
    app: &App,
    req: &Request,
    account: &Account,
    remember: bool,
) -> Result<(String, Arc<LiveSession>), Failure> {
    let client = app.client(req);
    let new = NewSession {
        account,
        remember_me: remember,
        client_ip: &client.ip,
        user_agent: &client.user_agent,
    };
    let replacing = req.cookie(Cookie::Tgc);
    let (tgc, session) = app.sessions.create(new, replacing).await?;
    tracing::info!(account = %account.id, tgt = %tickets::log_label(&tgc), "SSO session started");
    Ok((tgc, session))
}

/// `res` with the new session's TGC (and without a second, planted one).
pub(super) fn with_session_cookie(
    app: &App,
    req: &Request,
    res: Response,
    tgc: &str,
    remember: bool,
) -> Response {
    let max_age = remember.then_some(app.config.sessions.remember_me_lifetime);
    let res = match req.cookie_repeated(Cookie::Tgc) {
        true => app.cookies.clear_everywhere(res, Cookie::Tgc),
        false => res,
    };
    app.cookies.set(res, Cookie::Tgc, tgc, max_age)
}

/// Issues a service ticket and sends the browser to the service with it, if the
/// service's access rules admit the account. If not: no ticket, a 403 page naming the
/// application (or, with `gateway`, back to the service without a ticket), and the SSO
/// session stays as it is for other applications.
async fn deliver(
    app: &App,
    req: &Request,
    session: &Arc<LiveSession>,
    target: &Target,
    from_new_login: bool,
    gateway: bool,
) -> Handled {
    let Some(service) = &target.service else {
        return Ok(logged_in_page(req));
    };
    let Some(registered) = app.cas.registered(service) else {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    };
    if !app.cas.admits(&registered, session).await? {
        let client = app.client(req);
        app.cas
            .record_denial(&registered, &session.account_id, Some(&client))
            .await;
        if gateway {
            return Ok(Response::redirect(service));
        }
        let chrome = app.chrome(req);
        let page = chrome.access_denied(registered.title(), service);
        return Ok(app.page(req, StatusCode::FORBIDDEN, page));
    }
    let ticket = app
        .cas
        .issue_service_ticket(service, session, from_new_login)
        .await?;
    if target.post {
        let chrome = app.chrome(req);
        // The form posts to the service.
        let csp = Csp::default().forms_leave(true);
        Ok(Response::html(StatusCode::OK, chrome.post_redirect(service, &ticket)).csp(&csp))
    } else {
        Ok(Response::redirect(&Cas::service_with_ticket(
            service, &ticket,
        )))
    }
}

/// Logged in without a service: on to the portal.
fn logged_in_page(req: &Request) -> Response {
    Response::see_other(&format!("{}/portal", req.prefix))
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

/// Whether the request is for the SMS-code login (the campus product's `cllt`), and it is
/// on.
pub(super) fn sms_mode(app: &App, params: &crate::http::Params) -> bool {
    app.config.first_login.sms_login && params.get("cllt") == Some("dynamicLogin")
}

/// Links to log in through WeCom and WeChat, where configured (WeChat on a computer only
/// with a website application, or inside WeChat).
fn other_logins(app: &App, req: &Request, target: &Target) -> Vec<(&'static str, String)> {
    let t = app.chrome(req).t();
    let service = match &target.service {
        Some(s) => format!(
            "?service={}",
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
        ),
        None => String::new(),
    };
    let in_wechat = req
        .header("user-agent")
        .unwrap_or("")
        .contains("MicroMessenger");
    let mut others = Vec::new();
    if app.wecom.is_some() {
        others.push((
            t.wecom_login,
            format!("{}/wecom/login{service}", req.prefix),
        ));
    }
    if app
        .wechat
        .as_ref()
        .is_some_and(|w| w.has_website() || in_wechat)
    {
        others.push((
            t.wechat_login,
            format!("{}/wechat/login{service}", req.prefix),
        ));
    }
    others
}

/// Whether the request is for the QR-code login (`cllt=qrLogin`, or the campus
/// product's `display=qrLogin`), and it is on.
pub(super) fn qr_mode(app: &App, params: &crate::http::Params) -> bool {
    app.config.qr_login
        && (params.get("cllt") == Some("qrLogin") || params.get("display") == Some("qrLogin"))
}

/// Shows the form with a fresh single-use token bound to this browser's flow cookie:
/// the password form, or with `sms` the SMS-code form. An account name that has
/// collected failures gets the captcha field too.
#[allow(clippy::too_many_arguments)]
pub(super) async fn login_form(
    app: &App,
    req: &Request,
    target: &Target,
    renew: bool,
    username: &str,
    form: Form<'_>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let captcha =
        !username.is_empty() && app.accounts.needs_captcha(username, &app.client(req)).await;
    let (flow, new_flow) = flow(req);
    let issued = app.forms.issue(&flow, app.clock.now());
    let chrome = app.chrome(req);
    // A QR code stands for a login request made now, for this browser.
    let uuid = match form {
        Form::Qr(Some(uuid)) => uuid.to_string(),
        // Without the store the QR tab shows no code; the password form still works.
        Form::Qr(None) => super::qr_login::new_qr_request(app, req, &flow, target)
            .await
            .unwrap_or_else(|e| {
                tracing::error!("QR-code request: {e:?}");
                String::new()
            }),
        _ => String::new(),
    };
    let mode = match form {
        Form::Password => LoginMode::Password,
        Form::Sms(sms) => LoginMode::Sms(sms),
        Form::Qr(_) => LoginMode::Qr(QrForm {
            uuid: &uuid,
            ttl: super::qr_login::QR_TTL,
        }),
    };
    let form = LoginForm {
        token: &issued.token,
        salt: &issued.salt,
        service: target.service.as_deref(),
        renew,
        method: target.post.then_some("POST"),
        username,
        error,
        remember_me: app.config.sessions.remember_me,
        captcha,
        sms_login: app.config.first_login.sms_login,
        qr_login: app.config.qr_login,
        others: other_logins(app, req, target),
        mode,
    };
    // A login for a service ends in a redirect to it.
    let csp = Csp::default()
        .script(&crate::pages::salt_script(&issued.salt))
        .forms_leave(target.service.is_some());
    let res = app.page(req, status, chrome.login(&form)).csp(&csp);
    match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    }
}

/// Whether the auto-submitting POST form was asked for; any other `method` value (`HEADER`,
/// markup) means the ordinary redirect.
fn wants_post(method: Option<&str>) -> bool {
    method.is_some_and(|m| m.eq_ignore_ascii_case("POST"))
}
