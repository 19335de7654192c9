//! The portal (`/portal`, 综合服务大厅) where a login without a service lands, and account
//! management (`/account`, 账号管理). Every page needs the SSO session; every form carries a
//! single-use token bound to the browser. Changing the password asks for the current one;
//! binding a phone or e-mail, setting questions and unbinding WeCom/WeChat first ask the
//! person to prove it is still them (the password, or a code to the bound phone), which
//! holds for ten minutes in this session.

pub(super) mod account;
pub(super) mod bindings;
pub(super) mod factors;
pub(super) mod passkeys;
pub(super) mod questions;
pub(super) mod verify;

use super::error::{Failure, Handled};
use super::first_login::{policy_message, sms_message};
use super::App;
use crate::accounts::{PasswordChange, QuestionsError};
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Csp, Request, Response};
use crate::model::audit::{Actor, Method};
use crate::model::{Account, AuditEvent, Email, Phone};
use crate::otp::{Delivery, Notice, Purpose, Recipient, SendError, Sent};
use crate::pages::{
    AccountView, BindView, PasskeyLine, PasskeysView, PortalApp, PortalView, QuestionsView,
    SessionLine, SignIn, Text, VerifyView,
};
use crate::sessions::LiveSession;
use crate::store::Store;
use crate::store::{Bound, CodeCheck};
pub(super) use bindings::send_refusal;
use hyper::StatusCode;
use std::sync::Arc;
use verify::verify_page;

/// Seconds a proof of identity lasts for the changes that need one.
const REAUTH_TTL: i64 = 600;

/// The logged-in person on a portal page.
pub(super) struct Holder {
    session: Arc<LiveSession>,
    account: Arc<Account>,
}

impl Holder {
    pub(super) fn account(&self) -> &Account {
        &self.account
    }

    /// (session id hash, account id).
    pub(super) fn ids(&self) -> (String, String) {
        (self.session.id_hash.clone(), self.account.id.clone())
    }
}

/// What a change page shows besides its form.
#[derive(Default)]
struct Shown {
    error: Option<String>,
    input: String,
    code_sent_to: Option<String>,
    wait: i64,
}

/// Proofs of identity in the portal held at most (a session hash each).
const REAUTH_CAPACITY: usize = 100_000;

/// The portal's state: sessions that proved their holder recently, and authenticator
/// secrets waiting for their first code (both by session hash).
pub(super) struct State {
    pub(super) reauth: Ephemeral<()>,
    enrolling: Ephemeral<String>,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            reauth: Ephemeral::new(store, "reauth", REAUTH_CAPACITY),
            enrolling: Ephemeral::new(store, "totp_enrol", REAUTH_CAPACITY),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.reauth.sweep(now);
        self.enrolling.sweep(now);
    }
}

/// The person behind this browser's SSO session, if any.
pub(super) async fn holder(app: &App, req: &Request) -> Result<Option<Holder>, Failure> {
    let Some(tgc) = req.cookie(Cookie::Tgc) else {
        return Ok(None);
    };
    let Some(session) = app.sessions.find(tgc).await? else {
        return Ok(None);
    };
    // An account that always asks for its second factor is asked before its own pages too:
    // the login page sends such a session on to the step-up.
    if app.cas.needs_second_factor(None, &session).await? {
        return Ok(None);
    }
    let found = app
        .sessions
        .with_account(&session.id_hash, &session.account_id)
        .await?;
    Ok(found.map(|(_, account)| Holder { session, account }))
}

/// Changing an account's second factors needs a session that proved one, once the account
/// holds any (the bound phone included): else the password alone, or the phone alone, could
/// add a factor of its own and pass every application that requires one. `Some`: the step-up
/// first, which comes back to `/account/{next}`.
pub(super) async fn factor_gate(
    app: &App,
    req: &Request,
    h: &Holder,
    next: &str,
) -> Result<Option<Response>, Failure> {
    if app.cas.is_multi_factor(&h.session) || !app.accounts.factors(&h.account).await?.any() {
        return Ok(None);
    }
    Ok(Some(Response::see_other(&format!(
        "{}/mfa?next={next}",
        req.prefix
    ))))
}

