//! WeCom's secondary verification page (二次验证: "学号/工号 + 密码 → 绑定成功"), opened by
//! WeCom inside its app, and the page after binding.

use super::{Chrome, Refresh};
use maud::{html, Markup};

impl Chrome<'_> {
    /// The account and password that prove who the WeCom member is.
    pub fn wecom_verify(
        &self,
        token: &str,
        key: &str,
        username: &str,
        captcha: bool,
        error: Option<&str>,
    ) -> Markup {
        let t = self.t();
        self.page(
            t.wecom_verify_title,
            html! {
                div.card.login {
                    h1 { (t.wecom_verify_title) }
                    p.hint { (t.wecom_verify_intro) }
                    @if let Some(error) = error { p #showErrorTip .error role="alert" { (error) } }
                    form method="post" action=(format!("{}/wecom/verify", self.prefix)) autocomplete="off" {
                        input type="hidden" name="execution" value=(token);
                        input type="hidden" name="key" value=(key);
                        label.sr for="username" { (t.username_placeholder) }
                        input #username type="text" name="username" value=(username) placeholder=(t.username_placeholder) autocapitalize="off" required;
                        label.sr for="password" { (t.password_placeholder) }
                        input #password type="password" name="password" placeholder=(t.password_placeholder) required;
                        @if captcha { (self.captcha_field(true, Refresh::Submit)) }
                        button type="submit" { (t.login_button) }
                        @if captcha { (self.captcha_refresh_submit()) }
                    }
                    p.links {
                        a href=(format!("{}/forgot", self.prefix)) { (t.forgot_password) }
                        a href=(format!("{}/help", self.prefix)) { (t.help) }
                    }
                }
            },
        )
    }

    /// "绑定成功", and back to the portal a second later ("返回(1)").
    pub fn bound(&self, portal: &str) -> Markup {
        let t = self.t();
        self.layout(
            t.bound_title,
            Some((1, portal)),
            false,
            html! {
                div.card {
                    h1 { (t.bound_title) }
                    p.success { (t.bound_title) }
                    p { a.button href=(portal) data-countdown="1" data-template=(t.back_in) { (t.back_in.replace("{n}", "1")) } }
                    script src=(format!("{}/assets/countdown.js", self.prefix)) {}
                }
            },
        )
    }
}
