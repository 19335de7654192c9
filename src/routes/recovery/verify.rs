//! The recovery's second step: the code sent to the phone or address the person chose, typed
//! back in full.

use super::*;

pub(super) async fn verify_step(
    app: &App,
    req: &Request,
    r: &Recovery,
    method: &str,
    shown: Shown,
    status: StatusCode,
) -> Handled {
    let english = app.chrome(req).lang == Lang::En;
    let methods = Methods {
        phone: r.phone,
        email: r.email,
        questions: r
            .questions
            .iter()
            .filter_map(|k| question_text(k, english))
            .collect(),
    };
    let captcha = match (method, shown.input.as_str()) {
        ("phone" | "email", typed) if !typed.is_empty() => match recipient(method, typed) {
            Some(to) => app.codes.near_cap(&app.client(req), &to).await?,
            None => false,
        },
        _ => false,
    };
    let step = RecoveryStep::Verify {
        account: &r.name,
        methods,
        method,
        input: &shown.input,
        code_sent_to: shown.code_sent_to,
        wait: shown.wait,
        captcha,
    };
    Ok(recovery_page(
        app,
        req,
        step,
        (r.token.clone(), r.target.service.as_deref()),
        shown.error,
        status,
    ))
}

/// `POST /forgot/verify` (step 2): `method`; for `phone`/`email` the full number or
/// address and `action=send`, then `code` and `action=verify`; for `questions`,
/// `answer1`..`answer3`.
pub(in crate::routes) async fn forgot_verify(app: &App, req: &Request) -> Handled {
    let t = app.chrome(req).t();
    let (key, mut r) = step(app, req).await?;
    let f = &req.form;
    let method = f.get("method").unwrap_or("");
    if !r.offers(method) || r.verified {
        return Err(Failure::Refused(StatusCode::BAD_REQUEST));
    }
    let client = app.client(req);
    let method: &'static str = match method {
        "phone" => "phone",
        "email" => "email",
        _ => "questions",
    };
    if method == "questions" {
        let answers: Vec<String> = (1..=r.questions.len())
            .map(|n| f.get(&format!("answer{n}")).unwrap_or("").to_string())
            .collect();
        let right = app
            .accounts
            .check_answers(&r.name, r.account.as_deref(), &answers, &client)
            .await?;
        return match right {
            Some(true) if r.account.is_some() => {
                r.verified = true;
                keep_recovery(app, &key, &r).await?;
                Ok(Response::see_other(&format!("{}/forgot", req.prefix)))
            }
            None => {
                let shown = Shown {
                    error: Some(t.throttled.into()),
                    ..Shown::default()
                };
                verify_step(app, req, &r, method, shown, StatusCode::LOCKED).await
            }
            _ => {
                r.wrong_answers += 1;
                if r.wrong_answers >= app.config.recovery.max_answer_attempts {
                    app.recovery.pending.take(&key).await?;
                    return Ok(recovery_start(
                        app,
                        req,
                        "",
                        Some(t.recovery_expired.into()),
                        StatusCode::BAD_REQUEST,
                    ));
                }
                keep_recovery(app, &key, &r).await?;
                let shown = Shown {
                    error: Some(t.answers_wrong.into()),
                    ..Shown::default()
                };
                verify_step(app, req, &r, method, shown, StatusCode::BAD_REQUEST).await
            }
        };
    }
    let typed = f.get(method).unwrap_or("").trim().to_string();
    let Some(to) = recipient(method, &typed) else {
        let invalid = if method == "email" {
            t.email_invalid
        } else {
            t.phone_invalid
        };
        let shown = Shown {
            error: Some(invalid.into()),
            input: typed,
            ..Shown::default()
        };
        return verify_step(app, req, &r, method, shown, StatusCode::BAD_REQUEST).await;
    };
    if f.get("action") == Some("send") {
        let captcha = app.codes.near_cap(&client, &to).await?;
        let answer = f.get("captcha").unwrap_or("");
        if captcha && !crate::routes::captcha::solve_captcha(app, req, answer).await? {
            let shown = Shown {
                error: Some(crate::routes::captcha::refusal(t, answer).into()),
                input: typed,
                ..Shown::default()
            };
            return verify_step(app, req, &r, method, shown, StatusCode::BAD_REQUEST).await;
        }
        // Sent only to the account's own number or address; answered alike otherwise.
        let bound = match &r.account {
            Some(id) => app.accounts.binding(id, to.kind()).await?,
            None => None,
        };
        let delivery = match bound
            .as_deref()
            .and_then(|v| Recipient::parse(to.kind(), v))
        {
            Some(b) if b == to => Delivery::Background,
            _ => Delivery::Pretend,
        };
        let sent = app
            .codes
            .send(Purpose::Recovery, &r.name, &to, &client, delivery, captcha)
            .await?;
        if matches!(sent, Sent::Sent { .. }) {
            r.sent_to = Some(to.value());
            keep_recovery(app, &key, &r).await?;
        }
        let shown = match sent {
            Sent::Sent { wait } => Shown {
                input: typed,
                code_sent_to: Some(to.masked()),
                wait,
                error: None,
            },
            other => Shown {
                wait: if let Sent::TooSoon(w) = other { w } else { 0 },
                error: Some(send_refusal(t, other, &to)),
                input: typed,
                code_sent_to: None,
            },
        };
        let status = match shown.error {
            None => StatusCode::OK,
            Some(_) => StatusCode::TOO_MANY_REQUESTS,
        };
        return verify_step(app, req, &r, method, shown, status).await;
    }
    // The code went where it was sent, even if the field was edited since.
    let to = r
        .sent_to
        .as_deref()
        .and_then(|v| Recipient::parse(to.kind(), v))
        .unwrap_or(to);
    let code = f.get("code").unwrap_or("");
    let checked = app
        .codes
        .check(Purpose::Recovery, &r.name, &to, code, &client)
        .await?;
    if checked == CodeCheck::Valid && r.account.is_some() {
        r.verified = true;
        keep_recovery(app, &key, &r).await?;
        let event = AuditEvent::RecoveryVerified { method };
        app.accounts.record(&client, event, Some(&r.name)).await?;
        return Ok(Response::see_other(&format!("{}/forgot", req.prefix)));
    }
    // One sentence for a wrong, expired or never-sent code: a code never sent (the
    // number typed is not the account's) must look like a wrong one.
    let shown = Shown {
        error: Some(t.code_invalid.into()),
        input: typed,
        code_sent_to: Some(to.masked()),
        wait: 0,
    };
    verify_step(app, req, &r, method, shown, StatusCode::BAD_REQUEST).await
}

pub(super) fn recipient(method: &str, typed: &str) -> Option<Recipient> {
    match method {
        "email" => Email::parse(typed).map(Recipient::Email),
        _ => Phone::parse(typed).map(Recipient::Phone),
    }
}
