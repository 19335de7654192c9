//! A two-second memory of the sessions and accounts the protocol reads, so the SSO cycle's
//! hot path (a login with a TGC, then the validation of its ticket) skips the hand-off to the
//! blocking pool, which profiling showed to be most of its cost. Changes made in this process
//! drop entries at once (`end_session`, `forget_account`); a change made by another process
//! (the command line locking an account) is seen within `HOT_TTL`, as registry edits are.

use super::Cas;
use crate::accounts::Account;
use crate::store::{SsoSession, StoreError};
use crate::tickets::ExpiringMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const HOT_TTL: i64 = 2;

#[derive(Default)]
pub(super) struct HotCache {
    pub sessions: ExpiringMap<SsoSession>,
    pub accounts: ExpiringMap<Arc<Account>>,
    /// Bumped by every invalidation. A reader remembers what it read only if no
    /// invalidation happened meanwhile, so a row read just before a logout deleted it is
    /// not put back after the logout dropped it.
    epoch: AtomicU64,
}

impl HotCache {
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Call after the store change and before dropping the entries.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

impl Cas {
    /// The stored session and account behind a ticket, from memory when both are fresh.
    pub(super) async fn session_and_account(
        &self,
        session_hash: &str,
        account_id: &str,
    ) -> Result<Option<(SsoSession, Arc<Account>)>, StoreError> {
        let now = self.clock.now();
        let hot = &self.hot;
        if let (Some(s), Some(a)) = (
            hot.sessions.get(session_hash, now),
            hot.accounts.get(account_id, now),
        ) {
            return Ok(Some((s, a)));
        }
        let epoch = hot.epoch();
        let (hash, id) = (session_hash.to_string(), account_id.to_string());
        let found = self
            .store
            .call(move |s| Ok(s.session(&hash)?.zip(s.account(&id)?)))
            .await?;
        Ok(found.map(|(session, account)| {
            let account = Arc::new(account);
            self.remember_session(session_hash, &session, epoch);
            hot.accounts
                .insert(account_id.to_string(), Arc::clone(&account), now + HOT_TTL);
            if hot.epoch() != epoch {
                hot.accounts.take(account_id);
            }
            (session, account)
        }))
    }

    /// Remembers a session read from the store when the epoch was `epoch`. If an
    /// invalidation came in between, the entry is taken back out: an invalidation bumps the
    /// epoch before it drops entries, so either it drops this one or this check sees it.
    pub(super) fn remember_session(&self, session_hash: &str, session: &SsoSession, epoch: u64) {
        let expires = self.clock.now() + HOT_TTL;
        self.hot
            .sessions
            .insert(session_hash.to_string(), session.clone(), expires);
        if self.hot.epoch() != epoch {
            self.hot.sessions.take(session_hash);
        }
    }

    /// Drops what is remembered about an account and its sessions; call after changing the
    /// account (password, status) or ending its sessions in this process.
    pub fn forget_account(&self, account_id: &str) {
        self.hot.invalidate();
        self.hot.accounts.take(account_id);
        self.hot
            .sessions
            .remove_where(|s| s.account_id == account_id);
    }

    pub(super) fn sweep_hot(&self, now: i64) {
        self.hot.sessions.sweep(now);
        self.hot.accounts.sweep(now);
    }
}
