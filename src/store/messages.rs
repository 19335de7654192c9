//! One-time codes and the log of messages (SMS and e-mail, by channel). Reserving a send
//! checks every limit and records the send and its code in one transaction, so concurrent
//! requests cannot send twice or past a cap; checking a code counts the attempt and spends
//! the code in one transaction, so parallel guesses cannot exceed the attempts allowed.

use super::db::{args, Db};
use super::{Result, Store};

/// The limits a send on one channel must fit, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub resend_after: i64,
    /// Per number or e-mail address.
    pub per_target_hour: i64,
    pub per_target_day: i64,
    pub per_account_day: i64,
    pub per_address_hour: i64,
    pub per_address_day: i64,
    pub per_day: i64,
}

/// A send to reserve: on which channel, to whom, why, from where, and the code it carries.
pub struct MessageRequest<'a> {
    /// `sms` or `email`.
    pub channel: &'a str,
    pub target_hash: &'a str,
    /// Sealed.
    pub target: &'a str,
    pub account_id: &'a str,
    pub client_ip: &'a str,
    pub purpose: &'a str,
    pub provider: &'a str,
    /// The code's keyed hash; `None` for a notice, or a send that only pretends (an unbound
    /// number asked for in a flow that must not tell): it counts like a real one.
    pub code_hash: Option<&'a str>,
    pub expires_at: i64,
    /// The sender solved an image captcha for this send: the client address's caps then
    /// ask nothing more (a computer lab or a carrier's NAT puts hundreds of people behind
    /// one address); the number's, the account's and the server's caps still hold.
    pub captcha: bool,
}

/// What reserving a send gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Reserved {
    /// Go ahead; `log_id` is the row to complete with the result.
    Go { log_id: i64 },
    /// A code went to this target for this purpose moments ago: wait this many seconds.
    TooSoon(i64),
    /// A cap is reached (the target's, the account's, or, without a captcha, the client
    /// address's).
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
    /// No live code for this account, purpose and target: none sent, expired, used, or void.
    Missing,
}

// The caps count codes only: a notice (a password changed, a phone changed) is caused by a
// change, never asked for, and must not stand between its owner and their next code.
const TARGET: &str = "SELECT count(*) FROM messages WHERE channel = ?1 AND target_hash = ?2
     AND at > ?3 AND purpose <> 'notice'";
/// An account's sends: the administrator's second factor has an allowance of its own, so
/// the person's other codes cannot use it up, nor it theirs.
const ACCOUNT: &str = "SELECT count(*) FROM messages WHERE channel = ?1 AND account_id = ?2
     AND at > ?3 AND purpose <> 'notice' AND (purpose = 'admin') = (?4 = 'admin')";
const CLIENT: &str = "SELECT count(*) FROM messages WHERE channel = ?1 AND client_ip = ?2
     AND at > ?3 AND purpose <> 'notice'";

