//! Password login with throttling. Every failure cause looks the same from outside: unknown
//! account, wrong password, locked or disabled account all cost one bcrypt verification and
//! return `Invalid`; the audit log records the real cause.

use super::{Accounts, AccountsError};
use crate::model::audit::{LoginFailure, Method};
use crate::model::{canonical_id, Account, AuditEvent, Client, Status};
use crate::store::{AttemptKeys, Throttle};
use std::time::Duration;

/// How long an attempt waits for others in progress on the same budget before it gives up.
const BUSY_WAIT: Duration = Duration::from_millis(100);
const BUSY_TRIES: u32 = 50;

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
/// and invented names.
fn keys(username: &str, client: &Client) -> (Option<String>, AttemptKeys) {
    let id = canonical_id(username);
    let keys = AttemptKeys {
        account_id: id.clone().unwrap_or_else(|| "-invalid-".into()),
        client_ip: client.ip.clone(),
    };
    (id, keys)
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
        let (_, keys) = keys(username, client);
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
    /// client's address and audited (security.md F04).
    pub async fn captcha_refused(
        &self,
        username: &str,
        client: &Client,
    ) -> Result<(), AccountsError> {
        let (_, keys) = keys(username, client);
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
        let (id, keys) = keys(username, client);
        let limits = self.limits();
        let mut tries = 0;
        loop {
            let (k, now) = (keys.clone(), self.clock.now());
            match self
                .store
                .call(move |s| s.begin_attempt(&k, &limits, now))
                .await?
            {
                Throttle::Allowed => break,
                Throttle::Busy if tries < BUSY_TRIES => {
                    tries += 1;
                    tokio::time::sleep(BUSY_WAIT).await;
                }
                Throttle::Busy | Throttle::Locked(_) => {
                    tracing::info!(account = ?id, ip = %client.ip, "login refused: throttled");
                    let (client, id) = (client.clone(), keys.account_id.clone());
                    self.store
                        .call(move |s| {
                            let event = AuditEvent::LoginFailed {
                                reason: LoginFailure::Throttled,
                            };
                            s.audit(&client.record(event, Some(&id)), now)
                        })
                        .await?;
                    return Ok(Login::Throttled);
                }
            }
        }

        let account = match id.clone() {
            Some(id) => self.store.call(move |s| s.account(&id)).await?,
            None => None,
        };
        let verified = self
            .hasher
            .verify(
                password.clone(),
                account.as_ref().map(|a| a.password_hash.clone()),
            )
            .await;
        let failure = match &account {
            None => Some(LoginFailure::UnknownAccount),
            Some(_) if !verified => Some(LoginFailure::WrongPassword),
            Some(a) if a.status == Status::Locked => Some(LoginFailure::AccountLocked),
            Some(a) if a.status == Status::Disabled => Some(LoginFailure::AccountDisabled),
            Some(_) => None,
        };
        let event = match failure {
            None => AuditEvent::LoginSucceeded {
                method: Method::Password,
            },
            Some(reason) => AuditEvent::LoginFailed { reason },
        };
        let now = self.clock.now();
        let (k, client_owned) = (keys.clone(), client.clone());
        self.store
            .call(move |s| {
                let record = client_owned.record(event, Some(&k.account_id));
                s.end_attempt(&k, &limits, failure.is_none(), &record, now)
            })
            .await?;
        match (account, failure) {
            (Some(account), None) => {
                let weak = self.policy.check(&account.id, &password).is_err();
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
}
