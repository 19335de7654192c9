//! SSO sessions: created at a successful login, found again from the TGC cookie, ended at
//! logout. The cookie carries the TGT id; the database only its SHA-256.

use super::Cas;
use crate::accounts::Account;
use crate::store::{SsoSession, StoreError};
use crate::tickets::{self, Kind};

/// Idle-time bookkeeping is written at most this often per session, so SSO hits stay reads.
const TOUCH_INTERVAL: i64 = 60;

/// A valid SSO session as the protocol uses it.
#[derive(Clone, Debug)]
pub struct LiveSession {
    pub id_hash: String,
    pub account_id: String,
    pub auth_time: i64,
    pub remember_me: bool,
}

/// How a session came to be, for creating it.
pub struct NewSession<'a> {
    pub account: &'a Account,
    pub remember_me: bool,
    pub client_ip: String,
    pub user_agent: String,
}

impl SsoSession {
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at && now < self.last_used + self.idle_timeout
    }
}

impl Cas {
    /// Starts a session; returns the TGT id for the cookie (always fresh: a value the browser
    /// presented before login is never reused) and the session.
    pub async fn create_session(
        &self,
        new: NewSession<'_>,
    ) -> Result<(String, LiveSession), StoreError> {
        let id = tickets::new_id(Kind::TicketGrantingTicket);
        let id_hash = tickets::hash_id(&id);
        let now = self.clock.now();
        let s = &self.config.sessions;
        let (idle, lifetime) = if new.remember_me {
            (s.remember_me_lifetime, s.remember_me_lifetime)
        } else {
            (s.idle_timeout, s.max_lifetime)
        };
        let row = SsoSession {
            account_id: new.account.id.clone(),
            auth_time: now,
            last_used: now,
            expires_at: now + lifetime,
            idle_timeout: idle,
            remember_me: new.remember_me,
        };
        let live = LiveSession {
            id_hash: id_hash.clone(),
            account_id: row.account_id.clone(),
            auth_time: now,
            remember_me: new.remember_me,
        };
        let (ip, ua) = (new.client_ip, truncate(&new.user_agent, 256));
        self.store
            .call(move |st| st.insert_session(&id_hash, &row, &ip, &ua))
            .await?;
        Ok((id, live))
    }

    /// The live session behind a TGC value, if any. Expiry is checked here, not only by the
    /// sweeper.
    pub async fn session(&self, tgc: &str) -> Result<Option<LiveSession>, StoreError> {
        if !tickets::well_formed(tgc, Kind::TicketGrantingTicket) {
            return Ok(None);
        }
        let id_hash = tickets::hash_id(tgc);
        let now = self.clock.now();
        let live = |id_hash: String, s: &SsoSession| LiveSession {
            id_hash,
            account_id: s.account_id.clone(),
            auth_time: s.auth_time,
            remember_me: s.remember_me,
        };
        // The common case, a live session touched recently, needs no store access.
        if let Some(s) = self.hot.sessions.get(&id_hash, now) {
            if s.is_live(now) && now - s.last_used < TOUCH_INTERVAL {
                return Ok(Some(live(id_hash, &s)));
            }
        }
        let epoch = self.hot.epoch();
        let hash = id_hash.clone();
        let found = self
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
            Some(s) => {
                self.remember_session(&id_hash, &s, epoch);
                Ok(Some(live(id_hash, &s)))
            }
            None => {
                self.hot.sessions.take(&id_hash);
                Ok(None)
            }
        }
    }

    /// Ends the session behind a TGC value, with its outstanding service tickets.
    pub async fn end_session(&self, tgc: &str) -> Result<bool, StoreError> {
        if !tickets::well_formed(tgc, Kind::TicketGrantingTicket) {
            return Ok(false);
        }
        let id_hash = tickets::hash_id(tgc);
        let hash = id_hash.clone();
        let existed = self.store.call(move |st| st.delete_session(&hash)).await?;
        self.hot.invalidate();
        self.hot.sessions.take(&id_hash);
        self.service_tickets
            .remove_where(|t| t.session_hash == id_hash);
        Ok(existed)
    }
}

fn truncate(s: &str, max: usize) -> String {
    let end = s
        .char_indices()
        .map(|(i, _)| i)
        .take_while(|&i| i <= max)
        .last()
        .unwrap_or(0);
    if s.len() <= max {
        s.to_string()
    } else {
        s[..end].to_string()
    }
}
