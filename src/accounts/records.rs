//! What the rooms read and record about accounts besides logins and passwords: the account as
//! stored, its bindings (phone, e-mail, authenticator, WeCom, WeChat) and who holds one,
//! binding and unbinding, ending its other sessions, and events in the audit log. Each runs
//! off the runtime threads; a change that ends sessions also forgets them here.

use super::{Accounts, AccountsError};
use crate::model::{Account, AuditEvent, Client, Status};
use crate::store::{AuditRow, Bound, SessionRow};

/// What 账号管理 shows of an account: its bindings (kind, value), recent sign-ins and live
/// sessions.
pub struct SelfService {
    pub bindings: Vec<(String, String)>,
    pub logins: Vec<AuditRow>,
    pub sessions: Vec<SessionRow>,
}

impl Accounts {
    /// The account as stored now.
    pub async fn account(&self, id: &str) -> Result<Option<Account>, AccountsError> {
        let id = id.to_string();
        Ok(self.store.call(move |s| s.account(&id)).await?)
    }

    /// What 账号管理 shows: bindings, the last ten sign-ins, live sessions.
    pub async fn self_service(&self, id: &str) -> Result<SelfService, AccountsError> {
        let id = id.to_string();
        Ok(self
            .store
            .call(move |s| {
                Ok(SelfService {
                    bindings: s.bindings_of(&id)?,
                    logins: s.recent_logins(&id, 10)?,
                    sessions: s.sessions_of(&id)?,
                })
            })
            .await?)
    }

    /// Spends one of `limit` uses a day of `budget` (e.g. the recoveries a name may start);
    /// `false` once they are spent.
    pub async fn spend_daily(&self, budget: String, limit: i64) -> Result<bool, AccountsError> {
        let now = self.clock.now();
        Ok(self
            .store
            .call(move |s| s.spend_budget(&budget, limit, 24 * 3600, now))
            .await?)
    }

    /// The account, if it exists and is active.
    pub async fn active(&self, id: &str) -> Result<Option<Account>, AccountsError> {
        let account = self.account(id).await?;
        Ok(account.filter(|a| a.status == Status::Active))
    }

    /// What the account has bound for `kind`, opened.
    pub async fn binding(
        &self,
        id: &str,
        kind: &'static str,
    ) -> Result<Option<String>, AccountsError> {
        let id = id.to_string();
        Ok(self.store.call(move |s| s.binding(&id, kind)).await?)
    }

    /// The account the first of `values` that is bound for `kind` belongs to (an identity
    /// may be known by several values, e.g. WeChat's unionid and openid).
    pub async fn holder(
        &self,
        kind: &'static str,
        values: Vec<String>,
    ) -> Result<Option<String>, AccountsError> {
        let found = self
            .store
            .call(move |s| {
                for v in &values {
                    if let Some(id) = s.account_by_binding(kind, v)? {
                        return Ok(Some(id));
                    }
                }
                Ok(None)
            })
            .await?;
        Ok(found)
    }

    /// Binds `value` for `kind` to the account with `event` audited as `by`'s (the default
    /// client: the server's own doing), in one transaction; `Taken` if another account holds
    /// it, or (with `only_first`) if this account already has one of `kind`.
    pub async fn bind(
        &self,
        id: &str,
        kind: &'static str,
        value: String,
        event: AuditEvent,
        by: &Client,
        only_first: bool,
    ) -> Result<Bound, AccountsError> {
        let (id, by, now) = (id.to_string(), by.clone(), self.clock.now());
        let bound = self
            .store
            .call(move |s| {
                if only_first && s.binding(&id, kind)?.is_some() {
                    return Ok(Bound::Taken);
                }
                s.bind(&id, kind, &value, &by.record(event, Some(&id)), now)
            })
            .await?;
        Ok(bound)
    }

    /// Ends the account's own binding of `kind` (its holder's choice), audited as `by`'s;
    /// `false` if there was none.
    pub async fn unbind_own(
        &self,
        id: &str,
        kind: &'static str,
        by: &Client,
    ) -> Result<bool, AccountsError> {
        let (id, by, now) = (id.to_string(), by.clone(), self.clock.now());
        let event = AuditEvent::Unbound { kind };
        Ok(self
            .store
            .call(move |s| s.unbind(&id, kind, &by.record(event, Some(&id)), false, now))
            .await?)
    }

    /// Ends every SSO session of the account but `keep` (its holder's "sign out
    /// elsewhere"), audited as `client`'s.
    pub async fn end_other_sessions(
        &self,
        id: &str,
        keep: String,
        client: &Client,
    ) -> Result<(), AccountsError> {
        let (owned, client, now) = (id.to_string(), client.clone(), self.clock.now());
        self.store
            .call(move |s| s.delete_sessions_of(&owned, Some(&keep), Some(&client), now))
            .await?;
        self.sessions.forget_account(id);
        Ok(())
    }

    /// Writes `event`, made by `by` and concerning `account` (if any), to the audit log.
    pub async fn record(
        &self,
        by: &Client,
        event: AuditEvent,
        account: Option<&str>,
    ) -> Result<(), AccountsError> {
        let (by, account, now) = (by.clone(), account.map(str::to_string), self.clock.now());
        self.store
            .call(move |s| s.audit(&by.record(event, account.as_deref()), now))
            .await?;
        Ok(())
    }
}
