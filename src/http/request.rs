//! A request as handlers see it: method, path, decoded query and form, cookies, peer.
//! Percent-decoding is strict (a malformed escape or non-UTF-8 result is a 400), and done once.

use hyper::body::Bytes;
use hyper::http::request::Parts;
use hyper::{HeaderMap, Method};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

pub struct Request {
    pub method: Method,
    pub path: String,
    /// The protocol prefix this request came in under (`/cas`, `/authserver`); set by the
    /// router, so links and cookies stay under the prefix the client uses.
    pub prefix: String,
    pub query: Params,
    /// The urlencoded form body of a POST (empty otherwise).
    pub form: Params,
    /// The raw body, for endpoints that take XML.
    pub body: Bytes,
    pub headers: HeaderMap,
    pub peer: SocketAddr,
}

/// Decoded `name=value` pairs in order. Repeats are kept so callers can refuse them.
#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (also used for query strings).
    pub fn parse(raw: &str) -> Result<Params, &'static str> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Params(pairs))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or `Err` if it was given more than once (one parser taking the
    /// first and another the last is how ticket/service confusion attacks work).
    pub fn unique(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self.0.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        match values.next() {
            Some(_) => Err(Repeated),
            None => Ok(first),
        }
    }

    /// `true` if `name` is present with any value other than `false` (CAS `renew`, `gateway`).
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| !v.eq_ignore_ascii_case("false"))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// A parameter that must appear at most once appeared again.
#[derive(Debug, PartialEq, Eq)]
pub struct Repeated;

fn decode(s: &str) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .ok_or("malformed percent-encoding")?;
                let hex = std::str::from_utf8(hex).map_err(|_| "malformed percent-encoding")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| "malformed percent-encoding")?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "parameters must be UTF-8")
}

impl Request {
    /// The client's address: the peer, unless the peer is a trusted reverse proxy, in which
    /// case the nearest address the proxies recorded (`Forwarded: for=`, RFC 7239, else
    /// `X-Forwarded-For`) that is not itself a trusted proxy. Entries further left are
    /// whatever the client claimed, so they are never believed.
    pub fn client_ip(&self, trusted: &[IpNet]) -> IpAddr {
        let peer = self.peer.ip();
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return peer;
        }
        let lines = |name: &str| -> Vec<String> {
            self.headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|v| v.trim().to_string())
                .collect()
        };
        let forwarded = lines("forwarded");
        let hops: Vec<Option<IpAddr>> = match forwarded.is_empty() {
            false => forwarded
                .iter()
                .map(|element| forwarded_for(element))
                .collect(),
            true => lines("x-forwarded-for")
                .iter()
                .map(|hop| hop.parse().ok())
                .collect(),
        };
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) if is_trusted(ip) => continue,
                Some(ip) => return *ip,
                None => return peer,
            }
        }
        peer
    }

    pub fn parse(parts: Parts, body: Bytes, peer: SocketAddr) -> Result<Request, &'static str> {
        Request::head(parts, peer)?.with_body(body)
    }

    /// The request as far as its head: method, path, query, headers; no body yet.
    pub fn head(parts: Parts, peer: SocketAddr) -> Result<Request, &'static str> {
        Ok(Request {
            query: Params::parse(parts.uri.query().unwrap_or(""))?,
            method: parts.method,
            path: parts.uri.path().to_string(),
            prefix: String::new(),
            form: Params::default(),
            body: Bytes::new(),
            headers: parts.headers,
            peer,
        })
    }

    /// The head with its body, and the form parsed from it when it is one.
    pub fn with_body(mut self, body: Bytes) -> Result<Request, &'static str> {
        let is_form = self
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if self.method == Method::POST && is_form {
            self.form =
                Params::parse(std::str::from_utf8(&body).map_err(|_| "form must be UTF-8")?)?;
        }
        self.body = body;
        Ok(self)
    }

    /// The value of `cookie`, or `None` if the browser sent none, or more than one: a
    /// sibling subdomain or another path can plant a second cookie of the same name, and
    /// which one a browser sends first is not ours to choose (no "first wins").
    pub fn cookie(&self, cookie: super::Cookie) -> Option<&str> {
        let mut values = self.cookies(cookie.name());
        let first = values.next();
        match values.next() {
            Some(_) => None,
            None => first,
        }
    }

    /// Whether the browser sent `cookie` more than once.
    pub fn cookie_repeated(&self, cookie: super::Cookie) -> bool {
        self.cookies(cookie.name()).nth(1).is_some()
    }

    fn cookies<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .get_all(hyper::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .filter(move |(k, _)| *k == name)
            .map(|(_, v)| v.trim_matches('"'))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter, falling back to the form (CAS clients may use either).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).or_else(|| self.form.get(name))
    }
}

