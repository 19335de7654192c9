//! The admin console (`/admin`). Only administrator accounts, logged in through unicas, and
//! only after a second factor (a code to the administrator's bound phone, or TOTP) as 等级
//! 保护 2.0 asks of administrators; the console's grant is shorter than the SSO session (15
//! minutes idle, 2 hours at most) and carries its own CSRF token, which every form sends
//! back. Every action is audited under the administrator's account.

use super::error::{Failure, Handled};
use super::portal::Holder;
use super::App;
use crate::accounts::Guess;
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Request, Response};
use crate::model::{Kind, NewService, Release, Rule, Status};
use crate::otp::{Delivery, Notice, Purpose, Recipient, Sent};
use crate::pages::{
    AccountDetail, AdminFrame, AuditLine, PatternTest, SecondFactorView, ServiceDetail,
};
use crate::store::Store;
use crate::store::{AuditFilter, CodeCheck};
use hyper::StatusCode;
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

/// A roster import started from the console.
#[derive(Default)]
pub(super) struct ImportJob {
    total: usize,
    done: Arc<AtomicUsize>,
    report: Mutex<Option<String>>,
}

impl ImportJob {
    /// A job that is only a report (a preview, or a file that could not be read).
    fn finished(report: String) -> ImportJob {
        ImportJob {
            report: Mutex::new(Some(report)),
            ..ImportJob::default()
        }
    }

    fn running(&self) -> bool {
        self.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }
}

/// What the gate decided.
enum Gate {
    /// Not logged in, or not an administrator: this answer.
    Refused(Response),
    SecondFactor(Holder),
    Granted(Holder, AdminGrant),
}

/// The console's state: grants (by SSO session hash), TOTP steps used and secrets being
/// enrolled (by administrator), and the roster import started from the console.
pub(super) struct State {
    pub(super) grants: Ephemeral<AdminGrant>,
    pub(super) totp_steps: Ephemeral<i64>,
    pub(super) totp_pending: Ephemeral<String>,
    pub(super) import_job: std::sync::Mutex<Option<Arc<ImportJob>>>,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            grants: Ephemeral::new(store, "admin_grant", GRANT_CAPACITY),
            totp_steps: Ephemeral::new(store, "totp_step", GRANT_CAPACITY),
            totp_pending: Ephemeral::new(store, "totp_enrol", GRANT_CAPACITY),
            import_job: Default::default(),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.grants.sweep(now);
        self.totp_steps.sweep(now);
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
        return Ok(Gate::Refused(app.page(req, StatusCode::FORBIDDEN, page)));
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
async fn admin_page_gate(
    app: &App,
    req: &Request,
) -> Result<Result<(Holder, AdminGrant), Response>, Failure> {
    Ok(match admin_gate(app, req).await? {
        Gate::Refused(res) => Err(res),
        Gate::SecondFactor(h) => {
            Err(second_factor_page(app, req, &h, None, false, StatusCode::OK).await?)
        }
        Gate::Granted(h, g) => Ok((h, g)),
    })
}

/// The gate for a form: a grant (without one the action is refused, not shown the
/// second factor), and the console's CSRF token.
async fn admin_form_gate(
    app: &App,
    req: &Request,
) -> Result<Result<(Holder, AdminGrant), Response>, Failure> {
    match admin_gate(app, req).await? {
        Gate::Refused(res) => Ok(Err(res)),
        Gate::SecondFactor(_) => Err(Failure::Refused(StatusCode::FORBIDDEN)),
        Gate::Granted(h, grant) => {
            // From the form only: a token in an address ends up in logs and referrers.
            let sent = req.form.get("csrf").unwrap_or("");
            if !crate::secrets::constant_time_eq(sent.as_bytes(), grant.csrf.as_bytes()) {
                return Err(Failure::Refused(StatusCode::FORBIDDEN));
            }
            Ok(Ok((h, grant)))
        }
    }
}

async fn second_factor_page(
    app: &App,
    req: &Request,
    h: &Holder,
    error: Option<&'static str>,
    code_sent: bool,
    status: StatusCode,
) -> Result<Response, Failure> {
    let (flow, new_flow) = super::flow(req);
    let token = app.forms.issue(&flow, app.clock.now()).token;
    let id = h.account().id.clone();
    let totp = app
        .store
        .call(move |s| s.binding(&id, "totp"))
        .await?
        .is_some();
    let view = SecondFactorView {
        token,
        phone: h
            .account()
            .bound_phone
            .as_deref()
            .and_then(crate::model::Phone::parse)
            .map(|p| p.masked()),
        totp,
        code_sent,
        error,
    };
    let chrome = app.chrome(req);
    let res = app.page(req, status, chrome.admin_second_factor(&view));
    Ok(match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    })
}

