//! Service patterns and how a `service` string is matched against them.
//!
//! The string a client sends is parsed once as a WHATWG URL (what the browser will do with
//! our redirect), and patterns match that parsed form: a pattern can then never be satisfied
//! by a URL that the browser resolves to another host or path (`..`, `\`, `@`, tabs).

use regex::Regex;
use url::Url;

/// Longest `service` we accept; longer ones match nothing.
pub const MAX_SERVICE_LEN: usize = 2048;
const MAX_REGEX_LEN: usize = 1024;

#[derive(Clone, Debug)]
pub enum Pattern {
    /// The whole URL, e.g. `https://app.example.edu/home`.
    Exact(String),
    /// A URL prefix written with a trailing `*`, e.g. `https://app.example.edu/portal/*`.
    Prefix(String),
    /// A regular expression written `^...$`, matched against the whole URL.
    Regex(Regex),
    /// A stored pattern that no longer parses; it matches nothing.
    Never(String),
}

#[derive(Debug, PartialEq, Eq)]
pub enum PatternError {
    NotHttpUrl,
    UserInfo,
    /// A prefix must end the host part with `/`, or `https://app.test*` would match
    /// `https://app.test.evil.example/`.
    OpenHost,
    NotNormalized(String),
    BadRegex(String),
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::NotHttpUrl => write!(f, "the pattern must be an http(s) URL, a URL prefix ending in '*', or a regex '^...$'"),
            PatternError::UserInfo => write!(f, "the pattern must not contain user:password@"),
            PatternError::OpenHost => write!(f, "a prefix pattern must include the host and a '/' after it (e.g. https://app.example.edu/*)"),
            PatternError::NotNormalized(n) => write!(f, "write the URL in its normal form: {n}"),
            PatternError::BadRegex(e) => write!(f, "invalid regex: {e}"),
        }
    }
}

impl Pattern {
    pub fn parse(pattern: &str) -> Result<Pattern, PatternError> {
        if pattern.starts_with('^') {
            if !pattern.ends_with('$') || pattern.len() > MAX_REGEX_LEN {
                return Err(PatternError::BadRegex(
                    "a regex must end with '$' and be at most 1024 characters".into(),
                ));
            }
            return regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map(Pattern::Regex)
                .map_err(|e| PatternError::BadRegex(e.to_string()));
        }
        let (url_part, is_prefix) = match pattern.strip_suffix('*') {
            Some(p) => (p, true),
            None => (pattern, false),
        };
        if !has_authority(url_part) {
            return Err(PatternError::NotHttpUrl);
        }
        let url = Url::parse(url_part).map_err(|_| PatternError::NotHttpUrl)?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(PatternError::NotHttpUrl);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(PatternError::UserInfo);
        }
        if is_prefix {
            let after_scheme = &url_part[url.scheme().len() + 3..];
            if !after_scheme.contains('/') {
                return Err(PatternError::OpenHost);
            }
            if url.as_str() != url_part {
                return Err(PatternError::NotNormalized(format!("{url}*")));
            }
            Ok(Pattern::Prefix(url_part.to_string()))
        } else {
            Ok(Pattern::Exact(without_fragment(&url)))
        }
    }

    pub(super) fn never(text: &str) -> Pattern {
        Pattern::Never(text.to_string())
    }

    /// Whether the pattern admits hosts nobody registered: a regex that matches URLs on
    /// hosts under `.invalid` (a reserved name no real application has) would match any
    /// host, and the server would become an open redirector. Exact and prefix patterns always
    /// name their host.
    pub fn matches_any_host(&self) -> bool {
        let Pattern::Regex(r) = self else {
            return false;
        };
        let host = format!("h{:016x}", rand::random::<u64>());
        [
            format!("https://{host}.invalid/"),
            format!("http://{host}.invalid/"),
            format!("https://{host}.invalid/{host}?q={host}"),
            format!("https://{host}.invalid:8443/{host}"),
            format!("https://{host}.example.invalid/"),
        ]
        .iter()
        .any(|u| r.is_match(u))
    }

    /// `url` is the normalized form from `normalize`.
    pub fn matches(&self, url: &str) -> bool {
        match self {
            Pattern::Exact(p) => p == url,
            Pattern::Prefix(p) => url.starts_with(p.as_str()),
            Pattern::Regex(r) => r.is_match(url),
            Pattern::Never(_) => false,
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pattern::Exact(p) | Pattern::Never(p) => f.write_str(p),
            Pattern::Prefix(p) => write!(f, "{p}*"),
            Pattern::Regex(r) => f.write_str(r.as_str()),
        }
    }
}

/// The form patterns are matched against: the WHATWG parse of `service` (lower-case scheme
/// and host, default port dropped, dot segments resolved) without its fragment. `None` for
/// anything that is not a plain absolute http(s) URL: control characters or spaces anywhere
/// (browsers strip tabs and newlines and would see another URL), user info, excess length,
/// or a raw form without `//` after the scheme: `http:/host/x` and `http:host/x` parse to a
/// URL with that host, but the raw string is what goes into `Location`, and browsers resolve
/// it against our own origin.
pub fn normalize(service: &str) -> Option<String> {
    if service.len() > MAX_SERVICE_LEN
        || service
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    if !has_authority(service) {
        return None;
    }
    let url = Url::parse(service).ok()?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none();
    ok.then(|| without_fragment(&url))
}

