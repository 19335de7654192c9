//! The portal (`/portal`, 综合服务大厅) where a login without a service lands, and account
//! management (`/account`, 账号管理). Every page needs the SSO session; every form carries a
//! single-use token bound to the browser. Changing the password asks for the current one;
//! binding a phone or e-mail, setting questions and unbinding WeCom/WeChat first ask the
//! person to prove it is still them (the password, or a code to the bound phone), which
//! holds for ten minutes in this session.

use super::error::{Failure, Handled};
use super::first_login::{policy_message, sms_message};
use super::App;
use crate::accounts::{PasswordChange, QuestionsError};
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Csp, Request, Response};
use crate::model::audit::Actor;
use crate::model::{Account, AuditEvent, Email, Phone};
use crate::otp::{Delivery, Notice, Purpose, Recipient, SendError, Sent};
use crate::pages::{
    AccountView, BindView, PortalApp, PortalView, QuestionsView, SessionLine, SignIn, Text,
    VerifyView,
};
use crate::sessions::LiveSession;
use crate::store::Store;
use crate::store::{Bound, CodeCheck};
use hyper::StatusCode;
use std::sync::Arc;

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

/// The portal's state: sessions that proved their holder recently (by session hash).
pub(super) struct State {
    pub(super) reauth: Ephemeral<()>,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            reauth: Ephemeral::new(store, "reauth", REAUTH_CAPACITY),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.reauth.sweep(now);
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
    let found = app
        .sessions
        .with_account(&session.id_hash, &session.account_id)
        .await?;
    Ok(found.map(|(_, account)| Holder { session, account }))
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
    req: &Request,
    status: StatusCode,
    markup: maud::Markup,
    new_flow: Option<String>,
) -> Response {
    let res = app.page(req, status, markup);
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

pub(super) fn local_time(app: &App, unix: i64) -> String {
    crate::clock::local_time(unix, app.config.utc_offset_minutes)
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
    };
    let chrome = app.chrome(req);
    Ok(app.page(req, StatusCode::OK, chrome.portal(&view)))
}

/// `GET /account`: 账号管理.
pub(super) async fn account_get(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    let t = app.chrome(req).t();
    // A binding refused on the way back from WeCom or WeChat is an error, not news.
    let (flash, error) = match req.query.get("done") {
        Some("taken") => (None, Some(t.social_taken.to_string())),
        Some(d) => (done_message(t, d), None),
        None => (None, None),
    };
    account_page(app, req, &h, flash, error, StatusCode::OK).await
}

