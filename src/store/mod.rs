//! The store: the only place with SQL, one file per table group, every statement through
//! `db.rs`, on either backend: one SQLite file (`sqlite.rs`, the default) or a PostgreSQL
//! database several nodes share (`postgres.rs`). Most methods block; async code reaches them
//! through `Store::call`, which runs the work on tokio's blocking pool. With several nodes,
//! service tickets (`tickets.rs`) and flow state (`ephemeral.rs`) live here too, as single
//! async statements outside the write lock (`Store::shared`).
//!
//! Durability: a commit that returned is on disk before the caller tells a user "done"
//! (SQLite `synchronous=FULL`; PostgreSQL's commit). Personal data (e-mail, phone) and the
//! tickets kept for single logout are sealed with the installation's key file, which is not
//! in the database. Schema versions and upgrades: `migrate.rs`; backup and restore:
//! `backup.rs`.

mod accounts;
mod audit;
mod backup;
mod bindings;
mod console;
mod copy;
pub(crate) mod db;
mod ephemeral;
mod factors;
mod files;
mod logout;
mod messages;
mod migrate;
mod passkeys;
mod postgres;
mod proxy;
mod questions;
mod services;
mod sessions;
mod sqlite;
mod throttle;
mod tickets;

pub use accounts::{AccountFilter, Imported, ListedAccount, Unfinished};
pub use audit::AuditRow;
pub use backup::{backup, restore};
pub use bindings::Bound;
pub use console::AuditFilter;
pub use copy::copy;
pub use factors::HeldFactors;
pub use logout::LogoutParticipant;
pub use messages::{CodeCheck, Limits, MessageRequest, MessageRow, Reserved};
pub use passkeys::{NewPasskey, PasskeyRow};
pub use proxy::ProxyGrantingTicket;
pub use services::ServiceUpdate;
pub use sessions::{SessionRow, SsoSession};
pub use throttle::{AttemptKeys, Throttle, ThrottleLimits};
pub use tickets::TicketRow;

use crate::secrets::Keys;
use files::{connect, copy_database, create_private, lock_file, make_private};
use migrate::{check_keys, migrate, sections_of, POSTGRES_SCHEMA};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use sqlite::{open_sqlite, Sqlite};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Schema version this binary writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 11;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection to be had (the server is down or the pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database was written by a newer unicas.
    #[error("database schema version {0} is newer than this unicas supports ({SCHEMA_VERSION}); upgrade unicas")]
    TooNew(i64),
    /// The key file is not the one this database was sealed with.
    #[error(
        "the key file does not belong to this database (its data was sealed with another key file)"
    )]
    WrongKeys,
    #[error("database file: {0}")]
    Io(std::io::Error),
    /// A blocking task panicked or was cancelled; its transaction rolled back.
    #[error("database task aborted")]
    Aborted,
    /// A backup or restore that must not go ahead, and why.
    #[error("{0}")]
    Refused(String),
    /// A row that does not read as what it must be (an unknown enum value, a seal that
    /// does not open).
    #[error("database holds an unreadable value: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The storage has no room or will not take writes (full, read-only, I/O), not the
    /// statement. A lost connection is not counted: the health probe sees that itself,
    /// and sees it end, while a small probe can still fit on a disk real writes no longer do.
    pub fn is_out_of_room(&self) -> bool {
        use rusqlite::ErrorCode::*;
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(e.code, DiskFull | SystemIoFailure | ReadOnly)
            }
            // Class 53: insufficient resources (disk full, out of memory).
            StoreError::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("53")),
            StoreError::Io(_) => true,
            _ => false,
        }
    }
}

/// What hears the database's change notices (see `Store::listen`).
pub type Listener = Arc<dyn Fn(Option<&str>) + Send + Sync>;

/// Listening goes on while this lives. Dropping it lets go of the listener, and with it
/// whatever the listener holds (which may hold the store).
pub struct Listening(tokio::task::AbortHandle);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    keys: Arc<Keys>,
    /// When (unix seconds) a write last failed for want of storage (a full or read-only
    /// disk, an I/O error, the database gone); 0 once a write succeeds again. Health says
    /// so at once, even while a small probe still fits.
    out_of_room_at: std::sync::atomic::AtomicI64,
    /// Tests make every write fail, as on a full or read-only disk (`fail_writes`), or
    /// every read too (`fail_reads`).
    #[cfg(feature = "test-hooks")]
    failing: std::sync::atomic::AtomicBool,
    #[cfg(feature = "test-hooks")]
    failing_reads: std::sync::atomic::AtomicBool,
}

