//! The admin console (管理控制台): the second factor, the overview, accounts, applications
//! (with the pattern tester, single-logout deliveries and validation mismatches), the audit
//! log and the roster import. Every form carries the console's own token (`csrf`).

use super::Chrome;
use crate::model::{Account, Kind, Release, Service, Source};
use maud::{html, Markup};

mod accounts;

/// The console's navigation and the administrator's name.
pub struct AdminFrame<'a> {
    pub admin: &'a str,
    pub csrf: &'a str,
}

/// The second-factor page before the console.
pub struct SecondFactorView<'a> {
    pub token: String,
    pub phone: Option<String>,
    pub totp: bool,
    pub code_sent: bool,
    pub error: Option<&'a str>,
}

pub struct AccountDetail<'a> {
    pub account: &'a Account,
    pub bindings: Vec<(String, String)>,
    pub id_last4: Option<String>,
    /// When the password last changed, in local time.
    pub password_changed: String,
    pub sign_ins: Vec<(String, String, String)>,
    pub sessions: Vec<(String, String, String)>,
    /// The roster's contact phone (not a verified binding), masked.
    pub contact_phone: Option<String>,
    pub done: Option<&'a str>,
}

/// The account list: the filters as given, the same as a query string (for the pages' and
/// the export's links), one page of accounts, and their last logins in local time.
pub struct AccountList<'a> {
    pub filter: &'a crate::store::AccountFilter,
    pub query: &'a str,
    pub page: &'a crate::accounts::admin::AccountPage,
    pub last_logins: &'a [Option<String>],
}

/// A service's page: its settings for the form, and what the console knows of it.
pub struct ServiceDetail<'a> {
    /// `None`: a new service.
    pub service: Option<&'a Service>,
    pub error: Option<String>,
    /// Recent single-logout deliveries: time, URL, result, attempts.
    pub deliveries: Vec<(String, String)>,
    /// Recent validations refused with INVALID_SERVICE: time, issued for, presented.
    pub mismatches: Vec<(String, String, String)>,
}

/// The pattern tester's answer.
pub struct PatternTest {
    pub url: String,
    pub normalized: Option<String>,
    pub matched: Option<(i64, String, String)>,
}

/// One audit row as the viewer shows it.
pub struct AuditLine {
    pub at: String,
    pub event: String,
    pub account: String,
    pub address: String,
    pub detail: String,
    pub browser: String,
}

