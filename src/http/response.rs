//! Responses and the headers every one of them carries.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::StatusCode;

#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Bytes,
}

/// The Content-Security-Policy of a page: nothing inline, nothing foreign, no framing, and
/// forms that post only here, unless what the page's forms lead to must leave.
///
/// Chromium applies `form-action` to every redirect that follows a form's submission, so a
/// login form whose answer is a 302 to the application (and whatever redirects the
/// application answers with, to another host or from http to https) is blocked by
/// `form-action 'self'`, with the session cookie set and the person left on the login page.
/// Pages whose forms lead to an application, or to WeCom or WeChat, therefore carry no
/// `form-action` (as Apereo CAS and Keycloak do); every other directive stays.
#[derive(Clone, Debug, Default)]
pub struct Csp {
    /// One inline script allowed by its SHA-256 (CSP level 2).
    script: Option<String>,
    /// Origins images may also come from (front-channel logout).
    images: Vec<String>,
    /// The page's forms lead on to another site: no `form-action`.
    forms_leave: bool,
}

impl Csp {
    /// Allows the one inline script `script`, by its hash.
    pub fn script(mut self, script: &str) -> Csp {
        use base64::Engine;
        use sha2::Digest;
        let hash = sha2::Sha256::digest(script);
        self.script = Some(base64::engine::general_purpose::STANDARD.encode(hash));
        self
    }

    /// Allows images from `origins` too.
    pub fn images(mut self, origins: &[String]) -> Csp {
        self.images = origins.to_vec();
        self
    }

    /// Whether the page's forms may lead (through redirects) to another site.
    pub fn forms_leave(mut self, leave: bool) -> Csp {
        self.forms_leave = leave;
        self
    }

    pub fn header_value(&self) -> String {
        let mut csp = String::from("default-src 'self'; script-src 'self'");
        if let Some(hash) = &self.script {
            csp.push_str(&format!(" 'sha256-{hash}'"));
        }
        csp.push_str("; style-src 'self'; img-src 'self' data:");
        for origin in &self.images {
            csp.push(' ');
            csp.push_str(origin);
        }
        csp.push_str("; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
        if !self.forms_leave {
            csp.push_str("; form-action 'self'");
        }
        csp
    }
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
            .csp(&Csp::default())
            .header(hyper::header::X_FRAME_OPTIONS, "DENY")
            // Not `no-referrer`: with it browsers send `Origin: null` on every form post,
            // and the same-site check could no longer tell our forms from a forged one.
            // `same-origin` sends our origin to ourselves and nothing to anyone else (the
            // login page's URL carries the service).
            .header(hyper::header::REFERRER_POLICY, "same-origin")
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

    /// Replaces the page's Content-Security-Policy.
    pub fn csp(self, csp: &Csp) -> Response {
        self.header(hyper::header::CONTENT_SECURITY_POLICY, csp.header_value())
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
