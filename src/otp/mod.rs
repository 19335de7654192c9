//! One-time codes by SMS or e-mail: 6 digits from the OS random source, valid a few
//! minutes, single use, bound to the account, the target (number or address) and the
//! purpose, stored only as a keyed hash; 5 wrong entries void one. Sends are limited per
//! target, account, client address and server (see `store::messages`), and go through the
//! configured gateway (`sms.rs`, signed as in `sign.rs`) or mail server (`mail.rs`).
//! Security notices (a password reset, a phone changed) go the same way, without a code.

mod caps;
mod compose;
pub mod mail;
mod message;
pub mod sign;
mod sms;

pub use message::{Content, Delivery, Notice, Purpose, Recipient, SendError, Sent};

pub use mail::Mailer;
pub use sms::Sender;

use crate::clock::Clock;
use crate::config::{Config, MailConfig, SmsConfig};
use crate::model::{AuditEvent, AuditRecord, Client, Email, Phone};
use crate::store::{CodeCheck, Limits, MessageRequest, Reserved, Store, StoreError};
use rand::{rngs::OsRng, TryRngCore};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A message composed for one target, ready for its channel.
struct Outgoing {
    target: Recipient,
    /// The code's purpose, or the notice's name.
    purpose: &'static str,
    code: Option<String>,
    minutes: i64,
    event: &'static str,
    /// The SMS text, or the e-mail's subject and body.
    subject: String,
    text: String,
}

#[derive(Clone)]
pub struct Codes {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    sms: SmsConfig,
    mail: MailConfig,
    sender: Sender,
    mailer: Mailer,
    school: (String, String),
    metrics: Arc<crate::metrics::Metrics>,
    /// The day (unix days) each channel's budget alarm was last written: once a day is
    /// enough. [sms, email]
    alarm_day: [AtomicI64; 2],
    /// A code every send uses instead of a random one (only with `test-hooks`).
    #[cfg(feature = "test-hooks")]
    fixed: std::sync::Mutex<Option<String>>,
}

impl Codes {
    pub fn new(
        store: Store,
        clock: Clock,
        config: &Config,
        http: reqwest::Client,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<Codes, crate::outbound::OutboundError> {
        Ok(Codes {
            inner: Arc::new(Inner {
                metrics,
                sender: Sender::new(config.sms.clone(), http),
                mailer: Mailer::new(&config.mail, config.ca_file.as_deref())?,
                sms: config.sms.clone(),
                mail: config.mail.clone(),
                school: (config.school_name.clone(), config.school_name_en.clone()),
                store,
                clock,
                alarm_day: [AtomicI64::new(-1), AtomicI64::new(-1)],
                #[cfg(feature = "test-hooks")]
                fixed: Default::default(),
            }),
        })
    }

    /// Makes every send use `code` (or random codes again), so a test can give two people
    /// the same code. Only with `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub fn fix_codes(&self, code: Option<&str>) {
        *self.inner.fixed.lock().unwrap_or_else(|p| p.into_inner()) = code.map(str::to_string);
    }