/// `POST /admin/verify`: `action=send` (a code to the bound phone), `action=sms` with
/// `code`, or `action=totp` with `code`.
pub(super) async fn admin_verify(app: &App, req: &Request) -> Handled {
    let h = match admin_gate(app, req).await? {
        Gate::Refused(res) => return Ok(res),
        Gate::SecondFactor(h) | Gate::Granted(h, _) => h,
    };
    if app
        .redeem(req, req.form.get("execution").unwrap_or(""))
        .await?
        .is_none()
    {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let t = app.chrome(req).t();
    let client = app.client(req);
    let account = h.account().clone();
    let phone = account
        .bound_phone
        .as_deref()
        .and_then(crate::model::Phone::parse)
        .map(Recipient::Phone);
    let code = req.form.get("code").unwrap_or("");
    let now = app.clock.now();
    let method = match (req.form.get("action"), &phone) {
        (Some("send"), Some(to)) => {
            let sent = app
                .codes
                .send(Purpose::Admin, &account.id, to, &client, Delivery::Wait)
                .await?;
            let error = (!matches!(sent, Sent::Sent { .. })).then_some(t.sms_limited);
            return second_factor_page(app, req, &h, error, true, StatusCode::OK).await;
        }
        (Some("sms"), Some(_)) => "sms code",
        (Some("totp"), _) => "totp",
        _ => return Err(Failure::Refused(StatusCode::BAD_REQUEST)),
    };
    // One budget of failures for the administrator's second factors (docs/security.md M03).
    if app.accounts.begin_second_factor(&account.id).await? == Guess::Refused {
        return second_factor_page(app, req, &h, Some(t.throttled), false, StatusCode::LOCKED)
            .await;
    }
    let right = match (method, &phone) {
        ("sms code", Some(to)) => {
            let checked = app
                .codes
                .check(Purpose::Admin, &account.id, to, code, &client)
                .await;
            checked.map(|c| c == CodeCheck::Valid)
        }
        _ => totp_step(app, &account.id, code, now).await,
    };
    // Counted whatever happened, so an error cannot be retried for free.
    let right = right.unwrap_or(false);
    let locked = app
        .accounts
        .end_second_factor(&account.id, method, right, &client)
        .await?;
    if locked {
        super::portal::notify_bound(app, &account, Notice::SecondFactorLocked, &client).await;
    }
    if !right {
        let (error, status) = match locked {
            true => (t.throttled, StatusCode::LOCKED),
            false => (t.admin_wrong_code, StatusCode::UNAUTHORIZED),
        };
        return second_factor_page(app, req, &h, Some(error), false, status).await;
    }
    let grant = AdminGrant {
        account: account.id.clone(),
        csrf: crate::tickets::random_base62(32),
        started: now,
    };
    let key = h.ids().0;
    app.admin
        .grants
        .insert(key, grant, now + app.config.admin.idle, now)
        .await?;
    Ok(Response::see_other(&format!("{}/admin", req.prefix)))
}

/// Whether `code` is the administrator's TOTP code now, its time step not used before (a
/// code seen over a shoulder is spent).
async fn totp_step(
    app: &App,
    account_id: &str,
    code: &str,
    now: i64,
) -> Result<bool, crate::store::StoreError> {
    let id = account_id.to_string();
    let secret = app.store.call(move |s| s.binding(&id, "totp")).await?;
    match secret.and_then(|s| crate::totp::verify(&s, code, now)) {
        Some(step) => {
            app.admin
                .totp_steps
                .raise(account_id.to_string(), step, now + 120, now)
                .await
        }
        None => Ok(false),
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
    let (id, client, now) = (grant.account.clone(), app.client(req), app.clock.now());
    let event = crate::model::AuditEvent::AdminAction {
        action: action.to_string(),
        target: target.to_string(),
    };
    app.store
        .call(move |s| s.audit(&client.record(event, Some(&id)), now))
        .await?;
    Ok(())
}

fn audit_lines(app: &App, rows: Vec<crate::store::AuditRow>) -> Vec<AuditLine> {
    rows.into_iter()
        .map(|r| AuditLine {
            at: super::portal::local_time(app, r.at),
            detail: r.described(),
            browser: crate::pages::browser(&r.user_agent),
            event: r.event,
            account: r.account_id.unwrap_or_default(),
            address: r.client_ip,
        })
        .collect()
}

/// `GET /admin`: the overview.
pub(super) async fn admin_home(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let now = app.clock.now();
    let (counts, sessions, recent) = app
        .store
        .call(move |s| {
            Ok((
                s.account_counts()?,
                s.live_sessions(now)?,
                s.recent_audit(None, 20)?,
            ))
        })
        .await?;
    let services = app.cas.services().len();
    let ended = req.query.get("ended").and_then(|n| n.parse().ok());
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    let recent = audit_lines(app, recent);
    Ok(app.page(
        req,
        StatusCode::OK,
        chrome.admin_overview(&frame, &counts, sessions, services, &recent, ended),
    ))
}

/// `GET /admin/accounts?q=`: search by account, name, department, or a bound phone.
pub(super) async fn admin_accounts(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let q = req.query.get("q").unwrap_or("").trim().to_string();
    let found = match q.is_empty() {
        true => Vec::new(),
        false => {
            let query = q.clone();
            app.store
                .call(move |s| {
                    let mut found = Vec::new();
                    if let Some(phone) = crate::model::Phone::parse(&query) {
                        if let Some(id) = s.account_by_binding("phone", &phone.e164())? {
                            found.extend(s.account(&id)?);
                        }
                    }
                    for a in s.search_accounts(&query, 100)? {
                        if !found.iter().any(|f: &crate::model::Account| f.id == a.id) {
                            found.push(s.account(&a.id)?.unwrap_or(a));
                        }
                    }
                    Ok(found)
                })
                .await?
        }
    };
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    Ok(app.page(
        req,
        StatusCode::OK,
        chrome.admin_accounts(&frame, &q, &found),
    ))
}

/// `GET /admin/account?id=`: one account.
pub(super) async fn admin_account(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let id = req.query.get("id").unwrap_or("").to_string();
    let done = req.query.get("done").map(str::to_string);
    account_page_for(app, req, &grant, &id, done.as_deref(), None).await
}

async fn account_page_for(
    app: &App,
    req: &Request,
    grant: &AdminGrant,
    id: &str,
    done: Option<&str>,
    temporary: Option<String>,
) -> Handled {
    let id = id.to_string();
    let found = app
        .store
        .call(move |s| {
            let Some(account) = s.account(&id)? else {
                return Ok(None);
            };
            Ok(Some((
                account,
                s.bindings_of(&id)?,
                s.id_last4(&id)?,
                s.recent_logins(&id, 10)?,
                s.sessions_of(&id)?,
            )))
        })
        .await?;
    let Some((account, bindings, id_last4, logins, sessions)) = found else {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    };
    let masked = |kind: &str, value: &str| match crate::otp::Recipient::parse(kind, value) {
        Some(r) => r.masked(),
        None => "••••".to_string(),
    };
    let view = AccountDetail {
        account: &account,
        bindings: bindings
            .iter()
            .filter(|(k, _)| k != "totp")
            .map(|(k, v)| (k.clone(), masked(k, v)))
            .collect(),
        id_last4,
        password_changed: super::portal::local_time(app, account.password_changed_at),
        sign_ins: logins
            .into_iter()
            .map(|r| (super::portal::local_time(app, r.at), r.client_ip, r.detail))
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| {
                (
                    super::portal::local_time(app, s.auth_time),
                    s.client_ip,
                    crate::pages::browser(&s.user_agent),
                )
            })
            .collect(),
        done,
        temporary,
    };
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    Ok(app.page(req, StatusCode::OK, chrome.admin_account(&frame, &view)))
}

/// `POST /admin/account`: `id` and `action` (lock, unlock, disable, reset, logout,
/// unbind-phone, unbind-email, unbind-wecom, unbind-wechat).
pub(super) async fn admin_account_action(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_form_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let id = req.form.get("id").unwrap_or("").to_string();
    let action = req.form.get("action").unwrap_or("").to_string();
    let now = app.clock.now();
    let target = id.clone();
    let mut temporary = None;
    // Nobody locks themselves out of the console by a slip: another administrator (or
    // the command line) can.
    if id == grant.account && matches!(action.as_str(), "lock" | "disable") {
        return Err(Failure::Refused(StatusCode::CONFLICT));
    }
    // Nor removes its own last second factor (docs/security.md M08).
    if id == grant.account && action == "unbind-phone" {
        let admin = id.clone();
        let totp = app.store.call(move |s| s.binding(&admin, "totp")).await?;
        if totp.is_none() {
            return Err(Failure::Refused(StatusCode::CONFLICT));
        }
    }
    let known = match action.as_str() {
        "lock" | "unlock" | "disable" => {
            let status = match action.as_str() {
                "lock" => Status::Locked,
                "disable" => Status::Disabled,
                _ => Status::Active,
            };
            app.store
                .call(move |s| s.set_status(&target, status, now))
                .await?
        }
        "reset" => {
            temporary = app
                .accounts
                .reset_password(&target, &app.client(req))
                .await?;
            temporary.is_some()
        }
        "logout" => app
            .store
            .call(move |s| s.delete_sessions_of(&target, None, None, now))
            .await?
            .is_some(),
        a if a.starts_with("unbind-") => {
            let kind: &'static str = match &a["unbind-".len()..] {
                "phone" => "phone",
                "email" => "email",
                "wecom" => "wecom",
                "wechat" => "wechat",
                _ => return Err(Failure::Refused(StatusCode::BAD_REQUEST)),
            };
            app.store
                .call(move |s| {
                    let record = crate::model::AuditRecord::system(
                        crate::model::AuditEvent::Unbound { kind },
                        Some(&target),
                    );
                    s.unbind(&target, kind, &record, now)
                })
                .await?
        }
        _ => return Err(Failure::Refused(StatusCode::BAD_REQUEST)),
    };
    if !known {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    }
    app.sessions.forget_account(&id);
    admin_audit_row(app, req, &grant, &action, &id).await?;
    if temporary.is_some() {
        return account_page_for(app, req, &grant, &id, Some(&action), temporary).await;
    }
    let back = format!(
        "{}/admin/account?id={}&done={}",
        req.prefix,
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>(),
        action
    );
    Ok(Response::see_other(&back))
}

