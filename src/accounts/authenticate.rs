//! Password authentication with throttling. Every failure cause looks the same from outside:
//! unknown account, wrong password, locked or disabled account all cost one bcrypt
//! verification and return `Invalid`.

use super::{canonical_id, Account, PasswordHasher, Status};
use crate::clock::Clock;
use crate::config::ThrottleConfig;
use crate::store::{AuditEvent, Store, StoreError, ThrottleState};
use std::net::IpAddr;

#[derive(Debug)]
pub enum Outcome {
    Success(Box<Account>),
    Invalid,
    /// Too many recent failures for this account name or client address.
    Throttled,
}

#[derive(Clone)]
pub struct Authenticator {
    pub store: Store,
    pub hasher: PasswordHasher,
    pub clock: Clock,
    pub throttle: ThrottleConfig,
}

/// The throttling key of an account name, whether or not the account exists, so lock-outs
/// and captcha demands look the same for real and invented names.
fn account_key(id: Option<&str>) -> String {
    format!("account:{}", id.unwrap_or("-invalid-"))
}

impl Authenticator {
    /// Whether a login for `username` must solve a captcha first: the account name has
    /// collected `captcha_after` failures in the window (or is locked). Read from the same
    /// counters that lock it, so every client sees one consistent state.
    pub async fn needs_captcha(&self, username: &str) -> bool {
        let t = &self.throttle;
        if t.captcha_after == 0 {
            return false;
        }
        let key = account_key(canonical_id(username).as_deref());
        let (now, window, after) = (self.clock.now(), t.window, t.captcha_after);
        match self
            .store
            .call(move |s| {
                let (failures, locked) = s.failures(&key, now, window)?;
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

    pub async fn password_login(
        &self,
        username: &str,
        password: String,
        ip: IpAddr,
    ) -> Result<Outcome, StoreError> {
        let id = canonical_id(username);
        let ip_text = ip.to_string();
        let account_key = account_key(id.as_deref());
        let address_key = format!("address:{ip_text}");
        let now = self.clock.now();
        let t = self.throttle.clone();
        let (account, address) = (account_key.clone(), address_key.clone());
        let state = self
            .store
            .call(move |s| {
                s.begin_attempt(
                    (&account, t.account_failures),
                    &address,
                    now,
                    t.window,
                    t.lock_duration,
                )
            })
            .await?;
        if let ThrottleState::Locked(until) = state {
            tracing::warn!(account = ?id, %ip, locked_for = until - now, "login refused: throttled");
            return Ok(Outcome::Throttled);
        }

        let account = match id.clone() {
            Some(id) => self.store.call(move |s| s.account(&id)).await?,
            None => None,
        };
        let verified = self
            .hasher
            .verify(password, account.as_ref().map(|a| a.password_hash.clone()))
            .await;
        let account = account.filter(|a| verified && a.status == Status::Active);

        let now = self.clock.now();
        match account {
            Some(account) => {
                let id = account.id.clone();
                self.store
                    .call(move |s| {
                        let event = AuditEvent {
                            event: "login_success",
                            account_id: Some(&id),
                            client_ip: &ip_text,
                            detail: "password",
                        };
                        s.record_login_success(&account_key, &event, now)
                    })
                    .await?;
                Ok(Outcome::Success(Box::new(account)))
            }
            None => {
                tracing::info!(account = ?id, %ip, "login failed");
                let t = self.throttle.clone();
                self.store
                    .call(move |s| {
                        let event = AuditEvent {
                            event: "login_failure",
                            account_id: id.as_deref(),
                            client_ip: &ip_text,
                            detail: "",
                        };
                        s.record_failure(
                            (&address_key, t.address_failures),
                            &event,
                            now,
                            t.window,
                            t.lock_duration,
                        )
                    })
                    .await?;
                Ok(Outcome::Invalid)
            }
        }
    }
}
