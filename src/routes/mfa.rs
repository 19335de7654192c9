//! 二次认证 (`/mfa`): a session that must prove a second factor before its application (the
//! application requires one, or the account always asks) proves it here, once for the
//! session's lifetime, then goes on to the application through `session::deliver`. The ways
//! are the account's: an authenticator's code, a passkey, a code to the bound phone (not
//! after a login by SMS, which is the same phone), a recovery code. Every guess counts
//! against the account's one budget of second-factor failures and is audited
//! (docs/security.md M03, P03). An account with no second factor at all enrols one here
//! (an authenticator, a passkey) and gets its recovery codes. Nothing here issues a ticket:
//! `deliver` does, and `Cas::issue_service_ticket` refuses one without the factor.

use super::error::{Failure, Handled};
use super::session::{deliver, service_param, Target};
use super::App;
use crate::accounts::{Asked, Factors, Guess};
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Csp, Request, Response};
use crate::model::{Account, Factor, Status};
use crate::otp::{Delivery, Notice, Purpose, Recipient, Sent};
use crate::pages::{EnrolView, Return, StepUpView};
use crate::sessions::LiveSession;
use crate::store::{CodeCheck, Store};
use hyper::StatusCode;
use std::sync::Arc;

/// Seconds an authenticator secret waits for its first code.
const ENROL_TTL: i64 = 900;

/// Secrets being enrolled at most.
const ENROL_CAPACITY: usize = 50_000;

/// The room's state: authenticator secrets shown to accounts with no second factor, by
/// session hash, until their first code confirms them.
pub(super) struct State {
    enrolling: Ephemeral<String>,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            enrolling: Ephemeral::new(store, "mfa_enrol", ENROL_CAPACITY),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.enrolling.sweep(now);
    }
}

/// The session being asked, its account, and the application it is for (or the page of
/// 账号管理 that asked: `factors`, `passkeys`).
struct Asking {
    session: Arc<LiveSession>,
    account: Arc<Account>,
    target: Target,
    next: Option<&'static str>,
}

/// What one POST ended with, for the page that comes back.
#[derive(Default)]
struct Shown {
    error: Option<String>,
    code_sent: bool,
}

