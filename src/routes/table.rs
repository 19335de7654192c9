//! The route table: every path served under each prefix, with its handlers by method,
//! whether its POST is a person's form (checked for the same site), and the page a form
//! belongs to. Dispatch, 405 with `Allow`, the same-site check and the language switch's page
//! all come from it, so a path is declared once.

use super::error::Handled;
use super::*;
use crate::http::Response;

/// The page (shown with GET) a form posted to `path` belongs to.
pub(super) fn page_of(path: &str) -> &str {
    ROUTES
        .iter()
        .find(|r| r.path == path)
        .and_then(|r| r.page)
        .unwrap_or(path)
}

/// A handler: the request in, a page or an answer out.
type Endpoint = for<'a> fn(&'a App, &'a Request) -> BoxFuture<'a, Handled>;
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// One path under a prefix: its handlers by method, whether its POST is a person's form
/// (checked for the same site), and for a path only forms post to, the page it belongs to.
pub(super) struct Route {
    pub(super) path: &'static str,
    /// GET, and HEAD with it.
    pub(super) get: Option<Endpoint>,
    pub(super) post: Option<Endpoint>,
    pub(super) form: bool,
    pub(super) page: Option<&'static str>,
}

impl Route {
    /// `Allow` for a method this path does not take.
    pub(super) fn allow(&self) -> String {
        let mut allow = Vec::new();
        if self.get.is_some() {
            allow.extend(["GET", "HEAD"]);
        }
        if self.post.is_some() {
            allow.push("POST");
        }
        allow.join(", ")
    }
}

/// A handler that cannot fail.
macro_rules! answer {
    ($handler:path) => {
        |a, r| Box::pin(async move { Ok($handler(a, r).await) })
    };
}

/// A validation endpoint (GET or POST), which knows which one it is.
macro_rules! validation {
    ($path:literal) => {
        protocol(
            $path,
            Some(|a, r| {
                Box::pin(async move { Ok(protocol::validate::validate(a, r, $path).await) })
            }),
            |a, r| Box::pin(async move { Ok(protocol::validate::validate(a, r, $path).await) }),
        )
    };
}

const fn page(path: &'static str, get: Endpoint) -> Route {
    Route {
        path,
        get: Some(get),
        post: None,
        form: false,
        page: None,
    }
}

const fn protocol(path: &'static str, get: Option<Endpoint>, post: Endpoint) -> Route {
    Route {
        path,
        get,
        post: Some(post),
        form: false,
        page: None,
    }
}

/// A person's form, and the page it is on (with GET, if the path shows one).
const fn form(
    path: &'static str,
    get: Option<Endpoint>,
    post: Endpoint,
    page: Option<&'static str>,
) -> Route {
    Route {
        path,
        get,
        post: Some(post),
        form: true,
        page,
    }
}

