//! Day one at a school (issue 24): a student types the initial password with a lower-case
//! `x`, mistypes the phone and corrects it at once; an older account without a phone is
//! asked in the portal to bind one, redraws the image captcha on 账号管理's phone form, and
//! reads in 最近登录 how each login happened (密码, 短信验证码, 扫码).

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::{id_number, PASSWORD};

const NEW_PASSWORD: &str = "Maple-Creek-2026";

/// An ID number whose check character is `X`, as a tenth of them are.
fn id_ending_in_x() -> String {
    (1..1000)
        .map(|n| id_number(&format!("14010220050301{n:03}")))
        .find(|id| id.ends_with('X'))
        .expect("one in eleven ends in X")
}

async fn initial_password_and_a_mistyped_phone(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    let id = id_ending_in_x();
    campus.import_roster(&[["2024010103", "赵磊", "学生", &id]]);
    let initial = id[12..].to_lowercase();
    let b = campus.browser("zhao", p).await;
    b.open("/cas/login").await;
    b.sees_own_language().await;
    b.fill("username", "2024010103").await;
    b.fill("password", &initial).await;
    b.press(p.t("登录", "Log in")).await;
    b.see(p.t("首次登录", "First login")).await;
    b.fill("password", &initial).await;
    b.fill("newPassword", NEW_PASSWORD).await;
    b.fill("confirmPassword", NEW_PASSWORD).await;
    b.press(p.t("修改密码", "Change password")).await;
    b.see(p.t("已完成", "done")).await;

    // One digit wrong, then the right number at once: no wait for a number never used.
    b.fill("phone", "13912340001").await;
    b.press(p.t("获取验证码", "Send code")).await;
    let sent = p.t("验证码已发送至 ", "A code was sent to ");
    b.see(&format!("{sent}139****0001")).await;
    b.see_field(p.t("请输入短信验证码", "Enter the code from the text message"))
        .await;
    b.fill("phone", "13912340002").await;
    b.press(p.t("获取验证码", "Send code")).await;
    b.see(&format!("{sent}139****0002")).await;
    b.keep("corrected-number").await;
    let code = campus.server.sms_code("13912340002").await.unwrap();
    b.fill("code", &code).await;
    b.press(p.t("确定绑定", "Bind")).await;
    b.see(&format!("{}139****0002", p.t("已绑定 ", "bound to ")))
        .await;
    b.press(p.t("我已完成", "I'm done")).await;
    b.arrive("/cas/portal").await;
    b.see_no(p.t("尚未绑定手机", "No mobile phone is bound"))
        .await;
    b.close().await;
}

persons!(initial_password_and_a_mistyped_phone:
    zh_desktop => ZH_DESKTOP,
    en_phone => EN_PHONE,
    zh_phone_without_javascript => ZH_PHONE.without_javascript(),
);

async fn an_account_without_a_phone(test: &'static str, p: Person) {
    // One code from this address and the next needs the image captcha.
    let campus = Campus::start_with(test, false, |c| c.sms.per_address_hour = 2).await;
    let b = campus.browser("alice", p).await;
    b.open("/cas/login").await;
    b.sees_own_language().await;
    b.fill("username", "alice").await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("登录", "Log in")).await;
    b.arrive("/cas/portal").await;
    b.see(p.t(
        "您的账号尚未绑定手机",
        "No mobile phone is bound to your account",
    ))
    .await;
    b.keep("portal-notice").await;
    b.press(p.t("立即绑定", "Bind now")).await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("验证", "Confirm")).await;
    b.arrive("/cas/account/phone").await;
    b.fill("phone", "13600006666").await;
    b.press(p.t("获取验证码", "Send code")).await;
    b.see(p.t(
        "验证码已发送至 136****6666",
        "A code was sent to 136****6666",
    ))
    .await;

    // The captcha now on the form can be drawn again, without a script.
    b.see_field(p.t("请输入图片验证码", "Enter the characters in the image"))
        .await;
    let before = b.image("img.captcha").await;
    b.press(p.t("看不清，换一张", "Show another image")).await;
    b.see_field(p.t("请输入图片验证码", "Enter the characters in the image"))
        .await;
    assert_ne!(b.image("img.captcha").await, before, "a new image");
    b.keep("phone-form-captcha").await;
    let code = campus.server.sms_code("13600006666").await.unwrap();
    b.fill("code", &code).await;
    b.press(p.t("确认", "Confirm")).await;
    b.see(p.t("手机绑定成功。", "Your mobile phone was bound."))
        .await;
    b.open("/cas/portal").await;
    b.see(p.t("综合服务大厅", "Service hall")).await;
    b.see_no(p.t("尚未绑定手机", "No mobile phone is bound"))
        .await;

    // 短信登录 on a second device (its captcha stands in for this address's cap).
    let second = campus.browser("alice-sms", p).await;
    second.open("/cas/login").await;
    second.sees_own_language().await;
    second.press(p.t("短信登录", "SMS login")).await;
    second.fill("mobile", "13600006666").await;
    second.solve_captcha(&campus).await;
    second.press(p.t("获取验证码", "Send code")).await;
    second
        .see(p.t(
            "验证码已发送至 136****6666",
            "A code was sent to 136****6666",
        ))
        .await;
    let code = campus.server.sms_code("13600006666").await.unwrap();
    second.fill("dynamicCode", &code).await;
    second.press(p.t("登录", "Log in")).await;
    second.arrive("/cas/portal").await;
    second.close().await;

    // 扫码登录 on a third, confirmed on the first.
    let computer = campus.browser("alice-computer", p).await;
    computer.open("/cas/login?cllt=qrLogin").await;
    computer.sees_own_language().await;
    let uuid = computer.read_value("uuid").await;
    b.open(&format!("/cas/qrCode/qrCodeLogin.do?uuid={uuid}"))
        .await;
    b.press(p.t("确认登录", "Log in")).await;
    if !p.javascript {
        computer
            .press(p.t("我已在手机上确认", "I confirmed on my phone"))
            .await;
    }
    computer.arrive("/cas/portal").await;
    computer.press(p.t("账号管理", "Account management")).await;
    computer.see(p.t("最近登录", "Recent sign-ins")).await;
    let sign_ins = computer.read("table").await;
    for method in [
        p.t("扫码", "QR code"),
        p.t("短信验证码", "SMS code"),
        p.t("密码", "password"),
    ] {
        assert!(sign_ins.contains(method), "{method} in {sign_ins}");
    }
    computer.keep("recent-sign-ins").await;
    computer.close().await;
    b.close().await;
}

persons!(an_account_without_a_phone:
    zh_desktop => ZH_DESKTOP,
    en_phone => EN_PHONE,
    zh_desktop_without_javascript => ZH_DESKTOP.without_javascript(),
);
