//! Accounts as people use them: logging in with a password or a code (throttled, with every
//! failure looking the same from outside), changing a password under the school's policy,
//! and security questions. The plain types live in `model`; nothing here knows about HTTP.

pub mod admin;
mod change;
pub mod console;
mod factors;
mod login;
mod password;
mod policy;
mod questions;
mod records;
mod second_factor;

pub use change::PasswordChange;
pub use factors::{Factors, Removable, RECOVERY_CODES};
pub use login::Login;
pub use password::{
    check_length, hash_now, temporary_password, HashingFailed, PasswordError, PasswordHasher,
    MAX_PASSWORD_BYTES,
};
pub use policy::{Policy, PolicyError};
pub use questions::{normalize_answer, question_text, QuestionsError, QUESTIONS};
pub use records::SelfService;
pub use second_factor::{Asked, Guess};

use crate::clock::Clock;
use crate::config::{FirstLoginConfig, ThrottleConfig};
use crate::sessions::Sessions;
use crate::store::{Store, StoreError, ThrottleLimits};
use std::sync::Arc;

/// What can go wrong inside: the store or the hashing threads. Never the user's fault; a page
/// shows the generic error, a protocol answer `INTERNAL_ERROR`.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hashing(#[from] HashingFailed),
    /// The account changed (locked, reset, its sessions ended) while this change was under
    /// way: the change is not made, and the flow that asked for it is over.
    #[error("the account changed meanwhile")]
    Changed,
}

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    hasher: PasswordHasher,
    clock: Clock,
    sessions: Sessions,
    throttle: ThrottleConfig,
    first_login: FirstLoginConfig,
    policy: Arc<Policy>,
    metrics: Arc<crate::metrics::Metrics>,
    /// Wrong second factors that lock an account's second factor.
    factor_failures: i64,
    /// Authenticator time steps already used, per account.
    totp_steps: Arc<crate::ephemeral::Ephemeral<i64>>,
}

impl Accounts {
    pub fn new(
        store: Store,
        hasher: PasswordHasher,
        clock: Clock,
        sessions: Sessions,
        config: &crate::config::Config,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Accounts {
        Accounts {
            totp_steps: Arc::new(crate::ephemeral::Ephemeral::new(
                &store,
                "totp_step",
                50_000,
            )),
            store,
            hasher,
            clock,
            sessions,
            throttle: config.throttle.clone(),
            first_login: config.first_login.clone(),
            policy: Arc::new(Policy::new(&config.passwords)),
            metrics,
            factor_failures: config.admin.factor_failures,
        }
    }

    /// The password policy, for the rules shown beside the field.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn limits(&self) -> ThrottleLimits {
        let t = &self.throttle;
        ThrottleLimits {
            pair: t.account_failures,
            account: t.account_failures_global,
            account_addresses: t.global_lock_addresses,
            address: t.address_failures,
            window: t.window,
            lock: t.lock_duration,
            initial: self.first_login.initial_password_failures,
        }
    }
}
