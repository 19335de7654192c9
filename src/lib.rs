//! unicas: a CAS single sign-on server for universities. `start` boots the real server; the
//! binary and the integration tests both use it.

pub mod accounts;
pub mod cas;
pub mod clock;
pub mod config;
pub mod demo;
pub mod http;
pub mod outbound;
pub mod pages;
pub mod routes;
pub mod services;
pub mod store;
pub mod tickets;

use accounts::{Authenticator, PasswordHasher};
use cas::Cas;
use clock::Clock;
use config::Config;
use services::Registry;
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
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Stops accepting, lets open requests finish, and waits for the accept loop to end.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Resolves when the server stops by itself (it only does on shutdown).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// Asks the server to stop.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }

    /// Runs the periodic sweep now (tests use it after moving the clock).
    pub async fn sweep(&self) {
        self.app.sweep().await;
    }
}

/// Opens the database, binds the listener and starts serving. With `demo`, a demo account
/// and the built-in demo application are set up first.
pub async fn start(config: Config, clock: Clock, demo: bool) -> Result<Server, String> {
    config.validate()?;
    let config = Arc::new(config);
    // Files, the database and the system's certificates are read off the runtime threads.
    let (store, registry, http) = {
        let (config, now) = (Arc::clone(&config), clock.now());
        blocking(move || {
            let store = Store::open(&config.db).map_err(|e| e.to_string())?;
            if demo {
                demo::install(&store, &config, now)?;
            }
            let registry = Registry::load(store.clone()).map_err(|e| e.to_string())?;
            Ok((store, registry, outbound::client(&config)?))
        })
        .await?
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    let hasher = PasswordHasher::new(config.passwords.bcrypt_cost, config.passwords.hash_threads);
    let cas = Cas::new(
        Arc::clone(&config),
        store.clone(),
        registry.clone(),
        clock.clone(),
        http,
    );
    let auth = Authenticator {
        store: store.clone(),
        hasher,
        clock: clock.clone(),
        throttle: config.throttle.clone(),
    };
    let app = {
        let config = Arc::clone(&config);
        // App::new reads the configured logo file.
        Arc::new(
            blocking(move || Ok(routes::App::new(config, cas, auth, demo.then_some(addr)))).await?,
        )
    };

    let limits = http::Limits {
        header_timeout: Duration::from_secs(config.http.header_timeout),
        body_timeout: Duration::from_secs(config.http.body_timeout),
        max_body: config.http.max_body,
        max_connections: config.http.max_connections,
    };
    let (shutdown, shutdown_rx) = watch::channel(false);
    spawn_housekeeping(Arc::clone(&app), registry, shutdown_rx.clone());
    let task = tokio::spawn(http::serve(listener, Arc::clone(&app), limits, shutdown_rx));
    Ok(Server {
        addr,
        clock,
        store,
        app,
        shutdown,
        task,
    })
}

/// Runs blocking start-up work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| e.to_string())?
}

/// Background work: the registry follows the database (the CLI edits it from another
/// process), and expired tickets, sessions and counters are swept.
fn spawn_housekeeping(
    app: Arc<routes::App>,
    registry: Registry,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut reload = tokio::time::interval(Duration::from_secs(2));
        let mut sweep = tokio::time::interval(Duration::from_secs(30));
        // Every few seconds: expired tickets leave memory, and sessions ended by another
        // process (an administrator's command) get their single logout.
        let mut quick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = reload.tick() => {
                    let registry = registry.clone();
                    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || registry.reload()).await {
                        tracing::error!("registry reload: {e}");
                    }
                }
                _ = sweep.tick() => app.sweep().await,
                _ = quick.tick() => {
                    app.cas.sweep_memory();
                    app.cas.announce_ended(None).await;
                }
                _ = shutdown.changed() => return,
            }
        }
    });
}
