//! An administrator's second factor (TOTP, or a code to the bound phone) under one budget of
//! failures per administrator, whatever the factor and the address (docs/security.md M03): a
//! handful of wrong ones lock it for the lock duration, with an audit row; guesses in
//! parallel are reserved like login attempts, so they cannot exceed the budget either.

use super::{Accounts, AccountsError};
use crate::model::{AuditEvent, Client};
use crate::store::Throttle;

/// What a second factor is asked for: it is audited as such.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// The admin console.
    Console,
    /// An application that requires one, or the account's "always ask".
    Application,
}

/// What a guess at a second factor may do.
#[derive(Debug, PartialEq, Eq)]
pub enum Guess {
    /// Evaluate it (a place is reserved until `end_second_factor`).
    Go,
    /// Locked, or too many guesses in progress: not evaluated.
    Refused,
}

impl Accounts {
    fn factor_key(account_id: &str) -> String {
        format!("factor:{account_id}")
    }

    /// Before checking an administrator's second factor.
    pub async fn begin_second_factor(&self, account_id: &str) -> Result<Guess, AccountsError> {
        let (key, limit, window) = (
            Self::factor_key(account_id),
            self.factor_failures,
            self.throttle.window,
        );
        for _ in 0..=super::login::BUSY_TRIES {
            let (k, now) = (key.clone(), self.clock.now());
            match self
                .store
                .call(move |s| s.begin_guess(&k, limit, window, now))
                .await?
            {
                Throttle::Allowed => return Ok(Guess::Go),
                Throttle::Busy => tokio::time::sleep(super::login::BUSY_WAIT).await,
                Throttle::Locked(_) => break,
            }
        }
        Ok(Guess::Refused)
    }

    /// After checking it (`right`, by `method`): counted and audited. `true` when this wrong
    /// one locked the second factor.
    pub async fn end_second_factor(
        &self,
        account_id: &str,
        method: &'static str,
        right: bool,
        asked: Asked,
        client: &Client,
    ) -> Result<bool, AccountsError> {
        let (key, id, limits, limit, client, now) = (
            Self::factor_key(account_id),
            account_id.to_string(),
            self.limits(),
            self.factor_failures,
            client.clone(),
            self.clock.now(),
        );
        let event = match (right, asked) {
            (true, Asked::Console) => AuditEvent::AdminEntered { method },
            (false, Asked::Console) => AuditEvent::IdentityNotConfirmed {
                method: "admin second factor",
            },
            (true, Asked::Application) => AuditEvent::SecondFactorPassed { method },
            (false, Asked::Application) => AuditEvent::SecondFactorFailed { method },
        };
        let locked = self
            .store
            .call(move |s| {
                let record = client.record(event, Some(&id));
                let failures = limit;
                let alarm = client.record(AuditEvent::SecondFactorLocked { failures }, Some(&id));
                s.end_guess(&key, &limits, limit, right, &record, &alarm, now)
            })
            .await?;
        Ok(locked)
    }
}
