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
    let staff_en = "Employee ID,Name,Department,ID Number\nT1002,Li Si,Finance,110105491231002\n";
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
