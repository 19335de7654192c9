//! Steps interposed between a successful password check and the SSO session: today the forced
//! password change (initial password, or one that fails the policy). No session or ticket
//! exists until the steps are done; the pending login lives 10 minutes, bound to a cookie.

use super::login::Target;
use super::App;
use crate::accounts::{check_new_password, Account, PolicyError};
use crate::http::{Request, Response};
use crate::store::AuditEvent;
use crate::tickets::{self, Kind};
use hyper::StatusCode;

pub(super) const PENDING: &str = "UNICAS_PENDING";
const PENDING_TTL: i64 = 600;

#[derive(Clone, Debug)]
pub struct PendingLogin {
    account_id: String,
    target: Target,
    remember: bool,
    /// CSRF token of the step's form.
    token: String,
}

impl App {
    pub(super) fn start_first_login(
        &self,
        req: &Request,
        account: &Account,
        target: &Target,
        remember: bool,
    ) -> Response {
        let key = tickets::new_id(Kind::LoginForm);
        let token = tickets::new_id(Kind::LoginForm);
        let pending = PendingLogin {
            account_id: account.id.clone(),
            target: target.clone(),
            remember,
            token: token.clone(),
        };
        self.pending_logins.insert(
            tickets::hash_id(&key),
            pending,
            self.cas.clock.now() + PENDING_TTL,
        );
        let chrome = self.chrome(req);
        self.page(
            req,
            StatusCode::OK,
            chrome.change_password(&token, &account.id, None),
        )
        .cookie(&self.cookie(req, PENDING, &key, None))
    }

    pub(super) async fn first_login_password(&self, req: &Request) -> Response {
        let key = req
            .cookie(PENDING)
            .map(tickets::hash_id)
            .unwrap_or_default();
        let now = self.cas.clock.now();
        let chrome = self.chrome(req);
        let t = chrome.t();
        let Some(pending) = self.pending_logins.get(&key, now) else {
            let page = chrome.message(
                t.form_expired,
                "",
                &[(t.back_to_login, format!("{}/login", req.prefix))],
            );
            return self.page(req, StatusCode::FORBIDDEN, page);
        };
        if req.form.get("execution") != Some(pending.token.as_str()) {
            return self.page(
                req,
                StatusCode::FORBIDDEN,
                chrome.message(t.form_expired, "", &[]),
            );
        }
        let password = req.form.get("newPassword").unwrap_or("");
        let repeat = req.form.get("repeatPassword").unwrap_or("");
        if let Err(e) = check_new_password(&pending.account_id, password, repeat) {
            let error = match e {
                PolicyError::Mismatch => t.password_mismatch,
                PolicyError::Weak => t.password_weak,
            };
            let page = chrome.change_password(&pending.token, &pending.account_id, Some(error));
            return self.page(req, StatusCode::BAD_REQUEST, page);
        }
        // Spent only once the new password is acceptable; a concurrent second submit loses.
        if self.pending_logins.take(&key).is_none() {
            return self.page(
                req,
                StatusCode::FORBIDDEN,
                chrome.message(t.form_expired, "", &[]),
            );
        }
        let hash = match self.auth.hasher.hash(password.to_string()).await {
            Ok(h) => h,
            Err(_) => return self.error_page(req, StatusCode::BAD_REQUEST),
        };
        let id = pending.account_id.clone();
        let ip = self.client_ip(req).to_string();
        let changed = self
            .cas
            .store
            .call(move |s| {
                let event = AuditEvent {
                    event: "password_changed",
                    account_id: Some(&id),
                    client_ip: &ip,
                    detail: "first login",
                };
                // The change, the end of the account's sessions and the audit row: one commit.
                let done = s.set_password(&id, &hash, false, &event, now)?;
                Ok(if done { s.account(&id)? } else { None })
            })
            .await;
        // Changing the password ended the account's sessions in the store.
        self.cas.forget_account(&pending.account_id);
        match changed {
            Ok(Some(account)) => {
                let res = self
                    .finish_login(req, &account, &pending.target, pending.remember)
                    .await;
                res.cookie(&self.cookie(req, PENDING, "", Some(0)))
            }
            Ok(None) => self.error_page(req, StatusCode::FORBIDDEN),
            Err(e) => {
                tracing::error!("first-login password change: {e}");
                self.error_page(req, StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}
