//! SQLite: the only place with SQL. One writer connection (SQLite admits one writer at a
//! time) and a few readers in WAL mode. Every method here blocks; async code reaches the
//! store through `Store::call`, which runs the work on tokio's blocking pool.
//!
//! Durability: every connection runs `synchronous=FULL`, so a commit that returned is on disk
//! before the caller tells a user "done". Short-lived tickets are not here (see
//! `cas::tickets`). Personal data (e-mail, phone) and the tickets kept for single logout are
//! sealed with the installation's key file, which is not in the database.

mod accounts;
mod audit;
mod bindings;
mod console;
mod copy;
pub(crate) mod db;
mod ephemeral;
mod logout;
mod messages;
mod postgres;
mod proxy;
mod questions;
mod services;
mod sessions;
mod throttle;
mod tickets;

pub use accounts::Imported;
pub use audit::AuditRow;
pub use bindings::Bound;
pub use console::AuditFilter;
pub use copy::copy;
pub use logout::LogoutParticipant;
pub use messages::{CodeCheck, Limits, MessageRequest, MessageRow, Reserved};
pub use proxy::ProxyGrantingTicket;
pub use services::ServiceUpdate;
pub use sessions::{SessionRow, SsoSession};
pub use throttle::{AttemptKeys, Throttle, ThrottleLimits};
pub use tickets::TicketRow;

use crate::secrets::Keys;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Schema version this binary writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 9;
const SCHEMA: &str = include_str!("../../schema.sql");
const POSTGRES_SCHEMA: &str = include_str!("../../schema-postgres.sql");
const READERS: usize = 4;

#[derive(Debug)]
pub enum StoreError {
    Sqlite(rusqlite::Error),
    Postgres(tokio_postgres::Error),
    /// No PostgreSQL connection to be had (the server is down or the pool exhausted).
    Unavailable(String),
    /// The database was written by a newer unicas.
    TooNew(i64),
    /// The key file is not the one this database was sealed with.
    WrongKeys,
    Io(std::io::Error),
    /// A blocking task panicked or was cancelled; its transaction rolled back.
    Aborted,
    /// A backup or restore that must not go ahead, and why.
    Refused(String),
    /// A row that does not read as what it must be (an unknown enum value, a seal that
    /// does not open).
    Corrupt(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "database error: {e}"),
            StoreError::Postgres(e) => write!(f, "database error: {e}"),
            StoreError::Unavailable(why) => write!(f, "database unavailable: {why}"),
            StoreError::Refused(why) => f.write_str(why),
            StoreError::Corrupt(what) => write!(f, "database holds an unreadable value: {what}"),
            StoreError::TooNew(v) => write!(
                f,
                "database schema version {v} is newer than this unicas supports ({SCHEMA_VERSION}); upgrade unicas"
            ),
            StoreError::WrongKeys => write!(
                f,
                "the key file does not belong to this database (its data was sealed with another key file)"
            ),
            StoreError::Io(e) => write!(f, "database file: {e}"),
            StoreError::Aborted => write!(f, "database task aborted"),
        }
    }
}

impl std::error::Error for StoreError {}

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

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Postgres(e)
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

/// One SQLite file.
struct Sqlite {
    path: std::path::PathBuf,
    /// A shared lock on `<db>-lock` for as long as the store is open: `restore` takes it
    /// exclusively, so it never replaces a database a server or command is using.
    _in_use: std::fs::File,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
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

/// Opens (creating if needed) the SQLite file, makes its files private, brings its schema
/// up to date, and checks the keys.
fn open_sqlite(path: &Path, keys: &Keys) -> Result<Sqlite> {
    let in_use = lock_file(path, libc::LOCK_SH).map_err(|e| match e.kind() {
        // Held exclusively: `unicas restore` is replacing the file.
        std::io::ErrorKind::WouldBlock => {
            StoreError::Refused("a restore of this database is under way".into())
        }
        _ => StoreError::Refused(format!(
            "cannot open {}-lock beside the database: {e} (the directory must be writable by unicas)",
            path.display()
        )),
    })?;
    create_private(path)?;
    let mut writer = connect(path)?;
    writer.pragma_update(None, "journal_mode", "WAL")?;
    migrate(&mut writer, keys, path)?;
    check_keys(&db::Db::sqlite(&writer), keys)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        make_private(Path::new(&side))?;
    }
    let readers = (0..READERS)
        .map(|_| connect(path).map(Mutex::new))
        .collect::<Result<Vec<_>>>()?;
    Ok(Sqlite {
        path: path.to_owned(),
        _in_use: in_use,
        writer: Mutex::new(writer),
        readers,
        next_reader: AtomicUsize::new(0),
    })
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

fn connect(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted rows (spent codes, ended sessions, old contact details) are overwritten, not
    // left in free pages for a copy of the file to reveal.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// SQLite would create the file 0644 and give `-wal`/`-shm` the same mode; the database
/// holds password hashes and session hashes, so it is created 0600 first, and an existing
/// file that others may read is tightened.
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(StoreError::Io)?;
    make_private(path)
}

/// A consistent copy of the open database `conn` at `to` (created 0600): SQLite's online
/// backup in one step, a single read transaction, so writers carry on and the copy holds
/// exactly what was committed when it began.
fn copy_database(conn: &Connection, to: &Path) -> Result<()> {
    create_private(to)?;
    let mut target = Connection::open(to)?;
    {
        let backup = rusqlite::backup::Backup::new(conn, &mut target)?;
        backup.step(-1)?;
    }
    target
        .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
        .map_err(StoreError::from)
        .and_then(|verdict| match verdict.as_str() {
            "ok" => Ok(()),
            other => Err(StoreError::Refused(format!(
                "the copy failed its integrity check: {other}"
            ))),
        })
}

/// `unicas backup`: a consistent copy of the database at `db` while it serves.
pub fn backup(db: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        return Err(StoreError::Refused(format!(
            "{} exists already",
            to.display()
        )));
    }
    let source = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    source.busy_timeout(std::time::Duration::from_secs(5))?;
    copy_database(&source, to)
}

