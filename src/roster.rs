//! The school's roster (学生/教职工名单) as exported by campus systems: a CSV file in UTF-8
//! (with or without a BOM) or GBK, with English or Chinese headers. Each row becomes an
//! account whose initial password is the last six characters of the national ID number; the
//! number itself is checked (GB 11643) and then dropped: only its last four characters are
//! kept, for an administrator confirming someone's identity by hand.

use crate::accounts::hash_now;
use crate::model::{canonical_id, InputError, Kind, NewAccount, Phone, Source};
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

/// A column of the roster: its name in messages (English, Chinese), whether a roster may
/// leave it out, and the headers registrars' exports give it (English ones in any case).
struct Column {
    en: &'static str,
    zh: &'static str,
    optional: bool,
    headers: &'static [&'static str],
}

const ACCOUNT: usize = 0;
const KIND: usize = 2;

const COLUMNS: [Column; 7] = [
    Column {
        en: "account",
        zh: "学号/工号",
        optional: false,
        headers: &[
            "account",
            "学号/工号",
            "学工号",
            "工号",
            "username",
            "user id",
            "userid",
            "login",
            // These also say the kind, when no column does (see `STAFF_HEADERS`).
            "学号",
            "student id",
            "student_id",
            "student number",
            "student no",
            "工资号",
            "职工号",
            "教工号",
            "staff id",
            "staff_id",
            "staff number",
            "staff no",
            "employee id",
            "employee_id",
            "employee number",
        ],
    },
    Column {
        en: "name",
        zh: "姓名",
        optional: false,
        headers: &["name", "姓名", "full name"],
    },
    Column {
        en: "kind",
        zh: "类别",
        optional: false,
        headers: &["kind", "类别", "人员类别", "身份", "type", "category"],
    },
    Column {
        en: "id_number",
        zh: "身份证号",
        optional: false,
        headers: &[
            "id_number",
            "身份证号",
            "身份证号码",
            "证件号码",
            "证件号",
            "id number",
            "id card",
            "id card number",
            "national id",
        ],
    },
    Column {
        en: "department",
        zh: "院系",
        optional: false,
        headers: &[
            "department",
            "院系",
            "部门",
            "单位",
            "学院",
            "所在学院",
            "所在院系",
            "college",
            "school",
            "faculty",
            "dept",
        ],
    },
    Column {
        en: "phone",
        zh: "手机",
        optional: true,
        headers: &[
            "phone",
            "手机",
            "手机号",
            "手机号码",
            "mobile",
            "mobile phone",
            "phone number",
            "cell phone",
        ],
    },
    Column {
        en: "email",
        zh: "邮箱",
        optional: true,
        headers: &[
            "email",
            "邮箱",
            "电子邮箱",
            "电子邮件",
            "e-mail",
            "mail",
            "email address",
        ],
    },
];

/// Account headers that say the rows are staff when the roster has no kind column.
const STAFF_HEADERS: [&str; 10] = [
    "工资号",
    "职工号",
    "教工号",
    "staff id",
    "staff_id",
    "staff number",
    "staff no",
    "employee id",
    "employee_id",
    "employee number",
];

/// Account headers that say the rows are students when the roster has no kind column.
const STUDENT_HEADERS: [&str; 5] = [
    "学号",
    "student id",
    "student_id",
    "student number",
    "student no",
];

/// A header as written, compared without a BOM, surrounding space, or ASCII case.
fn header_key(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .trim()
        .to_ascii_lowercase()
}

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

/// What an import did: accounts added, updated, unchanged, rows refused, and (with
/// `--disable-missing`) accounts disabled for not being listed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
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
            refused,
            disabled,
        } = self;
        write!(
            f,
            "imported: {added} added, {updated} updated, {unchanged} unchanged, {refused} refused"
        )?;
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
    let [added, updated, unchanged] = write(store, accounts, now)?;
    let disabled = match listed {
        Some(present) => Some(store.disable_missing(&present, now)?.len()),
        None => None,
    };
    Ok(Tally {
        added,
        updated,
        unchanged,
        refused,
        disabled,
    })
}

/// A mainland resident ID number (居民身份证号码): 18 characters with the GB 11643-1999 check
/// character, or a legacy 15-digit number (no check character, born 19xx), each with a
/// real birth date. `x` counts as `X`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber(String);

/// Why an ID number was refused, in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadIdNumber {
    pub said: Said,
}

impl std::fmt::Display for BadIdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.said.en)
    }
}

impl From<BadIdNumber> for InputError {
    fn from(e: BadIdNumber) -> InputError {
        InputError(e.said.en)
    }
}

