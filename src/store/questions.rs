//! Security questions (密保问题): up to three per account, each a question key and the
//! bcrypt hash of the normalised answer (see `accounts::questions`).

use super::db::args;
use super::{audit, Result, Store};
use crate::model::AuditRecord;

impl Store {
    /// The account's questions and answer hashes, by slot.
    pub fn questions(&self, account_id: &str) -> Result<Vec<(String, String)>> {
        self.read(|conn| {
            conn.query(
                "SELECT question, answer_hash FROM security_questions WHERE account_id = ?1
                 ORDER BY slot",
                args![account_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    /// Replaces the account's questions with `set` (question, answer hash), with the audit
    /// row, in one transaction.
    pub fn set_questions(
        &self,
        account_id: &str,
        set: &[(String, String)],
        record: &AuditRecord,
        now: i64,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM security_questions WHERE account_id = ?1",
                args![account_id],
            )?;
            for (slot, (question, hash)) in set.iter().enumerate() {
                tx.execute(
                    "INSERT INTO security_questions (account_id, slot, question, answer_hash, set_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    args![account_id, slot as i64 + 1, question, hash, now],
                )?;
            }
            audit::insert(tx, record, now)
        })
    }
}
