//! Passkeys and security keys (WebAuthn), a second factor a person holds: registering one
//! in 账号管理, asserting one at a step-up, listing and removing them. The ceremonies are
//! kanidm's `webauthn-rs` (its passkey flavour: user verification required, attestation not
//! asked); this module keeps each ceremony's state between its two requests in an
//! `Ephemeral` (five minutes, taken once), stores the credentials sealed, audits and tells
//! the bound phone and e-mail when one is added or removed.
//!
//! The relying party is the host of `public_url` and its origin; a URL whose host is an IP
//! address cannot have passkeys (WebAuthn needs a domain), and `available` says so. The
//! WebAuthn user id is derived from the account id with the installation key's MAC, so it is
//! stable without being stored and says nothing about the account to a relying party that
//! does not hold the key.

use crate::accounts::admin::{self, AdminError, By};
use crate::clock::Clock;
use crate::ephemeral::Ephemeral;
use crate::model::{Account, AuditEvent, Client};
use crate::otp::{Codes, Notice};
use crate::store::{PasskeyRow, Store, StoreError};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

/// Seconds a ceremony may take between its options and the authenticator's answer.
pub const CEREMONY_TTL: i64 = 300;
/// The longest name a passkey may have, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Passkeys one account may hold: enough for every device, not a place to fill.
pub const MAX_PASSKEYS: usize = 20;
/// Ceremonies under way held at most in memory (each kind).
const CEREMONY_CAPACITY: usize = 50_000;

/// What can go wrong inside: never the person's fault.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `public_url` has no domain a passkey can be bound to.
    #[error("passkeys need public_url with a domain name")]
    Unavailable,
    #[error("webauthn: {0}")]
    Library(#[from] WebauthnError),
    #[error("a stored passkey: {0}")]
    Json(#[from] serde_json::Error),
}

/// Why a registration was not made (the person can try again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No registration under way for this key and account: never begun, expired, or
    /// already finished.
    NoCeremony,
    /// The authenticator's answer could not be read or did not verify.
    NotVerified,
    /// This credential is registered already, to this account or another.
    AlreadyRegistered,
    /// The name is empty or longer than `MAX_NAME_CHARS`.
    BadName,
    /// The account has `MAX_PASSKEYS` already.
    TooMany,
    /// Registered as an account's first second factor, but it has one by now.
    FactorExists,
}

/// One passkey as its holder sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyInfo {
    /// Base64url, as WebAuthn gives it.
    pub credential_id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Registration {
    account_id: String,
    state: PasskeyRegistration,
}

#[derive(Clone, Serialize, Deserialize)]
struct Authentication {
    account_id: String,
    state: PasskeyAuthentication,
}

/// The handle the routes hold.
#[derive(Clone)]
pub struct Passkeys {
    inner: Arc<Inner>,
}

struct Inner {
    webauthn: Option<Webauthn>,
    store: Store,
    clock: Clock,
    codes: Codes,
    registrations: Ephemeral<Registration>,
    authentications: Ephemeral<Authentication>,
}

type Result<T, E = PasskeyError> = std::result::Result<T, E>;

impl Passkeys {
    pub fn new(config: &crate::config::Config, store: Store, clock: Clock, codes: Codes) -> Self {
        let webauthn = relying_party(config);
        Passkeys {
            inner: Arc::new(Inner {
                webauthn,
                registrations: Ephemeral::new(&store, "passkey-register", CEREMONY_CAPACITY),
                authentications: Ephemeral::new(&store, "passkey-assert", CEREMONY_CAPACITY),
                store,
                clock,
                codes,
            }),
        }
    }

    /// Drops expired ceremonies held in memory.
    pub fn sweep(&self, now: i64) {
        self.inner.registrations.sweep(now);
        self.inner.authentications.sweep(now);
    }

