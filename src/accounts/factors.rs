//! A person's second factors: what the account holds (an authenticator app, passkeys, the
//! bound phone, recovery codes), an authenticator's code accepted once per time step,
//! recovery codes (ten, shown once, each spent once), removing a factor, and the account's
//! "always ask". Guesses are counted by `second_factor.rs`'s budget, which callers put around
//! the checks here; adding and removing are audited here.

use super::{Accounts, AccountsError};
use crate::model::{Account, AuditEvent, AuditRecord, Client, Phone};
use crate::store::HeldFactors;

/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;

/// Letters and digits nobody misreads on paper (as the console's temporary passwords).
const RECOVERY_ALPHABET: &[u8] = b"acdefghjkmnpqrtuvwxy34679";

/// Seconds a used authenticator step is remembered: longer than the three steps accepted.
const STEP_MEMORY: i64 = 120;

/// What an account can prove a second factor with.
#[derive(Clone, Debug, Default)]
pub struct Factors {
    pub totp: bool,
    pub held: HeldFactors,
    /// The bound phone, for a code by SMS.
    pub phone: Option<Phone>,
}

impl Factors {
    /// Whether it has any second factor at all (else, asked for one, it enrols one).
    pub fn any(&self) -> bool {
        self.totp || self.held.passkeys > 0 || self.held.recovery_left > 0 || self.phone.is_some()
    }

    /// Whether it has a factor of its own beyond the phone: the first such one brings
    /// recovery codes.
    pub fn beyond_phone(&self) -> bool {
        self.totp || self.held.passkeys > 0
    }
}

/// A factor an administrator or the holder removes as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removable {
    Totp,
    Recovery,
}

impl Removable {
    pub fn as_str(self) -> &'static str {
        match self {
            Removable::Totp => "totp",
            Removable::Recovery => "recovery",
        }
    }
}

impl Accounts {
    pub async fn factors(&self, account: &Account) -> Result<Factors, AccountsError> {
        let id = account.id.clone();
        let (totp, held) = self
            .store
            .call(move |s| Ok((s.binding(&id, "totp")?.is_some(), s.held_factors(&id)?)))
            .await?;
        Ok(Factors {
            totp,
            held,
            phone: account.bound_phone.as_deref().and_then(Phone::parse),
        })
    }

    /// Whether `code` is the account's authenticator code now, its time step not used before
    /// (a code seen over a shoulder is spent), whether for the console or an application.
    pub async fn totp_step(&self, account_id: &str, code: &str) -> Result<bool, AccountsError> {
        let now = self.clock.now();
        let secret = self.binding(account_id, "totp").await?;
        match secret.and_then(|s| crate::totp::verify(&s, code, now)) {
            Some(step) => self.spend_totp_step(account_id, step).await,
            None => Ok(false),
        }
    }

    /// Marks `step` used (the code that confirmed an enrolment cannot also pass a second
    /// factor); `false` if it was.
    pub async fn spend_totp_step(
        &self,
        account_id: &str,
        step: i64,
    ) -> Result<bool, AccountsError> {
        let now = self.clock.now();
        Ok(self
            .totp_steps
            .raise(account_id.to_string(), step, now + STEP_MEMORY, now)
            .await?)
    }

    /// Enrols an authenticator app (its secret confirmed by a first code), replacing any
    /// enrolled before; audited as `event` by `by`.
    pub async fn enrol_totp(
        &self,
        account_id: &str,
        secret: String,
        event: AuditEvent,
        by: &Client,
    ) -> Result<(), AccountsError> {
        let (id, by, now) = (account_id.to_string(), by.clone(), self.clock.now());
        self.store
            .call(move |s| {
                s.bind(&id, "totp", &secret, &by.record(event, Some(&id)), now)
                    .map(drop)
            })
            .await?;
        self.sessions.forget_account(account_id);
        Ok(())
    }

