//! Forgot password (忘记密码), the manual's four steps: the account and an image captcha;
//! "您可以通过以下方式安全验证" (手机号验证, 邮箱验证, or the security questions); "请设置帐号 X
//! 的密码"; "密码找回成功 去登录" with a countdown back to the login page. Field names are
//! stable for scripts: `username`, `captcha`; `method`, `phone`/`email`, `code`,
//! `answer1`..`answer3`; `newPassword`, `confirmPassword`.

use super::{Chrome, Refresh};
use maud::{html, Markup};

/// The methods a recovery offers (those of the account; see `routes::recovery`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Methods {
    pub phone: bool,
    pub email: bool,
    /// The questions' words, in order.
    pub questions: Vec<&'static str>,
}

impl Methods {
    pub fn any(&self) -> bool {
        self.phone || self.email || !self.questions.is_empty()
    }
}

pub enum RecoveryStep<'a> {
    /// 1: the account and the image captcha (and the service to return to).
    Account {
        username: &'a str,
        service: Option<&'a str>,
    },
    /// 2: proving it is the holder of `account` (the name typed at step 1).
    Verify {
        account: &'a str,
        methods: Methods,
        /// `phone`, `email` or `questions`.
        method: &'a str,
        /// The number or address typed, shown back.
        input: &'a str,
        code_sent_to: Option<String>,
        wait: i64,
        captcha: bool,
    },
    /// 3: the new password.
    Password { account: &'a str, rules: String },
    /// 4: done, on to the login page.
    Done { login: String },
}

pub struct RecoveryView<'a> {
    pub step: RecoveryStep<'a>,
    pub token: String,
    pub error: Option<String>,
    /// Whom to ask when nothing is bound (configurable).
    pub contact: &'a str,
    /// The application the person came from, kept on every way back.
    pub service: Option<&'a str>,
}

impl Chrome<'_> {
    /// The login page, for `service` if any.
    fn login_with(&self, service: Option<&str>) -> String {
        match service {
            Some(service) => {
                let service: String =
                    url::form_urlencoded::byte_serialize(service.as_bytes()).collect();
                format!("{}/login?service={service}", self.prefix)
            }
            None => format!("{}/login", self.prefix),
        }
    }

    pub fn recovery(&self, v: &RecoveryView) -> Markup {
        let t = self.t();
        let action = |step: &str| match step {
            "" => format!("{}/forgot", self.prefix),
            s => format!("{}/forgot/{s}", self.prefix),
        };
        let captcha = self.captcha_field(true, Refresh::Link(&action("")));
        let body = match &v.step {
            RecoveryStep::Account { username, service } => html! {
                p.hint { (t.recovery_step1) }
                form method="post" action=(action("")) autocomplete="off" {
                    input type="hidden" name="execution" value=(v.token);
                    @if let Some(service) = service { input type="hidden" name="service" value=(service); }
                    label.sr for="username" { (t.username_placeholder) }
                    input #username type="text" name="username" value=(username) placeholder=(t.username_placeholder) autocapitalize="off" required;
                    (captcha)
                    button type="submit" { (t.next_step) }
                }
            },
            RecoveryStep::Verify {
                account,
                methods,
                method,
                input,
                code_sent_to,
                wait,
                captcha: ask,
            } => html! {
                // Whose recovery this is, and a way out of a mistyped account.
                p.account {
                    (t.recovery_for) " " strong { (account) } " "
                    a href=(self.forgot_link(v.service)) { (t.recovery_other_account) }
                }
                @if methods.any() { p { (t.recovery_ways) } }
                @else {
                    p { (t.recovery_no_way) " " a href=(format!("{}/help", self.prefix)) { (t.help) } }
                }
                p.note { (v.contact) }
                @if methods.any() {
                    div.tabs {
                        @for (key, label, offered) in [("phone", t.by_phone, methods.phone), ("email", t.by_email, methods.email), ("questions", t.by_questions, !methods.questions.is_empty())] {
                            @if offered {
                                @if *method == key { span.tab.active { (label) } }
                                @else { a.tab href=(format!("{}?method={key}", action(""))) { (label) } }
                            }
                        }
                    }
                    form method="post" action=(action("verify")) autocomplete="off" {
                        input type="hidden" name="execution" value=(v.token);
                        input type="hidden" name="method" value=(method);
                        @if *method == "questions" {
                            @for (n, q) in methods.questions.iter().enumerate() {
                                label for=(format!("answer{}", n + 1)) { (q) }
                                input id=(format!("answer{}", n + 1)) type="text" name=(format!("answer{}", n + 1)) placeholder=(t.answer);
                            }
                        } @else {
                            @let (field, kind, placeholder) = match *method { "email" => ("email", "email", t.bound_email_placeholder), _ => ("phone", "tel", t.bound_phone_placeholder) };
                            label.sr for=(field) { (placeholder) }
                            input id=(field) type=(kind) name=(field) value=(input) placeholder=(placeholder) required;
                            // Only a send needs it: the code's "下一步" goes without it.
                            @if *ask { (self.captcha_field(false, Refresh::Link(&format!("{}?method={method}", action(""))))) }
                            (self.send_code_button(*wait))
                            @if let Some(to) = code_sent_to {
                                p.notice { (t.code_sent_to) (to) }
                                p.hint { (t.recovery_code_hint) }
                                (self.code_field("code", *method == "email"))
                            }
                        }
                        button type="submit" name="action" value="verify" { (t.next_step) }
                    }
                }
                script src=(format!("{}/assets/countdown.js", self.prefix)) {}
            },
            RecoveryStep::Password { account, rules } => html! {
                p { (t.set_password_for.replace("{account}", account)) }
                form method="post" action=(action("password")) autocomplete="off" {
                    input type="hidden" name="execution" value=(v.token);
                    label.sr for="newPassword" { (t.new_password) }
                    input #newPassword type="password" name="newPassword" placeholder=(t.new_password) required;
                    label.sr for="confirmPassword" { (t.repeat_password) }
                    input #confirmPassword type="password" name="confirmPassword" placeholder=(t.repeat_password) required;
                    p.rules { (rules) }
                    button type="submit" { (t.confirm_button) }
                }
            },
            RecoveryStep::Done { login } => html! {
                p.success { (t.recovery_done) " " a href=(login) { (t.to_login) } }
                p.hint data-countdown="3" data-template=(t.going_in) { (t.going_in.replace("{n}", "3")) }
                script src=(format!("{}/assets/countdown.js", self.prefix)) {}
            },
        };
        let refresh = match &v.step {
            RecoveryStep::Done { login } => Some((3, login.as_str())),
            _ => None,
        };
        self.layout(
            t.forgot_title,
            refresh,
            false,
            html! {
                div.card {
                    h1 { (t.forgot_title) }
                    @if let Some(error) = &v.error { p #showErrorTip .error role="alert" { (error) } }
                    (body)
                    p.links { a href=(self.login_with(v.service)) { (t.back_to_login) } }
                }
            },
        )
    }
}
