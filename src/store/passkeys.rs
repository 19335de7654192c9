//! An account's passkeys and security keys (WebAuthn credentials): the credential id
//! (base64url, unique across accounts), the name its holder gave it, the library's stored
//! credential (JSON, sealed: it holds the public key and the signature counter) and when it
//! was added and last used. Adding and removing write their audit row in the same
//! transaction.

use super::db::args;
use super::{audit, Result, Store};
use crate::model::{AuditEvent, AuditRecord, Client};

/// One stored passkey, opened.
#[derive(Clone, Debug)]
pub struct PasskeyRow {
    pub credential_id: String,
    pub name: String,
    /// The library's credential as JSON (unsealed).
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A verified passkey to store: whose, its credential id (base64url), its name, and the
/// library's credential as JSON.
#[derive(Clone, Copy)]
pub struct NewPasskey<'a> {
    pub account_id: &'a str,
    pub credential_id: &'a str,
    pub name: &'a str,
    pub passkey: &'a str,
}

impl Store {
    /// The account's passkeys, oldest first. One whose seal does not open (another key
    /// file) is left out: it could not be verified anyway.
    pub fn passkeys_of(&self, account_id: &str) -> Result<Vec<PasskeyRow>> {
        let keys = self.keys();
        self.read(|conn| {
            let rows = conn.query(
                "SELECT credential_id, name, passkey, created_at, last_used_at FROM passkeys
                 WHERE account_id = ?1 ORDER BY created_at, credential_id",
                args![account_id],
                |r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<String>(1)?,
                        r.get::<String>(2)?,
                        r.get::<i64>(3)?,
                        r.get::<Option<i64>>(4)?,
                    ))
                },
            )?;
            Ok(rows
                .into_iter()
                .filter_map(|(credential_id, name, sealed, created_at, last_used_at)| {
                    Some(PasskeyRow {
                        credential_id,
                        name,
                        passkey: keys.open(&sealed)?,
                        created_at,
                        last_used_at,
                    })
                })
                .collect())
        })
    }

    /// Stores a new passkey for the account with its audit row; `Some(false)` (nothing
    /// written) if the credential id is registered already, to this account or another;
    /// `None` if it was to be the account's first second factor (`only_first`) and the
    /// account holds one by now.
    pub fn add_passkey(
        &self,
        new: &NewPasskey,
        record: &AuditRecord,
        only_first: bool,
        now: i64,
    ) -> Result<Option<bool>> {
        let NewPasskey {
            account_id,
            credential_id,
            name,
            passkey,
        } = *new;
        let sealed = self.keys().seal(passkey);
        self.write(|tx| {
            // As the account's first second factor: only if it still holds none.
            if only_first && super::factors::holds_a_factor(tx, account_id)? {
                return Ok(None);
            }
            let added = tx.execute(
                "INSERT INTO passkeys (credential_id, account_id, name, passkey, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (credential_id) DO NOTHING",
                args![credential_id, account_id, name, &sealed, now],
            )? > 0;
            if added {
                audit::insert(tx, record, now)?;
            }
            Ok(Some(added))
        })
    }

    /// After a verified assertion: the credential as updated (its counter) and when it was
    /// used; `false` if the account no longer has it.
    pub fn passkey_used(
        &self,
        account_id: &str,
        credential_id: &str,
        passkey: &str,
        now: i64,
    ) -> Result<bool> {
        let sealed = self.keys().seal(passkey);
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE passkeys SET passkey = ?3, last_used_at = ?4
                 WHERE account_id = ?1 AND credential_id = ?2",
                args![account_id, credential_id, &sealed, now],
            )? > 0)
        })
    }

    /// Removes one of the account's passkeys, audited as `by`'s; `None` if the account has
    /// no such passkey (another account's credential id changes nothing), else its name.
    pub fn remove_passkey(
        &self,
        account_id: &str,
        credential_id: &str,
        by: &Client,
        now: i64,
    ) -> Result<Option<String>> {
        self.write(|tx| {
            let name: Option<String> = tx.query_opt(
                "DELETE FROM passkeys WHERE account_id = ?1 AND credential_id = ?2 RETURNING name",
                args![account_id, credential_id],
                |r| r.get(0),
            )?;
            if let Some(name) = &name {
                let event = AuditEvent::PasskeyRemoved { name: name.clone() };
                audit::insert(tx, &by.record(event, Some(account_id)), now)?;
            }
            Ok(name)
        })
    }

    /// Removes every passkey of the account (an administrator's doing), with the audit row
    /// if there were any; how many there were.
    pub fn remove_passkeys(
        &self,
        account_id: &str,
        record: &AuditRecord,
        now: i64,
    ) -> Result<usize> {
        self.write(|tx| {
            let gone = tx.execute(
                "DELETE FROM passkeys WHERE account_id = ?1",
                args![account_id],
            )?;
            if gone > 0 {
                audit::insert(tx, record, now)?;
            }
            Ok(gone)
        })
    }
}
