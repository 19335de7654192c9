//! The one way a handler fails. A handler returns `Result<Response, Failure>` and uses `?`;
//! `App::respond` turns a failure into what the person sees: the generic error page with the
//! right status, after logging what went wrong inside. Protocol endpoints answer their own
//! errors (a CAS error code is a normal answer, HTTP 200) and only reach this for faults.

use crate::accounts::admin::AdminError;
use crate::accounts::AccountsError;
use crate::store::StoreError;
use hyper::StatusCode;

#[derive(Debug)]
pub enum Failure {
    /// Something inside failed (the store, the hashing threads): logged with its cause; the
    /// person sees only that the service is busy (500).
    Internal(String),
    /// A request this page cannot serve (400 malformed, 403 expired or foreign form, 404).
    Refused(StatusCode),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Internal(e.to_string())
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

impl From<AccountsError> for Failure {
    fn from(e: AccountsError) -> Self {
        Failure::Internal(e.to_string())
    }
}

pub type Handled = Result<crate::http::Response, Failure>;
