//! The console's second factor: the TOTP page every console visit passes (`admin_verify`),
//! the steps already used, and enrolling an authenticator (`/admin/totp`).

use super::*;

pub(super) async fn second_factor_page(
    app: &App,
    req: &Request,
    h: &Holder,
    error: Option<&'static str>,
    code_sent: bool,
    status: StatusCode,
) -> Result<Response, Failure> {
    let (flow, new_flow) = crate::routes::flow(req);
    let token = app.forms.issue(&flow, app.clock.now()).token;
    let totp = app
        .accounts
        .binding(&h.account().id, "totp")
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
    let res = app.page(status, chrome.admin_second_factor(&view));
    Ok(match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    })
}

/// `POST /admin/verify`: `action=send` (a code to the bound phone), `action=sms` with
/// `code`, or `action=totp` with `code`.
pub(in crate::routes) async fn admin_verify(app: &App, req: &Request) -> Handled {
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
                .send(
                    Purpose::Admin,
                    &account.id,
                    to,
                    &client,
                    Delivery::Wait,
                    false,
                )
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
            checked
                .map(|c| c == CodeCheck::Valid)
                .map_err(Failure::from)
        }
        _ => app
            .accounts
            .totp_step(&account.id, code)
            .await
            .map_err(Failure::from),
    };
    // Counted whatever happened, so an error cannot be retried for free.
    let right = right.unwrap_or(false);
    let locked = app
        .accounts
        .end_second_factor(&account.id, method, right, Asked::Console, &client)
        .await?;
    if locked {
        app.codes
            .notify_holder(&account, Notice::SecondFactorLocked, &client)
            .await;
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

/// `GET /admin/totp`: a new secret to enrol (kept with the grant until confirmed).
pub(in crate::routes) async fn admin_totp_page(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_page_gate(app, req).await?;
    totp_page(app, req, &grant, None, StatusCode::OK).await
}

pub(super) async fn totp_page(
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
    let enrolled = app
        .accounts
        .binding(&grant.account, "totp")
        .await?
        .is_some();
    // The QR code travels inside the page: the secret never has a URL of its own.
    let uri = crate::totp::uri(&app.config.school_name_en, &grant.account, &secret);
    let png = crate::pages::qr_png(&uri).ok_or_else(|| Failure::internal("QR code"))?;
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    let page = chrome.admin_totp(&frame, enrolled, &secret, &png, error);
    Ok(app.page(status, page))
}

/// `POST /admin/totp`: the first code confirms the pending secret, which replaces any
/// enrolled before.
pub(in crate::routes) async fn admin_totp_confirm(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_form_gate(app, req).await?;
    let now = app.clock.now();
    let t = app.chrome(req).t();
    let code = req.form.get("code").unwrap_or("");
    let pending = app.admin.totp_pending.get(&grant.account, now).await?;
    let verified =
        pending.and_then(|secret| Some((crate::totp::verify(&secret, code, now)?, secret)));
    let Some((step, secret)) = verified else {
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
    app.accounts.spend_totp_step(&grant.account, step).await?;
    let event = crate::model::AuditEvent::AdminAction {
        action: "enrol authenticator".into(),
        target: grant.account.clone(),
    };
    let by = app.client(req);
    app.accounts
        .enrol_totp(&grant.account, secret, event, &by)
        .await?;
    app.admin.totp_pending.take(&grant.account).await?;
    Ok(Response::see_other(&format!("{}/admin/totp", req.prefix)))
}
