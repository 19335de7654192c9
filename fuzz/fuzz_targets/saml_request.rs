//! The checks of `fuzz/checks/saml_request.rs`, under libFuzzer; `tests/fuzz_corpus.rs` replays the
//! seeds of `fuzz/corpus/saml_request/` through the same checks on every `cargo test`.
#![no_main]

#[path = "../checks/saml_request.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
