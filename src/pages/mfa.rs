//! 二次认证: the second factor a session proves for an application that requires one (an
//! authenticator's code, a passkey, a code to the bound phone, a recovery code), enrolling
//! one when the account has none, the recovery codes shown once, and 账号管理's page of
//! second factors.

use super::Chrome;
use maud::{html, Markup};

/// Where a step-up form goes back to: the application it was for.
pub struct Return<'a> {
    pub service: Option<&'a str>,
    pub post: bool,
    /// The page of 账号管理 that asked (`factors`, `passkeys`), instead of an application.
    pub next: Option<&'a str>,
}

impl Return<'_> {
    fn fields(&self) -> Markup {
        html! {
            @if let Some(service) = self.service {
                input type="hidden" name="service" value=(service);
                @if self.post { input type="hidden" name="method" value="POST"; }
            }
            @if let Some(next) = self.next { input type="hidden" name="next" value=(next); }
        }
    }
}

pub struct StepUpView<'a> {
    pub back: Return<'a>,
    /// The application's title, when there is one.
    pub app_title: Option<&'a str>,
    /// One single-use token per form.
    pub tokens: [String; 4],
    pub totp: bool,
    /// The options for `navigator.credentials.get`, when the account has passkeys.
    pub passkey: Option<String>,
    /// The bound phone, masked, when a code to it counts here.
    pub phone: Option<String>,
    pub code_sent: bool,
    pub wait: i64,
    pub recovery: bool,
    pub error: Option<&'a str>,
}

pub struct EnrolView<'a> {
    pub back: Return<'a>,
    pub app_title: Option<&'a str>,
    pub tokens: [String; 2],
    pub secret: &'a str,
    pub qr_png: &'a [u8],
    /// The `otpauth://` URI the QR code holds.
    pub uri: &'a str,
    /// The options for `navigator.credentials.create`.
    pub passkey: Option<String>,
    pub error: Option<&'a str>,
}

/// 账号管理's page of second factors.
pub struct FactorsView<'a> {
    pub token: String,
    pub totp: bool,
    pub passkeys: i64,
    pub recovery_left: i64,
    pub recovery_made: i64,
    pub phone: Option<String>,
    pub always: bool,
    /// Enrolling an authenticator: its secret, QR code and `otpauth://` URI.
    pub enrolling: Option<(&'a str, &'a [u8], &'a str)>,
    pub done: Option<&'a str>,
    pub error: Option<&'a str>,
}

