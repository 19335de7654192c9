//! Compatibility with the login page of the campus CAS product most schools migrate from
//! (served under `/authserver`): the helper endpoints that timetable apps, library apps and departments' scripts call before
//! they log in. (The password wrapping its page does is undone in `tickets::form`.)

use crate::http::{Request, Response};
use crate::routes::App;
use hyper::StatusCode;

/// `needCaptcha.html?username=` (`true`/`false`, older builds) and
/// `checkNeedCaptcha.htl?username=` (`{"isNeed":false}`, newer builds): whether the next
/// login for that name must carry a captcha. Same answer for real and invented names.
pub(crate) async fn need_captcha(app: &App, req: &Request, json: bool) -> Response {
    let username = req.query.get("username").unwrap_or("");
    let needed =
        !username.is_empty() && app.accounts.needs_captcha(username, &app.client(req)).await;
    match json {
        true => Response::new(
            StatusCode::OK,
            "application/json; charset=UTF-8",
            format!("{{\"isNeed\":{needed}}}"),
        ),
        false => Response::new(
            StatusCode::OK,
            "text/plain; charset=UTF-8",
            needed.to_string(),
        ),
    }
    .header(hyper::header::CACHE_CONTROL, "no-store")
}
