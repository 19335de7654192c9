//! Accounts and their extra attributes. E-mail and phone are sealed with the key file.

use super::db::{args, Db, Row};
use super::{audit, Result, Store, StoreError};
use crate::model::{Account, AuditEvent, AuditRecord, Kind, NewAccount, Source, Status};
use crate::secrets::Keys;

const COLUMNS: &str = "id, name, kind, department, email, phone, status, source, password_hash, \
                       must_change, password_changed_at, created_at, updated_at, initial_password, \
                       must_bind_phone, generation, mfa_always";

fn from_row(keys: &Keys, row: &Row) -> Result<Account> {
    let text = |i: usize| row.get::<String>(i);
    let bad = |what: &str| StoreError::Corrupt(format!("account {what}"));
    Ok(Account {
        id: text(0)?,
        name: text(1)?,
        kind: Kind::parse(&text(2)?).ok_or_else(|| bad("kind"))?,
        department: text(3)?,
        email: keys.open(&text(4)?).ok_or_else(|| bad("e-mail seal"))?,
        phone: keys.open(&text(5)?).ok_or_else(|| bad("phone seal"))?,
        status: Status::parse(&text(6)?).ok_or_else(|| bad("status"))?,
        source: Source::parse(&text(7)?).ok_or_else(|| bad("source"))?,
        password_hash: text(8)?,
        must_change: row.get(9)?,
        password_changed_at: row.get(10)?,
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
        initial_password: row.get(13)?,
        must_bind_phone: row.get(14)?,
        generation: row.get(15)?,
        mfa_always: row.get(16)?,
        bound_phone: None,
        bound_email: None,
        attributes: Vec::new(),
    })
}

fn load_attributes(conn: &Db, account: &mut Account) -> Result<()> {
    account.attributes = conn.query(
        "SELECT name, value FROM account_attributes WHERE account_id = ?1 ORDER BY position",
        args![&account.id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(())
}

/// What the console's account list and `unicas user list` filter by; an empty field or
/// `false` filters nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Contained in the id, the name or the department, letters in either case.
    pub text: String,
    /// The account exactly (a phone number searched for: the account it is bound to).
    pub id: String,
    /// The department exactly.
    pub department: String,
    pub kind: Option<Kind>,
    pub status: Option<Status>,
    /// No phone bound (a roster's contact phone is not a binding).
    pub no_phone: bool,
    /// Still on the roster's initial password.
    pub initial_password: bool,
    /// No login ever recorded (`last_logins`).
    pub never_logged_in: bool,
}

/// An account as the list shows it: its details (with `bound_phone`) and its last login.
#[derive(Clone, Debug)]
pub struct ListedAccount {
    pub account: Account,
    pub last_login: Option<i64>,
}

/// How many active accounts have not finished: no phone bound, still on the initial
/// password, never logged in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unfinished {
    pub no_phone: i64,
    pub initial_password: i64,
    pub never_logged_in: i64,
}

/// The filter's conditions: one statement for every combination (each test is on or off by
/// its own argument), the same on SQLite and PostgreSQL.
const FILTERED: &str = "FROM accounts a
     WHERE (?1 = '' OR lower(a.id) LIKE ?1 ESCAPE '\\' OR lower(a.name) LIKE ?1 ESCAPE '\\'
            OR lower(a.department) LIKE ?1 ESCAPE '\\')
       AND (?2 = '' OR a.department = ?2)
       AND (?3 = '' OR a.kind = ?3)
       AND (?4 = '' OR a.status = ?4)
       AND (?5 = 0 OR NOT EXISTS (SELECT 1 FROM bindings b
                                  WHERE b.account_id = a.id AND b.kind = 'phone'))
       AND (?6 = 0 OR a.initial_password = 1)
       AND (?7 = 0 OR NOT EXISTS (SELECT 1 FROM last_logins l WHERE l.account_id = a.id))
       AND (?8 = '' OR a.id = ?8)";

