//! SSO sessions: created when someone has proved who they are, found again from the TGC
//! cookie, ended at logout or by any change that must end them. The cookie carries the TGT
//! id; the database only its SHA-256.
//!
//! Ending a session never silently fails: if the store cannot be written, the session is
//! refused from memory at once and the deletion retried until it is written. Every end wakes
//! the single-logout announcer (`ended`).

mod memory;

use crate::clock::Clock;
use crate::config::SessionConfig;
use crate::model::{Account, Factor, Proof};
use crate::store::{SsoSession, Store, StoreError};
use crate::tickets::{self, Kind};
use memory::{Memory, Remembered};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Idle-time bookkeeping is written at most this often per session, so SSO hits stay reads.
const TOUCH_INTERVAL: i64 = 60;

/// A valid SSO session as the protocol uses it. Tickets hold it by `Arc`, one per session.
#[derive(Debug)]
pub struct LiveSession {
    pub id_hash: String,
    pub account_id: String,
    pub auth_time: i64,
    pub remember_me: bool,
    /// How it was proved (when this handle was made: a second factor proved later makes a
    /// new handle).
    pub proof: Proof,
}

/// How a session came to be.
pub struct NewSession<'a> {
    pub account: &'a Account,
    /// The login's proof.
    pub first: Factor,
    pub remember_me: bool,
    pub client_ip: &'a str,
    pub user_agent: &'a str,
}

impl SsoSession {
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at && now < self.last_used + self.idle_timeout
    }
}

#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    config: SessionConfig,
    memory: Memory,
    /// Sessions ended while the store could not be written: refused, and retried.
    ending: Mutex<HashSet<String>>,
    ended: Notify,
}

impl Sessions {
    pub fn new(store: Store, clock: Clock, config: SessionConfig) -> Sessions {
        Sessions {
            inner: Arc::new(Inner {
                store,
                clock,
                config,
                memory: Memory::default(),
                ending: Mutex::new(HashSet::new()),
                ended: Notify::new(),
            }),
        }
    }

    /// Starts a session; returns the TGT id for the cookie (always fresh: a value the browser
    /// presented before login is never reused) and the session. `replacing` is the TGC the
    /// browser held, if any: that session ends (see `Store::insert_session`).
    pub async fn create(
        &self,
        new: NewSession<'_>,
        replacing: Option<&str>,
    ) -> Result<(String, Arc<LiveSession>), StoreError> {
        let id = tickets::new_id(Kind::TicketGrantingTicket);
        let id_hash = tickets::hash_id(&id);
        let now = self.inner.clock.now();
        let c = &self.inner.config;
        let (idle, lifetime) = if new.remember_me {
            (c.remember_me_lifetime, c.remember_me_lifetime)
        } else {
            (c.idle_timeout, c.max_lifetime)
        };
        let row = SsoSession {
            account_id: new.account.id.clone(),
            auth_time: now,
            last_used: now,
            expires_at: now + lifetime,
            idle_timeout: idle,
            remember_me: new.remember_me,
            proof: Proof::first(new.first),
        };
        let live = Arc::new(live(id_hash.clone(), &row));
        let (ip, ua) = (new.client_ip.to_string(), truncate(new.user_agent, 256));
        let hash = id_hash.clone();
        let stored = row.clone();
        let old = replacing
            .filter(|t| tickets::well_formed(t, Kind::TicketGrantingTicket))
            .map(tickets::hash_id);
        let replaced = old.clone();
        self.inner
            .store
            .call(move |st| st.insert_session(&hash, &stored, &ip, &ua, replaced.as_deref()))
            .await?;
        if let Some(old) = old {
            self.inner.memory.forget_session(&old);
            self.inner.ended.notify_one();
        }
        Ok((id, live))
    }

    /// The live session behind a TGC value, if any. Expiry is checked here, not only by the
    /// sweeper.
    pub async fn find(&self, tgc: &str) -> Result<Option<Arc<LiveSession>>, StoreError> {
        if !tickets::well_formed(tgc, Kind::TicketGrantingTicket) {
            return Ok(None);
        }
        let id_hash = tickets::hash_id(tgc);
        if self.is_ending(&id_hash) {
            return Ok(None);
        }
        let now = self.inner.clock.now();
        let memory = &self.inner.memory;
        // The common case, a live session touched recently, needs no store access.
        if let Some(s) = memory.sessions.get(&id_hash, now) {
            if s.row.is_live(now) && now - s.row.last_used < TOUCH_INTERVAL {
                return Ok(Some(s.live));
            }
        }
        let epoch = memory.epoch();
        let hash = id_hash.clone();
        let found = self
            .inner
            .store
            .call(move |st| {
                let Some(mut s) = st.session(&hash)? else {
                    return Ok(None);
                };
                if !s.is_live(now) {
                    st.delete_session(&hash)?;
                    return Ok(None);
                }
                if now - s.last_used >= TOUCH_INTERVAL {
                    st.touch_session(&hash, now)?;
                    s.last_used = now;
                }
                Ok(Some(s))
            })
            .await?;
        match found {
            Some(row) => {
                let live = Arc::new(live(id_hash.clone(), &row));
                let remembered = Remembered {
                    row,
                    live: Arc::clone(&live),
                };
                memory.remember_session(&id_hash, remembered, epoch, now);
                Ok(Some(live))
            }
            None => {
                memory.sessions.take(&id_hash);
                Ok(None)
            }
        }
    }

