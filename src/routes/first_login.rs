//! The first-login steps (首次登录), between correct credentials and the SSO session: change
//! the password (the roster's initial one, or one that fails today's policy) and bind a
//! mobile phone with an SMS code, then "我已完成". No session or ticket exists until every
//! step the account needs is done; each step's result is in the store at once, so leaving
//! half way and logging in again resumes where it stopped. The paused login lives in memory
//! for 30 minutes, bound to its own cookie, and its forms carry a token of their own.

use super::error::{Failure, Handled};
use super::session::{deliver, start_session, with_session_cookie, Target};
use super::App;
use crate::accounts::{PasswordChange, PolicyError};
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Csp, Request, Response};
use crate::model::audit::Actor;
use crate::model::{Account, AuditEvent, Factor, Phone, Status};
use crate::otp::{Delivery, Purpose, Recipient, SendError, Sent};
use crate::pages::{FirstLoginView, Text};
use crate::store::Store;
use crate::store::{Bound, CodeCheck};
use crate::tickets::{self, Kind};
use hyper::StatusCode;

const PENDING_TTL: i64 = 1800;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PendingLogin {
    account_id: String,
    /// How the login was proved.
    first: Factor,
    target: Target,
    remember: bool,
    /// CSRF token of the steps' forms.
    token: String,
    /// The password just typed fails today's policy: it must change even without the flag.
    weak: bool,
    /// The number being bound (E.164), once a code went to it.
    phone: Option<String>,
    /// The account's generation when the password was typed (or the steps changed it
    /// since): a lock, a reset, a password set elsewhere or a logout moves it on, and the
    /// pause is over.
    generation: i64,
    /// The 30 minutes run from the login, not from the last step.
    expires_at: i64,
}

/// What one step's POST ended with, for the page that comes back.
#[derive(Default)]
struct Shown {
    error: Option<String>,
    phone_input: String,
    wait: i64,
}

/// Paused logins held at most (each a few hundred bytes): bounded whatever the request rate.
const PENDING_CAPACITY: usize = 50_000;

/// The first-login room's state: logins paused at the steps (by hash of their cookie).
pub(super) struct State {
    pub(super) pending: Ephemeral<PendingLogin>,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            pending: Ephemeral::new(store, "first_login", PENDING_CAPACITY),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.pending.sweep(now);
    }
}

/// Whether the account may go straight to a session, or must first take the steps.
pub(super) async fn needs_first_login(
    app: &App,
    account: &Account,
    weak: bool,
) -> Result<bool, Failure> {
    Ok(account.must_change || weak || phone_needed(app, account).await?)
}

/// The phone step: required for roster imports (when configured) and flagged accounts
/// that have no bound phone yet.
async fn phone_needed(app: &App, account: &Account) -> Result<bool, Failure> {
    if !account.phone_required(app.config.first_login.require_phone) {
        return Ok(false);
    }
    Ok(app.accounts.binding(&account.id, "phone").await?.is_none())
}

pub(super) async fn start_first_login(
    app: &App,
    req: &Request,
    account: &Account,
    first: Factor,
    target: &Target,
    remember: bool,
    weak: bool,
) -> Handled {
    let key = tickets::new_id(Kind::PendingLogin);
    let now = app.clock.now();
    let pending = PendingLogin {
        account_id: account.id.clone(),
        first,
        target: target.clone(),
        remember,
        token: tickets::new_id(Kind::PendingLogin),
        weak,
        phone: None,
        generation: account.generation,
        expires_at: now + PENDING_TTL,
    };
    app.first_login
        .pending
        .insert(
            tickets::hash_id(&key),
            pending.clone(),
            pending.expires_at,
            now,
        )
        .await?;
    let res = first_login_page(
        app,
        req,
        &pending,
        account,
        Shown::default(),
        StatusCode::OK,
    )
    .await?;
    Ok(app.cookies.set(res, Cookie::Pending, &key, None))
}

