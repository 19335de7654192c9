//! The roster reader (`unicas::roster::parse`) on whatever file an administrator uploads:
//! never a panic; every row it accepts is an account the module promises (an imported
//! student or staff member with a canonical id, a name, a contact number and address in
//! their stored forms, who must change the initial password: the last six characters of a
//! checked ID number, of which only the last four are kept); rows and refused lines are
//! told apart by line, refused lines in order; no message shows more than four characters
//! of an ID number; and the same roster in GBK, or with a BOM, reads the same. Input: the
//! file's bytes.

use unicas::model::account::normalize_email;
use unicas::model::{canonical_id, Kind, Phone, Source};
use unicas::roster::{parse, Parsed};

const BOM: &[u8] = b"\xEF\xBB\xBF";

pub fn check(data: &[u8]) {
    let parsed = parse(data);
    if let Ok(parsed) = &parsed {
        rows_keep_the_promises(parsed);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if !data.starts_with(BOM) {
        let with_bom = [BOM, data].concat();
        assert_eq!(
            format!("{:?}", parse(&with_bom)),
            format!("{parsed:?}"),
            "a BOM changes the reading"
        );
    }
    // A file in GBK reads as the same file in UTF-8, if GBK can say it all and the bytes are
    // not UTF-8 as well (then they are read as UTF-8: a guess, and the module's rule).
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
    if !unmappable && encoding_rs::GBK.decode(&gbk).0 == text && std::str::from_utf8(&gbk).is_err()
    {
        assert_eq!(
            format!("{:?}", parse(&gbk)),
            format!("{parsed:?}"),
            "the GBK file reads otherwise"
        );
    }
}

fn rows_keep_the_promises(parsed: &Parsed) {
    let mut last_line = 1;
    let mut ids = std::collections::HashSet::new();
    for row in &parsed.rows {
        let a = &row.account;
        assert!(row.line > last_line, "rows in file order, after the header");
        last_line = row.line;
        assert!(ids.insert(a.id.clone()), "account {} taken twice", a.id);
        assert_eq!(canonical_id(&a.id).as_deref(), Some(a.id.as_str()));
        assert!(
            matches!(a.kind, Kind::Student | Kind::Staff),
            "{:?}",
            a.kind
        );
        assert_eq!(a.source, Source::Import);
        assert!(a.must_change && a.initial_password);
        assert!(!a.name.is_empty() && a.name.trim() == a.name);
        assert!(!a.name.chars().any(char::is_control));
        assert!(!a.department.chars().any(char::is_control));
        assert!(a.name.chars().count() <= 128 && a.department.chars().count() <= 128);
        if !a.phone.is_empty() {
            let phone = Phone::parse(&a.phone).expect("a stored phone reads");
            assert_eq!(phone.e164(), a.phone);
        }
        if !a.email.is_empty() {
            assert_eq!(normalize_email(&a.email).as_deref(), Ok(a.email.as_str()));
        }
        // The last six characters of an ID number (digits, a final X), of which the last
        // four are all that is kept.
        let password = row.initial_password.as_bytes();
        assert_eq!(password.len(), 6, "{:?}", row.initial_password);
        assert!(password[..5].iter().all(u8::is_ascii_digit));
        assert!(password[5].is_ascii_digit() || password[5] == b'X');
        assert_eq!(row.id_last4, row.initial_password[2..]);
        assert_eq!(a.id_last4, row.id_last4);
    }
    let lines: std::collections::HashSet<usize> = parsed.rows.iter().map(|r| r.line).collect();
    assert!(
        parsed.errors.windows(2).all(|w| w[0].line <= w[1].line),
        "refused lines in order"
    );
    for e in &parsed.errors {
        assert!(e.line >= 2, "line {} is the header", e.line);
        assert!(
            !lines.contains(&e.line),
            "line {} taken and refused",
            e.line
        );
    }
    for message in parsed
        .errors
        .iter()
        .chain(&parsed.warnings)
        .map(|e| &e.message)
    {
        let Some(rest) = message.strip_prefix("ID number ") else {
            continue;
        };
        if rest.starts_with("(short): ") {
            continue;
        }
        // Its first and last two bytes around an ellipsis: one or two characters each.
        let (head, tail) = rest.split_once('…').expect(message);
        let (tail, _) = tail.split_once(": ").expect(message);
        assert!(
            (1..=2).contains(&head.chars().count()) && (1..=2).contains(&tail.chars().count()),
            "{message}"
        );
    }
}
