//! WeCom (企业微信), the manual's section 2 against the local WeCom stand-in: a member opens
//! "点击验证身份" inside WeCom (二次验证), proves the account with its password, and is bound
//! ("绑定成功", WeCom told); from then on "企业微信登录" on a computer logs them in without a
//! password and on to the application. Another member binds from 账号管理 instead, through
//! WeCom's page and back.

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::PASSWORD;

async fn wecom(test: &'static str, p: Person) {
    let campus = Campus::start_with(test, true, |_| {}).await;
    let wx = campus.wx.as_ref().unwrap();
    let jw = &campus.apps[0];

    // 二次验证, inside WeCom on the phone.
    let in_wecom = Person {
        device: Device::WeCom,
        ..p
    };
    let phone = campus.browser("lisi-wecom", in_wecom).await;
    phone
        .open(&format!("/cas/wecom/verify?code={}", wx.wecom_code("lisi")))
        .await;
    phone.sees_own_language().await;
    phone
        .see(p.t("完成企业微信身份验证", "to join the school's WeCom"))
        .await;
    phone.fill("username", "alice").await;
    phone.fill("password", PASSWORD).await;
    phone.press(p.t("登录", "Log in")).await;
    phone.see(p.t("绑定成功", "Bound")).await;
    assert_eq!(wx.confirmed(), [("lisi".into(), "tfa_succ".into())]);
    // On to 个人中心 by itself, logged in (the manual's last picture), not to the login page.
    phone.arrive("/cas/portal").await;
    phone.see(p.t("账号管理", "Account management")).await;
    phone.close().await;

    // 企业微信登录 on a computer: WeCom's page, the member scans, back on the application.
    wx.wecom_scanner(Some("lisi"));
    let b = campus.browser("lisi-computer", p).await;
    b.open(&jw.url()).await;
    b.arrive("/cas/login?service=").await;
    b.sees_own_language().await;
    b.press(p.t("企业微信登录", "WeCom")).await;
    b.arrive(&jw.url()).await;
    b.see("Signed in as alice").await;
    b.close().await;

    // Binding from 账号管理: prove it is you, WeCom's page, and back, bound.
    campus.server.add_user("bob", PASSWORD, false, &[]);
    wx.wecom_scanner(Some("zhangsan"));
    let b = campus.browser("bob", p).await;
    b.open("/cas/login").await;
    b.sees_own_language().await;
    b.fill("username", "bob").await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("登录", "Log in")).await;
    b.press(p.t("账号管理", "Account management")).await;
    b.press_in(
        p.t("微信 / 企业微信", "WeChat / WeCom"),
        p.t("立即绑定", "Bind now"),
    )
    .await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("验证", "Confirm")).await;
    b.arrive("/cas/account").await;
    b.see(p.t("绑定成功。", "Bound.")).await;
    b.see(p.t("企业微信: 已绑定", "WeCom: Bound")).await;
    b.close().await;
}

persons!(wecom:
    zh_desktop => ZH_DESKTOP,
    en_phone => EN_PHONE,
);
