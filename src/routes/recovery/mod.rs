//! Forgot password (`/forgot`): the account and an image captcha; a code to the bound phone
//! or e-mail (typed in full), or the security questions; the new password; "密码找回成功".
//!
//! Nothing here tells whether an account exists or what it has bound. Every name gets a
//! recovery: a real account offers the methods it has, a name that is not an account (or a
//! disabled or locked one) offers a set derived from the name with the installation's key,
//! so it looks like some account's and stays the same when asked again, and can never be
//! completed. A code is sent only when the number or address typed is the one bound, yet
//! the answer, its countdown and its timing are the same either way (delivery happens after
//! the answer). A recovery lives 15 minutes in memory under its own cookie, is spent by the
//! new password, and ends every SSO session of the account (single logout follows).

pub(super) mod password;
pub(super) mod verify;

use super::error::{Failure, Handled};
use super::first_login::policy_message;
use super::portal::send_refusal;
use super::session::Target;
use super::App;
use crate::accounts::{question_text, PasswordChange, QUESTIONS};
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Request, Response};
use crate::model::audit::Actor;
use crate::model::{canonical_id, AuditEvent, Email, Phone, Status};
use crate::otp::{Delivery, Notice, Purpose, Recipient, Sent};
use crate::pages::{Lang, Methods, RecoveryStep, RecoveryView};
use crate::store::CodeCheck;
use crate::store::Store;
use crate::tickets::{self, Kind};
use hyper::StatusCode;
use password::password_step;
use verify::verify_step;

/// Recoveries held at most in memory (each a few hundred bytes).
const RECOVERY_CAPACITY: usize = 50_000;

/// A recovery in progress.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Recovery {
    /// The canonical name typed (what codes and throttling are kept under).
    name: String,
    /// The account, when the name is one that may recover.
    account: Option<String>,
    token: String,
    target: Target,
    phone: bool,
    email: bool,
    /// Question keys, in order.
    questions: Vec<String>,
    /// Passed step 2: may set the password.
    verified: bool,
    wrong_answers: i64,
    /// The 15 minutes run from the first step, not from the last.
    expires_at: i64,
    /// The account's generation at the first step: a lock, a password set elsewhere or a
    /// logout since ends the recovery.
    generation: i64,
    /// The number or address the last code of this recovery went to (or seemed to): the
    /// code is checked against it and the page names it, whatever the field says by then.
    #[serde(default)]
    sent_to: Option<String>,
    /// The hash of the browser's flow cookie at the first step: the recovery cookie alone
    /// (planted by a sibling site, or copied) is no recovery (docs/security.md H03).
    #[serde(default)]
    flow: String,
}

/// What step 2 shows besides its form.
#[derive(Default)]
struct Shown {
    error: Option<String>,
    input: String,
    code_sent_to: Option<String>,
    wait: i64,
}

impl Recovery {
    fn offers(&self, method: &str) -> bool {
        match method {
            "phone" => self.phone,
            "email" => self.email,
            "questions" => !self.questions.is_empty(),
            _ => false,
        }
    }

    fn first_method(&self) -> &'static str {
        ["phone", "email", "questions"]
            .into_iter()
            .find(|m| self.offers(m))
            .unwrap_or("phone")
    }
}

/// The recovery room's state: forgot-password recoveries in progress (by hash of their
/// cookie).
pub(super) struct State {
    pub(super) pending: Ephemeral<Recovery>,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            pending: Ephemeral::new(store, "recovery", RECOVERY_CAPACITY),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.pending.sweep(now);
    }
}

