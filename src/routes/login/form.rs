//! The login page in each of its modes (password, SMS code, QR code), with a fresh form
//! token bound to the browser, the captcha when the name has collected failures, and links
//! to WeCom and WeChat.

use crate::http::{Cookie, Csp, Request, Response};
use crate::pages::{LoginForm, LoginMode, QrForm, SmsForm};
use crate::routes::session::Target;
use crate::routes::{flow, qr, App};
use hyper::StatusCode;

/// Which form the login page shows.
pub(super) enum Form<'a> {
    Password,
    Sms(SmsForm<'a>),
    /// The QR code of a login request: this one, or a new one.
    Qr(Option<&'a str>),
}

/// Whether the request is for the SMS-code login (the campus product's `cllt`), and it is
/// on.
pub(super) fn sms_mode(app: &App, params: &crate::http::Params) -> bool {
    app.config.first_login.sms_login && params.get("cllt") == Some("dynamicLogin")
}

/// Links to log in through WeCom and WeChat, where configured (WeChat on a computer only
/// with a website application, or inside WeChat).
fn other_logins(app: &App, req: &Request, target: &Target) -> Vec<(&'static str, String)> {
    let t = app.chrome(req).t();
    let service = match &target.service {
        Some(s) => format!(
            "?service={}",
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
        ),
        None => String::new(),
    };
    let in_wechat = req
        .header("user-agent")
        .unwrap_or("")
        .contains("MicroMessenger");
    let mut others = Vec::new();
    if app.wecom.is_some() {
        others.push((
            t.wecom_login,
            format!("{}/wecom/login{service}", req.prefix),
        ));
    }
    if app
        .wechat
        .as_ref()
        .is_some_and(|w| w.has_website() || in_wechat)
    {
        others.push((
            t.wechat_login,
            format!("{}/wechat/login{service}", req.prefix),
        ));
    }
    others
}

/// Whether the request is for the QR-code login (`cllt=qrLogin`, or the campus
/// product's `display=qrLogin`), and it is on.
pub(super) fn qr_mode(app: &App, params: &crate::http::Params) -> bool {
    app.config.qr_login
        && (params.get("cllt") == Some("qrLogin") || params.get("display") == Some("qrLogin"))
}

/// Shows the form with a fresh single-use token bound to this browser's flow cookie:
/// the password form, or with `sms` the SMS-code form. An account name that has
/// collected failures gets the captcha field too.
#[allow(clippy::too_many_arguments)]
pub(super) async fn login_form(
    app: &App,
    req: &Request,
    target: &Target,
    renew: bool,
    username: &str,
    form: Form<'_>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let captcha =
        !username.is_empty() && app.accounts.needs_captcha(username, &app.client(req)).await;
    let (flow, new_flow) = flow(req);
    let issued = app.forms.issue(&flow, app.clock.now());
    let chrome = app.chrome(req);
    // A QR code stands for a login request made now, for this browser.
    let uuid = match form {
        Form::Qr(Some(uuid)) => uuid.to_string(),
        // Without the store the QR tab shows no code; the password form still works.
        Form::Qr(None) => qr::new_qr_request(app, req, &flow, target)
            .await
            .unwrap_or_else(|e| {
                tracing::error!("QR-code request: {e:?}");
                String::new()
            }),
        _ => String::new(),
    };
    let mode = match form {
        Form::Password => LoginMode::Password,
        Form::Sms(sms) => LoginMode::Sms(sms),
        Form::Qr(_) => LoginMode::Qr(QrForm {
            uuid: &uuid,
            ttl: qr::QR_TTL,
        }),
    };
    let form = LoginForm {
        token: &issued.token,
        salt: &issued.salt,
        service: target.service.as_deref(),
        renew,
        method: target.post.then_some("POST"),
        username,
        error,
        remember_me: app.config.sessions.remember_me,
        captcha,
        sms_login: app.config.first_login.sms_login,
        qr_login: app.config.qr_login,
        others: other_logins(app, req, target),
        mode,
    };
    // A login for a service ends in a redirect to it.
    let csp = Csp::default()
        .script(&crate::pages::salt_script(&issued.salt))
        .forms_leave(target.service.is_some());
    let res = app.page(status, chrome.login(&form)).csp(&csp);
    match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    }
}
