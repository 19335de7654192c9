//! PostgreSQL, for several unicas nodes on one database. The store's methods are blocking
//! and run the same statements as on SQLite (`db.rs`); here they go through a connection
//! pool (deadpool-postgres) whose connections are driven by a small runtime of the store's
//! own, so a caller on any thread (the blocking pool, a command, a test) just waits for the
//! answer.
//!
//! Writes keep SQLite's one-writer semantics: every write transaction first takes one
//! transaction-scoped advisory lock, so a read-then-write (a cap checked, then a code
//! stored) means the same on every node. Tickets and flow state are single statements
//! outside that lock (`tickets.rs`, `ephemeral.rs`), their atomicity the statement's, run
//! from the request's task on a few connections its node's requests share (`shared`).
//!
//! Changes to what nodes keep in memory are announced by triggers (`NOTIFY unicas`, sent at
//! commit) and heard on one listening connection per node (`listen`).

use super::db::{Db, Owned, Row, Value};
use super::{lock, Result, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_rustls::rustls;

/// The advisory lock every write transaction holds (any constant shared by all nodes).
const WRITE_LOCK: i64 = 0x756e_6963_6173;
/// Connections per node.
const POOL_SIZE: usize = 16;
/// How long a statement waits for a connection before the request fails (503 at /health).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections the hot single statements (tickets, flow state) are pipelined on.
const PIPES: usize = 4;
/// The channel the schema's triggers notify on.
const CHANNEL: &str = "unicas";

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub(super) struct Pg {
    /// Drives the connections; shut down without waiting when the store goes.
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    /// Shared by every request of this node, for `shared`: connected on first use and again
    /// after a loss.
    pipes: Vec<Mutex<Option<Arc<Pipe>>>>,
    next_pipe: AtomicUsize,
}

/// A connection many requests send statements on at once (tokio-postgres pipelines them),
/// with the statements it has prepared.
struct Pipe {
    client: tokio_postgres::Client,
    prepared: Mutex<HashMap<&'static str, tokio_postgres::Statement>>,
}

impl Drop for Pg {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Pg {
    /// A pool for `url` (`postgres://user:password@host:port/db?sslmode=require`). TLS is
    /// negotiated as `sslmode` says (prefer by default), the server's certificate verified
    /// against the system's roots and `sslrootcert` if the URL names one.
    pub fn connect(url: &str) -> Result<Pg> {
        let (url, root) = split_root_cert(url)?;
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Refused(format!("database URL: {e}")))?;
        let tls = MakeRustlsConnect::new(tls_config(root.as_deref())?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("unicas-postgres")
            .enable_all()
            .build()
            .map_err(StoreError::Io)?;
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = {
            let _entered = runtime.enter();
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(CONNECT_TIMEOUT))
                .create_timeout(Some(CONNECT_TIMEOUT))
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?
        };
        let pg = Pg {
            runtime: Some(runtime),
            pool,
            config,
            tls,
            pipes: (0..PIPES).map(|_| Mutex::new(None)).collect(),
            next_pipe: AtomicUsize::new(0),
        };
        // Fail at start, with the server's reason, rather than at the first request.
        match pg.client() {
            Ok(client) => drop(client),
            Err(StoreError::Unavailable(why)) if why.contains("certificate") => {
                return Err(StoreError::Unavailable(format!(
                    "{why} (name the CA that signed the database server's certificate with \
                     sslrootcert=FILE in the URL)"
                )))
            }
            Err(e) => return Err(e),
        }
        Ok(pg)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("runtime lives as long as the store")
    }

    fn client(&self) -> Result<Object> {
        // Inside the store's runtime: the pool's timers and new connections need it.
        let _inside = self.runtime().enter();
        super::db::wait(self.pool.get()).map_err(|e| StoreError::Unavailable(with_causes(&e)))
    }

    /// Runs `f` on a pooled connection, statement by statement (autocommit).
    pub fn read<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let client = self.client()?;
        f(&Db::postgres(&client))
    }

    /// Runs `f` in one transaction under the write lock and commits; on error (or a panic)
    /// it rolls back and nothing is written.
    pub fn write<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let client = self.client()?;
        super::db::wait(client.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        )))?;
        let open = OpenTransaction(Some(client));
        let value = f(&Db::postgres(open.client()))?;
        open.commit()?;
        Ok(value)
    }

    /// Runs one statement from async code, on a connection this node's requests share:
    /// no blocking thread, no pool; its atomicity is the statement's (taking a ticket).
    pub async fn shared(&self, sql: &'static str, args: &[Value<'_>]) -> Result<Vec<Vec<Owned>>> {
        let (slot, pipe) = self.pipe().await?;
        let known = lock(&pipe.prepared).get(sql).cloned();
        let answer = async {
            let statement = match known {
                Some(s) => s,
                None => {
                    let s = pipe
                        .client
                        .prepare(&super::db::dollar_placeholders(sql))
                        .await?;
                    lock(&pipe.prepared).insert(sql, s.clone());
                    s
                }
            };
            pipe.client
                .query(&statement, &super::db::pg_args(args))
                .await
        }
        .await;
        match answer {
            Ok(rows) => rows
                .iter()
                .map(|r| Row::Postgres(r).all_columns())
                .collect(),
            Err(e) => {
                if pipe.client.is_closed() {
                    lock(&self.pipes[slot]).take();
                }
                Err(e.into())
            }
        }
    }

    async fn pipe(&self) -> Result<(usize, Arc<Pipe>)> {
        let slot = self.next_pipe.fetch_add(1, Ordering::Relaxed) % PIPES;
        let open = lock(&self.pipes[slot]).clone();
        if let Some(pipe) = open.filter(|p| !p.client.is_closed()) {
            return Ok((slot, pipe));
        }
        let (config, tls) = (self.config.clone(), self.tls.clone());
        // Connected, and driven, on the store's runtime.
        let connect = self.runtime().spawn(async move {
            let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, config.connect(tls))
                .await
                .map_err(|_| StoreError::Unavailable("connecting timed out".into()))??;
            tokio::spawn(connection);
            Ok::<_, StoreError>(client)
        });
        let client = connect.await.map_err(|_| StoreError::Aborted)??;
        let pipe = Arc::new(Pipe {
            client,
            prepared: Mutex::default(),
        });
        *lock(&self.pipes[slot]) = Some(Arc::clone(&pipe));
        Ok((slot, pipe))
    }

    /// Listens for the triggers' notifications on a connection of its own, for as long as
    /// the store lives, and hands each to `tell`. After a lost connection it reconnects and
    /// reports `None` (anything may have changed meanwhile).
    pub fn listen(&self, tell: super::Listener) -> tokio::task::AbortHandle {
        let (config, tls) = (self.config.clone(), self.tls.clone());
        self.runtime()
            .spawn(async move {
                loop {
                    if let Err(e) = listen_once(&config, tls.clone(), &*tell).await {
                        tracing::warn!(error = %e, "database notifications lost; reconnecting");
                    }
                    tell(None);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            })
            .abort_handle()
    }
}