enum Backend {
    Sqlite(Sqlite),
    Postgres(Box<postgres::Pg>),
}

impl Store {
    /// Opens the database `db`: a SQLite file, or a PostgreSQL URL (`postgres://…`). Its
    /// schema is brought up to date, and `keys` must be the ones its data was sealed with.
    pub fn open(db: &Path, keys: Arc<Keys>) -> Result<Store> {
        let backend = match db.to_str().filter(|d| crate::config::is_postgres_url(d)) {
            Some(url) => Backend::Postgres(Box::new(open_postgres(url, &keys)?)),
            None => Backend::Sqlite(open_sqlite(db, &keys)?),
        };
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                keys,
                out_of_room_at: std::sync::atomic::AtomicI64::new(0),
                #[cfg(feature = "test-hooks")]
                failing: std::sync::atomic::AtomicBool::new(false),
                #[cfg(feature = "test-hooks")]
                failing_reads: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// Whether other nodes share this database (PostgreSQL): then tickets and flow state
    /// live in it too, and changes are announced.
    pub fn is_shared(&self) -> bool {
        matches!(self.inner.backend, Backend::Postgres(_))
    }

    /// The database's size in bytes: SQLite's file with its write-ahead log, or what
    /// PostgreSQL reports for the database.
    pub fn size_bytes(&self) -> Result<u64> {
        match &self.inner.backend {
            Backend::Sqlite(sqlite) => Ok(["", "-wal"]
                .iter()
                .filter_map(|suffix| {
                    let mut path = sqlite.path.clone().into_os_string();
                    path.push(suffix);
                    std::fs::metadata(path).ok()
                })
                .map(|m| m.len())
                .sum()),
            Backend::Postgres(pg) => pg.read(|db| {
                db.query_one(
                    "SELECT pg_database_size(current_database())",
                    db::args![],
                    |r| r.get::<i64>(0),
                )
                .map(|n| n.max(0) as u64)
            }),
        }
    }

    /// Hears what other nodes (and commands) change, for as long as the store lives:
    /// `tell(Some("account:ID" | "session:HASH" | "services"))`, or `tell(None)` when
    /// anything may have changed (the listening connection was lost and is back), until the
    /// returned guard is dropped. Nothing is heard from a SQLite store.
    pub fn listen(&self, tell: Listener) -> Option<Listening> {
        match &self.inner.backend {
            Backend::Postgres(pg) => Some(Listening(pg.listen(tell))),
            Backend::Sqlite(_) => None,
        }
    }
}

fn open_postgres(url: &str, keys: &Keys) -> Result<postgres::Pg> {
    let pg = postgres::Pg::connect(url)?;
    // Under the write lock: of nodes starting together, one migrates and the rest find the
    // schema done. DDL is transactional in PostgreSQL, so a failed upgrade leaves the old.
    pg.write(|db| {
        let version = match db.query_one(
            "SELECT to_regclass('settings') IS NOT NULL",
            db::args![],
            |r| r.get::<bool>(0),
        )? {
            false => 0,
            true => db
                .query_opt(
                    "SELECT value FROM settings WHERE name = 'schema_version'",
                    db::args![],
                    |r| r.get::<String>(0),
                )?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew(version));
        }
        if version < SCHEMA_VERSION {
            for (_, sql) in sections_of(POSTGRES_SCHEMA).filter(|(v, _)| *v > version) {
                db.batch(sql)?;
            }
            db.execute(
                "INSERT INTO settings (name, value) VALUES ('schema_version', ?1)
                 ON CONFLICT(name) DO UPDATE SET value = ?1",
                db::args![&SCHEMA_VERSION.to_string()],
            )?;
        }
        check_keys(db, keys)
    })?;
    Ok(pg)
}

