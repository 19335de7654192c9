//! The proof of identity the portal asks before a change that matters (binding, questions):
//! the password, or a code to a bound phone or address; it holds for ten minutes.

use super::*;

/// `GET /account/verify?next=…`, and the change pages before a proof of identity.
pub(in crate::routes) async fn verify_get(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    let next = next_step(req.query.get("next"));
    verify_page(app, req, &h, next, Shown::default(), StatusCode::OK).await
}

pub(super) async fn verify_page(
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
    Ok(portal_page(app, status, chrome.verify(&view), new_flow).csp(&csp))
}

/// `POST /account/verify`: `action=password` with `password`, `action=send` for a code
/// to the bound phone, `action=code` with `code`; then on to `next`.
pub(in crate::routes) async fn verify_post(app: &App, req: &Request) -> Handled {
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
                .send(
                    Purpose::Verify,
                    &h.account.id,
                    to,
                    &client,
                    Delivery::Wait,
                    false,
                )
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
pub(super) async fn confirmed(
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
        let event = AuditEvent::IdentityConfirmed { method };
        app.accounts
            .record(client, event, Some(&h.account.id))
            .await?;
    }
    if let Some(kind) = next.strip_prefix("unbind-") {
        let kind: &'static str = if kind == "wecom" { "wecom" } else { "wechat" };
        app.accounts.unbind_own(&h.account.id, kind, client).await?;
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
