//! The school's roster (学生/教职工名单) as exported by campus systems: a CSV file in UTF-8
//! (with or without a BOM) or GBK, with English or Chinese headers. Each row becomes an
//! account whose initial password is the last six characters of the national ID number; the
//! number itself is checked (GB 11643) and then dropped: only its last four characters are
//! kept, for an administrator confirming someone's identity by hand.

use crate::accounts::hash_now;
use crate::model::{InputError, Kind, NewAccount, Source};
use crate::store::{Imported, Store, StoreError};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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

/// A row that could not be taken, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The columns a roster must have, by their English and Chinese names.
const COLUMNS: [(&str, &[&str]); 7] = [
    (
        "account",
        &["account", "学号/工号", "学号", "工号", "学工号"],
    ),
    ("name", &["name", "姓名"]),
    ("kind", &["kind", "类别", "人员类别", "身份"]),
    (
        "id_number",
        &["id_number", "身份证号", "身份证号码", "证件号码"],
    ),
    ("department", &["department", "院系", "部门", "单位"]),
    ("phone", &["phone", "手机", "手机号", "手机号码"]),
    ("email", &["email", "邮箱", "电子邮箱"]),
];

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

/// Reads a roster. An unusable header is an error for the whole file.
pub fn parse(bytes: &[u8]) -> Result<Parsed, InputError> {
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| InputError(format!("the roster's header cannot be read: {e}")))?
        .clone();
    let mut index = [usize::MAX; 7];
    for (i, (name, aliases)) in COLUMNS.iter().enumerate() {
        index[i] = headers
            .iter()
            .position(|h| {
                aliases
                    .iter()
                    .any(|a| h.trim_start_matches('\u{feff}') == *a)
            })
            .ok_or_else(|| {
                InputError(format!(
                    "the roster has no '{name}' column: the header must be \
                     account,name,kind,id_number,department,phone,email \
                     (or 学号/工号,姓名,类别,身份证号,院系,手机,邮箱)"
                ))
            })?;
    }
    let (mut rows, mut errors, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    let mut id_numbers = std::collections::HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    line,
                    message: format!("unreadable: {e}"),
                });
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let field = |c: usize| record.get(index[c]).unwrap_or("");
        match row(
            line,
            [
                field(0),
                field(1),
                field(2),
                field(3),
                field(4),
                field(5),
                field(6),
            ],
        ) {
            Ok(r) => {
                // Two people never share an ID number: one of the rows is a mistake.
                let id = field(3).to_ascii_uppercase();
                if let Some(first) = id_numbers.insert(id, line) {
                    warnings.push(RowError {
                        line,
                        message: format!(
                            "the same ID number as line {first} (account {}): check both rows",
                            r.account.id
                        ),
                    });
                }
                rows.push(r)
            }
            Err(e) => errors.push(RowError { line, message: e.0 }),
        }
    }
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| {
        let first = seen.insert(r.account.id.clone());
        if !first {
            errors.push(RowError {
                line: r.line,
                message: format!("account {} appears twice in the roster", r.account.id),
            });
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

fn row(
    line: usize,
    [account, name, kind, id, department, phone, email]: [&str; 7],
) -> Result<RosterRow, InputError> {
    let kind = match Kind::parse(kind) {
        Some(Kind::Admin) | None => {
            return Err(InputError(format!(
                "kind {kind:?}: use 学生 or 教职工 (student or staff)"
            )))
        }
        Some(k) => k,
    };
    let id = IdNumber::parse(id)?;
    let mut account = NewAccount::new(account, name, kind, department, email, phone, &[])?;
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
fn write(store: &Store, accounts: &[NewAccount], now: i64) -> Result<[usize; 3], StoreError> {
    let mut tally = [0usize; 3];
    for batch in accounts.chunks(BATCH) {
        for done in store.import_accounts(batch, now)? {
            tally[match done {
                Imported::Added => 0,
                Imported::Updated => 1,
                Imported::Unchanged => 2,
            }] += 1;
        }
    }
    Ok(tally)
}

/// Writes the accounts (see `write`) and, given the ids the roster lists, disables the
/// imported accounts it no longer lists; returns the summary line the command and the
/// console both show (`refused`: rows that could not be read).
pub fn import(
    store: &Store,
    accounts: &[NewAccount],
    refused: usize,
    listed: Option<std::collections::HashSet<String>>,
    now: i64,
) -> Result<String, StoreError> {
    let [added, updated, unchanged] = write(store, accounts, now)?;
    let mut summary = format!(
        "imported: {added} added, {updated} updated, {unchanged} unchanged, {refused} refused"
    );
    if let Some(present) = listed {
        let gone = store.disable_missing(&present, now)?;
        summary.push_str(&format!(", {} disabled (not in the roster)", gone.len()));
    }
    Ok(summary)
}

/// A mainland resident ID number (居民身份证号码): 18 characters with the GB 11643-1999 check
/// character, or a legacy 15-digit number (no check character, born 19xx), each with a
/// real birth date. `x` counts as `X`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(input: &str) -> Result<IdNumber, InputError> {
        // Full-width digits and X (typed with a Chinese input method) are the same number.
        let id: String = input
            .trim()
            .chars()
            .map(|c| match c {
                '\u{FF10}'..='\u{FF19}' | 'Ｘ' | 'ｘ' => {
                    char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
                }
                c => c,
            })
            .collect::<String>()
            .to_ascii_uppercase();
        let bad = |why: &str| Err(InputError(format!("ID number {}: {why}", mask(&id))));
        if !id.is_ascii() {
            return bad("must be digits and X only");
        }
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        match id.len() {
            18 => {
                if !digits(&id[..17]) || !(id.as_bytes()[17].is_ascii_digit() || id.ends_with('X'))
                {
                    return bad("must be 17 digits and a digit or X");
                }
                if check_character(&id[..17]) != id.as_bytes()[17] as char {
                    return bad("the check character does not match (GB 11643)");
                }
                if !valid_date(&id[6..14]) {
                    return bad("the birth date in it is not a real date");
                }
            }
            15 => {
                if !digits(&id) {
                    return bad("a 15-character number must be all digits");
                }
                if !valid_date(&format!("19{}", &id[6..12])) {
                    return bad("the birth date in it is not a real date");
                }
            }
            _ => return bad("must have 18 characters (or 15 for an old card)"),
        }
        Ok(IdNumber(id))
    }

    /// The initial password: the last six characters.
    pub fn initial_password(&self) -> String {
        self.last(6)
    }

    pub fn last(&self, n: usize) -> String {
        self.0[self.0.len() - n..].to_string()
    }
}

/// GB 11643-1999: weights 2^(17-i) mod 11 over the first 17 digits; the sum mod 11 picks
/// the check character from "10X98765432".
fn check_character(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] as char
}

