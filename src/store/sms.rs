//! One-time codes and the SMS log. Reserving a send checks every limit and records the send
//! and its code in one transaction, so concurrent requests cannot send twice or past a cap;
//! checking a code counts the attempt and spends the code in one transaction, so parallel
//! guesses cannot exceed the attempts allowed.

use super::{Result, Store};
use rusqlite::{params, OptionalExtension, Transaction};

/// The limits a send must fit, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct SmsLimits {
    pub resend_after: i64,
    pub per_phone_hour: i64,
    pub per_phone_day: i64,
    pub per_account_day: i64,
    pub per_address_hour: i64,
    pub per_address_day: i64,
    pub per_day: i64,
}

/// A send to reserve: whom, why, from where, and the code it carries.
pub struct SmsRequest<'a> {
    pub phone_hash: &'a str,
    /// Sealed.
    pub phone: &'a str,
    pub account_id: &'a str,
    pub client_ip: &'a str,
    pub purpose: &'a str,
    pub provider: &'a str,
    /// The code's keyed hash; `None` for a send that only pretends (an unbound number asked
    /// for in a flow that must not tell): it counts like a real one.
    pub code_hash: Option<&'a str>,
    pub expires_at: i64,
}

/// What reserving a send gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Reserved {
    /// Go ahead; `log_id` is the row to complete with the result.
    Go { log_id: i64 },
    /// A code went to this number for this purpose moments ago: wait this many seconds.
    TooSoon(i64),
    /// A cap is reached (the number's, the account's, or the address's).
    Limited,
    /// The whole server's daily budget is spent: nothing is sent until tomorrow.
    BudgetSpent,
}

/// What a code check found.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right: the code is spent.
    Valid,
    /// Wrong; this many tries remain (0: the code is void now).
    Wrong(i64),
    /// No live code for this account, purpose and number: none sent, expired, used, or void.
    Missing,
}

