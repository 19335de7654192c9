//! `unicas serve`.

use super::Failed;
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use unicas::clock::Clock;
use unicas::config::{Config, LogFormat};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Public URL including the path prefix, e.g. https://sso.example.edu/cas.
    #[arg(long)]
    public_url: Option<String>,
    /// A path prefix to serve (repeatable), in addition to the public URL's: e.g.
    /// `--prefix /cas --prefix /authserver`. Replaces the config file's `prefixes`.
    #[arg(long = "prefix", value_name = "PATH")]
    prefixes: Vec<String>,
    /// Extra CA certificates (PEM) to trust for proxy callbacks and logout requests.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Create a demo account and the built-in demo application (refused on a database with
    /// real accounts; serving without it disables them).
    #[arg(long)]
    demo: bool,
}

pub fn serve(mut config: Config, args: ServeArgs) -> Result<(), Failed> {
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(url) = args.public_url {
        config.public_url = url;
    }
    if !args.prefixes.is_empty() {
        config.prefixes = args.prefixes;
    }
    if args.ca_file.is_some() {
        config.ca_file = args.ca_file;
    }
    // Logs go to stderr, coloured only for a person at a terminal (journald and log files
    // get plain text).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => log.json().init(),
        LogFormat::Plain => log.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    std::panic::set_hook(Box::new(|info| tracing::error!("panic: {info}")));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let base = config.base_url();
        let server = unicas::start(config.clone(), Clock::system(), args.demo)
            .await
            ?;
        // A closed stdout (the starting script went away) must not stop the server: the
        // result of these writes is ignored rather than unwrapped as println! would.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "unicas listening on {} (public URL {base})", server.addr);
        if args.demo {
            let _ = writeln!(
                out,
                "demo: open {} and log in as '{}' with password '{}'",
                unicas::demo::service_url(&config),
                unicas::demo::ACCOUNT,
                unicas::demo::PASSWORD
            );
        }
        let _ = out.flush();
        if let Some(tls) = server.tls() {
            tokio::spawn(async move {
                let Ok(mut hup) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                else {
                    return;
                };
                while hup.recv().await.is_some() {
                    match tls.reload() {
                        Ok(()) => tracing::info!("TLS certificate read again"),
                        Err(e) => tracing::error!("TLS certificate kept, the new one failed: {e}"),
                    }
                }
            });
        }
        let stop = server.shutdown_handle();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
            tracing::info!("shutting down");
            let _ = stop.send(true);
        });
        server.wait().await;
        Ok(())
    })
}
