//! The audit log of security events. Rows never carry secrets.

use super::{Result, Store};
use rusqlite::{params, Transaction};

/// One audit row.
#[derive(Clone, Debug)]
pub struct AuditEvent<'a> {
    pub event: &'a str,
    pub account_id: Option<&'a str>,
    pub client_ip: &'a str,
    pub detail: &'a str,
}

pub(super) fn insert(tx: &Transaction, e: &AuditEvent, now: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO audit_log (at, event, account_id, client_ip, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![now, e.event, e.account_id, e.client_ip, e.detail])?;
    Ok(())
}

/// An audit row as read back.
#[derive(Clone, Debug)]
pub struct AuditRow {
    pub at: i64,
    pub event: String,
    pub account_id: Option<String>,
    pub client_ip: String,
    pub detail: String,
}

impl Store {
    /// The most recent `limit` rows, newest first.
    pub fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRow>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT at, event, account_id, client_ip, detail FROM audit_log
                 ORDER BY id DESC LIMIT ?1",
            )?
            .query_map([limit], |r| {
                Ok(AuditRow {
                    at: r.get(0)?,
                    event: r.get(1)?,
                    account_id: r.get(2)?,
                    client_ip: r.get(3)?,
                    detail: r.get(4)?,
                })
            })?
            .collect()
        })
    }

    pub fn audit(&self, e: &AuditEvent, now: i64) -> Result<()> {
        self.write(|tx| insert(tx, e, now))
    }

    /// A successful password login in one transaction: the account's failure counter is
    /// cleared and the event recorded.
    pub fn record_login_success(&self, account_key: &str, e: &AuditEvent, now: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM login_throttle WHERE key = ?1", [account_key])?;
            insert(tx, e, now)
        })
    }
}