impl Store {
    pub fn reserve_message(&self, r: &MessageRequest, l: &Limits, now: i64) -> Result<Reserved> {
        // A send that only pretends went to a number or address the account does not own,
        // asked for by whoever typed it: it counts against that client and that target,
        // never against the account, and leaves the account's live code alone (docs/security.md
        // M05).
        let pretend = r.code_hash.is_none() && r.purpose != "notice";
        let account = (!pretend).then_some(r.account_id);
        self.write(|tx| {
            let count = |sql: &str, key: &str, since: i64| -> Result<i64> {
                tx.query_one(sql, args![r.channel, key, since], |row| row.get(0))
            };
            let account_sends = |since: i64| -> Result<i64> {
                tx.query_one(
                    ACCOUNT,
                    args![r.channel, r.account_id, since, r.purpose],
                    |row| row.get(0),
                )
            };
            // The wait after a send; one the gateway did not take starts none. Notices wait
            // for nothing: a change that matters (a password reset) is always told, however
            // soon after another notice it comes.
            let last: Option<i64> = if r.purpose == "notice" {
                None
            } else {
                tx.query_one(
                "SELECT max(at) FROM messages
                 WHERE channel = ?1 AND target_hash = ?2 AND purpose = ?3 AND result NOT LIKE 'failed%'",
                    args![r.channel, r.target_hash, r.purpose],
                    |row| row.get(0),
                )?
            };
            if let Some(at) = last.filter(|at| now - at < l.resend_after) {
                return Ok(Reserved::TooSoon(l.resend_after - (now - at)));
            }
            let today: i64 = tx.query_one(
                "SELECT count(*) FROM messages WHERE channel = ?1 AND at > ?2",
                args![r.channel, now - 86_400],
                |row| row.get(0),
            )?;
            if today >= l.per_day {
                return Ok(Reserved::BudgetSpent);
            }
            // Notices are bounded by the changes that cause them; only codes meet the caps.
            if r.purpose != "notice" {
                let over = count(TARGET, r.target_hash, now - 3600)? >= l.per_target_hour
                    || count(TARGET, r.target_hash, now - 86_400)? >= l.per_target_day
                    || (!pretend && account_sends(now - 86_400)? >= l.per_account_day)
                    || (!r.client_ip.is_empty()
                        && !r.captcha
                        && (count(CLIENT, r.client_ip, now - 3600)? >= l.per_address_hour
                            || count(CLIENT, r.client_ip, now - 86_400)? >= l.per_address_day));
                if over {
                    return Ok(Reserved::Limited);
                }
            }
            let log_id: i64 = tx.query_one(
                "INSERT INTO messages (channel, at, target_hash, target, account_id, client_ip, purpose, provider, result)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending') RETURNING id",
                args![r.channel, now, r.target_hash, r.target, account, r.client_ip, r.purpose, r.provider],
                |row| row.get(0),
            )?;
            if let Some(code_hash) = r.code_hash {
                // One live code per account, purpose and channel: a new one replaces the old.
                tx.execute(
                    "DELETE FROM one_time_codes WHERE account_id = ?1 AND purpose = ?2 AND channel = ?3",
                    args![r.account_id, r.purpose, r.channel],
                )?;
                tx.execute(
                    "INSERT INTO one_time_codes (channel, purpose, account_id, target_hash, target, code_hash, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    args![r.channel, r.purpose, r.account_id, r.target_hash, r.target, code_hash, now, r.expires_at],
                )?;
            }
            Ok(Reserved::Go { log_id })
        })
    }

