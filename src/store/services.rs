//! The service registry table.

use super::db::{args, Row};
use super::{Result, Store};
use crate::model::{LogoutType, Mfa, NewService, Release, Rule, Service};

const COLUMNS: &str = "id, enabled, name, pattern, release_all, attributes, attribute_aliases, \
     allow_proxy, proxy_callback, logout_type, logout_url, allow_any_host, portal_title, \
     portal_description, demo, access_rules, portal_url, mfa";

fn from_row(r: &Row) -> Result<Service> {
    let attributes: Option<String> = r.get(5)?;
    let aliases: String = r.get(6)?;
    let logout_type: String = r.get(9)?;
    let names = || {
        attributes
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let settings = NewService {
        name: r.get(2)?,
        pattern: r.get(3)?,
        release: if r.get(4)? {
            Release::All
        } else {
            Release::Only(names())
        },
        attribute_aliases: aliases
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(s, a)| (s.to_string(), a.to_string()))
            .collect(),
        allow_proxy: r.get(7)?,
        proxy_callback: r.get(8)?,
        logout_type: LogoutType::parse(&logout_type).unwrap_or_default(),
        logout_url: r.get(10)?,
        allow_any_host: r.get(11)?,
        portal_title: r.get(12)?,
        portal_description: r.get(13)?,
        demo: r.get(14)?,
        rules: r
            .get::<String>(15)?
            .lines()
            .filter_map(Rule::from_stored)
            .collect(),
        portal_url: Some(r.get::<String>(16)?).filter(|u| !u.is_empty()),
        // Unknown (a hand-edited row) asks for the second factor rather than skip it.
        mfa: Mfa::parse(&r.get::<String>(17)?).unwrap_or(Mfa::Required),
    };
    Ok(Service::new(r.get(0)?, r.get(1)?, settings))
}

/// What `update_service` did.
#[derive(Debug, PartialEq, Eq)]
pub enum ServiceUpdate {
    Updated,
    NoSuchService,
    /// Another service already has the pattern.
    PatternTaken,
}

fn rules_column(s: &NewService) -> String {
    s.rules
        .iter()
        .map(Rule::stored)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The column values of a service's release settings.
fn release_columns(s: &NewService) -> (bool, String, String) {
    let (all, names) = match &s.release {
        Release::All => (true, String::new()),
        Release::Only(names) => (false, names.join(",")),
    };
    let aliases: Vec<String> = s
        .attribute_aliases
        .iter()
        .map(|(source, alias)| format!("{source}={alias}"))
        .collect();
    (all, names, aliases.join("\n"))
}

impl Store {
    /// Registers a service; returns its id, or `None` if the pattern is already registered.
    pub fn insert_service(&self, s: &NewService, now: i64) -> Result<Option<i64>> {
        let (release_all, attributes, aliases) = release_columns(s);
        self.write(|tx| {
            tx.query_opt(
                "INSERT INTO services (name, pattern, enabled, release_all, attributes,
                     attribute_aliases, allow_proxy, proxy_callback, logout_type, logout_url,
                     allow_any_host, portal_title, portal_description, demo, created_at,
                     access_rules, portal_url, mfa)
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17)
                 ON CONFLICT(pattern) DO NOTHING RETURNING id",
                args![
                    &s.name,
                    &s.pattern,
                    release_all,
                    &attributes,
                    &aliases,
                    s.allow_proxy,
                    s.proxy_callback.as_deref(),
                    s.logout_type.as_str(),
                    s.logout_url.as_deref(),
                    s.allow_any_host,
                    s.portal_title.as_deref(),
                    s.portal_description.as_deref(),
                    s.demo,
                    now,
                    &rules_column(s),
                    s.portal_url.as_deref().unwrap_or(""),
                    s.mfa.as_str()
                ],
                |r| r.get(0),
            )
        })
    }

    /// Replaces a service's settings.
    pub fn update_service(&self, id: i64, s: &NewService) -> Result<ServiceUpdate> {
        let (release_all, attributes, aliases) = release_columns(s);
        self.write(|tx| {
            let taken = tx.exists(
                "SELECT 1 FROM services WHERE pattern = ?1 AND id != ?2",
                args![&s.pattern, id],
            )?;
            if taken {
                return Ok(ServiceUpdate::PatternTaken);
            }
            let n = tx.execute(
                "UPDATE services SET name = ?2, pattern = ?3, release_all = ?4, attributes = ?5,
                     attribute_aliases = ?6, allow_proxy = ?7, proxy_callback = ?8,
                     logout_type = ?9, logout_url = ?10, allow_any_host = ?11,
                     portal_title = ?12, portal_description = ?13, access_rules = ?14,
                     portal_url = ?15, mfa = ?16
                 WHERE id = ?1",
                args![
                    id,
                    &s.name,
                    &s.pattern,
                    release_all,
                    &attributes,
                    &aliases,
                    s.allow_proxy,
                    s.proxy_callback.as_deref(),
                    s.logout_type.as_str(),
                    s.logout_url.as_deref(),
                    s.allow_any_host,
                    s.portal_title.as_deref(),
                    s.portal_description.as_deref(),
                    &rules_column(s),
                    s.portal_url.as_deref().unwrap_or(""),
                    s.mfa.as_str()
                ],
            )?;
            Ok(match n {
                0 => ServiceUpdate::NoSuchService,
                _ => ServiceUpdate::Updated,
            })
        })
    }

    /// Every registered service (enabled or not), in id order: earlier entries win matches.
    pub fn services(&self) -> Result<Vec<Service>> {
        self.read(|conn| {
            conn.query(
                &format!("SELECT {COLUMNS} FROM services ORDER BY id"),
                args![],
                from_row,
            )
        })
    }

    /// One service by id.
    pub fn service(&self, id: i64) -> Result<Option<Service>> {
        self.read(|conn| {
            conn.query_opt(
                &format!("SELECT {COLUMNS} FROM services WHERE id = ?1"),
                args![id],
                from_row,
            )
        })
    }

    pub fn remove_service(&self, id: i64) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM services WHERE id = ?1", args![id])? > 0))
    }

    /// Takes a service out of the registry, or puts it back, without touching its settings.
    pub fn set_service_enabled(&self, id: i64, enabled: bool) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE services SET enabled = ?2 WHERE id = ?1",
                args![id, enabled],
            )? > 0)
        })
    }
}
