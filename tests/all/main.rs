//! The integration suite: one test binary (it links the server once), one module per area.
//! Every test boots the real server on 127.0.0.1:0 with a temporary database, or runs the
//! real binary, and speaks to it as a browser or a CAS client would.

mod support;

mod access;
mod admin;
mod captcha;
mod cli;
mod cluster;
mod durability;
mod first_login;
mod http_limits;
mod legacy;
mod login;
mod logout;
mod mfa;
mod operations;
mod passkeys;
mod policy;
mod portal;
mod proxy;
mod qr;
mod recovery;
mod roster;
mod saml;
mod security;
mod sms;
mod social;
mod throttle;
mod validation;