impl Chrome<'_> {
    fn mfa_url(&self) -> String {
        format!("{}/mfa", self.prefix)
    }

    /// "「X」要求二次认证" with the ways this account has, each its own form.
    pub fn step_up(&self, v: &StepUpView) -> Markup {
        let t = self.t();
        let action = self.mfa_url();
        self.page(
            t.mfa_title,
            html! {
                div.card {
                    h1 { (t.mfa_title) }
                    p { (intro(t, v.app_title, v.back.next.is_some())) }
                    @if let Some(error) = v.error { p #showErrorTip .error role="alert" { (error) } }
                    @if v.totp {
                        div.step {
                            h2 { (t.mfa_totp) }
                            form method="post" action=(action) autocomplete="off" {
                                input type="hidden" name="execution" value=(v.tokens[0]);
                                (v.back.fields())
                                (self.totp_field(false))
                                button type="submit" name="action" value="totp" { (t.verify_button) }
                            }
                        }
                    }
                    @if let Some(options) = &v.passkey {
                        div.step {
                            h2 { (t.mfa_passkey) }
                            (self.passkey_form(&action, &v.tokens[1], &v.back, ("get", "passkey"), options, t.mfa_passkey_use))
                        }
                    }
                    @if let Some(phone) = &v.phone {
                        div.step {
                            h2 { (t.mfa_sms) }
                            @if v.code_sent && v.error.is_none() {
                                p.success role="status" { (t.code_sent_to) (phone) }
                            } @else {
                                p { (t.admin_code_to) (phone) }
                            }
                            form method="post" action=(action) autocomplete="off" {
                                input type="hidden" name="execution" value=(v.tokens[2]);
                                (v.back.fields())
                                (self.send_code_button(v.wait))
                                @if v.code_sent {
                                    (self.code_field("code", false))
                                    button type="submit" name="action" value="sms" { (t.verify_button) }
                                }
                            }
                        }
                    }
                    @if v.recovery {
                        div.step {
                            h2 { (t.mfa_recovery) }
                            form method="post" action=(action) autocomplete="off" {
                                input type="hidden" name="execution" value=(v.tokens[3]);
                                (v.back.fields())
                                label.sr for="recovery" { (t.mfa_recovery_code) }
                                input #recovery type="text" name="code" maxlength="20" placeholder=(t.mfa_recovery_code) autocapitalize="off" spellcheck="false";
                                button type="submit" name="action" value="recovery" { (t.verify_button) }
                            }
                        }
                    }
                    p.links { a href=(format!("{}/logout", self.prefix)) { (t.logout) } " " a href=(format!("{}/help", self.prefix)) { (t.help) } }
                    script src=(format!("{}/assets/countdown.js", self.prefix)) {}
                }
            },
        )
    }

    /// The account has no second factor yet: an authenticator (QR code, then its first
    /// code), a passkey, or a phone bound in 账号管理.
    pub fn enrol_factor(&self, v: &EnrolView) -> Markup {
        let t = self.t();
        let action = self.mfa_url();
        self.page(
            t.mfa_title,
            html! {
                div.card {
                    h1 { (t.mfa_title) }
                    p { (intro(t, v.app_title, v.back.next.is_some())) }
                    p { (t.mfa_enrol_intro) }
                    @if let Some(error) = v.error { p #showErrorTip .error role="alert" { (error) } }
                    div.step {
                        h2 { (t.mfa_totp) }
                        (self.totp_enrolment(v.secret, v.qr_png, v.uri))
                        form method="post" action=(action) autocomplete="off" {
                            input type="hidden" name="execution" value=(v.tokens[0]);
                            (v.back.fields())
                            (self.totp_field(true))
                            button type="submit" name="action" value="enrol" { (t.mfa_enrol_button) }
                        }
                    }
                    @if let Some(options) = &v.passkey {
                        div.step {
                            h2 { (t.mfa_passkey) }
                            (self.passkey_form(&action, &v.tokens[1], &v.back, ("create", "passkey-enrol"), options, t.mfa_passkey_add))
                        }
                    }
                    div.step {
                        h2 { (t.mfa_sms) }
                        p { (t.mfa_enrol_phone) " " a href=(format!("{}/account/verify?next=phone", self.prefix)) { (t.phone_binding) } }
                    }
                    p.links { a href=(format!("{}/logout", self.prefix)) { (t.logout) } }
                }
            },
        )
    }

    /// The field for an authenticator's code (8 characters: apps show "108 256").
    fn totp_field(&self, required: bool) -> Markup {
        let t = self.t();
        html! {
            label.sr for="totp" { (t.admin_totp_code) }
            input #totp type="text" name="code" inputmode="numeric" maxlength="8" placeholder=(t.admin_totp_code) autocomplete="one-time-code" required[required];
        }
    }

    /// An authenticator to scan: the QR code, the same as a link (a phone cannot scan its own
    /// screen), and the secret in groups of four for typing.
    fn totp_enrolment(&self, secret: &str, qr_png: &[u8], uri: &str) -> Markup {
        let t = self.t();
        let png = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, qr_png);
        html! {
            p.hint { (t.mfa_totp_hint) }
            img.qrcode src=(format!("data:image/png;base64,{png}")) alt=(t.mfa_totp) width="200" height="200";
            p { a href=(uri) { (t.mfa_open_app) } }
            p.hint { code.secret {
                @for (i, group) in secret.as_bytes().chunks(4).enumerate() {
                    @if i > 0 { " " }
                    (std::str::from_utf8(group).unwrap_or(""))
                }
            } }
        }
    }

    /// A passkey ceremony's form (`create` or `get`, posted as `action`): `passkey.js` runs it
    /// and posts the answer; without JavaScript or WebAuthn the notice says so and the other
    /// ways stay. A new passkey is named after the school, changeable in 账号管理.
    fn passkey_form(
        &self,
        action: &str,
        token: &str,
        back: &Return,
        (ceremony, posted): (&str, &str),
        options: &str,
        label: &str,
    ) -> Markup {
        let t = self.t();
        html! {
            form method="post" action=(action) autocomplete="off" data-passkey=(ceremony) data-options=(options) data-failed=(t.passkey_failed) {
                input type="hidden" name="execution" value=(token);
                (back.fields())
                input type="hidden" name="action" value=(posted);
                input type="hidden" name="credential" value="";
                @if ceremony == "create" { input type="hidden" name="name" value=(t.mfa_passkey_default_name); }
                p.notice data-passkey-unsupported { (t.passkey_needs_js) }
                p.error data-passkey-error role="alert" hidden {}
                button type="submit" data-passkey-start hidden { (label) }
            }
            script src=(format!("{}/assets/passkey.js", self.prefix)) {}
        }
    }

    /// Recovery codes, shown once: each opens the second factor once when nothing else is
    /// at hand.
    pub fn recovery_codes(&self, codes: &[String], next: &str) -> Markup {
        let t = self.t();
        self.page(
            t.mfa_recovery,
            html! {
                div.card {
                    h1 { (t.mfa_recovery) }
                    p { (t.mfa_recovery_intro) }
                    ol.codes { @for code in codes { li { code { (code) } } } }
                    p.hint { (t.mfa_recovery_once) }
                    p { a.button href=(next) { (t.mfa_saved_continue) } }
                }
            },
        )
    }
}