/// The paused login of this browser, its key and its account, if its cookie and form
/// token match and the account is still as it was when the password was typed (active,
/// the same generation): otherwise the pause is over, and nothing of it is left.
async fn pending(
    app: &App,
    req: &Request,
    check_token: bool,
) -> Result<(String, PendingLogin, Account), Failure> {
    let key = req
        .cookie(Cookie::Pending)
        .map(tickets::hash_id)
        .unwrap_or_default();
    let pending = app
        .first_login
        .pending
        .get(&key, app.clock.now())
        .await?
        .ok_or(Failure::Refused(StatusCode::FORBIDDEN))?;
    if check_token && req.form.get("execution") != Some(pending.token.as_str()) {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let account = account(app, &pending.account_id).await?;
    if account.status != Status::Active || account.generation != pending.generation {
        app.first_login.pending.take(&key).await?;
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    Ok((key, pending, account))
}

async fn keep(app: &App, key: &str, pending: &PendingLogin) -> Result<(), Failure> {
    let now = app.clock.now();
    app.first_login
        .pending
        .insert(key.to_string(), pending.clone(), pending.expires_at, now)
        .await?;
    Ok(())
}

/// `GET /login/first`: the steps as they stand.
pub(super) async fn first_login_get(app: &App, req: &Request) -> Handled {
    let (_, pending, account) = pending(app, req, false).await?;
    first_login_page(
        app,
        req,
        &pending,
        &account,
        Shown::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /login/first/password`. The paused login is taken while the change runs, so
/// of concurrent submits only one changes the password; it is put back after.
pub(super) async fn first_login_password(app: &App, req: &Request) -> Handled {
    let (key, mut pending, _) = pending(app, req, true).await?;
    if app.first_login.pending.take(&key).await?.is_none() {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let f = &req.form;
    let change = PasswordChange {
        account_id: &pending.account_id,
        current: Some(f.get("password").unwrap_or("")),
        new: f.get("newPassword").unwrap_or(""),
        repeat: f.get("confirmPassword").unwrap_or(""),
        must_change: false,
        keep_session: None,
        keep_identities: false,
        by: Actor::FirstLogin,
    };
    let t = app.chrome(req).t();
    let changed = app.accounts.change_password(change, &app.client(req)).await;
    match changed? {
        Ok(account) => {
            // This step's own change moved the generation on; what moves it next ends
            // the pause.
            pending.weak = false;
            pending.generation = account.generation;
            keep(app, &key, &pending).await?;
            Ok(see_steps(req))
        }
        Err(refused) => {
            keep(app, &key, &pending).await?;
            let shown = Shown {
                error: Some(policy_message(t, refused).to_string()),
                ..Shown::default()
            };
            first_login_steps(app, req, &pending, shown, StatusCode::BAD_REQUEST).await
        }
    }
}

/// `POST /login/first/phone`: `action=send` sends a code to `phone`; `action=bind`
/// checks `code` and binds the number it went to.
pub(super) async fn first_login_phone(app: &App, req: &Request) -> Handled {
    let (key, mut pending, account) = pending(app, req, true).await?;
    let t = app.chrome(req).t();
    let client = app.client(req);
    if account.must_change || pending.weak {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let typed = req.form.get("phone").unwrap_or("").trim().to_string();
    if req.form.get("action") == Some("bind") {
        // The number the code went to: in this visit, or one before it left half way.
        let earlier = match &pending.phone {
            Some(_) => None,
            None => app
                .codes
                .pending(&account.id, Purpose::Bind, "phone")
                .await?
                .and_then(|(t, _)| t.into_phone()),
        };
        let Some(phone) = pending.phone.as_deref().and_then(Phone::parse).or(earlier) else {
            return step_refused(
                app,
                req,
                &pending,
                t.code_missing.into(),
                typed,
                StatusCode::BAD_REQUEST,
            )
            .await;
        };
        let code = req.form.get("code").unwrap_or("");
        let target = Recipient::Phone(phone.clone());
        match app
            .codes
            .check(Purpose::Bind, &account.id, &target, code, &client)
            .await?
        {
            CodeCheck::Valid => {}
            CodeCheck::Wrong(left) => {
                let error = t.code_wrong.replace("{n}", &left.to_string());
                return step_refused(
                    app,
                    req,
                    &pending,
                    error,
                    phone.national().into(),
                    StatusCode::BAD_REQUEST,
                )
                .await;
            }
            CodeCheck::Missing => {
                return step_refused(
                    app,
                    req,
                    &pending,
                    t.code_missing.into(),
                    phone.national().into(),
                    StatusCode::BAD_REQUEST,
                )
                .await
            }
        }
        // Uniqueness is checked only now that the code proved the number is theirs, so
        // asking for codes tells nobody which numbers are bound (docs/security.md E05).
        let event = AuditEvent::PhoneBound {
            phone: phone.masked(),
        };
        let bound = app
            .accounts
            .bind(&account.id, "phone", phone.e164(), event, &client, false)
            .await?;
        return match bound {
            Bound::Bound => {
                pending.phone = None;
                keep(app, &key, &pending).await?;
                app.sessions.forget_account(&account.id);
                Ok(see_steps(req))
            }
            Bound::Taken => {
                step_refused(
                    app,
                    req,
                    &pending,
                    t.phone_taken.into(),
                    phone.national().into(),
                    StatusCode::CONFLICT,
                )
                .await
            }
        };
    }
    let Some(phone) = Phone::parse(&typed) else {
        return step_refused(
            app,
            req,
            &pending,
            t.phone_invalid.into(),
            typed,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let target = Recipient::Phone(phone.clone());
    let captcha = app.codes.near_cap(&client, &target).await?;
    if captcha {
        let answer = req.form.get("captcha").unwrap_or("");
        if !super::captcha::solve_captcha(app, req, answer).await? {
            let error = super::captcha::refusal(t, answer).into();
            return step_refused(app, req, &pending, error, typed, StatusCode::BAD_REQUEST).await;
        }
    }
    let sent = app
        .codes
        .send(
            Purpose::Bind,
            &account.id,
            &target,
            &client,
            Delivery::Wait,
            captcha,
        )
        .await?;
    let (error, wait) = match sent {
        Sent::Sent { wait } => {
            pending.phone = Some(phone.e164());
            keep(app, &key, &pending).await?;
            (None, wait)
        }
        Sent::TooSoon(wait) => (Some(t.sms_too_soon.replace("{n}", &wait.to_string())), wait),
        Sent::Limited => (Some(t.sms_limited.to_string()), 0),
        Sent::Failed(e) => (Some(sms_message(t, &e).to_string()), 0),
    };
    let status = match error {
        Some(_) => StatusCode::TOO_MANY_REQUESTS,
        None => StatusCode::OK,
    };
    let shown = Shown {
        error,
        phone_input: typed,
        wait,
    };
    first_login_steps(app, req, &pending, shown, status).await
}

/// `POST /login/first/done` ("我已完成"): with every step done, the session and on to
/// the service; otherwise the steps again.
pub(super) async fn first_login_done(app: &App, req: &Request) -> Handled {
    let (key, pending, account) = pending(app, req, true).await?;
    if account.must_change || pending.weak || phone_needed(app, &account).await? {
        let shown = Shown {
            error: Some(app.chrome(req).t().finish_first.into()),
            ..Shown::default()
        };
        return first_login_page(app, req, &pending, &account, shown, StatusCode::BAD_REQUEST)
            .await;
    }
    // Spent here: of two concurrent submits only one gets a session.
    if app.first_login.pending.take(&key).await?.is_none() {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let res = super::first_login::finish_login(
        app,
        req,
        &account,
        pending.first,
        &pending.target,
        pending.remember,
        false,
    )
    .await?;
    Ok(app.cookies.clear(res, Cookie::Pending))
}

/// The steps page for a paused login whose account is read again.
async fn first_login_steps(
    app: &App,
    req: &Request,
    pending: &PendingLogin,
    shown: Shown,
    status: StatusCode,
) -> Handled {
    let account = account(app, &pending.account_id).await?;
    first_login_page(app, req, pending, &account, shown, status).await
}

/// A step refused: the steps page with the reason, and what was typed.
async fn step_refused(
    app: &App,
    req: &Request,
    pending: &PendingLogin,
    error: String,
    phone_input: String,
    status: StatusCode,
) -> Handled {
    let shown = Shown {
        error: Some(error),
        phone_input,
        wait: 0,
    };
    first_login_steps(app, req, pending, shown, status).await
}

/// After a step that worked: the steps page again (a GET, so a reload repeats nothing).
fn see_steps(req: &Request) -> Response {
    Response::see_other(&format!("{}/login/first", req.prefix))
}

pub(super) async fn account(app: &App, id: &str) -> Result<Account, Failure> {
    app.accounts
        .account(id)
        .await?
        .ok_or(Failure::Refused(StatusCode::FORBIDDEN))
}

async fn first_login_page(
    app: &App,
    req: &Request,
    pending: &PendingLogin,
    account: &Account,
    shown: Shown,
    status: StatusCode,
) -> Handled {
    let bound = app.accounts.binding(&account.id, "phone").await?;
    let phone_pending = phone_needed(app, account).await?;
    let client = app.client(req);
    // A code sent in an earlier visit (the user left and came back) still counts.
    let live = app
        .codes
        .pending(&account.id, Purpose::Bind, "phone")
        .await?
        .and_then(|(t, at)| Some((t.into_phone()?, at)));
    let code_sent_to = pending
        .phone
        .as_deref()
        .and_then(Phone::parse)
        .or(live.as_ref().map(|(p, _)| p.clone()));
    let wait = match (shown.wait, &live) {
        (0, Some((_, at))) => (app.config.sms.resend_after - (app.clock.now() - at)).max(0),
        (w, _) => w,
    };
    let typed = match (&shown.phone_input, &code_sent_to) {
        (input, _) if !input.is_empty() => input.clone(),
        (_, Some(p)) => p.national().to_string(),
        _ => String::new(),
    };
    let captcha = match Phone::parse(&typed) {
        _ if !phone_pending => false,
        Some(p) => app.codes.near_cap(&client, &Recipient::Phone(p)).await?,
        None => app.codes.client_near_cap(&client, false).await?,
    };
    // Shown after the login's post too: the switch leads to the steps, not a new login.
    let chrome = app.chrome_at(req, Some("/login/first"));
    let view = FirstLoginView {
        token: &pending.token,
        account_id: &account.id,
        password_pending: account.must_change || pending.weak,
        phone_pending,
        phone_bound: bound.as_deref().and_then(Phone::parse).map(|p| p.masked()),
        phone_input: &typed,
        code_sent_to: code_sent_to.map(|p| p.masked()),
        wait,
        captcha,
        error: shown.error,
        rules: chrome.policy_rules(app.accounts.policy()),
    };
    // "我已完成" ends in a redirect to the service the login was for.
    let csp = Csp::default().forms_leave(pending.target.service.is_some());
    let mut res = app.page(status, chrome.first_login(&view)).csp(&csp);
    if captcha {
        // The captcha image needs the flow cookie to carry its answer.
        let (flow, new_flow) = super::flow(req);
        if new_flow {
            res = app.cookies.set(res, Cookie::Flow, &flow, None);
        }
    }
    Ok(res)
}

/// The sentence for a refused password, in the page's language.
pub(super) fn policy_message(t: &'static Text, e: PolicyError) -> &'static str {
    match e {
        PolicyError::Mismatch => t.password_mismatch,
        PolicyError::WrongCurrent => t.password_wrong_current,
        PolicyError::Throttled => t.throttled,
        PolicyError::Reused => t.password_reused,
        PolicyError::Common => t.password_common,
        PolicyError::ContainsAccount => t.password_contains_account,
        PolicyError::TooShort | PolicyError::TooLong | PolicyError::TooFewClasses => {
            t.password_weak
        }
    }
}

/// The sentence for a gateway that did not send.
pub(super) fn sms_message(t: &'static Text, e: &SendError) -> &'static str {
    match e {
        SendError::RateLimited(_) => t.sms_limited,
        SendError::Misconfigured(_) => t.sms_unavailable,
        SendError::Unavailable(_) => t.sms_failed,
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
    first: Factor,
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
        return super::first_login::start_first_login(
            app, req, account, first, target, remember, weak,
        )
        .await;
    }
    let (tgc, session) = start_session(app, req, account, first, remember).await?;
    let res = deliver(app, req, &session, target, true, false).await?;
    let res = with_session_cookie(app, req, res, &tgc, remember);
    Ok(app.cookies.clear(res, Cookie::Flow))
}
