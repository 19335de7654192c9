//! SSO sessions (TGTs), keyed by the SHA-256 of the id the browser holds.

use super::db::args;
use super::{audit, Result, Store};
use crate::model::{AuditEvent, AuditRecord, Client, Factor, Proof};

/// A live SSO session as stored.
#[derive(Clone, Debug)]
pub struct SsoSession {
    pub account_id: String,
    pub auth_time: i64,
    pub last_used: i64,
    pub expires_at: i64,
    pub idle_timeout: i64,
    pub remember_me: bool,
    /// How it was proved.
    pub proof: Proof,
}

/// A session as an account's own list shows it.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub id_hash: String,
    pub auth_time: i64,
    pub last_used: i64,
    pub client_ip: String,
    pub user_agent: String,
}

impl Store {
    /// The account's sessions, most recent first.
    pub fn sessions_of(&self, account_id: &str) -> Result<Vec<SessionRow>> {
        self.read(|conn| {
            conn.query(
                "SELECT id_hash, auth_time, last_used, client_ip, user_agent FROM sso_sessions
                 WHERE account_id = ?1 ORDER BY auth_time DESC",
                args![account_id],
                |r| {
                    Ok(SessionRow {
                        id_hash: r.get(0)?,
                        auth_time: r.get(1)?,
                        last_used: r.get(2)?,
                        client_ip: r.get(3)?,
                        user_agent: r.get(4)?,
                    })
                },
            )
        })
    }

    /// Inserts a session. With `replacing`, the browser's earlier session ends in the same
    /// transaction: a new login always gets a new id and the old one stops working (also
    /// after `renew`). If both belong to the same account, the applications that were told
    /// of the old session (single logout) and its proxy-granting tickets move to the new
    /// one, so re-authenticating logs nobody out; an earlier session of someone else ends
    /// with its single logout.
    pub fn insert_session(
        &self,
        id_hash: &str,
        s: &SsoSession,
        client_ip: &str,
        user_agent: &str,
        replacing: Option<&str>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sso_sessions (id_hash, account_id, auth_time, last_used, expires_at,
                     idle_timeout, remember_me, client_ip, user_agent, first_factor, second_factor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                args![
                    id_hash,
                    &s.account_id,
                    s.auth_time,
                    s.last_used,
                    s.expires_at,
                    s.idle_timeout,
                    s.remember_me,
                    client_ip,
                    user_agent,
                    s.proof.first.as_str(),
                    s.proof.second.map(Factor::as_str)
                ],
            )?;
            let Some(old) = replacing else { return Ok(()) };
            let owner: Option<String> = tx.query_opt(
                "SELECT account_id FROM sso_sessions WHERE id_hash = ?1",
                args![old],
                |r| r.get(0),
            )?;
            if owner.as_deref() == Some(s.account_id.as_str()) {
                for table in ["logout_participants", "proxy_granting_tickets"] {
                    tx.execute(
                        &format!("UPDATE {table} SET session_hash = ?2 WHERE session_hash = ?1"),
                        args![old, id_hash],
                    )?;
                }
            }
            tx.execute("DELETE FROM sso_sessions WHERE id_hash = ?1", args![old])?;
            Ok(())
        })
    }

    pub fn session(&self, id_hash: &str) -> Result<Option<SsoSession>> {
        self.read(|conn| {
            conn.query_opt(
                "SELECT account_id, auth_time, last_used, expires_at, idle_timeout, remember_me,
                     first_factor, second_factor
                 FROM sso_sessions WHERE id_hash = ?1",
                args![id_hash],
                |r| {
                    Ok(SsoSession {
                        account_id: r.get(0)?,
                        auth_time: r.get(1)?,
                        last_used: r.get(2)?,
                        expires_at: r.get(3)?,
                        idle_timeout: r.get(4)?,
                        remember_me: r.get(5)?,
                        proof: Proof {
                            first: Factor::parse(&r.get::<String>(6)?).unwrap_or(Factor::Password),
                            second: r
                                .get::<Option<String>>(7)?
                                .as_deref()
                                .and_then(Factor::parse),
                        },
                    })
                },
            )
        })
    }

    /// Records the second factor a live session just proved; `false` if it has ended.
    pub fn prove_second_factor(&self, id_hash: &str, factor: Factor) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE sso_sessions SET second_factor = ?2 WHERE id_hash = ?1",
                args![id_hash, factor.as_str()],
            )? > 0)
        })
    }

    pub fn touch_session(&self, id_hash: &str, now: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sso_sessions SET last_used = ?2 WHERE id_hash = ?1",
                args![id_hash, now],
            )?;
            Ok(())
        })
    }

    /// Live SSO sessions (within their absolute and idle limits), for the metrics.
    pub fn live_sessions(&self, now: i64) -> Result<i64> {
        self.read(|conn| {
            conn.query_one(
                "SELECT count(*) FROM sso_sessions WHERE expires_at > ?1 AND last_used + idle_timeout > ?1",
                args![now],
                |r| r.get(0),
            )
        })
    }

    /// Deletes one session; `true` if it existed.
    pub fn delete_session(&self, id_hash: &str) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM sso_sessions WHERE id_hash = ?1",
                args![id_hash],
            )? > 0)
        })
    }

    /// Ends every SSO session of an account but `keep` (an administrator's "log out
    /// everywhere", or its holder's "sign out elsewhere"), with the audit row made by
    /// `client` (`None`: the command line). Returns how many there were; `None` if there is
    /// no such account.
    pub fn delete_sessions_of(
        &self,
        account_id: &str,
        keep: Option<&str>,
        client: Option<&Client>,
        now: i64,
    ) -> Result<Option<usize>> {
        self.write(|tx| {
            if !tx.exists("SELECT 1 FROM accounts WHERE id = ?1", args![account_id])? {
                return Ok(None);
            }
            let count = super::accounts::end_sessions(tx, account_id, keep)?;
            let event = AuditEvent::SessionsEnded { count };
            let record = match client {
                Some(c) => c.record(event, Some(account_id)),
                None => AuditRecord::system(event, Some(account_id)),
            };
            audit::insert(tx, &record, now)?;
            Ok(Some(count))
        })
    }

    /// Ends every SSO session but `keep` (an administrator's answer to an incident), with the
    /// administrator's audit row in the same commit; returns how many ended. Single logout
    /// follows for each, as for any session ended in the store.
    pub fn end_all_sessions(
        &self,
        keep: &str,
        admin: &str,
        client: &Client,
        now: i64,
    ) -> Result<usize> {
        self.write(|tx| {
            let count = tx.execute("DELETE FROM sso_sessions WHERE id_hash != ?1", args![keep])?;
            // Every paused flow ends with them.
            tx.execute("UPDATE accounts SET generation = generation + 1", args![])?;
            let event = AuditEvent::AdminAction {
                action: "end every session".into(),
                target: format!("{count} session(s)"),
            };
            audit::insert(tx, &client.record(event, Some(admin)), now)?;
            Ok(count)
        })
    }

    /// Deletes sessions past their absolute or idle limit, in bounded batches so writers
    /// never wait long. Returns how many went.
    pub fn sweep_sessions(&self, now: i64) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.write(|tx| {
                tx.execute(
                    "DELETE FROM sso_sessions WHERE id_hash IN (SELECT id_hash FROM sso_sessions
                         WHERE expires_at <= ?1 OR last_used + idle_timeout <= ?1 LIMIT 1000)",
                    args![now],
                )
            })?;
            total += n;
            if n < 1000 {
                return Ok(total);
            }
        }
    }
}