/// `unicas restore`: replaces the database at `db` with the backup `from`, once the backup
/// checks out (integrity, and sealed with `keys`) and no process has `db` open for writing.
pub fn restore(db: &Path, from: &Path, keys: &Keys) -> Result<()> {
    let backup = Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let verdict: String = backup.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(StoreError::Refused(format!(
            "the backup failed its integrity check: {verdict}"
        )));
    }
    check_keys(&db::Db::sqlite(&backup), keys)?;
    // Every open store holds a shared lock: a server (or a command) using the database
    // makes this refuse rather than pull the floor from under it.
    let _exclusive = lock_file(db, libc::LOCK_EX)
        .map_err(|_| StoreError::Refused("the database is in use: stop unicas first".into()))?;
    create_private(db)?;
    let mut target = connect(db)?;
    let backup_step = rusqlite::backup::Backup::new(&backup, &mut target)?;
    backup_step.step(-1)?;
    Ok(())
}

/// Takes `operation` (`LOCK_SH` or `LOCK_EX`) on `<db>-lock` without waiting; the lock
/// lasts as long as the returned file.
fn lock_file(db: &Path, operation: libc::c_int) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let mut path = db.as_os_str().to_owned();
    path.push("-lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)?;
    // SAFETY: flock on a descriptor this function owns; no memory is involved.
    match unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) } {
        0 => Ok(file),
        _ => Err(std::io::Error::last_os_error()),
    }
}

fn make_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Io(e)),
    };
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(StoreError::Io)?;
    }
    Ok(())
}

fn migrate(conn: &mut Connection, keys: &Keys, path: &Path) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew(version));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    // An upgrade first copies the database as it is, beside it: the way back.
    if version > 0 {
        let mut copy = path.as_os_str().to_owned();
        copy.push(format!(".v{version}.bak"));
        copy_database(conn, Path::new(&copy))?;
    }
    // One transaction: a crash mid-migration leaves the old schema, never a mix.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (v, sql) in sections().filter(|(v, _)| *v > version) {
        tx.execute_batch(sql)?;
        if v == 3 {
            // A fresh database has nothing to convert; an upgraded one does.
            if version > 0 {
                upgrade_data_to_v3(&tx, keys)?;
            }
        }
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    // Old page images (contact details before sealing) leave the main file now.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Version 3 seals contact details and single-logout tickets, and flags existing patterns
/// that match any host so they keep working and are listed as such.
fn upgrade_data_to_v3(tx: &Transaction, keys: &Keys) -> rusqlite::Result<()> {
    let rows: Vec<(String, String, String)> = tx
        .prepare("SELECT id, email, phone FROM accounts")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, email, phone) in rows {
        tx.execute(
            "UPDATE accounts SET email = ?2, phone = ?3 WHERE id = ?1",
            rusqlite::params![id, keys.seal(&email), keys.seal(&phone)],
        )?;
    }
    let rows: Vec<(String, String, String)> = tx
        .prepare("SELECT session_hash, service_key, ticket FROM logout_participants")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (session, key, ticket) in rows {
        tx.execute(
            "UPDATE logout_participants SET ticket = ?3 WHERE session_hash = ?1 AND service_key = ?2",
            rusqlite::params![session, key, keys.seal(&ticket)],
        )?;
    }
    let patterns: Vec<(i64, String)> = tx
        .prepare("SELECT id, pattern FROM services")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, pattern) in patterns {
        if crate::model::Pattern::parse(&pattern).is_ok_and(|p| p.matches_any_host()) {
            tx.execute("UPDATE services SET allow_any_host = 1 WHERE id = ?1", [id])?;
        }
    }
    Ok(())
}

