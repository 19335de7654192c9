//! Static files, embedded in the binary. Only the names listed here exist: no file system
//! lookups, no traversal.

use super::error::{Failure, Handled};
use super::App;
use crate::http::Response;
use hyper::StatusCode;
use std::path::Path;

const CSS: &str = include_str!("../../assets/unicas.css");
const AUTOSUBMIT: &str = include_str!("../../assets/autosubmit.js");
const COUNTDOWN: &str = include_str!("../../assets/countdown.js");
const QRLOGIN: &str = include_str!("../../assets/qrlogin.js");
const PASSKEY: &str = include_str!("../../assets/passkey.js");
const LOGO: &[u8] = include_bytes!("../../assets/logo.svg");

/// The configured logo (read once at start), or the built-in one.
pub fn logo(path: Option<&Path>) -> (&'static str, Vec<u8>) {
    let Some(path) = path else {
        return ("image/svg+xml", LOGO.to_vec());
    };
    let content_type = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    match std::fs::read(path) {
        Ok(bytes) => (content_type, bytes),
        Err(e) => {
            tracing::warn!("logo {}: {e}; using the built-in logo", path.display());
            ("image/svg+xml", LOGO.to_vec())
        }
    }
}

pub(super) fn asset(app: &App, name: &str) -> Handled {
    let (content_type, body): (&str, Vec<u8>) = match name {
        "unicas.css" => ("text/css; charset=UTF-8", CSS.into()),
        "autosubmit.js" => ("application/javascript; charset=UTF-8", AUTOSUBMIT.into()),
        "countdown.js" => ("application/javascript; charset=UTF-8", COUNTDOWN.into()),
        "qrlogin.js" => ("application/javascript; charset=UTF-8", QRLOGIN.into()),
        "passkey.js" => ("application/javascript; charset=UTF-8", PASSKEY.into()),
        "logo" => (app.logo.0, app.logo.1.clone()),
        _ => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
    };
    Ok(Response::new(StatusCode::OK, content_type, body)
        .header(hyper::header::CACHE_CONTROL, "public, max-age=3600"))
}
