//! The audit log of security events. Rows never carry secrets.

use super::db::{args, Db, Row};
use super::{Result, Store};
use crate::model::AuditRecord;

/// Seconds within which a failure repeated from one source joins the row before it.
const REPEAT_WINDOW: i64 = 60;

/// Writes the row; a login's row also records when the account last logged in (the console's
/// "从未登录" list), in the same transaction, whichever way the login happened.
pub(super) fn insert(tx: &Db, r: &AuditRecord, now: i64) -> Result<()> {
    let (event, detail) = (r.event.name(), r.event.detail());
    if let (crate::model::AuditEvent::LoginSucceeded { .. }, Some(id)) = (&r.event, r.account_id) {
        tx.execute(
            "INSERT INTO last_logins (account_id, at) VALUES (?1, ?2)
             ON CONFLICT (account_id) DO UPDATE SET at = excluded.at",
            args![id, now],
        )?;
    }
    // A flood of the same failure from one address is one row, counted (docs/security.md M10):
    // the log stays readable and bounded whatever the request rate.
    if r.event.is_failure() {
        let joined = tx.execute(
            "UPDATE audit_log SET repeats = repeats + 1, last_at = ?1
             WHERE id = (SELECT max(id) FROM audit_log
                 WHERE event = ?2 AND client_ip = ?3 AND at > ?4 AND detail = ?5
                   AND account_id IS NOT DISTINCT FROM ?6)",
            args![
                now,
                event,
                &r.client_ip,
                now - REPEAT_WINDOW,
                &detail,
                r.account_id
            ],
        )?;
        if joined > 0 {
            return Ok(());
        }
    }
    tx.execute(
        "INSERT INTO audit_log (at, event, account_id, client_ip, user_agent, detail, last_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?1)",
        args![
            now,
            event,
            r.account_id,
            &r.client_ip,
            &r.user_agent,
            &detail
        ],
    )?;
    Ok(())
}

/// An audit row as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub at: i64,
    pub event: String,
    pub account_id: Option<String>,
    pub client_ip: String,
    pub user_agent: String,
    pub detail: String,
    /// How many times it happened (a failure repeated from one source within a minute of
    /// the last is one row), the last at `last_at`.
    pub repeats: i64,
    pub last_at: i64,
}

impl AuditRow {
    /// The detail as people read it: with the count of a repeated failure and its last time.
    pub fn described(&self) -> String {
        match self.repeats {
            1 => self.detail.clone(),
            n => format!(
                "{} (×{n}, last at {})",
                self.detail,
                crate::clock::iso8601(self.last_at)
            ),
        }
    }
}

impl Store {
    /// The most recent `limit` rows, newest first; only `account`'s when given.
    pub fn recent_audit(&self, account: Option<&str>, limit: i64) -> Result<Vec<AuditRow>> {
        self.read(|conn| {
            conn.query(
                "SELECT at, event, account_id, client_ip, user_agent, detail, repeats, last_at FROM audit_log
                 WHERE CAST(?1 AS TEXT) IS NULL OR account_id = ?1 ORDER BY id DESC LIMIT ?2",
                args![account, limit],
                row,
            )
        })
    }

    /// The account's `limit` most recent successful logins, newest first.
    pub fn recent_logins(&self, account: &str, limit: i64) -> Result<Vec<AuditRow>> {
        self.read(|conn| {
            conn.query(
                "SELECT at, event, account_id, client_ip, user_agent, detail, repeats, last_at FROM audit_log
                 WHERE account_id = ?1 AND event = 'login_success' ORDER BY id DESC LIMIT ?2",
                args![account, limit],
                row,
            )
        })
    }

    pub fn audit(&self, record: &AuditRecord, now: i64) -> Result<()> {
        self.write(|tx| insert(tx, record, now))
    }
}

pub(super) fn row(r: &Row) -> Result<AuditRow> {
    Ok(AuditRow {
        at: r.get(0)?,
        event: r.get(1)?,
        account_id: r.get(2)?,
        client_ip: r.get(3)?,
        user_agent: r.get(4)?,
        detail: r.get(5)?,
        repeats: r.get(6)?,
        last_at: r.get(7)?,
    })
}
