//! Whether a person's form post comes from our own pages: the login-CSRF check every form of
//! the route table passes before its handler runs.

use super::App;
use crate::http::Request;

/// Whether a form post comes from our own pages (login CSRF, docs/security.md D02, D03, L06).
///
/// A browser's `Origin` must be this host or the public URL's origin. Our pages send
/// `Referrer-Policy: same-origin`, so browsers send the real origin on our own posts; a
/// browser may still say `null` (a stricter policy of its own, a privacy extension), and
/// then only its `Sec-Fetch-Site: same-origin` vouches for the post: `null` alone is what a
/// sandboxed frame or a redirected cross-site post sends. A browser that sends neither
/// (IE, scripts) is judged by the form's token alone.
pub(super) fn same_site(app: &App, req: &Request) -> bool {
    // A browser sends each once; two are no browser's, and the first may not be the one
    // a proxy or an application behind it reads.
    if ["origin", "sec-fetch-site", "host"]
        .iter()
        .any(|name| req.headers.get_all(*name).iter().count() > 1)
    {
        return false;
    }
    let fetch_site = req.header("sec-fetch-site").map(str::to_ascii_lowercase);
    let fetch_site = fetch_site.as_deref();
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return false;
    }
    match req.header("origin") {
        Some("null") => fetch_site == Some("same-origin"),
        Some(origin) => own_origin(app, req, origin),
        None => true,
    }
}

/// Whether `origin` is the public URL's origin, or this host as the request names it
/// (a deployment reached under another name), never over http when the public URL is
/// https (a plain-http page on the same name is not ours).
fn own_origin(app: &App, req: &Request, origin: &str) -> bool {
    let public = app.config.public_url().ok();
    if public
        .as_ref()
        .map(|u| u.origin().ascii_serialization())
        .as_deref()
        == Some(origin)
    {
        return true;
    }
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    let downgrade =
        origin.scheme() != "https" && public.as_ref().is_some_and(|u| u.scheme() == "https");
    let host = origin.host_str().map(|host| match origin.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    });
    let named = host
        .zip(req.header("host"))
        .is_some_and(|(o, h)| o.eq_ignore_ascii_case(h));
    named && !downgrade && matches!(origin.scheme(), "http" | "https")
}
