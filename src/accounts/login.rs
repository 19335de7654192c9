//! Password login with throttling. Every failure cause looks the same from outside: unknown
//! account, wrong password, locked or disabled account all cost one bcrypt verification and
//! return `Invalid`; the audit log records the real cause.

use super::{Accounts, AccountsError};
use crate::model::audit::{LoginFailure, Method};
use crate::model::{canonical_id, Account, AuditEvent, Client, Phone, Status};
use crate::otp::{Codes, Purpose, Recipient};
use crate::store::{AttemptKeys, CodeCheck, Throttle};
use std::time::Duration;

/// How long an attempt waits for others in progress on the same budget before it gives up.
pub(super) const BUSY_WAIT: Duration = Duration::from_millis(100);
pub(super) const BUSY_TRIES: u32 = 50;

#[derive(Debug)]
pub enum Login {
    /// Correct credentials. `weak`: the password fails today's policy, so it must be changed
    /// before a session exists.
    Success {
        account: Box<Account>,
        weak: bool,
    },
    Invalid,
    /// Too many recent failures for this account from this address, for the address, or (an
    /// attack from many addresses) for the account everywhere.
    Throttled,
}

/// The throttling keys of an attempt: the canonical account name (or one placeholder for
/// names that cannot be accounts), so lock-outs and captcha demands look the same for real
/// and invented names; and whether the account is still on its guessable initial password.
fn keys(username: &str, client: &Client, initial: bool) -> (Option<String>, AttemptKeys) {
    let id = canonical_id(username);
    let keys = AttemptKeys {
        account_id: id.clone().unwrap_or_else(|| "-invalid-".into()),
        client_ip: client.ip.clone(),
        initial,
    };
    (id, keys)
}

/// The password as it is checked. The initial password is the last six characters of the
/// ID number, whose check character is an upper-case `X`; most people type `x`. For an
/// account still on its initial password a final `x` is that `X` (the same ID number), so
/// it costs no extra verification and no extra guess; a password the person chose stays
/// case-sensitive.
fn as_initial(account: Option<&Account>, typed: &str) -> String {
    match typed.strip_suffix('x') {
        Some(rest) if account.is_some_and(|a| a.initial_password) => format!("{rest}X"),
        _ => typed.to_string(),
    }
}

impl Accounts {
    /// Whether a login for `username` from `client` must solve a captcha first: the account
    /// name has collected `captcha_after` failures in the window, from anywhere, or is locked
    /// for this address. Read from the same counters that lock it.
    pub async fn needs_captcha(&self, username: &str, client: &Client) -> bool {
        let t = &self.throttle;
        if t.captcha_after == 0 {
            return false;
        }
        let (_, keys) = keys(username, client, false);
        let (now, window, after) = (self.clock.now(), t.window, t.captcha_after);
        match self
            .store
            .call(move |s| {
                let (failures, locked) = s.failures(&keys, now, window)?;
                Ok(failures >= after || locked)
            })
            .await
        {
            Ok(needed) => needed,
            Err(e) => {
                tracing::error!("captcha check: {e}");
                true
            }
        }
    }

    /// A login refused for a wrong captcha, before any password check: counted against the
    /// client's address and audited (docs/security.md F04).
    pub async fn captcha_refused(
        &self,
        username: &str,
        client: &Client,
    ) -> Result<(), AccountsError> {
        let (_, keys) = keys(username, client, false);
        let (limits, now, client) = (self.limits(), self.clock.now(), client.clone());
        self.store
            .call(move |s| {
                let event = AuditEvent::LoginFailed {
                    reason: LoginFailure::Captcha,
                };
                let record = client.record(event, Some(&keys.account_id));
                s.refuse_attempt(&keys, &limits, &record, now)
            })
            .await?;
        Ok(())
    }

    pub async fn password_login(
        &self,
        username: &str,
        password: String,
        client: &Client,
    ) -> Result<Login, AccountsError> {
        let account = match canonical_id(username) {
            Some(id) => self.store.call(move |s| s.account(&id)).await?,
            None => None,
        };
        let initial = account
            .as_ref()
            .is_some_and(|a| a.initial_password && a.status == Status::Active);
        let (id, keys) = keys(username, client, initial);
        if !self.reserve(&keys, client).await? {
            return Ok(Login::Throttled);
        }
        let typed = as_initial(account.as_ref(), &password);
        let verified = self
            .hasher
            .verify(typed, account.as_ref().map(|a| a.password_hash.clone()))
            .await;
        let now = self.clock.now();
        let failure = match &account {
            None => Some(LoginFailure::UnknownAccount),
            Some(_) if !verified => Some(LoginFailure::WrongPassword),
            Some(a) if a.status == Status::Locked => Some(LoginFailure::AccountLocked),
            Some(a) if a.status == Status::Disabled => Some(LoginFailure::AccountDisabled),
            // Past its days, the initial password is no credential at all; the answer is
            // the same as for a wrong one, so it never confirms a guess (the audit log and
            // the help page tell why).
            Some(a) if a.initial_password && self.initial_expired(a, now) => {
                Some(LoginFailure::InitialExpired)
            }
            Some(_) => None,
        };
        let event = match failure {
            None => AuditEvent::LoginSucceeded {
                method: Method::Password,
            },
            Some(reason) => AuditEvent::LoginFailed { reason },
        };
        self.end_attempt(&keys, failure.is_none(), event, client)
            .await?;
        match (account, failure) {
            (Some(account), None) => {
                let weak = self.policy.check(&account.id, &password).is_err()
                    || self.password_too_old(&account, now);
                Ok(Login::Success {
                    account: Box::new(account),
                    weak,
                })
            }
            _ => {
                tracing::info!(account = ?id, ip = %client.ip, "login failed");
                Ok(Login::Invalid)
            }
        }
    }

