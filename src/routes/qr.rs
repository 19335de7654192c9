//! QR-code login (扫码登录), with the campus product's paths so its pages and scripts work:
//!
//! - the computer's login page (`cllt=qrLogin` or `display=qrLogin`, or `qrCode/getToken`)
//!   makes a login request bound to that browser's flow cookie, valid two minutes, and shows
//!   its QR code (`qrCode/getCode?uuid=`), which encodes the phone's page;
//! - the phone opens `qrCode/qrCodeLogin.do?uuid=`: with an SSO session (or after logging in
//!   there) it shows who is asking (time, address, browser) and confirms or cancels;
//! - the computer polls `qrCode/getStatus.htl` (`0` waiting, `2` scanned, `1` confirmed, `3`
//!   expired or cancelled) and then posts the login form with `cllt=qrLogin` and the `uuid`,
//!   which gives it its own SSO session and on to the service.
//!
//! The request is single use and only the browser that made it can use it: the QR code (or
//! its uuid) alone yields nothing, and nothing happens without a confirmation on a phone.

use super::error::{Failure, Handled};
use super::session::Target;
use super::App;
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Request, Response};
use crate::model::{AuditEvent, Client, Factor};
use crate::pages::{qr_png, QrConfirmView, QrPhoneLogin};
use crate::store::Store;
use crate::tickets::{self, Kind};
use hyper::StatusCode;

/// Seconds a QR code is valid.
pub(super) const QR_TTL: i64 = 120;
/// Login requests held at most in memory.
const QR_CAPACITY: usize = 10_000;

/// A login request a QR code stands for.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct QrRequest {
    /// Hash of the flow cookie of the browser that asked: only it may use the request.
    flow: String,
    pub(super) target: Target,
    /// The computer asking: when, from where, with what.
    requested_at: i64,
    client: Client,
    pub(super) state: QrState,
    expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum QrState {
    Waiting,
    Scanned,
    /// Confirmed on a phone logged in as this account, at this generation of it (a lock, a
    /// reset or a logout after the confirmation voids it).
    Confirmed {
        account: String,
        generation: i64,
    },
    Cancelled,
}

/// The QR room's state: login requests (by hash of their uuid).
pub(super) struct State {
    pub(super) requests: Ephemeral<QrRequest>,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            requests: Ephemeral::new(store, "qr", QR_CAPACITY),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.requests.sweep(now);
    }
}

/// A new login request for the browser with flow id `flow`; its uuid.
pub(super) async fn new_qr_request(
    app: &App,
    req: &Request,
    flow: &str,
    target: &Target,
) -> Result<String, Failure> {
    if !app.anonymous_allowed(req, "qr") {
        return Err(Failure::Refused(StatusCode::TOO_MANY_REQUESTS));
    }
    let uuid = tickets::new_id(Kind::QrLogin);
    let now = app.clock.now();
    let request = QrRequest {
        flow: tickets::hash_id(flow),
        target: target.clone(),
        requested_at: now,
        client: app.client(req),
        state: QrState::Waiting,
        expires_at: now + QR_TTL,
    };
    app.qr
        .requests
        .insert(tickets::hash_id(&uuid), request, now + QR_TTL, now)
        .await?;
    Ok(uuid)
}

pub(super) async fn qr_request(
    app: &App,
    uuid: &str,
) -> Result<Option<(String, QrRequest)>, Failure> {
    if !tickets::well_formed(uuid, Kind::QrLogin) {
        return Ok(None);
    }
    let key = tickets::hash_id(uuid);
    let request = app.qr.requests.get(&key, app.clock.now()).await?;
    Ok(request.map(|r| (key, r)))
}

async fn keep_qr(app: &App, key: &str, request: &QrRequest) -> Result<(), Failure> {
    let now = app.clock.now();
    app.qr
        .requests
        .insert(key.to_string(), request.clone(), request.expires_at, now)
        .await?;
    Ok(())
}

/// Whether this browser made the request.
pub(super) fn made_here(req: &Request, request: &QrRequest) -> bool {
    req.cookie(Cookie::Flow)
        .is_some_and(|f| tickets::hash_id(f) == request.flow)
}

