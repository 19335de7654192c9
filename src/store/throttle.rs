//! Failed-login counters. The counter is raised *before* the password is checked, in one
//! immediate transaction, so concurrent guesses cannot exceed the budget.

use super::{Result, Store};
use rusqlite::{params, OptionalExtension};

/// Answer of `begin_attempt`.
#[derive(Debug, PartialEq, Eq)]
pub enum ThrottleState {
    /// The attempt may be evaluated; it has been counted as a failure until cleared.
    Allowed,
    /// A key is locked until this time; the attempt must not be evaluated.
    Locked(i64),
}

impl Store {
    /// Counts one attempt against every `(key, limit)` unless one of them is locked. A key
    /// reaching its limit is locked for `lock` seconds.
    pub fn begin_attempt(
        &self,
        keys: &[(&str, i64)],
        now: i64,
        window: i64,
        lock: i64,
    ) -> Result<ThrottleState> {
        self.write(|tx| {
            let mut rows = Vec::with_capacity(keys.len());
            for (key, limit) in keys {
                let row: Option<(i64, i64, i64)> = tx
                    .prepare_cached("SELECT failures, window_start, locked_until FROM login_throttle WHERE key = ?1")?
                    .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                let (failures, start, locked_until) = row.unwrap_or((0, now, 0));
                if locked_until > now {
                    return Ok(ThrottleState::Locked(locked_until));
                }
                let (failures, start) = if now - start >= window { (0, now) } else { (failures, start) };
                rows.push((key, failures + 1, start, *limit));
            }
            for (key, failures, start, limit) in rows {
                let locked_until = if failures >= limit { now + lock } else { 0 };
                tx.prepare_cached(
                    "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(key) DO UPDATE SET failures = ?2, window_start = ?3, locked_until = ?4",
                )?
                .execute(params![key, failures, start, locked_until])?;
            }
            Ok(ThrottleState::Allowed)
        })
    }

    /// `true` if `key` is locked at `now` (read-only; for captcha hints and pages).
    pub fn is_locked(&self, key: &str, now: i64) -> Result<bool> {
        self.read(|conn| {
            let until: Option<i64> = conn
                .prepare_cached("SELECT locked_until FROM login_throttle WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()?;
            Ok(until.is_some_and(|t| t > now))
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
