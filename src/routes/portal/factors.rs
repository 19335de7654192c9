//! 账号管理 → 二次认证 (`/account/factors`): the account's second factors after the proof of
//! identity: an authenticator (set up by scanning, confirmed by its first code; removed),
//! passkeys (their own page), the bound phone, recovery codes (made with the first factor
//! beyond the phone, replaceable, shown once), and "always ask". Every addition or removal
//! is audited and told to the bound phone and e-mail.

use super::*;
use crate::accounts::Removable;
use crate::pages::FactorsView;

/// `GET /account/factors`.
pub(in crate::routes) async fn factors_get(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if let Some(step_up) = factor_gate(app, req, &h, "factors").await? {
        return Ok(step_up);
    }
    if !verified(app, &h).await? {
        return verify_page(app, req, &h, "factors", Shown::default(), StatusCode::OK).await;
    }
    let t = app.chrome(req).t();
    let done = match req.query.get("done") {
        Some("added") => Some(t.done_factor_added),
        Some("removed") => Some(t.done_factor_removed),
        Some("always") => Some(t.done_always),
        Some("recovery") => Some(t.done_recovery),
        _ => None,
    };
    factors_page(app, req, &h, done, None, StatusCode::OK).await
}

async fn factors_page(
    app: &App,
    req: &Request,
    h: &Holder,
    done: Option<&'static str>,
    error: Option<&'static str>,
    status: StatusCode,
) -> Handled {
    let factors = app.accounts.factors(&h.account).await?;
    let now = app.clock.now();
    let enrolling = app.portal.enrolling.get(&h.session.id_hash, now).await?;
    let shown = match &enrolling {
        Some(secret) => {
            let uri = crate::totp::uri(&app.config.school_name_en, &h.account.id, secret);
            let png = crate::pages::qr_png(&uri).ok_or_else(|| Failure::internal("QR code"))?;
            Some((secret.as_str(), png, uri))
        }
        None => None,
    };
    let (tokens, new_flow) = form_tokens(app, req, 1);
    let view = FactorsView {
        token: tokens[0].clone(),
        totp: factors.totp,
        passkeys: factors.held.passkeys,
        recovery_left: factors.held.recovery_left,
        recovery_made: factors.held.recovery_made,
        phone: factors.phone.as_ref().map(|p| p.masked()),
        always: h.account.mfa_always,
        enrolling: shown
            .as_ref()
            .map(|(secret, png, uri)| (*secret, png.as_slice(), uri.as_str())),
        done,
        error,
    };
    let chrome = app.chrome(req);
    Ok(portal_page(
        app,
        status,
        chrome.account_factors(&view),
        new_flow,
    ))
}

/// `POST /account/factors`: `action=totp-start`, `totp-confirm` with `code`, `totp-remove`,
/// `recovery` (new codes), `always-on`, `always-off`.
pub(in crate::routes) async fn factors_post(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !redeem_form(app, req).await? {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    if let Some(step_up) = factor_gate(app, req, &h, "factors").await? {
        return Ok(step_up);
    }
    // Each change needs a fresh proof of identity, as bindings do.
    if !verified(app, &h).await? {
        return verify_page(app, req, &h, "factors", Shown::default(), StatusCode::OK).await;
    }
    let t = app.chrome(req).t();
    let client = app.client(req);
    let now = app.clock.now();
    let key = h.session.id_hash.clone();
    let back =
        |what: &str| Response::see_other(&format!("{}/account/factors?done={what}", req.prefix));
    let factors = app.accounts.factors(&h.account).await?;
    match req.form.get("action") {
        Some("totp-start") => {
            let secret = crate::totp::new_secret();
            app.portal
                .enrolling
                .insert(key, secret, now + ENROL_TTL, now)
                .await?;
            factors_page(app, req, &h, None, None, StatusCode::OK).await
        }
        Some("totp-confirm") => {
            let code = req.form.get("code").unwrap_or("");
            let pending = app.portal.enrolling.get(&key, now).await?;
            let step = pending
                .as_deref()
                .and_then(|secret| crate::totp::verify(secret, code, now));
            let (Some(step), Some(secret)) = (step, pending) else {
                let error = Some(t.mfa_wrong);
                return factors_page(app, req, &h, None, error, StatusCode::BAD_REQUEST).await;
            };
            if app.portal.enrolling.take(&key).await?.is_none() {
                return Err(Failure::Refused(StatusCode::CONFLICT));
            }
            app.accounts.spend_totp_step(&h.account.id, step).await?;
            let event = AuditEvent::FactorAdded { factor: "totp" };
            app.accounts
                .enrol_totp(&h.account.id, secret, event, &client)
                .await?;
            app.codes
                .notify_holder(&h.account, Notice::FactorAdded, &client)
                .await;
            // Its first code proved it: this session has passed a second factor.
            app.sessions
                .prove_second_factor(&h.session, crate::model::Factor::Totp)
                .await?;
            // The first factor beyond the phone brings recovery codes, shown once.
            if factors.held.recovery_made == 0 {
                return recovery_codes(app, req, &h, &added_path(req)).await;
            }
            Ok(back("added"))
        }
        Some("totp-remove") => {
            let removed = app
                .accounts
                .remove_factor(&h.account.id, Removable::Totp, Some(&client))
                .await?;
            if removed {
                app.codes
                    .notify_holder(&h.account, Notice::FactorRemoved, &client)
                    .await;
            }
            Ok(back("removed"))
        }
        Some("recovery") if factors.any() => {
            let next = format!("{}/account/factors?done=recovery", req.prefix);
            recovery_codes(app, req, &h, &next).await
        }
        Some("always-on") if factors.any() => {
            app.accounts.set_mfa_always(&h.account.id, true).await?;
            Ok(back("always"))
        }
        Some("always-off") => {
            app.accounts.set_mfa_always(&h.account.id, false).await?;
            Ok(back("always"))
        }
        _ => Err(Failure::Refused(StatusCode::BAD_REQUEST)),
    }
}

/// New recovery codes, replacing the old ones, on a page of their own (shown once).
pub(super) async fn recovery_codes(app: &App, req: &Request, h: &Holder, next: &str) -> Handled {
    let client = app.client(req);
    let codes = app
        .accounts
        .new_recovery_codes(&h.account.id, &client)
        .await?;
    app.codes
        .notify_holder(&h.account, Notice::FactorAdded, &client)
        .await;
    let chrome = app.chrome(req);
    Ok(app.page(StatusCode::OK, chrome.recovery_codes(&codes, next)))
}

/// Back to this page, saying a factor was added.
fn added_path(req: &Request) -> String {
    format!("{}/account/factors?done=added", req.prefix)
}

/// Seconds an authenticator secret waits for its first code.
const ENROL_TTL: i64 = 900;
