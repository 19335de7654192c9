//! The manual's section 1.1: a student from the roster logs in with the last six characters
//! of the ID number, changes the password (a weak one refused, with the rule shown), binds a
//! phone with the code the SMS gateway got, presses "我已完成" and arrives at the application;
//! without an application, at the portal (综合服务大厅).

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::id_number;

const NEW_PASSWORD: &str = "Lake-Violet-2026";

async fn first_login(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    let (li, wang) = (
        id_number("14010220050301002"),
        id_number("14010220041111003"),
    );
    campus.import_roster(&[
        ["2024010101", "李明", "学生", &li],
        ["2024010102", "王芳", "学生", &wang],
    ]);
    let jw = &campus.apps[0];

    // To the application.
    let b = campus.browser("li", p).await;
    b.open(&jw.url()).await;
    b.arrive("/cas/login?service=").await;
    steps(&campus, &b, "2024010101", &li[12..], "13912345678").await;
    b.arrive(&jw.url()).await;
    b.see("Signed in as 2024010101").await;
    b.close().await;

    // No application asked: the portal.
    let b = campus.browser("wang", p).await;
    b.open("/cas/login").await;
    steps(&campus, &b, "2024010102", &wang[12..], "13912340000").await;
    b.arrive("/cas/portal").await;
    b.see(p.t("综合服务大厅", "Service hall")).await;
    b.see("2024010102").await;
    b.close().await;
}

/// From the login page to "我已完成", as the manual has it.
async fn steps(campus: &Campus, b: &Browser, account: &str, initial: &str, phone: &str) {
    let p = b.person;
    b.fill("username", account).await;
    b.fill("password", initial).await;
    b.press(p.t("登录", "Log in")).await;
    // The language is switched and back on the steps, which must not lose them or the
    // application.
    b.see(p.t("首次登录", "First login")).await;
    b.switches_language_and_back().await;
    b.see(p.t("首次登录", "First login")).await;
    b.see(p.t("请先修改密码，再绑定手机。", "Change your password first"))
        .await;

    // A password the school's policy refuses: the reason and the rules.
    b.fill("password", initial).await;
    b.fill("newPassword", "12345678").await;
    b.fill("confirmPassword", "12345678").await;
    b.press(p.t("修改密码", "Change password")).await;
    b.see(p.t(
        "新密码不符合学校密码要求",
        "does not meet the university's rules",
    ))
    .await;
    b.see(p.t("密码规则：至少8位", "Rules: at least 8 characters"))
        .await;

    b.fill("password", initial).await;
    b.fill("newPassword", NEW_PASSWORD).await;
    b.fill("confirmPassword", NEW_PASSWORD).await;
    b.press(p.t("修改密码", "Change password")).await;
    b.see(p.t("已完成", "done")).await;

    // The phone, with the code the gateway was given.
    b.fill("phone", phone).await;
    b.press(p.t("获取验证码", "Send code")).await;
    let masked = format!("{}****{}", &phone[..3], &phone[7..]);
    b.see(&format!(
        "{}{masked}",
        p.t("验证码已发送至 ", "A code was sent to ")
    ))
    .await;
    let code = campus
        .server
        .sms_code(phone)
        .await
        .unwrap_or_else(|| panic!("no code in the outbox for {phone}"));
    b.fill("code", &code).await;
    b.press(p.t("确定绑定", "Bind")).await;
    b.see(&format!("{}{masked}", p.t("已绑定 ", "bound to ")))
        .await;

    b.press(p.t("我已完成", "I'm done")).await;
}

persons!(first_login:
    zh_desktop => ZH_DESKTOP,
    en_phone => EN_PHONE,
    zh_desktop_without_javascript => ZH_DESKTOP.without_javascript(),
    firefox_en_desktop => EN_DESKTOP.in_firefox(),
);
