//! Service and proxy tickets between their issue and their one validation: in memory on one
//! node (`Tickets`), in the shared database when several nodes serve (`Outstanding::Shared`,
//! `store::tickets`), where a ticket minted on one node is validated on another.
//!
//! Why memory and not SQLite: tickets live seconds, are worthless after a restart (the
//! design's alternative was a `synchronous=NORMAL` file purged at start, which behaves the
//! same), and the SSO cycle is the hot path.
//!
//! Records are compact (32 bytes), because a flood of logins mints a million tickets that may
//! never be validated: the key is 128 bits of the ticket's SHA-256 (any change to a ticket
//! changes it), the session is shared by reference with its other tickets, and the service
//! string is stored once for every ticket issued for it and named by a 32-bit index. Taking a
//! ticket removes it under its shard's lock, so of two concurrent validations exactly one
//! gets it.

use crate::clock::Clock;
use crate::sessions::LiveSession;
use crate::store::{Store, StoreError, TicketRow};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

const SHARDS: usize = 16;

/// What a ticket was issued for: the service exactly as the client sent it (compared byte for
/// byte at validation), and for a proxy ticket the proxy chain, newest first.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub service: String,
    pub proxies: Vec<String>,
}

/// A ticket as validation finds it.
#[derive(Clone, Debug)]
pub struct Issued {
    pub expires_at: i64,
    pub session: Arc<LiveSession>,
    pub target: Arc<Target>,
    /// Issued from a login just now, not from an existing SSO session.
    pub from_new_login: bool,
}

struct Record {
    expires_at: u32,
    /// The index in `Targets`, with `NEW_LOGIN` set for a ticket from a login just now.
    target: u32,
    session: Arc<LiveSession>,
}

const NEW_LOGIN: u32 = 1 << 31;

/// Every target in use, stored once, with how many tickets name it.
#[derive(Default)]
struct Targets {
    index: HashMap<Arc<Target>, u32>,
    slots: Vec<Option<(Arc<Target>, u32)>>,
    free: Vec<u32>,
}

impl Targets {
    fn acquire(&mut self, target: Target) -> u32 {
        if let Some(&i) = self.index.get(&target) {
            if let Some((_, count)) = &mut self.slots[i as usize] {
                *count += 1;
            }
            return i;
        }
        let target = Arc::new(target);
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        self.slots[i as usize] = Some((Arc::clone(&target), 1));
        self.index.insert(target, i);
        i
    }

    fn get(&self, i: u32) -> Option<Arc<Target>> {
        self.slots
            .get(i as usize)?
            .as_ref()
            .map(|(t, _)| Arc::clone(t))
    }

    fn release(&mut self, i: u32) {
        let Some(slot) = self.slots.get_mut(i as usize) else {
            return;
        };
        if let Some((target, count)) = slot {
            *count -= 1;
            if *count == 0 {
                self.index.remove(&**target);
                *slot = None;
                self.free.push(i);
            }
        }
    }
}

type Key = (u64, u64);

/// The keys are already uniformly random (a SHA-256 prefix): hashing them again buys nothing.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

type Shard = HashMap<Key, Record, BuildHasherDefault<KeyHasher>>;

#[derive(Default)]
pub struct Tickets {
    shards: [Mutex<Shard>; SHARDS],
    targets: Mutex<Targets>,
}

fn key(ticket: &str) -> Key {
    let d = Sha256::digest(ticket.as_bytes());
    let half = |i: usize| u64::from_le_bytes(d[i..i + 8].try_into().expect("8 bytes"));
    (half(0), half(8))
}

impl Tickets {
    fn shard(&self, key: &Key) -> MutexGuard<'_, Shard> {
        self.shards[(key.0 % SHARDS as u64) as usize]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn targets(&self) -> MutexGuard<'_, Targets> {
        self.targets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `ticket` until `expires_at`.
    pub fn insert(
        &self,
        ticket: &str,
        session: Arc<LiveSession>,
        target: Target,
        from_new_login: bool,
        expires_at: i64,
    ) {
        let index = self.targets().acquire(target);
        let k = key(ticket);
        let record = Record {
            expires_at: u32::try_from(expires_at.max(0)).unwrap_or(u32::MAX),
            target: index | if from_new_login { NEW_LOGIN } else { 0 },
            session,
        };
        if let Some(replaced) = self.shard(&k).insert(k, record) {
            self.targets().release(replaced.target & !NEW_LOGIN);
        }
    }

    /// Removes and returns the ticket, expired or not (a spent or expired ticket is gone
    /// either way); the caller checks the expiry.
    pub fn take(&self, ticket: &str) -> Option<Issued> {
        let k = key(ticket);
        let r = self.shard(&k).remove(&k)?;
        let index = r.target & !NEW_LOGIN;
        let mut targets = self.targets();
        let target = targets.get(index)?;
        targets.release(index);
        Some(Issued {
            expires_at: i64::from(r.expires_at),
            session: r.session,
            target,
            from_new_login: r.target & NEW_LOGIN != 0,
        })
    }

    /// Drops expired tickets and gives their memory back; returns how many went.
    pub fn sweep(&self, now: i64) -> usize {
        let mut gone = 0;
        let mut shrunk = false;
        let mut released = Vec::new();
        for shard in &self.shards {
            let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
            map.retain(|_, r| {
                let live = i64::from(r.expires_at) >= now;
                if !live {
                    released.push(r.target & !NEW_LOGIN);
                }
                live
            });
            if map.capacity() > 1024 && map.len() < map.capacity() / 4 {
                let keep = map.len() * 2;
                map.shrink_to(keep);
                shrunk = true;
            }
        }
        gone += released.len();
        let mut targets = self.targets();
        for i in released {
            targets.release(i);
        }
        drop(targets);
        if shrunk {
            crate::memory::release_freed_memory();
        }
        gone
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().len()).sum()
    }
}

