//! Cookie headers, as a browser or an attacker sends them: the lookup never panics, and a
//! name sent twice is never a session.
#![no_main]
use libfuzzer_sys::fuzz_target;
use unicas::http::{Cookie, Request};

fuzz_target!(|data: &[u8]| {
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
    for cookie in [Cookie::Tgc, Cookie::Flow, Cookie::Pending, Cookie::Lang] {
        let found = req.cookie(cookie);
        if req.cookie_repeated(cookie) {
            assert!(found.is_none());
        }
    }
});
