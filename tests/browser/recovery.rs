//! The manual's section 3, forgot password (忘记密码): the account and the image captcha; 手机
//! 号验证 with the code sent to the bound phone; the new password twice; "密码找回成功", and
//! back to the login page, where the new password logs in.

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;

const NEW_PASSWORD: &str = "Maple-Lantern-2026";

async fn forgot_password(test: &'static str, p: Person) {
    // Half of this address's hourly texts used after one: the captcha comes before the next.
    let campus = Campus::start_with(test, false, |c| c.sms.per_address_hour = 2).await;
    campus.bind("alice", "phone", "13600002222");
    let b = campus.browser("alice", p).await;
    b.open("/cas/login").await;
    b.sees_own_language().await;
    b.press(p.t("忘记密码", "Forgot password")).await;

    // 1: the account and the characters in the image (read from the server's test hook, as
    // a person reads them from the picture).
    b.see(p.t(
        "请输入学号/工号和图片验证码。",
        "Enter your student or payroll number",
    ))
    .await;
    // A mistyped account first: step 2 names it, and 换一个账号 starts again.
    b.fill("username", "alcie").await;
    b.solve_captcha(&campus).await;
    b.press(p.t("下一步", "Next")).await;
    b.see("alcie").await;
    b.press(p.t("换一个账号", "Another account")).await;
    b.fill("username", "alice").await;
    b.solve_captcha(&campus).await;
    b.press(p.t("下一步", "Next")).await;

    // 2: the bound phone and its code.
    b.see(p.t("找回账号： alice", "Account: alice")).await;
    b.see(p.t(
        "您可以通过以下方式安全验证",
        "You can confirm who you are in these ways",
    ))
    .await;
    // A mistyped number first (nothing tells it is not hers), then hers, after the
    // captcha that the second send needs; the code's 下一步 needs no captcha.
    b.fill("phone", "13600002223").await;
    b.press(p.t("获取验证码", "Send code")).await;
    b.see(p.t("验证码已发送至", "A code was sent to")).await;
    b.fill("phone", "13600002222").await;
    b.press(p.t("获取验证码", "Send code")).await;
    b.see(p.t(
        "请先输入图片验证码。",
        "Enter the characters in the image first.",
    ))
    .await;
    b.solve_captcha(&campus).await;
    b.press(p.t("获取验证码", "Send code")).await;
    b.see(p.t(
        "验证码已发送至 136****2222",
        "A code was sent to 136****2222",
    ))
    .await;
    let code = campus.server.sms_code("13600002222").await.unwrap();
    b.fill("code", &code).await;
    b.press(p.t("下一步", "Next")).await;

    // 3: the new password, twice.
    b.see(p.t(
        "请设置帐号 alice 的密码",
        "Set the password of account alice",
    ))
    .await;
    b.fill("newPassword", NEW_PASSWORD).await;
    b.fill("confirmPassword", NEW_PASSWORD).await;
    b.press(p.t("确定", "Confirm")).await;

    // 4: done, and on to the login page by itself.
    b.see(p.t("密码找回成功", "Your password was reset.")).await;
    b.arrive("/cas/login").await;
    b.fill("username", "alice").await;
    b.fill("password", NEW_PASSWORD).await;
    b.press(p.t("登录", "Log in")).await;
    b.arrive("/cas/portal").await;
    b.see(p.t("综合服务大厅", "Service hall")).await;
    b.close().await;
}

persons!(forgot_password:
    zh_phone => ZH_PHONE,
    en_desktop => EN_DESKTOP,
    firefox_zh_phone => ZH_PHONE.in_firefox(),
);
