//! Accounts and their extra attributes.

use super::{Result, Store};
use crate::accounts::{Account, Kind, Status};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// What `user add` (and later the roster import) inserts.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub department: String,
    pub email: String,
    pub phone: String,
    pub password_hash: String,
    pub must_change: bool,
    pub attributes: Vec<(String, String)>,
}

const COLUMNS: &str = "id, name, kind, department, email, phone, status, password_hash, must_change, created_at, updated_at";

fn from_row(row: &Row) -> rusqlite::Result<Account> {
    let text = |i: usize| row.get::<_, String>(i);
    let bad = |i: usize| {
        rusqlite::Error::InvalidColumnType(i, "enum".into(), rusqlite::types::Type::Text)
    };
    Ok(Account {
        id: text(0)?,
        name: text(1)?,
        kind: Kind::parse(&text(2)?).ok_or_else(|| bad(2))?,
        department: text(3)?,
        email: text(4)?,
        phone: text(5)?,
        status: Status::parse(&text(6)?).ok_or_else(|| bad(6))?,
        password_hash: text(7)?,
        must_change: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
        attributes: Vec::new(),
    })
}

fn load_attributes(conn: &Connection, account: &mut Account) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, value FROM account_attributes WHERE account_id = ?1 ORDER BY position",
    )?;
    account.attributes = stmt
        .query_map([&account.id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(())
}

impl Store {
    /// Inserts a new account with its attributes; `false` if the id is taken.
    pub fn insert_account(&self, new: &NewAccount, now: i64) -> Result<bool> {
        self.write(|tx| {
            let inserted = tx.execute(
                "INSERT INTO accounts (id, name, kind, department, email, phone, password_hash,
                     must_change, password_changed_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?9) ON CONFLICT(id) DO NOTHING",
                params![
                    new.id, new.name, new.kind.as_str(), new.department, new.email, new.phone,
                    new.password_hash, new.must_change, now
                ],
            )?;
            if inserted == 0 {
                return Ok(false);
            }
            let mut stmt = tx.prepare_cached(
                "INSERT INTO account_attributes (account_id, name, value, position) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (position, (name, value)) in new.attributes.iter().enumerate() {
                stmt.execute(params![new.id, name, value, position as i64])?;
            }
            Ok(true)
        })
    }

    /// The account with this canonical id, with its attributes.
    pub fn account(&self, id: &str) -> Result<Option<Account>> {
        self.read(|conn| {
            let mut account = conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1"))?
                .query_row([id], from_row)
                .optional()?;
            if let Some(account) = account.as_mut() {
                load_attributes(conn, account)?;
            }
            Ok(account)
        })
    }

    /// All accounts ordered by id, without attributes.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.read(|conn| {
            conn.prepare(&format!("SELECT {COLUMNS} FROM accounts ORDER BY id"))?
                .query_map([], from_row)?
                .collect()
        })
    }

    /// Replaces the password hash, remembers the old one, and ends the account's SSO
    /// sessions in the same transaction: a new password must not leave old sessions alive.
    pub fn set_password(
        &self,
        id: &str,
        hash: &str,
        must_change: bool,
        event: &super::AuditEvent,
        now: i64,
    ) -> Result<bool> {
        self.write(|tx| {
            let old: Option<String> = tx
                .query_row("SELECT password_hash FROM accounts WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            let Some(old) = old else { return Ok(false) };
            tx.execute(
                "INSERT INTO password_history (account_id, password_hash, changed_at) VALUES (?1, ?2, ?3)",
                params![id, old, now],
            )?;
            tx.execute(
                "UPDATE accounts SET password_hash = ?2, must_change = ?3, password_changed_at = ?4,
                     updated_at = ?4 WHERE id = ?1",
                params![id, hash, must_change, now],
            )?;
            tx.execute("DELETE FROM sso_sessions WHERE account_id = ?1", [id])?;
            super::audit::insert(tx, event, now)?;
            Ok(true)
        })
    }

    /// Sets the status; locking or disabling also ends the account's SSO sessions.
    pub fn set_status(&self, id: &str, status: Status, now: i64) -> Result<bool> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE accounts SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, status.as_str(), now],
            )?;
            if status != Status::Active {
                tx.execute("DELETE FROM sso_sessions WHERE account_id = ?1", [id])?;
            }
            Ok(changed > 0)
        })
    }
}
