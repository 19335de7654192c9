//! The admin console (管理控制台), as the IT office's counter uses it: past the second factor
//! (a code to the administrator's phone, then an authenticator enrolled and used), finding a
//! student, locking the account, resetting its password (asked first, the temporary one on a
//! slip to print, shown once), finding who has not finished (the account list's filters and
//! pages), previewing the registrar's export as it is, and the audit log in words and as CSV.

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::{authenticator_code, PASSWORD};

async fn console(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    campus.add_admin("it001", "13900139000");
    // A roster's students who have not bound a phone: more than one page of them.
    for i in 0..101 {
        campus.server.add_imported(&format!("2024{i:04}"), "31002X");
    }

    // First visit: the code to the administrator's phone, then an authenticator.
    let b = campus.browser("it001", p).await;
    log_in_to_console(&b).await;
    b.press(p.t("获取验证码", "Send code")).await;
    let code = campus.server.sms_code("13900139000").await.unwrap();
    b.fill("code", &code).await;
    b.press(p.t("验证", "Confirm")).await;
    b.see(p.t("最近事件", "Recent events")).await;
    b.press(p.t("动态口令", "Authenticator")).await;
    // The secret as the page shows it for typing into an authenticator app.
    let secret = b.read("code.secret").await.replace(' ', "");
    let now = campus.server.clock().now();
    b.fill("code", &authenticator_code(&secret, now)).await;
    b.press(p.t("验证", "Confirm")).await;
    b.see(p.t("已登记动态口令。", "An authenticator is enrolled."))
        .await;
    b.close().await;

    // The next day at the counter: the authenticator's code (a new time step).
    campus.server.clock().advance(30);
    let b = campus.browser("it001-counter", p).await;
    log_in_to_console(&b).await;
    let now = campus.server.clock().now();
    b.fill("totp", &authenticator_code(&secret, now)).await;
    b.press(p.t("验证", "Confirm")).await;
    b.see(p.t("最近事件", "Recent events")).await;

    // Who has not finished: a department's students without a phone, a page at a time.
    b.press(p.t("账号", "Accounts")).await;
    b.fill("department", "物理学院").await;
    b.tick("no_phone").await;
    b.press(p.t("筛选", "Filter")).await;
    b.see(p.t("共 101 个账号，第 1/2 页", "101 accounts, page 1 of 2"))
        .await;
    b.keep("accounts-filtered").await;
    b.press(p.t("下一页", "Next")).await;
    b.see(p.t("共 101 个账号，第 2/2 页", "101 accounts, page 2 of 2"))
        .await;
    b.see("20240100").await;
    b.press("20240100").await;
    // 手机：未绑定, on the row of the phone.
    let details = b.read("table.details").await;
    let (phone, unbound) = (p.t("手机", "Phone"), p.t("未绑定", "not bound"));
    if !details
        .lines()
        .any(|l| l.starts_with(phone) && l.ends_with(unbound))
    {
        b.fail(&format!("no {phone}: {unbound} in {details:?}"))
            .await;
    }
    b.keep("account-unbound").await;
    b.press(p.t("账号", "Accounts")).await;
    b.fill("department", "物理学院").await;
    b.tick("no_phone").await;
    b.press(p.t("筛选", "Filter")).await;
    b.press(p.t("下一页", "Next")).await;
    b.press(p.t("上一页", "Previous")).await;
    b.see(p.t("共 101 个账号，第 1/2 页", "101 accounts, page 1 of 2"))
        .await;

    // A student at the counter: find, lock, reset.
    b.press(p.t("账号", "Accounts")).await;
    b.fill("q", "alice").await;
    b.press(p.t("筛选", "Filter")).await;
    b.see("User alice").await;
    b.press("alice").await;
    b.press(p.t("锁定", "Lock")).await;
    b.see(p.t("已完成：锁定", "Done: Lock")).await;
    b.see(p.t("已锁定", "Locked")).await;
    b.keep("account").await;
    // A reset asks first; 取消 leaves the password as it was.
    let before = campus
        .server
        .server
        .store
        .account("alice")
        .unwrap()
        .unwrap();
    b.press(p.t("重置密码", "Reset password")).await;
    b.see(p.t("确认重置密码？", "Reset password: are you sure?"))
        .await;
    b.keep("confirm").await;
    b.press(p.t("取消", "Cancel")).await;
    b.arrive("/cas/admin/account?id=alice").await;
    let after = campus
        .server
        .server
        .store
        .account("alice")
        .unwrap()
        .unwrap();
    if after.password_hash != before.password_hash {
        b.fail("取消 reset the password").await;
    }
    b.press(p.t("重置密码", "Reset password")).await;
    b.press(p.t("确认", "Confirm")).await;
    b.see(p.t(
        "首次登录须修改密码",
        "Change the password at the first login",
    ))
    .await;
    b.see(p.t("临时密码只显示这一次", "Shown this once")).await;
    let temporary = b.read("code.slip-password").await;
    let groups: Vec<&str> = temporary.split('-').collect();
    let readable = groups.len() == 3
        && groups[1].len() == 4
        && groups[1].bytes().all(|c| b"34679".contains(&c))
        && [groups[0], groups[2]]
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|c| b"acdefghjkmnpqrtuvwxy".contains(&c)));
    if !readable {
        b.fail(&format!(
            "a temporary password with look-alikes: {temporary}"
        ))
        .await;
    }
    b.keep("slip").await;

    // The registrar's export as it is, previewed: what is wrong, in the console's language.
    let roster = campus.server.dir.path().join("export.csv");
    let export = "序号,工资号,姓名,身份证号,部门\r\n1,T1001,李四,1.10105E+17,财务处\r\n";
    std::fs::write(&roster, encoding_rs::GBK.encode(export).0).unwrap();
    b.press(p.t("导入名单", "Import roster")).await;
    b.upload("roster", &roster).await;
    b.press(p.t("预览", "Preview")).await;
    b.see(p.t(
        "设置该列为文本格式后重新导出",
        "format the column as text and export again",
    ))
    .await;
    b.keep("import").await;

    // The audit log, and its export.
    b.press(p.t("审计日志", "Audit log")).await;
    b.see("alice").await;
    b.see(p.t("进入管理控制台", "Entered the admin console"))
        .await;
    b.keep("audit").await;
    let csv = b.download(p.t("导出 CSV", "Export CSV")).await;
    for expected in ["admin_entered", "lock alice", "reset alice"] {
        if !csv.contains(expected) {
            b.fail(&format!("the export lacks {expected:?}:\n{csv}"))
                .await;
        }
    }
    b.close().await;
}

async fn log_in_to_console(b: &Browser) {
    let p = b.person;
    b.open("/cas/login").await;
    b.sees_own_language().await;
    b.fill("username", "it001").await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("登录", "Log in")).await;
    b.press(p.t("管理控制台", "Admin console")).await;
    b.see(p.t(
        "管理员登录管理控制台需要第二重验证",
        "Administrators confirm a second factor",
    ))
    .await;
}

persons!(console:
    zh_desktop => ZH_DESKTOP,
    en_phone => EN_PHONE,
    en_desktop => EN_DESKTOP,
    zh_phone_without_javascript => ZH_PHONE.without_javascript(),
);
