//! Cookie headers, as a browser or an attacker sends them: the lookup never panics, and a
//! name sent twice is never read (a tossed second `CASTGC` is not a session). Input: the
//! value of one `Cookie` header.

use unicas::http::{Cookie, Request};

pub fn check(data: &[u8]) {
    let Ok(value) = hyper::header::HeaderValue::from_bytes(data) else {
        return;
    };
    let (parts, _) = hyper::Request::builder()
        .uri("/cas/login")
        .header(hyper::header::COOKIE, value)
        .body(())
        .expect("request")
        .into_parts();
    let Ok(req) = Request::parse(parts, Default::default(), "127.0.0.1:1".parse().unwrap()) else {
        return;
    };
    for cookie in [
        Cookie::Tgc,
        Cookie::Flow,
        Cookie::Pending,
        Cookie::Lang,
        Cookie::Recovery,
    ] {
        let found = req.cookie(cookie);
        if req.cookie_repeated(cookie) {
            assert!(found.is_none(), "{} sent twice was read", cookie.name());
        }
    }
}
