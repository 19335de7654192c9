//! Administration: what an administrator does to an account, with its rules, for both front
//! doors (the command line and the console's `/admin/account`): status changes, ending the
//! sessions, a temporary password, removing a binding. The command line is the operator at
//! the machine; an administrator in the console may not lock or disable their own account,
//! nor remove their own last second factor (docs/security.md M08), so a slip never shuts
//! them out.
//!
//! The rules are plain functions over the blocking store (the command line calls them as
//! they are); `Accounts` runs them off the runtime threads for the console and forgets the
//! account's cached sessions after each.

use super::{temporary_password, Accounts, AccountsError};
use crate::model::audit::Actor;
use crate::model::{AuditEvent, AuditRecord, Client, Status};
use crate::store::{AccountFilter, ListedAccount, Store, StoreError, Unfinished};

/// A binding an administrator can remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingKind {
    Phone,
    Email,
    WeCom,
    WeChat,
    /// An authenticator app (an administrator's, or a person's second factor: a lost phone,
    /// and a new one is enrolled).
    Totp,
    /// A person's recovery codes.
    Recovery,
    /// Every passkey and security key of the account (a lost key: its holder adds a new one
    /// after the usual proof of identity).
    WebAuthn,
}

impl BindingKind {
    pub const ALL: [BindingKind; 7] = [
        BindingKind::WeCom,
        BindingKind::WeChat,
        BindingKind::Email,
        BindingKind::Phone,
        BindingKind::Totp,
        BindingKind::Recovery,
        BindingKind::WebAuthn,
    ];

    pub fn parse(text: &str) -> Option<BindingKind> {
        BindingKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The name in the store, the audit log, the command line and the console's forms.
    pub fn as_str(self) -> &'static str {
        match self {
            BindingKind::Phone => "phone",
            BindingKind::Email => "email",
            BindingKind::WeCom => "wecom",
            BindingKind::WeChat => "wechat",
            BindingKind::Totp => "totp",
            BindingKind::Recovery => "recovery",
            BindingKind::WebAuthn => "webauthn",
        }
    }

    /// A second factor: its removal is audited as one (`factor_removed`).
    pub fn is_second_factor(self) -> bool {
        matches!(
            self,
            BindingKind::Totp | BindingKind::Recovery | BindingKind::WebAuthn
        )
    }
}

/// Who acts, which decides the rules that apply and what the audit row says.
#[derive(Clone, Debug)]
pub enum By {
    /// The operator at the machine, with the command line.
    CommandLine,
    /// An administrator signed in to the console, from this browser.
    Console { admin: String, client: Client },
}

impl By {
    fn record<'a>(&'a self, event: AuditEvent, account_id: &'a str) -> AuditRecord<'a> {
        match self {
            By::CommandLine => AuditRecord::system(event, Some(account_id)),
            By::Console { client, .. } => client.record(event, Some(account_id)),
        }
    }