    /// Records how a reserved send went; a failed one also withdraws its code. `text`
    /// (sealed) is kept for the log provider's outbox.
    pub fn finish_message(&self, log_id: i64, result: &str, text: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE messages SET result = ?2, text = ?3 WHERE id = ?1",
                args![log_id, result, text],
            )?;
            if result != "sent" {
                tx.execute(
                    "DELETE FROM one_time_codes WHERE (account_id, purpose, channel) =
                         (SELECT account_id, purpose, channel FROM messages WHERE id = ?1)",
                    args![log_id],
                )?;
            }
            Ok(())
        })
    }

    /// Whether sends from this client address or to this target are close to their caps
    /// (half of the hourly or daily budget used): then a captcha comes before the next one.
    pub fn near_cap(
        &self,
        channel: &str,
        client_ip: &str,
        target_hash: &str,
        l: &Limits,
        now: i64,
    ) -> Result<bool> {
        self.read(|conn| {
            let count = |sql: &str, key: &str, since: i64| -> Result<i64> {
                conn.query_one(sql, args![channel, key, since], |row| row.get(0))
            };
            Ok(
                count(CLIENT, client_ip, now - 3600)? * 2 >= l.per_address_hour
                    || count(CLIENT, client_ip, now - 86_400)? * 2 >= l.per_address_day
                    || count(TARGET, target_hash, now - 86_400)? * 2 >= l.per_target_day,
            )
        })
    }

    /// The live code of an account for a purpose on a channel: the target it went to
    /// (sealed) and when it was sent, so a page can say where the code went.
    pub fn live_code(
        &self,
        account_id: &str,
        purpose: &str,
        channel: &str,
        now: i64,
    ) -> Result<Option<(String, i64)>> {
        self.read(|conn| {
            conn.query_opt(
                "SELECT target, created_at FROM one_time_codes
                 WHERE account_id = ?1 AND purpose = ?2 AND channel = ?3 AND expires_at >= ?4",
                args![account_id, purpose, channel, now],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    /// Checks a code: the live one for this account, purpose and target, if any. Right:
    /// spent. Wrong: one attempt used, and void at `max_attempts`.
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

    /// The most recent `limit` messages of a channel, newest first: time, target (sealed),
    /// purpose, result and text (sealed; only the log provider's), for the outbox commands.
    pub fn outbox(
        &self,
        channel: &str,
        target_hash: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MessageRow>> {
        self.read(|conn| {
            conn.query(
                "SELECT at, target, purpose, provider, result, text FROM messages
                 WHERE channel = ?1 AND (CAST(?2 AS TEXT) IS NULL OR target_hash = ?2) ORDER BY id DESC LIMIT ?3",
                args![channel, target_hash, limit],
                |r| {
                    Ok(MessageRow {
                        at: r.get(0)?,
                        target: r.get(1)?,
                        purpose: r.get(2)?,
                        provider: r.get(3)?,
                        result: r.get(4)?,
                        text: r.get(5)?,
                    })
                },
            )
        })
    }

    /// Retention: expired codes go, and messages and audit rows older than their days
    /// (`retention`). Returns how many rows went.
    pub fn sweep_retention(
        &self,
        now: i64,
        retention: &crate::config::RetentionConfig,
    ) -> Result<usize> {
        self.write(|tx| {
            let codes = tx.execute(
                "DELETE FROM one_time_codes WHERE expires_at < ?1",
                args![now],
            )?;
            let messages = tx.execute(
                "DELETE FROM messages WHERE at < ?1",
                args![now - retention.messages_days * 86_400],
            )?;
            let audit = tx.execute(
                "DELETE FROM audit_log WHERE at < ?1 AND last_at < ?1",
                args![now - retention.audit_days * 86_400],
            )?;
            Ok(codes + messages + audit)
        })
    }
}

/// One row of the message log, as stored (target and text sealed).
#[derive(Clone, Debug)]
pub struct MessageRow {
    pub at: i64,
    pub target: String,
    pub purpose: String,
    pub provider: String,
    pub result: String,
    pub text: String,
}

fn check(
    tx: &Db,
    account_id: &str,
    purpose: &str,
    target_hash: &str,
    code_hash: &str,
    max_attempts: i64,
    now: i64,
) -> Result<CodeCheck> {
    let row: Option<(i64, String, i64, i64)> = tx.query_opt(
        "SELECT id, code_hash, attempts, expires_at FROM one_time_codes
         WHERE account_id = ?1 AND purpose = ?2 AND target_hash = ?3",
        args![account_id, purpose, target_hash],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let Some((id, stored, attempts, expires)) = row else {
        return Ok(CodeCheck::Missing);
    };
    let delete = || tx.execute("DELETE FROM one_time_codes WHERE id = ?1", args![id]);
    if expires < now || attempts >= max_attempts {
        delete()?;
        return Ok(CodeCheck::Missing);
    }
    if crate::secrets::constant_time_eq(stored.as_bytes(), code_hash.as_bytes()) {
        delete()?;
        return Ok(CodeCheck::Valid);
    }
    let used = attempts + 1;
    if used >= max_attempts {
        delete()?;
    } else {
        tx.execute(
            "UPDATE one_time_codes SET attempts = ?2 WHERE id = ?1",
            args![id, used],
        )?;
    }
    Ok(CodeCheck::Wrong(max_attempts - used))
}