/// `%text%` for LIKE, lower-cased (SQLite's LIKE ignores ASCII case, PostgreSQL's does not:
/// both compare `lower(…)`), with `%`, `_` and `\` taken literally; empty for no text.
fn like_pattern(text: &str) -> String {
    match text.trim() {
        "" => String::new(),
        t => format!(
            "%{}%",
            t.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        ),
    }
}

impl Store {
    /// Inserts a new account with its attributes; `false` if the id is taken.
    pub fn insert_account(&self, new: &NewAccount, now: i64) -> Result<bool> {
        let keys = self.keys();
        self.write(|tx| insert(tx, keys, new, now))
    }

    /// The account with this canonical id, with its attributes.
    pub fn account(&self, id: &str) -> Result<Option<Account>> {
        let keys = self.keys();
        self.read(|conn| {
            let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1");
            let Some(mut account) = conn.query_opt(&sql, args![id], |r| from_row(keys, r))? else {
                return Ok(None);
            };
            load_attributes(conn, &mut account)?;
            let bound = |kind: &str| -> Result<Option<String>> {
                Ok(conn
                    .query_opt(
                        "SELECT value FROM bindings WHERE account_id = ?1 AND kind = ?2",
                        args![&account.id, kind],
                        |r| r.get::<String>(0),
                    )?
                    .and_then(|v| keys.open(&v)))
            };
            account.bound_phone = bound("phone")?;
            account.bound_email = bound("email")?;
            Ok(Some(account))
        })
    }

