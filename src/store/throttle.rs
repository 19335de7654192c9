//! Failed-login counters. The counter is raised *before* the password is checked, in one
//! immediate transaction, so concurrent guesses cannot exceed the budget.

use super::{audit, AuditEvent, Result, Store};
use rusqlite::{params, OptionalExtension, Transaction};

/// Answer of `begin_attempt`.
#[derive(Debug, PartialEq, Eq)]
pub enum ThrottleState {
    /// The attempt may be evaluated; it has been counted as a failure until cleared.
    Allowed,
    /// A key is locked until this time; the attempt must not be evaluated.
    Locked(i64),
}

impl Store {
    /// Starts a password attempt. Refused if the account or the address is locked; otherwise
    /// the attempt is counted against the account *now* (cleared on success), so concurrent
    /// guesses cannot exceed the account's budget. The address is only charged for actual
    /// failures (`record_failure`): many people log in at once behind one campus NAT.
    pub fn begin_attempt(
        &self,
        account: (&str, i64),
        address: &str,
        now: i64,
        window: i64,
        lock: i64,
    ) -> Result<ThrottleState> {
        self.write(|tx| {
            for key in [account.0, address] {
                if let Some(until) = locked_until(tx, key, now)? {
                    return Ok(ThrottleState::Locked(until));
                }
            }
            count_failure(tx, account, now, window, lock)?;
            Ok(ThrottleState::Allowed)
        })
    }

    /// A failed attempt: charges the address and records the event in one transaction.
    pub fn record_failure(
        &self,
        address: (&str, i64),
        event: &AuditEvent,
        now: i64,
        window: i64,
        lock: i64,
    ) -> Result<()> {
        self.write(|tx| {
            count_failure(tx, address, now, window, lock)?;
            audit::insert(tx, event, now)
        })
    }

    /// Failures counted for `key` in its current window (0 once the window has passed), and
    /// whether it is locked at `now`. Read-only: for captcha demands and pages.
    pub fn failures(&self, key: &str, now: i64, window: i64) -> Result<(i64, bool)> {
        self.read(|conn| {
            let row: Option<(i64, i64, i64)> = conn
                .prepare_cached(
                    "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = ?1",
                )?
                .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            Ok(match row {
                Some((f, start, until)) if now - start < window || until > now => (f, until > now),
                _ => (0, false),
            })
        })
    }

    /// Drops expired counters.
    pub fn sweep_throttle(&self, now: i64, window: i64) -> Result<usize> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM login_throttle WHERE locked_until <= ?1 AND window_start + ?2 <= ?1",
                params![now, window],
            )
        })
    }
}

fn locked_until(tx: &Transaction, key: &str, now: i64) -> rusqlite::Result<Option<i64>> {
    let until: Option<i64> = tx
        .prepare_cached("SELECT locked_until FROM login_throttle WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(until.filter(|&t| t > now))
}

/// Adds one failure to `key` within its window; reaching `limit` locks it for `lock` seconds.
fn count_failure(
    tx: &Transaction,
    (key, limit): (&str, i64),
    now: i64,
    window: i64,
    lock: i64,
) -> rusqlite::Result<()> {
    let row: Option<(i64, i64)> = tx
        .prepare_cached("SELECT failures, window_start FROM login_throttle WHERE key = ?1")?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (failures, start) = match row {
        Some((f, start)) if now - start < window => (f + 1, start),
        _ => (1, now),
    };
    let locked_until = if failures >= limit { now + lock } else { 0 };
    tx.prepare_cached(
        "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET failures = ?2, window_start = ?3, locked_until = ?4",
    )?
    .execute(params![key, failures, start, locked_until])?;
    Ok(())
}
