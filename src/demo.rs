//! `serve --demo`: a demo account and the built-in demo application, created only when asked
//! for and never with administrator rights.

use crate::accounts::{hash_password, Kind};
use crate::config::Config;
use crate::services::NewService;
use crate::store::{NewAccount, Store};

pub const ACCOUNT: &str = "demo";
pub const PASSWORD: &str = "Demo-2026";

/// Creates the demo account and registers the demo application, unless already there.
pub fn install(store: &Store, config: &Config, now: i64) -> Result<(), String> {
    if store.account(ACCOUNT).map_err(|e| e.to_string())?.is_none() {
        let hash =
            hash_password(PASSWORD, config.passwords.bcrypt_cost).map_err(|e| e.to_string())?;
        let account = NewAccount {
            id: ACCOUNT.into(),
            name: "演示用户".into(),
            kind: Kind::Student,
            department: "信息化管理中心".into(),
            email: "demo@example.edu.cn".into(),
            phone: String::new(),
            password_hash: hash,
            must_change: false,
            attributes: vec![
                ("memberOf".into(), "students".into()),
                ("memberOf".into(), "library".into()),
            ],
        };
        store
            .insert_account(&account, now)
            .map_err(|e| e.to_string())?;
    }
    let service = NewService {
        name: "Demo application".into(),
        pattern: format!("{}*", crate::routes::demo_service_url(config)),
        portal_title: Some("演示应用".into()),
        ..NewService::default()
    };
    store
        .insert_service(&service, now)
        .map_err(|e| e.to_string())?;
    Ok(())
}
