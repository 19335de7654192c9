//! Server-rendered pages: one layout (header with school name and logo, language switch,
//! content, footer), and the pages built on it. Every value goes through maud's escaping; no
//! page needs JavaScript.

mod admin;
mod first_login;
mod mfa;
mod passkeys;
mod portal;
mod qr;
mod recovery;
mod social;
mod text;

pub use admin::{
    AccountDetail, AccountList, AdminFrame, AuditLine, PatternTest, SecondFactorView, ServiceDetail,
};
pub use first_login::FirstLoginView;
pub use mfa::{EnrolView, FactorsView, Return, StepUpView};
pub use passkeys::{PasskeyLine, PasskeysView};
pub use portal::{
    browser, AccountView, BindView, PortalApp, PortalView, QuestionsView, SessionLine, SignIn,
    VerifyView,
};
pub use qr::{qr_png, QrConfirmView, QrPhoneLogin};
pub use recovery::{Methods, RecoveryStep, RecoveryView};
pub use text::Text;

use maud::{html, Markup, DOCTYPE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `zh`, `zh-CN`, `zh_CN` → Chinese; `en*` → English; anything else: `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language a browser prefers of the two, from its `Accept-Language` header: the
    /// highest `q` among Chinese and English tags, the earlier one on a tie.
    pub fn preferred(header: &str) -> Option<Lang> {
        let weighed = header.split(',').filter_map(|item| {
            let mut parts = item.split(';');
            let lang = Lang::parse(parts.next()?.trim())?;
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            (q > 0.0).then_some((lang, q))
        });
        let best = weighed.fold(None, |best: Option<(Lang, f32)>, (lang, q)| match best {
            Some((_, top)) if top >= q => best,
            _ => Some((lang, q)),
        });
        best.map(|(lang, _)| lang)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn text(self) -> &'static Text {
        match self {
            Lang::Zh => &text::ZH,
            Lang::En => &text::EN,
        }
    }
}

/// A `tel:` link for a number as people write it ("0571-8888 0000"): its digits, and a
/// leading `+`.
fn tel(number: &str) -> String {
    let digits = number
        .char_indices()
        .filter(|&(i, c)| c.is_ascii_digit() || (c == '+' && i == 0))
        .map(|(_, c)| c);
    format!("tel:{}", digits.collect::<String>())
}

/// The school's own help, in the page's language (from the `[help]` settings).
pub struct Help<'a> {
    pub desk: &'a str,
    pub phone: &'a str,
    pub hours: &'a str,
    pub place: &'a str,
    pub items: &'a [String],
}

/// How "看不清，换一张" draws a new captcha without a script: a link that loads the page
/// again (its image is drawn anew), or, where the page's address may not carry what the
/// form holds, a submit that shows the form again unchecked.
#[derive(Clone, Copy)]
pub enum Refresh<'a> {
    Link(&'a str),
    Submit,
}

/// What every page needs from the request and configuration.
pub struct Chrome<'a> {
    pub lang: Lang,
    pub prefix: &'a str,
    pub school_name: &'a str,
    /// Links that show this same page in Chinese and in English.
    pub switch_zh: String,
    pub switch_en: String,
}

impl Chrome<'_> {
    pub fn t(&self) -> &'static Text {
        self.lang.text()
    }

    /// The shared layout.
    pub fn page(&self, title: &str, body: Markup) -> Markup {
        self.layout(title, None, false, body)
    }

    /// The layout at a desktop's width, for the portal's pages.
    pub fn wide_page(&self, title: &str, body: Markup) -> Markup {
        self.layout(title, None, true, body)
    }

    /// The layout, optionally moving on to `refresh` after a few seconds (without
    /// JavaScript).
    fn layout(
        &self,
        title: &str,
        refresh: Option<(u32, &str)>,
        wide: bool,
        body: Markup,
    ) -> Markup {
        let asset = |name: &str| format!("{}/assets/{}", self.prefix, name);
        html! {
            (DOCTYPE)
            html lang=(self.t().lang_attr) {
                head {
                    meta charset="utf-8";
                    meta http-equiv="X-UA-Compatible" content="IE=edge";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    @if let Some((secs, url)) = refresh { meta http-equiv="refresh" content=(format!("{secs};url={url}")); }
                    title { (title) " - " (self.school_name) }
                    link rel="stylesheet" href=(asset("unicas.css"));
                }
                body {
                    div.header {
                        img.logo src=(asset("logo")) alt="";
                        span.school { (self.school_name) }
                        span.langs {
                            @if self.lang == Lang::Zh { b { "简体中文" } } @else { a href=(self.switch_zh) { "简体中文" } }
                            " | "
                            @if self.lang == Lang::En { b { "English" } } @else { a href=(self.switch_en) { "English" } }
                        }
                    }
                    div.main.wide[wide] { (body) }
                    div.footer { (self.school_name) }
                }
            }
        }
    }

    /// The captcha field and its image, with "看不清，换一张" (`refresh`). `required` where the
    /// form has no other use without it.
    pub(crate) fn captcha_field(&self, required: bool, refresh: Refresh) -> Markup {
        let t = self.t();
        html! {
            label.sr for="captcha" { (t.captcha_placeholder) }
            input #captcha type="text" name="captcha" placeholder=(t.captcha_placeholder)
                autocomplete="off" autocapitalize="off" required[required];
            img.captcha src=(format!("{}/captcha.html", self.prefix)) alt=(t.captcha_placeholder) width="180" height="64";
            @if let Refresh::Link(href) = refresh { a.refresh href=(href) { (t.captcha_refresh) } }
        }
    }

    /// "看不清，换一张" as a submit (`Refresh::Submit`), placed after the form's own button:
    /// Enter in a field submits the first one.
    pub(crate) fn captcha_refresh_submit(&self) -> Markup {
        html! {
            button.refresh type="submit" name="action" value="refresh" formnovalidate { (self.t().captcha_refresh) }
        }
    }

    /// The field for a code sent by text message (or by e-mail), saying which: the captcha
    /// beside it is a code too, and people typed one into the other.
    pub(crate) fn code_field(&self, name: &str, email: bool) -> Markup {
        let t = self.t();
        let placeholder = match email {
            true => t.email_code_placeholder,
            false => t.sms_code_placeholder,
        };
        html! {
            label.sr for=(name) { (placeholder) }
            input id=(name) type="text" name=(name) inputmode="numeric" maxlength="6" placeholder=(placeholder) autocomplete="one-time-code";
        }
    }

    /// The button that sends a code and, while a new one must wait, the seconds left
    /// (counted down by `countdown.js`, shown as they were without it).
    pub(crate) fn send_code_button(&self, wait: i64) -> Markup {
        let t = self.t();
        html! {
            button.secondary type="submit" name="action" value="send" data-resend="" { (t.send_code) }
            @if wait > 0 {
                p.hint data-countdown=(wait) data-template=(t.resend_in) { (t.resend_in.replace("{n}", &wait.to_string())) }
            }
        }
    }

    /// A page with a heading, a paragraph and optional links.
    pub fn message(&self, title: &str, body: &str, links: &[(&str, String)]) -> Markup {
        self.page(
            title,
            html! {
                div.card {
                    h1 { (title) }
                    p { (body) }
                    @for (label, href) in links {
                        p { a.button href=(href) { (label) } }
                    }
                }
            },
        )
    }
}

impl Chrome<'_> {
    /// The same login page again (a new captcha image), keeping what the form carries.
    /// 忘记密码 from the login page: a recovery begun afresh (a typo'd account earlier must
    /// not hold the browser), keeping the application to return to.
    pub fn forgot_link(&self, service: Option<&str>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("again", "1");
        if let Some(service) = service {
            q.append_pair("service", service);
        }
        format!("{}/forgot?{}", self.prefix, q.finish())
    }

    fn login_again(&self, f: &LoginForm) -> String {
        self.login_link(f, f.mode.cllt())
    }

    /// The login page with this form's service, in the mode of `cllt` (the campus product's
    /// name for it: `userNameLogin`, `dynamicLogin`, `qrLogin`).
    fn login_link(&self, f: &LoginForm, cllt: &str) -> String {
        let password = cllt == "userNameLogin";
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if !password {
            q.append_pair("cllt", cllt);
        }
        if let Some(service) = f.service {
            q.append_pair("service", service);
        }
        if f.renew {
            q.append_pair("renew", "true");
        }
        if let Some(method) = f.method {
            q.append_pair("method", method);
        }
        if password && !f.username.is_empty() {
            q.append_pair("username", f.username);
        }
        format!("{}/login?{}", self.prefix, q.finish())
    }

    /// The logged-out page. It loads the front-channel logout URL of each application that
    /// asked for one (invisible images: no script needed), then moves on to `next` if given.
    pub fn logged_out(
        &self,
        links: &[(&str, String)],
        front_channel: &[String],
        next: Option<&str>,
    ) -> Markup {
        let t = self.t();
        self.layout(
            t.logged_out_title,
            next.map(|url| (1, url)),
            false,
            html! {
                div.card {
                    h1 { (t.logged_out_title) }
                    p { (t.logged_out_body) }
                    @for (label, href) in links {
                        p { a.button href=(href) { (label) } }
                    }
                    @for url in front_channel {
                        img.slo src=(url) alt="" width="1" height="1";
                    }
                }
            },
        )
    }
}

/// The script that declares the salt as older campus pages did; its CSP hash is sent with
/// the page so the one inline script is allowed.
pub fn salt_script(salt: &str) -> String {
    // The salt is base62, so it needs no escaping inside the string literal.
    format!("var pwdDefaultEncryptSalt = \"{salt}\";")
}

/// The login form's state.
pub struct LoginForm<'a> {
    pub token: &'a str,
    /// Per-page salt for clients that wrap the password as the campus product's page does.
    pub salt: &'a str,
    pub service: Option<&'a str>,
    pub renew: bool,
    pub method: Option<&'a str>,
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub remember_me: bool,
    /// Ask for the image captcha (the account name has collected failures).
    pub captcha: bool,
    /// Offer the SMS-code tab (动态码登录).
    pub sms_login: bool,
    /// Offer the QR-code tab (扫码登录).
    pub qr_login: bool,
    /// Other ways in (企业微信登录, 微信登录): label and link.
    pub others: Vec<(&'static str, String)>,
    pub mode: LoginMode<'a>,
}

/// Which form the login page shows.
pub enum LoginMode<'a> {
    Password,
    Sms(SmsForm<'a>),
    Qr(QrForm<'a>),
}

impl LoginMode<'_> {
    pub fn cllt(&self) -> &'static str {
        match self {
            LoginMode::Password => "userNameLogin",
            LoginMode::Sms(_) => "dynamicLogin",
            LoginMode::Qr(_) => "qrLogin",
        }
    }
}

/// The QR-code form's state: the login request the code stands for.
pub struct QrForm<'a> {
    pub uuid: &'a str,
    /// Seconds the code is valid.
    pub ttl: i64,
}

/// The SMS-code form's state: the number typed, where a code went (masked), and the seconds
/// before another may be asked for.
pub struct SmsForm<'a> {
    pub phone: &'a str,
    pub code_sent_to: Option<String>,
    pub wait: i64,
}

impl Chrome<'_> {
    /// The login page. Field names and ids are those of Apereo's and the campus product's
    /// pages (`username`, `password`, `rememberMe`, `execution`, `lt`, `_eventId`), which
    /// scripts and kiosk pages post to.
    pub fn login(&self, f: &LoginForm) -> Markup {
        let t = self.t();
        let action = format!("{}/login", self.prefix);
        let hidden = html! {
            input type="hidden" name="execution" value=(f.token);
            input type="hidden" name="lt" value=(f.token);
            input type="hidden" name="_eventId" value="submit";
            input type="hidden" name="dllt" value="generalLogin";
            input type="hidden" name="rmShown" value="1";
            @if let Some(service) = f.service { input type="hidden" name="service" value=(service); }
            @if f.renew { input type="hidden" name="renew" value="true"; }
            @if let Some(method) = f.method { input type="hidden" name="method" value=(method); }
        };
        let captcha = self.captcha_field(true, Refresh::Link(&self.login_again(f)));
        self.page(
            t.login_title,
            html! {
                div.card.login {
                    div.tabs {
                        @for (cllt, label, offered) in [("userNameLogin", t.tab_password, true), ("dynamicLogin", t.tab_sms, f.sms_login), ("qrLogin", t.tab_qr, f.qr_login)] {
                            @if offered {
                                @if f.mode.cllt() == cllt { span.tab.active { (label) } }
                                @else { a.tab href=(self.login_link(f, cllt)) { (label) } }
                            }
                        }
                    }
                    // `showErrorTip` is where the campus product's page puts it; scripts look for it.
                    @if let Some(error) = f.error { p #showErrorTip .error role="alert" { (error) } }
                    @match &f.mode {
                        LoginMode::Password => {
                            form #pwdFromId method="post" action=(action) autocomplete="off" {
                                (hidden)
                                input type="hidden" name="cllt" value="userNameLogin";
                                input type="hidden" id="pwdEncryptSalt" value=(f.salt);
                                input type="hidden" id="pwdDefaultEncryptSalt" value=(f.salt);
                                label.sr for="username" { (t.username_placeholder) }
                                input #username type="text" name="username" value=(f.username)
                                    placeholder=(t.username_placeholder) autocapitalize="off" autocorrect="off" required;
                                label.sr for="password" { (t.password_placeholder) }
                                input #password type="password" name="password" placeholder=(t.password_placeholder) required;
                                @if f.captcha { (captcha) }
                                @if f.remember_me {
                                    label.check { input #rememberMe type="checkbox" name="rememberMe" value="true"; " " (t.remember_me) }
                                }
                                button #login-submit type="submit" { (t.login_button) }
                            }
                        }
                        LoginMode::Sms(sms) => {
                            form #phoneFromId method="post" action=(action) autocomplete="off" {
                                (hidden)
                                input type="hidden" name="cllt" value="dynamicLogin";
                                p.hint { (t.sms_login_hint) }
                                label.sr for="mobile" { (t.phone_placeholder) }
                                input #mobile type="tel" name="mobile" value=(sms.phone) placeholder=(t.phone_placeholder) required;
                                // Every send needs it; the code's login does not.
                                @if sms.code_sent_to.is_none() { (captcha) } @else { (self.captcha_field(false, Refresh::Link(&self.login_again(f)))) }
                                (self.send_code_button(sms.wait))
                                @if let Some(to) = &sms.code_sent_to {
                                    p.notice { (t.code_sent_to) (to) }
                                    (self.code_field("dynamicCode", false))
                                    @if f.remember_me {
                                        label.check { input type="checkbox" name="rememberMe" value="true"; " " (t.remember_me) }
                                    }
                                    button #code-submit type="submit" name="action" value="login" { (t.code_login_button) }
                                }
                            }
                            script src=(format!("{}/assets/countdown.js", self.prefix)) {}
                        }
                        LoginMode::Qr(qr) => {
                            div.qr {
                                img.qrcode src=(format!("{}/qrCode/getCode?uuid={}", self.prefix, qr.uuid)) alt=(t.tab_qr) width="200" height="200";
                                p.hint #qrStatus data-status=(format!("{}/qrCode/getStatus.htl?uuid={}", self.prefix, qr.uuid))
                                    data-scanned=(t.qr_scanned) data-expired=(t.qr_expired) {
                                    (t.qr_hint.replace("{n}", &(qr.ttl / 60).to_string()))
                                }
                            }
                            form #qrLoginForm method="post" action=(action) {
                                (hidden)
                                input type="hidden" name="cllt" value="qrLogin";
                                input type="hidden" name="uuid" value=(qr.uuid);
                                // Without JavaScript nothing polls: the person says when they confirmed.
                                button.secondary type="submit" { (t.qr_done) }
                            }
                            a.refresh href=(self.login_again(f)) { (t.qr_refresh) }
                            script src=(format!("{}/assets/qrlogin.js", self.prefix)) {}
                        }
                    }
                    @if !f.others.is_empty() {
                        p.others { @for (label, href) in &f.others { a href=(href) { (label) } } }
                    }
                    p.links {
                        a href=(self.forgot_link(f.service)) { (t.forgot_password) }
                        a href=(format!("{}/help", self.prefix)) { (t.help) }
                    }
                    p.hint { (t.login_hint) }
                    // Older campus clients read the salt from this script variable.
                    // safe: base62 characters in a fixed string (see salt_script).
                    script { (maud::PreEscaped(salt_script(f.salt))) }
                }
            },
        )
    }

    /// The password rules in words, from the configured policy.
    pub fn policy_rules(&self, policy: &crate::accounts::Policy) -> String {
        let t = self.t();
        t.password_rules
            .replace("{min}", &policy.min_length.to_string())
            .replace("{classes}", &policy.min_classes.to_string())
            .replace("{history}", &policy.history.to_string())
    }

    /// The page of an application whose access rules refuse the account: its name, and the
    /// way back to it or on to the portal.
    pub fn access_denied(&self, app: &str, service: &str) -> Markup {
        let t = self.t();
        self.page(
            t.access_denied_title,
            html! {
                div.card {
                    h1 { (t.access_denied_title) }
                    p { (t.app_name) (app) }
                    p { (t.access_denied_body) }
                    p { a.button href=(service) { (t.back_to_app) } }
                    p { a.button href=(format!("{}/login", self.prefix)) { (t.to_portal) } }
                }
            },
        )
    }

    /// The help page (在线帮助).
    /// 在线帮助: the school's service desk (each line when set), then the items, the school's
    /// own or the built-in ones.
    pub fn help(&self, help: &Help) -> Markup {
        let t = self.t();
        let desk = [
            (t.help_desk, help.desk),
            (t.help_phone, help.phone),
            (t.help_hours, help.hours),
            (t.help_place, help.place),
        ];
        let desk: Vec<_> = desk.iter().filter(|(_, v)| !v.is_empty()).collect();
        let items: Vec<&str> = match help.items.is_empty() {
            true => t.help_items.to_vec(),
            false => help.items.iter().map(String::as_str).collect(),
        };
        self.page(
            t.help_title,
            html! {
                div.card {
                    h1 { (t.help_title) }
                    ul { @for item in &items { li { (item) } } }
                    @if desk.is_empty() {
                        p { (t.help_no_desk) }
                    } @else {
                        dl.desk {
                            @for (label, value) in &desk {
                                dt { (label) }
                                // The telephone dials from a phone.
                                @if *label == t.help_phone { dd { a href=(tel(value)) { (value) } } }
                                @else { dd { (value) } }
                            }
                        }
                    }
                    p { a.button href=(format!("{}/login", self.prefix)) { (t.back_to_login) } }
                }
            },
        )
    }

    /// The auto-submitting form of `method=POST`: the ticket travels in a POST body. A
    /// script file submits it; without JavaScript the user presses the button.
    pub fn post_redirect(&self, service: &str, ticket: &str) -> Markup {
        let t = self.t();
        self.page(
            t.redirect_title,
            html! {
                div.card {
                    form #autosubmit method="post" action=(service) {
                        input type="hidden" name="ticket" value=(ticket);
                        noscript { p { (t.redirect_title) } }
                        button type="submit" { (t.continue_button) }
                    }
                    script src=(format!("{}/assets/autosubmit.js", self.prefix)) {}
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn the_browsers_preference_is_read_by_its_weights() {
        for (header, expected) in [
            ("en-US,en;q=0.9,zh;q=0.8", Some(Lang::En)),
            ("zh-CN,zh;q=0.9,en;q=0.8", Some(Lang::Zh)),
            ("en;q=0.4, zh-Hans;q=0.6", Some(Lang::Zh)),
            ("fr, de;q=0.8", None),
            ("en;q=0, zh;q=0", None),
            ("en;q=abc", None),
            ("", None),
        ] {
            assert_eq!(Lang::preferred(header), expected, "{header}");
        }
    }
}
