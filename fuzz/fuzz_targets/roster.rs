//! The checks of `fuzz/checks/roster.rs`, under libFuzzer; `tests/fuzz_corpus.rs` replays the
//! seeds of `fuzz/corpus/roster/` through the same checks on every `cargo test`.
#![no_main]

#[path = "../checks/roster.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
