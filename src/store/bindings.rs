//! Verified bindings of an account: a phone number proved with an SMS code (or vouched for
//! by an administrator), an e-mail address proved with a code, a WeCom or WeChat identity.
//! The value is sealed; its keyed hash is unique per kind, so one number binds one account.

use super::db::args;
use super::{audit, Result, Store};
use crate::model::AuditRecord;

/// What binding gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Bound {
    Bound,
    /// Another account has this value already.
    Taken,
}

impl Store {
    /// The value bound to an account for `kind`, unsealed.
    pub fn binding(&self, account_id: &str, kind: &str) -> Result<Option<String>> {
        let keys = self.keys();
        self.read(|conn| {
            conn.query_opt(
                "SELECT value FROM bindings WHERE account_id = ?1 AND kind = ?2",
                args![account_id, kind],
                |r| r.get::<String>(0),
            )
            .map(|v| v.and_then(|v| keys.open(&v)))
        })
    }

    /// Every binding of an account: (kind, value unsealed), by kind.
    pub fn bindings_of(&self, account_id: &str) -> Result<Vec<(String, String)>> {
        let keys = self.keys();
        self.read(|conn| {
            let rows = conn.query(
                "SELECT kind, value FROM bindings WHERE account_id = ?1 ORDER BY kind",
                args![account_id],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
            )?;
            Ok(rows
                .into_iter()
                .filter_map(|(kind, v)| Some((kind, keys.open(&v)?)))
                .collect())
        })
    }

    /// Removes the account's binding of `kind`, with the audit row; `false` if there was none.
    /// With `end_flows` (an administrator cutting off a lost phone or mailbox), flows under
    /// way and codes already sent end with it, as on a lock (`accounts::void_flows`): a
    /// recovery begun with that phone cannot be finished with it.
    pub fn unbind(
        &self,
        account_id: &str,
        kind: &str,
        record: &AuditRecord,
        end_flows: bool,
        now: i64,
    ) -> Result<bool> {
        self.write(|tx| {
            let gone = tx.execute(
                "DELETE FROM bindings WHERE account_id = ?1 AND kind = ?2",
                args![account_id, kind],
            )? > 0;
            if gone {
                audit::insert(tx, record, now)?;
                if end_flows {
                    super::accounts::void_flows(tx, account_id)?;
                }
            }
            Ok(gone)
        })
    }

    /// The account bound to `value` for `kind`, if any.
    pub fn account_by_binding(&self, kind: &str, value: &str) -> Result<Option<String>> {
        let hash = self.keys().lookup(kind, value);
        self.read(|conn| {
            conn.query_opt(
                "SELECT account_id FROM bindings WHERE kind = ?1 AND value_hash = ?2",
                args![kind, &hash],
                |r| r.get(0),
            )
        })
    }

    /// Binds `value` to the account for `kind` (replacing its earlier one), with the audit
    /// row, in one transaction; refused if another account has it.
    pub fn bind(
        &self,
        account_id: &str,
        kind: &str,
        value: &str,
        record: &AuditRecord,
        now: i64,
    ) -> Result<Bound> {
        let keys = self.keys();
        let hash = keys.lookup(kind, value);
        self.write(|tx| {
            let owner: Option<String> = tx.query_opt(
                "SELECT account_id FROM bindings WHERE kind = ?1 AND value_hash = ?2",
                args![kind, &hash],
                |r| r.get(0),
            )?;
            if owner.as_deref().is_some_and(|o| o != account_id) {
                return Ok(Bound::Taken);
            }
            tx.execute(
                "INSERT INTO bindings (account_id, kind, value, value_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (account_id, kind) DO UPDATE SET value = ?3, value_hash = ?4, created_at = ?5",
                args![account_id, kind, &keys.seal(value), &hash, now],
            )?;
            if kind == "phone" {
                tx.execute(
                    "UPDATE accounts SET must_bind_phone = 0 WHERE id = ?1",
                    args![account_id],
                )?;
            }
            audit::insert(tx, record, now)?;
            Ok(Bound::Bound)
        })
    }
}
