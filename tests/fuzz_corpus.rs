//! Every seed of the fuzz targets (`fuzz/corpus/<target>/`), replayed through the same
//! checks the targets run (`fuzz/checks/`), on every `cargo test`: a crash once found and
//! kept as a seed stays fixed without a nightly toolchain or libFuzzer. A target whose
//! corpus directory is missing or empty fails, so nothing is skipped in silence.

#[path = "../fuzz/checks/cookie_header.rs"]
mod cookie_header;
#[path = "../fuzz/checks/multipart.rs"]
mod multipart;
#[path = "../fuzz/checks/query.rs"]
mod query;
#[path = "../fuzz/checks/roster.rs"]
mod roster;
#[path = "../fuzz/checks/saml_request.rs"]
mod saml_request;
#[path = "../fuzz/checks/service_match.rs"]
mod service_match;
#[path = "../fuzz/checks/unwrap_password.rs"]
mod unwrap_password;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// A target's check: panics if the input breaks one of its properties.
type Check = fn(&[u8]);

/// Runs `check` on every file of `fuzz/corpus/<target>/`; fails naming each seed that
/// fails, or if there is no seed at all.
fn replay(target: &str, check: Check) {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "fuzz", "corpus", target]
        .iter()
        .collect();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus of {target}, {}: {e}", dir.display()));
    let mut seeds: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seed in {}", dir.display());
    run(target, check, &seeds);
}

/// Fails naming each of `seeds` (files) that breaks `check`.
fn run(target: &str, check: Check, seeds: &[PathBuf]) {
    let failed: Vec<String> = seeds
        .iter()
        .filter(|seed| {
            // Shown with the test's output if it fails, each panic after its input.
            println!("{target}: {}", seed.display());
            let data = std::fs::read(seed).expect("a readable seed");
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|seed| seed.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} inputs of {target} fail its check: {failed:#?}",
        failed.len(),
        seeds.len()
    );
}

/// The targets of `fuzz/Cargo.toml`, each with its check.
const TARGETS: [(&str, Check); 7] = [
    ("query", query::check),
    ("cookie_header", cookie_header::check),
    ("service_match", service_match::check),
    ("saml_request", saml_request::check),
    ("multipart", multipart::check),
    ("roster", roster::check),
    ("unwrap_password", unwrap_password::check),
];

/// A target added to `fuzz/Cargo.toml` is replayed here too.
#[test]
fn every_fuzz_target_is_replayed() {
    let manifest = std::fs::read_to_string(
        [env!("CARGO_MANIFEST_DIR"), "fuzz", "Cargo.toml"]
            .iter()
            .collect::<PathBuf>(),
    )
    .expect("fuzz/Cargo.toml");
    let mut targets: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|bin| {
            bin.lines()
                .find_map(|l| l.trim().strip_prefix("name = \""))
                .and_then(|rest| rest.strip_suffix('"'))
        })
        .collect();
    targets.sort();
    let mut replayed: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    replayed.sort();
    assert_eq!(targets, replayed);
}

/// Crashes found and not yet fixed wait in `fuzz/crashes/<target>/`, outside the corpus so
/// that `cargo test` stays green; `cargo test --test fuzz_corpus -- --ignored` shows them.
/// The commit that fixes one moves its file into `fuzz/corpus/<target>/`.
#[test]
#[ignore = "crashes found by fuzzing and not yet fixed"]
fn open_crashes() {
    for (target, check) in TARGETS {
        let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "fuzz", "crashes", target]
            .iter()
            .collect();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut crashes: Vec<PathBuf> = entries
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        crashes.sort();
        run(target, check, &crashes);
    }
}

#[test]
fn query() {
    replay("query", query::check);
}

#[test]
fn cookie_header() {
    replay("cookie_header", cookie_header::check);
}

#[test]
fn service_match() {
    replay("service_match", service_match::check);
}

#[test]
fn saml_request() {
    replay("saml_request", saml_request::check);
}

#[test]
fn multipart() {
    replay("multipart", multipart::check);
}

#[test]
fn roster() {
    replay("roster", roster::check);
}

#[test]
fn unwrap_password() {
    replay("unwrap_password", unwrap_password::check);
}
