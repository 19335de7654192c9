//! The registry as the console changes it: the stored entries (fresh from the store, not the
//! snapshot), one entry's recent deliveries and mismatched validations, and saving one, after
//! which the snapshot is read again so the change takes effect at once. All off the runtime
//! threads.

use super::Registry;
use crate::model::{NewService, Service};
use crate::store::{AuditRow, ServiceUpdate, StoreError};

/// A validation whose service differed from the ticket's: when, issued for, presented.
type Mismatch = (i64, String, String);

impl Registry {
    /// Every stored entry, enabled or not.
    pub async fn stored(&self) -> Result<Vec<Service>, StoreError> {
        self.store.call(|s| s.services()).await
    }

    /// One stored entry.
    pub async fn entry(&self, id: i64) -> Result<Option<Service>, StoreError> {
        self.store.call(move |s| s.service(id)).await
    }

    /// One entry with its last `limit` ticket deliveries and its mismatched validations.
    pub async fn entry_history(
        &self,
        id: i64,
        limit: i64,
    ) -> Result<Option<(Service, Vec<AuditRow>, Vec<Mismatch>)>, StoreError> {
        self.store
            .call(move |s| {
                let Some(service) = s.service(id)? else {
                    return Ok(None);
                };
                Ok(Some((service, s.deliveries(id, limit)?, s.mismatches(id)?)))
            })
            .await
    }

    /// Stores `settings` as entry `id` (or a new one) and whether it is enabled, then reads
    /// the snapshot again; `None` when the pattern belongs to another entry or `id` is gone.
    pub async fn save(
        &self,
        id: Option<i64>,
        settings: NewService,
        enabled: bool,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let registry = self.clone();
        self.store
            .call(move |s| {
                let id = match id {
                    Some(id) => match s.update_service(id, &settings)? {
                        ServiceUpdate::Updated => Some(id),
                        _ => None,
                    },
                    None => s.insert_service(&settings, now)?,
                };
                if let Some(id) = id {
                    s.set_service_enabled(id, enabled)?;
                    // Saved either way; if this read fails, the periodic reload catches up.
                    if let Err(e) = registry.reload() {
                        tracing::warn!(error = %e, "registry not reloaded after a change");
                    }
                }
                Ok(id)
            })
            .await
    }
}
