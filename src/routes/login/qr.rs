//! The login page's QR-code mode, posted by the computer once a phone confirmed the request
//! (see `routes::qr`): the request is spent, and this browser gets its own SSO session.

use super::form::{login_form, Form};
use crate::http::Request;
use crate::model::audit::Method;
use crate::model::Factor;

use crate::routes::error::Handled;
use crate::routes::first_login::finish_login;
use crate::routes::qr::{made_here, qr_request, QrState};
use crate::routes::session::Target;
use crate::routes::App;
use hyper::StatusCode;

/// `POST /login` with `cllt=qrLogin` and `uuid` (the computer): once a phone confirmed,
/// this browser's own SSO session, and on to the service.
pub(super) async fn qr_login_post(
    app: &App,
    req: &Request,
    target: &Target,
    renew: bool,
) -> Handled {
    let f = &req.form;
    let t = app.chrome(req).t();
    let token = f.get("execution").or_else(|| f.get("lt")).unwrap_or("");
    // The page again: with a new code, or (not yet confirmed) the same one.
    let again = |error: &'static str, status, uuid: Option<&str>| {
        let uuid = uuid.map(str::to_string);
        async move {
            let form = Form::Qr(uuid.as_deref());
            login_form(app, req, target, renew, "", form, Some(error), status).await
        }
    };
    if app.redeem(req, token).await?.is_none() {
        return Ok(again(t.form_expired, StatusCode::FORBIDDEN, None).await);
    }
    let uuid = f.get("uuid").unwrap_or("");
    let Some((key, request)) = qr_request(app, uuid)
        .await?
        .filter(|(_, r)| made_here(req, r))
    else {
        return Ok(again(t.qr_invalid, StatusCode::FORBIDDEN, None).await);
    };
    let QrState::Confirmed {
        account: account_id,
        generation,
    } = request.state.clone()
    else {
        let same = (request.state != QrState::Cancelled).then_some(uuid);
        return Ok(again(t.qr_not_confirmed, StatusCode::UNAUTHORIZED, same).await);
    };
    // Spent here: of two posts only one gets a session.
    if app.qr.requests.take(&key).await?.is_none() {
        return Ok(again(t.qr_invalid, StatusCode::FORBIDDEN, None).await);
    }
    let account = app
        .accounts
        .active(&account_id)
        .await?
        .filter(|a| a.generation == generation);
    let Some(account) = account else {
        return Ok(again(t.qr_invalid, StatusCode::FORBIDDEN, None).await);
    };
    app.accounts
        .record_login(&account_id, Method::QrCode, &app.client(req))
        .await?;
    // The request's service, else the one this form carries.
    let target = match &request.target.service {
        Some(_) => request.target,
        None => target.clone(),
    };
    finish_login(app, req, &account, Factor::Qr, &target, false, false).await
}
