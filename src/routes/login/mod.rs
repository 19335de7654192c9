//! `/login`, the room a person enters by: the credential requestor (GET) and acceptor
//! (POST) for a password, the page in its modes (`form.rs`), the SMS-code login (`sms.rs`)
//! and the campus product's login-page compatibility (`campus.rs`). Every proof ends in
//! `first_login::finish_login`.

pub(super) mod campus;
pub(super) mod form;
mod qr;
pub(super) mod sms;

use super::error::Handled;
use super::first_login::finish_login;
use super::session::{deliver, service_param, Target};
use super::App;
use crate::accounts::{Login, MAX_PASSWORD_BYTES};
use crate::http::{Cookie, Request, Response};
use crate::model::Factor;
use crate::pages::SmsForm;
use form::{login_form, qr_mode, sms_mode, Form};
use hyper::StatusCode;

pub(super) async fn login_get(app: &App, req: &Request) -> Handled {
    let service = match service_param(app, req) {
        Ok(service) => service,
        Err(refusal) => return Ok(refusal),
    };
    let renew = req.query.flag("renew");
    // Protocol: renew wins over gateway; gateway without service is a plain login.
    let gateway = req.query.flag("gateway") && !renew && service.is_some();
    let target = Target {
        service,
        post: wants_post(req.query.get("method")),
    };
    let session = match (renew, req.cookie(Cookie::Tgc)) {
        (false, Some(tgc)) => app.sessions.find(tgc).await?,
        _ => None,
    };
    match (session, &target.service) {
        (Some(session), _) => deliver(app, req, &session, &target, false, gateway).await,
        (None, Some(service)) if gateway => Ok(Response::redirect(service)),
        (None, _) if sms_mode(app, &req.query) => {
            let form = SmsForm {
                phone: "",
                code_sent_to: None,
                wait: 0,
            };
            Ok(login_form(
                app,
                req,
                &target,
                renew,
                "",
                Form::Sms(form),
                None,
                StatusCode::OK,
            )
            .await)
        }
        (None, _) if qr_mode(app, &req.query) => Ok(login_form(
            app,
            req,
            &target,
            renew,
            "",
            Form::Qr(None),
            None,
            StatusCode::OK,
        )
        .await),
        (None, _) => {
            // `username` pre-fills the form (and brings the captcha if that name needs it).
            let username = req.query.get("username").unwrap_or("");
            Ok(login_form(
                app,
                req,
                &target,
                renew,
                username,
                Form::Password,
                None,
                StatusCode::OK,
            )
            .await)
        }
    }
}

pub(super) async fn login_post(app: &App, req: &Request) -> Handled {
    let service = match service_param(app, req) {
        Ok(service) => service,
        Err(refusal) => return Ok(refusal),
    };
    let f = &req.form;
    let target = Target {
        service,
        post: wants_post(f.get("method")),
    };
    let renew = f.flag("renew");
    if sms_mode(app, f) {
        return sms::sms_login_post(app, req, &target, renew).await;
    }
    if qr_mode(app, f) {
        return qr::qr_login_post(app, req, &target, renew).await;
    }
    let username = f.get("username").unwrap_or("");
    let t = app.chrome(req).t();
    let client = app.client(req);
    // The form again, with a message and status; every refusal ends here.
    let again = |error, status| {
        login_form(
            app,
            req,
            &target,
            renew,
            username,
            Form::Password,
            Some(error),
            status,
        )
    };

    let token = f.get("execution").or_else(|| f.get("lt")).unwrap_or("");
    let Some(salt) = app.redeem(req, token).await? else {
        return Ok(again(t.form_expired, StatusCode::FORBIDDEN).await);
    };
    // Once the account name has collected failures, the captcha comes first; a wrong one
    // costs no password check. `captchaResponse` is the older campus pages' field.
    if app.accounts.needs_captcha(username, &client).await {
        let answer = f.get("captcha").or_else(|| f.get("captchaResponse"));
        if !super::captcha::solve_captcha(app, req, answer.unwrap_or("")).await? {
            app.accounts.captcha_refused(username, &client).await?;
            let refusal = super::captcha::refusal(t, answer.unwrap_or(""));
            return Ok(again(refusal, StatusCode::UNAUTHORIZED).await);
        }
    }
    // A password too long to be one we accept may be the campus page's wrapped form.
    let sent = f.get("password").unwrap_or("");
    let password = match sent.len() > MAX_PASSWORD_BYTES {
        true => {
            crate::tickets::form::unwrap_password(sent, &salt).unwrap_or_else(|| sent.to_string())
        }
        false => sent.to_string(),
    };
    match app
        .accounts
        .password_login(username, password, &client)
        .await?
    {
        Login::Success { account, weak } => {
            let remember = app.config.sessions.remember_me && f.flag("rememberMe");
            finish_login(
                app,
                req,
                &account,
                Factor::Password,
                &target,
                remember,
                weak,
            )
            .await
        }
        Login::Invalid => Ok(again(t.bad_credentials, StatusCode::UNAUTHORIZED).await),
        Login::Throttled => Ok(again(t.login_locked, StatusCode::LOCKED).await),
    }
}

/// Whether the auto-submitting POST form was asked for; any other `method` value (`HEADER`,
/// markup) means the ordinary redirect.
fn wants_post(method: Option<&str>) -> bool {
    method.is_some_and(|m| m.eq_ignore_ascii_case("POST"))
}
