//! The service registry as the server consults it: an in-memory snapshot of the `services`
//! table, reloaded periodically so changes made with the command line take effect within
//! seconds. A `service` string that matches no enabled entry is never redirected to.

mod changes;

use crate::model::{pattern, Mfa, Service};
use crate::store::Store;
use std::sync::{Arc, RwLock};

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

    /// The first enabled service whose pattern matches `service`. A second factor that any
    /// matching entry requires holds for it: a broader pattern registered earlier never waives
    /// a narrower one's `--mfa required`.
    pub fn find(&self, service: &str) -> Option<Service> {
        let url = pattern::normalize(service)?;
        let all = self.all();
        let mut matching = all.iter().filter(|s| s.enabled && s.pattern.matches(&url));
        let mut found = matching.next()?.clone();
        if matching.any(|s| s.settings.mfa == Mfa::Required) {
            found.settings.mfa = Mfa::Required;
        }
        Some(found)
    }

    /// The registered service with this id, enabled or not.
    pub fn by_id(&self, id: i64) -> Option<Service> {
        self.all().iter().find(|s| s.id == id).cloned()
    }

    pub fn all(&self) -> Arc<Vec<Service>> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(|p| p.into_inner()))
    }
}