/// Every path served under each prefix (`/health` and `/metrics` are at the root). The
/// table is the one place a path is declared: dispatch, 405 with `Allow`, the same-site
/// check of forms and the language switch's page all come from it.
#[rustfmt::skip]
pub(super) const ROUTES: &[Route] = &[
    page("", |_, r| Box::pin(async move { Ok(Response::redirect(&format!("{}/login", r.prefix))) })),
    page("/", |_, r| Box::pin(async move { Ok(Response::redirect(&format!("{}/login", r.prefix))) })),
    form("/login", Some(|a, r| Box::pin(login::login_get(a, r))), |a, r| Box::pin(login::login_post(a, r)), None),
    page("/login/first", |a, r| Box::pin(first_login::first_login_get(a, r))),
    form("/login/first/password", None, |a, r| Box::pin(first_login::first_login_password(a, r)), Some("/login/first")),
    form("/login/first/phone", None, |a, r| Box::pin(first_login::first_login_phone(a, r)), Some("/login/first")),
    form("/login/first/done", None, |a, r| Box::pin(first_login::first_login_done(a, r)), Some("/login/first")),
    form("/mfa", Some(|a, r| Box::pin(mfa::mfa_get(a, r))), |a, r| Box::pin(mfa::mfa_post(a, r)), None),
    protocol("/logout", Some(answer!(protocol::logout::logout)), answer!(protocol::logout::logout)),
    validation!("/validate"),
    validation!("/serviceValidate"),
    validation!("/proxyValidate"),
    validation!("/p3/serviceValidate"),
    validation!("/p3/proxyValidate"),
    protocol("/proxy", Some(answer!(protocol::validate::proxy)), answer!(protocol::validate::proxy)),
    protocol("/samlValidate", None, answer!(protocol::validate::saml_validate)),
    page("/captcha.html", answer!(captcha::captcha_image)),
    page("/getCaptcha.htl", answer!(captcha::captcha_image)),
    page("/needCaptcha.html", |a, r| Box::pin(async move { Ok(login::campus::need_captcha(a, r, false).await) })),
    page("/checkNeedCaptcha.htl", |a, r| Box::pin(async move { Ok(login::campus::need_captcha(a, r, true).await) })),
    form("/dynamicCode/getDynamicCode.htl", None, |a, r| Box::pin(login::sms::dynamic_code(a, r)), None),
    page("/help", |a, r| Box::pin(async move { Ok(a.help(r)) })),
    page("/portal", |a, r| Box::pin(portal::portal(a, r))),
    page("/account", |a, r| Box::pin(portal::account::account_get(a, r))),
    form("/account/password", None, |a, r| Box::pin(portal::account::account_password(a, r)), Some("/account")),
    form("/account/sessions", None, |a, r| Box::pin(portal::account::account_sessions(a, r)), Some("/account")),
    form("/account/verify", Some(|a, r| Box::pin(portal::verify::verify_get(a, r))), |a, r| Box::pin(portal::verify::verify_post(a, r)), None),
    form("/account/phone", Some(|a, r| Box::pin(portal::bindings::bind_get(a, r, false))), |a, r| Box::pin(portal::bindings::bind_post(a, r, false)), None),
    form("/account/email", Some(|a, r| Box::pin(portal::bindings::bind_get(a, r, true))), |a, r| Box::pin(portal::bindings::bind_post(a, r, true)), None),
    form("/account/factors", Some(|a, r| Box::pin(portal::factors::factors_get(a, r))), |a, r| Box::pin(portal::factors::factors_post(a, r)), None),
    form("/account/questions", Some(|a, r| Box::pin(portal::questions::questions_get(a, r))), |a, r| Box::pin(portal::questions::questions_post(a, r)), None),
    form("/account/passkeys", Some(|a, r| Box::pin(portal::passkeys::passkeys_get(a, r))), |a, r| Box::pin(portal::passkeys::passkeys_post(a, r)), None),
    form("/forgot", Some(|a, r| Box::pin(recovery::forgot_get(a, r))), |a, r| Box::pin(recovery::forgot_post(a, r)), None),
    form("/forgot/verify", None, |a, r| Box::pin(recovery::verify::forgot_verify(a, r)), Some("/forgot")),
    form("/forgot/password", None, |a, r| Box::pin(recovery::password::forgot_password(a, r)), Some("/forgot")),
    page("/forgot/done", |a, r| Box::pin(async move { Ok(recovery::password::forgot_done(a, r)) })),
    page("/qrCode/getToken", |a, r| Box::pin(qr::qr_token(a, r))),
    page("/qrCode/getCode", |a, r| Box::pin(qr::qr_image(a, r))),
    page("/qrCode/getStatus.htl", |a, r| Box::pin(qr::qr_status(a, r))),
    form("/qrCode/qrCodeLogin.do", Some(|a, r| Box::pin(qr::qr_scan(a, r))), |a, r| Box::pin(qr::qr_scan_post(a, r)), None),
    page("/wecom/login", |a, r| Box::pin(social::social_login(a, r, "wecom"))),
    page("/wechat/login", |a, r| Box::pin(social::social_login(a, r, "wechat"))),
    page("/wecom/bind", |a, r| Box::pin(social::social_bind(a, r, "wecom"))),
    page("/wechat/bind", |a, r| Box::pin(social::social_bind(a, r, "wechat"))),
    page("/wecom/callback", |a, r| Box::pin(social::social_callback(a, r, "wecom"))),
    page("/wechat/callback", |a, r| Box::pin(social::social_callback(a, r, "wechat"))),
    form("/wecom/verify", Some(|a, r| Box::pin(social::wecom_verify_get(a, r))), |a, r| Box::pin(social::wecom_verify_post(a, r)), None),
    page("/admin", |a, r| Box::pin(admin::admin_home(a, r))),
    form("/admin/verify", None, |a, r| Box::pin(admin::second_factor::admin_verify(a, r)), Some("/admin")),
    page("/admin/accounts", |a, r| Box::pin(admin::accounts::admin_accounts(a, r))),
    form("/admin/account", Some(|a, r| Box::pin(admin::accounts::admin_account(a, r))), |a, r| Box::pin(admin::accounts::admin_account_action(a, r)), None),
    form("/admin/sessions", None, |a, r| Box::pin(admin::admin_end_all(a, r)), Some("/admin")),
    page("/admin/services", |a, r| Box::pin(admin::services::admin_services(a, r))),
    form("/admin/service", Some(|a, r| Box::pin(admin::services::admin_service(a, r))), |a, r| Box::pin(admin::services::admin_service_save(a, r)), None),
    page("/admin/audit", |a, r| Box::pin(admin::audit::admin_audit(a, r))),
    form("/admin/import", Some(|a, r| Box::pin(admin::import::admin_import_page(a, r))), |a, r| Box::pin(admin::import::admin_import(a, r)), None),
    form("/admin/totp", Some(|a, r| Box::pin(admin::second_factor::admin_totp_page(a, r))), |a, r| Box::pin(admin::second_factor::admin_totp_confirm(a, r)), None),
];
