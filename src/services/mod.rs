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
    pub allow_proxy: bool,
    pub logout_url: Option<String>,
    pub portal_title: Option<String>,
    pub portal_description: Option<String>,
}

/// What `service add` registers.
#[derive(Clone, Debug)]
pub struct NewService {
    pub name: String,
    pub pattern: String,
    pub attributes: Option<Vec<String>>,
    pub allow_proxy: bool,
    pub logout_url: Option<String>,
    pub portal_title: Option<String>,
    pub portal_description: Option<String>,
}

impl Service {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        id: i64,
        name: String,
        pattern: String,
        enabled: bool,
        attributes: Option<Vec<String>>,
        allow_proxy: bool,
        logout_url: Option<String>,
        portal_title: Option<String>,
        portal_description: Option<String>,
    ) -> Service {
        // A row that no longer parses (hand-edited database) matches nothing.
        let pattern = Pattern::parse(&pattern).unwrap_or_else(|_| Pattern::never(&pattern));
        Service {
            id,
            name,
            pattern,
            enabled,
            attributes,
            allow_proxy,
            logout_url,
            portal_title,
            portal_description,
        }
    }

    /// The release policy: of the account's attributes, those this service may receive.
    pub fn release(&self, all: Vec<(String, String)>) -> Vec<(String, String)> {
        match &self.attributes {
            None => all,
            Some(allowed) => all
                .into_iter()
                .filter(|(k, _)| allowed.iter().any(|a| a == k))
                .collect(),
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

    pub fn all(&self) -> Arc<Vec<Service>> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(|p| p.into_inner()))
    }
}
