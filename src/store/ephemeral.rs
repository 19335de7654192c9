//! Flow state shared by several nodes (see `crate::ephemeral`): single statements, outside
//! the write lock, on the `ephemeral` table of PostgreSQL.

use super::db::{args, Fields};
use super::{Result, Store};

impl Store {
    /// Stores (or replaces) an entry.
    pub async fn put_ephemeral(
        &self,
        space: &str,
        key: &str,
        value: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.shared(
            "INSERT INTO ephemeral (space, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (space, key) DO UPDATE SET value = excluded.value,
                 expires_at = excluded.expires_at",
            args![space, key, value, expires_at],
        )
        .await
        .map(drop)
    }

    /// A live entry's value.
    pub async fn get_ephemeral(&self, space: &str, key: &str, now: i64) -> Result<Option<String>> {
        let rows = self
            .shared(
                "SELECT value FROM ephemeral WHERE space = ?1 AND key = ?2 AND expires_at >= ?3",
                args![space, key, now],
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|row| Fields::new(row).text())
            .transpose()
    }

    /// Removes an entry and returns its expiry and value, expired or not.
    pub async fn take_ephemeral(&self, space: &str, key: &str) -> Result<Option<(i64, String)>> {
        let rows = self
            .shared(
                "DELETE FROM ephemeral WHERE space = ?1 AND key = ?2 RETURNING expires_at, value",
                args![space, key],
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|row| {
                let mut f = Fields::new(row);
                Ok((f.int()?, f.text()?))
            })
            .transpose()
    }

    /// Records `key` until `expires_at` unless it is recorded already: whether this call
    /// did (a form token is spent once, on whichever node).
    pub async fn claim_ephemeral(&self, space: &str, key: &str, expires_at: i64) -> Result<bool> {
        self.shared(
            "INSERT INTO ephemeral (space, key, value, expires_at) VALUES (?1, ?2, '', ?3)
             ON CONFLICT (space, key) DO NOTHING RETURNING 1",
            args![space, key, expires_at],
        )
        .await
        .map(|rows| !rows.is_empty())
    }

    /// Stores the number `value` unless a live entry holds one at least as great; whether
    /// it did. One statement, so of two racing with the same value one wins.
    pub async fn raise_ephemeral(
        &self,
        space: &str,
        key: &str,
        value: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<bool> {
        self.shared(
            "INSERT INTO ephemeral (space, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (space, key) DO UPDATE SET value = excluded.value,
                 expires_at = excluded.expires_at
             WHERE ephemeral.expires_at < ?5
                OR CAST(ephemeral.value AS BIGINT) < CAST(excluded.value AS BIGINT)
             RETURNING 1",
            args![space, key, &value.to_string(), expires_at, now],
        )
        .await
        .map(|rows| !rows.is_empty())
    }

    /// Drops expired entries of every space; how many went.
    pub async fn sweep_ephemeral(&self, now: i64) -> Result<usize> {
        self.shared(
            "DELETE FROM ephemeral WHERE expires_at < ?1 RETURNING 1",
            args![now],
        )
        .await
        .map(|rows| rows.len())
    }
}
