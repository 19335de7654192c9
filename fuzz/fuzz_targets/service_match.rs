//! The checks of `fuzz/checks/service_match.rs`, under libFuzzer; `tests/fuzz_corpus.rs` replays the
//! seeds of `fuzz/corpus/service_match/` through the same checks on every `cargo test`.
#![no_main]

#[path = "../checks/service_match.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