/// The browser's session and its account, or where it goes instead (the login page, which
/// comes back here through `deliver`, or the refusal of an unregistered service).
async fn asking(app: &App, req: &Request) -> Result<Result<Asking, Response>, Failure> {
    let service = match service_param(app, req) {
        Ok(service) => service,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let params = match req.method == hyper::Method::POST {
        true => &req.form,
        false => &req.query,
    };
    let target = Target {
        service,
        post: params
            .get("method")
            .is_some_and(|m| m.eq_ignore_ascii_case("POST")),
    };
    let next = match params.get("next") {
        Some("factors") => Some("factors"),
        Some("passkeys") => Some("passkeys"),
        _ => None,
    };
    let login = Response::see_other(&format!("{}/login{}", req.prefix, target.query()));
    let Some(tgc) = req.cookie(Cookie::Tgc) else {
        return Ok(Err(login));
    };
    let Some(session) = app.sessions.find(tgc).await? else {
        return Ok(Err(login));
    };
    let found = app
        .sessions
        .with_account(&session.id_hash, &session.account_id)
        .await?;
    match found {
        Some((_, account)) if account.status == Status::Active => Ok(Ok(Asking {
            session,
            account,
            target,
            next,
        })),
        _ => Ok(Err(login)),
    }
}

/// Where this browser's passkey ceremonies of the step-up are kept: by its flow cookie's hash.
fn ceremony_key(kind: &str, flow: &str) -> String {
    format!("step-up {kind}:{}", crate::tickets::hash_id(flow))
}

/// The pages' forms end in a redirect to the application: CSP's `form-action` must let them
/// leave (browsers apply it to the redirect too).
fn forms_leave(a: &Asking) -> Csp {
    Csp::default().forms_leave(a.target.service.is_some())
}

/// Whether the session still has to prove a second factor for its target (账号管理's pages
/// need one whenever the account holds any).
async fn still_needed(app: &App, a: &Asking) -> Result<bool, Failure> {
    if a.next.is_some() {
        return Ok(!app.cas.is_multi_factor(&a.session));
    }
    let service = a
        .target
        .service
        .as_deref()
        .and_then(|s| app.cas.registered(s));
    Ok(app
        .cas
        .needs_second_factor(service.as_ref(), &a.session)
        .await?)
}

/// `GET /mfa?service=…`: the ways this account can prove a second factor.
pub(super) async fn mfa_get(app: &App, req: &Request) -> Handled {
    let a = match asking(app, req).await? {
        Ok(a) => a,
        Err(elsewhere) => return Ok(elsewhere),
    };
    if !still_needed(app, &a).await? {
        return continue_to(app, req, &a.session, &a).await;
    }
    page(app, req, &a, Shown::default(), StatusCode::OK).await
}

async fn page(app: &App, req: &Request, a: &Asking, shown: Shown, status: StatusCode) -> Handled {
    let factors = app.accounts.factors(&a.account).await?;
    if !factors.any() {
        return enrol_page(app, req, a, shown.error.as_deref(), status).await;
    }
    let phone = sms_phone(a, &factors);
    let (flow, new_flow) = super::flow(req);
    let now = app.clock.now();
    let token = || app.forms.issue(&flow, now).token;
    let chrome = app.chrome(req);
    let t = chrome.t();
    let registered = a
        .target
        .service
        .as_deref()
        .and_then(|s| app.cas.registered(s));
    if !factors.beyond_phone() && factors.held.recovery_left == 0 && phone.is_none() {
        // Only the phone, and the login was a code to it: the password must come first.
        let renew = format!("{}/login{}", req.prefix, renew_query(&a.target));
        let page = chrome.message(t.mfa_title, t.mfa_renew, &[(t.mfa_login_password, renew)]);
        return Ok(app.page(StatusCode::OK, page));
    }
    let pending = match phone {
        Some(_) => {
            app.codes
                .pending(&a.account.id, Purpose::SecondFactor, "phone")
                .await?
        }
        None => None,
    };
    let wait = match &pending {
        Some((_, at)) => (app.config.sms.resend_after - (now - at)).max(0),
        None => 0,
    };
    let view = StepUpView {
        back: Return {
            service: a.target.service.as_deref(),
            post: a.target.post,
            next: a.next,
        },
        app_title: registered.as_ref().map(|s| s.title()),
        tokens: [token(), token(), token(), token()],
        totp: factors.totp,
        passkey: match factors.held.passkeys > 0 && app.passkeys.available() {
            true => {
                let key = ceremony_key("get", &flow);
                app.passkeys
                    .begin_authentication(&key, &a.account.id)
                    .await?
            }
            false => None,
        },
        phone: phone.map(|p| p.masked()),
        code_sent: shown.code_sent || pending.is_some(),
        wait,
        recovery: factors.held.recovery_left > 0,
        error: shown.error.as_deref(),
    };
    let res = app.page(status, chrome.step_up(&view)).csp(&forms_leave(a));
    Ok(match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    })
}

/// The bound phone, when a code to it is a second factor for this session (not after a
/// login by a code to that same phone).
fn sms_phone(a: &Asking, factors: &Factors) -> Option<crate::model::Phone> {
    factors
        .phone
        .clone()
        .filter(|_| a.session.proof.first != Factor::Sms)
}

/// `?renew=true&service=…`: the login page asking for the password again.
fn renew_query(target: &Target) -> String {
    match target.query().strip_prefix('?') {
        Some(rest) => format!("?renew=true&{rest}"),
        None => "?renew=true".into(),
    }
}

