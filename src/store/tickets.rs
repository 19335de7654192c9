//! Service and proxy tickets in the shared database, for several nodes (on one node they
//! stay in memory: `cas::tickets`). A ticket is found by its SHA-256, never stored itself;
//! taking it is one `DELETE … RETURNING`, so of concurrent validations on any nodes exactly
//! one gets it.

use super::db::{args, Fields};
use super::{Result, Store};

/// What a waiting ticket was issued for, and the session it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRow {
    /// Unix time.
    pub issued_at: i64,
    /// Unix time, inclusive.
    pub expires_at: i64,
    pub session_hash: String,
    pub account_id: String,
    pub auth_time: i64,
    pub remember_me: bool,
    pub service: String,
    /// The proxy chain, newest first.
    pub proxies: Vec<String>,
    pub from_new_login: bool,
    /// The session's factors (`Proof::encode`).
    pub factors: String,
}

impl Store {
    /// Records a ticket under `key` (its hash) until its expiry.
    pub async fn put_ticket(&self, key: &str, t: &TicketRow) -> Result<()> {
        self.shared(
            "INSERT INTO tickets (key, issued_at, expires_at, session_hash, account_id,
                 auth_time, remember_me, service, proxies, new_login, factors)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            args![
                key,
                t.issued_at,
                t.expires_at,
                &t.session_hash,
                &t.account_id,
                t.auth_time,
                t.remember_me,
                &t.service,
                &t.proxies.join("\n"),
                t.from_new_login,
                &t.factors
            ],
        )
        .await
        .map(drop)
    }

    /// Removes and returns the ticket under `key`, expired or not; the caller checks.
    pub async fn take_ticket(&self, key: &str) -> Result<Option<TicketRow>> {
        let rows = self
            .shared(
                "DELETE FROM tickets WHERE key = ?1
                 RETURNING issued_at, expires_at, session_hash, account_id, auth_time,
                     remember_me, service, proxies, new_login, factors",
                args![key],
            )
            .await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let mut f = Fields::new(row);
        Ok(Some(TicketRow {
            issued_at: f.int()?,
            expires_at: f.int()?,
            session_hash: f.text()?,
            account_id: f.text()?,
            auth_time: f.int()?,
            remember_me: f.flag()?,
            service: f.text()?,
            proxies: f.text()?.lines().map(str::to_owned).collect(),
            from_new_login: f.flag()?,
            factors: f.text()?,
        }))
    }

    /// Drops expired tickets; how many went.
    pub async fn sweep_shared_tickets(&self, now: i64) -> Result<usize> {
        self.shared(
            "DELETE FROM tickets WHERE expires_at < ?1 RETURNING 1",
            args![now],
        )
        .await
        .map(|rows| rows.len())
    }
}
