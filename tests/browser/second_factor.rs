//! 二次认证 for an application that requires it (issue "A second factor for people, per
//! application"): alice, logged in to 教务系统 with her password, opens 图书馆 (registered
//! with `--mfa required`); with no second factor yet she sets up an authenticator by scanning
//! (here: reading the key under the QR code), saves her recovery codes and lands on 图书馆.
//! In another browser the step-up asks for the authenticator's code only, once per session;
//! a recovery code works too.

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::{authenticator_code, PASSWORD};

async fn second_factor(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    let (jw, library) = (&campus.apps[0], &campus.apps[1]);
    campus.require_second_factor(&library.pattern());

    let b = campus.browser("alice", p).await;
    b.open(&jw.url()).await;
    b.arrive("/cas/login?service=").await;
    b.sees_own_language().await;
    log_in(&b).await;
    b.arrive(&jw.url()).await;
    b.see("Signed in as alice").await;

    // 图书馆 asks for a second factor; alice has none: she sets one up.
    b.open(&library.url()).await;
    b.arrive("/cas/mfa?service=").await;
    b.see(p.t("「图书馆」要求二次认证", "图书馆 requires a second factor"))
        .await;
    b.see(p.t("尚未设置二次认证方式", "has no second factor yet"))
        .await;
    b.switches_language_and_back().await;
    let secret: String = b.read("code.secret").await.split_whitespace().collect();
    b.fill("code", "000000").await;
    b.press(p.t("验证并启用", "Verify and turn on")).await;
    b.see(p.t(
        "动态口令不正确，请输入身份验证器当前显示的 6 位数字。",
        "Wrong code: enter the 6 digits your authenticator shows now.",
    ))
    .await;
    let secret_again: String = b.read("code.secret").await.split_whitespace().collect();
    assert_eq!(secret, secret_again, "the same key until it is confirmed");
    let now = campus.server.clock().now();
    b.fill("code", &authenticator_code(&secret, now)).await;
    b.press(p.t("验证并启用", "Verify and turn on")).await;
    b.see(p.t(
        "请将以下恢复码抄写或打印后妥善保管",
        "Write these recovery codes down",
    ))
    .await;
    let codes = b.read("ol.codes").await;
    let first_code = codes.split_whitespace().next().unwrap().to_string();
    assert_eq!(codes.split_whitespace().count(), 10, "{codes}");
    b.press(p.t("我已保存，继续", "I have saved them, continue"))
        .await;
    b.arrive(&library.url()).await;
    b.see("Signed in as alice").await;
    b.close().await;

    // Another browser: the password, then the authenticator's next code.
    let other = campus.browser("alice-elsewhere", p).await;
    other.open(&library.url()).await;
    other.arrive("/cas/login?service=").await;
    log_in(&other).await;
    other.arrive("/cas/mfa?service=").await;
    other
        .see(p.t("身份验证器（动态口令）", "Authenticator app"))
        .await;
    let next = authenticator_code(&secret, campus.server.clock().now() + 30);
    other.fill("totp", &next).await;
    other
        .press_in(
            p.t("身份验证器（动态口令）", "Authenticator app"),
            p.t("验证", "Confirm"),
        )
        .await;
    other.arrive(&library.url()).await;
    other.see("Signed in as alice").await;
    // Once per session: 教务系统 and 图书馆 again need nothing more.
    other.open(&jw.url()).await;
    other.arrive(&jw.url()).await;
    other.close().await;

    // A third: a recovery code instead.
    let third = campus.browser("alice-recovery", p).await;
    third.open(&library.url()).await;
    log_in(&third).await;
    third.arrive("/cas/mfa?service=").await;
    third.fill("recovery", &first_code).await;
    third
        .press_in(p.t("恢复码", "Recovery codes"), p.t("验证", "Confirm"))
        .await;
    third.arrive(&library.url()).await;
    third.see("Signed in as alice").await;
    third.close().await;
}

async fn log_in(b: &Browser) {
    b.fill("username", "alice").await;
    b.fill("password", PASSWORD).await;
    b.press(b.t("登录", "Log in")).await;
}

persons!(second_factor:
    zh_desktop => ZH_DESKTOP,
    en_phone => EN_PHONE,
    zh_phone_without_javascript => ZH_PHONE.without_javascript(),
);