/// No second factor at all: enrol one (the authenticator's secret is kept for this session
/// until its first code confirms it).
async fn enrol_page(
    app: &App,
    req: &Request,
    a: &Asking,
    error: Option<&str>,
    status: StatusCode,
) -> Handled {
    let now = app.clock.now();
    let key = a.session.id_hash.clone();
    let secret = match app.mfa.enrolling.get(&key, now).await? {
        Some(secret) => secret,
        None => {
            let secret = crate::totp::new_secret();
            app.mfa
                .enrolling
                .insert(key, secret.clone(), now + ENROL_TTL, now)
                .await?;
            secret
        }
    };
    let uri = crate::totp::uri(&app.config.school_name_en, &a.account.id, &secret);
    let png = crate::pages::qr_png(&uri).ok_or_else(|| Failure::internal("QR code"))?;
    let (flow, new_flow) = super::flow(req);
    let token = || app.forms.issue(&flow, now).token;
    let registered = a
        .target
        .service
        .as_deref()
        .and_then(|s| app.cas.registered(s));
    let view = EnrolView {
        back: Return {
            service: a.target.service.as_deref(),
            post: a.target.post,
            next: a.next,
        },
        app_title: registered.as_ref().map(|s| s.title()),
        tokens: [token(), token()],
        secret: &secret,
        qr_png: &png,
        uri: &uri,
        passkey: match app.passkeys.available() {
            true => {
                let key = ceremony_key("create", &flow);
                Some(app.passkeys.begin_registration(&key, &a.account).await?)
            }
            false => None,
        },
        error,
    };
    let chrome = app.chrome(req);
    let res = app
        .page(status, chrome.enrol_factor(&view))
        .csp(&forms_leave(a));
    Ok(match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    })
}