/// `POST /admin/sessions` with `confirm=yes`: ends every SSO session but the
/// administrator's own (after an incident: a leaked password list, a compromised
/// machine); every application gets its single logout.
pub(super) async fn admin_end_all(app: &App, req: &Request) -> Handled {
    let (h, grant) = match admin_form_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    if req.form.get("confirm") != Some("yes") {
        return Err(Failure::Refused(StatusCode::BAD_REQUEST));
    }
    let (keep, admin, client, now) = (
        h.ids().0,
        grant.account.clone(),
        app.client(req),
        app.clock.now(),
    );
    let ended = app
        .store
        .call(move |s| s.end_all_sessions(&keep, &admin, &client, now))
        .await?;
    app.sessions.forget_all();
    tracing::warn!(ended, admin = %grant.account, "every SSO session ended from the console");
    Ok(Response::see_other(&format!(
        "{}/admin?ended={ended}",
        req.prefix
    )))
}

/// `GET /admin/services` (and `?test=URL`: which entry matches, and how the URL was
/// normalised).
pub(super) async fn admin_services(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let services = app.store.call(|s| s.services()).await?;
    let test = req
        .query
        .get("test")
        .filter(|u| !u.is_empty())
        .map(|url| PatternTest {
            url: url.to_string(),
            normalized: crate::model::pattern::normalize(url),
            matched: app
                .cas
                .registered(url)
                .map(|s| (s.id, s.name().to_string(), s.settings.pattern.clone())),
        });
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    Ok(app.page(
        req,
        StatusCode::OK,
        chrome.admin_services(&frame, &services, test.as_ref()),
    ))
}