    /// Enrols an authenticator as the first second factor of an account that has none;
    /// `false` if it has one by now (another enrolment won).
    pub async fn enrol_first_totp(
        &self,
        account_id: &str,
        secret: String,
        by: &Client,
    ) -> Result<bool, AccountsError> {
        let (id, by, now) = (account_id.to_string(), by.clone(), self.clock.now());
        let enrolled = self
            .store
            .call(move |s| {
                let event = AuditEvent::FactorAdded { factor: "totp" };
                s.enrol_first_totp(&id, &secret, &by.record(event, Some(&id)), now)
            })
            .await?;
        self.sessions.forget_account(account_id);
        Ok(enrolled)
    }

    /// New recovery codes for the account, replacing its old ones: shown once, kept as keyed
    /// hashes.
    pub async fn new_recovery_codes(
        &self,
        account_id: &str,
        by: &Client,
    ) -> Result<Vec<String>, AccountsError> {
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let group = || crate::tickets::random_from(RECOVERY_ALPHABET, 4);
                format!("{}-{}-{}", group(), group(), group())
            })
            .collect();
        let (id, by, now) = (account_id.to_string(), by.clone(), self.clock.now());
        let plain = codes.clone();
        self.store
            .call(move |s| {
                let hashes: Vec<String> =
                    plain.iter().map(|c| recovery_hash(s.keys(), c)).collect();
                let event = AuditEvent::FactorAdded { factor: "recovery" };
                s.replace_recovery_codes(&id, &hashes, &by.record(event, Some(&id)), now)
            })
            .await?;
        Ok(codes)
    }

    /// Spends one of the account's recovery codes, as typed (case, spaces and dashes do not
    /// matter); `false` if it is not one, or was used.
    pub async fn spend_recovery_code(
        &self,
        account_id: &str,
        code: &str,
    ) -> Result<bool, AccountsError> {
        let (id, code, now) = (account_id.to_string(), code.to_string(), self.clock.now());
        Ok(self
            .store
            .call(move |s| s.spend_recovery_code(&id, &recovery_hash(s.keys(), &code), now))
            .await?)
    }

    /// Removes a factor from the account, audited as `by`'s (`None`: the command line);
    /// `false` if it had none.
    pub async fn remove_factor(
        &self,
        account_id: &str,
        factor: Removable,
        by: Option<&Client>,
    ) -> Result<bool, AccountsError> {
        let (id, by, now) = (account_id.to_string(), by.cloned(), self.clock.now());
        let removed = self
            .store
            .call(move |s| {
                let event = AuditEvent::FactorRemoved {
                    factor: factor.as_str(),
                };
                let record = match &by {
                    Some(c) => c.record(event, Some(&id)),
                    None => AuditRecord::system(event, Some(&id)),
                };
                match factor {
                    Removable::Totp => s.unbind(&id, "totp", &record, false, now),
                    Removable::Recovery => s.remove_recovery_codes(&id, &record, now),
                }
            })
            .await?;
        self.sessions.forget_account(account_id);
        Ok(removed)
    }

    /// The account's "always ask for my second factor".
    pub async fn set_mfa_always(&self, account_id: &str, on: bool) -> Result<(), AccountsError> {
        let (id, now) = (account_id.to_string(), self.clock.now());
        self.store
            .call(move |s| s.set_mfa_always(&id, on, now))
            .await?;
        self.sessions.forget_account(account_id);
        Ok(())
    }

    /// Drops authenticator steps remembered past their use.
    pub fn sweep_factors(&self, now: i64) {
        self.totp_steps.sweep(now);
    }
}

/// The stored form of a recovery code: a keyed hash of it as normalised.
fn recovery_hash(keys: &crate::secrets::Keys, code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    keys.lookup("recovery code", &normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_code_reads_the_same_however_it_is_typed() {
        let keys = crate::secrets::Keys::random();
        assert_eq!(
            recovery_hash(&keys, "kmtx-4739-hapw"),
            recovery_hash(&keys, " KMTX 4739hapw ")
        );
        assert_ne!(
            recovery_hash(&keys, "kmtx-4739-hapw"),
            recovery_hash(&keys, "kmtx-4739-hapx")
        );
    }
}
