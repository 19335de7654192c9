//! One-time codes sent by SMS: 6 digits from the OS random source, valid 5 minutes, single
//! use, bound to the account, the number and the purpose, stored only as a keyed hash; 5
//! wrong entries void one. Sends are limited per number, account, client address and server
//! (see `store::sms`), and go through the configured gateway (`sms.rs`, signed as in
//! `sign.rs`).

pub mod sign;
mod sms;

pub use sms::{Sender, SmsError};

use crate::clock::Clock;
use crate::config::SmsConfig;
use crate::model::{AuditEvent, Client, Phone};
use crate::store::{CodeCheck, Reserved, SmsLimits, SmsRequest, Store, StoreError};
use rand::{rngs::OsRng, TryRngCore};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// What a code is for; a code for one purpose never serves another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Binding a phone to the account (first login, the portal).
    Bind,
    /// Logging in with the bound phone (动态码登录).
    Login,
    /// Recovering a forgotten password.
    Recovery,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Bind => "bind",
            Purpose::Login => "login",
            Purpose::Recovery => "recovery",
        }
    }
}

/// What a send request gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// On its way (or, for a send that must only pretend, accounted as if): the number
    /// masked, and the seconds before another may be asked for.
    Sent { wait: i64 },
    /// Too soon after the last one: wait this many seconds.
    TooSoon(i64),
    /// A cap is reached; try again later (tomorrow, for a daily one).
    Limited,
    /// The gateway did not take it.
    Failed(SmsError),
}

#[derive(Clone)]
pub struct Codes {
    store: Store,
    clock: Clock,
    config: Arc<SmsConfig>,
    sender: Sender,
    /// The day (unix days) the budget alarm was last written: once a day is enough.
    alarm_day: Arc<AtomicI64>,
    /// A code every send uses instead of a random one (only with `test-hooks`).
    #[cfg(feature = "test-hooks")]
    fixed: Arc<std::sync::Mutex<Option<String>>>,
}

impl Codes {
    pub fn new(store: Store, clock: Clock, config: SmsConfig, http: reqwest::Client) -> Codes {
        Codes {
            sender: Sender::new(config.clone(), http),
            config: Arc::new(config),
            store,
            clock,
            alarm_day: Arc::new(AtomicI64::new(-1)),
            #[cfg(feature = "test-hooks")]
            fixed: Arc::default(),
        }
    }

