//! The console's accounts: the list with its filters and pages, one account, the question
//! asked before an action that cuts someone off, and the temporary password's slip.

use super::*;

impl Chrome<'_> {
    pub fn admin_accounts(&self, frame: &AdminFrame, v: &AccountList) -> Markup {
        let t = self.t();
        let f = v.filter;
        let list = self.admin_url("/accounts");
        let with = |extra: &str| match (v.query.is_empty(), extra.is_empty()) {
            (true, _) => format!("{list}?{extra}"),
            (false, true) => format!("{list}?{}", v.query),
            (false, false) => format!("{list}?{}&{extra}", v.query),
        };
        let p = v.page;
        self.admin_page(
            t.admin_accounts,
            frame,
            html! {
                h1 { (t.admin_accounts) }
                form.filters method="get" action=(list) {
                    label for="q" { (t.admin_search) }
                    input #q type="text" name="q" value=(f.text);
                    label for="department" { (t.admin_department) }
                    input #department type="text" name="department" value=(f.department);
                    label for="kind" { (t.admin_kind) }
                    select #kind name="kind" {
                        option value="" { (t.admin_all) }
                        @for (kind, name) in [Kind::Student, Kind::Staff, Kind::Admin].into_iter().zip(t.admin_kinds) {
                            option value=(kind.as_str()) selected[f.kind == Some(kind)] { (name) }
                        }
                    }
                    label for="status" { (t.admin_status) }
                    select #status name="status" {
                        option value="" { (t.admin_all) }
                        @for (status, name) in ["active", "locked", "disabled"].into_iter().zip(t.admin_statuses) {
                            option value=(status) selected[f.status.map(|s| s.as_str()) == Some(status)] { (name) }
                        }
                    }
                    label.check { input type="checkbox" name="no_phone" value="1" checked[f.no_phone]; " " (t.admin_no_phone) }
                    label.check { input type="checkbox" name="initial_password" value="1" checked[f.initial_password]; " " (t.admin_initial_password) }
                    label.check { input type="checkbox" name="never_logged_in" value="1" checked[f.never_logged_in]; " " (t.admin_never_logged_in) }
                    button type="submit" { (t.admin_filter_button) }
                }
                p.count {
                    (t.admin_list_count.replace("{total}", &p.total.to_string()).replace("{page}", &p.page.to_string()).replace("{pages}", &p.pages.to_string()))
                    " · " a href=(with("format=csv")) { (t.admin_export_csv) }
                }
                table {
                    tr { th { (t.admin_account) } th { (t.admin_name) } th { (t.admin_kind) } th { (t.admin_status) } th { (t.admin_department) } th { (t.admin_phone) } th { (t.admin_initial_password) } th { (t.admin_last_login) } }
                    @for (r, last) in p.accounts.iter().zip(v.last_logins) {
                        @let a = &r.account;
                        tr {
                            td { a href=(format!("{}?id={}", self.admin_url("/account"), url::form_urlencoded::byte_serialize(a.id.as_bytes()).collect::<String>())) { (a.id) } }
                            td { (a.name) } td { (self.kind_name(a.kind)) } td { (self.status_name(a.status.as_str())) } td { (a.department) }
                            td { @match a.bound_phone.as_deref().and_then(crate::model::Phone::parse) { Some(phone) => (phone.masked()), None => (t.admin_unbound) } }
                            td { @if a.initial_password { (t.yes) } @else { (t.no) } }
                            td { @match last { Some(at) => (at), None => (t.admin_never_logged_in) } }
                        }
                    }
                }
                @if p.accounts.is_empty() { p.hint { (t.admin_nothing_found) } }
                @if p.pages > 1 {
                    p.pages {
                        @if p.page > 1 { a.button.secondary rel="prev" href=(with(&format!("page={}", p.page - 1))) { (t.admin_previous) } " " }
                        @if p.page < p.pages { a.button.secondary rel="next" href=(with(&format!("page={}", p.page + 1))) { (t.admin_next) } }
                    }
                }
            },
        )
    }

    pub fn admin_account(&self, frame: &AdminFrame, v: &AccountDetail) -> Markup {
        let t = self.t();
        let a = v.account;
        let action = self.admin_url("/account");
        let button = |name: &str, label: &str| {
            html! {
                form.inline method="post" action=(action) {
                    (self.csrf(frame))
                    input type="hidden" name="id" value=(a.id);
                    button.secondary type="submit" name="action" value=(name) { (label) }
                }
            }
        };
        self.admin_page(
            &a.id,
            frame,
            html! {
                h1 { (a.name) " (" (a.id) ")" }
                @if let Some(done) = v.done { p.success role="status" { (t.admin_done) (self.action_name(done)) } }
                table.details {
                    tr { th { (t.admin_kind) } td { (self.kind_name(a.kind)) } }
                    tr { th { (t.admin_status) } td { (self.status_name(a.status.as_str())) } }
                    tr { th { (t.admin_department) } td { (a.department) } }
                    tr { th { (t.admin_source) } td { (t.admin_sources[match a.source { Source::Admin => 0, Source::Import => 1, Source::Demo => 2 }]) } }
                    tr { th { (t.admin_must_change) } td { @if a.must_change { (t.yes) } @else { (t.no) } } }
                    tr { th { (t.password_changed_at) } td { (v.password_changed) } }
                    @if let Some(last4) = &v.id_last4 { tr { th { (t.admin_id_last4) } td { (last4) } } }
                    tr { th { (t.admin_phone) } td {
                        @match v.bindings.iter().find(|(k, _)| k == "phone") {
                            Some((_, phone)) => (phone),
                            None => (t.admin_unbound),
                        }
                    } }
                    @if let Some(phone) = &v.contact_phone { tr { th { (t.admin_roster_phone) } td { (phone) } } }
                    @for (kind, value) in v.bindings.iter().filter(|(k, _)| k != "phone") { tr { th { (t.bound) " · " (self.binding_name(kind)) } td { (value) } } }
                }
                div.actions {
                    @if a.status == crate::model::Status::Active { (button("lock", t.admin_lock)) (button("disable", t.admin_disable)) }
                    @else { (button("unlock", t.admin_unlock)) }
                    (button("reset", t.admin_reset))
                    (button("logout", t.admin_end_sessions))
                    @for (kind, _) in &v.bindings {
                        @let action = format!("unbind-{kind}");
                        (button(&action, &self.action_name(&action)))
                    }
                }
                h2 { (t.recent_sign_ins) }
                table {
                    tr { th { (t.time) } th { (t.address) } th { (t.method) } }
                    @for (at, ip, method) in &v.sign_ins { tr { td { (at) } td { (ip) } td { (method) } } }
                }
                h2 { (t.active_sessions) }
                table {
                    tr { th { (t.signed_in_at) } th { (t.address) } th { (t.browser) } }
                    @for (at, ip, browser) in &v.sessions { tr { td { (at) } td { (ip) } td { (browser) } } }
                }
            },
        )
    }

    /// The second page before an action that cuts someone off: 确认…？ with 确认 (the form
    /// again, with `confirm=yes` and the console's token) and 取消 (back to the account).
    pub fn admin_confirm(&self, frame: &AdminFrame, a: &Account, action: &str) -> Markup {
        let t = self.t();
        let name = self.action_name(action);
        let hint = match action {
            "disable" => t.admin_confirm_hints[0],
            "reset" => t.admin_confirm_hints[1],
            "logout" => t.admin_confirm_hints[2],
            _ => t.admin_confirm_hints[3],
        };
        let back = format!(
            "{}?id={}",
            self.admin_url("/account"),
            url::form_urlencoded::byte_serialize(a.id.as_bytes()).collect::<String>()
        );
        self.admin_page(
            &a.id,
            frame,
            html! {
                h1 { (t.admin_confirm_title.replace("{action}", &name)) }
                table.details {
                    tr { th { (t.admin_account) } td { (a.id) } }
                    tr { th { (t.admin_name) } td { (a.name) } }
                    tr { th { (t.admin_department) } td { (a.department) } }
                }
                p.notice { (hint) }
                form.inline method="post" action=(self.admin_url("/account")) {
                    (self.csrf(frame))
                    input type="hidden" name="id" value=(a.id);
                    input type="hidden" name="action" value=(action);
                    input type="hidden" name="confirm" value="yes";
                    button.danger type="submit" { (t.admin_confirm_button) }
                }
                " "
                a.button.secondary.cancel href=(back) { (t.admin_cancel) }
            },
        )
    }

    /// The temporary password on a slip to print (the print stylesheet leaves out the
    /// console around it) and hand over: the school, the account, the password, and that it
    /// must be changed at the first login.
    pub fn admin_slip(
        &self,
        frame: &AdminFrame,
        a: &Account,
        temporary: &str,
        login: &str,
    ) -> Markup {
        let t = self.t();
        let back = format!(
            "{}?id={}&done=reset",
            self.admin_url("/account"),
            url::form_urlencoded::byte_serialize(a.id.as_bytes()).collect::<String>()
        );
        self.admin_page(
            &a.id,
            frame,
            html! {
                p.success.noprint role="status" { (t.admin_done) (t.admin_reset) }
                div.slip {
                    p.slip-school { (self.school_name) }
                    h1 { (t.admin_slip_title) }
                    table.details {
                        tr { th { (t.admin_account) } td.slip-account { (a.id) } }
                        tr { th { (t.admin_name) } td { (a.name) } }
                        tr { th { (t.admin_temporary) } td { code.slip-password { (temporary) } } }
                    }
                    h2 { (t.admin_slip_must_change) }
                    ol.slip-steps {
                        li { (t.admin_slip_steps[0]) " " code { (login) } }
                        li { (t.admin_slip_steps[1]) }
                        li { (t.admin_slip_steps[2]) }
                    }
                    p.hint { (t.admin_slip_letters) }
                }
                p.note.noprint { (t.admin_temporary_once) }
                p.hint.noprint { (t.admin_slip_print) }
                p.noprint { a.button.secondary href=(back) { (t.admin_back_to_account) } }
            },
        )
    }
}