impl IdNumber {
    pub fn parse(input: &str) -> Result<IdNumber, BadIdNumber> {
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
        let masked = mask(&id);
        let bad = |zh: &str, en: &str| {
            Err(BadIdNumber {
                said: Said::new(
                    format!("身份证号 {masked}：{zh}"),
                    format!("ID number {masked}: {en}"),
                ),
            })
        };
        if !id.is_ascii() {
            return bad("只能是数字和 X", "must be digits and X only");
        }
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        match id.len() {
            18 => {
                if !digits(&id[..17]) || !(id.as_bytes()[17].is_ascii_digit() || id.ends_with('X'))
                {
                    return bad(
                        "应为 17 位数字加一位数字或 X",
                        "must be 17 digits and a digit or X",
                    );
                }
                if check_character(&id[..17]) != id.as_bytes()[17] as char {
                    return bad(
                        "校验位不符（GB 11643），请核对",
                        "the check character does not match (GB 11643)",
                    );
                }
                if !valid_date(&id[6..14]) {
                    return bad(
                        "其中的出生日期不存在",
                        "the birth date in it is not a real date",
                    );
                }
            }
            15 => {
                if !digits(&id) {
                    return bad(
                        "15 位的旧号码应全部为数字",
                        "a 15-character number must be all digits",
                    );
                }
                if !valid_date(&format!("19{}", &id[6..12])) {
                    return bad(
                        "其中的出生日期不存在",
                        "the birth date in it is not a real date",
                    );
                }
            }
            _ => {
                return bad(
                    "应为 18 位（旧证 15 位）",
                    "must have 18 characters (or 15 for an old card)",
                )
            }
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
            .said
            .en
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
        let message = IdNumber::parse("110105194912310021").unwrap_err().said.en;
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

    /// Issue 24 item 10: the registrar's export as it is: 工资号 (no kind column: staff),
    /// 学院, 手机号, 电子邮箱, English headers in any case, no phone or e-mail column, extra
    /// columns, CRLF, GBK.
    #[test]
    fn the_registrars_export_is_read_as_it_is() {
        let staff = "序号,工资号,姓名,性别,身份证号,部门,手机号,电子邮箱\r\n\
                     1,T1001,李四,男,110105491231002,财务处,13800138000,li@example.edu\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(staff);
        let Parsed { rows, errors, .. } = parse(&gbk).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows[0].account.id, "t1001");
        assert_eq!(rows[0].account.kind, Kind::Staff);
        assert_eq!(rows[0].account.department, "财务处");
        assert_eq!(rows[0].account.phone, "+8613800138000");
        assert_eq!(rows[0].account.email, "li@example.edu");
        let students = "学号,姓名,学院,身份证号码\n20240001,张三,物理学院,11010519491231002X\n";
        let rows = parse(students.as_bytes()).unwrap().rows;
        assert_eq!(rows[0].account.kind, Kind::Student);
        assert_eq!(rows[0].account.department, "物理学院");
        assert_eq!(rows[0].account.phone, "");
        let english = "Student ID,Name,College,ID Number,Mobile,E-mail\n\
                       20240001,Zhang San,Physics,11010519491231002X,,\n";
        let rows = parse(english.as_bytes()).unwrap().rows;
        assert_eq!(rows[0].account.kind, Kind::Student);
        let staff_en =
            "Employee ID,Name,Department,ID Number\nT1002,Li Si,Finance,110105491231002\n";
        assert_eq!(
            parse(staff_en.as_bytes()).unwrap().rows[0].account.kind,
            Kind::Staff
        );
    }

    /// Issue 24 item 10: every missing column is named at once, in both languages; a
    /// generic account column without a kind column lacks the kind.
    #[test]
    fn every_missing_column_is_named_at_once() {
        let e = parse("学号/工号,电话\n1,2\n".as_bytes()).unwrap_err();
        for column in ["name", "kind", "id_number", "department"] {
            assert!(e.en.contains(column), "{}", e.en);
        }
        for column in ["姓名", "类别", "身份证号", "院系"] {
            assert!(e.zh.contains(column), "{}", e.zh);
        }
        assert!(
            !e.en.contains("phone,") && !e.en.contains("email,"),
            "{}",
            e.en
        );
        let e = parse("学号,身份证号\n1,2\n".as_bytes()).unwrap_err();
        assert!(e.zh.contains("缺少这些列：姓名、院系。"), "{}", e.zh);
    }

    /// Issue 24 item 10: an ID number Excel turned into `1.40105E+17` says how to fix it.
    #[test]
    fn an_id_number_in_scientific_notation_says_to_format_the_column_as_text() {
        let text = "学号,姓名,身份证号,学院\n20240001,张三,1.40105E+17,物理学院\n";
        let parsed = parse(text.as_bytes()).unwrap();
        let e = &parsed.errors[0];
        assert!(e.zh.contains("设置该列为文本格式后重新导出"), "{}", e.zh);
        assert!(
            e.message
                .contains("format the column as text and export again"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("must have 18 characters"));
        assert_eq!(e.in_chinese(), format!("第 2 行：{}", e.zh));
        assert!(scientific("1.40105E+17") && scientific("2.02401e+09") && scientific("1E+17"));
        assert!(!scientific("11010519491231002X") && !scientific("E+17") && !scientific("1.E+1"));
    }
}
