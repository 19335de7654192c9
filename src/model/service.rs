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
    /// The policy as an administrator writes it, on the command line and in the console:
    /// `*` for every attribute, else a comma-separated list of names (empty: none).
    pub fn parse(text: &str) -> Release {
        match text.trim() {
            "*" => Release::All,
            list => Release::Only(
                list.split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect(),
            ),
        }
    }

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

/// Whether a rule lets people in or keeps them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One access rule: an attribute of the account and a value it must (allow) or must not
/// (deny) have; a value ending in `*` matches every value that starts with the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub effect: Effect,
    pub key: String,
    pub value: String,
}

impl Rule {
    /// `KEY=VALUE` given to `--allow` or `--deny`. `kind` is the account kind's attribute,
    /// `userType`.
    pub fn parse(effect: Effect, text: &str) -> Result<Rule, InputError> {
        let Some((key, value)) = text.split_once('=') else {
            return input_error(format!("invalid rule {text:?}: use KEY=VALUE"));
        };
        let key = match key.trim() {
            "kind" => "userType",
            k => k,
        };
        if !valid_attribute_name(key) {
            return input_error(format!("invalid attribute name {key:?} in a rule"));
        }
        let value = value.trim();
        if value.is_empty() || value.chars().any(char::is_control) || value == "*" {
            return input_error(format!(
                "invalid value in rule {text:?}: give a value (a prefix ends in '*')"
            ));
        }
        Ok(Rule {
            effect,
            key: key.to_string(),
            value: value.to_string(),
        })
    }

    /// The stored form: `allow department=物理学院`.
    pub fn stored(&self) -> String {
        let effect = match self.effect {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        };
        format!("{effect} {}={}", self.key, self.value)
    }

    pub fn from_stored(line: &str) -> Option<Rule> {
        let (effect, rest) = line.split_once(' ')?;
        let effect = match effect {
            "allow" => Effect::Allow,
            "deny" => Effect::Deny,
            _ => return None,
        };
        Rule::parse(effect, rest).ok()
    }

    fn matches(&self, value: &str) -> bool {
        match self.value.strip_suffix('*') {
            Some(prefix) => value.starts_with(prefix),
            None => value == self.value,
        }
    }
}

/// A service's access rules in words, for `service show`.
pub fn describe_rules(rules: &[Rule]) -> Vec<String> {
    if rules.is_empty() {
        return vec!["everyone with an account".into()];
    }
    let mut lines = Vec::new();
    let mut keys: Vec<&str> = rules
        .iter()
        .filter(|r| r.effect == Effect::Allow)
        .map(|r| r.key.as_str())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let values: Vec<&str> = rules
            .iter()
            .filter(|r| r.effect == Effect::Allow && r.key == key)
            .map(|r| r.value.as_str())
            .collect();
        lines.push(format!("allow only if {key} is {}", values.join(" or ")));
    }
    for r in rules.iter().filter(|r| r.effect == Effect::Deny) {
        lines.push(format!("deny if {} is {}", r.key, r.value));
    }
    lines
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
    /// Where the portal's link opens the application (it must match the pattern); `None`:
    /// not listed in the portal.
    pub portal_url: Option<String>,
    /// Registered by `serve --demo`: disabled whenever the server runs without it.
    pub demo: bool,
    /// Who may use it; none: everyone.
    pub rules: Vec<Rule>,
    /// Whether a ticket for it needs a second factor.
    pub mfa: super::Mfa,
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
            portal_url: None,
            demo: false,
            rules: Vec::new(),
            mfa: super::Mfa::None,
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
        if let Some(url) = &self.portal_url {
            let normalized = pattern::normalize(url)
                .ok_or_else(|| InputError(format!("invalid portal URL {url:?}")))?;
            if !pattern.matches(&normalized) {
                return input_error(
                    "the portal URL must be one of the service's own URLs (match its pattern)",
                );
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

    /// Whether an account with these attributes may use the service: every key the allow
    /// rules name must have one of the values given for it, and no deny rule may match.
    /// Without rules, everyone may.
    pub fn admits(&self, attributes: &[(String, String)]) -> bool {
        let has = |rule: &Rule| {
            attributes
                .iter()
                .any(|(k, v)| *k == rule.key && rule.matches(v))
        };
        let rules = &self.settings.rules;
        if rules.iter().any(|r| r.effect == Effect::Deny && has(r)) {
            return false;
        }
        rules.iter().filter(|r| r.effect == Effect::Allow).all(|r| {
            rules
                .iter()
                .filter(|o| o.effect == Effect::Allow && o.key == r.key)
                .any(has)
        })
    }

    /// The portal's link to it, if it is listed there.
    pub fn portal_url(&self) -> Option<&str> {
        self.settings.portal_url.as_deref()
    }

    pub fn description(&self) -> Option<&str> {
        self.settings.portal_description.as_deref()
    }

    /// The name people see for it.
    pub fn title(&self) -> &str {
        self.settings
            .portal_title
            .as_deref()
            .unwrap_or(&self.settings.name)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn service(rules: &[(&str, &str)]) -> Service {
        let rules = rules
            .iter()
            .map(|(effect, text)| {
                let effect = if *effect == "allow" {
                    Effect::Allow
                } else {
                    Effect::Deny
                };
                Rule::parse(effect, text).unwrap()
            })
            .collect();
        Service::new(
            1,
            true,
            NewService {
                name: "s".into(),
                pattern: "https://s.test/".into(),
                rules,
                ..NewService::default()
            },
        )
    }

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rules_combine_as_documented() {
        let open = service(&[]);
        assert!(open.admits(&attrs(&[("uid", "x")])));
        let staff = service(&[("allow", "kind=staff"), ("allow", "userType=admin")]);
        assert!(staff.admits(&attrs(&[("userType", "staff")])));
        assert!(
            staff.admits(&attrs(&[("userType", "admin")])),
            "values of one key: alternatives"
        );
        assert!(!staff.admits(&attrs(&[("userType", "student")])));
        let both = service(&[("allow", "userType=student"), ("allow", "department=物理*")]);
        assert!(both.admits(&attrs(&[
            ("userType", "student"),
            ("department", "物理学院")
        ])));
        assert!(
            !both.admits(&attrs(&[
                ("userType", "student"),
                ("department", "化学学院")
            ])),
            "keys: all must match"
        );
        let deny = service(&[("allow", "uid=2024*"), ("deny", "uid=20240013")]);
        assert!(deny.admits(&attrs(&[("uid", "20240012")])));
        assert!(
            !deny.admits(&attrs(&[("uid", "20240013")])),
            "deny beats allow"
        );
        assert!(!deny.admits(&attrs(&[("uid", "20230001")])));
        let multi = service(&[("allow", "memberOf=library")]);
        assert!(multi.admits(&attrs(&[("memberOf", "students"), ("memberOf", "library")])));
        assert!(Rule::parse(Effect::Allow, "novalue").is_err());
        assert!(Rule::parse(Effect::Allow, "bad key=1").is_err());
        assert!(Rule::parse(Effect::Allow, "uid=*").is_err());
        let r = Rule::parse(Effect::Deny, "kind=student").unwrap();
        assert_eq!(Rule::from_stored(&r.stored()), Some(r));
    }
}
