//! 通行密钥 (passkeys) in 账号管理: the account's passkeys (name, added, last used) each with
//! a plain form to remove it, and the form that adds one. Adding needs WebAuthn, so
//! JavaScript (`assets/passkey.js` reads the options from the form's `data-options` and
//! posts the authenticator's answer in its `credential` field); the page says so where it is
//! missing and points to the other factors. Removing works without it.

use super::Chrome;
use maud::{html, Markup};

/// One passkey as listed.
pub struct PasskeyLine {
    pub credential_id: String,
    pub name: String,
    pub added: String,
    /// `None`: never used.
    pub last_used: Option<String>,
    /// The removal form's token.
    pub token: String,
}

pub struct PasskeysView<'a> {
    pub flash: Option<&'static str>,
    pub error: Option<String>,
    pub passkeys: Vec<PasskeyLine>,
    /// The options for `navigator.credentials.create` (JSON); `None` where the server has
    /// no passkeys (an address without a domain name).
    pub options: Option<String>,
    pub add_token: String,
    /// What the name field holds at first (the browser and system).
    pub default_name: &'a str,
    pub max_name: usize,
}

impl Chrome<'_> {
    /// The passkeys page.
    pub fn passkeys(&self, v: &PasskeysView) -> Markup {
        let t = self.t();
        let action = format!("{}/account/passkeys", self.prefix);
        self.page(
            t.passkeys_title,
            html! {
                div.card {
                    h1 { (t.passkeys_title) }
                    p.hint { (t.passkeys_intro) }
                    @if let Some(flash) = v.flash { p.success role="status" { (flash) } }
                    @if let Some(error) = &v.error { p #showErrorTip .error role="alert" { (error) } }
                    @if v.passkeys.is_empty() { p #noPasskeys { (t.passkeys_none) } }
                    ul.passkeys #passkeys {
                        @for p in &v.passkeys {
                            li {
                                strong.passkey-name { (p.name) }
                                br;
                                span.hint { (t.passkey_added_at) (p.added) }
                                br;
                                span.hint { (t.passkey_last_used) (p.last_used.as_deref().unwrap_or(t.passkey_never_used)) }
                                form method="post" action=(action) {
                                    input type="hidden" name="execution" value=(p.token);
                                    input type="hidden" name="action" value="remove";
                                    input type="hidden" name="credential_id" value=(p.credential_id);
                                    button.secondary type="submit" aria-label=(format!("{} {}", t.passkey_remove, p.name)) { (t.passkey_remove) }
                                }
                            }
                        }
                    }
                    h2 { (t.passkey_add) }
                    @match &v.options {
                        Some(options) => {
                            form #passkeyAdd method="post" action=(action) autocomplete="off"
                                data-passkey="create" data-options=(options) data-failed=(t.passkey_failed) {
                                input type="hidden" name="execution" value=(v.add_token);
                                input type="hidden" name="action" value="add";
                                input type="hidden" name="credential" value="";
                                label for="passkeyName" { (t.passkey_name) }
                                input #passkeyName type="text" name="name" value=(v.default_name) maxlength=(v.max_name) required;
                                p.notice data-passkey-unsupported { (t.passkey_needs_js) }
                                p.error data-passkey-error role="alert" hidden {}
                                button #passkeyStart type="submit" data-passkey-start hidden { (t.passkey_add) }
                            }
                            script src=(format!("{}/assets/passkey.js", self.prefix)) {}
                        }
                        None => p.notice { (t.passkey_unavailable) },
                    }
                    p.links { a href=(format!("{}/account", self.prefix)) { (t.back_to_account) } }
                }
            },
        )
    }
}
