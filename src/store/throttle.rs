//! Failed-login counters and the reservations that bound concurrent guesses.
//!
//! Three keys per attempt: the pair of account and client address (`pair:`), which locks the
//! account for the addresses that failed, the account everywhere (`account:`), which brings
//! the captcha and, only at a far higher count spread over many addresses, a global lock,
//! and the address (`address:`), which stops one address spraying many accounts. So a
//! classmate's five wrong guesses lock the student out only on the classmate's machine.
//!
//! An attempt first reserves a place (`in_flight`) on its pair and account; failures plus
//! reservations may not exceed the budget, so concurrent guesses cannot either. The
//! reservation is released when the attempt ends: correct logins racing each other are never
//! counted as failures. A reservation left by a crash goes stale after a minute.

use super::db::{args, Db};
use super::{audit, Result, Store};
use crate::model::{AuditEvent, AuditRecord};

/// A reservation older than this is a leftover of a crash, not an attempt in progress.
const STALE_RESERVATION: i64 = 60;

/// The budgets, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleLimits {
    /// Failures of one account from one address that lock that pair.
    pub pair: i64,
    /// Failures of one account from anywhere that lock it everywhere...
    pub account: i64,
    /// ...provided they came from at least this many addresses.
    pub account_addresses: i64,
    /// Failures from one address (any accounts) that block the address.
    pub address: i64,
    pub window: i64,
    pub lock: i64,
    /// Failures a day, from anywhere, for an account still on its initial password: then
    /// it is locked for the day (`initial:` key).
    pub initial: i64,
}

/// Failures on initial passwords, across every account, in an hour that mean someone is
/// trying the ID-number passwords of many students: one audit row for an administrator.
const INITIAL_SPRAY: i64 = 100;
const DAY: i64 = 86_400;

/// The keys of one attempt.
#[derive(Clone, Debug)]
pub struct AttemptKeys {
    /// Canonical account id, or a placeholder for names that cannot be accounts.
    pub account_id: String,
    pub client_ip: String,
    /// The account still has its initial password: the daily budget applies too.
    pub initial: bool,
}

impl AttemptKeys {
    pub fn account(&self) -> String {
        format!("account:{}", self.account_id)
    }
    fn pair(&self) -> String {
        format!("pair:{}|{}", self.account_id, self.client_ip)
    }
    fn address(&self) -> String {
        format!("address:{}", self.client_ip)
    }
    fn initial(&self) -> Option<String> {
        self.initial.then(|| format!("initial:{}", self.account_id))
    }
}

/// Answer of `begin_attempt`.
#[derive(Debug, PartialEq, Eq)]
pub enum Throttle {
    /// The attempt may be evaluated; a place is reserved until `end_attempt`.
    Allowed,
    /// Other attempts in progress use up the budget: try again in a moment.
    Busy,
    /// A key is locked until this time; the attempt must not be evaluated.
    Locked(i64),
}

struct Row {
    failures: i64,
    window_start: i64,
    locked_until: i64,
    in_flight: i64,
    in_flight_since: i64,
}

impl Row {
    /// Whether attempts in progress, with the failures already counted, use up `limit`:
    /// then one more could not be counted in time. Failures alone never make it busy (the
    /// lock decides about those).
    fn busy(&self, limit: i64, now: i64, window: i64) -> bool {
        let failures = if now - self.window_start < window {
            self.failures
        } else {
            0
        };
        let reserved = if now - self.in_flight_since < STALE_RESERVATION {
            self.in_flight
        } else {
            0
        };
        reserved > 0 && failures + reserved >= limit
    }
}

impl Store {
    /// Starts a password attempt: refused while any key is locked, postponed while the
    /// reservations in progress would exceed a budget, otherwise reserved.
    pub fn begin_attempt(
        &self,
        keys: &AttemptKeys,
        l: &ThrottleLimits,
        now: i64,
    ) -> Result<Throttle> {
        let (pair, account, address) = (keys.pair(), keys.account(), keys.address());
        let initial = keys.initial().unwrap_or_default();
        self.write(|tx| {
            for key in [&pair, &account, &address, &initial] {
                if let Some(until) = read(tx, key)?.map(|r| r.locked_until).filter(|&t| t > now) {
                    return Ok(Throttle::Locked(until));
                }
            }
            for (key, limit) in [(&pair, l.pair), (&account, l.account)] {
                if read(tx, key)?.is_some_and(|r| r.busy(limit, now, l.window)) {
                    return Ok(Throttle::Busy);
                }
            }
            for key in [&pair, &account] {
                reserve(tx, key, &keys.account_id, now)?;
            }
            Ok(Throttle::Allowed)
        })
    }

