//! What applications and their CAS clients call, not people: ticket validation in every
//! protocol version, proxy tickets and SAML 1.1 (`validate.rs`), and logout with its
//! single-logout announcements (`logout.rs`). Errors here are CAS error codes, answered with
//! 200 as the protocol wants, never the people's error page.

pub(super) mod logout;
pub(super) mod validate;
