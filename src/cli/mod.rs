//! The command line: flags (clap), turned into calls on the library. The rules for accounts
//! and services live with `NewAccount` and `NewService`; these files only translate.

mod check;
mod import;
mod serve;
mod service;
mod user;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use unicas::clock::{iso8601, Clock};
use unicas::config::Config;
use unicas::model::{Email, Phone};
use unicas::otp::Recipient;
use unicas::secrets::Keys;
use unicas::store::Store;

#[derive(Parser)]
#[command(
    name = "unicas",
    version,
    about = "A CAS single sign-on server for universities"
)]
pub struct Cli {
    /// SQLite database file, or a PostgreSQL URL `postgres://user@host/db` shared by
    /// several nodes (overrides the config file's `db`).
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// The installation's key file (overrides the config file's `key_file`; default: beside
    /// a SQLite file; required with PostgreSQL).
    #[arg(long, global = true)]
    key_file: Option<PathBuf>,
    /// TOML configuration file; keys it leaves out keep their defaults.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(serve::ServeArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage the service registry.
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Read the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Text messages.
    #[command(subcommand)]
    Sms(SmsCommand),
    /// E-mail.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Move between databases (SQLite and PostgreSQL).
    #[command(subcommand)]
    Store(StoreCommand),
    /// Copy the database, consistently, while the server runs (SQLite's online backup).
    Backup {
        /// Where the copy goes (must not exist; created 0600).
        file: PathBuf,
    },
    /// Check a live deployment as its applications see it: log in with a test account,
    /// validate on every endpoint and format, proxy granting, SAML, single use, logout.
    Check {
        /// The CAS base URL, e.g. https://authserver.example.edu/authserver.
        url: String,
        /// A registered service URL to log in to.
        #[arg(long)]
        service: String,
        /// A test account (one without first-login steps pending).
        #[arg(long)]
        account: String,
        /// Its password; without it, the environment's UNICAS_CHECK_PASSWORD (which `ps`
        /// does not show).
        #[arg(long)]
        password: Option<String>,
        /// The service's proxy callback (pgtUrl), to check that it receives a PGT.
        #[arg(long)]
        proxy_callback: Option<String>,
    },
    /// Replace the database with a backup. The server must be stopped; the backup must pass
    /// SQLite's integrity check and belong to this installation's key file.
    Restore { file: PathBuf },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// The most recent security events, newest first.
    Tail {
        /// Only this account's events.
        #[arg(long)]
        account: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum SmsCommand {
    /// The most recent text messages, newest first: time, number, purpose, provider,
    /// result, and the text the `log` provider kept.
    Outbox {
        #[arg(long)]
        phone: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// The most recent e-mails, newest first: time, address, purpose, provider, result,
    /// and the subject and body the `log` provider kept (line breaks as \n).
    Outbox {
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Copy accounts, bindings, password history, security questions, the registry, sessions,
    /// the message log and the audit log into a new, empty database, e.g. from a SQLite file
    /// to PostgreSQL when a school moves to several nodes. Stop unicas first; tickets and
    /// flows under way are left behind. Both sides use the same key file (--key-file, or
    /// the one beside a SQLite source).
    Copy {
        /// The database copied: a SQLite file or a postgres:// URL.
        #[arg(long)]
        from: PathBuf,
        /// The new database: a SQLite file or a postgres:// URL (created or empty).
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration with every key and its default.
    Example,
}

/// What a command that failed says: its one line, printed by `main`. Errors keep their own
/// types below the command line; here they only need to be told.
pub type Failed = Box<dyn std::error::Error>;

pub fn run(cli: Cli) -> Result<(), Failed> {
    if !matches!(cli.command, Command::Serve(_)) {
        // A listing piped into `head` ends quietly when the reader goes, as other command
        // line tools do, instead of println! panicking on the closed pipe. Not for `serve`,
        // which must outlive whatever started it.
        // SAFETY: restoring the default disposition of a signal, before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let mut config = match &cli.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(db) = cli.db {
        config.db = db;
    }
    if let Some(key_file) = cli.key_file {
        config.key_file = Some(key_file);
    }
    match cli.command {
        Command::Serve(args) => Ok(serve::serve(config, args)?),
        Command::User(cmd) => Ok(user::run(&config, cmd)?),
        Command::Service(cmd) => Ok(service::run(&config, cmd)?),
        Command::Audit(AuditCommand::Tail { account, limit }) => {
            audit_tail(&config, account, limit)
        }
        Command::Sms(SmsCommand::Outbox { phone, limit }) => {
            let to = phone
                .map(|p| {
                    Phone::parse(&p).ok_or_else(|| Failed::from(format!("invalid phone {p:?}")))
                })
                .transpose()?;
            outbox(&config, "sms", to.map(Recipient::Phone), limit)
        }
        Command::Mail(MailCommand::Outbox { to, limit }) => {
            let to = to
                .map(|e| {
                    Email::parse(&e)
                        .ok_or_else(|| Failed::from(format!("invalid e-mail address {e:?}")))
                })
                .transpose()?;
            outbox(&config, "email", to.map(Recipient::Email), limit)
        }
        Command::Config(ConfigCommand::Example) => {
            print!("{}", Config::example());
            Ok(())
        }
        Command::Check {
            url,
            service,
            account,
            password,
            proxy_callback,
        } => {
            let password = password
                .or_else(|| std::env::var("UNICAS_CHECK_PASSWORD").ok())
                .ok_or("give --password or set UNICAS_CHECK_PASSWORD")?;
            Ok(check::run(&check::CheckArgs {
                base: &url,
                service: &service,
                account: &account,
                password: &password,
                proxy_callback: proxy_callback.as_deref(),
            })?)
        }
        Command::Store(StoreCommand::Copy { from, to }) => {
            let mut source = config.clone();
            source.db = from;
            let keys = std::sync::Arc::new(Keys::load_or_create(&source.key_file()?)?);
            let open = |db: &std::path::Path| {
                Store::open(db, std::sync::Arc::clone(&keys))
                    .map_err(|e| format!("{}: {e}", db.display()))
            };
            let (from, to) = (open(&source.db)?, open(&to)?);
            for (table, rows) in unicas::store::copy(&from, &to)? {
                println!("{table}: {rows} rows");
            }
            println!("copied; start unicas on the new database with the same key file");
            Ok(())
        }
        Command::Backup { .. } | Command::Restore { .. } if config.shares_database() => Err(
            "a PostgreSQL database is backed up and restored with PostgreSQL's own tools \
             (pg_dump/pg_restore, or base backups with WAL archiving for point-in-time recovery)"
                .into(),
        ),
        Command::Backup { file } => {
            unicas::store::backup(&config.db, &file)?;
            println!("backup written to {}", file.display());
            Ok(())
        }
        Command::Restore { file } => {
            let keys = Keys::load_or_create(&config.key_file()?)?;
            unicas::store::restore(&config.db, &file, &keys)?;
            println!("{} restored from {}", config.db.display(), file.display());
            Ok(())
        }
    }
}

/// The database, opened with the installation's key file.
fn open(config: &Config) -> Result<Store, Failed> {
    let keys = Keys::load_or_create(&config.key_file()?)?;
    Ok(Store::open(&config.db, std::sync::Arc::new(keys))?)
}

fn now() -> i64 {
    Clock::system().now()
}

/// One line per event: time, event, account, address, details, browser. Control characters
/// from a client are shown escaped, so no row can pose as two.
fn audit_tail(config: &Config, account: Option<String>, limit: i64) -> Result<(), Failed> {
    let account = account.map(|a| user::account_id(&a)).transpose()?;
    let rows = open(config)?.recent_audit(account.as_deref(), limit.clamp(1, 10_000))?;
    for r in rows {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            iso8601(r.at),
            r.event,
            r.account_id.as_deref().unwrap_or("-"),
            if r.client_ip.is_empty() {
                "-"
            } else {
                &r.client_ip
            },
            r.described().escape_debug(),
            r.user_agent.escape_debug()
        );
    }
    Ok(())
}

/// The message log of one channel, newest first.
fn outbox(config: &Config, channel: &str, to: Option<Recipient>, limit: i64) -> Result<(), Failed> {
    let store = open(config)?;
    let hash = to.map(|r| store.keys().lookup(r.kind(), &r.value()));
    let rows = store.outbox(channel, hash.as_deref(), limit.clamp(1, 10_000))?;
    for r in rows {
        let to = store.keys().open(&r.target).unwrap_or_default();
        let text = store.keys().open(&r.text).unwrap_or_default();
        println!(
            "{}\t{to}\t{}\t{}\t{}\t{}",
            iso8601(r.at),
            r.purpose,
            r.provider,
            r.result,
            text.replace('\n', "\\n")
        );
    }
    Ok(())
}
