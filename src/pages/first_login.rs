//! The first-login page (首次登录), as the school's manual has it: change the password, bind
//! a mobile phone with an SMS code ("获取验证码", "确定绑定"), then "我已完成". It works
//! without JavaScript (each button posts its form and the page comes back); with it, the
//! resend countdown ticks (`assets/countdown.js`). Field names are stable for scripts:
//! `password`, `newPassword`, `confirmPassword`; `phone`, `code`; the buttons are `action`
//! = `send` and `action` = `bind`.

use super::{Chrome, Refresh};
use maud::{html, Markup};

/// The state of the steps, for the page.
pub struct FirstLoginView<'a> {
    /// The form token (CSRF).
    pub token: &'a str,
    pub account_id: &'a str,
    /// The password step is needed and not yet done.
    pub password_pending: bool,
    /// The phone step is needed and not yet done.
    pub phone_pending: bool,
    /// The number bound (masked), once done.
    pub phone_bound: Option<String>,
    /// The number typed (shown back to its owner, unmasked, right after entering it).
    pub phone_input: &'a str,
    /// Where the live code went (masked), if one did.
    pub code_sent_to: Option<String>,
    /// Seconds before another code may be asked for.
    pub wait: i64,
    /// Ask for an image captcha before the next send.
    pub captcha: bool,
    pub error: Option<String>,
    pub rules: String,
}

impl Chrome<'_> {
    pub fn first_login(&self, v: &FirstLoginView) -> Markup {
        let t = self.t();
        let action = |step: &str| format!("{}/login/first/{step}", self.prefix);
        self.page(
            t.first_title,
            html! {
                div.card.first {
                    h1 { (t.first_title) }
                    p { (t.first_intro) " (" (v.account_id) ")" }
                    @if let Some(error) = &v.error { p #showErrorTip .error role="alert" { (error) } }
                    div.step {
                        h2 { "1. " (t.change_title) @if !v.password_pending { span.done { " ✓ " (t.step_done) } } }
                        @if v.password_pending {
                            form method="post" action=(action("password")) autocomplete="off" {
                                input type="hidden" name="execution" value=(v.token);
                                label.sr for="password" { (t.current_password) }
                                input #password type="password" name="password" placeholder=(t.current_password) required;
                                label.sr for="newPassword" { (t.new_password) }
                                input #newPassword type="password" name="newPassword" placeholder=(t.new_password) required;
                                label.sr for="confirmPassword" { (t.repeat_password) }
                                input #confirmPassword type="password" name="confirmPassword" placeholder=(t.repeat_password) required;
                                p.rules { (v.rules) }
                                button type="submit" { (t.change_title) }
                            }
                        }
                    }
                    div.step {
                        h2 { "2. " (t.bind_phone_title)
                            @if let Some(bound) = &v.phone_bound { span.done { " ✓ " (t.phone_bound_to) (bound) } } }
                        @if v.phone_pending {
                            @if v.password_pending {
                                p.hint { (t.password_first) }
                            } @else {
                                form method="post" action=(action("phone")) autocomplete="off" {
                                    input type="hidden" name="execution" value=(v.token);
                                    label.sr for="phone" { (t.phone_placeholder) }
                                    input #phone type="tel" name="phone" value=(v.phone_input) placeholder=(t.phone_placeholder) required;
                                    @if v.captcha { (self.captcha_field(false, Refresh::Link(&format!("{}/login/first", self.prefix)))) }
                                    (self.send_code_button(v.wait))
                                    @if let Some(to) = &v.code_sent_to {
                                        p.notice { (t.code_sent_to) (to) }
                                        (self.code_field("code", false))
                                        button type="submit" name="action" value="bind" { (t.bind_button) }
                                    }
                                }
                            }
                            p.note { (t.phone_required) }
                        }
                    }
                    form method="post" action=(action("done")) {
                        input type="hidden" name="execution" value=(v.token);
                        button #finish type="submit" { (t.finish_button) }
                        @if v.password_pending || v.phone_pending { p.hint { (t.finish_first) } }
                    }
                    script src=(format!("{}/assets/countdown.js", self.prefix)) {}
                }
            },
        )
    }
}
