//! 账号管理: the account page, changing the password, and ending one's other sessions.

use super::*;

/// `GET /account`: 账号管理.
pub(in crate::routes) async fn account_get(app: &App, req: &Request) -> Handled {
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

pub(super) async fn account_page(
    app: &App,
    req: &Request,
    h: &Holder,
    flash: Option<&'static str>,
    error: Option<String>,
    status: StatusCode,
) -> Handled {
    let chrome = app.chrome(req);
    let t = chrome.t();
    let crate::accounts::SelfService {
        bindings,
        logins,
        sessions,
    } = app.accounts.self_service(&h.account.id).await?;
    let bound = |kind: &str| bindings.iter().find(|(k, _)| k == kind).map(|(_, v)| v);
    let questions = app.accounts.questions_of(&h.account.id).await?.len();
    let factors = app.accounts.factors(&h.account).await?;
    let second_factor = factors.beyond_phone();
    let (tokens, new_flow) = form_tokens(app, req, 2);
    let view = AccountView {
        name: &h.account.name,
        account_id: &h.account.id,
        flash,
        error,
        password_token: tokens[0].clone(),
        sessions_token: tokens[1].clone(),
        rules: chrome.policy_rules(app.accounts.policy()),
        password_changed: crate::routes::local_time(app, h.account.password_changed_at),
        phone: bound("phone")
            .and_then(|v| Phone::parse(v))
            .map(|p| p.masked()),
        email: bound("email")
            .and_then(|v| Email::parse(v))
            .map(|e| e.masked()),
        questions,
        second_factor,
        wecom: bound("wecom").is_some(),
        wechat: bound("wechat").is_some(),
        wecom_on: app.wecom.is_some(),
        wechat_on: app.wechat.is_some(),
        passkeys: factors.held.passkeys as usize,
        sign_ins: logins
            .into_iter()
            .map(|r| SignIn {
                at: crate::routes::local_time(app, r.at),
                address: r.client_ip,
                browser: crate::pages::browser(&r.user_agent),
                method: login_method(t, &r.detail),
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| SessionLine {
                started: crate::routes::local_time(app, s.auth_time),
                last_used: crate::routes::local_time(app, s.last_used),
                current: s.id_hash == h.session.id_hash,
                address: s.client_ip,
                browser: crate::pages::browser(&s.user_agent),
            })
            .collect(),
    };
    Ok(portal_page(app, status, chrome.account(&view), new_flow))
}

/// `POST /account/password`: the current password and the new one twice. Every other
/// session of the account ends (single logout); this one stays.
pub(in crate::routes) async fn account_password(app: &App, req: &Request) -> Handled {
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
            app.codes
                .notify_holder(&account, Notice::PasswordChanged, &client)
                .await;
            Ok(done(req, "password"))
        }
        Err(e) => {
            let t = app.chrome(req).t();
            let error = policy_message(t, e).to_string();
            account_page(app, req, &h, None, Some(error), StatusCode::BAD_REQUEST).await
        }
    }
}

/// `POST /account/sessions`: "sign out everywhere else".
pub(in crate::routes) async fn account_sessions(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !redeem_form(app, req).await? {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let keep = h.session.id_hash.clone();
    app.accounts
        .end_other_sessions(&h.account.id, keep, &app.client(req))
        .await?;
    Ok(done(req, "sessions"))
}

/// How a login happened, in the page's language (the audit row's detail names the method).
fn login_method(t: &'static Text, detail: &str) -> &'static str {
    match Method::parse(detail) {
        Some(Method::SmsCode) => t.method_sms,
        Some(Method::QrCode) => t.method_qr,
        Some(Method::WeCom) => t.method_wecom,
        Some(Method::WeChat) => t.method_wechat,
        Some(Method::Password) | None => t.method_password,
    }
}
