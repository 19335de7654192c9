//! Registered applications: which URLs may receive tickets, what each may learn, how it
//! hears of a logout. `NewService::check` holds the rules every entry point shares.

use super::account::valid_attribute_name;
use super::pattern::{self, Pattern};
use super::{input_error, InputError};

/// What a service learns about the user beyond the id in `<cas:user>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Release {
    /// Every attribute the account has, mobile number and e-mail included. An explicit
    /// choice (`--all-attributes`): minimisation is the default.
    All,
    /// These names only; empty releases nothing beyond the id (Apereo's default, and what
    /// PIPL's minimisation asks for).
    Only(Vec<String>),
}

impl Release {
    /// The policy in words, for `service show`.
    pub fn describe(&self) -> String {
        match self {
            Release::All => {
                "all attributes (every attribute the account has, mobile and mail included)".into()
            }
            Release::Only(names) if names.is_empty() => "none beyond the user id".into(),
            Release::Only(names) => format!("only {}", names.join(", ")),
        }
    }
}

/// How a service learns that an SSO session ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogoutType {
    /// The server POSTs a SAML LogoutRequest to it.
    #[default]
    Back,
    /// The logged-out page loads its logout URL in the browser.
    Front,
    None,
}

impl LogoutType {
    pub fn as_str(self) -> &'static str {
        match self {
            LogoutType::Back => "back",
            LogoutType::Front => "front",
            LogoutType::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<LogoutType> {
        match s {
            "back" => Some(LogoutType::Back),
            "front" => Some(LogoutType::Front),
            "none" => Some(LogoutType::None),
            _ => None,
        }
    }
}

/// A service's settings as an administrator gives them.
#[derive(Clone, Debug)]
pub struct NewService {
    pub name: String,
    pub pattern: String,
    pub release: Release,
    pub attribute_aliases: Vec<(String, String)>,
    pub allow_proxy: bool,
    pub proxy_callback: Option<String>,
    pub logout_type: LogoutType,
    pub logout_url: Option<String>,
    /// A regex pattern that matches any host is an open redirector unless this is set.
    pub allow_any_host: bool,
    pub portal_title: Option<String>,
    pub portal_description: Option<String>,
    /// Registered by `serve --demo`: disabled whenever the server runs without it.
    pub demo: bool,
}

impl Default for NewService {
    fn default() -> Self {
        NewService {
            name: String::new(),
            pattern: String::new(),
            release: Release::Only(Vec::new()),
            attribute_aliases: Vec::new(),
            allow_proxy: false,
            proxy_callback: None,
            logout_type: LogoutType::Back,
            logout_url: None,
            allow_any_host: false,
            portal_title: None,
            portal_description: None,
            demo: false,
        }
    }
}

impl NewService {
    /// Checks every setting against the rules; the message says which one failed.
    pub fn check(&self) -> Result<(), InputError> {
        if self.name.trim().is_empty() || self.name.chars().any(char::is_control) {
            return input_error("the name must be non-empty text without control characters");
        }
        let pattern = Pattern::parse(&self.pattern)
            .map_err(|e| InputError(format!("invalid pattern: {e}")))?;
        if pattern.matches_any_host() && !self.allow_any_host {
            return input_error(
                "this pattern matches any host, which makes the server an open redirector; \
                 give --allow-any-host if that is really meant",
            );
        }
        if let Some(p) = &self.proxy_callback {
            if !self.allow_proxy {
                return input_error("a proxy callback pattern needs proxying allowed (--proxy)");
            }
            let p = Pattern::parse(p)
                .map_err(|e| InputError(format!("invalid proxy callback pattern: {e}")))?;
            if p.matches_any_host() {
                return input_error("the proxy callback pattern must not match any host");
            }
        }
        if let Some(url) = &self.logout_url {
            pattern::check_url(url).map_err(|e| InputError(format!("invalid logout URL: {e}")))?;
        }
        if self.logout_type == LogoutType::Front && self.logout_url.is_none() {
            return input_error(
                "front-channel logout needs a logout URL (the page the browser loads)",
            );
        }
        if let Release::Only(names) = &self.release {
            if let Some(bad) = names.iter().find(|n| !valid_attribute_name(n)) {
                return input_error(format!("invalid attribute name {bad:?}"));
            }
        }
        for (source, alias) in &self.attribute_aliases {
            if !valid_attribute_name(source) || !valid_attribute_name(alias) {
                return input_error(format!("invalid alias {source}={alias}: use SOURCE=ALIAS"));
            }
        }
        for text in [&self.portal_title, &self.portal_description]
            .into_iter()
            .flatten()
        {
            if text.chars().any(char::is_control) {
                return input_error("titles and descriptions must not contain control characters");
            }
        }
        Ok(())
    }
}

/// A registered application, as the registry consults it.
#[derive(Clone, Debug)]
pub struct Service {
    pub id: i64,
    pub enabled: bool,
    pub pattern: Pattern,
    pub proxy_callback: Option<Pattern>,
    pub settings: NewService,
}

impl Service {
    /// A stored row. One that no longer parses (a hand-edited database) matches nothing, and
    /// neither does a pattern that matches any host without the explicit permission.
    pub fn new(id: i64, enabled: bool, settings: NewService) -> Service {
        let parse = |p: &str| Pattern::parse(p).unwrap_or_else(|_| Pattern::never(p));
        let mut pattern = parse(&settings.pattern);
        if pattern.matches_any_host() && !settings.allow_any_host {
            pattern = Pattern::never(&settings.pattern);
        }
        Service {
            id,
            enabled,
            pattern,
            proxy_callback: settings.proxy_callback.as_deref().map(parse),
            settings,
        }
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn logout_type(&self) -> LogoutType {
        self.settings.logout_type
    }

    pub fn logout_url(&self) -> Option<&str> {
        self.settings.logout_url.as_deref()
    }

    pub fn allow_proxy(&self) -> bool {
        self.settings.allow_proxy
    }

    /// The release policy: of the account's attributes, those this service may receive, then
    /// the aliases it asked for (an alias releases its source's values under the new name).
    pub fn release(&self, all: Vec<(String, String)>) -> Vec<(String, String)> {
        let aliased: Vec<(String, String)> = self
            .settings
            .attribute_aliases
            .iter()
            .flat_map(|(source, alias)| {
                all.iter()
                    .filter(move |(k, _)| k == source)
                    .map(move |(_, v)| (alias.clone(), v.clone()))
            })
            .collect();
        let mut released: Vec<(String, String)> = match &self.settings.release {
            Release::All => all,
            Release::Only(allowed) => all
                .into_iter()
                .filter(|(k, _)| allowed.iter().any(|a| a == k))
                .collect(),
        };
        released.extend(aliased);
        released
    }

    /// Whether `pgt_url` may receive proxy-granting tickets for this service. Without a
    /// registered callback pattern: only URLs with the service's own scheme, host and port,
    /// so a proxying service cannot make us knock on other ports of its host.
    pub fn allows_callback(&self, pgt_url: &str, service: &str) -> bool {
        let Some(url) = pattern::normalize(pgt_url) else {
            return false;
        };
        match &self.proxy_callback {
            Some(p) => p.matches(&url),
            None => {
                let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
                let own = pattern::normalize(service).and_then(|s| origin(&s));
                own.is_some() && own == origin(&url)
            }
        }
    }
}