    /// Ends an attempt begun with `Allowed`: releases its reservation, and on failure counts
    /// it against the pair, the account and the address, all with the audit row in one
    /// transaction. A success clears the pair's and the account's failures.
    pub fn end_attempt(
        &self,
        keys: &AttemptKeys,
        l: &ThrottleLimits,
        succeeded: bool,
        record: &AuditRecord,
        now: i64,
    ) -> Result<()> {
        let (pair, account, address) = (keys.pair(), keys.account(), keys.address());
        self.write(|tx| {
            for key in [&pair, &account] {
                tx.execute(
                    "UPDATE login_throttle SET in_flight = in_flight - 1 WHERE key = ?1 AND in_flight > 0",
                    args![key],
                )?;
            }
            if succeeded {
                tx.execute(
                    "UPDATE login_throttle SET failures = 0, locked_until = 0 WHERE key IN (?1, ?2)",
                    args![&pair, &account],
                )?;
            } else {
                if let Some(initial) = keys.initial() {
                    let day = ThrottleLimits { window: DAY, lock: DAY, ..*l };
                    let failures = count_failure(tx, &initial, None, l.initial, now, &day)?;
                    if failures == l.initial {
                        let alarm = AuditRecord::system(AuditEvent::InitialPasswordLocked, Some(&keys.account_id));
                        audit::insert(tx, &alarm, now)?;
                    }
                    let hour = ThrottleLimits { window: 3600, ..*l };
                    let all = count_failure(tx, "initial-passwords", None, i64::MAX, now, &hour)?;
                    if all == INITIAL_SPRAY {
                        let alarm = AuditRecord::system(AuditEvent::InitialPasswordSpray { failures: all }, None);
                        audit::insert(tx, &alarm, now)?;
                    }
                }
                count_failure(tx, &pair, Some(&keys.account_id), l.pair, now, l)?;
                count_failure(tx, &address, None, l.address, now, l)?;
                // The account is locked for everyone only when the failures come from many
                // addresses: a wide attack, for an administrator to look at.
                let failures = count_failure(tx, &account, None, i64::MAX, now, l)?;
                if failures >= l.account {
                    let addresses = failing_addresses(tx, &keys.account_id, now, l.window)?;
                    if addresses >= l.account_addresses {
                        tx.execute(
                            "UPDATE login_throttle SET locked_until = ?2 WHERE key = ?1 AND locked_until <= ?3",
                            args![&account, now + l.lock, now],
                        )?;
                        let alarm = AuditRecord::system(
                            AuditEvent::AccountLockedByFailures { addresses },
                            Some(&keys.account_id),
                        );
                        audit::insert(tx, &alarm, now)?;
                    }
                }
            }
            audit::insert(tx, record, now)
        })
    }

    /// Starts a guess at a secret with one budget for everyone, whatever the address (`key`,
    /// e.g. an administrator's second factor): refused while locked, postponed while guesses
    /// in progress would use up `limit`, otherwise reserved.
    pub fn begin_guess(&self, key: &str, limit: i64, window: i64, now: i64) -> Result<Throttle> {
        self.write(|tx| {
            let row = read(tx, key)?;
            if let Some(until) = row.as_ref().map(|r| r.locked_until).filter(|&t| t > now) {
                return Ok(Throttle::Locked(until));
            }
            if row.is_some_and(|r| r.busy(limit, now, window)) {
                return Ok(Throttle::Busy);
            }
            reserve(tx, key, "", now)?;
            Ok(Throttle::Allowed)
        })
    }

    /// Ends a guess begun with `Allowed`: releases its reservation; a wrong one counts, and the
    /// `limit`-th in the window locks the key for `lock` seconds (`alarm` audited with it); a
    /// right one clears the count. `record` is the guess's own audit row. Returns whether this
    /// guess locked the key.
    #[allow(clippy::too_many_arguments)]
    pub fn end_guess(
        &self,
        key: &str,
        l: &ThrottleLimits,
        limit: i64,
        right: bool,
        record: &AuditRecord,
        alarm: &AuditRecord,
        now: i64,
    ) -> Result<bool> {
        self.write(|tx| {
            tx.execute(
                "UPDATE login_throttle SET in_flight = in_flight - 1 WHERE key = ?1 AND in_flight > 0",
                args![key],
            )?;
            audit::insert(tx, record, now)?;
            if right {
                tx.execute(
                    "UPDATE login_throttle SET failures = 0, locked_until = 0 WHERE key = ?1",
                    args![key],
                )?;
                return Ok(false);
            }
            let locked = count_failure(tx, key, None, limit, now, l)? == limit;
            if locked {
                audit::insert(tx, alarm, now)?;
            }
            Ok(locked)
        })
    }

    /// An attempt refused before any password check (a wrong captcha): it counts against the
    /// client's address, so guessing captchas is throttled like guessing passwords, and is
    /// audited; the account's budgets are not touched, as no password was tried.
    pub fn refuse_attempt(
        &self,
        keys: &AttemptKeys,
        l: &ThrottleLimits,
        record: &AuditRecord,
        now: i64,
    ) -> Result<()> {
        let address = keys.address();
        self.write(|tx| {
            count_failure(tx, &address, None, l.address, now, l)?;
            audit::insert(tx, record, now)
        })
    }

