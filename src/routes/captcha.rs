//! Image captchas, demanded once an account name has collected a few failures (see
//! `Authenticator::needs_captcha`). One answer per browser (flow cookie), single use, five
//! minutes; served at `captcha.html` and `getCaptcha.htl`, the campus product's paths.

use super::{App, FLOW};
use crate::http::{Request, Response};
use crate::tickets::{self, Kind};
use hyper::StatusCode;

const CAPTCHA_TTL: i64 = 300;

impl App {
    /// This browser's flow id (from its cookie, or a new one to set) and whether it is new.
    pub(super) fn flow_id(&self, req: &Request) -> (String, bool) {
        match req
            .cookie(FLOW)
            .filter(|v| tickets::well_formed(v, Kind::LoginForm))
        {
            Some(v) => (v.to_string(), false),
            None => (tickets::new_id(Kind::LoginForm), true),
        }
    }

    /// A fresh captcha image; its answer replaces any earlier one of this browser.
    pub(super) async fn captcha_image(&self, req: &Request) -> Response {
        let (browser, new_cookie) = self.flow_id(req);
        // Drawing costs a millisecond or two of CPU and needs no login: a flood of image
        // requests queues here instead of taking every core.
        let Ok(_turn) = self.captcha_renders.acquire().await else {
            return Response::plain(StatusCode::SERVICE_UNAVAILABLE, "captcha unavailable");
        };
        let made = tokio::task::spawn_blocking(|| {
            let mut c = captcha::Captcha::new();
            c.add_chars(4)
                .apply_filter(captcha::filters::Noise::new(0.2))
                .apply_filter(captcha::filters::Wave::new(2.0, 12.0))
                .view(160, 60);
            c.as_png().map(|png| (c.chars_as_string(), png))
        })
        .await;
        let Ok(Some((answer, png))) = made else {
            tracing::error!("captcha rendering failed");
            return Response::plain(StatusCode::INTERNAL_SERVER_ERROR, "captcha unavailable");
        };
        self.captchas.insert(
            tickets::hash_id(&browser),
            answer,
            self.cas.clock.now() + CAPTCHA_TTL,
        );
        let res = Response::new(StatusCode::OK, "image/png", png)
            .header(hyper::header::CACHE_CONTROL, "no-store");
        match new_cookie {
            true => res.cookie(&self.cookie(req, FLOW, &browser, None)),
            false => res,
        }
    }

    /// The expected answer for a flow cookie, without spending it. Integration tests use it
    /// in place of reading the image.
    #[doc(hidden)]
    pub fn captcha_answer(&self, flow_cookie: &str) -> Option<String> {
        let now = self.cas.clock.now();
        self.captchas.get(&tickets::hash_id(flow_cookie), now)
    }

    /// Checks (and spends) this browser's captcha answer; letters match in either case.
    pub(super) fn solve_captcha(&self, req: &Request, answer: &str) -> bool {
        let Some(browser) = req.cookie(FLOW) else {
            return false;
        };
        match self.captchas.take(&tickets::hash_id(browser)) {
            Some((expires, expected)) => {
                expires >= self.cas.clock.now()
                    && !answer.is_empty()
                    && expected.eq_ignore_ascii_case(answer.trim())
            }
            None => false,
        }
    }
}
