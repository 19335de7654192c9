//! The portal (综合服务大厅) and its account management (账号管理): the applications the
//! account may use, then password, phone, e-mail, security questions, WeCom/WeChat, recent
//! sign-ins and active sessions. Each change is a plain form (no JavaScript needed); phone,
//! e-mail, questions and unbinding first ask the person to prove it is still them. Numbers
//! and addresses are shown masked.

use super::{Chrome, Refresh};
use crate::accounts::QUESTIONS;
use maud::{html, Markup};

/// An application listed in the portal.
pub struct PortalApp {
    pub title: String,
    pub description: Option<String>,
    /// `/login?service=…`: the portal's session gives the application a ticket.
    pub link: String,
}

pub struct PortalView<'a> {
    pub name: &'a str,
    pub account_id: &'a str,
    pub apps: Vec<PortalApp>,
    /// An administrator: a link to the console.
    pub admin: bool,
    /// No phone is bound (accounts from before phones were required): a notice leads to
    /// binding one.
    pub phone_missing: bool,
}

/// One recent sign-in.
pub struct SignIn {
    pub at: String,
    pub address: String,
    pub browser: String,
    pub method: &'static str,
}

/// One SSO session of the account.
pub struct SessionLine {
    pub started: String,
    pub last_used: String,
    pub address: String,
    pub browser: String,
    pub current: bool,
}

pub struct AccountView<'a> {
    pub name: &'a str,
    pub account_id: &'a str,
    /// What the last change did (after its redirect).
    pub flash: Option<&'static str>,
    pub error: Option<String>,
    pub password_token: String,
    pub sessions_token: String,
    pub rules: String,
    pub password_changed: String,
    /// Masked, when bound.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub questions: usize,
    /// Whether a second factor beyond the phone is set up (an authenticator, a passkey).
    pub second_factor: bool,
    /// Whether a WeCom / WeChat identity is bound, and whether the school uses them.
    pub wecom: bool,
    pub wechat: bool,
    pub wecom_on: bool,
    pub wechat_on: bool,
    /// How many passkeys the account has.
    pub passkeys: usize,
    pub sign_ins: Vec<SignIn>,
    pub sessions: Vec<SessionLine>,
}

/// Proving it is still the account holder, before `next` (`phone`, `email`, `questions`,
/// `unbind-wecom`, `unbind-wechat`).
pub struct VerifyView<'a> {
    pub next: &'a str,
    pub token: String,
    pub code_token: String,
    /// The bound phone (masked), where a code can go instead of typing the password.
    pub phone: Option<String>,
    pub code_sent: bool,
    pub wait: i64,
    pub error: Option<String>,
}

/// Binding or changing a phone (`email` false) or an e-mail address.
pub struct BindView<'a> {
    pub email: bool,
    pub token: String,
    /// What is bound now, masked.
    pub current: Option<String>,
    /// What was typed, shown back to its owner.
    pub input: &'a str,
    pub code_sent_to: Option<String>,
    pub wait: i64,
    pub captcha: bool,
    pub error: Option<String>,
}

pub struct QuestionsView {
    pub token: String,
    /// The keys set now, in order.
    pub current: Vec<String>,
    pub error: Option<String>,
}