async fn listen_once(
    config: &tokio_postgres::Config,
    tls: MakeRustlsConnect,
    tell: &(dyn Fn(Option<&str>) + Send + Sync),
) -> std::result::Result<(), tokio_postgres::Error> {
    use futures_util::future::poll_fn;
    use tokio_postgres::AsyncMessage;
    let (client, mut connection) = config.connect(tls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let sent = match poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => tx.send(Ok(n)),
                Some(Ok(_)) => Ok(()),
                Some(Err(e)) => tx.send(Err(e)),
                None => break,
            };
            if sent.is_err() {
                break;
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    // Listening from here on: whatever changed before is dropped now.
    tell(None);
    while let Some(notification) = rx.recv().await {
        tell(Some(notification?.payload()));
    }
    Ok(())
}

/// A transaction begun on a pooled connection: committed explicitly, rolled back if
/// dropped (an error or a panic in the middle), so the connection goes back clean.
struct OpenTransaction(Option<Object>);

impl OpenTransaction {
    fn client(&self) -> &Object {
        self.0.as_ref().expect("open until committed")
    }

    fn commit(mut self) -> Result<()> {
        let client = self.0.take().expect("open until committed");
        match super::db::wait(client.batch_execute("COMMIT")) {
            Ok(()) => Ok(()),
            Err(e) => {
                // The connection may be in any state: it does not go back to the pool.
                drop(Object::take(client));
                Err(e.into())
            }
        }
    }
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            if super::db::wait(client.batch_execute("ROLLBACK")).is_err() {
                drop(Object::take(client));
            }
        }
    }
}

/// The URL without libpq's `sslrootcert=FILE` (which tokio-postgres does not read), and FILE:
/// the CA (PEM) a private database server's certificate is checked against.
fn split_root_cert(url: &str) -> Result<(String, Option<std::path::PathBuf>)> {
    let mut parsed =
        url::Url::parse(url).map_err(|e| StoreError::Refused(format!("database URL: {e}")))?;
    let mut root = None;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(k, v)| match k.as_ref() {
            "sslrootcert" => {
                root = Some(std::path::PathBuf::from(v.as_ref()));
                None
            }
            _ => Some((k.into_owned(), v.into_owned())),
        })
        .collect();
    if root.is_none() {
        return Ok((url.to_string(), None));
    }
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(kept);
    }
    Ok((parsed.into(), root))
}

/// TLS to the database: the system's roots, and `extra` if given.
fn tls_config(extra: Option<&std::path::Path>) -> Result<rustls::ClientConfig> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot read is skipped, as every client does.
        let _ = roots.add(cert);
    }
    if let Some(file) = extra {
        let bad = |e: &dyn std::fmt::Display| {
            StoreError::Refused(format!("sslrootcert {}: {e}", file.display()))
        };
        let certs = CertificateDer::pem_file_iter(file)
            .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| bad(&e))?;
        if certs.is_empty() {
            return Err(bad(&"no certificate"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(&e))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Refused(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// An error with what caused it ("error performing TLS handshake: invalid peer certificate:
/// UnknownIssuer"), for the one line an operator reads.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}
