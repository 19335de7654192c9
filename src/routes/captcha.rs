//! Image captchas, demanded once an account name has collected a few failures (see
//! `Accounts::needs_captcha`). One answer per browser (flow cookie), single use, five
//! minutes; served at `captcha.html` and `getCaptcha.htl`, the campus product's paths.

use super::App;
use super::Failure;
use crate::ephemeral::Ephemeral;
use crate::http::{Cookie, Request, Response};
use crate::store::Store;
use crate::tickets;
use hyper::StatusCode;

const CAPTCHA_TTL: i64 = 300;

/// Captcha answers held at most (each a few bytes and a key): bounded whatever the rate.
const CAPTCHA_CAPACITY: usize = 20_000;

/// The captcha's state: answers by browser (hash of the flow cookie), and how many images
/// may be drawn at once.
pub(super) struct State {
    pub(super) answers: Ephemeral<String>,
    pub(super) renders: tokio::sync::Semaphore,
}

impl State {
    pub(super) fn new(store: &Store) -> State {
        State {
            answers: Ephemeral::new(store, "captcha", CAPTCHA_CAPACITY),
            renders: tokio::sync::Semaphore::new(2),
        }
    }

    pub(super) fn sweep(&self, now: i64) {
        self.answers.sweep(now);
    }
}

/// A fresh captcha image; its answer replaces any earlier one of this browser.
pub(super) async fn captcha_image(app: &App, req: &Request) -> Response {
    if !app.anonymous_allowed(req, "captcha") {
        return too_many();
    }
    let (flow, new_flow) = super::flow(req);
    // Drawing costs a millisecond or two of CPU and needs no login: a flood of image
    // requests queues here instead of taking every core.
    let Ok(_turn) = app.captcha.renders.acquire().await else {
        return Response::plain(StatusCode::SERVICE_UNAVAILABLE, "captcha unavailable");
    };
    let made = tokio::task::spawn_blocking(|| {
        let answer = crate::captcha::answer();
        let png = crate::captcha::draw(
            &answer,
            &crate::captcha::Distortion::PEOPLE,
            &mut rand::rng(),
        );
        (answer, png)
    })
    .await;
    let Ok((answer, png)) = made else {
        tracing::error!("captcha rendering failed");
        return Response::plain(StatusCode::INTERNAL_SERVER_ERROR, "captcha unavailable");
    };
    let now = app.clock.now();
    let kept = app
        .captcha
        .answers
        .insert(tickets::hash_id(&flow), answer, now + CAPTCHA_TTL, now)
        .await;
    if let Err(e) = kept {
        tracing::error!("captcha: {e}");
        return Response::plain(StatusCode::SERVICE_UNAVAILABLE, "captcha unavailable");
    }
    let res = Response::new(StatusCode::OK, "image/png", png)
        .header(hyper::header::CACHE_CONTROL, "no-store");
    match new_flow {
        true => app.cookies.set(res, Cookie::Flow, &flow, None),
        false => res,
    }
}

/// What a refused image captcha says: nothing typed (the field may not even have been shown
/// yet, when the failures came after the page was drawn) asks for it; a wrong one says so.
pub(super) fn refusal(t: &crate::pages::Text, answer: &str) -> &'static str {
    match answer.trim().is_empty() {
        true => t.captcha_needed,
        false => t.captcha_wrong,
    }
}

/// Checks (and spends) this browser's captcha answer; letters match in either case.
pub(super) async fn solve_captcha(app: &App, req: &Request, answer: &str) -> Result<bool, Failure> {
    let Some(flow) = req.cookie(Cookie::Flow) else {
        return Ok(false);
    };
    Ok(
        match app.captcha.answers.take(&tickets::hash_id(flow)).await? {
            Some((expires, expected)) => {
                expires >= app.clock.now()
                    && !answer.is_empty()
                    && expected.eq_ignore_ascii_case(answer.trim())
            }
            None => false,
        },
    )
}

impl App {
    /// The expected answer for a flow cookie, without spending it: integration tests read it
    /// here instead of from the image. Only in builds with the `test-hooks` feature.
    #[cfg(feature = "test-hooks")]
    pub async fn captcha_answer(&self, flow_cookie: &str) -> Option<String> {
        self.captcha
            .answers
            .get(&tickets::hash_id(flow_cookie), self.clock.now())
            .await
            .expect("captcha answers readable")
    }
}

/// The answer to an address that drew too much this minute.
pub(super) fn too_many() -> Response {
    Response::plain(
        StatusCode::TOO_MANY_REQUESTS,
        "too many requests; try again in a minute",
    )
    .header(hyper::header::RETRY_AFTER, "60")
}
