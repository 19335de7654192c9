//! `unicas store copy`: every row a school keeps, from one database to another (SQLite to
//! PostgreSQL when a school moves to several nodes, or back). Tickets and flow state are
//! left behind: they live seconds. The copy is one transaction on the destination, which
//! must be empty; both sides must be at this binary's schema version and sealed with the
//! same key file (the sealed columns are copied as they are).

use super::db::{args, Db, Owned};
use super::{Result, Store, StoreError};

/// Tables in the order their references need, and whether rows are read in pages by `id`.
const TABLES: [(&str, bool); 17] = [
    ("accounts", false),
    ("account_attributes", false),
    ("bindings", false),
    ("last_logins", false),
    ("password_history", true),
    ("security_questions", false),
    ("recovery_codes", false),
    ("passkeys", false),
    ("services", true),
    ("service_mismatches", true),
    ("sso_sessions", false),
    ("proxy_granting_tickets", false),
    ("logout_participants", false),
    ("login_throttle", false),
    ("one_time_codes", true),
    ("messages", true),
    ("audit_log", true),
];

const PAGE: i64 = 5000;

/// Copies every table; how many rows each had.
pub fn copy(from: &Store, to: &Store) -> Result<Vec<(&'static str, usize)>> {
    to.write(|dst| {
        for (table, _) in TABLES {
            if dst.exists(&format!("SELECT 1 FROM {table} LIMIT 1"), args![])? {
                return Err(StoreError::Refused(format!(
                    "the destination already holds {table}: copy into a new, empty database"
                )));
            }
        }
        let mut counts = Vec::new();
        for (table, paged) in TABLES {
            let columns = dst.column_names(&format!("SELECT * FROM {table}"))?;
            let list = columns.join(", ");
            let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            let insert = format!(
                "INSERT INTO {table} ({list}) VALUES ({})",
                placeholders.join(", ")
            );
            let mut n = 0;
            let mut after = i64::MIN;
            loop {
                let rows = from.read(|src| match paged {
                    true => src.query(
                        &format!("SELECT {list} FROM {table} WHERE id > ?1 ORDER BY id LIMIT ?2"),
                        args![after, PAGE],
                        |r| r.all(columns.len()),
                    ),
                    false => src.query(&format!("SELECT {list} FROM {table}"), args![], |r| {
                        r.all(columns.len())
                    }),
                })?;
                for row in &rows {
                    let values: Vec<_> = row.iter().map(Owned::value).collect();
                    dst.execute(&insert, &values)?;
                }
                n += rows.len();
                let id = columns.iter().position(|c| c == "id");
                match (paged, rows.last(), id) {
                    (true, Some(last), Some(i)) if rows.len() as i64 == PAGE => {
                        after = last[i].int().unwrap_or(i64::MAX);
                    }
                    _ => break,
                }
            }
            if paged && to.is_shared() {
                restart_identity(dst, table)?;
            }
            counts.push((table, n));
        }
        Ok(counts)
    })
}

/// PostgreSQL hands out ids from a sequence, which rows inserted with their ids did not
/// move: it starts after the largest now.
fn restart_identity(dst: &Db, table: &str) -> Result<()> {
    dst.query_one(
        &format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                 COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        ),
        args![],
        |_| Ok(()),
    )
}