    /// The accounts the filter keeps, by id: `limit` of them after `offset`, and how many
    /// there are in all.
    pub fn list_accounts(
        &self,
        f: &AccountFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ListedAccount>, i64)> {
        let keys = self.keys();
        let pattern = like_pattern(&f.text);
        let kind = f.kind.map_or("", Kind::as_str);
        let status = f.status.map_or("", Status::as_str);
        self.read(|conn| {
            let args = args![
                &pattern,
                &f.department,
                kind,
                status,
                f.no_phone,
                f.initial_password,
                f.never_logged_in,
                &f.id
            ];
            let total = conn.query_one(&format!("SELECT count(*) {FILTERED}"), args, |r| {
                r.get::<i64>(0)
            })?;
            let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("a.{}", c.trim())).collect();
            let sql = format!(
                "SELECT {},
                        (SELECT value FROM bindings b WHERE b.account_id = a.id AND b.kind = 'phone'),
                        (SELECT at FROM last_logins l WHERE l.account_id = a.id)
                 {FILTERED} ORDER BY a.id LIMIT ?9 OFFSET ?10",
                columns.join(", ")
            );
            let args = args![
                &pattern,
                &f.department,
                kind,
                status,
                f.no_phone,
                f.initial_password,
                f.never_logged_in,
                &f.id,
                limit,
                offset
            ];
            let rows = conn.query(&sql, args, |r| {
                let mut account = from_row(keys, r)?;
                account.bound_phone = r
                    .get::<Option<String>>(17)?
                    .and_then(|v| keys.open(&v));
                Ok(ListedAccount {
                    account,
                    last_login: r.get(18)?,
                })
            })?;
            Ok((rows, total))
        })
    }

    /// How many active accounts have not finished (the console's overview).
    pub fn unfinished_counts(&self) -> Result<Unfinished> {
        self.read(|conn| {
            conn.query_one(
                "SELECT
                   coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM bindings b
                        WHERE b.account_id = a.id AND b.kind = 'phone') THEN 1 ELSE 0 END), 0),
                   coalesce(sum(CASE WHEN a.initial_password = 1 THEN 1 ELSE 0 END), 0),
                   coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM last_logins l
                        WHERE l.account_id = a.id) THEN 1 ELSE 0 END), 0)
                 FROM accounts a WHERE a.status = 'active'",
                args![],
                |r| {
                    Ok(Unfinished {
                        no_phone: r.get(0)?,
                        initial_password: r.get(1)?,
                        never_logged_in: r.get(2)?,
                    })
                },
            )
        })
    }

    /// How many accounts there are, by status.
    pub fn account_counts(&self) -> Result<Vec<(String, i64)>> {
        self.read(|conn| {
            conn.query(
                "SELECT status, count(*) FROM accounts GROUP BY status ORDER BY status",
                args![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    /// Whether any account exists that `serve --demo` did not make.
    pub fn has_real_accounts(&self) -> Result<bool> {
        self.read(|conn| {
            conn.exists(
                "SELECT 1 FROM accounts WHERE source != 'demo' LIMIT 1",
                args![],
            )
        })
    }

    /// The last four characters of the account's ID number, kept (sealed) from the roster
    /// so an administrator can confirm who is asking: the only part of the number stored.
    pub fn id_last4(&self, id: &str) -> Result<Option<String>> {
        let keys = self.keys();
        self.read(|conn| {
            Ok(conn
                .query_opt(
                    "SELECT id_last4 FROM accounts WHERE id = ?1",
                    args![id],
                    |r| r.get::<String>(0),
                )?
                .and_then(|v| keys.open(&v))
                .filter(|v| !v.is_empty()))
        })
    }

    /// Replaces the password hash, remembers the old one, ends the account's SSO sessions
    /// (but `keep`, the session of the person changing it in the portal) and, unless
    /// `keep_identities`, its WeCom and WeChat bindings (made before the change, perhaps by
    /// whoever knew the old password), and writes the audit rows, in one transaction: a new
    /// password must not leave old sessions or bindings alive, and no half of the change can
    /// survive a crash without the rest.
    ///
    /// With `generation`, only if the account is still at it: a change a person began (their
    /// password hashed meanwhile) loses to a lock, a reset or a logout an administrator made
    /// in between, instead of overwriting it.
    #[allow(clippy::too_many_arguments)]
    pub fn set_password(
        &self,
        id: &str,
        hash: &str,
        must_change: bool,
        keep: Option<&str>,
        keep_identities: bool,
        generation: Option<i64>,
        record: &AuditRecord,
        now: i64,
    ) -> Result<bool> {
        self.write(|tx| {
            let old: Option<(String, i64)> = tx.query_opt(
                "SELECT password_hash, generation FROM accounts WHERE id = ?1",
                args![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((old, current)) = old else {
                return Ok(false);
            };
            if generation.is_some_and(|g| g != current) {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO password_history (account_id, password_hash, changed_at) VALUES (?1, ?2, ?3)",
                args![id, &old, now],
            )?;
            tx.execute(
                "UPDATE accounts SET password_hash = ?2, must_change = ?3, password_changed_at = ?4,
                     updated_at = ?4, initial_password = 0 WHERE id = ?1",
                args![id, hash, must_change, now],
            )?;
            end_sessions(tx, id, keep)?;
            audit::insert(tx, record, now)?;
            if !keep_identities {
                for kind in ["wecom", "wechat"] {
                    let ended = tx.execute(
                        "DELETE FROM bindings WHERE account_id = ?1 AND kind = ?2",
                        args![id, kind],
                    )?;
                    if ended > 0 {
                        let event = AuditEvent::BindingEnded { kind };
                        audit::insert(tx, &AuditRecord { event, ..record.clone() }, now)?;
                    }
                }
            }
            Ok(true)
        })
    }

    /// Locks, unlocks or disables an account, with its audit row; anything but active also
    /// ends the account's SSO sessions.
    pub fn set_status(&self, id: &str, status: Status, now: i64) -> Result<bool> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE accounts SET status = ?2, updated_at = ?3 WHERE id = ?1",
                args![id, status.as_str(), now],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            if status != Status::Active {
                end_sessions(tx, id, None)?;
            }
            let event = match status {
                Status::Active => AuditEvent::AccountUnlocked,
                Status::Locked => AuditEvent::AccountLocked,
                Status::Disabled => AuditEvent::AccountDisabled {
                    reason: "administrator",
                },
            };
            audit::insert(tx, &AuditRecord::system(event, Some(id)), now)?;
            Ok(true)
        })
    }

    /// Demo rows never outlive demo mode: without `--demo` the demo account is disabled
    /// (its sessions end) and the demo application taken out of the registry.
    pub fn disable_demo(&self, now: i64) -> Result<()> {
        self.write(|tx| {
            let ids: Vec<String> = tx.query(
                "SELECT id FROM accounts WHERE source = 'demo' AND status != 'disabled'",
                args![],
                |r| r.get(0),
            )?;
            for id in ids {
                tx.execute(
                    "UPDATE accounts SET status = 'disabled', updated_at = ?2 WHERE id = ?1",
                    args![&id, now],
                )?;
                end_sessions(tx, &id, None)?;
            }
            tx.execute("UPDATE services SET enabled = 0 WHERE demo = 1", args![])?;
            Ok(())
        })
    }

    /// Demo mode: the demo account and application are usable again.
    pub fn enable_demo(&self, now: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE accounts SET status = 'active', updated_at = ?1 WHERE source = 'demo'",
                args![now],
            )?;
            tx.execute("UPDATE services SET enabled = 1 WHERE demo = 1", args![])?;
            Ok(())
        })
    }
}

