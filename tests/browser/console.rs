//! The admin console (管理控制台), as the IT office's counter uses it: past the second factor
//! (a code to the administrator's phone, then an authenticator enrolled and used), finding a
//! student, locking the account, resetting its password (the temporary one shown once), and
//! exporting the audit log as CSV.

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::{authenticator_code, PASSWORD};

async fn console(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    campus.add_admin("it001", "13900139000");

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

    // A student at the counter: find, lock, reset.
    b.press(p.t("账号", "Accounts")).await;
    b.fill("q", "alice").await;
    b.press(p.t("查询", "Search")).await;
    b.see("User alice").await;
    b.press("alice").await;
    b.press(p.t("锁定", "Lock")).await;
    b.see(p.t("已完成：锁定", "Done: Lock")).await;
    b.see(p.t("已锁定", "Locked")).await;
    b.press(p.t("重置密码", "Reset password")).await;
    b.see(p.t("临时密码只显示这一次", "Shown this once")).await;
    b.see(p.t("临时密码：", "Temporary password: ")).await;

    // The audit log, and its export.
    b.press(p.t("审计日志", "Audit log")).await;
    b.see("alice").await;
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
);
