//! The service registry table.

use super::{Result, Store};
use crate::services::{NewService, Service};
use rusqlite::params;

impl Store {
    /// Registers a service; returns its id, or `None` if the pattern is already registered.
    pub fn insert_service(&self, s: &NewService, now: i64) -> Result<Option<i64>> {
        self.write(|tx| {
            let attributes = s.attributes.as_ref().map(|a| a.join(","));
            let n = tx.execute(
                "INSERT INTO services (name, pattern, enabled, attributes, allow_proxy, logout_url,
                     portal_title, portal_description, created_at)
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(pattern) DO NOTHING",
                params![
                    s.name,
                    s.pattern,
                    attributes,
                    s.allow_proxy,
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
                "SELECT id, name, pattern, enabled, attributes, allow_proxy, logout_url, portal_title,
                     portal_description FROM services ORDER BY id",
            )?
            .query_map([], |r| {
                let attributes: Option<String> = r.get(4)?;
                Ok(Service::from_parts(
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    attributes.map(|a| a.split(',').filter(|s| !s.is_empty()).map(String::from).collect()),
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })?
            .collect()
        })
    }

    pub fn remove_service(&self, id: i64) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM services WHERE id = ?1", [id])? > 0))
    }
}