/// `GET /admin/service?id=` (or `id=new`).
pub(super) async fn admin_service(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let id = req.query.get("id").unwrap_or("new");
    service_page(app, req, &grant, id.parse().ok(), None, StatusCode::OK).await
}

async fn service_page(
    app: &App,
    req: &Request,
    grant: &AdminGrant,
    id: Option<i64>,
    error: Option<String>,
    status: StatusCode,
) -> Handled {
    let found = match id {
        Some(id) => Some(
            app.store
                .call(move |s| Ok((s.service(id)?, s.deliveries(id, 20)?, s.mismatches(id)?)))
                .await?,
        ),
        None => None,
    };
    let (service, deliveries, mismatches) = match found {
        Some((None, _, _)) => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
        Some((Some(s), d, m)) => (Some(s), d, m),
        None => (None, Vec::new(), Vec::new()),
    };
    let view = ServiceDetail {
        service: service.as_ref(),
        error,
        deliveries: deliveries
            .into_iter()
            .map(|r| {
                (
                    super::portal::local_time(app, r.at),
                    format!("{}: {}", r.event, r.detail),
                )
            })
            .collect(),
        mismatches: mismatches
            .into_iter()
            .map(|(at, issued, presented)| (super::portal::local_time(app, at), issued, presented))
            .collect(),
    };
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    Ok(app.page(req, status, chrome.admin_service(&frame, &view)))
}