impl Chrome<'_> {
    fn admin_url(&self, part: &str) -> String {
        format!("{}/admin{part}", self.prefix)
    }

    fn admin_page(&self, title: &str, frame: &AdminFrame, body: Markup) -> Markup {
        let t = self.t();
        self.wide_page(
            title,
            html! {
                div.bar {
                    span.who { (t.admin_title) " · " (frame.admin) }
                    span.nav {
                        a href=(self.admin_url("")) { (t.admin_overview) }
                        a href=(self.admin_url("/accounts")) { (t.admin_accounts) }
                        a href=(self.admin_url("/services")) { (t.admin_services) }
                        a href=(self.admin_url("/audit")) { (t.admin_audit) }
                        a href=(self.admin_url("/import")) { (t.admin_import) }
                        a href=(self.admin_url("/totp")) { (t.admin_totp) }
                        a href=(format!("{}/portal", self.prefix)) { (t.portal_title) }
                    }
                }
                div.card.admin { (body) }
            },
        )
    }

    fn kind_name(&self, kind: Kind) -> &'static str {
        let i = match kind {
            Kind::Student => 0,
            Kind::Staff => 1,
            Kind::Admin => 2,
        };
        self.t().admin_kinds[i]
    }

    fn status_name<'a>(&self, status: &'a str) -> &'a str {
        let t = self.t();
        match status {
            "active" => t.admin_statuses[0],
            "locked" => t.admin_statuses[1],
            "disabled" => t.admin_statuses[2],
            other => other,
        }
    }

    fn binding_name<'a>(&self, kind: &'a str) -> &'a str {
        let t = self.t();
        match kind {
            "phone" => t.admin_phone,
            "email" => t.admin_email,
            "wecom" => t.wecom,
            "wechat" => t.wechat,
            "totp" => t.mfa_totp,
            "recovery" => t.mfa_recovery,
            "webauthn" => t.passkeys_title,
            other => other,
        }
    }

    /// An account action in words, as its button says it.
    fn action_name(&self, action: &str) -> String {
        let t = self.t();
        match action {
            "lock" => t.admin_lock.into(),
            "unlock" => t.admin_unlock.into(),
            "disable" => t.admin_disable.into(),
            "reset" => t.admin_reset.into(),
            "logout" => t.admin_end_sessions.into(),
            a => match a.strip_prefix("unbind-") {
                Some(kind) => format!("{} {}", t.unbind, self.binding_name(kind)),
                None => a.into(),
            },
        }
    }

    /// An audit event's name (`login_success`) in words (登录成功); an unknown name as it is.
    pub fn event_words<'a>(&self, name: &'a str) -> &'a str {
        self.t()
            .audit_events
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(name, |(_, words)| words)
    }

    fn csrf(&self, frame: &AdminFrame) -> Markup {
        html! { input type="hidden" name="csrf" value=(frame.csrf); }
    }

    /// The second factor: a code to the administrator's bound phone, or TOTP.
    pub fn admin_second_factor(&self, v: &SecondFactorView) -> Markup {
        let t = self.t();
        let action = self.admin_url("/verify");
        self.page(
            t.admin_title,
            html! {
                div.card {
                    h1 { (t.admin_title) }
                    p { (t.admin_second_factor) }
                    @if let Some(error) = v.error { p #showErrorTip .error role="alert" { (error) } }
                    @if v.totp {
                        form method="post" action=(action) autocomplete="off" {
                            input type="hidden" name="execution" value=(v.token);
                            label.sr for="totp" { (t.admin_totp_code) }
                            input #totp type="text" name="code" inputmode="numeric" maxlength="6" placeholder=(t.admin_totp_code) autocomplete="one-time-code";
                            button type="submit" name="action" value="totp" { (t.verify_button) }
                        }
                    }
                    @if let Some(phone) = &v.phone {
                        div.step {
                            p { @if v.totp { (t.verify_by_code) } @else { (t.admin_code_to) } (phone) }
                            form method="post" action=(action) autocomplete="off" {
                                input type="hidden" name="execution" value=(v.token);
                                button.secondary type="submit" name="action" value="send" { (t.send_code) }
                                @if v.code_sent {
                                    (self.code_field("code", false))
                                    button type="submit" name="action" value="sms" { (t.verify_button) }
                                }
                            }
                        }
                    }
                    @if !v.totp && v.phone.is_none() { p.note { (t.admin_no_factor) } }
                }
            },
        )
    }

    /// The overview: accounts by status and, of the active ones, those that have not
    /// finished (each count a link to its list); sessions, applications, the latest events.
    pub fn admin_overview(
        &self,
        frame: &AdminFrame,
        (counts, unfinished): (&[(String, i64)], &crate::store::Unfinished),
        sessions: i64,
        services: usize,
        recent: &[AuditLine],
        ended: Option<usize>,
    ) -> Markup {
        let t = self.t();
        self.admin_page(
            t.admin_title,
            frame,
            html! {
                h1 { (t.admin_overview) }
                @if let Some(n) = ended { p.success role="status" { (t.admin_ended.replace("{n}", &n.to_string())) } }
                table.details {
                    @for (status, n) in counts { tr { th { (t.admin_accounts) " · " (self.status_name(status)) } td { (n) } } }
                    // Active accounts that have not finished, each a link to its list.
                    @for (filter, label, n) in [
                        ("no_phone", t.admin_no_phone, unfinished.no_phone),
                        ("initial_password", t.admin_initial_password, unfinished.initial_password),
                        ("never_logged_in", t.admin_never_logged_in, unfinished.never_logged_in),
                    ] {
                        tr { th { (t.admin_statuses[0]) " · " (label) } td { a href=(format!("{}?status=active&{filter}=1", self.admin_url("/accounts"))) { (n) } } }
                    }
                    tr { th { (t.active_sessions) } td { (sessions) } }
                    tr { th { (t.admin_services) } td { (services) } }
                }
                h2 { (t.admin_recent_events) }
                (self.audit_table(recent))
                h2 { (t.admin_end_all) }
                p.hint { (t.admin_end_all_hint) }
                form method="post" action=(self.admin_url("/sessions")) {
                    (self.csrf(frame))
                    label.check { input type="checkbox" name="confirm" value="yes" required; " " (t.admin_end_all_confirm) }
                    button.danger type="submit" { (t.admin_end_all) }
                }
            },
        )
    }

    fn audit_table(&self, rows: &[AuditLine]) -> Markup {
        let t = self.t();
        html! {
            table.audit {
                tr { th { (t.time) } th { (t.admin_event) } th { (t.admin_account) } th { (t.address) } th { (t.admin_detail) } th { (t.browser) } }
                @for r in rows {
                    tr { td { (r.at) } td title=(r.event) { (self.event_words(&r.event)) } td { (r.account) } td { (r.address) } td { (r.detail) } td { (r.browser) } }
                }
            }
        }
    }

    pub fn admin_services(
        &self,
        frame: &AdminFrame,
        services: &[Service],
        test: Option<&PatternTest>,
    ) -> Markup {
        let t = self.t();
        self.admin_page(
            t.admin_services,
            frame,
            html! {
                h1 { (t.admin_services) }
                p { a.button.secondary href=(format!("{}?id=new", self.admin_url("/service"))) { (t.admin_new_service) } }
                table {
                    tr { th { "ID" } th { (t.admin_name) } th { (t.admin_pattern) } th { (t.admin_status) } th { (t.admin_release) } }
                    @for s in services {
                        tr {
                            td { a href=(format!("{}?id={}", self.admin_url("/service"), s.id)) { (s.id) } }
                            td { (s.name()) } td { code { (s.settings.pattern) } }
                            td { @if s.enabled { (t.admin_enabled) } @else { (t.admin_disabled) } }
                            td { @match release_field(&s.settings.release).as_str() { "" => "—", names => (names) } }
                        }
                    }
                }
                h2 { (t.admin_pattern_test) }
                form.search method="get" action=(self.admin_url("/services")) {
                    label.sr for="url" { (t.admin_pattern_test) }
                    input #url type="text" name="test" value=(test.map(|x| x.url.as_str()).unwrap_or("")) placeholder="https://jw.example.edu/home";
                    button type="submit" { (t.admin_test_button) }
                }
                @if let Some(test) = test {
                    table.details {
                        tr { th { (t.admin_normalized) } td { @match &test.normalized { Some(n) => code { (n) }, None => (t.admin_not_a_url) } } }
                        tr { th { (t.admin_matches) } td {
                            @match &test.matched {
                                Some((id, name, pattern)) => { (id) " · " (name) " · " code { (pattern) } }
                                None => (t.admin_no_match),
                            }
                        } }
                    }
                }
            },
        )
    }

    pub fn admin_service(&self, frame: &AdminFrame, v: &ServiceDetail) -> Markup {
        let t = self.t();
        let s = v.service.map(|s| &s.settings);
        let get = |f: fn(&crate::model::NewService) -> String| s.map(f).unwrap_or_default();
        let release = s.map(|s| release_field(&s.release)).unwrap_or_default();
        self.admin_page(
            t.admin_services,
            frame,
            html! {
                h1 { @match v.service { Some(s) => { (s.name()) " (" (s.id) ")" }, None => (t.admin_new_service) } }
                @if let Some(error) = &v.error { p #showErrorTip .error role="alert" { (error) } }
                form.settings method="post" action=(self.admin_url("/service")) {
                    (self.csrf(frame))
                    input type="hidden" name="id" value=(v.service.map(|s| s.id.to_string()).unwrap_or_else(|| "new".into()));
                    label for="name" { (t.admin_name) } input #name type="text" name="name" value=(get(|s| s.name.clone())) required;
                    label for="pattern" { (t.admin_pattern) } input #pattern type="text" name="pattern" value=(get(|s| s.pattern.clone())) required;
                    label for="attributes" { (t.admin_release) " (" (t.admin_release_hint) ")" } input #attributes type="text" name="attributes" value=(release);
                    label for="rules" { (t.admin_rules) " (" (t.admin_rules_hint) ")" }
                    textarea #rules name="rules" rows="3" { (get(|s| s.rules.iter().map(|r| r.stored()).collect::<Vec<_>>().join("\n"))) }
                    label for="logout_url" { (t.admin_logout_url) } input #logout_url type="text" name="logout_url" value=(get(|s| s.logout_url.clone().unwrap_or_default()));
                    label for="logout_type" { (t.admin_logout_type) }
                    select #logout_type name="logout_type" {
                        @for (kind, label) in ["back", "front", "none"].into_iter().zip(t.admin_logout_types) {
                            option value=(kind) selected[s.map(|s| s.logout_type.as_str()) == Some(kind)] { (label) }
                        }
                    }
                    label.check { input type="checkbox" name="proxy" value="true" checked[s.is_some_and(|s| s.allow_proxy)]; " " (t.admin_proxy) }
                    label.check { input type="checkbox" name="mfa" value="required" checked[s.is_some_and(|s| s.mfa == crate::model::Mfa::Required)]; " " (t.admin_mfa) }
                    label for="proxy_callback" { (t.admin_proxy_callback) } input #proxy_callback type="text" name="proxy_callback" value=(get(|s| s.proxy_callback.clone().unwrap_or_default()));
                    label for="portal_url" { (t.admin_portal_url) } input #portal_url type="text" name="portal_url" value=(get(|s| s.portal_url.clone().unwrap_or_default()));
                    label for="title" { (t.admin_title_field) } input #title type="text" name="title" value=(get(|s| s.portal_title.clone().unwrap_or_default()));
                    label for="description" { (t.admin_description) } input #description type="text" name="description" value=(get(|s| s.portal_description.clone().unwrap_or_default()));
                    label.check { input type="checkbox" name="enabled" value="true" checked[v.service.is_none_or(|s| s.enabled)]; " " (t.admin_enabled) }
                    button type="submit" { (t.save) }
                }
                @if v.service.is_some() {
                    h2 { (t.admin_deliveries) }
                    table { tr { th { (t.time) } th { (t.admin_detail) } }
                        @for (at, detail) in &v.deliveries { tr { td { (at) } td { (detail) } } } }
                    h2 { (t.admin_mismatches) }
                    p.hint { (t.admin_mismatches_hint) }
                    table { tr { th { (t.time) } th { (t.admin_issued_for) } th { (t.admin_presented) } }
                        @for (at, issued, presented) in &v.mismatches { tr { td { (at) } td { code { (issued) } } td { code { (presented) } } } } }
                }
            },
        )
    }

    pub fn admin_audit(
        &self,
        frame: &AdminFrame,
        filters: &[(&str, &str)],
        rows: &[AuditLine],
        csv: &str,
    ) -> Markup {
        let t = self.t();
        self.admin_page(
            t.admin_audit,
            frame,
            html! {
                h1 { (t.admin_audit) }
                form.search method="get" action=(self.admin_url("/audit")) {
                    @for (name, value) in filters {
                        @let (label, hint) = match *name {
                            "account" => (t.admin_account, ""),
                            "event" => (t.admin_event, "login_failure"),
                            "address" => (t.address, ""),
                            "from" => (t.admin_from, "YYYY-MM-DD"),
                            _ => (t.admin_to, "YYYY-MM-DD"),
                        };
                        label for=(name) { (label) }
                        input id=(name) type="text" name=(name) value=(value) placeholder=(hint);
                    }
                    button type="submit" { (t.admin_search_button) }
                }
                p { a href=(csv) { (t.admin_export_csv) } }
                (self.audit_table(rows))
            },
        )
    }

    pub fn admin_import(
        &self,
        frame: &AdminFrame,
        report: Option<&str>,
        running: Option<(usize, usize)>,
    ) -> Markup {
        let t = self.t();
        self.admin_page(
            t.admin_import,
            frame,
            html! {
                h1 { (t.admin_import) }
                p.hint { (t.admin_import_hint) }
                @if let Some((done, total)) = running {
                    p.notice #progress data-countdown="2" { (t.admin_import_progress.replace("{done}", &done.to_string()).replace("{total}", &total.to_string())) }
                }
                @if let Some(report) = report { pre.report { (report) } }
                form method="post" action=(self.admin_url("/import")) enctype="multipart/form-data" {
                    (self.csrf(frame))
                    input type="file" name="roster" accept=".csv,text/csv" required;
                    label.check { input type="checkbox" name="disable_missing" value="true"; " " (t.admin_disable_missing) }
                    button.secondary type="submit" name="action" value="preview" { (t.admin_preview) }
                    button type="submit" name="action" value="run" { (t.admin_run_import) }
                }
            },
        )
    }

    /// TOTP enrolment: the QR code of a new secret, and the first code to confirm it.
    pub fn admin_totp(
        &self,
        frame: &AdminFrame,
        enrolled: bool,
        secret: &str,
        qr_png: &[u8],
        error: Option<&str>,
    ) -> Markup {
        let t = self.t();
        self.admin_page(
            t.admin_totp,
            frame,
            html! {
                h1 { (t.admin_totp) }
                @if enrolled { p.success { (t.admin_totp_enrolled) } }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                p { (t.admin_totp_hint) }
                @let png = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, qr_png);
                img.qrcode src=(format!("data:image/png;base64,{png}")) alt="otpauth" width="200" height="200";
                // For typing in by hand: groups of four, as authenticator apps show them.
                p.hint { code.secret {
                    @for (i, group) in secret.as_bytes().chunks(4).enumerate() {
                        @if i > 0 { " " }
                        (std::str::from_utf8(group).unwrap_or(""))
                    }
                } }
                form method="post" action=(self.admin_url("/totp")) autocomplete="off" {
                    (self.csrf(frame))
                    input type="text" name="code" inputmode="numeric" maxlength="6" placeholder=(t.admin_totp_code) required;
                    button type="submit" { (t.verify_button) }
                }
            },
        )
    }
}

/// The release policy as the form takes it: `*` for every attribute, else the names.
fn release_field(release: &Release) -> String {
    match release {
        Release::All => "*".into(),
        Release::Only(names) => names.join(","),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::audit::EVENT_NAMES;
    use crate::pages::text::{EN, ZH};

    /// Issue 24 item 13: every event the code writes has words in both languages.
    #[test]
    fn every_audit_event_has_words_in_both_languages() {
        for text in [&ZH, &EN] {
            for name in EVENT_NAMES {
                let words = text.audit_events.iter().find(|(n, _)| *n == name);
                assert!(
                    words.is_some_and(|(_, w)| !w.is_empty() && *w != name),
                    "{name} in {}",
                    text.lang_attr
                );
            }
            assert_eq!(text.audit_events.len(), EVENT_NAMES.len());
        }
    }
}