    fn is(&self, account_id: &str) -> bool {
        matches!(self, By::Console { admin, .. } if admin == account_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no account '{0}'")]
    NoAccount(String),
    #[error("{0} has no {1} binding")]
    NotBound(String, &'static str),
    #[error("an administrator cannot lock or disable their own account in the console")]
    OwnAccount,
    #[error("an administrator cannot remove their own phone without an authenticator")]
    LastSecondFactor,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
}

/// Locks, disables or unlocks an account; locking or disabling ends its sessions.
pub fn set_status(
    store: &Store,
    by: &By,
    id: &str,
    status: Status,
    now: i64,
) -> Result<(), AdminError> {
    if by.is(id) && status != Status::Active {
        return Err(AdminError::OwnAccount);
    }
    match store.set_status(id, status, now)? {
        true => Ok(()),
        false => Err(AdminError::NoAccount(id.to_string())),
    }
}

/// Ends every SSO session of the account (single logout follows); how many there were.
pub fn end_sessions(store: &Store, id: &str, now: i64) -> Result<usize, AdminError> {
    store
        .delete_sessions_of(id, None, None, now)?
        .ok_or_else(|| AdminError::NoAccount(id.to_string()))
}

/// Removes a binding, audited.
pub fn unbind(
    store: &Store,
    by: &By,
    id: &str,
    kind: BindingKind,
    now: i64,
) -> Result<(), AdminError> {
    if by.is(id) && kind == BindingKind::Phone && store.binding(id, "totp")?.is_none() {
        return Err(AdminError::LastSecondFactor);
    }
    let name = kind.as_str();
    let event = match kind.is_second_factor() {
        true => AuditEvent::FactorRemoved { factor: name },
        false => AuditEvent::Unbound { kind: name },
    };
    let record = by.record(event, id);
    let removed = match kind {
        BindingKind::Recovery => store.remove_recovery_codes(id, &record, now)?,
        BindingKind::WebAuthn => store.remove_passkeys(id, &record, now)? > 0,
        _ => store.unbind(id, name, &record, true, now)?,
    };
    let kind = name;
    match removed {
        true => Ok(()),
        false => Err(AdminError::NotBound(id.to_string(), kind)),
    }
}

/// Sets a password an administrator chose or drew (`hash`), temporary with `must_change`;
/// ends the account's sessions.
pub fn set_password(
    store: &Store,
    by: &By,
    id: &str,
    hash: &str,
    must_change: bool,
    now: i64,
) -> Result<(), AdminError> {
    let event = AuditEvent::PasswordChanged {
        by: Actor::Administrator,
    };
    let record = by.record(event, id);
    match store.set_password(id, hash, must_change, None, false, None, &record, now)? {
        true => Ok(()),
        false => Err(AdminError::NoAccount(id.to_string())),
    }
}

/// Accounts a page of the console's list holds.
pub const PAGE_SIZE: i64 = 100;

/// One page of the account list: its accounts, how many match in all, the page (from 1) and
/// how many pages there are.
#[derive(Clone, Debug)]
pub struct AccountPage {
    pub accounts: Vec<ListedAccount>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

/// A searched text that is a phone number finds the account it is bound to (phones are
/// stored sealed: no text search reaches them).
fn resolve_phone(store: &Store, filter: &AccountFilter) -> Result<AccountFilter, AdminError> {
    let mut filter = filter.clone();
    if let Some(phone) = crate::model::Phone::parse(&filter.text) {
        // Bound to no one: an id no account has, so nothing is found.
        filter.id = store
            .account_by_binding("phone", &phone.e164())?
            .unwrap_or_else(|| "-".into());
        filter.text.clear();
    }
    Ok(filter)
}

/// Who has not finished, a page at a time (`page` from 1; past the last: the last).
pub fn list(store: &Store, filter: &AccountFilter, page: i64) -> Result<AccountPage, AdminError> {
    let filter = resolve_phone(store, filter)?;
    // Past any real list (an address typed by hand): the last page, without overflow.
    let page = page.clamp(1, i64::MAX / PAGE_SIZE);
    let (mut accounts, total) = store.list_accounts(&filter, (page - 1) * PAGE_SIZE, PAGE_SIZE)?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    if page > pages && total > 0 {
        accounts = store
            .list_accounts(&filter, (pages - 1) * PAGE_SIZE, PAGE_SIZE)?
            .0;
        return Ok(AccountPage {
            accounts,
            total,
            page: pages,
            pages,
        });
    }
    Ok(AccountPage {
        accounts,
        total,
        page,
        pages,
    })
}

/// Every account the filter keeps (the command line, the CSV export).
pub fn list_all(store: &Store, filter: &AccountFilter) -> Result<Vec<ListedAccount>, AdminError> {
    let filter = resolve_phone(store, filter)?;
    Ok(store.list_accounts(&filter, 0, i64::MAX)?.0)
}

/// How many active accounts have no phone bound, are still on the initial password, never
/// logged in.
pub fn unfinished(store: &Store) -> Result<Unfinished, AdminError> {
    Ok(store.unfinished_counts()?)
}

/// The accounts as CSV (RFC 4180, CRLF; cells that a spreadsheet would take for a formula
/// are prefixed with `'`): account, name, kind, status, department, the bound phone masked,
/// whether still on the initial password, the last login (ISO 8601, UTC) or empty.
pub fn accounts_csv(rows: &[ListedAccount]) -> String {
    let cell = |value: &str| {
        let value = match value.starts_with(['=', '+', '-', '@']) {
            true => format!("'{value}"),
            false => value.to_string(),
        };
        match value.contains([',', '"', '\n', '\r']) {
            true => format!("\"{}\"", value.replace('"', "\"\"")),
            false => value,
        }
    };
    let mut out =
        String::from("account,name,kind,status,department,phone,initial_password,last_login\r\n");
    for r in rows {
        let a = &r.account;
        let phone = a
            .bound_phone
            .as_deref()
            .and_then(crate::model::Phone::parse)
            .map(|p| p.masked())
            .unwrap_or_default();
        let cells = [
            a.id.clone(),
            a.name.clone(),
            a.kind.as_str().into(),
            a.status.as_str().into(),
            a.department.clone(),
            phone,
            a.initial_password.to_string(),
            r.last_login.map(crate::clock::iso8601).unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The console's door: the same rules, off the runtime threads, and the account's cached
/// sessions forgotten after each change.
impl Accounts {
    pub async fn set_status(&self, by: By, id: &str, status: Status) -> Result<(), AdminError> {
        let (id_owned, now) = (id.to_string(), self.clock.now());
        let done = self
            .store
            .call(move |s| Ok(set_status(s, &by, &id_owned, status, now)))
            .await?;
        self.sessions.forget_account(id);
        done
    }

    /// Every SSO session but `keep` (the administrator's own) ends, after an incident; the
    /// administrator's audit row goes in the same commit.
    pub async fn end_all_sessions(
        &self,
        keep: String,
        admin: &str,
        client: &Client,
    ) -> Result<usize, AdminError> {
        let (admin, client, now) = (admin.to_string(), client.clone(), self.clock.now());
        let ended = self
            .store
            .call(move |s| s.end_all_sessions(&keep, &admin, &client, now))
            .await?;
        self.sessions.forget_all();
        Ok(ended)
    }

    /// A page of the account list (see `list`).
    pub async fn list(&self, filter: AccountFilter, page: i64) -> Result<AccountPage, AdminError> {
        self.store.call(move |s| Ok(list(s, &filter, page))).await?
    }

    /// Every account the filter keeps (see `list_all`).
    pub async fn list_all(&self, filter: AccountFilter) -> Result<Vec<ListedAccount>, AdminError> {
        self.store.call(move |s| Ok(list_all(s, &filter))).await?
    }

    /// The overview's counts (see `unfinished`).
    pub async fn unfinished(&self) -> Result<Unfinished, AdminError> {
        self.store.call(|s| Ok(unfinished(s))).await?
    }

    pub async fn end_sessions(&self, id: &str) -> Result<usize, AdminError> {
        let (id_owned, now) = (id.to_string(), self.clock.now());
        let ended = self
            .store
            .call(move |s| Ok(end_sessions(s, &id_owned, now)))
            .await?;
        self.sessions.forget_account(id);
        ended
    }

    pub async fn unbind(&self, by: By, id: &str, kind: BindingKind) -> Result<(), AdminError> {
        let (id_owned, now) = (id.to_string(), self.clock.now());
        let done = self
            .store
            .call(move |s| Ok(unbind(s, &by, &id_owned, kind, now)))
            .await?;
        self.sessions.forget_account(id);
        done
    }

    /// A random temporary password, to be changed at the next login, hashed on the hashing
    /// threads; shown once to the administrator who asked.
    pub async fn reset_password(&self, by: By, id: &str) -> Result<String, AdminError> {
        let temporary = temporary_password();
        let hash = self
            .hasher
            .hash(temporary.clone())
            .await
            .map_err(AccountsError::from)?;
        let (id_owned, now) = (id.to_string(), self.clock.now());
        let done = self
            .store
            .call(move |s| Ok(set_password(s, &by, &id_owned, &hash, true, now)))
            .await?;
        self.sessions.forget_account(id);
        done.map(|()| temporary)
    }
}
