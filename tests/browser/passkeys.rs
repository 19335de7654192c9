//! 通行密钥 in 账号管理 (issue 25, docs/security.md P27): a student proves it is them, adds
//! a passkey with the browser's own authenticator (Chromium's virtual one, through the W3C
//! WebDriver extension), sees it listed, passes 图书馆's second factor with it (registered
//! with `--mfa required`), removes it and sees it gone. Without JavaScript the
//! page says what passkeys need.

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::PASSWORD;

/// docs/security.md P27.
async fn passkeys(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    campus.bind("alice", "phone", "13800001234");
    let b = campus.browser("alice", p).await;
    b.open("/cas/login").await;
    b.sees_own_language().await;
    if p.javascript {
        b.add_passkey_authenticator().await;
    }
    b.fill("username", "alice").await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("登录", "Log in")).await;
    b.arrive("/cas/portal").await;
    b.press(p.t("账号管理", "Account management")).await;
    b.arrive("/cas/account").await;
    b.press_in(
        p.t("通行密钥", "Passkeys"),
        p.t("管理通行密钥", "Manage passkeys"),
    )
    .await;
    // Her bound phone is a second factor: changing factors asks for one first, which also
    // proves it is her.
    b.arrive("/cas/mfa?next=passkeys").await;
    b.see(p.t(
        "更改二次认证方式前",
        "Before you change your second factors",
    ))
    .await;
    b.press(p.t("获取验证码", "Send code")).await;
    let code = campus.server.sms_code("13800001234").await.unwrap();
    b.fill("code", &code).await;
    b.press_in(p.t("短信验证码", "Code by SMS"), p.t("验证", "Confirm"))
        .await;
    b.arrive("/cas/account/passkeys").await;
    b.see(p.t("尚未添加通行密钥。", "No passkeys yet.")).await;
    if !p.javascript {
        b.see(p.t(
            "通行密钥需要开启 JavaScript 的新版浏览器",
            "Passkeys need a current browser with JavaScript",
        ))
        .await;
        b.close().await;
        return;
    }
    b.see_no(p.t(
        "通行密钥需要开启 JavaScript 的新版浏览器",
        "Passkeys need a current browser with JavaScript",
    ))
    .await;
    b.fill("name", "我的电脑").await;
    b.press(p.t("添加通行密钥", "Add a passkey")).await;
    // Her first factor beyond the phone: ten recovery codes, shown once.
    b.see(p.t(
        "请将以下恢复码抄写或打印后妥善保管",
        "Write these recovery codes down",
    ))
    .await;
    b.press(p.t("我已保存，继续", "I have saved them, continue"))
        .await;
    b.arrive("/cas/account/passkeys").await;
    b.see(p.t("已添加通行密钥。", "Passkey added.")).await;
    b.see("我的电脑").await;
    b.see(p.t("从未使用", "never")).await;
    let stored = campus.server.server.store.passkeys_of("alice").unwrap();
    assert_eq!(stored.len(), 1, "one passkey stored");
    assert_eq!(stored[0].name, "我的电脑");

    // 图书馆 requires a second factor: the passkey is it, once for this session.
    let library = &campus.apps[1];
    campus.require_second_factor(&library.pattern());
    // This session passed the phone's code already: a new one, in the same browser (the
    // authenticator is the browser's), passes with the passkey.
    b.open("/cas/logout").await;
    b.open(&library.url()).await;
    b.arrive("/cas/login?service=").await;
    b.fill("username", "alice").await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("登录", "Log in")).await;
    b.arrive("/cas/mfa?service=").await;
    b.see(p.t("「图书馆」要求二次认证", "图书馆 requires a second factor"))
        .await;
    b.press(p.t("使用通行密钥验证", "Use a passkey")).await;
    b.arrive(&library.url()).await;
    b.see("Signed in as alice").await;
    b.open(&library.url()).await;
    b.arrive(&library.url()).await;

    // 账号管理 counts it.
    b.open("/cas/account").await;
    b.see(p.t("已添加 1 个", "1 added")).await;
    b.press_in(
        p.t("通行密钥", "Passkeys"),
        p.t("管理通行密钥", "Manage passkeys"),
    )
    .await;
    // This session passed the passkey; removing one still asks it is her.
    b.see(p.t(
        "为保障账号安全，请先验证身份。",
        "please confirm it is you first",
    ))
    .await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("验证", "Confirm")).await;
    b.arrive("/cas/account/passkeys").await;
    b.press(p.t("删除", "Remove")).await;
    b.arrive("/cas/account/passkeys").await;
    b.see(p.t("已删除通行密钥。", "Passkey removed.")).await;
    b.see_no("我的电脑").await;
    b.see(p.t("尚未添加通行密钥。", "No passkeys yet.")).await;
    assert!(campus
        .server
        .server
        .store
        .passkeys_of("alice")
        .unwrap()
        .is_empty());
    b.close().await;
}

persons!(passkeys:
    zh_desktop => ZH_DESKTOP,
    en_phone => EN_PHONE,
    zh_phone_without_javascript => ZH_PHONE.without_javascript(),
);
