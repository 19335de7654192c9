//! The one way a handler fails. A handler returns `Result<Response, Failure>` and uses `?`;
//! `respond` (routes/mod.rs) turns a failure into what the person sees: the generic error
//! page with the right status after logging the cause, or the answer a gate chose. Protocol
//! endpoints answer their own errors (a CAS error code is a normal answer, HTTP 200) and
//! only reach this for faults.

use crate::accounts::admin::AdminError;
use crate::accounts::AccountsError;
use crate::http::Response;
use crate::store::StoreError;
use hyper::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Something inside failed (the store, the hashing threads): logged with its cause; the
    /// person sees only that the service is busy (500).
    #[error(transparent)]
    Internal(Box<dyn std::error::Error + Send + Sync>),
    /// A request this page cannot serve (400 malformed, 403 expired or foreign form, 404).
    #[error("refused with {0}")]
    Refused(StatusCode),
    /// A gate's own answer instead of the page asked for: to the login page, or the
    /// console's second factor first.
    #[error("answered by a gate")]
    Answer(Box<Response>),
}

impl Failure {
    /// A fault with no error value of its own (a rendering that could not be made).
    pub fn internal(what: &'static str) -> Failure {
        Failure::Internal(what.into())
    }

    pub fn answer(res: Response) -> Failure {
        Failure::Answer(Box::new(res))
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Internal(Box::new(e))
    }
}

impl From<AccountsError> for Failure {
    fn from(e: AccountsError) -> Self {
        match e {
            // The flow is over: the page has expired, as for any paused flow that lost.
            AccountsError::Changed => Failure::Refused(StatusCode::FORBIDDEN),
            e => Failure::Internal(Box::new(e)),
        }
    }
}

impl From<crate::passkeys::PasskeyError> for Failure {
    fn from(e: crate::passkeys::PasskeyError) -> Self {
        Failure::Internal(Box::new(e))
    }
}

impl From<AdminError> for Failure {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NoAccount(_) | AdminError::NotBound(..) => {
                Failure::Refused(StatusCode::NOT_FOUND)
            }
            AdminError::OwnAccount | AdminError::LastSecondFactor => {
                Failure::Refused(StatusCode::CONFLICT)
            }
            AdminError::Store(e) => e.into(),
            AdminError::Accounts(e) => e.into(),
        }
    }
}

pub type Handled = Result<Response, Failure>;
