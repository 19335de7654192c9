//! What the admin console reads beyond accounts and services: validation mismatches per
//! application, single-logout deliveries per application, and the audit log with filters.

use super::audit::AuditRow;
use super::db::args;
use super::{Result, Store};

/// Mismatches kept per application.
const KEPT: i64 = 50;

/// The audit viewer's filters; empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub account: String,
    pub event: String,
    pub address: String,
    /// Unix times, inclusive; 0: open.
    pub from: i64,
    pub to: i64,
}

impl Store {
    /// Records an INVALID_SERVICE refusal for the application the ticket was issued for.
    pub fn record_mismatch(
        &self,
        service_id: i64,
        issued: &str,
        presented: &str,
        now: i64,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO service_mismatches (service_id, issued, presented, at) VALUES (?1, ?2, ?3, ?4)",
                args![service_id, issued, presented, now],
            )?;
            tx.execute(
                "DELETE FROM service_mismatches WHERE service_id = ?1 AND id <= (
                     SELECT id FROM service_mismatches WHERE service_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                args![service_id, KEPT],
            )?;
            Ok(())
        })
    }

    /// The application's recent mismatches, newest first: (time, issued, presented).
    pub fn mismatches(&self, service_id: i64) -> Result<Vec<(i64, String, String)>> {
        self.read(|conn| {
            conn.query(
                "SELECT at, issued, presented FROM service_mismatches WHERE service_id = ?1 ORDER BY id DESC",
                args![service_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })
    }

    /// The application's recent single-logout deliveries (audit rows), newest first.
    pub fn deliveries(&self, service_id: i64, limit: i64) -> Result<Vec<AuditRow>> {
        self.read(|conn| {
            conn.query(
                "SELECT at, event, account_id, client_ip, user_agent, detail, repeats, last_at FROM audit_log
                 WHERE event IN ('slo_sent', 'slo_failed') AND detail LIKE ?1
                 ORDER BY id DESC LIMIT ?2",
                args![&format!("service={service_id} %"), limit],
                super::audit::row,
            )
        })
    }

    /// Audit rows matching `f`, newest first, at most `limit`.
    pub fn audit_search(&self, f: &AuditFilter, limit: i64) -> Result<Vec<AuditRow>> {
        self.read(|conn| {
            conn.query(
                "SELECT at, event, account_id, client_ip, user_agent, detail, repeats, last_at FROM audit_log
                 WHERE (?1 = '' OR account_id = ?1) AND (?2 = '' OR event = ?2)
                   AND (?3 = '' OR client_ip = ?3) AND (?4 = 0 OR at >= ?4) AND (?5 = 0 OR at <= ?5)
                 ORDER BY id DESC LIMIT ?6",
                args![&f.account, &f.event, &f.address, f.from, f.to, limit],
                super::audit::row,
            )
        })
    }
}
