//! 通行密钥 in 账号管理: listing, adding and removing the account's passkeys, behind the
//! portal's proof of identity like a phone binding. Each page load begins a registration
//! ceremony kept under this browser's flow cookie; the add form's post finishes it.
//! Removing is a plain form post with its own token (no JavaScript needed).

use super::*;
use crate::passkeys::{Refusal, MAX_NAME_CHARS};

/// Where this browser's registration ceremony is kept: its flow cookie's hash.
fn registration_key(flow: &str) -> String {
    format!("register:{}", crate::tickets::hash_id(flow))
}

/// `GET /account/passkeys`.
pub(in crate::routes) async fn passkeys_get(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if let Some(step_up) = factor_gate(app, req, &h, "passkeys").await? {
        return Ok(step_up);
    }
    if !verified(app, &h).await? {
        return verify_page(app, req, &h, "passkeys", Shown::default(), StatusCode::OK).await;
    }
    let t = app.chrome(req).t();
    let flash = match req.query.get("done") {
        Some("added") => Some(t.done_passkey_added),
        Some("removed") => Some(t.done_passkey_removed),
        _ => None,
    };
    passkeys_page(app, req, &h, flash, None, StatusCode::OK).await
}

async fn passkeys_page(
    app: &App,
    req: &Request,
    h: &Holder,
    flash: Option<&'static str>,
    error: Option<String>,
    status: StatusCode,
) -> Handled {
    // One flow id for the tokens and the ceremony, new cookie or not.
    let (flow, new) = crate::routes::flow(req);
    let now = app.clock.now();
    let listed = app.passkeys.list(&h.account.id).await?;
    let options = match app.passkeys.available() {
        true => Some(
            app.passkeys
                .begin_registration(&registration_key(&flow), &h.account)
                .await?,
        ),
        false => None,
    };
    let user_agent = req.header("user-agent").unwrap_or("");
    let default_name: String = crate::pages::browser(user_agent)
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    let view = PasskeysView {
        flash,
        error,
        passkeys: listed
            .into_iter()
            .map(|p| PasskeyLine {
                credential_id: p.credential_id,
                name: p.name,
                added: crate::routes::local_time(app, p.created_at),
                last_used: p.last_used_at.map(|at| crate::routes::local_time(app, at)),
                token: app.forms.issue(&flow, now).token,
            })
            .collect(),
        options,
        add_token: app.forms.issue(&flow, now).token,
        default_name: &default_name,
        max_name: MAX_NAME_CHARS,
    };
    let chrome = app.chrome(req);
    Ok(portal_page(
        app,
        status,
        chrome.passkeys(&view),
        new.then_some(flow),
    ))
}

/// `POST /account/passkeys`: `action=add` with `name` and `credential` (the
/// authenticator's answer, JSON), or `action=remove` with `credential_id`.
pub(in crate::routes) async fn passkeys_post(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !redeem_form(app, req).await? {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    if let Some(step_up) = factor_gate(app, req, &h, "passkeys").await? {
        return Ok(step_up);
    }
    if !verified(app, &h).await? {
        let shown = Shown::default();
        return verify_page(app, req, &h, "passkeys", shown, StatusCode::FORBIDDEN).await;
    }
    let f = &req.form;
    let t = app.chrome(req).t();
    let client = app.client(req);
    let back =
        |what: &str| Response::see_other(&format!("{}/account/passkeys?done={what}", req.prefix));
    match f.get("action") {
        Some("remove") => {
            let credential_id = f.get("credential_id").unwrap_or("");
            match app
                .passkeys
                .remove(&h.account.id, credential_id, &client)
                .await?
            {
                true => Ok(back("removed")),
                // Not this account's: nothing changes (another's stays theirs).
                false => {
                    let error = Some(t.passkey_not_found.to_string());
                    passkeys_page(app, req, &h, None, error, StatusCode::NOT_FOUND).await
                }
            }
        }
        Some("add") => {
            let answer = f.get("credential").unwrap_or("");
            let refused = |error: &str, status| {
                passkeys_page(app, req, &h, None, Some(error.to_string()), status)
            };
            if answer.is_empty() {
                // Posted without the ceremony: no JavaScript, or no WebAuthn.
                return refused(t.passkey_needs_js, StatusCode::BAD_REQUEST).await;
            }
            // The token was redeemed, so the flow cookie is there.
            let flow = req.cookie(Cookie::Flow).unwrap_or("");
            let name = f.get("name").unwrap_or("");
            let finished = app
                .passkeys
                .finish_registration(
                    &registration_key(flow),
                    &h.account.id,
                    name,
                    answer,
                    &client,
                )
                .await?;
            if finished.is_ok() {
                // The registration proved the key at hand: this session has passed a second
                // factor.
                app.sessions
                    .prove_second_factor(&h.session, crate::model::Factor::WebAuthn)
                    .await?;
            }
            match finished {
                // The first factor beyond the phone brings recovery codes, shown once.
                Ok(()) if app.accounts.factors(&h.account).await?.held.recovery_made == 0 => {
                    let next = format!("{}/account/passkeys?done=added", req.prefix);
                    super::factors::recovery_codes(app, req, &h, &next).await
                }
                Ok(()) => Ok(back("added")),
                Err(refusal) => {
                    let (error, status) = match refusal {
                        Refusal::BadName => (t.passkey_bad_name, StatusCode::BAD_REQUEST),
                        Refusal::AlreadyRegistered => (t.passkey_duplicate, StatusCode::CONFLICT),
                        Refusal::TooMany => (t.passkey_too_many, StatusCode::CONFLICT),
                        Refusal::NoCeremony | Refusal::NotVerified | Refusal::FactorExists => {
                            (t.passkey_failed, StatusCode::BAD_REQUEST)
                        }
                    };
                    refused(error, status).await
                }
            }
        }
        _ => Err(Failure::Refused(StatusCode::BAD_REQUEST)),
    }
}
