//! The one way a password changes hands: the policy, the current password (or, after a
//! recovery, none), the history, the hash, and then in one transaction the new hash, the
//! history row, the end of the account's SSO sessions (all, or all but the portal's own)
//! and the audit row; after it, the memory of sessions forgets the account and single
//! logout is woken. The first-login step, the portal and recovery use it.

use super::{Accounts, AccountsError, PolicyError};
use crate::model::audit::Actor;
use crate::model::{Account, AuditEvent, Client};

/// A request to change a password.
pub struct PasswordChange<'a> {
    pub account_id: &'a str,
    /// The current password, where the person must prove they know it.
    pub current: Option<&'a str>,
    pub new: &'a str,
    pub repeat: &'a str,
    /// Require another change at the next login (an administrator's temporary password).
    pub must_change: bool,
    /// The SSO session (id hash) that stays: the portal's, where its holder made the change.
    /// Every other session of the account ends.
    pub keep_session: Option<&'a str>,
    /// The holder asked to keep the WeCom and WeChat bindings made before the change (the
    /// portal's change, with the current password); otherwise they end with it.
    pub keep_identities: bool,
    pub by: Actor,
}

impl Accounts {
    /// Changes the password; `Ok(Err(_))` says which rule refused it, with nothing changed.
    pub async fn change_password(
        &self,
        change: PasswordChange<'_>,
        client: &Client,
    ) -> Result<Result<Account, PolicyError>, AccountsError> {
        let id = change.account_id.to_string();
        let history = self.policy.history;
        let found = self
            .store
            .call(move |s| {
                let account = s.account(&id)?;
                let recent = s.recent_password_hashes(&id, history)?;
                Ok(account.map(|a| (a, recent)))
            })
            .await?;
        let Some((account, mut recent)) = found else {
            return Ok(Err(PolicyError::WrongCurrent));
        };
        // The current password is checked as a login's is: throttled and audited, so a
        // session left open is no place to guess it (docs/security.md M04).
        if let Some(current) = change.current {
            match self.confirm_password(&account, current, client).await? {
                Some(true) => {}
                Some(false) => return Ok(Err(PolicyError::WrongCurrent)),
                None => return Ok(Err(PolicyError::Throttled)),
            }
        }
        if let Err(e) = self
            .policy
            .check_new(&account.id, change.new, change.repeat)
        {
            return Ok(Err(e));
        }
        recent.push(account.password_hash.clone());
        if self.hasher.verify_any(change.new.to_string(), recent).await {
            return Ok(Err(PolicyError::Reused));
        }
        let hash = self.hasher.hash(change.new.to_string()).await?;
        let (id, now, client, must_change) = (
            account.id.clone(),
            self.clock.now(),
            client.clone(),
            change.must_change,
        );
        let keep = change.keep_session.map(str::to_string);
        let keep_identities = change.keep_identities;
        // The account as the change began: what an administrator does meanwhile wins.
        let generation = Some(account.generation);
        let event = AuditEvent::PasswordChanged { by: change.by };
        let changed = self
            .store
            .call(move |s| {
                let record = client.record(event, Some(&id));
                let kept = keep.as_deref();
                let set = s.set_password(
                    &id,
                    &hash,
                    must_change,
                    kept,
                    keep_identities,
                    generation,
                    &record,
                    now,
                )?;
                Ok(set.then(|| s.account(&id)).transpose()?.flatten())
            })
            .await?;
        // The store ended the account's sessions in the same commit.
        self.sessions.forget_account(&account.id);
        changed.map(Ok).ok_or(AccountsError::Changed)
    }
}
