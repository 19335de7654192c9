//! The checks of `fuzz/checks/cookie_header.rs`, under libFuzzer; `tests/fuzz_corpus.rs` replays the
//! seeds of `fuzz/corpus/cookie_header/` through the same checks on every `cargo test`.
#![no_main]

#[path = "../checks/cookie_header.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