/// `GET qrCode/getToken`: a new request for this browser, its uuid as plain text.
pub(super) async fn qr_token(app: &App, req: &Request) -> Handled {
    let (flow, new_flow) = super::flow(req);
    let target = Target {
        service: super::session::service_param(app, req).ok().flatten(),
        post: false,
    };
    let uuid = new_qr_request(app, req, &flow, &target).await?;
    let res =
        Response::plain(StatusCode::OK, &uuid).header(hyper::header::CACHE_CONTROL, "no-store");
    Ok(match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    })
}

/// `GET qrCode/getCode?uuid=`: the QR code (PNG) of the phone's page for a waiting
/// request.
pub(super) async fn qr_image(app: &App, req: &Request) -> Handled {
    let uuid = req.query.get("uuid").unwrap_or("");
    let Some((_, request)) = qr_request(app, uuid).await? else {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    };
    if request.state != QrState::Waiting {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    }
    let origin = app
        .config
        .public_url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let page = format!("{origin}{}/qrCode/qrCodeLogin.do?uuid={uuid}", req.prefix);
    let png = qr_png(&page).ok_or(Failure::Refused(StatusCode::INTERNAL_SERVER_ERROR))?;
    Ok(Response::new(StatusCode::OK, "image/png", png)
        .header(hyper::header::CACHE_CONTROL, "no-store"))
}

/// `GET qrCode/getStatus.htl?uuid=`: `0` waiting, `2` scanned, `1` confirmed, `3`
/// expired, cancelled or not this browser's.
pub(super) async fn qr_status(app: &App, req: &Request) -> Handled {
    let uuid = req.query.get("uuid").unwrap_or("");
    let status = match qr_request(app, uuid).await? {
        Some((_, r)) if made_here(req, &r) => match r.state {
            QrState::Waiting => "0",
            QrState::Scanned => "2",
            QrState::Confirmed { .. } => "1",
            QrState::Cancelled => "3",
        },
        _ => "3",
    };
    Ok(Response::plain(StatusCode::OK, status).header(hyper::header::CACHE_CONTROL, "no-store"))
}

/// `GET qrCode/qrCodeLogin.do?uuid=` (the phone, after scanning): the confirmation, or
/// first a login on the phone.
pub(super) async fn qr_scan(app: &App, req: &Request) -> Handled {
    let uuid = req.query.get("uuid").unwrap_or("").to_string();
    scan_page(app, req, &uuid, None, StatusCode::OK).await
}

async fn scan_page(
    app: &App,
    req: &Request,
    uuid: &str,
    error: Option<String>,
    status: StatusCode,
) -> Handled {
    let chrome = app.chrome(req);
    let t = chrome.t();
    let Some((key, mut request)) = qr_request(app, uuid).await? else {
        let page = chrome.message(t.qr_confirm_title, t.qr_invalid, &[]);
        return Ok(app.page(StatusCode::NOT_FOUND, page));
    };
    let (flow, new_flow) = super::flow(req);
    let token = app.forms.issue(&flow, app.clock.now()).token;
    let holder = match req.cookie(Cookie::Tgc) {
        Some(tgc) => app.sessions.find(tgc).await?,
        None => None,
    };
    let page = match holder {
        Some(session) => {
            if request.state == QrState::Waiting {
                request.state = QrState::Scanned;
                keep_qr(app, &key, &request).await?;
            }
            let application = request
                .target
                .service
                .as_deref()
                .and_then(|s| app.cas.registered(s));
            let view = QrConfirmView {
                token,
                uuid,
                account: &session.account_id,
                requested_at: crate::clock::local_time(
                    request.requested_at,
                    app.config.utc_offset_minutes,
                ),
                address: &request.client.ip,
                browser: crate::pages::browser(&request.client.user_agent),
                app: application.as_ref().map(|s| s.title()),
            };
            chrome.qr_confirm(&view)
        }
        None => {
            // Inside WeCom or WeChat the phone is identified without a password.
            if req.method == hyper::Method::GET {
                if let Some(to_provider) = super::social::scan_in_app(app, req, uuid).await {
                    return to_provider;
                }
            }
            // The name comes back in the address from "看不清，换一张" (as on the login page).
            let username = match req.method == hyper::Method::GET {
                true => req.query.get("username"),
                false => req.form.get("username"),
            };
            let username = username.unwrap_or("");
            let captcha = !username.is_empty()
                && app.accounts.needs_captcha(username, &app.client(req)).await;
            let view = QrPhoneLogin {
                token,
                uuid,
                username,
                captcha,
                error,
            };
            chrome.qr_phone_login(&view)
        }
    };
    let res = app.page(status, page);
    Ok(match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    })
}

