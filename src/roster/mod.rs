//! The school's roster (学生/教职工名单) as exported by campus systems: a CSV file in UTF-8
//! (with or without a BOM) or GBK, with English or Chinese headers. Each row becomes an
//! account whose initial password is the last six characters of the national ID number; the
//! number itself is checked (GB 11643) and then dropped: only its last four characters are
//! kept, for an administrator confirming someone's identity by hand.

use crate::accounts::hash_now;
use crate::model::{canonical_id, Kind, NewAccount, Phone, Source};
use crate::store::{Imported, Store, StoreError};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

mod columns;
mod id_number;

use columns::{header_key, Column, ACCOUNT, COLUMNS, KIND, STAFF_HEADERS, STUDENT_HEADERS};
pub use id_number::{BadIdNumber, IdNumber};

/// Rows written per transaction.
const BATCH: usize = 500;

/// A roster row turned into an account to insert or update, with its initial password.
#[derive(Clone, Debug)]
pub struct RosterRow {
    /// The file's line number, for messages.
    pub line: usize,
    pub account: NewAccount,
    pub initial_password: String,
    pub id_last4: String,
}

/// A row that could not be taken, and why, in English (`message`) and Chinese (`zh`): the
/// console says it in its language, the command line in both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub message: String,
    pub zh: String,
}

impl RowError {
    fn new(line: usize, said: Said) -> RowError {
        RowError {
            line,
            message: said.en,
            zh: said.zh,
        }
    }

    /// The line in Chinese: `第 3 行：…`.
    pub fn in_chinese(&self) -> String {
        format!("第 {} 行：{}", self.line, self.zh)
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Something said about the roster, in Chinese and in English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said {
    pub zh: String,
    pub en: String,
}

impl Said {
    fn new(zh: impl Into<String>, en: impl Into<String>) -> Said {
        Said {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

impl std::fmt::Display for Said {
    /// Both languages, as the command line says it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.en, self.zh)
    }
}

impl std::error::Error for Said {}

/// Decodes the file: UTF-8 (a BOM is dropped), else GBK, which campus systems export.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::GBK.decode(bytes).0.into_owned(),
    }
}

/// A roster read: the rows that can be imported, the lines that cannot (with why), and
/// what is worth a look though it does not stop a row.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<RosterRow>,
    pub errors: Vec<RowError>,
    pub warnings: Vec<RowError>,
}

/// Reads a roster: the registrar's export as it is (any order, extra columns ignored,
/// CRLF). Phone and e-mail columns may be left out; without a kind column, an account
/// column headed 工资号 or 职工号 means staff and one headed 学号 students. A header that
/// lacks columns is an error for the whole file, naming every missing column at once.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Said> {
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            Said::new(
                format!("无法读取名单的表头：{e}"),
                format!("the roster's header cannot be read: {e}"),
            )
        })?
        .clone();
    let keys: Vec<String> = headers.iter().map(header_key).collect();
    let index: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|c| keys.iter().position(|k| c.headers.contains(&k.as_str())))
        .collect();
    // Without a kind column, the account column's header may say it.
    let implied = match (index[KIND], index[ACCOUNT]) {
        (None, Some(i)) if STAFF_HEADERS.contains(&keys[i].as_str()) => Some(Kind::Staff),
        (None, Some(i)) if STUDENT_HEADERS.contains(&keys[i].as_str()) => Some(Kind::Student),
        _ => None,
    };
    let missing: Vec<&Column> = COLUMNS
        .iter()
        .zip(&index)
        .enumerate()
        .filter(|(i, (c, found))| {
            found.is_none() && !c.optional && !(*i == KIND && implied.is_some())
        })
        .map(|(_, (c, _))| c)
        .collect();
    if !missing.is_empty() {
        let zh: Vec<&str> = missing.iter().map(|c| c.zh).collect();
        let en: Vec<&str> = missing.iter().map(|c| c.en).collect();
        return Err(Said::new(
            format!(
                "名单缺少这些列：{}。表头应有 学号/工号、姓名、类别、身份证号、院系（手机、邮箱可选；\
                 没有“类别”列时，账号列的表头为“工资号”或“职工号”表示教职工，为“学号”表示学生）",
                zh.join("、")
            ),
            format!(
                "the roster has no column for: {}. The header must have account, name, kind, \
                 id_number, department (phone and email are optional; without a kind column, \
                 an account column headed 工资号 or 职工号 means staff, 学号 students)",
                en.join(", ")
            ),
        ));
    }
    let (mut rows, mut errors, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    let mut id_numbers = std::collections::HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError::new(
                    line,
                    Said::new(format!("无法读取：{e}"), format!("unreadable: {e}")),
                ));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let field = |c: usize| index[c].and_then(|i| record.get(i)).unwrap_or("");
        let fields = [
            field(0),
            field(1),
            field(2),
            field(3),
            field(4),
            field(5),
            field(6),
        ];
        match row(line, fields, implied) {
            Ok(r) => {
                // Two people never share an ID number: one of the rows is a mistake.
                let id = field(3).to_ascii_uppercase();
                if let Some(first) = id_numbers.insert(id, line) {
                    let account = &r.account.id;
                    warnings.push(RowError::new(
                        line,
                        Said::new(
                            format!("身份证号与第 {first} 行（账号 {account}）相同：请核对这两行"),
                            format!(
                                "the same ID number as line {first} (account {account}): check both rows"
                            ),
                        ),
                    ));
                }
                rows.push(r)
            }
            Err(said) => errors.push(RowError::new(line, said)),
        }
    }
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| {
        let first = seen.insert(r.account.id.clone());
        if !first {
            let id = &r.account.id;
            errors.push(RowError::new(
                r.line,
                Said::new(
                    format!("账号 {id} 在名单中出现两次"),
                    format!("account {id} appears twice in the roster"),
                ),
            ));
        }
        first
    });
    errors.sort_by_key(|e| e.line);
    Ok(Parsed {
        rows,
        errors,
        warnings,
    })
}