/// Moves the account's generation on, so flows paused before (a first login, a recovery, a
/// confirmed QR code) end, and voids its live codes (docs/security.md M09).
pub(super) fn void_flows(tx: &Db, account_id: &str) -> Result<()> {
    tx.execute(
        "UPDATE accounts SET generation = generation + 1 WHERE id = ?1",
        args![account_id],
    )?;
    tx.execute(
        "DELETE FROM one_time_codes WHERE account_id = ?1",
        args![account_id],
    )?;
    Ok(())
}

/// Ends the account's SSO sessions, except `keep` (a session's id hash) if given: the
/// sessions go (their proxy-granting tickets with them), and single logout follows for
/// each (see `cas::logout`). The account's generation moves on, so flows paused before
/// (a first login, a recovery, a confirmed QR code) end too, and its live codes are void
/// (docs/security.md M09): what was sent before a lock or a new password proves nothing after.
pub(super) fn end_sessions(tx: &Db, account_id: &str, keep: Option<&str>) -> Result<usize> {
    void_flows(tx, account_id)?;
    tx.execute(
        "DELETE FROM sso_sessions WHERE account_id = ?1 AND id_hash != ?2",
        args![account_id, keep.unwrap_or("")],
    )
}

impl Store {
    /// The hashes of the account's `n` most recent earlier passwords.
    pub fn recent_password_hashes(&self, id: &str, n: usize) -> Result<Vec<String>> {
        self.read(|conn| {
            conn.query(
                "SELECT password_hash FROM password_history WHERE account_id = ?1
                 ORDER BY changed_at DESC, id DESC LIMIT ?2",
                args![id, n as i64],
                |r| r.get(0),
            )
        })
    }
}

fn insert(tx: &Db, keys: &Keys, new: &NewAccount, now: i64) -> Result<bool> {
    let inserted = tx.execute(
        "INSERT INTO accounts (id, name, kind, department, email, phone, source,
             password_hash, must_change, initial_password, must_bind_phone, id_last4,
             password_changed_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?13)
         ON CONFLICT(id) DO NOTHING",
        args![
            &new.id,
            &new.name,
            new.kind.as_str(),
            &new.department,
            &keys.seal(&new.email),
            &keys.seal(&new.phone),
            new.source.as_str(),
            &new.password_hash,
            new.must_change,
            new.initial_password,
            new.must_bind_phone,
            &keys.seal(&new.id_last4),
            now
        ],
    )?;
    if inserted == 0 {
        return Ok(false);
    }
    for (position, (name, value)) in new.attributes.iter().enumerate() {
        tx.execute(
            "INSERT INTO account_attributes (account_id, name, value, position) VALUES (?1, ?2, ?3, ?4)",
            args![&new.id, name, value, position as i64],
        )?;
    }
    Ok(true)
}

