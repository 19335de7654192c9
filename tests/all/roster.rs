//! `unicas user import`: the school's roster becomes accounts with initial passwords, run as
//! an administrator runs it, against the database of a running server.

use crate::support::*;

const HEADER: &str = "account,name,kind,id_number,department,phone,email";

fn write(t: &TestServer, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = t.dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn import(t: &TestServer, file: &std::path::Path, extra: &[&str]) -> (bool, String, String) {
    let mut args = vec!["user", "import", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    unicas(&t.config.db, &args)
}

fn show(t: &TestServer, id: &str) -> String {
    unicas(&t.config.db, &["user", "show", id]).1
}

/// docs/security.md M11, found by an outsider's attack: a roster that names an account it did
/// not make (an administrator's payroll number in HR's export) leaves it as it is; it could
/// otherwise demote every administrator or rename accounts made by hand.
#[tokio::test]
async fn a_roster_never_changes_accounts_it_did_not_make() {
    let t = TestServer::start().await;
    let (ok, _, err) = unicas(
        &t.config.db,
        &[
            "user",
            "add",
            "t1001",
            "--name",
            "信息中心",
            "--kind",
            "admin",
            "--password",
            "Admin-Pass-2026x",
        ],
    );
    assert!(ok, "{err}");
    let id = id_number("11010519800101002");
    let roster = format!("{HEADER}\nt1001,HACK,教职工,{id},物理学院,,\n");
    let file = write(&t, "hr.csv", roster.as_bytes());
    let (ok, out, err) = import(&t, &file, &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 left as they are"), "{out}");
    let shown = show(&t, "t1001");
    assert!(
        shown.contains("kind: admin") && shown.contains("信息中心"),
        "{shown}"
    );
    assert!(!shown.contains("HACK"), "{shown}");
}

/// The roster rules: an imported account logs in with the last six characters of its
/// ID number (`x` as `X`) and is taken to the change; its number is not stored, only the last
/// four characters an administrator confirms identity with.
#[tokio::test]
async fn an_imported_account_starts_with_its_initial_password() {
    let t = TestServer::start().await;
    let student = id_number("11010520030807451");
    let staff = id_number("31010419780312283");
    let roster = format!(
        "{HEADER}\n20240001,张三,学生,{},物理学院,13800138000,\nT1001,李四,staff,{staff},财务处,,li@example.edu\n",
        student.to_lowercase()
    );
    let file = write(&t, "roster.csv", roster.as_bytes());
    let (ok, out, err) = import(&t, &file, &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("2 added"), "{out}");
    assert!(err.contains("hashed 2 initial passwords"), "{err}");

    let shown = show(&t, "20240001");
    for line in [
        "name: 张三",
        "kind: student",
        "department: 物理学院",
        "source: import",
        "must_change: true",
        "initial_password: true",
        "must_bind_phone: true",
        "bound_phone: \n",
    ] {
        assert!(shown.contains(line), "{line:?} in {shown}");
    }
    assert!(shown.contains(&format!("id_number_last4: {}", &student[14..])));
    assert!(
        show(&t, "t1001").contains("kind: staff"),
        "accounts are canonical"
    );

    let mut c = t.client();
    let wrong = c.login("20240001", "000000", Some(SERVICE)).await;
    assert_eq!(wrong.status, 401);
    let steps = c.login("20240001", &student[12..], Some(SERVICE)).await;
    assert_eq!(steps.status, 200, "{}", steps.body);
    assert!(steps.body.contains("name=\"newPassword\""));
    assert!(steps.set_cookie("CASTGC").is_none());

    // Neither number is anywhere in the database, its journal or the key file.
    for entry in std::fs::read_dir(t.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for secret in [&student, &staff, &student[..14].to_string()] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds an ID number",
                path.display()
            );
        }
    }
}

/// Bad rows are named by line, the good ones imported, and the exit status says so; no
/// message shows a whole ID number.
#[tokio::test]
async fn bad_rows_are_reported_by_line_and_the_rest_imported() {
    let t = TestServer::start().await;
    let good = id_number("11010520030807451");
    let mut wrong_check = good.clone();
    wrong_check.replace_range(17.., if good.ends_with('0') { "1" } else { "0" });
    let bad_date = id_number("11010520030230745");
    let roster = format!(
        "{HEADER}\n\
         20240001,张三,学生,{good},物理学院,,\n\
         20240002,李四,学生,{wrong_check},物理学院,,\n\
         20240003,王五,学生,{bad_date},物理学院,,\n\
         20240004,赵六,wizard,{good},物理学院,,\n\
         20240005,钱七,学生,{good},物理学院,12345,\n\
         20240001,重复,学生,{good},物理学院,,\n\
         20240007,孙八,教职工,110105780312283,物理学院,,\n"
    );
    let file = write(&t, "roster.csv", roster.as_bytes());
    let (ok, out, err) = import(&t, &file, &[]);
    assert!(!ok, "a refused row makes the exit status non-zero");
    assert!(
        out.contains("2 added") && out.contains("5 refused"),
        "{out}"
    );
    for (line, why) in [
        (3, "check character"),
        (4, "birth date"),
        (5, "kind"),
        (6, "phone"),
        (7, "twice"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("line {line}: ")) && l.contains(why)),
            "line {line} ({why}) in {err}"
        );
    }
    assert!(
        !err.contains(&wrong_check) && !err.contains(&wrong_check[..12]),
        "{err}"
    );
    let listed = unicas(&t.config.db, &["user", "list"]).1;
    assert!(listed.contains("20240001") && listed.contains("20240007"));
    assert!(!listed.contains("20240002") && !listed.contains("20240004"));
    // A 15-digit number from an old card: its last six digits.
    let mut c = t.client();
    let steps = c.login("20240007", "312283", Some(SERVICE)).await;
    assert_eq!(steps.status, 200, "{}", steps.body);

    let unusable = write(&t, "bad.csv", b"foo,bar\n1,2\n");
    let (ok, _, err) = import(&t, &unusable, &[]);
    assert!(
        !ok && err.contains("no column for: account, name, kind, id_number, department."),
        "{err}"
    );
}