/// What Excel shows a long number as when its column is not text: `1.40105E+17`.
fn scientific(value: &str) -> bool {
    let Some((mantissa, exponent)) = value.split_once(['E', 'e']) else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(mantissa),
    };
    mantissa_ok && digits(exponent)
}

fn excel_said(column_zh: &str, column_en: &str, value: &str) -> Said {
    Said::new(
        format!(
            "{column_zh} {value} 被 Excel 改成了科学计数法：在 Excel 中设置该列为文本格式后重新导出"
        ),
        format!(
            "the {column_en} {value} was turned into scientific notation by Excel: \
             format the column as text and export again"
        ),
    )
}

fn row(
    line: usize,
    [account, name, kind, id, department, phone, email]: [&str; 7],
    implied: Option<Kind>,
) -> Result<RosterRow, Said> {
    let kind = match (Kind::parse(kind), implied) {
        (Some(Kind::Admin), _) | (None, None) => {
            return Err(Said::new(
                format!("类别 {kind:?}：请填写 学生 或 教职工"),
                format!("kind {kind:?}: use 学生 or 教职工 (student or staff)"),
            ))
        }
        (Some(k), _) | (None, Some(k)) => k,
    };
    if scientific(id.trim()) {
        return Err(excel_said("身份证号", "ID number", id.trim()));
    }
    if scientific(account.trim()) {
        return Err(excel_said("学号/工号", "account", account.trim()));
    }
    let id = IdNumber::parse(id).map_err(|e| e.said)?;
    if canonical_id(account).is_none() {
        return Err(Said::new(
            format!("学号/工号 {account:?} 无效：只能使用 1-64 个 a-z 0-9 . _ @ -"),
            format!("invalid account {account:?}: use 1-64 of a-z 0-9 . _ @ -"),
        ));
    }
    if name.trim().is_empty() {
        return Err(Said::new("姓名不能为空", "the name must not be empty"));
    }
    if !phone.trim().is_empty() && Phone::parse(phone).is_none() {
        return Err(Said::new(
            format!("手机号 {phone:?} 无效：请填写大陆手机号，如 13800138000，或留空"),
            format!(
                "invalid phone {phone:?}: use a mainland mobile number such as 13800138000, or leave it empty"
            ),
        ));
    }
    let mut account = NewAccount::new(account, name, kind, department, email, phone, &[])
        .map_err(|e| Said::new(format!("资料不符合要求：{}", e.0), e.0))?;
    account.source = Source::Import;
    account.must_change = true;
    account.initial_password = true;
    account.id_last4 = id.last(4);
    Ok(RosterRow {
        line,
        account,
        initial_password: id.initial_password(),
        id_last4: id.last(4),
    })
}