/// Whether the raw text names its host right after `http://` or `https://`.
fn has_authority(raw: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        raw.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
            && !raw[scheme.len()..].starts_with('/')
    })
}

/// A plain absolute http(s) URL (a logout URL), not a pattern: no `*`, no regex.
pub fn check_url(url: &str) -> Result<(), PatternError> {
    if url.starts_with('^') || url.ends_with('*') || normalize(url).is_none() {
        return Err(PatternError::NotHttpUrl);
    }
    Ok(())
}

fn without_fragment(url: &Url) -> String {
    let s = url.as_str();
    s.split_once('#')
        .map_or(s, |(before, _)| before)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, service: &str) -> bool {
        let p = Pattern::parse(pattern).unwrap();
        normalize(service).is_some_and(|u| p.matches(&u))
    }

    #[test]
    fn exact_prefix_and_regex() {
        assert!(matches("https://app.test/home", "https://app.test/home"));
        assert!(matches(
            "https://app.test/home",
            "HTTPS://APP.test:443/home#x"
        ));
        assert!(!matches(
            "https://app.test/home",
            "https://app.test/home?x=1"
        ));
        assert!(matches(
            "https://app.test/portal/*",
            "https://app.test/portal/a?b=c"
        ));
        assert!(matches(
            r"^https://[a-z0-9-]+\.edu\.test/.*$",
            "https://lib.edu.test/x"
        ));
        assert!(!matches(
            r"^https://[a-z0-9-]+\.edu\.test/.*$",
            "https://lib.edu.test.evil/x"
        ));
    }

    #[test]
    fn hostile_services_match_nothing() {
        let prefix = "https://app.test/portal/*";
        for evil in [
            "https://evil.test/",
            "javascript:alert(1)",
            "//evil.test/",
            "https:\\\\evil.test",
            "https://app.test.evil.test/portal/",
            "https://app.test@evil.test/portal/",
            "https://u:p@app.test/portal/",
            "https://app.test:8443/portal/x",
            "https://app.test/portal/../admin",
            "https://app.test/portal/%2e%2e/admin",
            "https://app.test/portal/%0d%0aSet-Cookie:x=1\r\n",
            "https://app.te\tst/portal/",
            " https://app.test/portal/",
            "https%3A%2F%2Fapp.test%2Fportal%2F",
            "https:/app.test/portal/x",
            "https:app.test/portal/x",
            "https:///app.test/portal/x",
        ] {
            assert!(!matches(prefix, evil), "{evil:?} matched");
        }
        assert!(!matches(
            prefix,
            &format!("https://app.test/portal/{}", "a".repeat(MAX_SERVICE_LEN))
        ));
    }

    #[test]
    fn registering_refuses_open_and_odd_patterns() {
        assert_eq!(
            Pattern::parse("https://app.test*").unwrap_err(),
            PatternError::OpenHost
        );
        assert_eq!(
            Pattern::parse("https://u:p@app.test/").unwrap_err(),
            PatternError::UserInfo
        );
        assert_eq!(
            Pattern::parse("ftp://app.test/").unwrap_err(),
            PatternError::NotHttpUrl
        );
        assert!(matches!(
            Pattern::parse("https://APP.test/x/*"),
            Err(PatternError::NotNormalized(_))
        ));
        assert!(matches!(
            Pattern::parse("^https://(a"),
            Err(PatternError::BadRegex(_))
        ));
    }

    #[test]
    fn patterns_that_admit_any_host_are_recognised() {
        for open in ["^.*$", "^https?://.*$", "^https://[^/]+/.*$"] {
            assert!(Pattern::parse(open).unwrap().matches_any_host(), "{open}");
        }
        for closed in [
            "https://app.test/*",
            "https://app.test/home",
            r"^https://[a-z0-9-]+\.edu\.test/.*$",
            r"^https://app\.test(:\d+)?/.*$",
        ] {
            assert!(
                !Pattern::parse(closed).unwrap().matches_any_host(),
                "{closed}"
            );
        }
    }

    #[test]
    fn logout_urls_are_urls_not_patterns() {
        assert!(check_url("https://app.test/logout").is_ok());
        for bad in [
            "^https://.*$",
            "https://app.test/*",
            "app.test/logout",
            "https:/app.test/x",
            "javascript:x",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    /// docs/security.md B14: a pattern that backtracks catastrophically elsewhere matches in
    /// linear time here (the `regex` crate), and patterns are capped in length.
    #[test]
    fn regex_matching_is_linear_time() {
        let p = Pattern::parse(r"^https://(a+)+\.edu\.test/.*$").unwrap();
        let evil = format!("https://{}!/", "a".repeat(1000));
        assert!(!normalize(&evil).is_some_and(|u| p.matches(&u)));
        let long = format!("^https://app\\.test/{}$", "a".repeat(MAX_REGEX_LEN));
        assert!(Pattern::parse(&long).is_err(), "a pattern past the cap");
    }
}
