//! Service patterns and the URL normaliser (`unicas::model::pattern`). Property: when an
//! exact or prefix pattern matches a service, the browser's reading of the service (WHATWG)
//! has the pattern's scheme, host and port: no parser disagreement can send a ticket
//! elsewhere; normalising is idempotent. Input: the pattern, a newline, the service URL (no
//! newline: the whole input is the service, against `https://app.test/*`).

use unicas::model::pattern::{normalize, Pattern};

pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, service) = text
        .split_once('\n')
        .unwrap_or(("https://app.test/*", text));
    let Ok(p) = Pattern::parse(pattern) else {
        return;
    };
    let _ = p.matches_any_host();
    let Some(url) = normalize(service) else {
        return;
    };
    assert_eq!(
        normalize(&url).as_deref(),
        Some(url.as_str()),
        "normalising is idempotent"
    );
    if !p.matches(&url) || matches!(p, Pattern::Regex(_)) {
        return;
    }
    let browser = url::Url::parse(service).expect("normalize parsed it");
    let registered = url::Url::parse(pattern.trim_end_matches('*')).expect("parse accepted it");
    assert_eq!(browser.scheme(), registered.scheme());
    assert_eq!(browser.host_str(), registered.host_str());
    assert_eq!(
        browser.port_or_known_default(),
        registered.port_or_known_default()
    );
}
