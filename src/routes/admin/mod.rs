//! The admin console (`/admin`). Only administrator accounts, logged in through unicas, and
//! only after a second factor (a code to the administrator's bound phone, or TOTP) as 等级
//! 保护 2.0 asks of administrators; the console's grant is shorter than the SSO session (15
//! minutes idle, 2 hours at most) and carries its own CSRF token, which every form sends
//! back. Every action is audited under the administrator's account.

pub(super) mod accounts;
pub(super) mod audit;
pub(super) mod import;
pub(super) mod second_factor;
pub(super) mod services;

use super::error::{Failure, Handled};
use super::portal::Holder;
use super::App;
use crate::accounts::{Asked, Guess};
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Request, Response};
use crate::model::{Kind, NewService, Release, Rule, Status};
use crate::otp::{Delivery, Notice, Purpose, Recipient, Sent};
use crate::pages::{
    AccountDetail, AdminFrame, AuditLine, PatternTest, SecondFactorView, ServiceDetail,
};
use crate::store::Store;
use crate::store::{AuditFilter, CodeCheck};
use audit::audit_lines;
use hyper::StatusCode;
use import::ImportJob;
use second_factor::second_factor_page;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const GRANT_CAPACITY: usize = 1_000;

/// An administrator past the second factor, in one SSO session.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct AdminGrant {
    account: String,
    csrf: String,
    started: i64,
}

/// What the gate decided.
enum Gate {
    /// Not logged in, or not an administrator: this answer.
    Refused(Response),
    SecondFactor(Holder),
    Granted(Holder, AdminGrant),
}

/// The console's state: grants (by SSO session hash), authenticator secrets being
/// enrolled (by administrator), and the roster import started from the console.
pub(super) struct State {
    pub(super) grants: Ephemeral<AdminGrant>,
    pub(super) totp_pending: Ephemeral<String>,
    pub(super) import_job: std::sync::Mutex<Option<Arc<ImportJob>>>,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            grants: Ephemeral::new(store, "admin_grant", GRANT_CAPACITY),
            totp_pending: Ephemeral::new(store, "totp_enrol", GRANT_CAPACITY),
            import_job: Default::default(),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.grants.sweep(now);
        self.totp_pending.sweep(now);
    }
}

async fn admin_gate(app: &App, req: &Request) -> Result<Gate, Failure> {
    let Some(h) = super::portal::holder(app, req).await? else {
        return Ok(Gate::Refused(Response::redirect(&format!(
            "{}/login",
            req.prefix
        ))));
    };
    if h.account().kind != Kind::Admin || h.account().status != Status::Active {
        let chrome = app.chrome(req);
        let t = chrome.t();
        let page = chrome.message(t.admin_title, t.admin_denied, &[]);
        return Ok(Gate::Refused(app.page(StatusCode::FORBIDDEN, page)));
    }
    let (key, now) = (h.ids().0, app.clock.now());
    match app.admin.grants.get(&key, now).await? {
        Some(grant) if grant.account == h.account().id => {
            // Each request extends the idle limit, never past the lifetime.
            let until =
                (now + app.config.admin.idle).min(grant.started + app.config.admin.lifetime);
            app.admin
                .grants
                .insert(key, grant.clone(), until, now)
                .await?;
            Ok(Gate::Granted(h, grant))
        }
        _ => Ok(Gate::SecondFactor(h)),
    }
}

/// Whether the request comes from an administrator past the second factor (before its
/// body is read: whether it may upload).
pub(super) async fn admin_granted(app: &App, req: &Request) -> Result<bool, Failure> {
    Ok(matches!(admin_gate(app, req).await?, Gate::Granted(..)))
}

/// The gate for a page: the grant, or the answer to give instead.
pub(super) async fn admin_page_gate(
    app: &App,
    req: &Request,
) -> Result<(Holder, AdminGrant), Failure> {
    match admin_gate(app, req).await? {
        Gate::Refused(res) => Err(Failure::answer(res)),
        Gate::SecondFactor(h) => Err(Failure::answer(
            second_factor_page(app, req, &h, None, false, StatusCode::OK).await?,
        )),
        Gate::Granted(h, g) => Ok((h, g)),
    }
}

/// The gate for a form: a grant (without one the action is refused, not shown the
/// second factor), and the console's CSRF token.
pub(super) async fn admin_form_gate(
    app: &App,
    req: &Request,
) -> Result<(Holder, AdminGrant), Failure> {
    match admin_gate(app, req).await? {
        Gate::Refused(res) => Err(Failure::answer(res)),
        Gate::SecondFactor(_) => Err(Failure::Refused(StatusCode::FORBIDDEN)),
        Gate::Granted(h, grant) => {
            // From the form only: a token in an address ends up in logs and referrers.
            let sent = req.form.get("csrf").unwrap_or("");
            if !crate::secrets::constant_time_eq(sent.as_bytes(), grant.csrf.as_bytes()) {
                return Err(Failure::Refused(StatusCode::FORBIDDEN));
            }
            Ok((h, grant))
        }
    }
}

/// An administrator's action, audited under the administrator's account.
async fn admin_audit_row(
    app: &App,
    req: &Request,
    grant: &AdminGrant,
    action: &str,
    target: &str,
) -> Result<(), Failure> {
    let event = crate::model::AuditEvent::AdminAction {
        action: action.to_string(),
        target: target.to_string(),
    };
    let by = app.client(req);
    Ok(app
        .accounts
        .record(&by, event, Some(&grant.account))
        .await?)
}

/// `GET /admin`: the overview.
pub(super) async fn admin_home(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_page_gate(app, req).await?;
    let crate::accounts::console::Overview {
        counts,
        live_sessions: sessions,
        recent,
    } = app.accounts.console_overview().await?;
    let unfinished = app.accounts.unfinished().await?;
    let services = app.cas.services().len();
    let ended = req.query.get("ended").and_then(|n| n.parse().ok());
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    let recent = audit_lines(app, recent);
    Ok(app.page(
        StatusCode::OK,
        chrome.admin_overview(
            &frame,
            (&counts, &unfinished),
            sessions,
            services,
            &recent,
            ended,
        ),
    ))
}

/// `POST /admin/sessions` with `confirm=yes`: ends every SSO session but the
/// administrator's own (after an incident: a leaked password list, a compromised
/// machine); every application gets its single logout.
pub(super) async fn admin_end_all(app: &App, req: &Request) -> Handled {
    let (h, grant) = admin_form_gate(app, req).await?;
    if req.form.get("confirm") != Some("yes") {
        return Err(Failure::Refused(StatusCode::BAD_REQUEST));
    }
    let ended = app
        .accounts
        .end_all_sessions(h.ids().0, &grant.account, &app.client(req))
        .await?;
    tracing::warn!(ended, admin = %grant.account, "every SSO session ended from the console");
    Ok(Response::see_other(&format!(
        "{}/admin?ended={ended}",
        req.prefix
    )))
}
