//! Flow state shared by several nodes (see `crate::ephemeral`): single statements, outside
//! the write lock, on the `ephemeral` table of PostgreSQL.

use super::db::args;
use super::{Result, Store};

impl Store {
    /// Stores (or replaces) an entry.
    pub fn put_ephemeral(
        &self,
        space: &str,
        key: &str,
        value: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.statement(|db| {
            db.execute(
                "INSERT INTO ephemeral (space, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (space, key) DO UPDATE SET value = excluded.value,
                     expires_at = excluded.expires_at",
                args![space, key, value, expires_at],
            )
            .map(drop)
        })
    }

    /// A live entry's value.
    pub fn get_ephemeral(&self, space: &str, key: &str, now: i64) -> Result<Option<String>> {
        self.statement(|db| {
            db.query_opt(
                "SELECT value FROM ephemeral WHERE space = ?1 AND key = ?2 AND expires_at >= ?3",
                args![space, key, now],
                |r| r.get(0),
            )
        })
    }

    /// Removes an entry and returns its expiry and value, expired or not.
    pub fn take_ephemeral(&self, space: &str, key: &str) -> Result<Option<(i64, String)>> {
        self.statement(|db| {
            db.query_opt(
                "DELETE FROM ephemeral WHERE space = ?1 AND key = ?2 RETURNING expires_at, value",
                args![space, key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    /// Records `key` until `expires_at` unless it is recorded already: whether this call
    /// did (a form token is spent once, on whichever node).
    pub fn claim_ephemeral(&self, space: &str, key: &str, expires_at: i64) -> Result<bool> {
        self.statement(|db| {
            db.execute(
                "INSERT INTO ephemeral (space, key, value, expires_at) VALUES (?1, ?2, '', ?3)
                 ON CONFLICT (space, key) DO NOTHING",
                args![space, key, expires_at],
            )
            .map(|n| n > 0)
        })
    }

    /// Stores the number `value` unless a live entry holds one at least as great; whether
    /// it did. One statement, so of two racing with the same value one wins.
    pub fn raise_ephemeral(
        &self,
        space: &str,
        key: &str,
        value: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<bool> {
        self.statement(|db| {
            db.execute(
                "INSERT INTO ephemeral (space, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (space, key) DO UPDATE SET value = excluded.value,
                     expires_at = excluded.expires_at
                 WHERE ephemeral.expires_at < ?5
                    OR CAST(ephemeral.value AS BIGINT) < CAST(excluded.value AS BIGINT)",
                args![space, key, &value.to_string(), expires_at, now],
            )
            .map(|n| n > 0)
        })
    }

    /// Drops expired entries of every space; how many went.
    pub fn sweep_ephemeral(&self, now: i64) -> Result<usize> {
        self.statement(|db| db.execute("DELETE FROM ephemeral WHERE expires_at < ?1", args![now]))
    }
}