impl Store {
    /// Runs blocking store work on tokio's blocking pool, off the runtime's workers.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|_| StoreError::Aborted)?
    }

    /// The installation's keys, for sealing and keyed lookups.
    /// Whether the database takes a write now (readiness): a committed write of the time of
    /// the check.
    pub fn writable(&self) -> Result<()> {
        let now = crate::clock::Clock::system().now();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (name, value) VALUES ('health_check', ?1)
                 ON CONFLICT(name) DO UPDATE SET value = ?1",
                db::args![&now.to_string()],
            )?;
            Ok(())
        })
    }

    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// Runs `f` on a reader connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&db::Db) -> Result<T>) -> Result<T> {
        #[cfg(feature = "test-hooks")]
        if self.inner.failing_reads.load(Ordering::SeqCst) {
            return Err(injected());
        }
        let sqlite = match &self.inner.backend {
            Backend::Sqlite(sqlite) => sqlite,
            Backend::Postgres(pg) => return pg.read(f),
        };
        let n = sqlite.readers.len();
        let start = sqlite.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(conn) = sqlite.readers[(start + i) % n].try_lock() {
                return f(&db::Db::sqlite(&conn));
            }
        }
        f(&db::Db::sqlite(&lock(&sqlite.readers[start % n])))
    }

    /// Runs `f` in one transaction that no other writer interleaves with, and commits; on
    /// error nothing is written.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&db::Db) -> Result<T>) -> Result<T> {
        #[cfg(feature = "test-hooks")]
        if self.inner.failing.load(Ordering::SeqCst) {
            return Err(injected());
        }
        let written = match &self.inner.backend {
            Backend::Sqlite(sqlite) => {
                let mut conn = lock(&sqlite.writer);
                conn.transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(StoreError::from)
                    .and_then(|tx| {
                        let value = f(&db::Db::sqlite(&tx))?;
                        tx.commit()?;
                        Ok(value)
                    })
            }
            Backend::Postgres(pg) => pg.write(f),
        };
        let failed_at = &self.inner.out_of_room_at;
        match &written {
            Ok(_) => failed_at.store(0, Ordering::SeqCst),
            Err(e) if e.is_out_of_room() => {
                failed_at.store(crate::clock::Clock::system().now(), Ordering::SeqCst)
            }
            Err(_) => {}
        }
        written
    }

    /// Whether a write failed for want of room within the last `seconds`, with none
    /// succeeding since.
    pub fn out_of_room_lately(&self, seconds: i64) -> bool {
        let at = self.inner.out_of_room_at.load(Ordering::SeqCst);
        at > 0 && crate::clock::Clock::system().now() - at < seconds
    }

    /// Runs one statement on the tables only a shared database has (tickets, flow state),
    /// from async code: on PostgreSQL pipelined on a connection this node's requests share,
    /// with no blocking thread; its atomicity is the statement's. Rows come back whole.
    pub(crate) async fn shared(
        &self,
        sql: &'static str,
        args: &[db::Value<'_>],
    ) -> Result<Vec<Vec<db::Owned>>> {
        #[cfg(feature = "test-hooks")]
        if self.inner.failing.load(Ordering::SeqCst) {
            return Err(injected());
        }
        match &self.inner.backend {
            Backend::Postgres(pg) => pg.shared(sql, args).await,
            Backend::Sqlite(_) => Err(StoreError::Refused(
                "tickets and flow state are kept in memory with SQLite".into(),
            )),
        }
    }

    /// Lets the database grow no further, as a full disk: writes that need a new page fail
    /// with SQLite's "database or disk is full", small updates in place still work. Only with
    /// `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub fn fill_disk(&self) -> Result<()> {
        if let Backend::Sqlite(sqlite) = &self.inner.backend {
            let conn = lock(&sqlite.writer);
            let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
            conn.pragma_update(None, "max_page_count", pages)?;
        }
        Ok(())
    }

    /// Makes every write fail (or work again), as a full or read-only disk would. Only in
    /// builds with the `test-hooks` feature.
    #[cfg(feature = "test-hooks")]
    pub fn fail_writes(&self, failing: bool) {
        self.inner.failing.store(failing, Ordering::SeqCst);
    }

    /// Makes every read fail too (or work again). Only with `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub fn fail_reads(&self, failing: bool) {
        self.inner.failing_reads.store(failing, Ordering::SeqCst);
    }

    /// `PRAGMA synchronous` of every connection (2 = FULL), for tests and health checks.
    pub fn synchronous_levels(&self) -> Result<Vec<i64>> {
        let Backend::Sqlite(sqlite) = &self.inner.backend else {
            return Ok(Vec::new());
        };
        let mut levels =
            vec![lock(&sqlite.writer).pragma_query_value(None, "synchronous", |r| r.get(0))?];
        for reader in &sqlite.readers {
            levels.push(lock(reader).pragma_query_value(None, "synchronous", |r| r.get(0))?);
        }
        Ok(levels)
    }
}

/// The error a test's fault injection produces: what SQLite says of a read-only disk.
#[cfg(feature = "test-hooks")]
fn injected() -> StoreError {
    StoreError::Sqlite(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
        Some("refused by a test".into()),
    ))
}

/// A poisoned mutex only means another thread panicked mid-query; SQLite rolled that
/// transaction back, so the connection is still sound (and a handle or a cache of
/// prepared statements is sound too).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
