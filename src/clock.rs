//! The one source of time. Production reads the system clock; tests move a manual clock to
//! cross expiry boundaries without sleeping.
//!
//! Two readings: `now`, wall time, for what is stored or shown (sessions, audit, SAML), and
//! `ticks`, monotonic seconds, for what lives only in this process's memory (service
//! tickets): a wall clock set back an hour must not bring an expired ticket back to life.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct Clock {
    /// Seconds added to the system time; only tests change it.
    offset: Arc<AtomicI64>,
    /// Seconds added to the monotonic reading: tests move it forward, never back.
    ticks_offset: Arc<AtomicI64>,
    start: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            offset: Arc::default(),
            ticks_offset: Arc::default(),
            start: Instant::now(),
        }
    }
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Monotonic seconds since this clock was made (starting at 1): never goes back.
    pub fn ticks(&self) -> i64 {
        1 + self.start.elapsed().as_secs() as i64 + self.ticks_offset.load(Ordering::Relaxed)
    }

    /// Unix time in seconds.
    pub fn now(&self) -> i64 {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        system + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every copy of it) by `seconds`. Going back moves only the wall
    /// clock, as a corrected system clock would; monotonic time never goes back.
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::Relaxed);
        if seconds > 0 {
            self.ticks_offset.fetch_add(seconds, Ordering::Relaxed);
        }
    }
}

/// Formats unix seconds as an xs:dateTime in UTC (`2025-03-01T08:15:30Z`).
pub fn iso8601(unix: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// `2026-11-30 17:42` at `offset_minutes` from UTC: how pages show a time.
pub fn local_time(unix: i64, offset_minutes: i32) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let offset =
        time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::iso8601(1_740_816_930), "2025-03-01T08:15:30Z");
    }
}
