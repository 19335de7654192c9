//! `serve --demo`: a demo account and the built-in demo application, created only when asked
//! for, never with administrator rights, and never outliving demo mode: `serve` without
//! `--demo` disables them, and `--demo` refuses a database that holds real accounts.

use crate::accounts::{hash_now, HashingFailed};
use crate::config::Config;
use crate::model::{InputError, Kind, NewAccount, NewService, Release, Source};
use crate::store::{Store, StoreError};

pub const ACCOUNT: &str = "demo";
pub const PASSWORD: &str = "Lotus-Bridge-2026";

/// Why demo mode cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "--demo refused: this database holds real accounts, and the demo account's password \
         is public; use a separate database for the demo"
    )]
    RealAccounts,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Hashing(#[from] HashingFailed),
}

/// Creates the demo account and registers the demo application, unless already there, and
/// makes them usable.
pub fn install(store: &Store, config: &Config, now: i64) -> Result<(), DemoError> {
    if store.has_real_accounts()? {
        return Err(DemoError::RealAccounts);
    }
    if store.account(ACCOUNT)?.is_none() {
        let mut account = NewAccount::new(
            ACCOUNT,
            "演示用户",
            Kind::Student,
            "信息化管理中心",
            "demo@example.edu.cn",
            "",
            &["memberOf=students".into(), "memberOf=library".into()],
        )?;
        account.source = Source::Demo;
        account.password_hash = hash_now(PASSWORD, config.passwords.bcrypt_cost)?;
        store.insert_account(&account, now)?;
    }
    let service = NewService {
        name: "Demo application".into(),
        pattern: format!("{}*", service_url(config)),
        // The demo shows what a service can receive.
        release: Release::All,
        portal_title: Some("演示应用".into()),
        portal_url: Some(service_url(config)),
        demo: true,
        ..NewService::default()
    };
    store.insert_service(&service, now)?;
    Ok(store.enable_demo(now)?)
}

/// The path the demo lives at and the service URL registered for it.
pub fn service_url(config: &crate::config::Config) -> String {
    let origin = config
        .public_url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    format!("{origin}/demo/")
}
