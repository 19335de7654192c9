//! The checks of `fuzz/checks/unwrap_password.rs`, under libFuzzer; `tests/fuzz_corpus.rs` replays the
//! seeds of `fuzz/corpus/unwrap_password/` through the same checks on every `cargo test`.
#![no_main]

#[path = "../checks/unwrap_password.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
