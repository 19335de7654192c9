//! The recovery's last step: the new password twice, then 密码找回成功 and back to login.

use super::*;

pub(super) fn password_step(
    app: &App,
    req: &Request,
    r: &Recovery,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let chrome = app.chrome(req);
    let step = RecoveryStep::Password {
        account: &r.name,
        rules: chrome.policy_rules(app.accounts.policy()),
    };
    let service = r.target.service.as_deref();
    recovery_page(app, req, step, (r.token.clone(), service), error, status)
}

/// `POST /forgot/password` (step 3): `newPassword`, `confirmPassword`. The recovery is
/// spent by the change; every SSO session of the account ends.
pub(in crate::routes) async fn forgot_password(app: &App, req: &Request) -> Handled {
    let t = app.chrome(req).t();
    let (key, r) = step(app, req).await?;
    let f = &req.form;
    let (true, Some(account_id)) = (r.verified, r.account.clone()) else {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    };
    let (new, repeat) = (
        f.get("newPassword").unwrap_or(""),
        f.get("confirmPassword").unwrap_or(""),
    );
    if let Err(e) = app.accounts.policy().check_new(&account_id, new, repeat) {
        let error = policy_message(t, e).to_string();
        return Ok(password_step(
            app,
            req,
            &r,
            Some(error),
            StatusCode::BAD_REQUEST,
        ));
    }
    // Spent here: of two submits (or a replay) only one changes the password.
    if app.recovery.pending.take(&key).await?.is_none() {
        return Ok(recovery_start(
            app,
            req,
            "",
            Some(t.recovery_expired.into()),
            StatusCode::FORBIDDEN,
        ));
    }
    let change = PasswordChange {
        account_id: &account_id,
        current: None,
        new,
        repeat,
        must_change: false,
        keep_session: None,
        keep_identities: false,
        by: Actor::Recovery,
    };
    let client = app.client(req);
    match app.accounts.change_password(change, &client).await? {
        Ok(account) => {
            app.codes
                .notify_holder(&account, Notice::PasswordReset, &client)
                .await;
            let mut done = format!("{}/forgot/done", req.prefix);
            if let Some(service) = &r.target.service {
                done.push_str("?service=");
                done.extend(url::form_urlencoded::byte_serialize(service.as_bytes()));
            }
            let res = Response::see_other(&done);
            Ok(app.cookies.clear(res, Cookie::Recovery))
        }
        Err(e) => {
            // Refused (a recent password): the recovery stands for another try.
            keep_recovery(app, &key, &r).await?;
            let error = policy_message(t, e).to_string();
            Ok(password_step(
                app,
                req,
                &r,
                Some(error),
                StatusCode::BAD_REQUEST,
            ))
        }
    }
}

/// `GET /forgot/done` (step 4): "密码找回成功 去登录", and on to the login page (with
/// the service the user came from) after three seconds.
pub(in crate::routes) fn forgot_done(app: &App, req: &Request) -> Response {
    let service = crate::routes::session::service_param(app, req)
        .ok()
        .flatten();
    let mut login = format!("{}/login", req.prefix);
    if let Some(service) = &service {
        login.push_str("?service=");
        login.extend(url::form_urlencoded::byte_serialize(service.as_bytes()));
    }
    recovery_page(
        app,
        req,
        RecoveryStep::Done { login },
        (String::new(), service.as_deref()),
        None,
        StatusCode::OK,
    )
}