/// The accounts to write, the new ones (not in `existing`) with their initial password
/// hashed at `cost` on `threads` threads, each taking the next row; `tick` after each hash.
pub fn hash_new(
    rows: Vec<RosterRow>,
    existing: &HashSet<String>,
    cost: u32,
    threads: usize,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<NewAccount>, String> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<NewAccount>>> = rows.iter().map(|_| Mutex::new(None)).collect();
    let failed = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(row) = rows.get(i) else { return };
                let mut account = row.account.clone();
                if !existing.contains(&account.id) {
                    match hash_now(&row.initial_password, cost) {
                        Ok(hash) => account.password_hash = hash,
                        Err(e) => {
                            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                            return;
                        }
                    }
                    tick();
                }
                *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(account);
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(slots
        .into_iter()
        .filter_map(|s| s.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect())
}

/// Writes the accounts, 500 a transaction: how many were added, updated, unchanged.
fn write(store: &Store, accounts: &[NewAccount], now: i64) -> Result<[usize; 4], StoreError> {
    let mut tally = [0usize; 4];
    for batch in accounts.chunks(BATCH) {
        for done in store.import_accounts(batch, now)? {
            tally[match done {
                Imported::Added => 0,
                Imported::Updated => 1,
                Imported::Unchanged => 2,
                Imported::Kept => 3,
            }] += 1;
        }
    }
    Ok(tally)
}

/// What an import did: accounts added, updated, unchanged, rows refused, and (with
/// `--disable-missing`) accounts disabled for not being listed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Accounts the roster names but did not make (administrators, accounts added by
    /// hand): left as they are.
    pub kept: usize,
    pub refused: usize,
    pub disabled: Option<usize>,
}

impl std::fmt::Display for Tally {
    /// The summary line in English, as the command line prints it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Tally {
            added,
            updated,
            unchanged,
            kept,
            refused,
            disabled,
        } = self;
        write!(
            f,
            "imported: {added} added, {updated} updated, {unchanged} unchanged, {refused} refused"
        )?;
        if *kept > 0 {
            write!(f, ", {kept} left as they are (not made by a roster)")?;
        }
        match disabled {
            Some(n) => write!(f, ", {n} disabled (not in the roster)"),
            None => Ok(()),
        }
    }
}

/// Writes the accounts (see `write`) and, given the ids the roster lists, disables the
/// imported accounts it no longer lists; returns what it did, which the command and the
/// console both show (`refused`: rows that could not be read).
pub fn import(
    store: &Store,
    accounts: &[NewAccount],
    refused: usize,
    listed: Option<std::collections::HashSet<String>>,
    now: i64,
) -> Result<Tally, StoreError> {
    let [added, updated, unchanged, kept] = write(store, accounts, now)?;
    let disabled = match listed {
        Some(present) => Some(store.disable_missing(&present, now)?.len()),
        None => None,
    };
    Ok(Tally {
        added,
        updated,
        unchanged,
        kept,
        refused,
        disabled,
    })
}

#[cfg(test)]
mod tests;
