//! Short-lived state of flows in progress (captcha answers, pending first logins,
//! recoveries, QR-code requests, WeCom/WeChat round trips, console grants): in this
//! process's memory on one node, in the shared database when several nodes serve, so a
//! flow begun on one node goes on on another.
//!
//! In the database each kind of state has its own space; keys are stored as their SHA-256
//! and values (JSON) sealed with the installation's key, so a copy of the table gives
//! nothing to present or read. Every operation there is one statement: taking an entry is a
//! `DELETE … RETURNING`, so of two concurrent takers on any nodes exactly one gets it.

use crate::memory::ExpiringMap;
use crate::store::{Store, StoreError};
use serde::{de::DeserializeOwned, Serialize};

pub enum Ephemeral<T> {
    Memory(ExpiringMap<T>),
    Shared { store: Store, space: &'static str },
}

type Result<T> = std::result::Result<T, StoreError>;

impl<T> Ephemeral<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + 'static,
{
    /// State of kind `space`: in `store` if it is shared, else in memory, at most about
    /// `capacity` entries there.
    pub fn new(store: &Store, space: &'static str, capacity: usize) -> Ephemeral<T> {
        match store.is_shared() {
            true => Ephemeral::Shared {
                store: store.clone(),
                space,
            },
            false => Ephemeral::Memory(ExpiringMap::bounded(capacity)),
        }
    }

    /// Stores `value` under `key` until `expires_at` (unix seconds, inclusive).
    pub async fn insert(&self, key: String, value: T, expires_at: i64, now: i64) -> Result<()> {
        match self {
            Ephemeral::Memory(map) => {
                map.insert(key, value, expires_at, now);
                Ok(())
            }
            Ephemeral::Shared { store, space } => {
                let sealed = seal(store, &value)?;
                store
                    .put_ephemeral(space, &crate::tickets::hash_id(&key), &sealed, expires_at)
                    .await
            }
        }
    }

    /// A copy of a live entry, leaving it in place.
    pub async fn get(&self, key: &str, now: i64) -> Result<Option<T>> {
        match self {
            Ephemeral::Memory(map) => Ok(map.get(key, now)),
            Ephemeral::Shared { store, space } => {
                let found = store
                    .get_ephemeral(space, &crate::tickets::hash_id(key), now)
                    .await?;
                found.map(|v| open(store, &v)).transpose()
            }
        }
    }

    /// Removes and returns the entry with its expiry, expired or not (the caller checks).
    pub async fn take(&self, key: &str) -> Result<Option<(i64, T)>> {
        match self {
            Ephemeral::Memory(map) => Ok(map.take(key)),
            Ephemeral::Shared { store, space } => {
                let found = store
                    .take_ephemeral(space, &crate::tickets::hash_id(key))
                    .await?;
                found
                    .map(|(expires_at, v)| Ok((expires_at, open(store, &v)?)))
                    .transpose()
            }
        }
    }

    /// Drops expired entries (the database's are swept once for every space, by
    /// `Store::sweep_ephemeral`).
    pub fn sweep(&self, now: i64) {
        if let Ephemeral::Memory(map) = self {
            map.sweep(now);
        }
    }
}

impl Ephemeral<i64> {
    /// Stores `value` unless a live entry already holds one at least as great; true if it
    /// did, atomically (a one-time code's step is used once, on whichever node).
    pub async fn raise(&self, key: String, value: i64, expires_at: i64, now: i64) -> Result<bool> {
        match self {
            Ephemeral::Memory(map) => Ok(map.raise(key, value, expires_at, now)),
            Ephemeral::Shared { store, space } => {
                store
                    .raise_ephemeral(
                        space,
                        &crate::tickets::hash_id(&key),
                        value,
                        expires_at,
                        now,
                    )
                    .await
            }
        }
    }
}

fn seal<T: Serialize>(store: &Store, value: &T) -> Result<String> {
    let json = serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(store.keys().seal(&json))
}

fn open<T: DeserializeOwned>(store: &Store, sealed: &str) -> Result<T> {
    let json = store
        .keys()
        .open(sealed)
        .ok_or_else(|| StoreError::Corrupt("flow state sealed with other keys".into()))?;
    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))
}
