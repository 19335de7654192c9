//! unicas: a CAS single sign-on server for universities. `start` boots the real server; the
//! binary and the integration tests both use it. ARCHITECTURE.md maps the modules.

pub mod accounts;
pub mod captcha;
pub mod cas;
pub mod clock;
pub mod config;
pub mod demo;
pub mod ephemeral;
pub mod http;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod otp;
pub mod outbound;
pub mod pages;
pub mod passkeys;
pub mod roster;
pub mod routes;
pub mod secrets;
pub mod services;
pub mod sessions;
pub mod social;
pub mod store;
pub mod tickets;
pub mod totp;

use accounts::{Accounts, PasswordHasher};
use cas::Cas;
use clock::Clock;
use config::Config;
use services::Registry;
use sessions::Sessions;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio::sync::watch;

/// A running server.
pub struct Server {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    pub clock: Clock,
    pub store: Store,
    pub app: Arc<routes::App>,
    registry: Registry,
    sessions: Sessions,
    cas: Cas,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    /// The login throttle's window, for the counters' sweep.
    throttle_window: i64,
    /// How long messages and audit rows are kept.
    retention: config::RetentionConfig,
    /// Direct HTTPS, when configured (reloaded on SIGHUP).
    tls: Option<Arc<http::Tls>>,
    /// Change notices from the shared database, while the server lives.
    _listening: Option<store::Listening>,
    /// bcrypt verifications run so far (only with `test-hooks`).
    #[cfg(feature = "test-hooks")]
    pub password_verifications: Arc<std::sync::atomic::AtomicU64>,
}

impl Server {
    /// Stops accepting, lets open requests finish, then writes the single-logout records
    /// still in memory and waits (a while) for the deliveries under way.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.wait().await;
    }

    /// Resolves when the server has stopped (it only does on shutdown), with what `stop`
    /// finishes finished.
    pub async fn wait(self) {
        let _ = self.task.await;
        self.cas.announce_ended(None).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.cas.logout_deliveries() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tracing::info!("stopped");
    }

    /// Direct HTTPS's certificate holder, to read the files again on SIGHUP.
    pub fn tls(&self) -> Option<Arc<http::Tls>> {
        self.tls.clone()
    }

    /// Asks the server to stop.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }

    /// Runs the periodic housekeeping now (tests use it after moving the clock); what
    /// failed, in words (also logged).
    pub async fn sweep(&self) -> Vec<String> {
        let failed = sweep(&self.housekeeping()).await;
        self.cas.announce_ended(None).await;
        failed
    }

    fn housekeeping(&self) -> Housekeeping {
        Housekeeping {
            app: Arc::clone(&self.app),
            sessions: self.sessions.clone(),
            cas: self.cas.clone(),
            store: self.store.clone(),
            clock: self.clock.clone(),
            throttle_window: self.throttle_window,
            retention: self.retention.clone(),
        }
    }

    /// Announces ended sessions now and waits until every back-channel logout delivery has
    /// finished, retries included.
    pub async fn settle_logout(&self) {
        self.cas.announce_ended(None).await;
        while self.cas.logout_deliveries() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Re-reads the service registry now instead of within its 2 s.
    pub fn reload_registry(&self) -> store::Result<()> {
        self.registry.reload()
    }
}