/// `YYYYMMDD` is a date between 1900 and 2100.
fn valid_date(s: &str) -> bool {
    let n = |a: usize, b: usize| s.get(a..b).and_then(|x| x.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (n(0, 4), n(4, 6), n(6, 8)) else {
        return false;
    };
    let Ok(month) = time::Month::try_from(m as u8) else {
        return false;
    };
    (1900..=2100).contains(&y) && d >= 1 && d <= u32::from(month.length(y as i32))
}

/// Messages never show a whole ID number.
fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    match chars.len() {
        n if n > 4 => {
            let (head, tail): (String, String) =
                (chars[..2].iter().collect(), chars[n - 2..].iter().collect());
            format!("{head}…{tail}")
        }
        _ => "(short)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Found by the roster fuzz target: these panicked (byte slicing inside a character).
    #[test]
    fn id_numbers_with_wide_characters_are_refused_or_read_not_a_panic() {
        for bad in ["护照E12345678", "1234567890123456é", "1234é5"] {
            assert!(IdNumber::parse(bad).is_err(), "{bad}");
        }
        let narrow = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(
            IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ").unwrap(),
            narrow
        );
    }

    #[test]
    fn id_numbers_follow_gb_11643() {
        // The standard's example, and a valid number ending in X.
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.initial_password(), "31002X");
        assert_eq!(
            IdNumber::parse("11010519491231002x").unwrap(),
            id,
            "x counts as X"
        );
        assert!(IdNumber::parse("440524188001010014")
            .unwrap_err()
            .0
            .contains("birth date"));
        for bad in [
            "110105194912310021",
            "11010519491231002",
            "1101051949123100211",
            "11010519491331002X",
            "A1010519491231002X",
            "",
        ] {
            assert!(IdNumber::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            IdNumber::parse("110105491231002")
                .unwrap()
                .initial_password(),
            "231002"
        );
        assert!(IdNumber::parse("110105491331002").is_err(), "month 13");
        let message = IdNumber::parse("110105194912310021").unwrap_err().0;
        assert!(
            !message.contains("1949123100"),
            "no whole number in messages: {message}"
        );
    }

    #[test]
    fn rosters_in_english_or_chinese_utf8_or_gbk() {
        let english = "account,name,kind,id_number,department,phone,email\n\
                       20240001,张三,student,11010519491231002X,物理学院,13800138000,\n\
                       T1001,李四,staff,110105491231002,财务处,,li@example.edu\n";
        let Parsed { rows, errors, .. } = parse(english.as_bytes()).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].initial_password, "31002X");
        assert_eq!(rows[0].id_last4, "002X");
        assert_eq!(rows[1].account.id, "t1001");
        assert_eq!(rows[1].account.kind, Kind::Staff);
        let chinese = "\u{feff}学号/工号,姓名,类别,身份证号,院系,手机,邮箱\n20240002,王五,学生,11010519491231002X,化学学院,,\n";
        let rows = parse(chinese.as_bytes()).unwrap().rows;
        assert_eq!(rows[0].account.name, "王五");
        let (gbk, _, _) = encoding_rs::GBK.encode(chinese.trim_start_matches('\u{feff}'));
        let rows = parse(&gbk).unwrap().rows;
        assert_eq!(rows[0].account.department, "化学学院");
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_the_rest_kept() {
        let text = "account,name,kind,id_number,department,phone,email\n\
                    20240001,张三,student,11010519491231002X,物理,,\n\
                    20240002,李四,student,110105194912310021,物理,,\n\
                    <x>,王五,student,11010519491231002X,物理,,\n\
                    20240004,赵六,wizard,11010519491231002X,物理,,\n\
                    20240001,重复,student,11010519491231002X,物理,,\n\
                    20240006,钱七,student,11010519491231002X,物理,12345,\n";
        let Parsed { rows, errors, .. } = parse(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7]);
        assert!(errors[0].message.contains("check character"));
        assert!(parse(b"foo,bar\n1,2\n").is_err(), "an unusable header");
    }

    /// Issue "Defects found from outside" #12: the same ID number for two accounts is
    /// imported, and said.
    #[test]
    fn one_id_number_for_two_accounts_is_a_warning() {
        let text = "account,name,kind,id_number,department,phone,email\n\
                    20240001,张三,student,11010519491231002X,物理,,\n\
                    20240002,张三,student,11010519491231002x,物理,,\n";
        let parsed = parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!(parsed.warnings[0].line, 3);
        assert!(parsed.warnings[0].message.contains("line 2"));
    }
}
