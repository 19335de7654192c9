//! `unicas user import FILE.csv`: the roster. New accounts get their initial password (the
//! last six characters of the ID number, hashed on every core); existing ones their new name,
//! department and kind, never a new password. Progress goes to stderr: a bar at a terminal,
//! plain lines otherwise.

use super::Failed;
use super::{now, open};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use unicas::config::Config;
use unicas::roster;

pub fn import(
    config: &Config,
    file: &std::path::Path,
    dry_run: bool,
    disable_missing: bool,
) -> Result<(), Failed> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let roster::Parsed {
        rows,
        errors,
        warnings,
    } = roster::parse(&bytes)?;
    // Both languages: whoever reads it may read only one.
    for w in &warnings {
        eprintln!(
            "{}: warning: {w} / 注意：{}",
            file.display(),
            w.in_chinese()
        );
    }
    for e in &errors {
        eprintln!("{}: {e} / {}", file.display(), e.in_chinese());
    }
    let store = open(config)?;
    let ids: Vec<String> = rows.iter().map(|r| r.account.id.clone()).collect();
    let existing = store.existing_ids(&ids)?;
    let new = rows
        .iter()
        .filter(|r| !existing.contains(&r.account.id))
        .count();
    if dry_run {
        println!(
            "dry run: {} rows readable ({new} new, {} already there), {} refused; nothing written",
            rows.len(),
            rows.len() - new,
            errors.len()
        );
        return finish(&errors);
    }
    let progress = Progress::new(new as u64);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let accounts = roster::hash_new(
        rows,
        &existing,
        config.passwords.bcrypt_cost,
        threads,
        &|| progress.tick(),
    )?;
    progress.done();
    let listed = disable_missing.then(|| ids.into_iter().collect());
    let summary = roster::import(&store, &accounts, errors.len(), listed, now())?;
    println!("{summary}");
    finish(&errors)
}

fn finish(errors: &[roster::RowError]) -> Result<(), Failed> {
    match errors.len() {
        0 => Ok(()),
        n => Err(format!(
            "{n} row(s) could not be imported (listed above) / {n} 行无法导入（见上）"
        )
        .into()),
    }
}

/// A progress bar with rows/s and ETA at a terminal; a plain line every 5% otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: AtomicUsize,
    started: Instant,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "hashing initial passwords {bar:40} {pos}/{len} {per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
            started: Instant::now(),
        }
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) as u64 + 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => {
                let step = (self.total / 20).max(1);
                if done % step == 0 || done == self.total {
                    let secs = self.started.elapsed().as_secs_f64().max(0.001);
                    let rate = done as f64 / secs;
                    let eta = (self.total - done) as f64 / rate.max(0.001);
                    eprintln!(
                        "hashed {done}/{} ({rate:.0} rows/s, ETA {eta:.0} s)",
                        self.total
                    );
                }
            }
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
        let n = self.done.load(Ordering::Relaxed);
        if n > 0 {
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            eprintln!(
                "hashed {n} initial passwords in {secs:.1} s ({:.0} rows/s)",
                n as f64 / secs
            );
        }
    }
}