    /// Makes every send use `code` (or random codes again), so a test can give two people
    /// the same code. Only with `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub fn fix_codes(&self, code: Option<&str>) {
        *self.fixed.lock().unwrap_or_else(|p| p.into_inner()) = code.map(str::to_string);
    }

    fn new_code(&self) -> String {
        #[cfg(feature = "test-hooks")]
        if let Some(code) = self.fixed.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return code;
        }
        six_digits()
    }

    /// Seconds a code lives, for messages.
    pub fn ttl(&self) -> i64 {
        self.config.code_ttl
    }

    fn limits(&self) -> SmsLimits {
        let c = &self.config;
        SmsLimits {
            resend_after: c.resend_after,
            per_phone_hour: c.per_phone_hour,
            per_phone_day: c.per_phone_day,
            per_account_day: c.per_account_day,
            per_address_hour: c.per_address_hour,
            per_address_day: c.per_address_day,
            per_day: c.per_day,
        }
    }

    fn phone_hash(&self, phone: &Phone) -> String {
        self.store.keys().lookup("phone", &phone.e164())
    }

    fn code_hash(
        &self,
        account_id: &str,
        purpose: Purpose,
        phone_hash: &str,
        code: &str,
    ) -> String {
        let data = format!("{account_id}\0{}\0{phone_hash}\0{code}", purpose.as_str());
        self.store.keys().lookup("otp", &data)
    }

    /// Whether sends from this client or to this number are near their caps, so the next
    /// send must come after an image captcha.
    pub async fn near_cap(&self, client: &Client, phone: &Phone) -> Result<bool, StoreError> {
        let (ip, hash, limits, now) = (
            client.ip.clone(),
            self.phone_hash(phone),
            self.limits(),
            self.clock.now(),
        );
        self.store
            .call(move |s| s.sms_near_cap(&ip, &hash, &limits, now))
            .await
    }

    /// Sends a fresh code for `purpose` to `phone` on behalf of `account_id`. With
    /// `deliver` false nothing leaves the server, but the send is counted and answered
    /// exactly like a real one: for flows that must not tell whether a number is bound.
    pub async fn send(
        &self,
        purpose: Purpose,
        account_id: &str,
        phone: &Phone,
        client: &Client,
        deliver: bool,
    ) -> Result<Sent, StoreError> {
        let now = self.clock.now();
        let code = self.new_code();
        let phone_hash = self.phone_hash(phone);
        let code_hash = self.code_hash(account_id, purpose, &phone_hash, &code);
        let sealed = self.store.keys().seal(&phone.e164());
        let (limits, provider) = (self.limits(), self.sender.provider().to_string());
        let (account, ip, ttl) = (
            account_id.to_string(),
            client.ip.clone(),
            self.config.code_ttl,
        );
        let reserved = {
            let (phone_hash, sealed) = (phone_hash.clone(), sealed.clone());
            self.store
                .call(move |s| {
                    let request = SmsRequest {
                        phone_hash: &phone_hash,
                        phone: &sealed,
                        account_id: &account,
                        client_ip: &ip,
                        purpose: purpose.as_str(),
                        provider: &provider,
                        code_hash: deliver.then_some(code_hash.as_str()),
                        expires_at: now + ttl,
                    };
                    s.reserve_sms(&request, &limits, now)
                })
                .await?
        };
        let log_id = match reserved {
            Reserved::Go { log_id } => log_id,
            Reserved::TooSoon(wait) => return Ok(Sent::TooSoon(wait)),
            Reserved::Limited => return Ok(Sent::Limited),
            Reserved::BudgetSpent => {
                self.budget_alarm(now).await;
                return Ok(Sent::Limited);
            }
        };
        let text = self
            .config
            .template
            .replace("{sign}", &self.config.sign_name)
            .replace("{code}", &code)
            .replace("{minutes}", &(self.config.code_ttl / 60).to_string());
        let result = match deliver {
            true => {
                let message = sms::Message {
                    phone,
                    code: &code,
                    minutes: self.config.code_ttl / 60,
                    purpose: purpose.as_str(),
                    text: text.clone(),
                };
                self.sender.send(&message).await
            }
            false => Ok(()),
        };
        let outcome = match (&result, deliver) {
            (Ok(()), true) => "sent".to_string(),
            (Ok(()), false) => "not sent (no such binding)".to_string(),
            (Err(e), _) => e.describe(),
        };
        // Only the log provider keeps the text (sealed), for `unicas sms outbox`.
        let kept = match self.sender.provider() == "log" && deliver {
            true => self.store.keys().seal(&text),
            false => String::new(),
        };
        let event = AuditEvent::CodeSent {
            purpose: purpose.as_str(),
            phone: phone.masked(),
            provider: self.sender.provider().to_string(),
            result: outcome.clone(),
        };
        let (account, client_owned) = (account_id.to_string(), client.clone());
        let stored = if result.is_ok() && deliver {
            "sent".to_string()
        } else {
            outcome
        };
        self.store
            .call(move |s| {
                s.finish_sms(log_id, &stored, &kept, &account, purpose.as_str())?;
                s.audit(&client_owned.record(event, Some(&account)), now)
            })
            .await?;
        match result {
            Ok(()) => Ok(Sent::Sent {
                wait: self.config.resend_after,
            }),
            Err(e) => {
                tracing::warn!(provider = self.sender.provider(), error = %e.describe(), "SMS not sent");
                Ok(Sent::Failed(e))
            }
        }
    }

    /// Checks `code` against the live code for this account, purpose and number. A wrong
    /// one is audited; the fifth voids the code.
    pub async fn check(
        &self,
        purpose: Purpose,
        account_id: &str,
        phone: &Phone,
        code: &str,
        client: &Client,
    ) -> Result<CodeCheck, StoreError> {
        let code = code.trim();
        let phone_hash = self.phone_hash(phone);
        let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        let code_hash = self.code_hash(
            account_id,
            purpose,
            &phone_hash,
            if well_formed { code } else { "-" },
        );
        let (account, now, max) = (
            account_id.to_string(),
            self.clock.now(),
            self.config.max_attempts,
        );
        let client = client.clone();
        self.store
            .call(move |s| {
                let result = s.check_code(
                    &account,
                    purpose.as_str(),
                    &phone_hash,
                    &code_hash,
                    max,
                    now,
                )?;
                if result != CodeCheck::Valid {
                    let event = AuditEvent::CodeFailed {
                        purpose: purpose.as_str(),
                    };
                    s.audit(&client.record(event, Some(&account)), now)?;
                }
                Ok(result)
            })
            .await
    }

    /// Where the account's live code for `purpose` went, and when: to resume a flow.
    pub async fn pending(
        &self,
        account_id: &str,
        purpose: Purpose,
    ) -> Result<Option<(Phone, i64)>, StoreError> {
        let (account, now) = (account_id.to_string(), self.clock.now());
        let found = self
            .store
            .call(move |s| s.live_code(&account, purpose.as_str(), now))
            .await?;
        Ok(found.and_then(|(sealed, at)| {
            let phone = self.store.keys().open(&sealed)?;
            Some((Phone::parse(&phone)?, at))
        }))
    }

    async fn budget_alarm(&self, now: i64) {
        let day = now / 86_400;
        if self.alarm_day.swap(day, Ordering::SeqCst) == day {
            return;
        }
        tracing::error!("the daily SMS budget is spent: no more codes are sent today");
        let result = self
            .store
            .call(move |s| {
                s.audit(
                    &crate::model::AuditRecord::system(AuditEvent::SmsBudgetSpent, None),
                    now,
                )
            })
            .await;
        if let Err(e) = result {
            tracing::error!("audit of the SMS budget: {e}");
        }
    }
}

/// Six uniformly random digits from the operating system's RNG.
fn six_digits() -> String {
    loop {
        let mut bytes = [0u8; 4];
        OsRng
            .try_fill_bytes(&mut bytes)
            .expect("operating system RNG unavailable");
        let n = u32::from_le_bytes(bytes);
        // 4,294,000,000 is the largest multiple of 10^6 below 2^32: no digit is favoured.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// What went wrong with a gateway call, in a word: never the error's text, which may carry
/// the URL and its signed query.
pub(crate) fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}

#[cfg(test)]
mod tests {
    // security.md G09
    #[test]
    fn codes_are_six_uniform_digits() {
        let mut counts = [[0u32; 10]; 6];
        for _ in 0..20_000 {
            let code = super::six_digits();
            assert_eq!(code.len(), 6);
            for (i, d) in code.bytes().enumerate() {
                counts[i][(d - b'0') as usize] += 1;
            }
        }
        // Expected 2,000 per digit and position; 6 sigma is about 255.
        for position in counts {
            for n in position {
                assert!((1_700..2_300).contains(&n), "{n}");
            }
        }
    }
}
