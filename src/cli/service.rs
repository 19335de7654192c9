//! `unicas service ...`: the registry from the command line.

use super::Failed;
use super::{now, open};
use clap::{Args, Subcommand};
use unicas::config::Config;
use unicas::model::{describe_rules, Effect, LogoutType, Mfa, NewService, Release, Rule, Service};
use unicas::store::ServiceUpdate;

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Register a service.
    Add(Settings),
    /// Change settings of a registered service; what is not given stays as it is.
    Edit {
        id: i64,
        #[command(flatten)]
        settings: Settings,
    },
    /// Show one service with all its settings.
    Show { id: i64 },
    /// List services: id, enabled, name, pattern, attributes (and a flag for patterns that
    /// match any host).
    List,
    /// Remove a service by id.
    Remove { id: i64 },
}

/// A service's settings as flags. `add` needs --name and --pattern; `edit` changes only the
/// settings given.
#[derive(Args)]
pub struct Settings {
    #[arg(long)]
    name: Option<String>,
    /// Exact URL, URL prefix ending in '*', or regex '^...$'.
    #[arg(long)]
    pattern: Option<String>,
    /// Comma-separated attributes released to the service (default: none beyond the user id).
    #[arg(long, conflicts_with_all = ["all_attributes", "no_attributes"])]
    attributes: Option<String>,
    /// Release every attribute, mobile number and e-mail included.
    #[arg(long, conflicts_with = "no_attributes")]
    all_attributes: bool,
    /// Release nothing beyond the user id.
    #[arg(long)]
    no_attributes: bool,
    /// Also release attribute SOURCE under the name ALIAS (repeatable; replaces the list), e.g.
    /// `--alias cn=userName --alias cn=user_name`.
    #[arg(long = "alias", value_name = "SOURCE=ALIAS")]
    aliases: Vec<String>,
    /// Remove every alias.
    #[arg(long, conflicts_with = "aliases")]
    no_aliases: bool,
    /// Allow the service to obtain proxy tickets (`--proxy false` withdraws it).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    proxy: Option<bool>,
    /// Proxy callback URLs (pgtUrl) the service may use, as a pattern; by default only URLs
    /// with the service's own scheme, host and port.
    #[arg(long)]
    proxy_callback: Option<String>,
    /// Back to the default proxy callbacks.
    #[arg(long, conflicts_with = "proxy_callback")]
    no_proxy_callback: bool,
    /// Single logout: back (server-to-server POST), front (the browser loads the logout
    /// URL), or none.
    #[arg(long)]
    logout_type: Option<String>,
    /// Where single-logout requests go (default: the service URL): a plain http(s) URL.
    #[arg(long)]
    logout_url: Option<String>,
    #[arg(long, conflicts_with = "logout_url")]
    no_logout_url: bool,
    /// A second factor before a ticket for this service: required, or none (the default).
    /// A session logged in with a password alone is asked for it once (step-up).
    #[arg(long, value_name = "required|none")]
    mfa: Option<String>,
    /// Accept a regex pattern that matches any host (an open redirector: only for a
    /// deliberate, audited choice).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    allow_any_host: Option<bool>,
    /// Let in only accounts with this attribute value (repeatable; values for one key are
    /// alternatives, different keys must all match; a value ending in '*' is a prefix):
    /// e.g. `--allow kind=staff`, `--allow department=物理学院`, `--allow uid=2024*`.
    /// Replaces the service's allow rules.
    #[arg(long = "allow", value_name = "KEY=VALUE")]
    allow: Vec<String>,
    /// Keep out accounts with this attribute value (repeatable; beats any allow). Replaces
    /// the service's deny rules.
    #[arg(long = "deny", value_name = "KEY=VALUE")]
    deny: Vec<String>,
    /// Remove every access rule: everyone with an account may use the service.
    #[arg(long, conflicts_with_all = ["allow", "deny"])]
    no_rules: bool,
    /// Title and description shown in the portal.
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// List the service in the portal, opening it at this URL (one of the service's own).
    #[arg(long, value_name = "URL")]
    portal: Option<String>,
    /// Take the service out of the portal.
    #[arg(long, conflicts_with = "portal")]
    no_portal: bool,
    /// Take the service out of the registry without removing it, or put it back.
    #[arg(long, conflicts_with = "enable")]
    disable: bool,
    #[arg(long)]
    enable: bool,
}