/// The address in one `Forwarded` element's `for=` (`for=192.0.2.43`,
/// `for="[2001:db8:cafe::17]:4711"`); `None` for an obfuscated or missing one.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("for")
            .then(|| v.trim().trim_matches('"'))
    })?;
    match value.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?.parse().ok(),
        None => value
            .parse()
            .ok()
            .or_else(|| value.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once_and_strictly() {
        let p = Params::parse("service=https%3A%2F%2Fa%2F%3Fx%3D1&renew=&t=a+b&d=%252F").unwrap();
        assert_eq!(p.get("service"), Some("https://a/?x=1"));
        assert!(p.flag("renew"));
        assert_eq!(p.get("t"), Some("a b"));
        assert_eq!(p.get("d"), Some("%2F"));
        for bad in ["a=%", "a=%G1", "a=%2", "a=%FF%FE"] {
            assert!(Params::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Params::parse("s=%E5%BC%A0").unwrap().get("s"), Some("张"));
    }

    #[test]
    fn repeated_parameters_are_detected() {
        let p = Params::parse("ticket=a&ticket=b&service=s").unwrap();
        assert!(p.unique("ticket").is_err());
        assert_eq!(p.unique("service"), Ok(Some("s")));
        assert_eq!(p.unique("none"), Ok(None));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let request = |peer: &str, xff: &[&str]| {
            let mut headers = HeaderMap::new();
            for v in xff {
                headers.append("x-forwarded-for", v.parse().unwrap());
            }
            Request {
                method: Method::GET,
                path: "/".into(),
                prefix: String::new(),
                query: Params::default(),
                form: Params::default(),
                body: Bytes::new(),
                headers,
                peer: format!("{peer}:1234").parse().unwrap(),
            }
        };
        let trusted: Vec<IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/24".parse().unwrap(),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Direct clients are who they are, whatever they claim.
        assert_eq!(
            request("203.0.113.9", &["1.2.3.4"]).client_ip(&trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the address it saw; a spoofed entry further left is ignored.
        assert_eq!(
            request("127.0.0.1", &["6.6.6.6, 198.51.100.7"]).client_ip(&trusted),
            ip("198.51.100.7")
        );
        // Two trusted hops, and the header split over two lines.
        assert_eq!(
            request("127.0.0.1", &["198.51.100.7", "10.0.0.5"]).client_ip(&trusted),
            ip("198.51.100.7")
        );
        // No header, or garbage: the proxy's own address.
        assert_eq!(
            request("127.0.0.1", &[]).client_ip(&trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            request("127.0.0.1", &["nonsense"]).client_ip(&trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn rfc_7239_forwarded_is_read_like_x_forwarded_for() {
        let request = |peer: &str, forwarded: &str| {
            let mut headers = HeaderMap::new();
            headers.append("forwarded", forwarded.parse().unwrap());
            headers.append("x-forwarded-for", "9.9.9.9".parse().unwrap());
            Request {
                method: Method::GET,
                path: "/".into(),
                prefix: String::new(),
                query: Params::default(),
                form: Params::default(),
                body: Bytes::new(),
                headers,
                peer: format!("{peer}:1234").parse().unwrap(),
            }
        };
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            request("10.1.2.3", "for=6.6.6.6, for=192.0.2.43;proto=https").client_ip(&trusted),
            ip("192.0.2.43")
        );
        assert_eq!(
            request(
                "10.1.2.3",
                r#"for="[2001:db8:cafe::17]:4711", for=10.0.0.9"#
            )
            .client_ip(&trusted),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            request("10.1.2.3", "for=_hidden").client_ip(&trusted),
            ip("10.1.2.3"),
            "an obfuscated hop: the proxy's own address"
        );
        assert_eq!(
            request("203.0.113.1", "for=192.0.2.43").client_ip(&trusted),
            ip("203.0.113.1"),
            "not from a trusted peer"
        );
    }
}