async fn account_page(
    app: &App,
    req: &Request,
    h: &Holder,
    flash: Option<&'static str>,
    error: Option<String>,
    status: StatusCode,
) -> Handled {
    let chrome = app.chrome(req);
    let t = chrome.t();
    let id = h.account.id.clone();
    let (bindings, logins, sessions) = app
        .store
        .call(move |s| {
            Ok((
                s.bindings_of(&id)?,
                s.recent_logins(&id, 10)?,
                s.sessions_of(&id)?,
            ))
        })
        .await?;
    let bound = |kind: &str| bindings.iter().find(|(k, _)| k == kind).map(|(_, v)| v);
    let questions = app.accounts.questions_of(&h.account.id).await?.len();
    let (tokens, new_flow) = form_tokens(app, req, 2);
    let view = AccountView {
        name: &h.account.name,
        account_id: &h.account.id,
        flash,
        error,
        password_token: tokens[0].clone(),
        sessions_token: tokens[1].clone(),
        rules: chrome.policy_rules(app.accounts.policy()),
        password_changed: local_time(app, h.account.password_changed_at),
        phone: bound("phone")
            .and_then(|v| Phone::parse(v))
            .map(|p| p.masked()),
        email: bound("email")
            .and_then(|v| Email::parse(v))
            .map(|e| e.masked()),
        questions,
        wecom: bound("wecom").is_some(),
        wechat: bound("wechat").is_some(),
        wecom_on: app.wecom.is_some(),
        wechat_on: app.wechat.is_some(),
        sign_ins: logins
            .into_iter()
            .map(|r| SignIn {
                at: local_time(app, r.at),
                address: r.client_ip,
                browser: crate::pages::browser(&r.user_agent),
                method: match r.detail.as_str() {
                    "sms code" => t.method_sms,
                    _ => t.method_password,
                },
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| SessionLine {
                started: local_time(app, s.auth_time),
                last_used: local_time(app, s.last_used),
                current: s.id_hash == h.session.id_hash,
                address: s.client_ip,
                browser: crate::pages::browser(&s.user_agent),
            })
            .collect(),
    };
    Ok(portal_page(
        app,
        req,
        status,
        chrome.account(&view),
        new_flow,
    ))
}

/// `POST /account/password`: the current password and the new one twice. Every other
/// session of the account ends (single logout); this one stays.
pub(super) async fn account_password(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !redeem_form(app, req).await? {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let f = &req.form;
    let change = PasswordChange {
        account_id: &h.account.id,
        current: Some(f.get("password").unwrap_or("")),
        new: f.get("newPassword").unwrap_or(""),
        repeat: f.get("confirmPassword").unwrap_or(""),
        must_change: false,
        keep_session: Some(&h.session.id_hash),
        // Kept only when the holder, who typed the current password, says so.
        keep_identities: f.flag("keepIdentities"),
        by: Actor::Portal,
    };
    let client = app.client(req);
    match app.accounts.change_password(change, &client).await? {
        Ok(account) => {
            notify_bound(app, &account, Notice::PasswordChanged, &client).await;
            Ok(done(req, "password"))
        }
        Err(e) => {
            let t = app.chrome(req).t();
            let error = policy_message(t, e).to_string();
            account_page(app, req, &h, None, Some(error), StatusCode::BAD_REQUEST).await
        }
    }
}

/// A security notice to the account's bound phone and e-mail.
pub(super) async fn notify_bound(
    app: &App,
    account: &Account,
    notice: Notice,
    client: &crate::model::Client,
) {
    let targets = [
        account
            .bound_phone
            .as_deref()
            .and_then(Phone::parse)
            .map(Recipient::Phone),
        account
            .bound_email
            .as_deref()
            .and_then(Email::parse)
            .map(Recipient::Email),
    ];
    for to in targets.into_iter().flatten() {
        app.codes.notify(&account.id, &to, notice, client).await;
    }
}

/// `POST /account/sessions`: "sign out everywhere else".
pub(super) async fn account_sessions(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !redeem_form(app, req).await? {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let (id, keep, client, now) = (
        h.account.id.clone(),
        h.session.id_hash.clone(),
        app.client(req),
        app.clock.now(),
    );
    app.store
        .call(move |s| s.delete_sessions_of(&id, Some(&keep), Some(&client), now))
        .await?;
    app.sessions.forget_account(&h.account.id);
    Ok(done(req, "sessions"))
}

/// `GET /account/verify?next=…`, and the change pages before a proof of identity.
pub(super) async fn verify_get(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    let next = next_step(req.query.get("next"));
    verify_page(app, req, &h, next, Shown::default(), StatusCode::OK).await
}

async fn verify_page(
    app: &App,
    req: &Request,
    h: &Holder,
    next: &str,
    shown: Shown,
    status: StatusCode,
) -> Handled {
    let (tokens, new_flow) = form_tokens(app, req, 2);
    let phone = h.account.bound_phone.as_deref().and_then(Phone::parse);
    let live = app
        .codes
        .pending(&h.account.id, Purpose::Verify, "phone")
        .await?;
    let wait = match (shown.wait, &live) {
        (0, Some((_, at))) => (app.config.sms.resend_after - (app.clock.now() - at)).max(0),
        (w, _) => w,
    };
    let view = VerifyView {
        next,
        token: tokens[0].clone(),
        code_token: tokens[1].clone(),
        phone: phone.map(|p| p.masked()),
        code_sent: live.is_some(),
        wait,
        error: shown.error,
    };
    let chrome = app.chrome(req);
    // Binding WeCom or WeChat goes on to the provider's page from this form.
    let csp = Csp::default().forms_leave(next.starts_with("bind-"));
    Ok(portal_page(app, req, status, chrome.verify(&view), new_flow).csp(&csp))
}

/// `POST /account/verify`: `action=password` with `password`, `action=send` for a code
/// to the bound phone, `action=code` with `code`; then on to `next`.
pub(super) async fn verify_post(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !redeem_form(app, req).await? {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let f = &req.form;
    let next = next_step(f.get("next"));
    let t = app.chrome(req).t();
    let client = app.client(req);
    let phone = h
        .account
        .bound_phone
        .as_deref()
        .and_then(Phone::parse)
        .map(Recipient::Phone);
    let refused = |error: String, status| {
        let shown = Shown {
            error: Some(error),
            ..Shown::default()
        };
        (shown, status)
    };
    let (shown, status) = match (f.get("action"), &phone) {
        (Some("send"), Some(to)) => {
            let sent = app
                .codes
                .send(Purpose::Verify, &h.account.id, to, &client, Delivery::Wait)
                .await?;
            match sent {
                Sent::Sent { wait } => (
                    Shown {
                        wait,
                        ..Shown::default()
                    },
                    StatusCode::OK,
                ),
                other => refused(send_refusal(t, other, to), StatusCode::TOO_MANY_REQUESTS),
            }
        }
        (Some("code"), Some(to)) => {
            let code = f.get("code").unwrap_or("");
            let checked = app
                .codes
                .check(Purpose::Verify, &h.account.id, to, code, &client)
                .await?;
            if checked == CodeCheck::Valid {
                return confirmed(app, req, &h, next, Some("sms code"), &client).await;
            }
            refused(t.verify_failed.into(), StatusCode::BAD_REQUEST)
        }
        _ => {
            let password = f.get("password").unwrap_or("");
            match app
                .accounts
                .confirm_password(&h.account, password, &client)
                .await?
            {
                // The throttle audited the confirmation already.
                Some(true) => return confirmed(app, req, &h, next, None, &client).await,
                Some(false) => refused(t.verify_failed.into(), StatusCode::BAD_REQUEST),
                None => refused(t.throttled.into(), StatusCode::LOCKED),
            }
        }
    };
    verify_page(app, req, &h, next, shown, status).await
}

/// A proof of identity given (`audit`: by this method, not yet in the audit log): it
/// holds for this session a while; on to `next` (an unbinding happens right here, in
/// this POST).
async fn confirmed(
    app: &App,
    req: &Request,
    h: &Holder,
    next: &str,
    audit: Option<&'static str>,
    client: &crate::model::Client,
) -> Handled {
    let now = app.clock.now();
    app.portal
        .reauth
        .insert(h.session.id_hash.clone(), (), now + REAUTH_TTL, now)
        .await?;
    if let Some(method) = audit {
        let (id, client) = (h.account.id.clone(), client.clone());
        let event = AuditEvent::IdentityConfirmed { method };
        app.store
            .call(move |s| s.audit(&client.record(event, Some(&id)), now))
            .await?;
    }
    if let Some(kind) = next.strip_prefix("unbind-") {
        let kind: &'static str = if kind == "wecom" { "wecom" } else { "wechat" };
        let (id, client) = (h.account.id.clone(), client.clone());
        let event = AuditEvent::Unbound { kind };
        app.store
            .call(move |s| s.unbind(&id, kind, &client.record(event, Some(&id)), now))
            .await?;
        return Ok(done(req, "unbind"));
    }
    match next.strip_prefix("bind-") {
        // Binding goes on through the provider's page.
        Some(kind) => Ok(Response::see_other(&format!("{}/{kind}/bind", req.prefix))),
        None => Ok(Response::see_other(&format!(
            "{}/account/{next}",
            req.prefix
        ))),
    }
}

/// `GET /account/phone` and `/account/email`.
pub(super) async fn bind_get(app: &App, req: &Request, email: bool) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    let next = if email { "email" } else { "phone" };
    if !verified(app, &h).await? {
        return verify_page(app, req, &h, next, Shown::default(), StatusCode::OK).await;
    }
    bind_page(app, req, &h, email, Shown::default(), StatusCode::OK).await
}

async fn bind_page(
    app: &App,
    req: &Request,
    h: &Holder,
    email: bool,
    shown: Shown,
    status: StatusCode,
) -> Handled {
    let kind = if email { "email" } else { "phone" };
    let live = app
        .codes
        .pending(&h.account.id, Purpose::Bind, kind)
        .await?;
    let resend = match email {
        true => app.config.mail.resend_after,
        false => app.config.sms.resend_after,
    };
    let wait = match (shown.wait, &live) {
        (0, Some((_, at))) => (resend - (app.clock.now() - at)).max(0),
        (w, _) => w,
    };
    let current = match email {
        true => h
            .account
            .bound_email
            .as_deref()
            .and_then(Email::parse)
            .map(|e| e.masked()),
        false => h
            .account
            .bound_phone
            .as_deref()
            .and_then(Phone::parse)
            .map(|p| p.masked()),
    };
    let input = match (&shown.input, &live) {
        (typed, _) if !typed.is_empty() => typed.clone(),
        (_, Some((to, _))) => match to {
            Recipient::Phone(p) => p.national().to_string(),
            Recipient::Email(e) => e.as_str().to_string(),
        },
        _ => String::new(),
    };
    let client = app.client(req);
    let captcha = match parse_recipient(email, &input) {
        Some(to) => app.codes.near_cap(&client, &to).await?,
        None => false,
    };
    let (tokens, new_flow) = form_tokens(app, req, 1);
    let view = BindView {
        email,
        token: tokens[0].clone(),
        current,
        input: &input,
        code_sent_to: shown
            .code_sent_to
            .or_else(|| live.map(|(to, _)| to.masked())),
        wait,
        captcha,
        error: shown.error,
    };
    let chrome = app.chrome(req);
    Ok(portal_page(app, req, status, chrome.bind(&view), new_flow))
}

/// `POST /account/phone` and `/account/email`: `action=send` with the new number or
/// address, then `action=bind` with `code`. The old one, if any, is told of the change.
pub(super) async fn bind_post(app: &App, req: &Request, email: bool) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !redeem_form(app, req).await? {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let kind = if email { "email" } else { "phone" };
    if !verified(app, &h).await? {
        return verify_page(app, req, &h, kind, Shown::default(), StatusCode::FORBIDDEN).await;
    }
    let f = &req.form;
    let t = app.chrome(req).t();
    let client = app.client(req);
    let typed = f.get(kind).unwrap_or("").trim().to_string();
    let refused = |error: String, input: String, status| {
        let shown = Shown {
            error: Some(error),
            input,
            ..Shown::default()
        };
        bind_page(app, req, &h, email, shown, status)
    };
    if f.get("action") == Some("bind") {
        let Some((to, _)) = app
            .codes
            .pending(&h.account.id, Purpose::Bind, kind)
            .await?
        else {
            return refused(t.code_missing.into(), typed, StatusCode::BAD_REQUEST).await;
        };
        let code = f.get("code").unwrap_or("");
        match app
            .codes
            .check(Purpose::Bind, &h.account.id, &to, code, &client)
            .await?
        {
            CodeCheck::Valid => {}
            CodeCheck::Wrong(left) => {
                let error = t.code_wrong.replace("{n}", &left.to_string());
                return refused(error, typed, StatusCode::BAD_REQUEST).await;
            }
            CodeCheck::Missing => {
                return refused(t.code_missing.into(), typed, StatusCode::BAD_REQUEST).await
            }
        }
        // Uniqueness only now that the code proved the target is theirs (docs/security.md E05).
        let event = match &to {
            Recipient::Phone(p) => AuditEvent::PhoneBound { phone: p.masked() },
            Recipient::Email(e) => AuditEvent::EmailBound { email: e.masked() },
        };
        let (id, value, now, c) = (
            h.account.id.clone(),
            to.value(),
            app.clock.now(),
            client.clone(),
        );
        let bound = app
            .store
            .call(move |s| s.bind(&id, kind, &value, &c.record(event, Some(&id)), now))
            .await?;
        if bound == Bound::Taken {
            let taken = if email { t.email_taken } else { t.phone_taken };
            return refused(taken.into(), typed, StatusCode::CONFLICT).await;
        }
        // The number or address it replaced hears of the change.
        let old = match &to {
            Recipient::Phone(_) => h
                .account
                .bound_phone
                .as_deref()
                .and_then(Phone::parse)
                .map(Recipient::Phone),
            Recipient::Email(_) => h
                .account
                .bound_email
                .as_deref()
                .and_then(Email::parse)
                .map(Recipient::Email),
        };
        if let Some(old) = old.filter(|o| *o != to) {
            let notice = if email {
                Notice::EmailChanged
            } else {
                Notice::PhoneChanged
            };
            app.codes.notify(&h.account.id, &old, notice, &client).await;
        }
        app.sessions.forget_account(&h.account.id);
        return Ok(done(req, kind));
    }
    let Some(to) = parse_recipient(email, &typed) else {
        let invalid = if email {
            t.email_invalid
        } else {
            t.phone_invalid
        };
        return refused(invalid.into(), typed, StatusCode::BAD_REQUEST).await;
    };
    if app.codes.near_cap(&client, &to).await?
        && !super::captcha::solve_captcha(app, req, f.get("captcha").unwrap_or("")).await?
    {
        return refused(t.captcha_needed.into(), typed, StatusCode::BAD_REQUEST).await;
    }
    let sent = app
        .codes
        .send(Purpose::Bind, &h.account.id, &to, &client, Delivery::Wait)
        .await?;
    match sent {
        Sent::Sent { wait } => {
            let shown = Shown {
                input: typed,
                code_sent_to: Some(to.masked()),
                wait,
                ..Shown::default()
            };
            bind_page(app, req, &h, email, shown, StatusCode::OK).await
        }
        other => {
            let wait = match other {
                Sent::TooSoon(w) => w,
                _ => 0,
            };
            let shown = Shown {
                error: Some(send_refusal(t, other, &to)),
                input: typed,
                wait,
                ..Shown::default()
            };
            bind_page(app, req, &h, email, shown, StatusCode::TOO_MANY_REQUESTS).await
        }
    }
}

/// `GET /account/questions`.
pub(super) async fn questions_get(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !verified(app, &h).await? {
        return verify_page(app, req, &h, "questions", Shown::default(), StatusCode::OK).await;
    }
    questions_page(app, req, &h, None, StatusCode::OK).await
}

async fn questions_page(
    app: &App,
    req: &Request,
    h: &Holder,
    error: Option<String>,
    status: StatusCode,
) -> Handled {
    let (tokens, new_flow) = form_tokens(app, req, 1);
    let view = QuestionsView {
        token: tokens[0].clone(),
        current: app.accounts.questions_of(&h.account.id).await?,
        error,
    };
    let chrome = app.chrome(req);
    Ok(portal_page(
        app,
        req,
        status,
        chrome.questions(&view),
        new_flow,
    ))
}

/// `POST /account/questions`: `question1`..`question3` (keys; empty: none) with
/// `answer1`..`answer3`.
pub(super) async fn questions_post(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !redeem_form(app, req).await? {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    if !verified(app, &h).await? {
        return verify_page(
            app,
            req,
            &h,
            "questions",
            Shown::default(),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let f = &req.form;
    let chosen: Vec<(String, String)> = (1..=3)
        .filter_map(|n| {
            let q = f.get(&format!("question{n}")).unwrap_or("");
            let a = f.get(&format!("answer{n}")).unwrap_or("");
            (!q.is_empty()).then(|| (q.to_string(), a.to_string()))
        })
        .collect();
    let client = app.client(req);
    match app
        .accounts
        .set_questions(&h.account.id, &chosen, &client)
        .await?
    {
        Ok(()) => Ok(done(req, "questions")),
        Err(e) => {
            let t = app.chrome(req).t();
            let error = match e {
                QuestionsError::BadChoice => t.questions_bad_choice,
                QuestionsError::BadAnswer => t.questions_bad_answer,
            };
            questions_page(app, req, &h, Some(error.into()), StatusCode::BAD_REQUEST).await
        }
    }
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
        Some("unbind-wecom") => "unbind-wecom",
        Some("unbind-wechat") => "unbind-wechat",
        Some("bind-wecom") => "bind-wecom",
        Some("bind-wechat") => "bind-wechat",
        _ => "phone",
    }
}

fn parse_recipient(email: bool, typed: &str) -> Option<Recipient> {
    match email {
        true => Email::parse(typed).map(Recipient::Email),
        false => Phone::parse(typed).map(Recipient::Phone),
    }
}

/// The sentence for a send to `to` that did not go.
pub(super) fn send_refusal(t: &'static Text, sent: Sent, to: &Recipient) -> String {
    match (sent, to) {
        (Sent::TooSoon(wait), _) => t.sms_too_soon.replace("{n}", &wait.to_string()),
        (Sent::Limited, _) => t.sms_limited.to_string(),
        (Sent::Failed(e), Recipient::Phone(_)) => sms_message(t, &e).to_string(),
        (Sent::Failed(SendError::Misconfigured(_)), Recipient::Email(_)) => {
            t.mail_unavailable.into()
        }
        (Sent::Failed(_), Recipient::Email(_)) => t.mail_failed.into(),
        (Sent::Sent { .. }, _) => String::new(),
    }
}