/// `POST qrCode/qrCodeLogin.do` (the phone): `action=login` with `username` and
/// `password`; `action=confirm` or `action=cancel`.
pub(super) async fn qr_scan_post(app: &App, req: &Request) -> Handled {
    let f = &req.form;
    let uuid = f.get("uuid").unwrap_or("").to_string();
    let chrome = app.chrome(req);
    let t = chrome.t();
    let token = f.get("execution").unwrap_or("");
    if app.redeem(req, token).await?.is_none() {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let Some((key, mut request)) = qr_request(app, &uuid).await? else {
        let page = chrome.message(t.qr_confirm_title, t.qr_invalid, &[]);
        return Ok(app.page(StatusCode::NOT_FOUND, page));
    };
    let client = app.client(req);
    if f.get("action") == Some("login") {
        return qr_phone_login(app, req, &uuid).await;
    }
    let session = match req.cookie(Cookie::Tgc) {
        Some(tgc) => app.sessions.find(tgc).await?,
        None => None,
    };
    let Some(session) = session else {
        return scan_page(app, req, &uuid, None, StatusCode::UNAUTHORIZED).await;
    };
    if matches!(
        request.state,
        QrState::Confirmed { .. } | QrState::Cancelled
    ) {
        let page = chrome.message(t.qr_confirm_title, t.qr_invalid, &[]);
        return Ok(app.page(StatusCode::CONFLICT, page));
    }
    let (state, message, event) = match f.get("action") {
        Some("confirm") => (
            QrState::Confirmed {
                account: session.account_id.clone(),
                generation: super::first_login::account(app, &session.account_id)
                    .await?
                    .generation,
            },
            t.qr_confirmed_done,
            AuditEvent::QrConfirmed {
                computer: request.client.ip.clone(),
            },
        ),
        _ => (
            QrState::Cancelled,
            t.qr_cancelled_done,
            AuditEvent::QrCancelled,
        ),
    };
    request.state = state;
    keep_qr(app, &key, &request).await?;
    app.accounts
        .record(&client, event, Some(&session.account_id))
        .await?;
    let page = chrome.message(t.qr_confirm_title, message, &[]);
    Ok(app.page(StatusCode::OK, page))
}

/// The phone logs in (throttled like any password login) to confirm; an account that
/// must first take its first-login steps is sent to the login page for them.
async fn qr_phone_login(app: &App, req: &Request, uuid: &str) -> Handled {
    let f = &req.form;
    let t = app.chrome(req).t();
    let client = app.client(req);
    let username = f.get("username").unwrap_or("");
    let answer = f.get("captcha").unwrap_or("");
    if app.accounts.needs_captcha(username, &client).await
        && !super::captcha::solve_captcha(app, req, answer).await?
    {
        app.accounts.captcha_refused(username, &client).await?;
        let error = Some(super::captcha::refusal(t, answer).to_string());
        return scan_page(app, req, uuid, error, StatusCode::UNAUTHORIZED).await;
    }
    let password = f.get("password").unwrap_or("").to_string();
    let account = match app
        .accounts
        .password_login(username, password, &client)
        .await?
    {
        crate::accounts::Login::Success { account, weak } => {
            if super::first_login::needs_first_login(app, &account, weak).await? {
                let chrome = app.chrome(req);
                let link = [(t.back_to_login, format!("{}/login", req.prefix))];
                let page = chrome.message(t.qr_confirm_title, t.first_login_needed, &link);
                return Ok(app.page(StatusCode::OK, page));
            }
            account
        }
        crate::accounts::Login::Invalid => {
            let error = Some(t.bad_credentials.to_string());
            return scan_page(app, req, uuid, error, StatusCode::UNAUTHORIZED).await;
        }
        crate::accounts::Login::Throttled => {
            let error = Some(t.login_locked.to_string());
            return scan_page(app, req, uuid, error, StatusCode::LOCKED).await;
        }
    };
    let (tgc, _) =
        super::session::start_session(app, req, &account, Factor::Password, false).await?;
    let back = Response::see_other(&format!("{}/qrCode/qrCodeLogin.do?uuid={uuid}", req.prefix));
    Ok(super::session::with_session_cookie(
        app, req, back, &tgc, false,
    ))
}