    /// The stored session and account behind a ticket, from memory when both are fresh;
    /// `None` once the session has ended.
    pub async fn with_account(
        &self,
        session_hash: &str,
        account_id: &str,
    ) -> Result<Option<(SsoSession, Arc<Account>)>, StoreError> {
        if self.is_ending(session_hash) {
            return Ok(None);
        }
        let now = self.inner.clock.now();
        let memory = &self.inner.memory;
        if let (Some(s), Some(a)) = (
            memory.sessions.get(session_hash, now),
            memory.accounts.get(account_id, now),
        ) {
            return Ok(Some((s.row, a)));
        }
        let epoch = memory.epoch();
        let (hash, id) = (session_hash.to_string(), account_id.to_string());
        let found = self
            .inner
            .store
            .call(move |s| Ok(s.session(&hash)?.zip(s.account(&id)?)))
            .await?;
        Ok(found.map(|(row, account)| {
            let account = Arc::new(account);
            let live = Arc::new(live(session_hash.to_string(), &row));
            let remembered = Remembered {
                row: row.clone(),
                live,
            };
            memory.remember_session(session_hash, remembered, epoch, now);
            memory.remember_account(Arc::clone(&account), epoch, now);
            (row, account)
        }))
    }

    /// Records that `session` proved `factor` as its second; the session's new handle, or
    /// `None` if it ended meanwhile. The session keeps it for its lifetime.
    pub async fn prove_second_factor(
        &self,
        session: &LiveSession,
        factor: Factor,
    ) -> Result<Option<Arc<LiveSession>>, StoreError> {
        let hash = session.id_hash.clone();
        let proved = self
            .inner
            .store
            .call(move |st| st.prove_second_factor(&hash, factor))
            .await?;
        self.inner.memory.forget_session(&session.id_hash);
        Ok(proved.then(|| {
            Arc::new(LiveSession {
                id_hash: session.id_hash.clone(),
                account_id: session.account_id.clone(),
                auth_time: session.auth_time,
                remember_me: session.remember_me,
                proof: session.proof.with(factor),
            })
        }))
    }

    /// Ends the session behind a TGC value. Returns whether there was one to end. If the
    /// store cannot be written now, the session is refused from memory at once and its
    /// deletion retried (`retry_ending`): a logout is never forgotten. The caller announces
    /// the single logout itself (the logged-out page loads the front-channel ones).
    pub async fn end(&self, tgc: &str) -> bool {
        if !tickets::well_formed(tgc, Kind::TicketGrantingTicket) {
            return false;
        }
        let hash = tickets::hash_id(tgc);
        let h = hash.clone();
        let result = self.inner.store.call(move |st| st.delete_session(&h)).await;
        self.inner.memory.forget_session(&hash);
        match result {
            Ok(existed) => existed,
            Err(e) => {
                tracing::error!("ending a session failed, will retry: {e}");
                self.ending().insert(hash);
                true
            }
        }
    }

    /// Writes the session ends that failed before; run periodically.
    pub async fn retry_ending(&self) {
        let pending: Vec<String> = self.ending().iter().cloned().collect();
        if pending.is_empty() {
            return;
        }
        let batch = pending.clone();
        let written = self
            .inner
            .store
            .call(move |st| {
                for hash in &batch {
                    st.delete_session(hash)?;
                }
                Ok(())
            })
            .await;
        match written {
            Ok(()) => {
                let mut ending = self.ending();
                for hash in &pending {
                    ending.remove(hash);
                }
                drop(ending);
                self.inner.ended.notify_one();
            }
            Err(e) => tracing::error!("ending {} session(s) still fails: {e}", pending.len()),
        }
    }

    /// Drops what is remembered about an account and its sessions; call after a change the
    /// store already holds (password, status, sessions ended).
    pub fn forget_account(&self, account_id: &str) {
        self.inner.memory.forget_account(account_id);
        self.inner.ended.notify_one();
    }

    /// Drops what is remembered of one session (another node ended it).
    pub fn forget_session(&self, id_hash: &str) {
        self.inner.memory.forget_session(id_hash);
    }

    /// Drops everything remembered; call after the store ended every session.
    pub fn forget_all(&self) {
        self.inner.memory.forget_all();
        self.inner.ended.notify_one();
    }

    /// Resolves when some session has ended since the last call (the single-logout announcer
    /// waits on it, besides its periodic scan for sessions other processes ended).
    pub async fn wait_ended(&self) {
        self.inner.ended.notified().await;
    }

    /// Deletes expired sessions in the store; expired memory goes too.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        let now = self.inner.clock.now();
        self.inner.memory.sweep(now);
        let swept = self
            .inner
            .store
            .call(move |s| s.sweep_sessions(now))
            .await?;
        if swept > 0 {
            self.inner.ended.notify_one();
        }
        Ok(swept)
    }

    pub fn sweep_memory(&self) {
        self.inner.memory.sweep(self.inner.clock.now());
    }

    fn is_ending(&self, hash: &str) -> bool {
        let ending = self.ending();
        !ending.is_empty() && ending.contains(hash)
    }

    fn ending(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.inner.ending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn live(id_hash: String, s: &SsoSession) -> LiveSession {
    LiveSession {
        id_hash,
        account_id: s.account_id.clone(),
        auth_time: s.auth_time,
        remember_me: s.remember_me,
        proof: s.proof,
    }
}

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}
