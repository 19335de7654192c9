//! Steps interposed between correct credentials and the SSO session: the forced password
//! change (the initial password, or one that fails today's policy). No session or ticket
//! exists until the steps are done; the paused login lives 10 minutes, bound to a cookie of
//! its own, and its form carries a token of its own (CSRF).

use super::error::{Failure, Handled};
use super::login::Target;
use super::App;
use crate::accounts::{PasswordChange, PolicyError};
use crate::http::{Cookie, Request, Response};
use crate::model::audit::Actor;
use crate::model::Account;
use crate::pages::Text;
use crate::tickets::{self, Kind};
use hyper::StatusCode;

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
        let key = tickets::new_id(Kind::PendingLogin);
        let token = tickets::new_id(Kind::PendingLogin);
        let pending = PendingLogin {
            account_id: account.id.clone(),
            target: target.clone(),
            remember,
            token: token.clone(),
        };
        let now = self.clock.now();
        self.pending_logins
            .insert(tickets::hash_id(&key), pending, now + PENDING_TTL, now);
        let chrome = self.chrome(req);
        let page = chrome.change_password(&token, &account.id, self.accounts.policy(), None);
        let res = self.page(req, StatusCode::OK, page);
        self.cookies.set(res, Cookie::Pending, &key, None)
    }

    pub(super) async fn first_login_password(&self, req: &Request) -> Handled {
        let key = req
            .cookie(Cookie::Pending)
            .map(tickets::hash_id)
            .unwrap_or_default();
        // Taken while it is worked on, so of two concurrent submits only one goes on; put
        // back if the new password is refused.
        let now = self.clock.now();
        let Some((expires, pending)) = self.pending_logins.take(&key) else {
            return Err(Failure::Refused(StatusCode::FORBIDDEN));
        };
        if expires < now {
            return Err(Failure::Refused(StatusCode::FORBIDDEN));
        }
        let put_back = || {
            self.pending_logins
                .insert(key.clone(), pending.clone(), expires, now)
        };
        if req.form.get("execution") != Some(pending.token.as_str()) {
            put_back();
            return Err(Failure::Refused(StatusCode::FORBIDDEN));
        }
        let f = &req.form;
        let change = PasswordChange {
            account_id: &pending.account_id,
            current: Some(f.get("password").unwrap_or("")),
            new: f.get("newPassword").unwrap_or(""),
            repeat: f.get("confirmPassword").unwrap_or(""),
            must_change: false,
            by: Actor::FirstLogin,
        };
        let chrome = self.chrome(req);
        let changed = self
            .accounts
            .change_password(change, &self.client(req))
            .await;
        let account = match changed {
            Ok(Ok(account)) => account,
            Err(e) => {
                put_back();
                return Err(e.into());
            }
            Ok(Err(refused)) => {
                put_back();
                let error = policy_message(chrome.t(), refused);
                let page = chrome.change_password(
                    &pending.token,
                    &pending.account_id,
                    self.accounts.policy(),
                    Some(error),
                );
                return Ok(self.page(req, StatusCode::BAD_REQUEST, page));
            }
        };
        let res = self
            .finish_login(req, &account, &pending.target, pending.remember, false)
            .await?;
        Ok(self.cookies.clear(res, Cookie::Pending))
    }
}

/// The sentence for a refused password, in the page's language.
pub(super) fn policy_message(t: &'static Text, e: PolicyError) -> &'static str {
    match e {
        PolicyError::Mismatch => t.password_mismatch,
        PolicyError::WrongCurrent => t.password_wrong_current,
        PolicyError::Reused => t.password_reused,
        PolicyError::Common => t.password_common,
        PolicyError::ContainsAccount => t.password_contains_account,
        PolicyError::TooShort | PolicyError::TooLong | PolicyError::TooFewClasses => {
            t.password_weak
        }
    }
}
