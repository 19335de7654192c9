//! Service and proxy tickets in the shared database, for several nodes (on one node they
//! stay in memory: `cas::tickets`). A ticket is found by its SHA-256, never stored itself;
//! taking it is one `DELETE … RETURNING`, so of concurrent validations on any nodes exactly
//! one gets it.

use super::db::args;
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
}

impl Store {
    /// Records a ticket under `key` (its hash) until its expiry.
    pub fn put_ticket(&self, key: &str, t: &TicketRow) -> Result<()> {
        self.statement(|db| {
            db.execute(
                "INSERT INTO tickets (key, expires_at, session_hash, account_id, auth_time,
                     remember_me, service, proxies, new_login, issued_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                args![
                    key,
                    t.expires_at,
                    &t.session_hash,
                    &t.account_id,
                    t.auth_time,
                    t.remember_me,
                    &t.service,
                    &t.proxies.join("\n"),
                    t.from_new_login,
                    t.issued_at
                ],
            )
            .map(drop)
        })
    }

    /// Removes and returns the ticket under `key`, expired or not; the caller checks.
    pub fn take_ticket(&self, key: &str) -> Result<Option<TicketRow>> {
        self.statement(|db| {
            db.query_opt(
                "DELETE FROM tickets WHERE key = ?1
                 RETURNING expires_at, session_hash, account_id, auth_time, remember_me,
                     service, proxies, new_login, issued_at",
                args![key],
                |r| {
                    let proxies: String = r.get(6)?;
                    Ok(TicketRow {
                        issued_at: r.get(8)?,
                        expires_at: r.get(0)?,
                        session_hash: r.get(1)?,
                        account_id: r.get(2)?,
                        auth_time: r.get(3)?,
                        remember_me: r.get(4)?,
                        service: r.get(5)?,
                        proxies: proxies.lines().map(str::to_owned).collect(),
                        from_new_login: r.get(7)?,
                    })
                },
            )
        })
    }

    /// Drops expired tickets; how many went.
    pub fn sweep_shared_tickets(&self, now: i64) -> Result<usize> {
        self.statement(|db| db.execute("DELETE FROM tickets WHERE expires_at < ?1", args![now]))
    }
}
