//! The roster's columns: each one's names in messages, whether a roster may leave it out,
//! and the headers registrars' exports give it; and the headers that imply the kind.

/// A column of the roster: its name in messages (English, Chinese), whether a roster may
/// leave it out, and the headers registrars' exports give it (English ones in any case).
pub(super) struct Column {
    pub en: &'static str,
    pub zh: &'static str,
    pub optional: bool,
    pub headers: &'static [&'static str],
}

pub(super) const ACCOUNT: usize = 0;
pub(super) const KIND: usize = 2;

pub(super) const COLUMNS: [Column; 7] = [
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
pub(super) const STAFF_HEADERS: [&str; 10] = [
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
pub(super) const STUDENT_HEADERS: [&str; 5] = [
    "学号",
    "student id",
    "student_id",
    "student number",
    "student no",
];

/// A header as written, compared without a BOM, surrounding space, or ASCII case.
pub(super) fn header_key(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .trim()
        .to_ascii_lowercase()
}