/// Where tickets wait: this process's memory, or the database every node shares.
pub enum Outstanding {
    Memory(Box<Tickets>),
    Shared(Store),
}

impl Outstanding {
    pub fn new(store: &Store) -> Outstanding {
        match store.is_shared() {
            true => Outstanding::Shared(store.clone()),
            false => Outstanding::Memory(Box::default()),
        }
    }

    /// The time expiries are in: this process's monotonic clock (a wall clock set back
    /// cannot revive a ticket), or wall time, the one clock nodes share.
    pub fn now(&self, clock: &Clock) -> i64 {
        match self {
            Outstanding::Memory(_) => clock.ticks(),
            Outstanding::Shared(_) => clock.now(),
        }
    }

    /// Records `ticket` until `expires_at` (in `now`'s time), issued at `issued_at` (ditto).
    pub async fn insert(
        &self,
        ticket: &str,
        session: Arc<LiveSession>,
        target: Target,
        from_new_login: bool,
        (issued_at, expires_at): (i64, i64),
    ) -> Result<(), StoreError> {
        match self {
            Outstanding::Memory(tickets) => {
                tickets.insert(ticket, session, target, from_new_login, expires_at);
                Ok(())
            }
            Outstanding::Shared(store) => {
                let row = TicketRow {
                    issued_at,
                    expires_at,
                    session_hash: session.id_hash.clone(),
                    account_id: session.account_id.clone(),
                    auth_time: session.auth_time,
                    remember_me: session.remember_me,
                    service: target.service,
                    proxies: target.proxies,
                    from_new_login,
                    factors: session.proof.encode(),
                };
                store
                    .put_ticket(&crate::tickets::hash_id(ticket), &row)
                    .await
            }
        }
    }

    /// Removes and returns the ticket, expired or not; the caller checks the expiry
    /// against `now`.
    pub async fn take(&self, ticket: &str, clock: &Clock) -> Result<Option<Issued>, StoreError> {
        match self {
            Outstanding::Memory(tickets) => Ok(tickets.take(ticket)),
            Outstanding::Shared(store) => {
                let row = store.take_ticket(&crate::tickets::hash_id(ticket)).await?;
                // Wall time can be set back, which would revive an expired ticket: one
                // issued later than now (beyond the skew nodes' clocks may have) has expired.
                let set_back = |t: &TicketRow| clock.now() + CLOCK_SKEW < t.issued_at;
                Ok(row.map(|t| Issued {
                    expires_at: if set_back(&t) { i64::MIN } else { t.expires_at },
                    session: Arc::new(LiveSession {
                        id_hash: t.session_hash,
                        account_id: t.account_id,
                        auth_time: t.auth_time,
                        remember_me: t.remember_me,
                        proof: crate::model::Proof::decode(&t.factors),
                    }),
                    target: Arc::new(Target {
                        service: t.service,
                        proxies: t.proxies,
                    }),
                    from_new_login: t.from_new_login,
                }))
            }
        }
    }

    /// Drops expired tickets; how many went.
    pub async fn sweep(&self, clock: &Clock) -> usize {
        let now = self.now(clock);
        match self {
            Outstanding::Memory(tickets) => tickets.sweep(now),
            Outstanding::Shared(store) => store.sweep_shared_tickets(now).await.unwrap_or(0),
        }
    }
}

/// How far apart the nodes' clocks may be (they keep time with NTP).
const CLOCK_SKEW: i64 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Arc<LiveSession> {
        Arc::new(LiveSession {
            id_hash: "h".into(),
            account_id: "alice".into(),
            auth_time: 0,
            remember_me: false,
            proof: crate::model::Proof::first(crate::model::Factor::Password),
        })
    }

    fn target(s: &str) -> Target {
        Target {
            service: s.into(),
            proxies: vec![],
        }
    }

    #[test]
    fn a_ticket_is_taken_once_under_contention() {
        for round in 0..200 {
            let tickets = Arc::new(Tickets::default());
            let id = format!("ST-{round}");
            tickets.insert(&id, session(), target("https://a/"), true, 100);
            let winners: usize = (0..8)
                .map(|_| {
                    let (tickets, id) = (Arc::clone(&tickets), id.clone());
                    std::thread::spawn(move || tickets.take(&id).is_some() as usize)
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum();
            assert_eq!(winners, 1);
        }
    }

    #[test]
    fn services_are_shared_and_expired_tickets_swept() {
        let tickets = Tickets::default();
        for i in 0..1000 {
            tickets.insert(
                &format!("ST-{i}"),
                session(),
                target("https://a/"),
                false,
                10 + i % 2,
            );
        }
        assert_eq!(tickets.targets.lock().unwrap().index.len(), 1);
        assert_eq!(tickets.sweep(11), 500);
        assert_eq!(tickets.len(), 500);
        let taken = tickets.take("ST-1").unwrap();
        assert_eq!(taken.target.service, "https://a/");
        assert!(!taken.from_new_login);
        assert!(tickets.take("st-1").is_none(), "no case folding");
        tickets.insert("ST-new", session(), target("https://b/"), true, 10);
        assert!(tickets.take("ST-new").unwrap().from_new_login);
        tickets.sweep(100);
        assert_eq!(
            tickets.targets.lock().unwrap().index.len(),
            0,
            "every target released"
        );
        assert_eq!(std::mem::size_of::<(Key, Record)>(), 32);
    }
}
