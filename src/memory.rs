//! A sharded map of short-lived entries kept in memory (captcha answers, pending first-login
//! steps, the memory of sessions). Taking an entry removes it under the shard's lock, so of
//! two concurrent takers exactly one gets it. A map made `bounded` never holds more than its
//! capacity, whatever the request rate: when full, expired entries go first, then the one
//! closest to expiry.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

const SHARDS: usize = 16;

pub struct ExpiringMap<T> {
    shards: Vec<Mutex<HashMap<String, (i64, T)>>>,
    hasher: RandomState,
    /// Most entries per shard.
    shard_capacity: usize,
}

impl<T: Clone> Default for ExpiringMap<T> {
    fn default() -> Self {
        ExpiringMap {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            shard_capacity: usize::MAX,
        }
    }
}

impl<T: Clone> ExpiringMap<T> {
    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, HashMap<String, (i64, T)>> {
        let i = self.hasher.hash_one(key) as usize % SHARDS;
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A map that holds at most about `capacity` entries.
    pub fn bounded(capacity: usize) -> Self {
        ExpiringMap {
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
            ..ExpiringMap::default()
        }
    }

    /// Stores `value` under `key` until `expires_at` (unix seconds, inclusive). `now` lets a
    /// full shard drop what has expired before it drops anything live.
    pub fn insert(&self, key: String, value: T, expires_at: i64, now: i64) {
        let mut shard = self.shard(&key);
        self.put(&mut shard, key, value, expires_at, now);
    }

    /// Stores `value` unless a live entry already holds one at least as great; true if it
    /// did. One lock for both, so two requests racing with the same value cannot both win
    /// (a one-time code's step is used once).
    pub fn raise(&self, key: String, value: T, expires_at: i64, now: i64) -> bool
    where
        T: PartialOrd,
    {
        let mut shard = self.shard(&key);
        if let Some((exp, current)) = shard.get(&key) {
            if *exp >= now && *current >= value {
                return false;
            }
        }
        self.put(&mut shard, key, value, expires_at, now);
        true
    }

    fn put(
        &self,
        shard: &mut HashMap<String, (i64, T)>,
        key: String,
        value: T,
        expires_at: i64,
        now: i64,
    ) {
        if shard.len() >= self.shard_capacity && !shard.contains_key(&key) {
            shard.retain(|_, (exp, _)| *exp >= now);
            if shard.len() >= self.shard_capacity {
                let soonest = shard
                    .iter()
                    .min_by_key(|(_, (exp, _))| *exp)
                    .map(|(k, _)| k.clone());
                if let Some(k) = soonest {
                    shard.remove(&k);
                }
            }
        }
        shard.insert(key, (expires_at, value));
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

    /// Drops expired entries, giving back the table's memory when most of it went; returns
    /// how many entries went.
    pub fn sweep(&self, now: i64) -> usize {
        let mut n = 0;
        for shard in &self.shards {
            let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
            let before = map.len();
            map.retain(|_, (exp, _)| *exp >= now);
            n += before - map.len();
            if map.capacity() > 64 && map.len() < map.capacity() / 4 {
                let keep = map.len() * 2;
                map.shrink_to(keep);
            }
        }
        n
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}

impl ExpiringMap<u32> {
    /// Counts one more use of `key` in its window (which a first use opens until
    /// `expires_at`); the count with this one.
    pub fn bump(&self, key: String, expires_at: i64, now: i64) -> u32 {
        let mut shard = self.shard(&key);
        let (until, count) = match shard.get(&key) {
            Some((until, count)) if *until >= now => (*until, count + 1),
            _ => (expires_at, 1),
        };
        self.put(&mut shard, key, count, until, now);
        count
    }
}

/// Asks the allocator to hand freed pages back to the system. After a flood of short-lived
/// entries, glibc keeps the pages of freed tables in its arenas; resident memory should come
/// back down once they are gone.
pub fn release_freed_memory() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::malloc_trim(0);
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
            map.insert(format!("k{round}"), 7, 100, 0);
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
    fn a_value_is_raised_past_once_under_contention() {
        for round in 0..200 {
            let map = Arc::new(ExpiringMap::<i64>::default());
            map.insert("admin".into(), round, 100, 0);
            let winners: usize = (0..8)
                .map(|_| {
                    let map = Arc::clone(&map);
                    std::thread::spawn(move || {
                        map.raise("admin".into(), round + 1, 100, 0) as usize
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum();
            assert_eq!(winners, 1);
            assert!(
                !map.raise("admin".into(), round, 100, 0),
                "lower is refused"
            );
            // An expired entry no longer holds anything back.
            assert!(map.raise("admin".into(), 0, 200, 150));
        }
    }

    #[test]
    fn a_count_runs_for_its_window() {
        let map = ExpiringMap::default();
        assert_eq!(map.bump("a".into(), 60, 0), 1);
        assert_eq!(
            map.bump("a".into(), 90, 30),
            2,
            "the window of the first use"
        );
        assert_eq!(map.bump("a".into(), 121, 61), 1, "a new window");
    }

    #[test]
    fn sweep_drops_only_expired() {
        let map = ExpiringMap::default();
        map.insert("old".into(), 1, 10, 0);
        map.insert("new".into(), 2, 20, 0);
        assert_eq!(map.sweep(15), 1);
        assert_eq!(map.get("new", 15), Some(2));
        assert_eq!(map.get("new", 21), None);
    }

    #[test]
    fn a_bounded_map_never_outgrows_its_capacity() {
        let map = ExpiringMap::bounded(160);
        for i in 0..10_000 {
            map.insert(format!("k{i}"), i, 1_000 + i, 0);
        }
        assert!(map.len() <= 160, "{}", map.len());
        // The newest survive; the oldest (closest to expiry) went first.
        assert_eq!(map.get("k9999", 0), Some(9999));
        assert_eq!(map.get("k0", 0), None);
    }
}
