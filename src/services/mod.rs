//! The service registry: which applications may receive tickets, and what they may learn.
//! A `service` string that matches no enabled entry is never redirected to.

mod pattern;

pub use pattern::{Pattern, PatternError};

use crate::store::Store;
use std::sync::{Arc, RwLock};

/// A registered application.
#[derive(Clone, Debug)]
pub struct Service {
    pub id: i64,
    pub name: String,
    pub pattern: Pattern,
    pub enabled: bool,
    /// Attribute names released to this service; `None` releases all.
    pub attributes: Option<Vec<String>>,
    /// Extra names under which an attribute is released: (source, alias).
    pub attribute_aliases: Vec<(String, String)>,
    pub allow_proxy: bool,
    /// The proxy callbacks this service may use; `None`: any https URL on its own host.
    pub proxy_callback: Option<Pattern>,
    pub logout_type: LogoutType,
    pub logout_url: Option<String>,
    pub portal_title: Option<String>,
    pub portal_description: Option<String>,
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

/// A service's settings, as `service add` registers them.
#[derive(Clone, Debug, Default)]
pub struct NewService {
    pub name: String,
    pub pattern: String,
    pub attributes: Option<Vec<String>>,
    pub attribute_aliases: Vec<(String, String)>,
    pub allow_proxy: bool,
    pub proxy_callback: Option<String>,
    pub logout_type: LogoutType,
    pub logout_url: Option<String>,
    pub portal_title: Option<String>,
    pub portal_description: Option<String>,
}

impl Service {
    pub(crate) fn new(id: i64, enabled: bool, s: NewService) -> Service {
        // A row that no longer parses (hand-edited database) matches nothing.
        let parse = |p: &str| Pattern::parse(p).unwrap_or_else(|_| Pattern::never(p));
        Service {
            id,
            name: s.name,
            pattern: parse(&s.pattern),
            enabled,
            attributes: s.attributes,
            attribute_aliases: s.attribute_aliases,
            allow_proxy: s.allow_proxy,
            proxy_callback: s.proxy_callback.as_deref().map(parse),
            logout_type: s.logout_type,
            logout_url: s.logout_url,
            portal_title: s.portal_title,
            portal_description: s.portal_description,
        }
    }

    /// The release policy: of the account's attributes, those this service may receive, then
    /// the aliases it asked for (an alias releases its source's values under the new name).
    pub fn release(&self, all: Vec<(String, String)>) -> Vec<(String, String)> {
        let aliased: Vec<(String, String)> = self
            .attribute_aliases
            .iter()
            .flat_map(|(source, alias)| {
                all.iter()
                    .filter(move |(k, _)| k == source)
                    .map(move |(_, v)| (alias.clone(), v.clone()))
            })
            .collect();
        let mut released: Vec<(String, String)> = match &self.attributes {
            None => all,
            Some(allowed) => all
                .into_iter()
                .filter(|(k, _)| allowed.iter().any(|a| a == k))
                .collect(),
        };
        released.extend(aliased);
        released
    }

    /// Whether `pgt_url` may receive proxy-granting tickets for this service.
    pub fn allows_callback(&self, pgt_url: &str, service: &str) -> bool {
        let Some(url) = pattern::normalize(pgt_url) else {
            return false;
        };
        match &self.proxy_callback {
            Some(p) => p.matches(&url),
            None => {
                let host = |u: &str| url::Url::parse(u).ok()?.host_str().map(str::to_string);
                let own = pattern::normalize(service).and_then(|s| host(&s));
                own.is_some() && own == host(&url)
            }
        }
    }
}

/// The registry as the server consults it: an in-memory snapshot of the `services` table,
/// reloaded periodically so changes made with the command line take effect within seconds.
#[derive(Clone)]
pub struct Registry {
    store: Store,
    snapshot: Arc<RwLock<Arc<Vec<Service>>>>,
}

impl Registry {
    pub fn load(store: Store) -> crate::store::Result<Registry> {
        let services = store.services()?;
        Ok(Registry {
            store,
            snapshot: Arc::new(RwLock::new(Arc::new(services))),
        })
    }

    /// Re-reads the table (blocking).
    pub fn reload(&self) -> crate::store::Result<()> {
        let services = Arc::new(self.store.services()?);
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = services;
        Ok(())
    }

    /// The first enabled service whose pattern matches `service`.
    pub fn find(&self, service: &str) -> Option<Service> {
        let snapshot = Arc::clone(&self.snapshot.read().unwrap_or_else(|p| p.into_inner()));
        let url = pattern::normalize(service)?;
        snapshot
            .iter()
            .find(|s| s.enabled && s.pattern.matches(&url))
            .cloned()
    }

    /// The registered service with this id, enabled or not.
    pub fn by_id(&self, id: i64) -> Option<Service> {
        self.all().iter().find(|s| s.id == id).cloned()
    }

    pub fn all(&self) -> Arc<Vec<Service>> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(|p| p.into_inner()))
    }
}
