//! The portal's account management (账号管理, the manual's 1.1 (2)): signing out the other
//! devices (seen from a second browser), changing the bound phone after proving it is still
//! you, binding an e-mail address, setting security questions, and changing the password.

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::PASSWORD;
use unicas::otp::Recipient;

const NEW_PASSWORD: &str = "Quiet-Harbor-2026";

async fn account_management(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    campus.bind("alice", "phone", "13800001234");
    let b = campus.browser("alice", p).await;
    b.open("/cas/login").await;
    b.sees_own_language().await;
    log_in(&b, PASSWORD).await;
    b.arrive("/cas/portal").await;
    b.see(p.t("综合服务大厅", "Service hall")).await;
    b.press(p.t("账号管理", "Account management")).await;
    b.arrive("/cas/account").await;

    // "退出其他设备上的登录": the other computer finds itself logged out.
    let other = campus.browser("alice-elsewhere", p).await;
    other.open("/cas/login").await;
    other.sees_own_language().await;
    log_in(&other, PASSWORD).await;
    other.arrive("/cas/portal").await;
    b.open("/cas/account").await;
    b.press(p.t("退出其他设备上的登录", "Sign out everywhere else"))
        .await;
    b.see(p.t(
        "已退出其他设备上的登录。",
        "You were signed out everywhere else.",
    ))
    .await;
    other.open("/cas/account").await;
    other.arrive("/cas/login").await;
    other.see(p.t("账号登录", "Account login")).await;
    other.close().await;

    // A new phone: prove it is you (the password), then the code to the new number.
    b.see(p.t("已绑定：138****1234", "Bound: 138****1234"))
        .await;
    b.press_in(p.t("手机绑定", "Mobile phone"), p.t("更换", "Change"))
        .await;
    b.see(p.t(
        "为保障账号安全，请先验证身份。",
        "please confirm it is you first",
    ))
    .await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("验证", "Confirm")).await;
    b.fill("phone", "13700001111").await;
    b.press(p.t("获取验证码", "Send code")).await;
    b.see(p.t(
        "验证码已发送至 137****1111",
        "A code was sent to 137****1111",
    ))
    .await;
    let code = campus.server.sms_code("13700001111").await.unwrap();
    b.fill("code", &code).await;
    b.press(p.t("确认", "Confirm")).await;
    b.arrive("/cas/account").await;
    b.see(p.t("手机绑定成功。", "Your mobile phone was bound."))
        .await;
    b.see(p.t("已绑定：137****1111", "Bound: 137****1111"))
        .await;

    // An e-mail address, with the code the mail server was given.
    b.press_in(p.t("邮箱绑定", "E-mail"), p.t("立即绑定", "Bind now"))
        .await;
    b.fill("email", "alice.li@mail.example.edu").await;
    b.press(p.t("获取验证码", "Send code")).await;
    b.see(p.t("验证码已发送至", "A code was sent to")).await;
    let to = Recipient::Email(unicas::model::Email::parse("alice.li@mail.example.edu").unwrap());
    let code = campus.server.delivered("email", &to).await.unwrap();
    b.fill("code", &code).await;
    b.press(p.t("确认", "Confirm")).await;
    b.arrive("/cas/account").await;
    b.see(p.t("邮箱绑定成功。", "Your e-mail address was bound."))
        .await;

    // Security questions, for a recovery without phone or mail.
    b.press(p.t("设置密保问题", "Set security questions")).await;
    let questions = [
        ("您母亲的姓名是？", "What is your mother's name?", "张桂英"),
        ("您父亲的姓名是？", "What is your father's name?", "李建国"),
        (
            "您就读的小学校名是？",
            "What was the name of your primary school?",
            "城关小学",
        ),
    ];
    for (n, (zh, en, answer)) in questions.iter().enumerate() {
        b.choose(&format!("question{}", n + 1), p.t(zh, en)).await;
        b.fill(&format!("answer{}", n + 1), answer).await;
    }
    b.press(p.t("保存", "Save")).await;
    b.arrive("/cas/account").await;
    b.see(p.t("密保问题已保存。", "Your security questions were saved."))
        .await;
    b.see(p.t("已设置 3 个", "3 set")).await;

    // The password.
    b.fill("password", PASSWORD).await;
    b.fill("newPassword", NEW_PASSWORD).await;
    b.fill("confirmPassword", NEW_PASSWORD).await;
    b.press(p.t("修改密码", "Change password")).await;
    b.see(p.t("密码修改成功", "Your password was changed"))
        .await;
    b.close().await;

    // The new password is the one that logs in now.
    let later = campus.browser("alice-later", p).await;
    later.open("/cas/login").await;
    later.sees_own_language().await;
    log_in(&later, PASSWORD).await;
    later
        .see(p.t("用户名或密码错误", "Incorrect account or password"))
        .await;
    log_in(&later, NEW_PASSWORD).await;
    later.arrive("/cas/portal").await;
    later.close().await;
}

async fn log_in(b: &Browser, password: &str) {
    b.fill("username", "alice").await;
    b.fill("password", password).await;
    b.press(b.t("登录", "Log in")).await;
}

persons!(account_management:
    zh_desktop => ZH_DESKTOP,
    en_phone => EN_PHONE,
    firefox_zh_desktop => ZH_DESKTOP.in_firefox(),
);
