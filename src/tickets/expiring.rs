//! Short-lived, single-use secrets kept in memory: service tickets (10 s), login form tokens,
//! pending first-login steps. Taking an entry removes it under the shard's lock, so of two
//! concurrent takers exactly one gets it.
//!
//! Why memory and not SQLite: these live seconds, are worthless after a restart (the design's
//! alternative was a `synchronous=NORMAL` file purged at startup, which behaves the same), and
//! the SSO cycle is the hot path. A multi-node deployment swaps this for the shared store.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

const SHARDS: usize = 16;

pub struct ExpiringMap<T> {
    shards: Vec<Mutex<HashMap<String, (i64, T)>>>,
    hasher: RandomState,
}

impl<T: Clone> Default for ExpiringMap<T> {
    fn default() -> Self {
        ExpiringMap {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl<T: Clone> ExpiringMap<T> {
    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, HashMap<String, (i64, T)>> {
        let i = self.hasher.hash_one(key) as usize % SHARDS;
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores `value` under `key` until `expires_at` (unix seconds, inclusive).
    pub fn insert(&self, key: String, value: T, expires_at: i64) {
        self.shard(&key).insert(key, (expires_at, value));
    }

    /// Removes and returns the entry, whether or not it has expired (a spent or expired
    /// secret is gone either way); the caller checks the returned expiry.
    pub fn take(&self, key: &str) -> Option<(i64, T)> {
        self.shard(key).remove(key)
    }

    /// A copy of a live entry, leaving it in place.
    pub fn get(&self, key: &str, now: i64) -> Option<T> {
        self.shard(key)
            .get(key)
            .filter(|(exp, _)| *exp >= now)
            .map(|(_, v)| v.clone())
    }

    /// Removes every entry for which `f` is true (e.g. tickets of an ended session).
    pub fn remove_where(&self, f: impl Fn(&T) -> bool) {
        for shard in &self.shards {
            shard
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, (_, v)| !f(v));
        }
    }

    /// Drops expired entries; returns how many.
    pub fn sweep(&self, now: i64) -> usize {
        let mut n = 0;
        for shard in &self.shards {
            let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
            let before = map.len();
            map.retain(|_, (exp, _)| *exp >= now);
            n += before - map.len();
        }
        n
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn an_entry_is_taken_once_under_contention() {
        for round in 0..200 {
            let map = Arc::new(ExpiringMap::<u32>::default());
            map.insert(format!("k{round}"), 7, 100);
            let winners: usize = (0..8)
                .map(|_| {
                    let map = Arc::clone(&map);
                    std::thread::spawn(move || map.take(&format!("k{round}")).is_some() as usize)
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum();
            assert_eq!(winners, 1);
        }
    }

    #[test]
    fn sweep_drops_only_expired() {
        let map = ExpiringMap::default();
        map.insert("old".into(), 1, 10);
        map.insert("new".into(), 2, 20);
        assert_eq!(map.sweep(15), 1);
        assert_eq!(map.get("new", 15), Some(2));
        assert_eq!(map.get("new", 21), None);
    }
}