impl Store {
    pub fn reserve_sms(&self, r: &SmsRequest, l: &SmsLimits, now: i64) -> Result<Reserved> {
        self.write(|tx| {
            let count = |sql: &str, key: &str, since: i64| -> rusqlite::Result<i64> {
                tx.prepare_cached(sql)?.query_row(params![key, since], |row| row.get(0))
            };
            let last: Option<i64> = tx
                .prepare_cached(
                    "SELECT max(at) FROM sms_log WHERE phone_hash = ?1 AND purpose = ?2",
                )?
                .query_row(params![r.phone_hash, r.purpose], |row| row.get(0))?;
            if let Some(at) = last.filter(|at| now - at < l.resend_after) {
                return Ok(Reserved::TooSoon(l.resend_after - (now - at)));
            }
            let today: i64 = tx
                .prepare_cached("SELECT count(*) FROM sms_log WHERE at > ?1")?
                .query_row([now - 86_400], |row| row.get(0))?;
            if today >= l.per_day {
                return Ok(Reserved::BudgetSpent);
            }
            const PHONE: &str = "SELECT count(*) FROM sms_log WHERE phone_hash = ?1 AND at > ?2";
            const ACCOUNT: &str = "SELECT count(*) FROM sms_log WHERE account_id = ?1 AND at > ?2";
            const ADDRESS: &str = "SELECT count(*) FROM sms_log WHERE client_ip = ?1 AND at > ?2";
            let over = count(PHONE, r.phone_hash, now - 3600)? >= l.per_phone_hour
                || count(PHONE, r.phone_hash, now - 86_400)? >= l.per_phone_day
                || count(ACCOUNT, r.account_id, now - 86_400)? >= l.per_account_day
                || (!r.client_ip.is_empty()
                    && (count(ADDRESS, r.client_ip, now - 3600)? >= l.per_address_hour
                        || count(ADDRESS, r.client_ip, now - 86_400)? >= l.per_address_day));
            if over {
                return Ok(Reserved::Limited);
            }
            tx.prepare_cached(
                "INSERT INTO sms_log (at, phone_hash, phone, account_id, client_ip, purpose, provider, result)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')",
            )?
            .execute(params![now, r.phone_hash, r.phone, r.account_id, r.client_ip, r.purpose, r.provider])?;
            let log_id = tx.last_insert_rowid();
            // One live code per account and purpose: a new one replaces the old.
            tx.prepare_cached("DELETE FROM one_time_codes WHERE account_id = ?1 AND purpose = ?2")?
                .execute(params![r.account_id, r.purpose])?;
            if let Some(code_hash) = r.code_hash {
                tx.prepare_cached(
                    "INSERT INTO one_time_codes (purpose, account_id, target_hash, target, code_hash, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![r.purpose, r.account_id, r.phone_hash, r.phone, code_hash, now, r.expires_at])?;
            }
            Ok(Reserved::Go { log_id })
        })
    }

    /// Records how a reserved send went; a failed one also withdraws its code. `text`
    /// (sealed) is kept for the log provider's outbox.
    pub fn finish_sms(
        &self,
        log_id: i64,
        result: &str,
        text: &str,
        account_id: &str,
        purpose: &str,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sms_log SET result = ?2, text = ?3 WHERE id = ?1",
                params![log_id, result, text],
            )?;
            if result != "sent" {
                tx.execute(
                    "DELETE FROM one_time_codes WHERE account_id = ?1 AND purpose = ?2",
                    params![account_id, purpose],
                )?;
            }
            Ok(())
        })
    }

    /// Whether sends from this address or to this number are close to their caps (half of
    /// the hourly or daily budget used): then a captcha comes before the next one.
    pub fn sms_near_cap(
        &self,
        client_ip: &str,
        phone_hash: &str,
        l: &SmsLimits,
        now: i64,
    ) -> Result<bool> {
        self.read(|conn| {
            let count = |sql: &str, key: &str, since: i64| -> rusqlite::Result<i64> {
                conn.prepare_cached(sql)?
                    .query_row(params![key, since], |row| row.get(0))
            };
            const PHONE: &str = "SELECT count(*) FROM sms_log WHERE phone_hash = ?1 AND at > ?2";
            const ADDRESS: &str = "SELECT count(*) FROM sms_log WHERE client_ip = ?1 AND at > ?2";
            Ok(
                count(ADDRESS, client_ip, now - 3600)? * 2 >= l.per_address_hour
                    || count(ADDRESS, client_ip, now - 86_400)? * 2 >= l.per_address_day
                    || count(PHONE, phone_hash, now - 86_400)? * 2 >= l.per_phone_day,
            )
        })
    }

    /// The live code of an account for a purpose: the number it went to (sealed) and when it
    /// was sent, so a page can say where the code went.
    pub fn live_code(
        &self,
        account_id: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Option<(String, i64)>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT target, created_at FROM one_time_codes
                 WHERE account_id = ?1 AND purpose = ?2 AND expires_at >= ?3",
            )?
            .query_row(params![account_id, purpose, now], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
        })
    }

    /// Checks a code: the live one for this account, purpose and number, if any. Right: spent.
    /// Wrong: one attempt used, and void at `max_attempts`.
    pub fn check_code(
        &self,
        account_id: &str,
        purpose: &str,
        target_hash: &str,
        code_hash: &str,
        max_attempts: i64,
        now: i64,
    ) -> Result<CodeCheck> {
        self.write(|tx| {
            check(
                tx,
                account_id,
                purpose,
                target_hash,
                code_hash,
                max_attempts,
                now,
            )
        })
    }

    /// The most recent `limit` SMS, newest first: time, number (sealed), purpose, result and
    /// text (sealed; only the log provider's), for `unicas sms outbox`.
    pub fn sms_outbox(&self, phone_hash: Option<&str>, limit: i64) -> Result<Vec<SmsRow>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT at, phone, purpose, provider, result, text FROM sms_log
                 WHERE ?1 IS NULL OR phone_hash = ?1 ORDER BY id DESC LIMIT ?2",
            )?
            .query_map(params![phone_hash, limit], |r| {
                Ok(SmsRow {
                    at: r.get(0)?,
                    phone: r.get(1)?,
                    purpose: r.get(2)?,
                    provider: r.get(3)?,
                    result: r.get(4)?,
                    text: r.get(5)?,
                })
            })?
            .collect()
        })
    }

    /// Spent and expired codes go; the SMS log is kept 180 days.
    pub fn sweep_codes(&self, now: i64) -> Result<usize> {
        self.write(|tx| {
            let codes = tx.execute("DELETE FROM one_time_codes WHERE expires_at < ?1", [now])?;
            let log = tx.execute("DELETE FROM sms_log WHERE at < ?1", [now - 180 * 86_400])?;
            Ok(codes + log)
        })
    }
}

/// One row of the SMS log, as stored (phone and text sealed).
#[derive(Clone, Debug)]
pub struct SmsRow {
    pub at: i64,
    pub phone: String,
    pub purpose: String,
    pub provider: String,
    pub result: String,
    pub text: String,
}

fn check(
    tx: &Transaction,
    account_id: &str,
    purpose: &str,
    target_hash: &str,
    code_hash: &str,
    max_attempts: i64,
    now: i64,
) -> rusqlite::Result<CodeCheck> {
    let row: Option<(i64, String, i64, i64)> = tx
        .prepare_cached(
            "SELECT id, code_hash, attempts, expires_at FROM one_time_codes
             WHERE account_id = ?1 AND purpose = ?2 AND target_hash = ?3",
        )?
        .query_row(params![account_id, purpose, target_hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((id, stored, attempts, expires)) = row else {
        return Ok(CodeCheck::Missing);
    };
    if expires < now || attempts >= max_attempts {
        tx.execute("DELETE FROM one_time_codes WHERE id = ?1", [id])?;
        return Ok(CodeCheck::Missing);
    }
    if crate::secrets::constant_time_eq(stored.as_bytes(), code_hash.as_bytes()) {
        tx.execute("DELETE FROM one_time_codes WHERE id = ?1", [id])?;
        return Ok(CodeCheck::Valid);
    }
    let used = attempts + 1;
    if used >= max_attempts {
        tx.execute("DELETE FROM one_time_codes WHERE id = ?1", [id])?;
    } else {
        tx.execute(
            "UPDATE one_time_codes SET attempts = ?2 WHERE id = ?1",
            params![id, used],
        )?;
    }
    Ok(CodeCheck::Wrong(max_attempts - used))
}