/// `POST /mfa`: `action=totp|sms|recovery` with `code`, `action=send` (a code to the bound
/// phone), or `action=enrol` with the new authenticator's first code.
pub(super) async fn mfa_post(app: &App, req: &Request) -> Handled {
    let a = match asking(app, req).await? {
        Ok(a) => a,
        Err(elsewhere) => return Ok(elsewhere),
    };
    if app
        .redeem(req, req.form.get("execution").unwrap_or(""))
        .await?
        .is_none()
    {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    if !still_needed(app, &a).await? {
        return continue_to(app, req, &a.session, &a).await;
    }
    let t = app.chrome(req).t();
    let code = req.form.get("code").unwrap_or("").trim();
    let factors = app.accounts.factors(&a.account).await?;
    let phone = sms_phone(&a, &factors).map(Recipient::Phone);
    let factor = match (req.form.get("action"), &phone) {
        (Some("send"), Some(to)) => {
            let sent = app
                .codes
                .send(
                    Purpose::SecondFactor,
                    &a.account.id,
                    to,
                    &app.client(req),
                    Delivery::Wait,
                    false,
                )
                .await?;
            let shown = Shown {
                error: (!matches!(sent, Sent::Sent { .. })).then(|| t.sms_limited.to_string()),
                code_sent: true,
            };
            return page(app, req, &a, shown, StatusCode::OK).await;
        }
        (Some("enrol"), _) if !factors.any() => return enrol(app, req, &a, code).await,
        (Some("passkey-enrol"), _) if !factors.any() => return enrol_passkey(app, req, &a).await,
        (Some("passkey"), _) if factors.held.passkeys > 0 => Factor::WebAuthn,
        (Some("sms"), Some(_)) => Factor::Sms,
        (Some("totp"), _) if factors.totp => Factor::Totp,
        (Some("recovery"), _) if factors.held.recovery_left > 0 => Factor::Recovery,
        // A way this account does not have here: nothing to guess at.
        _ => return Err(Failure::Refused(StatusCode::BAD_REQUEST)),
    };
    let client = app.client(req);
    let locked_text = locked_text(app, t);
    if app.accounts.begin_second_factor(&a.account.id).await? == Guess::Refused {
        let shown = Shown {
            error: Some(locked_text),
            ..Shown::default()
        };
        return page(app, req, &a, shown, StatusCode::LOCKED).await;
    }
    let checked = match (factor, &phone) {
        (Factor::Sms, Some(to)) => app
            .codes
            .check(Purpose::SecondFactor, &a.account.id, to, code, &client)
            .await
            .map(|c| c == CodeCheck::Valid)
            .map_err(Failure::from),
        (Factor::WebAuthn, _) => {
            // The token was redeemed: the flow cookie is there.
            let key = ceremony_key("get", req.cookie(Cookie::Flow).unwrap_or(""));
            let answer = req.form.get("credential").unwrap_or("");
            app.passkeys
                .finish_authentication(&key, &a.account.id, answer)
                .await
                .map_err(Failure::from)
        }
        (Factor::Recovery, _) => app
            .accounts
            .spend_recovery_code(&a.account.id, code)
            .await
            .map_err(Failure::from),
        _ => app
            .accounts
            .totp_step(&a.account.id, code)
            .await
            .map_err(Failure::from),
    };
    // Counted whatever happened, so an error cannot be retried for free.
    let right = checked.unwrap_or(false);
    let locked = app
        .accounts
        .end_second_factor(
            &a.account.id,
            factor.as_str(),
            right,
            Asked::Application,
            &client,
        )
        .await?;
    if locked {
        app.codes
            .notify_holder(&a.account, Notice::SecondFactorLocked, &client)
            .await;
    }
    if !right {
        let (error, status) = match locked {
            true => (locked_text, StatusCode::LOCKED),
            false if factor == Factor::Totp && totp_was_used(app, &a, code).await? => {
                (t.mfa_code_used.to_string(), StatusCode::UNAUTHORIZED)
            }
            false => (t.mfa_wrong.to_string(), StatusCode::UNAUTHORIZED),
        };
        let shown = Shown {
            error: Some(error),
            code_sent: factor == Factor::Sms,
        };
        return page(app, req, &a, shown, status).await;
    }
    proved(app, req, &a, factor).await
}

/// The lock's sentence: how long, that the password is fine, where help is.
fn locked_text(app: &App, t: &crate::pages::Text) -> String {
    let minutes = (app.config.throttle.lock_duration + 59) / 60;
    t.mfa_locked.replace("{n}", &minutes.to_string())
}

/// Whether a refused authenticator code is the right one, already used (a second browser
/// right after the first, `renew=true`): the person is told to wait for the next one.
async fn totp_was_used(app: &App, a: &Asking, code: &str) -> Result<bool, Failure> {
    let secret = app.accounts.binding(&a.account.id, "totp").await?;
    let now = app.clock.now();
    Ok(secret.is_some_and(|s| crate::totp::verify(&s, code, now).is_some()))
}

/// On to the application (or back to the page of 账号管理 that asked).
async fn continue_to(app: &App, req: &Request, session: &Arc<LiveSession>, a: &Asking) -> Handled {
    match a.next {
        Some(next) => {
            super::portal::identity_proved(app, &session.id_hash).await?;
            Ok(Response::see_other(&format!(
                "{}/account/{next}",
                req.prefix
            )))
        }
        None => deliver(app, req, session, &a.target, false, false).await,
    }
}

/// `?service=…` (and `next=…`) to come back here.
fn back_query(a: &Asking) -> String {
    let query = a.target.query();
    match (a.next, query.is_empty()) {
        (Some(next), true) => format!("?next={next}"),
        (Some(next), false) => format!("{query}&next={next}"),
        (None, _) => query,
    }
}

/// The session proved `factor`: it keeps it, and goes on to its application.
async fn proved(app: &App, req: &Request, a: &Asking, factor: Factor) -> Handled {
    match app.sessions.prove_second_factor(&a.session, factor).await? {
        Some(session) => continue_to(app, req, &session, a).await,
        // Ended meanwhile (a logout, a lock): log in again.
        None => Ok(Response::see_other(&format!(
            "{}/login{}",
            req.prefix,
            a.target.query()
        ))),
    }
}

/// An account without any second factor registers a passkey: it is its factor now (the
/// registration proved the key is at hand), the session has proved it, and the recovery codes
/// are shown once before the application.
async fn enrol_passkey(app: &App, req: &Request, a: &Asking) -> Handled {
    let t = app.chrome(req).t();
    let answer = req.form.get("credential").unwrap_or("");
    if answer.is_empty() {
        // Posted without the ceremony: no JavaScript, or no WebAuthn.
        let error = Some(t.passkey_needs_js);
        return enrol_page(app, req, a, error, StatusCode::BAD_REQUEST).await;
    }
    let key = ceremony_key("create", req.cookie(Cookie::Flow).unwrap_or(""));
    let name = req.form.get("name").unwrap_or(t.mfa_passkey_default_name);
    let client = app.client(req);
    let finished = app
        .passkeys
        .finish_first_registration(&key, &a.account.id, name, answer, &client)
        .await?;
    match finished {
        Ok(()) => enrolled(app, req, a, Factor::WebAuthn).await,
        // Another enrolment of this account came first: its factor is the one to pass.
        Err(crate::passkeys::Refusal::FactorExists) => {
            page(app, req, a, Shown::default(), StatusCode::CONFLICT).await
        }
        Err(_) => {
            let error = Some(t.passkey_failed);
            enrol_page(app, req, a, error, StatusCode::BAD_REQUEST).await
        }
    }
}

/// A factor just enrolled by an account that had none: the session has proved it, and the
/// recovery codes are shown once before the application.
async fn enrolled(app: &App, req: &Request, a: &Asking, factor: Factor) -> Handled {
    let client = app.client(req);
    let codes = app
        .accounts
        .new_recovery_codes(&a.account.id, &client)
        .await?;
    if app
        .sessions
        .prove_second_factor(&a.session, factor)
        .await?
        .is_none()
    {
        return Ok(Response::see_other(&format!("{}/login", req.prefix)));
    }
    let next = format!("{}/mfa{}", req.prefix, back_query(a));
    let chrome = app.chrome(req);
    Ok(app.page(StatusCode::OK, chrome.recovery_codes(&codes, &next)))
}

/// An account without any second factor confirms the authenticator it just scanned: it is
/// enrolled, the session has proved it, and the recovery codes are shown once before the
/// application.
async fn enrol(app: &App, req: &Request, a: &Asking, code: &str) -> Handled {
    let t = app.chrome(req).t();
    let now = app.clock.now();
    let client = app.client(req);
    let key = a.session.id_hash.clone();
    let pending = app.mfa.enrolling.get(&key, now).await?;
    if app.accounts.begin_second_factor(&a.account.id).await? == Guess::Refused {
        let error = locked_text(app, t);
        return enrol_page(app, req, a, Some(&error), StatusCode::LOCKED).await;
    }
    let step = pending
        .as_deref()
        .and_then(|secret| crate::totp::verify(secret, code, now));
    let locked = app
        .accounts
        .end_second_factor(
            &a.account.id,
            "totp enrolment",
            step.is_some(),
            Asked::Application,
            &client,
        )
        .await?;
    let (Some(step), Some(secret)) = (step, pending) else {
        let error = match locked {
            true => locked_text(app, t),
            false => t.mfa_wrong_totp.to_string(),
        };
        return enrol_page(app, req, a, Some(&error), StatusCode::UNAUTHORIZED).await;
    };
    // Of two submits of the same code only one enrols.
    if app.mfa.enrolling.take(&key).await?.is_none() {
        return Err(Failure::Refused(StatusCode::CONFLICT));
    }
    app.accounts.spend_totp_step(&a.account.id, step).await?;
    if !app
        .accounts
        .enrol_first_totp(&a.account.id, secret, &client)
        .await?
    {
        // Another enrolment of this account came first: its factor is the one to pass.
        return page(app, req, a, Shown::default(), StatusCode::CONFLICT).await;
    }
    app.codes
        .notify_holder(&a.account, Notice::FactorAdded, &client)
        .await;
    enrolled(app, req, a, Factor::Totp).await
}