/// The recovery a step's form belongs to: its cookie's, with the step's token; an ended one
/// answers with the first step again, a foreign form is refused.
async fn step(app: &App, req: &Request) -> Result<(String, Recovery), Failure> {
    let Some((key, r)) = recovery(app, req).await? else {
        let t = app.chrome(req).t();
        let expired = Some(t.recovery_expired.into());
        return Err(Failure::answer(recovery_start(
            app,
            req,
            "",
            expired,
            StatusCode::FORBIDDEN,
        )));
    };
    if req.form.get("execution") != Some(r.token.as_str()) {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    Ok((key, r))
}

/// The recovery behind this browser's cookie, and its key.
async fn recovery(app: &App, req: &Request) -> Result<Option<(String, Recovery)>, Failure> {
    let Some(cookie) = req.cookie(Cookie::Recovery) else {
        return Ok(None);
    };
    let key = tickets::hash_id(cookie);
    let Some(recovery) = app.recovery.pending.get(&key, app.clock.now()).await? else {
        return Ok(None);
    };
    if req.cookie(Cookie::Flow).map(tickets::hash_id) != Some(recovery.flow.clone()) {
        return Ok(None);
    }
    if let Some(id) = &recovery.account {
        let now = app.accounts.account(id).await?;
        if !now.is_some_and(|a| a.status == Status::Active && a.generation == recovery.generation) {
            app.recovery.pending.take(&key).await?;
            return Ok(None);
        }
    }
    Ok(Some((key, recovery)))
}

async fn keep_recovery(app: &App, key: &str, recovery: &Recovery) -> Result<(), Failure> {
    let now = app.clock.now();
    app.recovery
        .pending
        .insert(key.to_string(), recovery.clone(), recovery.expires_at, now)
        .await?;
    Ok(())
}

fn recovery_page(
    app: &App,
    req: &Request,
    step: RecoveryStep,
    (token, service): (String, Option<&str>),
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let chrome = app.chrome(req);
    let contact = match chrome.lang {
        Lang::Zh => &app.config.recovery.contact,
        Lang::En => &app.config.recovery.contact_en,
    };
    let view = RecoveryView {
        step,
        token,
        error,
        contact,
        service,
    };
    app.page(status, chrome.recovery(&view))
}

/// Step 1, with a fresh token bound to the browser (and the flow cookie if new).
fn recovery_start(
    app: &App,
    req: &Request,
    username: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (flow, new_flow) = super::flow(req);
    let token = app.forms.issue(&flow, app.clock.now()).token;
    // A service given to /forgot is kept for the way back to the login page.
    let service = super::session::service_param(app, req).ok().flatten();
    let step = RecoveryStep::Account {
        username,
        service: service.as_deref(),
    };
    let res = recovery_page(app, req, step, (token, service.as_deref()), error, status);
    match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    }
}

/// `GET /forgot`: the step this browser's recovery is at (`?method=` picks a tab); with
/// `again=1` (the login page's link, "换一个账号") any recovery under way is dropped and
/// step 1 starts afresh.
pub(super) async fn forgot_get(app: &App, req: &Request) -> Handled {
    if req.query.get("again").is_some() {
        if let Some(cookie) = req.cookie(Cookie::Recovery) {
            app.recovery.pending.take(&tickets::hash_id(cookie)).await?;
        }
        let res = recovery_start(app, req, "", None, StatusCode::OK);
        return Ok(app.cookies.clear(res, Cookie::Recovery));
    }
    let Some((_, r)) = recovery(app, req).await? else {
        return Ok(recovery_start(app, req, "", None, StatusCode::OK));
    };
    if r.verified {
        return Ok(password_step(app, req, &r, None, StatusCode::OK));
    }
    let method = req
        .query
        .get("method")
        .filter(|m| r.offers(m))
        .unwrap_or(r.first_method());
    verify_step(app, req, &r, method, Shown::default(), StatusCode::OK).await
}

