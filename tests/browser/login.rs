//! Logging in with a password, as most people do every day: the application sends the
//! browser to the login page, and after the password the application shows who is logged in;
//! a second application needs no password (SSO); an application asking for a fresh login
//! (`renew=true`) gets the password form again; logging out reaches every application by
//! single logout.

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::PASSWORD;

async fn password_login(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    let [jw, library] = &campus.apps;
    let b = campus.browser("alice", p).await;

    b.open(&jw.url()).await;
    b.arrive("/cas/login?service=").await;
    // The page is in the browser's language. A mistyped password first; the language is
    // switched and back on the page that says so, and the application is still where the
    // login leads.
    b.sees_own_language().await;
    b.fill("username", "alice").await;
    b.fill("password", "not-the-password").await;
    b.press(p.t("登录", "Log in")).await;
    b.see(p.t("用户名或密码错误", "Incorrect account or password"))
        .await;
    b.switches_language_and_back().await;
    let title = b.title().await;
    if !title.starts_with(p.t("统一身份认证", "Unified Identity Authentication")) {
        b.fail(&format!("the login page is titled {title:?}")).await;
    }
    b.see(p.t("账号登录", "Account login")).await;
    b.fill("username", "alice").await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("登录", "Log in")).await;
    b.arrive(&jw.url()).await;
    b.see("教务系统").await;
    b.see("Signed in as alice").await;

    // The second application: straight in, no password.
    b.open(&library.url()).await;
    b.arrive(&library.url()).await;
    b.see("图书馆").await;
    b.see("Signed in as alice").await;

    // renew=true: the password again, even with a session.
    b.open(&jw.url()).await;
    b.press("Sign in again").await;
    b.arrive("/cas/login?service=").await;
    b.fill("username", "alice").await;
    b.fill("password", PASSWORD).await;
    b.press(p.t("登录", "Log in")).await;
    b.arrive(&format!("{}renew", jw.url())).await;
    b.see("Signed in as alice").await;

    // Logging out: the page says so, and every application hears of it.
    b.open("/cas/logout").await;
    b.see(p.t("已退出登录", "Logged out")).await;
    for app in [jw, library] {
        let started = std::time::Instant::now();
        while !app.logged_out().contains(&"alice".to_string()) {
            if started.elapsed() > PATIENCE {
                b.fail(&format!("{} never heard of the logout", app.title))
                    .await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        b.open(&app.url()).await;
        b.arrive("/cas/login?service=").await;
        b.see(p.t("账号登录", "Account login")).await;
    }
    b.close().await;
}

persons!(password_login:
    zh_desktop => ZH_DESKTOP,
    en_phone => EN_PHONE,
    zh_wechat => ZH_WECHAT,
    zh_desktop_without_javascript => ZH_DESKTOP.without_javascript(),
    firefox_zh_desktop => ZH_DESKTOP.in_firefox(),
    firefox_en_phone => EN_PHONE.in_firefox(),
);