/// `POST /admin/service`: a new service (`id=new`) or a changed one.
pub(super) async fn admin_service_save(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_form_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let f = &req.form;
    let id: Option<i64> = f.get("id").and_then(|i| i.parse().ok());
    let text = |name: &str| f.get(name).unwrap_or("").trim().to_string();
    let optional = |name: &str| Some(text(name)).filter(|v| !v.is_empty());
    let mut rules = Vec::new();
    for line in text("rules")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let parsed = match line.split_once(' ') {
            Some(("allow", rule)) => Rule::parse(crate::model::Effect::Allow, rule.trim()),
            Some(("deny", rule)) => Rule::parse(crate::model::Effect::Deny, rule.trim()),
            _ => Err(crate::model::InputError(format!(
                "{line:?}: start with allow or deny"
            ))),
        };
        match parsed {
            Ok(rule) => rules.push(rule),
            Err(e) => {
                return service_page(
                    app,
                    req,
                    &grant,
                    id,
                    Some(e.to_string()),
                    StatusCode::BAD_REQUEST,
                )
                .await
            }
        }
    }
    let attributes = text("attributes");
    let settings = NewService {
        name: text("name"),
        pattern: text("pattern"),
        release: match attributes.as_str() {
            "*" => Release::All,
            list => Release::Only(
                list.split(',')
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect(),
            ),
        },
        allow_proxy: f.flag("proxy"),
        proxy_callback: optional("proxy_callback"),
        logout_type: crate::model::LogoutType::parse(&text("logout_type")).unwrap_or_default(),
        logout_url: optional("logout_url"),
        portal_url: optional("portal_url"),
        portal_title: optional("title"),
        portal_description: optional("description"),
        rules,
        ..NewService::default()
    };
    let settings = match id {
        // Settings the form does not show (aliases, any-host) stay as they were.
        Some(id) => match app.store.call(move |s| s.service(id)).await? {
            Some(current) => NewService {
                attribute_aliases: current.settings.attribute_aliases,
                allow_any_host: current.settings.allow_any_host,
                demo: current.settings.demo,
                ..settings
            },
            None => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
        },
        None => settings,
    };
    if let Err(e) = settings.check() {
        return service_page(
            app,
            req,
            &grant,
            id,
            Some(e.to_string()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let (enabled, now) = (f.flag("enabled"), app.clock.now());
    let saved = app
        .store
        .call(move |s| {
            let id = match id {
                Some(id) => match s.update_service(id, &settings)? {
                    crate::store::ServiceUpdate::Updated => Some(id),
                    _ => None,
                },
                None => s.insert_service(&settings, now)?,
            };
            if let Some(id) = id {
                s.set_service_enabled(id, enabled)?;
            }
            Ok(id)
        })
        .await?;
    let Some(saved) = saved else {
        let t = app.chrome(req).t();
        return service_page(
            app,
            req,
            &grant,
            id,
            Some(t.admin_pattern_taken.into()),
            StatusCode::CONFLICT,
        )
        .await;
    };
    let _ = app.cas.reload_registry();
    admin_audit_row(app, req, &grant, "service", &saved.to_string()).await?;
    Ok(Response::see_other(&format!(
        "{}/admin/service?id={saved}",
        req.prefix
    )))
}

/// `GET /admin/audit`: filters `account`, `event`, `address`, `from`, `to` (dates,
/// `YYYY-MM-DD`); `format=csv` for the same rows as CSV.
pub(super) async fn admin_audit(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let q = |name: &str| req.query.get(name).unwrap_or("").trim().to_string();
    // A local date's first (or last) second.
    let day = |name: &str, end: bool| {
        let text = q(name);
        let mut parts = text.split('-').map(|p| p.parse::<i32>().ok());
        let (Some(Some(y)), Some(Some(m)), Some(Some(d))) =
            (parts.next(), parts.next(), parts.next())
        else {
            return 0;
        };
        let Ok(month) = time::Month::try_from(m as u8) else {
            return 0;
        };
        let Ok(date) = time::Date::from_calendar_date(y, month, d as u8) else {
            return 0;
        };
        let offset = i64::from(app.config.utc_offset_minutes) * 60;
        date.midnight().assume_utc().unix_timestamp() - offset + if end { 86_399 } else { 0 }
    };
    let filter = AuditFilter {
        account: q("account"),
        event: q("event"),
        address: q("address"),
        from: day("from", false),
        to: day("to", true),
    };
    let csv = q("format") == "csv";
    let (f, limit) = (filter.clone(), if csv { 100_000 } else { 500 });
    let rows = app.store.call(move |s| s.audit_search(&f, limit)).await?;
    if csv {
        admin_audit_row(
            app,
            req,
            &grant,
            "audit export",
            &format!("{} row(s)", rows.len()),
        )
        .await?;
        let mut out = String::from("time,event,account,address,detail,user_agent,repeats,last\r\n");
        for r in &rows {
            let cells = [
                crate::clock::iso8601(r.at),
                r.event.clone(),
                r.account_id.clone().unwrap_or_default(),
                r.client_ip.clone(),
                r.detail.clone(),
                r.user_agent.clone(),
                r.repeats.to_string(),
                crate::clock::iso8601(r.last_at),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        return Ok(Response::new(
            StatusCode::OK,
            "text/csv; charset=UTF-8",
            format!("\u{feff}{out}"),
        )
        .header(
            hyper::header::CONTENT_DISPOSITION,
            "attachment; filename=\"unicas-audit.csv\"",
        )
        .header(hyper::header::CACHE_CONTROL, "no-store"));
    }
    let values = [q("account"), q("event"), q("address"), q("from"), q("to")];
    let filters: Vec<(&str, &str)> = ["account", "event", "address", "from", "to"]
        .into_iter()
        .zip(values.iter().map(String::as_str))
        .collect();
    let mut export = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &filters {
        export.append_pair(k, v);
    }
    export.append_pair("format", "csv");
    let csv_link = format!("{}/admin/audit?{}", req.prefix, export.finish());
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    let lines = audit_lines(app, rows);
    Ok(app.page(
        req,
        StatusCode::OK,
        chrome.admin_audit(&frame, &filters, &lines, &csv_link),
    ))
}

/// `GET /admin/import`: the upload form, and the running import's progress.
pub(super) async fn admin_import_page(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let job = app
        .admin
        .import_job
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let (report, running) = match &job {
        Some(job) => {
            let report = job.report.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let running = report
                .is_none()
                .then(|| (job.done.load(Ordering::Relaxed), job.total));
            (report, running)
        }
        None => (None, None),
    };
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    let res = app.page(
        req,
        StatusCode::OK,
        chrome.admin_import(&frame, report.as_deref(), running),
    );
    // While it runs, the page looks again every two seconds (no script needed).
    Ok(match running {
        Some(_) => res.header(hyper::header::REFRESH, "2"),
        None => res,
    })
}

/// `POST /admin/import` (multipart: `csrf`, `roster`, `disable_missing`, `action` =
/// `preview` or `run`).
pub(super) async fn admin_import(app: &App, req: &Request) -> Handled {
    let content_type = req.header("content-type").unwrap_or("").to_string();
    let Some(parts) = crate::http::multipart::parse(&content_type, &req.body) else {
        return Err(Failure::Refused(StatusCode::BAD_REQUEST));
    };
    let field = |name: &str| parts.iter().find(|p| p.name == name).map(|p| p.data);
    let text = |name: &str| {
        field(name)
            .and_then(|d| std::str::from_utf8(d).ok())
            .unwrap_or("")
    };
    let grant = match admin_gate(app, req).await? {
        Gate::Refused(res) => return Ok(res),
        Gate::SecondFactor(_) => return Err(Failure::Refused(StatusCode::FORBIDDEN)),
        Gate::Granted(_, grant) => grant,
    };
    if !crate::secrets::constant_time_eq(text("csrf").as_bytes(), grant.csrf.as_bytes()) {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let Some(file) = field("roster") else {
        return Err(Failure::Refused(StatusCode::BAD_REQUEST));
    };
    let crate::roster::Parsed {
        rows,
        errors,
        warnings,
    } = match crate::roster::parse(file) {
        Ok(parsed) => parsed,
        Err(e) => {
            replace_import(app, ImportJob::finished(e.to_string()))?;
            return Ok(Response::see_other(&format!("{}/admin/import", req.prefix)));
        }
    };
    let ids: Vec<String> = rows.iter().map(|r| r.account.id.clone()).collect();
    let lookup = ids.clone();
    let existing = app.store.call(move |s| s.existing_ids(&lookup)).await?;
    let new = rows
        .iter()
        .filter(|r| !existing.contains(&r.account.id))
        .count();
    let mut report = format!(
        "{} rows readable ({new} new, {} already there), {} refused\n",
        rows.len(),
        rows.len() - new,
        errors.len()
    );
    for e in &errors {
        report.push_str(&format!("{e}\n"));
    }
    for w in &warnings {
        report.push_str(&format!("warning: {w}\n"));
    }
    if text("action") != "run" {
        replace_import(app, ImportJob::finished(report))?;
        return Ok(Response::see_other(&format!("{}/admin/import", req.prefix)));
    }
    let job = replace_import(
        app,
        ImportJob {
            total: new,
            ..ImportJob::default()
        },
    )?;
    admin_audit_row(
        app,
        req,
        &grant,
        "import",
        &format!("{} row(s), {} refused", rows.len(), errors.len()),
    )
    .await?;
    let (store, cost, disable) = (
        app.store.clone(),
        app.config.passwords.bcrypt_cost,
        text("disable_missing") == "true",
    );
    let now = app.clock.now();
    // One core: the server keeps answering logins while the roster hashes.
    tokio::task::spawn_blocking(move || {
        let done = Arc::clone(&job.done);
        let result = crate::roster::hash_new(rows, &existing, cost, 1, &|| {
            done.fetch_add(1, Ordering::Relaxed);
        })
        .and_then(|accounts| {
            let listed = disable.then(|| ids.into_iter().collect());
            crate::roster::import(&store, &accounts, errors.len(), listed, now)
                .map_err(|e| e.to_string())
        });
        let text = match result {
            Ok(summary) => format!("{summary}\n{report}"),
            Err(e) => format!("the import stopped: {e}\n{report}"),
        };
        *job.report.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
    });
    Ok(Response::see_other(&format!("{}/admin/import", req.prefix)))
}

/// Makes `job` the console's import, unless one is still running (409: a second run, or
/// a preview, would hide its progress).
fn replace_import(app: &App, job: ImportJob) -> Result<Arc<ImportJob>, Failure> {
    let mut current = app
        .admin
        .import_job
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if current.as_ref().is_some_and(|j| j.running()) {
        return Err(Failure::Refused(StatusCode::CONFLICT));
    }
    let job = Arc::new(job);
    *current = Some(Arc::clone(&job));
    Ok(job)
}

/// `GET /admin/totp`: a new secret to enrol (kept with the grant until confirmed).
pub(super) async fn admin_totp_page(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    totp_page(app, req, &grant, None, StatusCode::OK).await
}

async fn totp_page(
    app: &App,
    req: &Request,
    grant: &AdminGrant,
    error: Option<&str>,
    status: StatusCode,
) -> Handled {
    let now = app.clock.now();
    let secret = app
        .admin
        .totp_pending
        .get(&grant.account, now)
        .await?
        .unwrap_or_else(crate::totp::new_secret);
    app.admin
        .totp_pending
        .insert(grant.account.clone(), secret.clone(), now + 600, now)
        .await?;
    let id = grant.account.clone();
    let enrolled = app
        .store
        .call(move |s| s.binding(&id, "totp"))
        .await?
        .is_some();
    // The QR code travels inside the page: the secret never has a URL of its own.
    let uri = crate::totp::uri(&app.config.school_name_en, &grant.account, &secret);
    let png = crate::pages::qr_png(&uri).ok_or_else(|| Failure::Internal("QR code".into()))?;
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    let page = chrome.admin_totp(&frame, enrolled, &secret, &png, error);
    Ok(app.page(req, status, page))
}

/// `POST /admin/totp`: the first code confirms the pending secret, which replaces any
/// enrolled before.
pub(super) async fn admin_totp_confirm(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_form_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let now = app.clock.now();
    let t = app.chrome(req).t();
    let Some(secret) = app.admin.totp_pending.get(&grant.account, now).await? else {
        return totp_page(
            app,
            req,
            &grant,
            Some(t.admin_wrong_code),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let Some(step) = crate::totp::verify(&secret, req.form.get("code").unwrap_or(""), now) else {
        return totp_page(
            app,
            req,
            &grant,
            Some(t.admin_wrong_code),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    // The code that confirmed the enrolment cannot also open the console.
    app.admin
        .totp_steps
        .raise(grant.account.clone(), step, now + 120, now)
        .await?;
    let (id, c) = (grant.account.clone(), app.client(req));
    let event = crate::model::AuditEvent::AdminAction {
        action: "enrol authenticator".into(),
        target: grant.account.clone(),
    };
    app.store
        .call(move |s| s.bind(&id, "totp", &secret, &c.record(event, Some(&id)), now))
        .await?;
    app.admin.totp_pending.take(&grant.account).await?;
    Ok(Response::see_other(&format!("{}/admin/totp", req.prefix)))
}

/// A CSV cell (RFC 4180), with formulas defused for spreadsheets.
fn csv_cell(value: &str) -> String {
    let value = match value.starts_with(['=', '+', '-', '@']) {
        true => format!("'{value}"),
        false => value.to_string(),
    };
    match value.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", value.replace('"', "\"\"")),
        false => value,
    }
}