/// `POST /forgot` (step 1): `username`, `captcha`.
pub(super) async fn forgot_post(app: &App, req: &Request) -> Handled {
    let f = &req.form;
    let typed = f.get("username").unwrap_or("").trim();
    let t = app.chrome(req).t();
    let client = app.client(req);
    let token = f.get("execution").unwrap_or("");
    if app.redeem(req, token).await?.is_none() {
        return Ok(recovery_start(
            app,
            req,
            typed,
            Some(t.form_expired.into()),
            StatusCode::FORBIDDEN,
        ));
    }
    let answer = f.get("captcha").unwrap_or("");
    if !super::captcha::solve_captcha(app, req, answer).await? {
        app.accounts.captcha_refused(typed, &client).await?;
        return Ok(recovery_start(
            app,
            req,
            typed,
            Some(super::captcha::refusal(t, answer).into()),
            StatusCode::UNAUTHORIZED,
        ));
    }
    let name = canonical_id(typed).unwrap_or_else(|| "-invalid-".into());
    let (limit, now) = (app.config.recovery.per_account_day, app.clock.now());
    let budget = format!("recovery:{name}");
    if !app.accounts.spend_daily(budget, limit).await? {
        return Ok(recovery_start(
            app,
            req,
            typed,
            Some(t.recovery_limited.into()),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let mut recovery = methods_of(app, &name).await?;
    recovery.target = Target {
        service: super::session::service_param(app, req).ok().flatten(),
        post: false,
    };
    recovery.expires_at = now + app.config.recovery.ttl;
    recovery.flow = req
        .cookie(Cookie::Flow)
        .map(tickets::hash_id)
        .unwrap_or_default();
    app.accounts
        .record(&client, AuditEvent::RecoveryStarted, Some(&name))
        .await?;
    let cookie = tickets::new_id(Kind::Recovery);
    let key = tickets::hash_id(&cookie);
    app.recovery
        .pending
        .insert(key, recovery.clone(), recovery.expires_at, now)
        .await?;
    let res = Response::see_other(&format!("{}/forgot", req.prefix));
    Ok(app.cookies.set(res, Cookie::Recovery, &cookie, None))
}

/// The recovery for `name`: the methods of the account it names, or for a name that
/// cannot recover, methods derived from it with the key (the same every time).
async fn methods_of(app: &App, name: &str) -> Result<Recovery, Failure> {
    let account = app.accounts.active(name).await?;
    let mut r = Recovery {
        name: name.to_string(),
        account: account.as_ref().map(|a| a.id.clone()),
        token: tickets::new_id(Kind::Recovery),
        target: Target::default(),
        phone: false,
        email: false,
        questions: Vec::new(),
        verified: false,
        wrong_answers: 0,
        expires_at: 0,
        generation: account.as_ref().map_or(0, |a| a.generation),
        sent_to: None,
        flow: String::new(),
    };
    match &account {
        Some(a) => {
            r.phone = a.bound_phone.is_some();
            r.email = a.bound_email.is_some();
            r.questions = app
                .accounts
                .questions_of(&a.id)
                .await?
                .iter()
                .filter_map(|k| {
                    QUESTIONS
                        .iter()
                        .find(|(q, _, _)| q == k)
                        .map(|(q, _, _)| q.to_string())
                })
                .collect();
        }
        None => {
            let seed = app.store.keys().lookup("recovery-decoy", name);
            let (phone, email, questions) = decoy(&seed);
            r.phone = phone;
            r.email = email;
            r.questions = questions.into_iter().map(str::to_owned).collect();
        }
    }
    Ok(r)
}

/// The methods shown for a name that cannot recover, from its keyed hash (hex): the same
/// every time for one name, and drawn so that every combination a real account can have
/// appears, about as often as among real accounts (nearly all have a phone after their first
/// login; some an e-mail address; a few one to three questions, in the order they chose).
fn decoy(seed: &str) -> (bool, bool, Vec<&'static str>) {
    let byte = |i: usize| u8::from_str_radix(&seed[2 * i..2 * i + 2], 16).unwrap_or(0);
    let phone = byte(0) < 217;
    let email = byte(1) < 77;
    let mut questions = Vec::new();
    if byte(2) < 51 {
        // A shuffle of the questions; the first one to three, in the shuffled order.
        let mut all: Vec<&'static str> = QUESTIONS.iter().map(|(q, _, _)| *q).collect();
        for i in (1..all.len()).rev() {
            all.swap(i, byte(4 + i) as usize % (i + 1));
        }
        all.truncate(1 + byte(3) as usize % 3);
        questions = all;
    }
    (phone, email, questions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/security.md M07, issue "Defects found from outside" #9: a name that is no account can
    /// show every combination of methods a real account can have (phone, e-mail, one to
    /// three questions, none), and questions in any order, not only sorted.
    #[test]
    fn invented_names_show_every_combination_real_accounts_have() {
        use sha2::Digest;
        let mut seen = std::collections::HashSet::new();
        let mut unsorted = false;
        for n in 0..4000u32 {
            let seed: String = sha2::Sha256::digest(n.to_be_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let (phone, email, questions) = decoy(&seed);
            unsorted |= questions.windows(2).any(|w| w[0] > w[1]);
            seen.insert((phone, email, questions.len()));
        }
        for phone in [false, true] {
            for email in [false, true] {
                for count in 0..=3 {
                    assert!(
                        seen.contains(&(phone, email, count)),
                        "{phone} {email} {count}"
                    );
                }
            }
        }
        assert!(unsorted, "questions in a person's own order");
    }
}
