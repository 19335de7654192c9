//! Responses and the headers every one of them carries.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::StatusCode;

pub struct Response {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Bytes,
}

/// Content-Security-Policy of our pages: nothing inline, nothing foreign, no framing.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The page CSP with one extra origin allowed as a form target (for `method=POST`).
pub fn csp_with_form_action(origin: &str) -> String {
    CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {origin}"),
    )
}

/// The page CSP with images also allowed from `origins` (front-channel logout).
pub fn csp_with_images(origins: &[String]) -> String {
    let mut sources = String::from("img-src 'self' data:");
    for o in origins {
        sources.push(' ');
        sources.push_str(o);
    }
    CSP.replace("img-src 'self' data:", &sources)
}

/// The page CSP with one inline script allowed by its SHA-256 (CSP level 2).
pub fn csp_with_script(script: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    CSP.replace(
        "script-src 'self'",
        &format!("script-src 'self' 'sha256-{hash}'"),
    )
}

impl Response {
    pub fn new(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response {
        Response {
            status,
            headers: vec![
                (hyper::header::CONTENT_TYPE, content_type.to_string()),
                (hyper::header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
            ],
            body: body.into(),
        }
    }

    pub fn plain(status: StatusCode, text: &str) -> Response {
        Response::new(status, "text/plain; charset=UTF-8", text.to_string()).no_store()
    }

    /// A page: HTML with the browser-hardening headers.
    pub fn html(status: StatusCode, markup: maud::Markup) -> Response {
        Response::new(status, "text/html; charset=UTF-8", markup.into_string())
            .no_store()
            .header(hyper::header::CONTENT_SECURITY_POLICY, CSP)
            .header(hyper::header::X_FRAME_OPTIONS, "DENY")
            .header(hyper::header::REFERRER_POLICY, "no-referrer")
            .header(
                HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            )
    }

    /// A protocol answer that must never be cached (it carries identities or tickets).
    pub fn protocol(content_type: &str, body: String) -> Response {
        Response::new(StatusCode::OK, content_type, body).no_store()
    }

    pub fn redirect(location: &str) -> Response {
        Response::new(StatusCode::FOUND, "text/plain; charset=UTF-8", "")
            .no_store()
            .header(hyper::header::LOCATION, location)
    }

    /// 303: the answer to a form is another page, fetched with GET.
    pub fn see_other(location: &str) -> Response {
        let mut res = Response::redirect(location);
        res.status = StatusCode::SEE_OTHER;
        res
    }

    pub fn method_not_allowed(allow: &str) -> Response {
        Response::plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            .header(hyper::header::ALLOW, allow)
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Response {
        self.headers
            .retain(|(n, _)| *n != name || name == hyper::header::SET_COOKIE);
        self.headers.push((name, value.into()));
        self
    }

    /// Adds a `Set-Cookie` line (see `http::cookies` for what goes in one).
    pub(super) fn set_cookie(mut self, line: String) -> Response {
        self.headers.push((hyper::header::SET_COOKIE, line));
        self
    }

    fn no_store(self) -> Response {
        self.header(hyper::header::CACHE_CONTROL, "no-store")
            .header(hyper::header::PRAGMA, "no-cache")
            .header(hyper::header::EXPIRES, "0")
    }

    pub fn into_hyper(self) -> hyper::Response<Full<Bytes>> {
        let mut res = hyper::Response::new(Full::new(self.body));
        *res.status_mut() = self.status;
        let headers = res.headers_mut();
        for (name, value) in self.headers {
            // Values are built from our own strings; one that is not a valid header (a CR or
            // LF smuggled into a redirect) is dropped rather than sent.
            match HeaderValue::from_str(&value) {
                Ok(v) => {
                    headers.append(name, v);
                }
                Err(_) => tracing::warn!(header = %name, "dropped an invalid header value"),
            }
        }
        res
    }
}
