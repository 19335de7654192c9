//! Every cookie unicas sets: its name, flags, paths and lifetime, in one place.
//!
//! All are HttpOnly (no script reads them), SameSite=Lax (the SSO cookie must come along on
//! the top-level navigation from an application; the others gain nothing from Strict that
//! their form tokens do not already give), without Domain (only this host), and Secure when
//! the public URL is https. Each is set once per served prefix, with that prefix as its
//! narrow Path (`/cas`, `/authserver`), so one login covers applications on either; an
//! empty prefix (`--public-url http://host/`) is `Path=/`, never an empty Path, which
//! browsers would read as the request's directory.

use super::Response;
use crate::config::Config;

/// The cookies, by purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cookie {
    /// The SSO session (`CASTGC`, the name the campus product and older Apereo use): the TGT
    /// id. A session cookie, or with remember-me the remembered lifetime.
    Tgc,
    /// Ties a browser's login form, captcha and pending steps together until login.
    Flow,
    /// A login paused for its first-login steps.
    Pending,
    /// The language someone chose with the switch (a year).
    Lang,
    /// A forgot-password recovery in progress.
    Recovery,
}

impl Cookie {
    pub fn name(self) -> &'static str {
        match self {
            Cookie::Tgc => "CASTGC",
            Cookie::Flow => "UNICAS_FLOW",
            Cookie::Pending => "UNICAS_PENDING",
            Cookie::Lang => "unicas_lang",
            Cookie::Recovery => "UNICAS_RECOVERY",
        }
    }
}

/// How cookies are written for this installation.
#[derive(Clone, Debug)]
pub struct Cookies {
    secure: bool,
    paths: Vec<String>,
}

impl Cookies {
    pub fn new(config: &Config) -> Cookies {
        let prefixes = config.all_prefixes();
        let paths = if prefixes.iter().any(|p| p.is_empty()) {
            // `/` covers every other prefix; setting those too would send two cookies.
            vec!["/".to_string()]
        } else {
            prefixes
        };
        Cookies {
            secure: config.secure_cookies(),
            paths,
        }
    }

    /// Sets `cookie` to `value`; `max_age` None makes a session cookie.
    pub fn set(
        &self,
        mut res: Response,
        cookie: Cookie,
        value: &str,
        max_age: Option<i64>,
    ) -> Response {
        for path in &self.paths {
            res = res.set_cookie(self.header(cookie.name(), value, path, max_age));
        }
        res
    }

    /// Deletes `cookie` on every path it may have been set on.
    pub fn clear(&self, res: Response, cookie: Cookie) -> Response {
        self.set(res, cookie, "", Some(0))
    }

    /// Deletes a cookie planted on the root path too (a sibling application can set one
    /// there, and then browsers send two).
    pub fn clear_everywhere(&self, res: Response, cookie: Cookie) -> Response {
        let res = self.clear(res, cookie);
        if self.paths.iter().any(|p| p == "/") {
            return res;
        }
        res.set_cookie(self.header(cookie.name(), "", "/", Some(0)))
    }

    fn header(&self, name: &str, value: &str, path: &str, max_age: Option<i64>) -> String {
        let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
        if let Some(age) = max_age {
            c.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            c.push_str("; Secure");
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_prefix_is_the_root_path_and_nothing_else() {
        let config = Config {
            public_url: "https://sso.example.edu/".into(),
            prefixes: vec!["/authserver".into()],
            ..Config::default()
        };
        let res = Cookies::new(&config).set(
            Response::plain(hyper::StatusCode::OK, ""),
            Cookie::Tgc,
            "TGT-x",
            None,
        );
        let set: Vec<&String> = res
            .headers
            .iter()
            .filter(|(n, _)| n == hyper::header::SET_COOKIE)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            set,
            ["CASTGC=TGT-x; Path=/; HttpOnly; SameSite=Lax; Secure"]
        );
        let config = Config {
            prefixes: vec!["/authserver".into()],
            ..Config::default()
        };
        let res = Cookies::new(&config).set(
            Response::plain(hyper::StatusCode::OK, ""),
            Cookie::Lang,
            "en",
            Some(9),
        );
        let paths: Vec<bool> = ["Path=/authserver;", "Path=/cas;"]
            .iter()
            .map(|p| res.headers.iter().any(|(_, v)| v.contains(p)))
            .collect();
        assert_eq!(paths, [true, true]);
    }
}
