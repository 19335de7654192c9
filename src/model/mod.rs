//! The plain types of the domain: accounts, services and their patterns, audit events.
//! They carry the input rules every entry point shares (command line, roster import, admin
//! console) and know nothing of storage or HTTP, so `store/` can depend on them without
//! depending on the modules that use the store.

pub mod account;
pub mod audit;
pub mod factor;
pub mod pattern;
pub mod service;

pub use account::{
    canonical_id, valid_attribute_name, Account, Email, Kind, NewAccount, Phone, Source, Status,
};
pub use audit::{AuditEvent, AuditRecord, Client};
pub use factor::{Factor, Mfa, Proof};
pub use pattern::{Pattern, PatternError};
pub use service::{describe_rules, Effect, LogoutType, NewService, Release, Rule, Service};

/// Input a person typed that breaks a rule, with the rule in words. The command line prints
/// it as it is; pages show their own translated text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

pub(crate) fn input_error<T>(message: impl Into<String>) -> Result<T, InputError> {
    Err(InputError(message.into()))
}