impl Chrome<'_> {
    /// 账号管理 → 二次认证: the account's second factors, each with what it can do.
    pub fn account_factors(&self, v: &FactorsView) -> Markup {
        let t = self.t();
        let action = format!("{}/account/factors", self.prefix);
        let form = |value: &str, label: &str| {
            html! {
                form.inline method="post" action=(action) {
                    input type="hidden" name="execution" value=(v.token);
                    button.secondary type="submit" name="action" value=(value) { (label) }
                }
            }
        };
        self.page(
            t.mfa_title,
            html! {
                div.card {
                    h1 { (t.mfa_title) }
                    p { (t.mfa_account_intro) }
                    @if let Some(done) = v.done { p.success role="status" { (done) } }
                    @if let Some(error) = v.error { p #showErrorTip .error role="alert" { (error) } }
                    div.item {
                        h2 { (t.mfa_totp) }
                        @if let Some((secret, png, uri)) = v.enrolling {
                            (self.totp_enrolment(secret, png, uri))
                            form method="post" action=(action) autocomplete="off" {
                                input type="hidden" name="execution" value=(v.token);
                                (self.totp_field(true))
                                button type="submit" name="action" value="totp-confirm" { (t.mfa_enrol_button) }
                            }
                        } @else if v.totp {
                            p { (t.mfa_on) }
                            (form("totp-remove", t.mfa_remove))
                        } @else {
                            p { (t.not_set) }
                            (form("totp-start", t.mfa_set_up))
                        }
                    }
                    div.item {
                        h2 { (t.mfa_passkey) }
                        p { (t.mfa_passkeys_count.replace("{n}", &v.passkeys.to_string())) }
                        a.button.secondary href=(format!("{}/account/passkeys", self.prefix)) { (t.mfa_manage) }
                    }
                    div.item {
                        h2 { (t.mfa_sms) }
                        p { @match &v.phone { Some(p) => { (t.bound_to) (p) }, None => (t.not_bound) } }
                        a.button.secondary href=(format!("{}/account/phone", self.prefix)) {
                            @if v.phone.is_some() { (t.change_button) } @else { (t.bind_now) }
                        }
                    }
                    div.item {
                        h2 { (t.mfa_recovery) }
                        p { @if v.recovery_made > 0 {
                            (t.mfa_recovery_left.replace("{n}", &v.recovery_left.to_string()).replace("{m}", &v.recovery_made.to_string()))
                        } @else { (t.not_set) } }
                        @if v.totp || v.passkeys > 0 || v.phone.is_some() {
                            p.hint { (t.mfa_recovery_replaces) }
                            (form("recovery", t.mfa_recovery_new))
                        }
                    }
                    @if v.totp || v.passkeys > 0 || v.phone.is_some() {
                        div.item {
                            h2 { (t.mfa_always) }
                            p { @if v.always { (t.mfa_always_on) } @else { (t.mfa_always_off) } }
                            @if v.always { (form("always-off", t.mfa_turn_off)) } @else { (form("always-on", t.mfa_turn_on)) }
                        }
                    }
                    p.links { a href=(format!("{}/account", self.prefix)) { (t.back_to_account) } }
                }
            },
        )
    }
}

fn intro(t: &super::Text, app_title: Option<&str>, managing: bool) -> String {
    match app_title {
        Some(title) => t.mfa_intro_app.replace("{app}", title),
        None if managing => t.mfa_intro_manage.to_string(),
        None => t.mfa_intro.to_string(),
    }
}