impl Settings {
    /// These flags applied on top of `s`.
    fn apply(self, mut s: NewService) -> Result<NewService, Failed> {
        if let Some(name) = self.name {
            s.name = name;
        }
        if let Some(pattern) = self.pattern {
            s.pattern = pattern;
        }
        if self.all_attributes {
            s.release = Release::All;
        } else if self.no_attributes {
            s.release = Release::Only(Vec::new());
        } else if let Some(list) = self.attributes {
            // A list names attributes: `*` is spelled --all-attributes here.
            s.release = match Release::parse(&list) {
                Release::All => {
                    return Err(
                        "--attributes lists names; use --all-attributes for every attribute".into(),
                    )
                }
                only => only,
            };
        }
        if self.no_aliases {
            s.attribute_aliases.clear();
        } else if !self.aliases.is_empty() {
            s.attribute_aliases = self
                .aliases
                .iter()
                .map(|a| {
                    a.split_once('=')
                        .map(|(s, a)| (s.to_string(), a.to_string()))
                        .ok_or_else(|| {
                            Failed::from(format!("invalid --alias {a:?}: use SOURCE=ALIAS"))
                        })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(proxy) = self.proxy {
            s.allow_proxy = proxy;
        }
        if self.no_proxy_callback {
            s.proxy_callback = None;
        } else if self.proxy_callback.is_some() {
            s.proxy_callback = self.proxy_callback;
        }
        if let Some(t) = self.logout_type {
            s.logout_type = LogoutType::parse(&t)
                .ok_or_else(|| format!("invalid --logout-type {t:?}: use back, front or none"))?;
        }
        if let Some(m) = self.mfa {
            s.mfa = Mfa::parse(&m)
                .ok_or_else(|| format!("invalid --mfa {m:?}: use required or none"))?;
        }
        if self.no_logout_url {
            s.logout_url = None;
        } else if self.logout_url.is_some() {
            s.logout_url = self.logout_url;
        }
        if let Some(any) = self.allow_any_host {
            s.allow_any_host = any;
        }
        if self.no_rules {
            s.rules.clear();
        }
        for (effect, given) in [(Effect::Allow, &self.allow), (Effect::Deny, &self.deny)] {
            if !given.is_empty() {
                s.rules.retain(|r| r.effect != effect);
                for text in given {
                    s.rules.push(Rule::parse(effect, text)?);
                }
            }
        }
        if self.title.is_some() {
            s.portal_title = self.title.filter(|t| !t.is_empty());
        }
        if self.description.is_some() {
            s.portal_description = self.description.filter(|d| !d.is_empty());
        }
        if self.no_portal {
            s.portal_url = None;
        } else if self.portal.is_some() {
            s.portal_url = self.portal.filter(|u| !u.is_empty());
        }
        s.check()?;
        Ok(s)
    }
}

pub fn run(config: &Config, cmd: ServiceCommand) -> Result<(), Failed> {
    match cmd {
        ServiceCommand::Add(settings) => {
            if settings.name.is_none() || settings.pattern.is_none() {
                return Err("service add needs --name and --pattern".into());
            }
            let enabled = !settings.disable;
            let new = settings.apply(NewService::default())?;
            let store = open(config)?;
            let id = store
                .insert_service(&new, now())?
                .ok_or_else(|| format!("pattern '{}' is already registered", new.pattern))?;
            if !enabled {
                store.set_service_enabled(id, false)?;
            }
            println!("added service {id}");
        }
        ServiceCommand::Edit { id, settings } => {
            let store = open(config)?;
            let current = store
                .service(id)?
                .ok_or_else(|| format!("no service {id}"))?;
            let enabled = match (settings.enable, settings.disable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let new = settings.apply(current.settings)?;
            match store.update_service(id, &new)? {
                ServiceUpdate::Updated => {}
                ServiceUpdate::NoSuchService => return Err(format!("no service {id}").into()),
                ServiceUpdate::PatternTaken => {
                    return Err(format!("pattern '{}' is already registered", new.pattern).into())
                }
            }
            if let Some(enabled) = enabled {
                store.set_service_enabled(id, enabled)?;
            }
            println!("updated service {id}");
        }
        ServiceCommand::Show { id } => {
            let s = open(config)?
                .service(id)?
                .ok_or_else(|| format!("no service {id}"))?;
            show(&s);
        }
        ServiceCommand::List => {
            for s in open(config)?.services()? {
                let enabled = if s.enabled { "enabled" } else { "disabled" };
                let any = if s.settings.allow_any_host {
                    "\tANY HOST"
                } else {
                    ""
                };
                println!(
                    "{}\t{enabled}\t{}\t{}\t{}{any}",
                    s.id,
                    s.name(),
                    s.settings.pattern,
                    attributes_column(&s.settings.release)
                );
            }
        }
        ServiceCommand::Remove { id } => {
            if !open(config)?.remove_service(id)? {
                return Err(format!("no service {id}").into());
            }
            println!("removed service {id}");
        }
    }
    Ok(())
}

fn attributes_column(release: &Release) -> String {
    match release {
        Release::All => "*".into(),
        Release::Only(names) if names.is_empty() => "-".into(),
        Release::Only(names) => names.join(","),
    }
}

/// Every setting, one `key: value` per line, with the release policy in words.
fn show(s: &Service) {
    let c = &s.settings;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    println!(
        "id: {}\nname: {}\npattern: {}\nenabled: {}",
        s.id, c.name, c.pattern, s.enabled
    );
    if c.allow_any_host {
        println!("any_host: yes (this pattern matches any host: an open redirector)");
    }
    println!("release: {}", c.release.describe());
    println!("attributes: {}", attributes_column(&c.release));
    for (source, alias) in &c.attribute_aliases {
        println!("alias: {source}={alias}");
    }
    for line in describe_rules(&c.rules) {
        println!("access: {line}");
    }
    for rule in &c.rules {
        println!("rule: {}", rule.stored());
    }
    println!("proxy: {}", c.allow_proxy);
    println!(
        "proxy_callback: {}",
        c.proxy_callback
            .clone()
            .unwrap_or_else(|| match c.allow_proxy {
                true => "(the service's own scheme, host and port)".into(),
                false => String::new(),
            })
    );
    println!("logout_type: {}", c.logout_type.as_str());
    println!("mfa: {}", c.mfa.as_str());
    println!("logout_url: {}", opt(&c.logout_url));
    println!(
        "title: {}\ndescription: {}\nportal: {}",
        opt(&c.portal_title),
        opt(&c.portal_description),
        opt(&c.portal_url)
    );
}
