//! SSO sessions (TGTs), keyed by the SHA-256 of the id the browser holds.

use super::{Result, Store};
use rusqlite::{params, OptionalExtension};

/// A live SSO session as stored.
#[derive(Clone, Debug)]
pub struct SsoSession {
    pub account_id: String,
    pub auth_time: i64,
    pub last_used: i64,
    pub expires_at: i64,
    pub idle_timeout: i64,
    pub remember_me: bool,
}

impl Store {
    pub fn insert_session(
        &self,
        id_hash: &str,
        s: &SsoSession,
        client_ip: &str,
        user_agent: &str,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sso_sessions (id_hash, account_id, auth_time, last_used, expires_at,
                     idle_timeout, remember_me, client_ip, user_agent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id_hash,
                    s.account_id,
                    s.auth_time,
                    s.last_used,
                    s.expires_at,
                    s.idle_timeout,
                    s.remember_me,
                    client_ip,
                    user_agent
                ],
            )?;
            Ok(())
        })
    }

    pub fn session(&self, id_hash: &str) -> Result<Option<SsoSession>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT account_id, auth_time, last_used, expires_at, idle_timeout, remember_me
                 FROM sso_sessions WHERE id_hash = ?1",
            )?
            .query_row([id_hash], |r| {
                Ok(SsoSession {
                    account_id: r.get(0)?,
                    auth_time: r.get(1)?,
                    last_used: r.get(2)?,
                    expires_at: r.get(3)?,
                    idle_timeout: r.get(4)?,
                    remember_me: r.get(5)?,
                })
            })
            .optional()
        })
    }

    pub fn touch_session(&self, id_hash: &str, now: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sso_sessions SET last_used = ?2 WHERE id_hash = ?1",
                params![id_hash, now],
            )?;
            Ok(())
        })
    }

    /// Deletes one session; `true` if it existed.
    pub fn delete_session(&self, id_hash: &str) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute("DELETE FROM sso_sessions WHERE id_hash = ?1", [id_hash])? > 0)
        })
    }

    /// Ends every SSO session of an account (an administrator's "log out everywhere").
    /// Returns how many there were; `None` if there is no such account.
    pub fn delete_sessions_of(&self, account_id: &str, now: i64) -> Result<Option<usize>> {
        self.write(|tx| {
            let exists = tx
                .prepare_cached("SELECT 1 FROM accounts WHERE id = ?1")?
                .exists([account_id])?;
            if !exists {
                return Ok(None);
            }
            let n = tx.execute(
                "DELETE FROM sso_sessions WHERE account_id = ?1",
                [account_id],
            )?;
            super::audit::insert(
                tx,
                &super::AuditEvent {
                    event: "sessions_ended",
                    account_id: Some(account_id),
                    client_ip: "",
                    detail: &format!("administrator; {n} session(s)"),
                },
                now,
            )?;
            Ok(Some(n))
        })
    }

    /// Deletes sessions past their absolute or idle limit, in bounded batches so writers
    /// never wait long. Returns how many went.
    pub fn sweep_sessions(&self, now: i64) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.write(|tx| {
                tx.execute(
                    "DELETE FROM sso_sessions WHERE rowid IN (SELECT rowid FROM sso_sessions
                         WHERE expires_at <= ?1 OR last_used + idle_timeout <= ?1 LIMIT 1000)",
                    [now],
                )
            })?;
            total += n;
            if n < 1000 {
                return Ok(total);
            }
        }
    }
}