/// What importing a roster row did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imported {
    Added,
    /// Name, department or kind changed.
    Updated,
    Unchanged,
    /// An account the roster did not make (an administrator, one added by hand): a roster
    /// names it, but never changes it (an export could otherwise demote an administrator).
    Kept,
}

impl Store {
    /// The ids of the accounts that exist, of those given.
    pub fn existing_ids(&self, ids: &[String]) -> Result<std::collections::HashSet<String>> {
        self.read(|conn| {
            let mut found = std::collections::HashSet::new();
            for id in ids {
                if conn.exists("SELECT 1 FROM accounts WHERE id = ?1", args![id])? {
                    found.insert(id.clone());
                }
            }
            Ok(found)
        })
    }

    /// Imports roster rows in one transaction: new accounts are added (each with its
    /// initial password's hash); existing ones the roster made get its name, department and
    /// kind, and nothing else: a password someone already changed is never reset. Accounts
    /// made otherwise are kept as they are.
    pub fn import_accounts(&self, rows: &[NewAccount], now: i64) -> Result<Vec<Imported>> {
        let keys = self.keys();
        self.write(|tx| {
            let mut done = Vec::with_capacity(rows.len());
            for new in rows {
                if !new.password_hash.is_empty() && insert(tx, keys, new, now)? {
                    done.push(Imported::Added);
                    continue;
                }
                let imported = tx.exists(
                    "SELECT 1 FROM accounts WHERE id = ?1 AND source = 'import'",
                    args![&new.id],
                )?;
                if !imported {
                    done.push(Imported::Kept);
                    continue;
                }
                let changed = tx.execute(
                    "UPDATE accounts SET name = ?2, department = ?3, kind = ?4, updated_at = ?5
                     WHERE id = ?1 AND (name != ?2 OR department != ?3 OR kind != ?4)",
                    args![&new.id, &new.name, &new.department, new.kind.as_str(), now],
                )?;
                done.push(if changed > 0 {
                    Imported::Updated
                } else {
                    Imported::Unchanged
                });
            }
            Ok(done)
        })
    }

    /// Disables the imported accounts not in `present` (ending their sessions), with an
    /// audit row each; returns their ids.
    pub fn disable_missing(
        &self,
        present: &std::collections::HashSet<String>,
        now: i64,
    ) -> Result<Vec<String>> {
        self.write(|tx| {
            let imported: Vec<String> = tx.query(
                "SELECT id FROM accounts WHERE source = 'import' AND status != 'disabled'",
                args![],
                |r| r.get(0),
            )?;
            let gone: Vec<String> = imported
                .into_iter()
                .filter(|id| !present.contains(id))
                .collect();
            for id in &gone {
                tx.execute(
                    "UPDATE accounts SET status = 'disabled', updated_at = ?2 WHERE id = ?1",
                    args![id, now],
                )?;
                end_sessions(tx, id, None)?;
                let record = AuditRecord::system(
                    AuditEvent::AccountDisabled {
                        reason: "not in the roster",
                    },
                    Some(id),
                );
                audit::insert(tx, &record, now)?;
            }
            Ok(gone)
        })
    }

    /// Whether the account's must-bind flag is set (`user add/passwd --must-bind-phone`).
    pub fn set_must_bind_phone(&self, id: &str, on: bool) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE accounts SET must_bind_phone = ?2 WHERE id = ?1",
                args![id, on],
            )? > 0)
        })
    }
}