/// `--dry-run` reads and checks everything and writes nothing.
#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let t = TestServer::start().await;
    let roster = format!(
        "{HEADER}\n20240001,张三,学生,{},物理学院,,\n20240002,李四,学生,bad,物理学院,,\n",
        id_number("11010520030807451")
    );
    let file = write(&t, "roster.csv", roster.as_bytes());
    let before = dump_database(&t.config.db);
    let (ok, out, err) = import(&t, &file, &["--dry-run"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("1 rows readable (1 new, 0 already there), 1 refused; nothing written"),
        "{out}"
    );
    assert!(err.contains("line 3: "), "{err}");
    assert!(!unicas(&t.config.db, &["user", "list"])
        .1
        .contains("20240001"));
    assert_eq!(dump_database(&t.config.db), before);
}

/// Re-importing updates names, departments and kinds, adds newcomers, never resets a password
/// already changed; `--disable-missing` disables imported accounts no longer listed.
#[tokio::test]
async fn reimport_updates_without_resetting_passwords() {
    let t = TestServer::start().await;
    let (a, b) = (
        id_number("11010520030807451"),
        id_number("11010520040101002"),
    );
    let first =
        format!("{HEADER}\n20240001,张三,学生,{a},物理学院,,\n20240002,李四,学生,{b},化学学院,,\n");
    let file = write(&t, "roster.csv", first.as_bytes());
    assert!(import(&t, &file, &[]).0);

    // 张三 changes the initial password at first login.
    let mut c = t.client();
    let steps = c.login("20240001", &a[12..], Some(SERVICE)).await;
    let token = steps.input("execution").unwrap();
    let fields = [
        ("execution", token.as_str()),
        ("password", &a[12..]),
        ("newPassword", "New-Pass-2026"),
        ("confirmPassword", "New-Pass-2026"),
    ];
    let changed = c.post("/cas/login/first/password", &fields).await;
    assert_eq!(changed.status, 303, "{}", changed.body);

    let c_id = id_number("11010520050505123");
    let second = format!(
        "{HEADER}\n20240001,张三丰,教职工,{a},数学学院,,\n20240003,王五,学生,{c_id},物理学院,,\n"
    );
    let file = write(&t, "roster2.csv", second.as_bytes());
    let (ok, out, err) = import(&t, &file, &["--disable-missing"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("1 added, 1 updated, 0 unchanged, 0 refused, 1 disabled"),
        "{out}"
    );
    assert!(
        err.contains("hashed 1 initial passwords"),
        "only the newcomer: {err}"
    );
    let shown = show(&t, "20240001");
    for line in [
        "name: 张三丰",
        "kind: staff",
        "department: 数学学院",
        "initial_password: false",
    ] {
        assert!(shown.contains(line), "{line} in {shown}");
    }
    assert!(show(&t, "20240002").contains("status: disabled"));

    // The changed password still works, the initial one does not; the disabled account is
    // answered like any failure.
    let mut c = t.client();
    assert_eq!(c.login("20240001", &a[12..], None).await.status, 401);
    let resumed = c.login("20240001", "New-Pass-2026", None).await;
    assert!(
        resumed.body.contains("name=\"phone\""),
        "at the phone step: {}",
        resumed.body
    );
    assert_eq!(c.login("20240002", &b[12..], None).await.status, 401);

    // The same roster again changes nothing.
    let (ok, out, _) = import(&t, &file, &[]);
    assert!(
        ok && out.contains("0 added, 0 updated, 2 unchanged"),
        "{out}"
    );
}

/// Campus systems export GBK with Chinese headers; a UTF-8 BOM is fine too.
#[tokio::test]
async fn gbk_and_chinese_headers() {
    let t = TestServer::start().await;
    let text = format!(
        "学号/工号,姓名,类别,身份证号,院系,手机,邮箱\r\n20240001,欧阳娜娜,学生,{},外国语学院,,\r\n",
        id_number("11010520030807451")
    );
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let file = write(&t, "gbk.csv", &gbk);
    let (ok, out, err) = import(&t, &file, &[]);
    assert!(ok, "{out}{err}");
    let shown = show(&t, "20240001");
    assert!(shown.contains("name: 欧阳娜娜") && shown.contains("department: 外国语学院"));

    let bom = format!(
        "\u{feff}{}",
        text.replace("20240001,欧阳娜娜", "20240002,王小明")
    );
    let file = write(&t, "bom.csv", bom.as_bytes());
    assert!(import(&t, &file, &[]).0);
    assert!(show(&t, "20240002").contains("name: 王小明"));
}

/// Issue 24 item 10: the registrar's export as it is (GBK, CRLF, 工资号 and no kind column,
/// 部门, 手机号, an extra column, no e-mail column) imports as staff; an ID number Excel
/// turned into `1.40105E+17` is told how to fix, in both languages; a header lacking
/// columns names them all at once, in both languages.
#[tokio::test]
async fn the_registrars_export_imports_as_it_is() {
    let t = TestServer::start().await;
    let staff = id_number("31010419780312283");
    let roster = format!(
        "序号,工资号,姓名,性别,身份证号,部门,手机号\r\n\
         1,T2001,李四,男,{staff},财务处,13800138000\r\n\
         2,T2002,王五,女,1.40105E+17,财务处,\r\n"
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&roster);
    let file = write(&t, "export.csv", &gbk);
    let (ok, out, err) = import(&t, &file, &[]);
    assert!(!ok, "a row refused: {out}{err}");
    assert!(out.contains("1 added"), "{out}");
    assert!(show(&t, "t2001").contains("kind: staff"));
    assert!(show(&t, "t2001").contains("department: 财务处"));
    assert!(
        err.contains("line 3: the ID number 1.40105E+17 was turned into scientific notation by Excel: format the column as text and export again"),
        "{err}"
    );
    assert!(err.contains("第 3 行：身份证号 1.40105E+17 被 Excel 改成了科学计数法：在 Excel 中设置该列为文本格式后重新导出"), "{err}");
    assert!(!err.contains("must have 18 characters"), "{err}");

    let file = write(&t, "bad.csv", "学号/工号,电话\r\n1,2\r\n".as_bytes());
    let (ok, _, err) = import(&t, &file, &[]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "one message: {err}");
    assert!(
        err.contains("no column for: name, kind, id_number, department.")
            && err.contains("名单缺少这些列：姓名、类别、身份证号、院系。"),
        "{err}"
    );
}

/// Issue 24 item 11: `user list` finds who has not finished: by department, kind, status,
/// no phone bound, still on the initial password, never logged in; as TSV or CSV.
#[tokio::test]
async fn user_list_filters_who_has_not_finished() {
    let t = TestServer::start().await;
    t.add_imported("20240001", "31002X");
    t.add_imported("20240002", "31002X");
    t.bind("20240002", "phone", "+8613800138002");
    assert_eq!(t.client().login("alice", PASSWORD, None).await.status, 303);
    let list = |args: &[&str]| {
        let mut all = vec!["user", "list"];
        all.extend_from_slice(args);
        unicas(&t.config.db, &all)
    };
    let (ok, out, err) = list(&["--department", "物理学院", "--no-phone"]);
    assert!(ok, "{err}");
    assert_eq!(out, "20240001\tstudent\tactive\t学生20240001\n");
    let (_, out, _) = list(&["--initial-password", "--format", "csv"]);
    let lines: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines,
        [
            "account,name,kind,status,department,phone,initial_password,last_login",
            "20240001,学生20240001,student,active,物理学院,,true,",
            "20240002,学生20240002,student,active,物理学院,138****8002,true,",
        ]
    );
    let (_, never, _) = list(&["--never-logged-in"]);
    assert!(
        never.contains("20240001") && !never.contains("alice"),
        "{never}"
    );
    let (_, everyone, _) = list(&[]);
    assert!(everyone.contains("alice\tstudent\tactive\t"), "{everyone}");
    let (_, staff, _) = list(&["--kind", "staff", "--status", "active"]);
    assert_eq!(staff, "");
    let (ok, _, err) = list(&["--kind", "wizard"]);
    assert!(!ok && err.contains("unknown kind"), "{err}");
    let (ok, _, err) = list(&["--format", "xml"]);
    assert!(!ok && err.contains("unknown format"), "{err}");
}
