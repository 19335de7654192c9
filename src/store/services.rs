//! The service registry table.

use super::{Result, Store};
use crate::services::{LogoutType, NewService, Service};
use rusqlite::params;

impl Store {
    /// Registers a service; returns its id, or `None` if the pattern is already registered.
    pub fn insert_service(&self, s: &NewService, now: i64) -> Result<Option<i64>> {
        self.write(|tx| {
            let attributes = s.attributes.as_ref().map(|a| a.join(","));
            let aliases: Vec<String> = s
                .attribute_aliases
                .iter()
                .map(|(source, alias)| format!("{source}={alias}"))
                .collect();
            let n = tx.execute(
                "INSERT INTO services (name, pattern, enabled, attributes, attribute_aliases,
                     allow_proxy, proxy_callback, logout_type, logout_url, portal_title,
                     portal_description, created_at)
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT(pattern) DO NOTHING",
                params![
                    s.name,
                    s.pattern,
                    attributes,
                    aliases.join("\n"),
                    s.allow_proxy,
                    s.proxy_callback,
                    s.logout_type.as_str(),
                    s.logout_url,
                    s.portal_title,
                    s.portal_description,
                    now
                ],
            )?;
            Ok((n > 0).then(|| tx.last_insert_rowid()))
        })
    }

    /// Every registered service (enabled or not), in id order: earlier entries win matches.
    pub fn services(&self) -> Result<Vec<Service>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, enabled, name, pattern, attributes, attribute_aliases, allow_proxy,
                     proxy_callback, logout_type, logout_url, portal_title, portal_description
                 FROM services ORDER BY id",
            )?
            .query_map([], |r| {
                let attributes: Option<String> = r.get(4)?;
                let aliases: String = r.get(5)?;
                let logout_type: String = r.get(8)?;
                let settings = NewService {
                    name: r.get(2)?,
                    pattern: r.get(3)?,
                    attributes: attributes.map(|a| {
                        a.split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    }),
                    attribute_aliases: aliases
                        .lines()
                        .filter_map(|l| l.split_once('='))
                        .map(|(s, a)| (s.to_string(), a.to_string()))
                        .collect(),
                    allow_proxy: r.get(6)?,
                    proxy_callback: r.get(7)?,
                    logout_type: LogoutType::parse(&logout_type).unwrap_or_default(),
                    logout_url: r.get(9)?,
                    portal_title: r.get(10)?,
                    portal_description: r.get(11)?,
                };
                Ok(Service::new(r.get(0)?, r.get(1)?, settings))
            })?
            .collect()
        })
    }

    pub fn remove_service(&self, id: i64) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM services WHERE id = ?1", [id])? > 0))
    }
}
