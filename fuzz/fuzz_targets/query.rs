//! The checks of `fuzz/checks/query.rs`, under libFuzzer; `tests/fuzz_corpus.rs` replays the
//! seeds of `fuzz/corpus/query/` through the same checks on every `cargo test`.
#![no_main]

#[path = "../checks/query.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