    /// Failures counted for the account name in its current window (0 once the window has
    /// passed), and whether the name is locked at `now` for `client_ip` (its pair) or for
    /// everyone. Read-only: for captcha demands.
    pub fn failures(&self, keys: &AttemptKeys, now: i64, window: i64) -> Result<(i64, bool)> {
        let (pair, account) = (keys.pair(), keys.account());
        self.read(|conn| {
            let row = |key: &str| {
                conn.query_opt(
                    "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = ?1",
                    args![key],
                    |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?)),
                )
            };
            let account = row(&account)?;
            let pair = row(&pair)?;
            let failures = match account {
                Some((f, start, _)) if now - start < window => f,
                _ => 0,
            };
            let locked = [account, pair]
                .iter()
                .flatten()
                .any(|(_, _, until)| *until > now);
            Ok((failures, locked))
        })
    }

    /// Counts one use of a budget of `limit` uses per `window` seconds under `key` (e.g.
    /// `recovery:<account>`); `false`, counting nothing, once it is spent.
    pub fn spend_budget(&self, key: &str, limit: i64, window: i64, now: i64) -> Result<bool> {
        self.write(|tx| {
            let used = read(tx, key)?
                .filter(|r| now - r.window_start < window)
                .map_or(0, |r| r.failures);
            if used >= limit {
                return Ok(false);
            }
            let l = ThrottleLimits {
                pair: 0,
                account: 0,
                account_addresses: 0,
                address: 0,
                window,
                lock: 0,
                initial: 0,
            };
            count_failure(tx, key, None, i64::MAX, now, &l)?;
            Ok(true)
        })
    }

    /// Forgets every reservation: at start no attempt can be in progress. In a shared
    /// database other nodes' attempts may be, so there they stay, and one a dead node left
    /// lapses after `STALE_RESERVATION`.
    pub fn release_reservations(&self) -> Result<()> {
        if self.is_shared() {
            return Ok(());
        }
        self.write(|tx| {
            tx.execute(
                "UPDATE login_throttle SET in_flight = 0 WHERE in_flight > 0",
                args![],
            )?;
            Ok(())
        })
    }

    /// Drops counters that no longer count: past their window (a day for the daily
    /// budgets, `window` for the login counters), unlocked, with no attempt in progress.
    pub fn sweep_throttle(&self, now: i64, window: i64) -> Result<usize> {
        self.write(|tx| {
            // The windows are cast: PostgreSQL types parameters inside CASE as text.
            tx.execute(
                "DELETE FROM login_throttle WHERE locked_until <= ?1
                     AND window_start + CASE WHEN key LIKE 'initial%' OR key LIKE 'recovery:%'
                         THEN CAST(?4 AS BIGINT) ELSE CAST(?2 AS BIGINT) END <= ?1
                     AND (in_flight = 0 OR in_flight_since + ?3 <= ?1)",
                args![now, window, STALE_RESERVATION, DAY],
            )
        })
    }
}

fn read(tx: &Db, key: &str) -> Result<Option<Row>> {
    tx.query_opt(
        "SELECT failures, window_start, locked_until, in_flight, in_flight_since
         FROM login_throttle WHERE key = ?1",
        args![key],
        |r| {
            Ok(Row {
                failures: r.get(0)?,
                window_start: r.get(1)?,
                locked_until: r.get(2)?,
                in_flight: r.get(3)?,
                in_flight_since: r.get(4)?,
            })
        },
    )
}

fn reserve(tx: &Db, key: &str, account_id: &str, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO login_throttle (key, failures, window_start, locked_until, in_flight, in_flight_since, account_id)
         VALUES (?1, 0, ?2, 0, 1, ?2, ?3)
         ON CONFLICT(key) DO UPDATE SET
             in_flight = CASE WHEN login_throttle.in_flight_since + ?4 <= ?2 THEN 1 ELSE login_throttle.in_flight + 1 END,
             in_flight_since = ?2",
        args![key, now, key.starts_with("pair:").then_some(account_id), STALE_RESERVATION],
    )?;
    Ok(())
}

/// Adds one failure to `key` within its window; reaching `limit` locks it for the lock
/// duration. Returns the failures now counted.
fn count_failure(
    tx: &Db,
    key: &str,
    account_id: Option<&str>,
    limit: i64,
    now: i64,
    l: &ThrottleLimits,
) -> Result<i64> {
    let row = read(tx, key)?;
    let (failures, start) = match &row {
        Some(r) if now - r.window_start < l.window && r.failures > 0 => {
            (r.failures + 1, r.window_start)
        }
        _ => (1, now),
    };
    let keep = row.as_ref().map_or(0, |r| r.locked_until);
    let locked_until = if failures >= limit {
        now + l.lock
    } else {
        keep
    };
    tx.execute(
        "INSERT INTO login_throttle (key, failures, window_start, locked_until, account_id)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(key) DO UPDATE SET failures = ?2, window_start = ?3, locked_until = ?4",
        args![key, failures, start, locked_until, account_id],
    )?;
    Ok(failures)
}

/// Distinct addresses with failures for this account in the current window.
fn failing_addresses(tx: &Db, account_id: &str, now: i64, window: i64) -> Result<i64> {
    tx.query_one(
        "SELECT count(*) FROM login_throttle WHERE account_id = ?1 AND key LIKE 'pair:%'
             AND failures > 0 AND window_start > ?2",
        args![account_id, now - window],
        |r| r.get(0),
    )
}