    /// A login with a phone and an SMS code, under the same throttle as passwords: `owner`
    /// is the account the number is bound to (if any), `name` what its codes are kept
    /// under.
    pub async fn code_login(
        &self,
        codes: &Codes,
        phone: &Phone,
        owner: Option<&str>,
        name: &str,
        code: &str,
        client: &Client,
    ) -> Result<Login, AccountsError> {
        // A number no account has is counted under its own name, as a bound one is under
        // its account: after failures both answer alike (docs/security.md M07).
        let keys = AttemptKeys {
            account_id: owner.unwrap_or(name).to_string(),
            client_ip: client.ip.clone(),
            initial: false,
        };
        if !self.reserve(&keys, client).await? {
            return Ok(Login::Throttled);
        }
        let checked = codes
            .check(
                Purpose::Login,
                name,
                &Recipient::Phone(phone.clone()),
                code,
                client,
            )
            .await?;
        let account = match (checked, owner) {
            (CodeCheck::Valid, Some(id)) => {
                let id = id.to_string();
                self.store.call(move |s| s.account(&id)).await?
            }
            _ => None,
        };
        let event = match &account {
            Some(_) => AuditEvent::LoginSucceeded {
                method: Method::SmsCode,
            },
            None => AuditEvent::LoginFailed {
                reason: LoginFailure::WrongCode,
            },
        };
        self.end_attempt(&keys, account.is_some(), event, client)
            .await?;
        Ok(match account {
            Some(account) => Login::Success {
                account: Box::new(account),
                weak: false,
            },
            None => Login::Invalid,
        })
    }

    /// The logged-in holder typing the password again before a change in the portal, under
    /// the same throttle as a login. `None`: throttled, nothing evaluated.
    pub async fn confirm_password(
        &self,
        account: &Account,
        password: &str,
        client: &Client,
    ) -> Result<Option<bool>, AccountsError> {
        let keys = AttemptKeys {
            account_id: account.id.clone(),
            client_ip: client.ip.clone(),
            initial: false,
        };
        if !self.reserve(&keys, client).await? {
            return Ok(None);
        }
        let known = Some(account.password_hash.clone());
        let right = super::check_length(password).is_ok()
            && self
                .hasher
                .verify(as_initial(Some(account), password), known)
                .await;
        let method = "password";
        let event = match right {
            true => AuditEvent::IdentityConfirmed { method },
            false => AuditEvent::IdentityNotConfirmed { method },
        };
        self.end_attempt(&keys, right, event, client).await?;
        Ok(Some(right))
    }

    /// A login proved elsewhere (a QR code confirmed on a phone, a WeCom or WeChat identity):
    /// audited and counted like the others.
    pub async fn record_login(
        &self,
        account_id: &str,
        method: Method,
        client: &Client,
    ) -> Result<(), AccountsError> {
        self.metrics.login(method.as_str(), "success");
        let (id, client, now) = (account_id.to_string(), client.clone(), self.clock.now());
        let event = AuditEvent::LoginSucceeded { method };
        self.store
            .call(move |s| s.audit(&client.record(event, Some(&id)), now))
            .await?;
        Ok(())
    }

    /// Reserves a place for an attempt, waiting briefly while others in progress use the
    /// budget; `false` (audited) when the attempt must not be evaluated.
    pub(super) async fn reserve(
        &self,
        keys: &AttemptKeys,
        client: &Client,
    ) -> Result<bool, AccountsError> {
        let limits = self.limits();
        for _ in 0..=BUSY_TRIES {
            let (k, now) = (keys.clone(), self.clock.now());
            match self
                .store
                .call(move |s| s.begin_attempt(&k, &limits, now))
                .await?
            {
                Throttle::Allowed => return Ok(true),
                Throttle::Busy => tokio::time::sleep(BUSY_WAIT).await,
                Throttle::Locked(_) => break,
            }
        }
        tracing::info!(account = %keys.account_id, ip = %client.ip, "login refused: throttled");
        self.metrics.login("any", "throttled");
        let (client, id, now) = (client.clone(), keys.account_id.clone(), self.clock.now());
        self.store
            .call(move |s| {
                let event = AuditEvent::LoginFailed {
                    reason: LoginFailure::Throttled,
                };
                s.audit(&client.record(event, Some(&id)), now)
            })
            .await?;
        Ok(false)
    }

    /// Ends a reserved attempt: counts it, and writes its audit row.
    pub(super) async fn end_attempt(
        &self,
        keys: &AttemptKeys,
        succeeded: bool,
        event: AuditEvent,
        client: &Client,
    ) -> Result<(), AccountsError> {
        match &event {
            AuditEvent::LoginSucceeded { method } => self.metrics.login(method.as_str(), "success"),
            AuditEvent::LoginFailed { reason } => {
                let method = match reason {
                    LoginFailure::WrongCode => Method::SmsCode,
                    _ => Method::Password,
                };
                self.metrics.login(method.as_str(), "failure");
            }
            _ => {}
        }
        let (k, client, limits, now) = (
            keys.clone(),
            client.clone(),
            self.limits(),
            self.clock.now(),
        );
        self.store
            .call(move |s| {
                let record = client.record(event, Some(&k.account_id));
                s.end_attempt(&k, &limits, succeeded, &record, now)
            })
            .await?;
        Ok(())
    }

    fn initial_expired(&self, account: &Account, now: i64) -> bool {
        let days = self.first_login.initial_password_days;
        days > 0 && now > account.password_changed_at + days * 86_400
    }

    /// The password is older than the policy's maximum age (0: no maximum).
    fn password_too_old(&self, account: &Account, now: i64) -> bool {
        let days = self.policy.max_age_days;
        days > 0 && now > account.password_changed_at + days * 86_400
    }
}
