//! A two-second memory of the sessions and accounts the protocol reads, so the SSO cycle's
//! hot path (a login with a TGC, then the validation of its ticket) skips the hand-off to the
//! blocking pool, which profiling showed to be most of its cost. Changes made in this process
//! drop entries at once (`Sessions::end`, `forget_account`); a change made by another process
//! (the command line locking an account) is seen within `TTL`, as registry edits are.

use super::LiveSession;
use crate::memory::ExpiringMap;
use crate::model::Account;
use crate::store::SsoSession;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Seconds an entry is believed without asking the store.
pub(super) const TTL: i64 = 2;

/// A stored session and the handle tickets share.
#[derive(Clone)]
pub(super) struct Remembered {
    pub row: SsoSession,
    pub live: Arc<LiveSession>,
}

#[derive(Default)]
pub(super) struct Memory {
    pub sessions: ExpiringMap<Remembered>,
    pub accounts: ExpiringMap<Arc<Account>>,
    /// Bumped by every invalidation. A reader remembers what it read only if no
    /// invalidation happened meanwhile, so a row read just before a logout deleted it is
    /// not put back after the logout dropped it.
    epoch: AtomicU64,
}

impl Memory {
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Call after the store change and before dropping the entries.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Remembers a session read when the epoch was `epoch`. If an invalidation came in
    /// between, the entry is taken back out: an invalidation bumps the epoch before it drops
    /// entries, so either it drops this one or this check sees it.
    pub fn remember_session(&self, hash: &str, value: Remembered, epoch: u64, now: i64) {
        self.sessions
            .insert(hash.to_string(), value, now + TTL, now);
        if self.epoch() != epoch {
            self.sessions.take(hash);
        }
    }

    pub fn remember_account(&self, account: Arc<Account>, epoch: u64, now: i64) {
        let id = account.id.clone();
        self.accounts.insert(id.clone(), account, now + TTL, now);
        if self.epoch() != epoch {
            self.accounts.take(&id);
        }
    }

    /// Drops what is remembered about an account and its sessions.
    pub fn forget_account(&self, account_id: &str) {
        self.invalidate();
        self.accounts.take(account_id);
        self.sessions
            .remove_where(|s| s.row.account_id == account_id);
    }

    /// Drops everything remembered (every session ended at once).
    pub fn forget_all(&self) {
        self.invalidate();
        self.accounts.remove_where(|_| true);
        self.sessions.remove_where(|_| true);
    }

    pub fn forget_session(&self, hash: &str) {
        self.invalidate();
        self.sessions.take(hash);
    }

    pub fn sweep(&self, now: i64) {
        self.sessions.sweep(now);
        self.accounts.sweep(now);
    }
}
