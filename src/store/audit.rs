//! The audit log of security events. Rows never carry secrets.

use super::db::{args, Db, Row};
use super::{Result, Store};
use crate::model::AuditRecord;

pub(super) fn insert(tx: &Db, r: &AuditRecord, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO audit_log (at, event, account_id, client_ip, user_agent, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![
            now,
            r.event.name(),
            r.account_id,
            &r.client_ip,
            &r.user_agent,
            &r.event.detail()
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
}

impl Store {
    /// The most recent `limit` rows, newest first; only `account`'s when given.
    pub fn recent_audit(&self, account: Option<&str>, limit: i64) -> Result<Vec<AuditRow>> {
        self.read(|conn| {
            conn.query(
                "SELECT at, event, account_id, client_ip, user_agent, detail FROM audit_log
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
                "SELECT at, event, account_id, client_ip, user_agent, detail FROM audit_log
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
    })
}
