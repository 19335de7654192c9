//! Binding a phone or an e-mail address with a code sent to it, and the notice to the old
//! one when a binding changes.

use super::*;

/// `GET /account/phone` and `/account/email`.
pub(in crate::routes) async fn bind_get(app: &App, req: &Request, email: bool) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    let next = if email { "email" } else { "phone" };
    if !verified(app, &h).await? {
        return verify_page(app, req, &h, next, Shown::default(), StatusCode::OK).await;
    }
    bind_page(app, req, &h, email, Shown::default(), StatusCode::OK).await
}

pub(super) async fn bind_page(
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
        None => app.codes.client_near_cap(&client, email).await?,
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
    Ok(portal_page(app, status, chrome.bind(&view), new_flow))
}

/// `POST /account/phone` and `/account/email`: `action=send` with the new number or
/// address, then `action=bind` with `code`. The old one, if any, is told of the change.
pub(in crate::routes) async fn bind_post(app: &App, req: &Request, email: bool) -> Handled {
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
        let bound = app
            .accounts
            .bind(&h.account.id, kind, to.value(), event, &client, false)
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
    let captcha = app.codes.near_cap(&client, &to).await?;
    let answer = f.get("captcha").unwrap_or("");
    if captcha && !crate::routes::captcha::solve_captcha(app, req, answer).await? {
        let refusal = crate::routes::captcha::refusal(t, answer);
        return refused(refusal.into(), typed, StatusCode::BAD_REQUEST).await;
    }
    let sent = app
        .codes
        .send(
            Purpose::Bind,
            &h.account.id,
            &to,
            &client,
            Delivery::Wait,
            captcha,
        )
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

pub(super) fn parse_recipient(email: bool, typed: &str) -> Option<Recipient> {
    match email {
        true => Email::parse(typed).map(Recipient::Email),
        false => Phone::parse(typed).map(Recipient::Phone),
    }
}

/// The sentence for a send to `to` that did not go.
pub(in crate::routes) fn send_refusal(t: &'static Text, sent: Sent, to: &Recipient) -> String {
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