    fn new_code(&self) -> String {
        #[cfg(feature = "test-hooks")]
        if let Some(code) = self
            .inner
            .fixed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return code;
        }
        six_digits()
    }

    /// Seconds a code on this target's channel lives, for messages.
    pub fn ttl(&self, target: &Recipient) -> i64 {
        match target {
            Recipient::Phone(_) => self.inner.sms.code_ttl,
            Recipient::Email(_) => self.inner.mail.code_ttl,
        }
    }

    fn max_attempts(&self, target: &Recipient) -> i64 {
        match target {
            Recipient::Phone(_) => self.inner.sms.max_attempts,
            Recipient::Email(_) => self.inner.mail.max_attempts,
        }
    }

    fn provider(&self, target: &Recipient) -> &str {
        match target {
            Recipient::Phone(_) => self.inner.sender.provider(),
            Recipient::Email(_) => self.inner.mailer.provider(),
        }
    }

    fn target_hash(&self, target: &Recipient) -> String {
        self.inner
            .store
            .keys()
            .lookup(target.kind(), &target.value())
    }

    fn code_hash(
        &self,
        account_id: &str,
        purpose: Purpose,
        target_hash: &str,
        code: &str,
    ) -> String {
        let data = format!("{account_id}\0{}\0{target_hash}\0{code}", purpose.as_str());
        self.inner.store.keys().lookup("otp", &data)
    }

    /// Sends a fresh code for `purpose` to `target` on behalf of `account_id`, delivered as
    /// `delivery` says. `captcha`: the sender solved an image captcha for it, which stands
    /// in for the client address's caps.
    pub async fn send(
        &self,
        purpose: Purpose,
        account_id: &str,
        target: &Recipient,
        client: &Client,
        delivery: Delivery,
        captcha: bool,
    ) -> Result<Sent, StoreError> {
        let now = self.inner.clock.now();
        let code = self.new_code();
        let target_hash = self.target_hash(target);
        let code_hash = self.code_hash(account_id, purpose, &target_hash, &code);
        let ttl = self.ttl(target);
        let request = Request {
            target_hash,
            purpose: purpose.as_str(),
            code_hash: (delivery != Delivery::Pretend).then_some(code_hash),
            expires_at: now + ttl,
            captcha,
        };
        let log_id = match self.reserve(target, account_id, client, request).await? {
            Ok(log_id) => log_id,
            Err(refused) => return Ok(refused),
        };
        let outgoing = self.compose_code(target, purpose, code, ttl / 60);
        let wait = self.limits(target).resend_after;
        match delivery {
            Delivery::Pretend => {
                let provider = self.provider(target).to_string();
                self.inner
                    .metrics
                    .message(target.channel(), &provider, "not sent");
                let event = self.sent_event(&outgoing, "not sent (no such binding)");
                self.finish(
                    log_id,
                    "not sent (no such binding)",
                    String::new(),
                    event,
                    account_id,
                    client,
                )
                .await?;
                Ok(Sent::Sent { wait })
            }
            Delivery::Background => {
                let (codes, account, client) =
                    (self.clone(), account_id.to_string(), client.clone());
                tokio::spawn(async move {
                    if let Err(e) = codes.deliver(log_id, outgoing, &account, &client).await {
                        tracing::error!("recording a message: {e}");
                    }
                });
                Ok(Sent::Sent { wait })
            }
            Delivery::Wait => match self.deliver(log_id, outgoing, account_id, client).await? {
                Ok(()) => Ok(Sent::Sent { wait }),
                Err(e) => Ok(Sent::Failed(e)),
            },
        }
    }

    /// Sends a security notice to the account's bound phone and bound e-mail address, each
    /// that it has.
    pub async fn notify_holder(
        &self,
        account: &crate::model::Account,
        notice: Notice,
        client: &Client,
    ) {
        let targets = [
            account
                .bound_phone
                .as_deref()
                .and_then(Phone::parse)
                .map(Recipient::Phone),
            account
                .bound_email
                .as_deref()
                .and_then(Email::parse)
                .map(Recipient::Email),
        ];
        for to in targets.into_iter().flatten() {
            self.notify(&account.id, &to, notice, client).await;
        }
    }

    /// Sends a security notice to `target` (in the background; the outcome goes to the
    /// message log and the audit log). Notices meet only the server's daily budget.
    pub async fn notify(
        &self,
        account_id: &str,
        target: &Recipient,
        notice: Notice,
        client: &Client,
    ) {
        let request = Request {
            target_hash: self.target_hash(target),
            purpose: "notice",
            code_hash: None,
            expires_at: 0,
            captcha: false,
        };
        let log_id = match self.reserve(target, account_id, client, request).await {
            Ok(Ok(log_id)) => log_id,
            Ok(Err(_)) => return,
            Err(e) => {
                tracing::error!("a notice could not be recorded: {e}");
                return;
            }
        };
        let outgoing = self.compose_notice(target, notice);
        let (codes, account, client) = (self.clone(), account_id.to_string(), client.clone());
        tokio::spawn(async move {
            if let Err(e) = codes.deliver(log_id, outgoing, &account, &client).await {
                tracing::error!("recording a notice: {e}");
            }
        });
    }

    /// Reserves a send within the limits: the message log's row, or the answer to give.
    async fn reserve(
        &self,
        target: &Recipient,
        account_id: &str,
        client: &Client,
        r: Request,
    ) -> Result<Result<i64, Sent>, StoreError> {
        let now = self.inner.clock.now();
        let (channel, limits) = (target.channel(), self.limits(target));
        let sealed = self.inner.store.keys().seal(&target.value());
        let (provider, account, ip) = (
            self.provider(target).to_string(),
            account_id.to_string(),
            client.ip.clone(),
        );
        let reserved = self
            .inner
            .store
            .call(move |s| {
                let request = MessageRequest {
                    channel,
                    target_hash: &r.target_hash,
                    target: &sealed,
                    account_id: &account,
                    client_ip: &ip,
                    purpose: r.purpose,
                    provider: &provider,
                    code_hash: r.code_hash.as_deref(),
                    expires_at: r.expires_at,
                    captcha: r.captcha,
                };
                s.reserve_message(&request, &limits, now)
            })
            .await?;
        Ok(match reserved {
            Reserved::Go { log_id } => Ok(log_id),
            Reserved::TooSoon(wait) => Err(Sent::TooSoon(wait)),
            Reserved::Limited => Err(Sent::Limited),
            Reserved::BudgetSpent => {
                self.budget_alarm(target, now).await;
                Err(Sent::Limited)
            }
        })
    }

    /// Hands the message to its gateway and records how it went.
    async fn deliver(
        &self,
        log_id: i64,
        m: Outgoing,
        account_id: &str,
        client: &Client,
    ) -> Result<Result<(), SendError>, StoreError> {
        let content = match &m.code {
            Some(code) => Content::Code {
                code,
                minutes: m.minutes,
            },
            None => Content::Notice { event: m.event },
        };
        let result = match &m.target {
            Recipient::Phone(phone) => {
                let message = sms::Message {
                    phone,
                    content,
                    purpose: m.purpose,
                    text: m.text.clone(),
                };
                self.inner.sender.send(&message).await
            }
            Recipient::Email(to) => {
                let mail = mail::Mail {
                    to,
                    content,
                    purpose: m.purpose,
                    subject: m.subject.clone(),
                    body: m.text.clone(),
                };
                self.inner.mailer.send(&mail).await
            }
        };
        let provider = self.provider(&m.target).to_string();
        let counted = if result.is_ok() { "sent" } else { "failed" };
        self.inner
            .metrics
            .message(m.target.channel(), &provider, counted);
        let outcome = match &result {
            Ok(()) => "sent".to_string(),
            Err(e) => {
                tracing::warn!(channel = m.target.channel(), provider = self.provider(&m.target), error = %e.describe(), "message not sent");
                e.describe()
            }
        };
        // Only the log providers keep the text (sealed), for the outbox commands.
        let kept = match self.provider(&m.target) == "log" {
            true => {
                let text = match m.subject.is_empty() {
                    true => m.text.clone(),
                    false => format!("{}\n\n{}", m.subject, m.text),
                };
                self.inner.store.keys().seal(&text)
            }
            false => String::new(),
        };
        let event = self.sent_event(&m, &outcome);
        self.finish(log_id, &outcome, kept, event, account_id, client)
            .await?;
        Ok(result)
    }

    fn sent_event(&self, m: &Outgoing, outcome: &str) -> AuditEvent {
        match m.code {
            Some(_) if outcome.starts_with("failed") => AuditEvent::CodeNotSent {
                purpose: m.purpose,
                to: m.target.masked(),
                provider: self.provider(&m.target).to_string(),
                result: outcome.to_string(),
            },
            Some(_) => AuditEvent::CodeSent {
                purpose: m.purpose,
                to: m.target.masked(),
                provider: self.provider(&m.target).to_string(),
                result: outcome.to_string(),
            },
            None => AuditEvent::NoticeSent {
                notice: m.purpose,
                to: m.target.masked(),
                result: outcome.to_string(),
            },
        }
    }

    async fn finish(
        &self,
        log_id: i64,
        outcome: &str,
        kept: String,
        event: AuditEvent,
        account_id: &str,
        client: &Client,
    ) -> Result<(), StoreError> {
        let (outcome, account, client, now) = (
            outcome.to_string(),
            account_id.to_string(),
            client.clone(),
            self.inner.clock.now(),
        );
        self.inner
            .store
            .call(move |s| {
                s.finish_message(log_id, &outcome, &kept)?;
                s.audit(&client.record(event, Some(&account)), now)
            })
            .await
    }

    /// Checks `code` against the live code for this account, purpose and target. A wrong
    /// one is audited; the fifth voids the code.
    pub async fn check(
        &self,
        purpose: Purpose,
        account_id: &str,
        target: &Recipient,
        code: &str,
        client: &Client,
    ) -> Result<CodeCheck, StoreError> {
        let code = code.trim();
        let target_hash = self.target_hash(target);
        let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        let code_hash = self.code_hash(
            account_id,
            purpose,
            &target_hash,
            if well_formed { code } else { "-" },
        );
        let (account, now, max) = (
            account_id.to_string(),
            self.inner.clock.now(),
            self.max_attempts(target),
        );
        let client = client.clone();
        self.inner
            .store
            .call(move |s| {
                let result = s.check_code(
                    &account,
                    purpose.as_str(),
                    &target_hash,
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

    /// Where the account's live code for `purpose` on `channel` went, and when: to resume a
    /// flow.
    pub async fn pending(
        &self,
        account_id: &str,
        purpose: Purpose,
        kind: &'static str,
    ) -> Result<Option<(Recipient, i64)>, StoreError> {
        let (account, now) = (account_id.to_string(), self.inner.clock.now());
        let channel = if kind == "email" { "email" } else { "sms" };
        let found = self
            .inner
            .store
            .call(move |s| s.live_code(&account, purpose.as_str(), channel, now))
            .await?;
        Ok(found.and_then(|(sealed, at)| {
            let value = self.inner.store.keys().open(&sealed)?;
            Some((Recipient::parse(kind, &value)?, at))
        }))
    }
}

/// A send to reserve, the parts that differ between codes and notices.
struct Request {
    target_hash: String,
    purpose: &'static str,
    code_hash: Option<String>,
    expires_at: i64,
    captcha: bool,
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
    // docs/security.md G09
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