/// A second factor the session just passed for 账号管理 is a fresh proof of identity too:
/// the page it comes back to does not ask again.
pub(in crate::routes) async fn identity_proved(
    app: &App,
    session_hash: &str,
) -> Result<(), Failure> {
    let now = app.clock.now();
    app.portal
        .reauth
        .insert(session_hash.to_string(), (), now + REAUTH_TTL, now)
        .await?;
    Ok(())
}

/// Without a session, the login page (which lands here again).
fn to_login(req: &Request) -> Response {
    Response::redirect(&format!("{}/login", req.prefix))
}

/// `n` fresh form tokens for this browser, and its flow id if the cookie is new.
fn form_tokens(app: &App, req: &Request, n: usize) -> (Vec<String>, Option<String>) {
    let (flow, new) = super::flow(req);
    let now = app.clock.now();
    let tokens = (0..n).map(|_| app.forms.issue(&flow, now).token).collect();
    (tokens, new.then_some(flow))
}

/// A portal page, with the flow cookie its tokens are bound to.
fn portal_page(
    app: &App,
    status: StatusCode,
    markup: maud::Markup,
    new_flow: Option<String>,
) -> Response {
    let res = app.page(status, markup);
    match new_flow {
        Some(flow) => app.cookies.set(res, Cookie::Flow, &flow, None),
        None => res,
    }
}

/// The form's token, spent here; `false`: stale, replayed or from another browser.
async fn redeem_form(app: &App, req: &Request) -> Result<bool, Failure> {
    let token = req.form.get("execution").unwrap_or("");
    Ok(app.redeem(req, token).await?.is_some())
}

pub(super) async fn verified(app: &App, holder: &Holder) -> Result<bool, Failure> {
    Ok(app
        .portal
        .reauth
        .get(&holder.session.id_hash, app.clock.now())
        .await?
        .is_some())
}

/// `GET /portal`: the applications this account may use.
pub(super) async fn portal(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    let apps = app
        .cas
        .portal_services(&h.account)
        .into_iter()
        .filter_map(|s| {
            let url = s.portal_url()?;
            let link = format!(
                "{}/login?service={}",
                req.prefix,
                url::form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>()
            );
            Some(PortalApp {
                title: s.title().to_string(),
                description: s.description().map(str::to_string),
                link,
            })
        })
        .collect();
    let view = PortalView {
        name: &h.account.name,
        account_id: &h.account.id,
        apps,
        admin: h.account.kind == crate::model::Kind::Admin,
        phone_missing: h.account.bound_phone.is_none(),
    };
    let chrome = app.chrome(req);
    Ok(app.page(StatusCode::OK, chrome.portal(&view)))
}

/// Back to account management, saying what was done.
fn done(req: &Request, what: &str) -> Response {
    Response::see_other(&format!("{}/account?done={what}", req.prefix))
}

fn done_message(t: &'static Text, what: &str) -> Option<&'static str> {
    Some(match what {
        "password" => t.done_password,
        "phone" => t.done_phone,
        "email" => t.done_email,
        "questions" => t.done_questions,
        "sessions" => t.done_sessions,
        "unbind" => t.done_unbind,
        "bind" => t.done_bind,
        _ => return None,
    })
}

/// Where a proof of identity leads: one of the pages that need it (anything else: the
/// phone page, the most common).
fn next_step(next: Option<&str>) -> &'static str {
    match next {
        Some("email") => "email",
        Some("questions") => "questions",
        Some("factors") => "factors",
        Some("unbind-wecom") => "unbind-wecom",
        Some("unbind-wechat") => "unbind-wechat",
        Some("bind-wecom") => "bind-wecom",
        Some("bind-wechat") => "bind-wechat",
        Some("passkeys") => "passkeys",
        _ => "phone",
    }
}
