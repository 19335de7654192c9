//! `/logout`: ends the SSO session, tells the applications (single logout), and forgets the
//! cookie, always: even when the store cannot be written at this moment the cookie is
//! expired and the session refused until its end is written (`Sessions::end`).
//!
//! A cross-site `GET /logout` (an image on another site) logs the user out: the protocol
//! requires logout by GET, the harm is a nuisance, and it never redirects off the registry
//! (docs/security.md D04, an accepted risk).

use crate::http::{Cookie, Csp, Request, Response};
use crate::routes::App;
use crate::tickets;
use hyper::StatusCode;

pub(crate) async fn logout(app: &App, req: &Request) -> Response {
    // Back-channel logout starts in the background; front-channel URLs come back for
    // this page to load.
    let end = async {
        let tgc = req.cookie(Cookie::Tgc)?;
        if !app.sessions.end(tgc).await {
            return None;
        }
        tracing::info!(tgt = %tickets::log_label(tgc), "SSO session ended by logout");
        Some(tickets::hash_id(tgc))
    };
    let front = app.cas.end_and_announce(end).await;
    // CAS 3.0 `service` redirects, only to a registered service; CAS 2.0 `url` is shown
    // as a link, never followed automatically.
    let registered = |name: &str| {
        req.query
            .get(name)
            .filter(|s| app.cas.registered(s).is_some())
            .map(str::to_string)
    };
    let (service, link) = (registered("service"), registered("url"));
    let res = match (&service, front.is_empty()) {
        (Some(service), true) => Response::redirect(service),
        _ => {
            let chrome = app.chrome(req);
            let t = chrome.t();
            let mut links = vec![(t.back_to_login, format!("{}/login", req.prefix))];
            if let Some(url) = link.or(service.clone()) {
                links.insert(0, (t.continue_to, url));
            }
            let page = chrome.logged_out(&links, &front, service.as_deref());
            let origins: Vec<String> = front
                .iter()
                .filter_map(|u| url::Url::parse(u).ok())
                .map(|u| u.origin().ascii_serialization())
                .collect();
            app.page(StatusCode::OK, page)
                .csp(&Csp::default().images(&origins))
        }
    };
    match req.cookie_repeated(Cookie::Tgc) {
        true => app.cookies.clear_everywhere(res, Cookie::Tgc),
        false => app.cookies.clear(res, Cookie::Tgc),
    }
}
