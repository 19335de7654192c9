//! `unicas user import FILE.csv`: the roster. New accounts get their initial password (the
//! last six characters of the ID number, hashed on every core); existing ones their new name,
//! department and kind, never a new password. Progress goes to stderr: a bar at a terminal,
//! plain lines otherwise.

use super::{now, open};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use unicas::accounts::hash_now;
use unicas::config::Config;
use unicas::model::NewAccount;
use unicas::roster::{self, RosterRow};
use unicas::store::Imported;

/// Rows written per transaction.
const BATCH: usize = 500;

pub fn import(
    config: &Config,
    file: &std::path::Path,
    dry_run: bool,
    disable_missing: bool,
) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let (rows, errors) = roster::parse(&bytes).map_err(|e| e.to_string())?;
    for e in &errors {
        eprintln!("{}: {e}", file.display());
    }
    let store = open(config)?;
    let ids: Vec<String> = rows.iter().map(|r| r.account.id.clone()).collect();
    let existing = store.existing_ids(&ids).map_err(|e| e.to_string())?;
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
    let accounts = hash_initial_passwords(config, rows, &existing)?;
    let mut tally = [0usize; 3];
    for batch in accounts.chunks(BATCH) {
        for done in store
            .import_accounts(batch, now())
            .map_err(|e| e.to_string())?
        {
            tally[match done {
                Imported::Added => 0,
                Imported::Updated => 1,
                Imported::Unchanged => 2,
            }] += 1;
        }
    }
    let mut summary = format!(
        "imported: {} added, {} updated, {} unchanged, {} refused",
        tally[0],
        tally[1],
        tally[2],
        errors.len()
    );
    if disable_missing {
        let present = ids.into_iter().collect();
        let gone = store
            .disable_missing(&present, now())
            .map_err(|e| e.to_string())?;
        summary.push_str(&format!(", {} disabled (not in the roster)", gone.len()));
    }
    println!("{summary}");
    finish(&errors)
}

fn finish(errors: &[roster::RowError]) -> Result<(), String> {
    match errors.len() {
        0 => Ok(()),
        n => Err(format!("{n} row(s) could not be imported (listed above)")),
    }
}

/// The accounts to write, the new ones with their initial password hashed: every core hashes,
/// each taking the next row.
fn hash_initial_passwords(
    config: &Config,
    rows: Vec<RosterRow>,
    existing: &std::collections::HashSet<String>,
) -> Result<Vec<NewAccount>, String> {
    let todo = rows
        .iter()
        .filter(|r| !existing.contains(&r.account.id))
        .count();
    let progress = Progress::new(todo as u64);
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<NewAccount>>> = rows.iter().map(|_| Mutex::new(None)).collect();
    let failed = Mutex::new(None);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(row) = rows.get(i) else { return };
                let mut account = row.account.clone();
                if !existing.contains(&account.id) {
                    match hash_now(&row.initial_password, config.passwords.bcrypt_cost) {
                        Ok(hash) => account.password_hash = hash,
                        Err(e) => {
                            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                            return;
                        }
                    }
                    progress.tick();
                }
                *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(account);
            });
        }
    });
    progress.done();
    if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(slots
        .into_iter()
        .filter_map(|s| s.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect())
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