/// Why the server did not start. The causes are the operator's to fix: a setting, the key
/// file, the database, a certificate, an address already in use.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Keys(#[from] secrets::KeyError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("demo: {0}")]
    Demo(#[from] demo::DemoError),
    /// The HTTP clients (proxy callbacks, SMS gateways) or the mail transport.
    #[error("outgoing connections: {0}")]
    Outbound(#[from] outbound::OutboundError),
    #[error(transparent)]
    Tls(#[from] http::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("a start-up task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Opens the database, binds the listener and starts serving. With `demo`, the demo account
/// and the built-in demo application are set up first; without it they are disabled.
pub async fn start(config: Config, clock: Clock, demo: bool) -> Result<Server, StartError> {
    config.validate()?;
    let config = Arc::new(config);
    // Files, the database and the system's certificates are read off the runtime threads.
    let metrics = Arc::new(metrics::Metrics::default());
    let (keys, store, registry, http, codes, tls) = {
        let (config, now, clock) = (Arc::clone(&config), clock.now(), clock.clone());
        let metrics = Arc::clone(&metrics);
        blocking(move || {
            let key_file = config.key_file()?;
            let keys = Arc::new(secrets::Keys::load_or_create(&key_file)?);
            let store = Store::open(&config.db, Arc::clone(&keys))?;
            match demo {
                true => demo::install(&store, &config, now)?,
                false => store.disable_demo(now)?,
            }
            // No attempt survives a restart; their reservations must not either.
            store.release_reservations()?;
            let registry = Registry::load(store.clone())?;
            let sms_http = outbound::sms_client(&config)?;
            let codes = otp::Codes::new(store.clone(), clock, &config, sms_http, metrics)?;
            let tls = match (&config.tls.cert_file, &config.tls.key_file) {
                (Some(cert), Some(key)) => Some(Arc::new(http::Tls::load(cert, key)?)),
                _ => None,
            };
            let http = outbound::client(&config)?;
            Ok((keys, store, registry, http, codes, tls))
        })
        .await?
    };
    let listen = |source| StartError::Listen {
        addr: config.listen,
        source,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(listen)?;
    let addr = listener.local_addr().map_err(listen)?;

    let sessions = Sessions::new(store.clone(), clock.clone(), config.sessions.clone());
    let listening = store.listen(heard(sessions.clone(), registry.clone()));
    let hasher = PasswordHasher::new(config.passwords.bcrypt_cost, config.passwords.hash_threads);
    #[cfg(feature = "test-hooks")]
    let password_verifications = Arc::clone(&hasher.verifications);
    let accounts = Accounts::new(
        store.clone(),
        hasher,
        clock.clone(),
        sessions.clone(),
        &config,
        Arc::clone(&metrics),
    );
    let wx_http = http.clone();
    let cas = Cas::new(
        Arc::clone(&config),
        store.clone(),
        registry.clone(),
        sessions.clone(),
        clock.clone(),
        http,
        Arc::clone(&metrics),
    );
    let passkeys = passkeys::Passkeys::new(&config, store.clone(), clock.clone(), codes.clone());
    let parts = routes::Parts {
        metrics,
        passkeys,
        config: Arc::clone(&config),
        store: store.clone(),
        codes,
        wecom: social::WeCom::new(&config.wecom, wx_http.clone(), clock.clone()).map(Arc::new),
        wechat: social::WeChat::new(&config.wechat, wx_http).map(Arc::new),
        cas: cas.clone(),
        accounts,
        sessions: sessions.clone(),
        clock: clock.clone(),
        keys,
    };
    // App::new reads the configured logo file.
    let app = Arc::new(blocking(move || Ok(routes::App::new(parts, demo.then_some(addr)))).await?);

    let limits = http::Limits {
        tls: tls.clone(),
        header_timeout: Duration::from_secs(config.http.header_timeout),
        body_timeout: Duration::from_secs(config.http.body_timeout),
        max_body: config.http.max_body,
        max_upload: config.http.max_upload,
        // One roster at a time is all the console reads.
        uploads: Arc::new(tokio::sync::Semaphore::new(1)),
        max_connections: config.http.max_connections,
        hsts: config
            .secure_cookies()
            .then(|| format!("max-age={}", config.http.hsts_max_age)),
    };
    let (shutdown, shutdown_rx) = watch::channel(false);
    let server = Server {
        addr,
        clock,
        store,
        app: Arc::clone(&app),
        registry,
        sessions,
        cas,
        shutdown,
        task: tokio::spawn(http::serve(listener, app, limits, shutdown_rx.clone())),
        throttle_window: config.throttle.window,
        retention: config.retention.clone(),
        tls,
        _listening: listening,
        #[cfg(feature = "test-hooks")]
        password_verifications,
    };
    spawn_housekeeping(&server, shutdown_rx);
    Ok(server)
}

/// Runs blocking start-up work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StartError> + Send + 'static,
) -> Result<T, StartError> {
    tokio::task::spawn_blocking(f).await?
}

/// What the periodic sweep works on.
struct Housekeeping {
    app: Arc<routes::App>,
    sessions: Sessions,
    cas: Cas,
    store: Store,
    clock: Clock,
    throttle_window: i64,
    retention: config::RetentionConfig,
}

/// Expired tickets, sessions, counters, codes and memory go, and messages and audit rows
/// past their retention. Returns what failed (each also logged); the next sweep tries again.
async fn sweep(h: &Housekeeping) -> Vec<String> {
    h.app.sweep_memory();
    h.app.report_ticket_misses().await;
    h.cas.sweep_tickets().await;
    h.sessions.retry_ending().await;
    let mut failed = Vec::new();
    let mut note = |what: &str, result: Result<usize, store::StoreError>| {
        if let Err(e) = result {
            tracing::error!("sweeping {what}: {e}");
            failed.push(format!("{what}: {e}"));
        }
    };
    note("flow state", h.app.sweep_shared().await);
    note("sessions", h.sessions.sweep().await);
    let (now, window, retention) = (h.clock.now(), h.throttle_window, h.retention.clone());
    if window > 0 {
        let counters = h.store.call(move |s| s.sweep_throttle(now, window)).await;
        note("throttle counters", counters);
    }
    let kept = h
        .store
        .call(move |s| s.sweep_retention(now, &retention))
        .await;
    note("codes, messages and audit rows", kept);
    failed
}

/// What a node does with a change another node (or a command) announced through the shared
/// database: it forgets what it remembered of it, so the change holds here as soon as the
/// notice arrives. After a lost connection (`None`) it forgets everything.
fn heard(sessions: Sessions, registry: Registry) -> store::Listener {
    Arc::new(move |change| {
        let reload = || {
            let registry = registry.clone();
            // The registry reads the store, which must not block the listener's runtime.
            tokio::task::spawn_blocking(move || {
                if let Err(e) = registry.reload() {
                    tracing::error!("registry reload: {e}");
                }
            });
        };
        match change {
            Some("services") => reload(),
            Some(c) if c.starts_with("account:") => sessions.forget_account(&c["account:".len()..]),
            Some(c) if c.starts_with("session:") => sessions.forget_session(&c["session:".len()..]),
            _ => {
                sessions.forget_all();
                reload();
            }
        }
    })
}

/// Background work: the registry follows the database (the command line edits it from
/// another process); expired tickets, sessions and counters are swept; session ends that
/// failed are retried; and single logout is announced as soon as a session ends here, and
/// within seconds of one ended by another process.
fn spawn_housekeeping(server: &Server, mut shutdown: watch::Receiver<bool>) {
    let (h, registry) = (server.housekeeping(), server.registry.clone());
    tokio::spawn(async move {
        // Each first runs one period after start (everything is fresh at start).
        let every = |secs| {
            let period = Duration::from_secs(secs);
            tokio::time::interval_at(tokio::time::Instant::now() + period, period)
        };
        let (mut reload, mut sweep_all, mut quick) = (every(2), every(30), every(5));
        loop {
            tokio::select! {
                _ = reload.tick() => {
                    // Expired tickets go often: a minting flood holds less memory.
                    h.cas.sweep_tickets().await;
                    let registry = registry.clone();
                    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || registry.reload()).await {
                        tracing::error!("registry reload: {e}");
                    }
                }
                _ = sweep_all.tick() => {
                    sweep(&h).await;
                }
                _ = quick.tick() => {
                    h.sessions.sweep_memory();
                    h.sessions.retry_ending().await;
                    h.cas.announce_ended(None).await;
                }
                _ = h.sessions.wait_ended() => {
                    h.cas.announce_ended(None).await;
                }
                _ = shutdown.changed() => return,
            }
        }
    });
}
