//! SQLite: the only place with SQL. One writer connection (SQLite admits one writer at a
//! time) and a few readers in WAL mode. Every method here blocks; async code reaches it
//! through `blocking::run`, never on a runtime worker.
//!
//! Durability: every connection runs `synchronous=FULL`, so a commit that returned is on disk
//! before the caller tells a user "done". Short-lived tickets are not here (see `tickets/`).

mod accounts;
mod audit;
mod logout;
mod proxy;
mod services;
mod sessions;
mod throttle;

pub use accounts::NewAccount;
pub use audit::{AuditEvent, AuditRow};
pub use logout::LogoutParticipant;
pub use proxy::ProxyGrantingTicket;
pub use sessions::SsoSession;
pub use throttle::ThrottleState;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Schema version this binary writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 2;
const SCHEMA: &str = include_str!("../../schema.sql");
const READERS: usize = 4;

#[derive(Debug)]
pub enum StoreError {
    Sqlite(rusqlite::Error),
    /// The database was written by a newer unicas.
    TooNew(i64),
    Io(std::io::Error),
    /// A blocking task panicked or was cancelled; its transaction rolled back.
    Aborted,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "database error: {e}"),
            StoreError::TooNew(v) => write!(
                f,
                "database schema version {v} is newer than this unicas supports ({SCHEMA_VERSION}); upgrade unicas"
            ),
            StoreError::Io(e) => write!(f, "database file: {e}"),
            StoreError::Aborted => write!(f, "database task aborted"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        create_private(path)?;
        let writer = connect(path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        migrate(&writer)?;
        let readers = (0..READERS)
            .map(|_| connect(path).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(Store {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

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

    /// Runs `f` on a reader connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let n = self.inner.readers.len();
        let start = self.inner.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(conn) = self.inner.readers[(start + i) % n].try_lock() {
                return Ok(f(&conn)?);
            }
        }
        Ok(f(&lock(&self.inner.readers[start % n]))?)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction and commits; on error nothing is written.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut conn = lock(&self.inner.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// `PRAGMA synchronous` of every connection (2 = FULL), for tests and `health` checks.
    pub fn synchronous_levels(&self) -> Result<Vec<i64>> {
        let mut levels =
            vec![lock(&self.inner.writer).pragma_query_value(None, "synchronous", |r| r.get(0))?];
        for reader in &self.inner.readers {
            levels.push(lock(reader).pragma_query_value(None, "synchronous", |r| r.get(0))?);
        }
        Ok(levels)
    }
}

/// A poisoned mutex only means another thread panicked mid-query; SQLite rolled that
/// transaction back, so the connection is still sound.
fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn connect(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// SQLite would create the file 0644 and give `-wal`/`-shm` the same mode; the database
/// holds password hashes and session hashes, so it is created 0600 first.
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(StoreError::Io)
}

fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew(version));
    }
    if version < SCHEMA_VERSION {
        let newer: String = sections()
            .filter(|(v, _)| *v > version)
            .map(|(_, sql)| sql)
            .collect();
        // One transaction: a crash mid-migration leaves the old schema, never a mix.
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{newer}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
        ))?;
    }
    Ok(())
}

/// `schema.sql` split at its `-- @version N` markers (each section keeps its marker line).
fn sections() -> impl Iterator<Item = (i64, &'static str)> {
    const MARKER: &str = "-- @version ";
    SCHEMA.match_indices(MARKER).map(|(start, _)| {
        let rest = &SCHEMA[start + MARKER.len()..];
        let end = rest
            .find(MARKER)
            .map_or(SCHEMA.len(), |e| start + MARKER.len() + e);
        let version = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .expect("schema.sql: a section marker without a version");
        (version, &SCHEMA[start..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn database_is_private_durable_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path).unwrap();
        assert!(store.synchronous_levels().unwrap().iter().all(|&l| l == 2));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(store);
        Store::open(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(Store::open(&path), Err(StoreError::TooNew(_))));
    }

    #[test]
    fn sections_are_numbered_in_order_up_to_the_current_version() {
        let versions: Vec<i64> = sections().map(|(v, _)| v).collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    }

    #[test]
    fn a_version_1_database_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        let (_, v1) = sections().next().unwrap();
        conn.execute_batch(&format!("{v1}\nPRAGMA user_version = 1;"))
            .unwrap();
        conn.execute(
            "INSERT INTO services (name, pattern, created_at) VALUES ('a', 'https://a/', 0)",
            [],
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        let services = store.services().unwrap();
        assert_eq!(services.len(), 1);
        assert_eq!(services[0].logout_type, crate::services::LogoutType::Back);
    }
}
