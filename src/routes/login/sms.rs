//! Login with the bound phone and an SMS code (动态码登录): the login page's second tab, and
//! the campus product's `dynamicCode/getDynamicCode.htl`, which its apps call. An image
//! captcha comes before every send. Whether a number is bound shows nowhere: an unbound one
//! gets the same answer, counted against the same limits, and no message leaves the server.
//! A wrong code is a failed login like a wrong password (the same throttling).

use super::{Form, Target};
use crate::accounts::Login;
use crate::http::{Request, Response};
use crate::model::{Factor, Phone};
use crate::otp::{self, Delivery, Purpose, Sent};
use crate::pages::SmsForm;
use crate::routes::error::{Failure, Handled};
use crate::routes::first_login::sms_message;
use crate::routes::App;
use hyper::StatusCode;

/// What asking for a login code gave, for the page or the JSON answer.
enum Asked {
    Sent { to: String, wait: i64 },
    CaptchaWrong,
    BadPhone,
    TooSoon(i64),
    Refused(&'static str),
}

/// The account a bound number belongs to (active ones only), and the name its codes
/// and limits go under: the account, or for an unbound number one of its own, so
/// limits treat both alike.
async fn phone_owner(app: &App, phone: &Phone) -> Result<(Option<String>, String), Failure> {
    let owner = match app.accounts.holder("phone", vec![phone.e164()]).await? {
        Some(id) => app.accounts.active(&id).await?.map(|a| a.id),
        None => None,
    };
    let name = owner.clone().unwrap_or_else(|| phone_name(app, phone));
    Ok((owner, name))
}

/// The name a number's codes and failures go under when no account is known: a keyed
/// hash, so no log or counter holds the number itself.
fn phone_name(app: &App, phone: &Phone) -> String {
    format!("-phone-{}", app.store.keys().lookup("phone", &phone.e164()))
}

/// Sends a login code to `phone` after the captcha, if the number is bound.
async fn ask_login_code(
    app: &App,
    req: &Request,
    typed: &str,
    answer: &str,
) -> Result<Asked, Failure> {
    let t = app.chrome(req).t();
    let client = app.client(req);
    if !crate::routes::captcha::solve_captcha(app, req, answer).await? {
        // Counted against the address; the audit row names the number by its hash.
        let name = Phone::parse(typed).map(|p| phone_name(app, &p));
        let name = name.as_deref().unwrap_or("-invalid-");
        app.accounts.captcha_refused(name, &client).await?;
        return Ok(Asked::CaptchaWrong);
    }
    let Some(phone) = Phone::parse(typed) else {
        return Ok(Asked::BadPhone);
    };
    let (owner, name) = phone_owner(app, &phone).await?;
    // Answered at once either way, delivered afterwards: neither the answer nor its
    // timing tells whether the number is bound.
    let delivery = match owner {
        Some(_) => Delivery::Background,
        None => Delivery::Pretend,
    };
    let to = otp::Recipient::Phone(phone.clone());
    let sent = app
        .codes
        // The captcha above was solved for this send.
        .send(Purpose::Login, &name, &to, &client, delivery, true)
        .await?;
    Ok(match sent {
        Sent::Sent { wait } => Asked::Sent {
            to: phone.masked(),
            wait,
        },
        Sent::TooSoon(wait) => Asked::TooSoon(wait),
        Sent::Limited => Asked::Refused(t.sms_limited),
        Sent::Failed(e) => Asked::Refused(sms_message(t, &e)),
    })
}

/// `POST /login` with `cllt=dynamicLogin`: `action=send` asks for a code; otherwise the
/// number and `dynamicCode` log in.
pub(crate) async fn sms_login_post(
    app: &App,
    req: &Request,
    target: &Target,
    renew: bool,
) -> Handled {
    let f = &req.form;
    let t = app.chrome(req).t();
    let typed = f.get("mobile").unwrap_or("").trim();
    let page = |error: Option<String>, to: Option<String>, wait: i64, status| async move {
        let form = SmsForm {
            phone: typed,
            code_sent_to: to,
            wait,
        };
        Ok(super::login_form(
            app,
            req,
            target,
            renew,
            "",
            Form::Sms(form),
            error.as_deref(),
            status,
        )
        .await)
    };
    let token = f.get("execution").or_else(|| f.get("lt")).unwrap_or("");
    if app.redeem(req, token).await?.is_none() {
        return page(Some(t.form_expired.into()), None, 0, StatusCode::FORBIDDEN).await;
    }
    if f.get("action") == Some("send") {
        let answer = f.get("captcha").unwrap_or("");
        // A resend refused keeps the code's field the page had (a code sent before still
        // works); it depends on the form, never on whether the number is bound.
        let kept = f
            .get("dynamicCode")
            .and_then(|_| Phone::parse(typed))
            .map(|p| p.masked());
        return match ask_login_code(app, req, typed, answer).await? {
            Asked::Sent { to, wait } => page(None, Some(to), wait, StatusCode::OK).await,
            Asked::CaptchaWrong => {
                page(
                    Some(super::super::captcha::refusal(t, answer).into()),
                    kept,
                    0,
                    StatusCode::UNAUTHORIZED,
                )
                .await
            }
            Asked::BadPhone => {
                page(
                    Some(t.phone_invalid.into()),
                    None,
                    0,
                    StatusCode::BAD_REQUEST,
                )
                .await
            }
            Asked::TooSoon(wait) => {
                let error = t.sms_too_soon.replace("{n}", &wait.to_string());
                let to = Phone::parse(typed).map(|p| p.masked());
                page(Some(error), to, wait, StatusCode::TOO_MANY_REQUESTS).await
            }
            Asked::Refused(message) => {
                page(Some(message.into()), kept, 0, StatusCode::TOO_MANY_REQUESTS).await
            }
        };
    }
    let client = app.client(req);
    let to = Phone::parse(typed).map(|p| p.masked());
    let Some(phone) = Phone::parse(typed) else {
        return page(
            Some(t.phone_invalid.into()),
            None,
            0,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let (owner, name) = phone_owner(app, &phone).await?;
    let code = f.get("dynamicCode").unwrap_or("");
    let login = app
        .accounts
        .code_login(&app.codes, &phone, owner.as_deref(), &name, code, &client)
        .await?;
    match login {
        // The first login is taken with the password (docs/security.md M01).
        Login::Success { account, .. }
            if crate::routes::first_login::needs_first_login(app, &account, false).await? =>
        {
            let refused = Some(t.first_login_needed.into());
            page(refused, to, 0, StatusCode::FORBIDDEN).await
        }
        Login::Success { account, .. } => {
            let remember = app.config.sessions.remember_me && f.flag("rememberMe");
            super::finish_login(app, req, &account, Factor::Sms, target, remember, false).await
        }
        Login::Invalid => {
            let failed = Some(t.code_login_failed.into());
            page(failed, to, 0, StatusCode::UNAUTHORIZED).await
        }
        Login::Throttled => page(Some(t.login_locked.into()), to, 0, StatusCode::LOCKED).await,
    }
}

/// `POST dynamicCode/getDynamicCode.htl` (`mobile`, `captcha`): the campus product's
/// JSON for asking a login code: `{"code": "success"|"captchaError"|"timeExpire"|
/// "error", "message": …, "time": seconds}`.
pub(crate) async fn dynamic_code(app: &App, req: &Request) -> Handled {
    if !app.config.first_login.sms_login {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    }
    let t = app.chrome(req).t();
    let typed = req.param("mobile").unwrap_or("").trim().to_string();
    let answer = req.param("captcha").unwrap_or("").to_string();
    let (code, message, time) = match ask_login_code(app, req, &typed, &answer).await? {
        Asked::Sent { wait, .. } => ("success", String::new(), wait),
        Asked::CaptchaWrong => {
            let refusal = super::super::captcha::refusal(t, &answer);
            ("captchaError", refusal.to_string(), 0)
        }
        Asked::BadPhone => ("error", t.phone_invalid.to_string(), 0),
        Asked::TooSoon(wait) => (
            "timeExpire",
            t.sms_too_soon.replace("{n}", &wait.to_string()),
            wait,
        ),
        Asked::Refused(m) => ("error", m.to_string(), 0),
    };
    let body = serde_json::json!({ "code": code, "message": message, "time": time }).to_string();
    Ok(
        Response::new(StatusCode::OK, "application/json; charset=UTF-8", body)
            .header(hyper::header::CACHE_CONTROL, "no-store"),
    )
}
