//! Second factors beyond bindings: recovery codes (keyed hashes, each spent once), how many
//! passkeys an account has, and the account's "always ask".

use super::db::{args, Db};
use super::{audit, Result, Store};
use crate::model::AuditRecord;

/// What an account holds besides its bindings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeldFactors {
    pub passkeys: i64,
    /// Recovery codes not yet used.
    pub recovery_left: i64,
    /// Recovery codes ever issued in the current set (0: none made).
    pub recovery_made: i64,
}

/// Whether the account holds any second factor: an authenticator, a bound phone, a passkey
/// or a recovery code. Inside the caller's transaction, so a first enrolment checks and
/// writes at once.
pub(super) fn holds_a_factor(tx: &Db, account_id: &str) -> Result<bool> {
    tx.exists(
        "SELECT 1 FROM bindings WHERE account_id = ?1 AND kind IN ('totp', 'phone')
         UNION ALL SELECT 1 FROM passkeys WHERE account_id = ?1
         UNION ALL SELECT 1 FROM recovery_codes WHERE account_id = ?1",
        args![account_id],
    )
}

impl Store {
    pub fn held_factors(&self, account_id: &str) -> Result<HeldFactors> {
        self.read(|conn| {
            conn.query_one(
                "SELECT (SELECT count(*) FROM passkeys WHERE account_id = ?1),
                        (SELECT count(*) FROM recovery_codes WHERE account_id = ?1 AND used_at IS NULL),
                        (SELECT count(*) FROM recovery_codes WHERE account_id = ?1)",
                args![account_id],
                |r| {
                    Ok(HeldFactors {
                        passkeys: r.get(0)?,
                        recovery_left: r.get(1)?,
                        recovery_made: r.get(2)?,
                    })
                },
            )
        })
    }

    /// Replaces the account's recovery codes by these (already hashed), with the audit row.
    pub fn replace_recovery_codes(
        &self,
        account_id: &str,
        hashes: &[String],
        record: &AuditRecord,
        now: i64,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM recovery_codes WHERE account_id = ?1",
                args![account_id],
            )?;
            for hash in hashes {
                tx.execute(
                    "INSERT INTO recovery_codes (account_id, code_hash, created_at)
                     VALUES (?1, ?2, ?3)",
                    args![account_id, hash, now],
                )?;
            }
            audit::insert(tx, record, now)
        })
    }

    /// Spends the recovery code with this hash; `false` if it is not the account's or was
    /// used. One statement: of two concurrent uses exactly one succeeds.
    pub fn spend_recovery_code(&self, account_id: &str, hash: &str, now: i64) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE recovery_codes SET used_at = ?3
                 WHERE account_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
                args![account_id, hash, now],
            )? == 1)
        })
    }

    /// Removes every recovery code of the account, with the audit row; `false` if it had none.
    pub fn remove_recovery_codes(
        &self,
        account_id: &str,
        record: &AuditRecord,
        now: i64,
    ) -> Result<bool> {
        self.write(|tx| {
            let gone = tx.execute(
                "DELETE FROM recovery_codes WHERE account_id = ?1",
                args![account_id],
            )? > 0;
            if gone {
                audit::insert(tx, record, now)?;
            }
            Ok(gone)
        })
    }

    /// Binds an authenticator to an account that holds no second factor at all (no
    /// authenticator, phone, passkey or recovery code), checked in the same transaction: of
    /// two first enrolments at once exactly one is made. `false`: the account has one now.
    pub fn enrol_first_totp(
        &self,
        account_id: &str,
        secret: &str,
        record: &AuditRecord,
        now: i64,
    ) -> Result<bool> {
        let keys = self.keys();
        let hash = keys.lookup("totp", secret);
        self.write(|tx| {
            if holds_a_factor(tx, account_id)? {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO bindings (account_id, kind, value, value_hash, created_at)
                 VALUES (?1, 'totp', ?2, ?3, ?4)",
                args![account_id, &keys.seal(secret), &hash, now],
            )?;
            audit::insert(tx, record, now)?;
            Ok(true)
        })
    }

    /// The account's "always ask for my second factor".
    pub fn set_mfa_always(&self, account_id: &str, on: bool, now: i64) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE accounts SET mfa_always = ?2, updated_at = ?3 WHERE id = ?1",
                args![account_id, on, now],
            )? > 0)
        })
    }
}