    /// Whether this server can have passkeys at all (its public URL names a domain).
    pub fn available(&self) -> bool {
        self.inner.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn> {
        self.inner
            .webauthn
            .as_ref()
            .ok_or(PasskeyError::Unavailable)
    }

    /// The WebAuthn user handle of an account: a MAC of its id, stable and not stored.
    fn user_id(&self, account_id: &str) -> Uuid {
        let mac = self
            .inner
            .store
            .keys()
            .mac("webauthn user", account_id.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&mac[..16]);
        Uuid::from_bytes(bytes)
    }

    async fn stored(&self, account_id: &str) -> Result<Vec<PasskeyRow>> {
        let id = account_id.to_string();
        Ok(self.inner.store.call(move |s| s.passkeys_of(&id)).await?)
    }

    /// Starts registering a passkey for `account`: the options for
    /// `navigator.credentials.create` (JSON, `{"publicKey": …}` with base64url binaries),
    /// the ceremony kept under `key` for `CEREMONY_TTL` (a newer one under the same key
    /// replaces it). The account's passkeys are excluded, so an authenticator that holds
    /// one already says so instead of making a second.
    pub async fn begin_registration(&self, key: &str, account: &Account) -> Result<String> {
        let webauthn = self.webauthn()?;
        let exclude = self
            .stored(&account.id)
            .await?
            .iter()
            .filter_map(|row| serde_json::from_str::<Passkey>(&row.passkey).ok())
            .map(|p| p.cred_id().clone())
            .collect();
        let (options, state) = webauthn.start_passkey_registration(
            self.user_id(&account.id),
            &account.id,
            &account.name,
            Some(exclude),
        )?;
        let now = self.inner.clock.now();
        let kept = Registration {
            account_id: account.id.clone(),
            state,
        };
        self.inner
            .registrations
            .insert(key.to_string(), kept, now + CEREMONY_TTL, now)
            .await?;
        Ok(serde_json::to_string(&options)?)
    }

    /// Finishes the registration begun under `key` for `account_id` with the
    /// authenticator's answer (`response_json`, a `PublicKeyCredential` from
    /// `navigator.credentials.create` with base64url binaries): the ceremony is taken (one
    /// answer per ceremony), the answer verified, the passkey stored sealed under `name`
    /// (trimmed), audited as `by`'s, and the bound phone and e-mail told.
    pub async fn finish_registration(
        &self,
        key: &str,
        account_id: &str,
        name: &str,
        response_json: &str,
        by: &Client,
    ) -> Result<Result<(), Refusal>> {
        self.finish(key, account_id, name, response_json, by, false)
            .await
    }

    /// `finish_registration` for an account's first second factor (the step-up's enrolment):
    /// stored only if the account still holds none, checked in the same transaction.
    pub async fn finish_first_registration(
        &self,
        key: &str,
        account_id: &str,
        name: &str,
        response_json: &str,
        by: &Client,
    ) -> Result<Result<(), Refusal>> {
        self.finish(key, account_id, name, response_json, by, true)
            .await
    }

    async fn finish(
        &self,
        key: &str,
        account_id: &str,
        name: &str,
        response_json: &str,
        by: &Client,
        first: bool,
    ) -> Result<Result<(), Refusal>> {
        let webauthn = self.webauthn()?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Ok(Err(Refusal::BadName));
        }
        let now = self.inner.clock.now();
        let Some((expires_at, kept)) = self.inner.registrations.take(key).await? else {
            return Ok(Err(Refusal::NoCeremony));
        };
        if expires_at < now || kept.account_id != account_id {
            return Ok(Err(Refusal::NoCeremony));
        }
        let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(response_json) else {
            return Ok(Err(Refusal::NotVerified));
        };
        // One of the account's own, which the options excluded (the library refuses it
        // too, but with an error that does not say so).
        let answered = encode(answer.raw_id.as_ref());
        if self
            .stored(account_id)
            .await?
            .iter()
            .any(|row| row.credential_id == answered)
        {
            return Ok(Err(Refusal::AlreadyRegistered));
        }
        let passkey = match webauthn.finish_passkey_registration(&answer, &kept.state) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(account = account_id, "a passkey registration refused: {e}");
                return Ok(Err(Refusal::NotVerified));
            }
        };
        if self.stored(account_id).await?.len() >= MAX_PASSKEYS {
            return Ok(Err(Refusal::TooMany));
        }
        let credential_id = encode(passkey.cred_id().as_ref());
        let json = serde_json::to_string(&passkey)?;
        let (id, named, client) = (account_id.to_string(), name.to_string(), by.clone());
        let added = self
            .inner
            .store
            .call(move |s| {
                let event = AuditEvent::PasskeyAdded {
                    name: named.clone(),
                };
                let record = client.record(event, Some(&id));
                let new = crate::store::NewPasskey {
                    account_id: &id,
                    credential_id: &credential_id,
                    name: &named,
                    passkey: &json,
                };
                s.add_passkey(&new, &record, first, now)
            })
            .await?;
        match added {
            None => return Ok(Err(Refusal::FactorExists)),
            Some(false) => return Ok(Err(Refusal::AlreadyRegistered)),
            Some(true) => {}
        }
        self.notify(account_id, Notice::FactorAdded, by).await?;
        Ok(Ok(()))
    }

    /// Starts asserting one of the account's passkeys: the options for
    /// `navigator.credentials.get` (JSON, `{"publicKey": …}`), the ceremony kept under
    /// `key` for `CEREMONY_TTL`; `None` if the account has no passkey.
    pub async fn begin_authentication(
        &self,
        key: &str,
        account_id: &str,
    ) -> Result<Option<String>> {
        let webauthn = self.webauthn()?;
        let passkeys: Vec<Passkey> = self
            .stored(account_id)
            .await?
            .iter()
            .filter_map(|row| serde_json::from_str(&row.passkey).ok())
            .collect();
        if passkeys.is_empty() {
            return Ok(None);
        }
        let (options, state) = webauthn.start_passkey_authentication(&passkeys)?;
        let now = self.inner.clock.now();
        let kept = Authentication {
            account_id: account_id.to_string(),
            state,
        };
        self.inner
            .authentications
            .insert(key.to_string(), kept, now + CEREMONY_TTL, now)
            .await?;
        Ok(Some(serde_json::to_string(&options)?))
    }

    /// Whether `response_json` (from `navigator.credentials.get`) proves the account holds
    /// one of its passkeys, for the ceremony begun under `key`. The ceremony is taken
    /// first, so an answer counts once (a replay finds none); only this account's
    /// passkeys, as they were at the beginning and still are, can answer. A success records
    /// the signature counter and the time. Neither throttled nor audited here: the caller
    /// counts the guess against the account's second-factor budget.
    pub async fn finish_authentication(
        &self,
        key: &str,
        account_id: &str,
        response_json: &str,
    ) -> Result<bool> {
        let webauthn = self.webauthn()?;
        let now = self.inner.clock.now();
        let Some((expires_at, kept)) = self.inner.authentications.take(key).await? else {
            return Ok(false);
        };
        if expires_at < now || kept.account_id != account_id {
            return Ok(false);
        }
        let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(response_json) else {
            return Ok(false);
        };
        let result = match webauthn.finish_passkey_authentication(&answer, &kept.state) {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(account = account_id, "a passkey assertion refused: {e}");
                return Ok(false);
            }
        };
        let credential_id = encode(result.cred_id().as_ref());
        let Some(row) = self
            .stored(account_id)
            .await?
            .into_iter()
            .find(|r| r.credential_id == credential_id)
        else {
            // Removed since the ceremony began.
            return Ok(false);
        };
        let mut passkey: Passkey = serde_json::from_str(&row.passkey)?;
        passkey.update_credential(&result);
        let json = serde_json::to_string(&passkey)?;
        let id = account_id.to_string();
        let used = self
            .inner
            .store
            .call(move |s| s.passkey_used(&id, &credential_id, &json, now))
            .await?;
        Ok(used)
    }

    /// The account's passkeys, oldest first.
    pub async fn list(&self, account_id: &str) -> Result<Vec<PasskeyInfo>> {
        Ok(self
            .stored(account_id)
            .await?
            .into_iter()
            .map(|r| PasskeyInfo {
                credential_id: r.credential_id,
                name: r.name,
                created_at: r.created_at,
                last_used_at: r.last_used_at,
            })
            .collect())
    }

    /// Removes one of the account's passkeys (its holder's choice), audited as `by`'s, and
    /// tells the bound phone and e-mail; `false` if the account has no such passkey.
    pub async fn remove(&self, account_id: &str, credential_id: &str, by: &Client) -> Result<bool> {
        let (id, credential, client, now) = (
            account_id.to_string(),
            credential_id.to_string(),
            by.clone(),
            self.inner.clock.now(),
        );
        let removed = self
            .inner
            .store
            .call(move |s| s.remove_passkey(&id, &credential, &client, now))
            .await?;
        if removed.is_some() {
            self.notify(account_id, Notice::FactorRemoved, by).await?;
        }
        Ok(removed.is_some())
    }

    /// Removes every passkey of the account as an administrator (`unbind … webauthn`, the
    /// rules of `accounts::admin::unbind`), and tells the bound phone and e-mail.
    pub async fn remove_all(&self, by: By, account_id: &str) -> Result<(), AdminError> {
        let client = match &by {
            By::Console { client, .. } => client.clone(),
            By::CommandLine => Client::default(),
        };
        let (id, now) = (account_id.to_string(), self.inner.clock.now());
        self.inner
            .store
            .call(move |s| {
                Ok(admin::unbind(
                    s,
                    &by,
                    &id,
                    admin::BindingKind::WebAuthn,
                    now,
                ))
            })
            .await??;
        self.notify(account_id, Notice::FactorRemoved, &client)
            .await
            .map_err(|e| match e {
                PasskeyError::Store(e) => AdminError::Store(e),
                other => AdminError::Store(StoreError::Corrupt(other.to_string())),
            })
    }

    /// A security notice to the account's bound phone and e-mail.
    async fn notify(&self, account_id: &str, notice: Notice, by: &Client) -> Result<()> {
        let id = account_id.to_string();
        let Some(account) = self.inner.store.call(move |s| s.account(&id)).await? else {
            return Ok(());
        };
        self.inner.codes.notify_holder(&account, notice, by).await;
        Ok(())
    }
}

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The relying party of `public_url`: its host as the id, its scheme, host and port as the
/// origin. `None` (with a warning) when the host is no domain name.
fn relying_party(config: &crate::config::Config) -> Option<Webauthn> {
    let url = config.public_url().ok()?;
    let Some(host) = url.domain().map(str::to_string) else {
        tracing::info!("passkeys are off: public_url {url} has no domain name to bind them to");
        return None;
    };
    let origin = Url::parse(&url.origin().ascii_serialization()).ok()?;
    let built = WebauthnBuilder::new(&host, &origin)
        .map(|b| b.rp_name(&config.school_name))
        .and_then(|b| b.build());
    match built {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("passkeys are off: public_url {origin} cannot be a relying party: {e}");
            None
        }
    }
}
