//! What the admin console reads about accounts: one account in full (its bindings, the last
//! four characters of its ID number, recent sign-ins, sessions), the overview's numbers, the
//! audit log's search, and which of a roster's ids exist already. Off the runtime threads.

use super::{Accounts, AccountsError};
use crate::model::Account;
use crate::store::{AuditFilter, AuditRow, SessionRow};
use std::collections::HashSet;

/// One account as its page in the console shows it.
pub struct Details {
    pub account: Account,
    pub bindings: Vec<(String, String)>,
    /// Passkeys and recovery codes.
    pub held: crate::store::HeldFactors,
    pub id_last4: Option<String>,
    pub logins: Vec<AuditRow>,
    pub sessions: Vec<SessionRow>,
}

/// The console's overview: accounts by status, live sessions, the latest audit rows.
pub struct Overview {
    pub counts: Vec<(String, i64)>,
    pub live_sessions: i64,
    pub recent: Vec<AuditRow>,
}

impl Accounts {
    pub async fn details(&self, id: &str) -> Result<Option<Details>, AccountsError> {
        let id = id.to_string();
        Ok(self
            .store
            .call(move |s| {
                let Some(account) = s.account(&id)? else {
                    return Ok(None);
                };
                Ok(Some(Details {
                    account,
                    bindings: s.bindings_of(&id)?,
                    held: s.held_factors(&id)?,
                    id_last4: s.id_last4(&id)?,
                    logins: s.recent_logins(&id, 10)?,
                    sessions: s.sessions_of(&id)?,
                }))
            })
            .await?)
    }

    pub async fn console_overview(&self) -> Result<Overview, AccountsError> {
        let now = self.clock.now();
        Ok(self
            .store
            .call(move |s| {
                Ok(Overview {
                    counts: s.account_counts()?,
                    live_sessions: s.live_sessions(now)?,
                    recent: s.recent_audit(None, 20)?,
                })
            })
            .await?)
    }

    /// The audit rows `filter` keeps, newest first, at most `limit`.
    pub async fn audit_search(
        &self,
        filter: AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditRow>, AccountsError> {
        Ok(self
            .store
            .call(move |s| s.audit_search(&filter, limit))
            .await?)
    }

    /// Which of `ids` are accounts already.
    pub async fn existing(&self, ids: Vec<String>) -> Result<HashSet<String>, AccountsError> {
        Ok(self.store.call(move |s| s.existing_ids(&ids)).await?)
    }
}
