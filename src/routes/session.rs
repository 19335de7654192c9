//! Where a proven login becomes an SSO session and reaches its application: what the login
//! was for (`Target`, the `service` checked against the registry), the session and its
//! cookie, and the service ticket with the redirect (or the auto-submitting form) to the
//! application, after its access rules.

use super::error::{Failure, Handled};
use super::App;
use crate::cas::{Cas, Clearance, IssueError};
use crate::http::{Cookie, Csp, Request, Response};
use crate::model::{Account, Factor};
use crate::sessions::{LiveSession, NewSession};
use crate::tickets;
use hyper::StatusCode;
use std::sync::Arc;

/// What the login was for, carried from the request to the end of the flow.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Target {
    pub service: Option<String>,
    pub post: bool,
}

/// `service` (or the SAML alias `TARGET`): absent, registered, or refused with a page.
pub(super) fn service_param(app: &App, req: &Request) -> Result<Option<String>, Response> {
    let params = if req.method == hyper::Method::POST {
        &req.form
    } else {
        &req.query
    };
    let service = match (params.unique("service"), params.unique("TARGET")) {
        (Ok(s), Ok(t)) => s.or(t),
        _ => return Err(app.error_page(req, StatusCode::BAD_REQUEST)),
    };
    match service.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if app.cas.registered(s).is_some() => Ok(Some(s.to_string())),
        Some(s) => {
            tracing::info!(service = ?s.chars().take(200).collect::<String>(), "login for an unregistered service refused");
            let chrome = app.chrome(req);
            let t = chrome.t();
            let page = chrome.message(t.not_authorized_title, t.not_authorized_body, &[]);
            Err(app.page(StatusCode::FORBIDDEN, page))
        }
    }
}

/// A new SSO session for `account` in this browser (ending the one it had).
pub(super) async fn start_session(
    app: &App,
    req: &Request,
    account: &Account,
    first: Factor,
    remember: bool,
) -> Result<(String, Arc<LiveSession>), Failure> {
    let client = app.client(req);
    let new = NewSession {
        account,
        first,
        remember_me: remember,
        client_ip: &client.ip,
        user_agent: &client.user_agent,
    };
    let replacing = req.cookie(Cookie::Tgc);
    let (tgc, session) = app.sessions.create(new, replacing).await?;
    tracing::info!(account = %account.id, tgt = %tickets::log_label(&tgc), "SSO session started");
    Ok((tgc, session))
}

/// `res` with the new session's TGC (and without a second, planted one).
pub(super) fn with_session_cookie(
    app: &App,
    req: &Request,
    res: Response,
    tgc: &str,
    remember: bool,
) -> Response {
    let max_age = remember.then_some(app.config.sessions.remember_me_lifetime);
    let res = match req.cookie_repeated(Cookie::Tgc) {
        true => app.cookies.clear_everywhere(res, Cookie::Tgc),
        false => res,
    };
    app.cookies.set(res, Cookie::Tgc, tgc, max_age)
}

/// Issues a service ticket and sends the browser to the service with it, if the
/// service's access rules admit the account. If not: no ticket, a 403 page naming the
/// application (or, with `gateway`, back to the service without a ticket), and the SSO
/// session stays as it is for other applications. A session that must first prove a second
/// factor (the application requires one, or the account always asks) goes to the step-up
/// page, which comes back here; without a service, on to the portal.
pub(super) async fn deliver(
    app: &App,
    req: &Request,
    session: &Arc<LiveSession>,
    target: &Target,
    from_new_login: bool,
    gateway: bool,
) -> Handled {
    let Some(service) = &target.service else {
        return match app.cas.needs_second_factor(None, session).await? {
            true => Ok(step_up(req, target)),
            false => Ok(logged_in_page(req)),
        };
    };
    let Some(registered) = app.cas.registered(service) else {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    };
    let clearance = app.cas.clearance(&registered, session).await?;
    if clearance == Clearance::Denied {
        let client = app.client(req);
        app.cas
            .record_denial(&registered, &session.account_id, Some(&client))
            .await;
        if gateway {
            return Ok(Response::redirect(service));
        }
        let chrome = app.chrome(req);
        let page = chrome.access_denied(registered.title(), service);
        return Ok(app.page(StatusCode::FORBIDDEN, page));
    }
    if clearance == Clearance::SecondFactor {
        return Ok(match gateway {
            true => Response::redirect(service),
            false => step_up(req, target),
        });
    }
    let ticket = match app
        .cas
        .issue_service_ticket(service, &registered, session, from_new_login)
        .await
    {
        Ok(ticket) => ticket,
        Err(IssueError::Store(e)) => return Err(e.into()),
        Err(IssueError::SecondFactorMissing) => return Ok(step_up(req, target)),
    };
    if target.post {
        let chrome = app.chrome(req);
        // The form posts to the service.
        let csp = Csp::default().forms_leave(true);
        Ok(Response::html(StatusCode::OK, chrome.post_redirect(service, &ticket)).csp(&csp))
    } else {
        Ok(Response::redirect(&Cas::service_with_ticket(
            service, &ticket,
        )))
    }
}

/// To the second factor the session must prove first, then back to `target`.
fn step_up(req: &Request, target: &Target) -> Response {
    Response::see_other(&format!("{}/mfa{}", req.prefix, target.query()))
}

impl Target {
    /// `?service=…` (and `&method=POST`) to carry it to another page; empty without one.
    pub fn query(&self) -> String {
        let Some(service) = &self.service else {
            return String::new();
        };
        let mut query = url::form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
        query.append_pair("service", service);
        if self.post {
            query.append_pair("method", "POST");
        }
        query.finish()
    }
}

/// Logged in without a service: on to the portal.
pub(super) fn logged_in_page(req: &Request) -> Response {
    Response::see_other(&format!("{}/portal", req.prefix))
}
