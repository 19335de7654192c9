//! The query and form parser (`unicas::http::Params`): never panics; what it accepts
//! decodes once and re-encodes to the same pairs. Input: the query string or form body.

use unicas::http::Params;

pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(params) = Params::parse(text) else {
        return;
    };
    let pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut again = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        again.append_pair(k, v);
    }
    let reparsed = Params::parse(&again.finish()).expect("our own encoding parses");
    let back: Vec<(String, String)> = reparsed
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    let expected: Vec<(String, String)> =
        pairs.into_iter().filter(|(k, _)| !k.is_empty()).collect();
    assert_eq!(back, expected);
    for (k, _) in params.iter() {
        let _ = params.unique(k);
        let _ = params.flag(k);
    }
}