impl Chrome<'_> {
    fn account_url(&self, part: &str) -> String {
        match part {
            "" => format!("{}/account", self.prefix),
            p => format!("{}/account/{p}", self.prefix),
        }
    }

    /// The bar above the portal's pages: who is logged in, the portal, account management,
    /// logout.
    fn portal_bar(&self, name: &str, account_id: &str) -> Markup {
        let t = self.t();
        html! {
            div.bar {
                span.who { (t.welcome) (name) " (" (account_id) ")" }
                span.nav {
                    a href=(format!("{}/portal", self.prefix)) { (t.portal_title) }
                    a href=(self.account_url("")) { (t.account_title) }
                    a href=(format!("{}/logout", self.prefix)) { (t.logout) }
                }
            }
        }
    }

    /// The portal (综合服务大厅).
    pub fn portal(&self, v: &PortalView) -> Markup {
        let t = self.t();
        self.wide_page(
            t.portal_title,
            html! {
                (self.portal_bar(v.name, v.account_id))
                div.card {
                    h1 { (t.portal_title) }
                    @if v.phone_missing {
                        p #phoneMissing .notice role="status" {
                            (t.phone_missing) " "
                            a.button href=(self.account_url("phone")) { (t.bind_now) }
                        }
                    }
                    @if v.admin { p { a.button.secondary href=(format!("{}/admin", self.prefix)) { (t.admin_console_link) } } }
                    @if v.apps.is_empty() { p.hint { (t.no_apps) } }
                    ul.apps {
                        @for app in &v.apps {
                            li {
                                a href=(app.link) {
                                    strong { (app.title) }
                                    @if let Some(d) = &app.description { span.desc { (d) } }
                                }
                            }
                        }
                    }
                }
            },
        )
    }

    /// Account management (账号管理).
    pub fn account(&self, v: &AccountView) -> Markup {
        let t = self.t();
        let state = |bound: &Option<String>| match bound {
            Some(masked) => format!("{}{masked}", t.bound_to),
            None => t.not_bound.to_string(),
        };
        let change = |bound: bool| if bound { t.change_button } else { t.bind_now };
        self.wide_page(
            t.account_title,
            html! {
                (self.portal_bar(v.name, v.account_id))
                div.card.account {
                    h1 { (t.account_title) }
                    @if let Some(flash) = v.flash { p.success role="status" { (flash) } }
                    @if let Some(error) = &v.error { p #showErrorTip .error role="alert" { (error) } }
                    div.item {
                        h2 { (t.login_password) }
                        p.hint { (t.password_changed_at) (v.password_changed) }
                        form method="post" action=(self.account_url("password")) autocomplete="off" {
                            input type="hidden" name="execution" value=(v.password_token);
                            label.sr for="password" { (t.current_password) }
                            input #password type="password" name="password" placeholder=(t.current_password) required;
                            label.sr for="newPassword" { (t.new_password) }
                            input #newPassword type="password" name="newPassword" placeholder=(t.new_password) required;
                            label.sr for="confirmPassword" { (t.repeat_password) }
                            input #confirmPassword type="password" name="confirmPassword" placeholder=(t.repeat_password) required;
                            p.rules { (v.rules) }
                            @if v.wecom || v.wechat {
                                label.check { input type="checkbox" name="keepIdentities" value="true"; " " (t.keep_identities) }
                            }
                            button type="submit" { (t.change_title) }
                        }
                    }
                    div.item {
                        h2 { (t.phone_binding) }
                        p { (state(&v.phone)) }
                        a.button.secondary href=(self.account_url("phone")) { (change(v.phone.is_some())) }
                    }
                    div.item {
                        h2 { (t.email_binding) }
                        p { (state(&v.email)) }
                        a.button.secondary href=(self.account_url("email")) { (change(v.email.is_some())) }
                    }
                    div.item {
                        h2 { (t.questions_title) }
                        p { @if v.questions > 0 { (t.questions_set.replace("{n}", &v.questions.to_string())) } @else { (t.not_set) } }
                        a.button.secondary href=(self.account_url("questions")) { (t.set_questions) }
                    }
                    div.item #passkeyItem {
                        h2 { (t.passkeys_title) }
                        p { @if v.passkeys > 0 { (t.passkeys_count.replace("{n}", &v.passkeys.to_string())) } @else { (t.not_set) } }
                        a.button.secondary href=(self.account_url("passkeys")) { (t.passkeys_manage) }
                    }
                    div.item {
                        h2 { (t.mfa_summary) }
                        p { @if v.second_factor { (t.mfa_on) } @else { (t.not_set) } }
                        a.button.secondary href=(self.account_url("factors")) { (t.mfa_manage) }
                    }
                    div.item {
                        h2 { (t.social_title) }
                        @for (label, bound, on, kind) in [(t.wecom, v.wecom, v.wecom_on, "wecom"), (t.wechat, v.wechat, v.wechat_on, "wechat")] {
                            p {
                                (label) ": " @if bound { (t.bound) } @else { (t.not_bound) }
                                @if bound { " " a href=(format!("{}?next=unbind-{kind}", self.account_url("verify"))) { (t.unbind) } }
                                @else if on { " " a href=(format!("{}?next=bind-{kind}", self.account_url("verify"))) { (t.bind_now) } }
                            }
                        }
                        p.hint { (t.social_hint) }
                    }
                    div.item {
                        h2 { (t.recent_sign_ins) }
                        table {
                            tr { th { (t.time) } th { (t.address) } th { (t.browser) } th { (t.method) } }
                            @for s in &v.sign_ins {
                                tr { td { (s.at) } td { (s.address) } td { (s.browser) } td { (s.method) } }
                            }
                        }
                    }
                    div.item {
                        h2 { (t.active_sessions) }
                        table {
                            tr { th { (t.signed_in_at) } th { (t.last_active) } th { (t.address) } th { (t.browser) } }
                            @for s in &v.sessions {
                                tr {
                                    td { (s.started) @if s.current { " " span.done { (t.this_device) } } }
                                    td { (s.last_used) } td { (s.address) } td { (s.browser) }
                                }
                            }
                        }
                        form method="post" action=(self.account_url("sessions")) {
                            input type="hidden" name="execution" value=(v.sessions_token);
                            button.secondary type="submit" { (t.sign_out_elsewhere) }
                        }
                    }
                }
            },
        )
    }

    /// "Prove it is you": the password, or a code to the bound phone.
    pub fn verify(&self, v: &VerifyView) -> Markup {
        let t = self.t();
        let action = self.account_url("verify");
        self.page(
            t.verify_title,
            html! {
                div.card {
                    h1 { (t.verify_title) }
                    p { (t.verify_intro) }
                    @if let Some(error) = &v.error { p #showErrorTip .error role="alert" { (error) } }
                    form method="post" action=(action) autocomplete="off" {
                        input type="hidden" name="execution" value=(v.token);
                        input type="hidden" name="next" value=(v.next);
                        label.sr for="password" { (t.current_password) }
                        input #password type="password" name="password" placeholder=(t.current_password);
                        button type="submit" name="action" value="password" { (t.verify_button) }
                    }
                    @if let Some(phone) = &v.phone {
                        div.step {
                            p { (t.verify_by_code) (phone) }
                            form method="post" action=(action) autocomplete="off" {
                                input type="hidden" name="execution" value=(v.code_token);
                                input type="hidden" name="next" value=(v.next);
                                (self.send_code_button(v.wait))
                                @if v.code_sent {
                                    (self.code_field("code", false))
                                    button type="submit" name="action" value="code" { (t.verify_button) }
                                }
                            }
                        }
                    }
                    p.links { a href=(self.account_url("")) { (t.back_to_account) } }
                    script src=(format!("{}/assets/countdown.js", self.prefix)) {}
                }
            },
        )
    }

    /// Binding or changing the phone or the e-mail address: the new one, "获取验证码", the
    /// code, "确认".
    pub fn bind(&self, v: &BindView) -> Markup {
        let t = self.t();
        let (title, placeholder, field, kind) = match v.email {
            false => (t.phone_binding, t.phone_placeholder, "phone", "tel"),
            true => (t.email_binding, t.email_placeholder, "email", "email"),
        };
        let action = self.account_url(field);
        self.page(
            title,
            html! {
                div.card {
                    h1 { (title) }
                    @if let Some(current) = &v.current { p { (t.bound_to) (current) } }
                    @if let Some(error) = &v.error { p #showErrorTip .error role="alert" { (error) } }
                    form method="post" action=(action) autocomplete="off" {
                        input type="hidden" name="execution" value=(v.token);
                        label.sr for=(field) { (placeholder) }
                        input id=(field) type=(kind) name=(field) value=(v.input) placeholder=(placeholder) required;
                        @if v.captcha { (self.captcha_field(false, Refresh::Link(&action))) }
                        (self.send_code_button(v.wait))
                        @if let Some(to) = &v.code_sent_to {
                            p.notice { (t.code_sent_to) (to) }
                            (self.code_field("code", v.email))
                            button type="submit" name="action" value="bind" { (t.confirm_bind) }
                        }
                    }
                    p.links { a href=(self.account_url("")) { (t.back_to_account) } }
                    script src=(format!("{}/assets/countdown.js", self.prefix)) {}
                }
            },
        )
    }

    /// Setting up to three security questions.
    pub fn questions(&self, v: &QuestionsView) -> Markup {
        let t = self.t();
        let english = self.lang == super::Lang::En;
        self.page(
            t.questions_title,
            html! {
                div.card {
                    h1 { (t.questions_title) }
                    p.hint { (t.questions_intro) }
                    @if let Some(error) = &v.error { p #showErrorTip .error role="alert" { (error) } }
                    form method="post" action=(self.account_url("questions")) autocomplete="off" {
                        input type="hidden" name="execution" value=(v.token);
                        @for n in 1..=3usize {
                            @let chosen = v.current.get(n - 1).map(String::as_str).unwrap_or("");
                            label for=(format!("question{n}")) { (t.question) " " (n) }
                            select id=(format!("question{n}")) name=(format!("question{n}")) {
                                option value="" { (t.no_question) }
                                @for (key, zh, en) in QUESTIONS {
                                    option value=(key) selected[key == chosen] { (if english { en } else { zh }) }
                                }
                            }
                            label.sr for=(format!("answer{n}")) { (t.answer) }
                            input id=(format!("answer{n}")) type="text" name=(format!("answer{n}")) placeholder=(t.answer);
                        }
                        button type="submit" { (t.save) }
                    }
                    p.links { a href=(self.account_url("")) { (t.back_to_account) } }
                }
            },
        )
    }
}

/// A browser's user-agent string in a few words ("Chrome · Windows", "企业微信 · Android"):
/// enough to recognise one's own devices.
pub fn browser(user_agent: &str) -> String {
    let ua = user_agent;
    let app = [
        ("wxwork", "企业微信 WeCom"),
        ("MicroMessenger", "微信 WeChat"),
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("QQBrowser", "QQ"),
        ("360SE", "360"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Trident/", "IE"),
        ("MSIE", "IE"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    let system = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (app, system) {
        (Some(a), Some(s)) => format!("{a} · {s}"),
        (Some(a), None) => a.to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) => ua.chars().take(40).collect(),
    }
}