/// The first start writes a check value derived from the keys; later starts refuse keys
/// that do not reproduce it, rather than fail to read every phone number later.
fn check_keys(db: &db::Db, keys: &Keys) -> Result<()> {
    let expected = keys.lookup("key-check", "unicas");
    let stored: Option<String> = db.query_opt(
        "SELECT value FROM settings WHERE name = 'key_check'",
        db::args![],
        |r| r.get(0),
    )?;
    match stored {
        Some(v) if v == expected => Ok(()),
        Some(_) => Err(StoreError::WrongKeys),
        None => {
            db.execute(
                "INSERT INTO settings (name, value) VALUES ('key_check', ?1)",
                db::args![&expected],
            )?;
            Ok(())
        }
    }
}

/// `schema.sql` split at its `-- @version N` markers (each section keeps its marker line).
fn sections() -> impl Iterator<Item = (i64, &'static str)> {
    sections_of(SCHEMA)
}

/// A schema file split at its `-- @version N` markers.
fn sections_of(schema: &'static str) -> impl Iterator<Item = (i64, &'static str)> {
    const MARKER: &str = "-- @version ";
    schema.match_indices(MARKER).map(move |(start, _)| {
        let rest = &schema[start + MARKER.len()..];
        let end = rest
            .find(MARKER)
            .map_or(schema.len(), |e| start + MARKER.len() + e);
        let version = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .expect("schema.sql: a section marker without a version");
        (version, &schema[start..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    // docs/security.md L01, K08 (a database newer than the binary is refused)
    #[test]
    fn database_is_private_durable_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let keys = Arc::new(Keys::random());
        let store = Store::open(&path, Arc::clone(&keys)).unwrap();
        assert!(store.synchronous_levels().unwrap().iter().all(|&l| l == 2));
        for file in ["t.db", "t.db-wal", "t.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        drop(store);
        // A file someone made readable is tightened at the next start.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        Store::open(&path, Arc::clone(&keys)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            Store::open(&path, Arc::new(Keys::random())),
            Err(StoreError::WrongKeys)
        ));
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(
            Store::open(&path, keys),
            Err(StoreError::TooNew(_))
        ));
    }

    /// docs/security.md K08: a migration that fails half way (as one killed would) leaves the old
    /// schema whole: every section of an upgrade runs in one transaction.
    #[test]
    fn a_failed_migration_leaves_the_old_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        for (v, sql) in sections().filter(|(v, _)| *v < SCHEMA_VERSION) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", v).unwrap();
        }
        // Something the last section creates is there already: it fails after its first
        // statements have run.
        conn.execute_batch("CREATE INDEX audit_log_repeat ON audit_log(at)")
            .unwrap();
        drop(conn);
        assert!(Store::open(&path, Arc::new(Keys::random())).is_err());
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION - 1);
        let generation: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('accounts') WHERE name = 'generation'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(generation, 0, "no half of it");
    }

    #[test]
    fn sections_are_numbered_in_order_up_to_the_current_version() {
        let versions: Vec<i64> = sections().map(|(v, _)| v).collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    }

    #[test]
    fn a_version_2_database_is_upgraded_in_place_keeping_what_it_released() {
        // Upgraded to the current version through 3 (and whatever follows).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        let old: String = sections()
            .filter(|(v, _)| *v <= 2)
            .map(|(_, s)| s)
            .collect();
        conn.execute_batch(&format!("{old}\nPRAGMA user_version = 2;"))
            .unwrap();
        conn.execute_batch(
            "INSERT INTO services (name, pattern, created_at) VALUES ('all', 'https://a.test/', 0);
             INSERT INTO services (name, pattern, attributes, created_at) VALUES ('some', 'https://b.test/', 'cn', 0);
             INSERT INTO services (name, pattern, created_at) VALUES ('open', '^https?://.*$', 0);
             INSERT INTO accounts (id, name, kind, email, phone, password_hash, password_changed_at, created_at, updated_at)
                 VALUES ('alice', 'A', 'student', 'a@x.edu', '13800138000', 'h', 0, 0, 0);
             INSERT INTO logout_participants VALUES ('s', 1, 'https://a.test/', 'ST-secret', 'alice', 0);",
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path, Arc::new(Keys::random())).unwrap();
        let services = store.services().unwrap();
        use crate::model::Release;
        assert_eq!(services[0].settings.release, Release::All);
        assert_eq!(
            services[1].settings.release,
            Release::Only(vec!["cn".into()])
        );
        assert!(
            services[2].settings.allow_any_host,
            "kept working, and flagged"
        );
        let alice = store.account("alice").unwrap().unwrap();
        assert_eq!(
            (alice.email.as_str(), alice.phone.as_str()),
            ("a@x.edu", "13800138000")
        );
        // The database as it was before the upgrade waits beside it.
        let before = Connection::open(dir.path().join("t.db.v2.bak")).unwrap();
        let version: i64 = before
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
        let raw = std::fs::read(&path).unwrap();
        let wal = std::fs::read(dir.path().join("t.db-wal")).unwrap_or_default();
        for secret in [&b"13800138000"[..], b"a@x.edu", b"ST-secret"] {
            let found = |hay: &[u8]| hay.windows(secret.len()).any(|w| w == secret);
            assert!(
                !found(&raw) && !found(&wal),
                "{:?} in clear",
                std::str::from_utf8(secret)
            );
        }
    }
}
