//! The `unicas` command: `serve`, and the administration commands schools script against.
//! Every command prints one clear line on error and exits non-zero.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use unicas::accounts::{canonical_id, hash_password, valid_attribute_name, Kind, Status};
use unicas::clock::{iso8601, Clock};
use unicas::config::Config;
use unicas::services::{LogoutType, NewService, Pattern};
use unicas::store::{AuditEvent, NewAccount, Store};

#[derive(Parser)]
#[command(
    name = "unicas",
    version,
    about = "A CAS single sign-on server for universities"
)]
struct Cli {
    /// SQLite database file (overrides the config file's `db`).
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// TOML configuration file; keys it leaves out keep their defaults.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the service registry.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Args)]
struct ServeArgs {
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
    /// Create a demo account and the built-in demo application.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account.
    Add {
        account: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: String,
        /// student, staff or admin.
        #[arg(long, default_value = "student")]
        kind: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        phone: String,
        #[arg(long, default_value = "")]
        department: String,
        /// Extra attribute KEY=VALUE; repeat a key for several values.
        #[arg(long = "attr")]
        attrs: Vec<String>,
        /// Require a password change at the next login.
        #[arg(long)]
        must_change: bool,
    },
    /// Set an account's password (ends its SSO sessions).
    Passwd {
        account: String,
        #[arg(long)]
        password: String,
        /// Require a password change at the next login.
        #[arg(long)]
        must_change: bool,
    },
    /// Lock an account (ends its SSO sessions).
    Lock { account: String },
    /// Unlock an account.
    Unlock { account: String },
    /// End every SSO session of an account; its applications get single logout.
    Logout { account: String },
    /// Show one account.
    Show { account: String },
    /// List accounts: id, kind, status, name.
    List,
}

// Parsed once per process; boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum ServiceCommand {
    /// Register a service.
    Add {
        #[arg(long)]
        name: String,
        /// Exact URL, URL prefix ending in '*', or regex '^...$'.
        #[arg(long)]
        pattern: String,
        /// Comma-separated attributes released to the service.
        #[arg(long, conflicts_with = "all_attributes")]
        attributes: Option<String>,
        /// Release every attribute.
        #[arg(long)]
        all_attributes: bool,
        /// Also release attribute SOURCE under the name ALIAS (repeatable), e.g.
        /// `--alias cn=userName --alias cn=user_name`.
        #[arg(long = "alias", value_name = "SOURCE=ALIAS")]
        aliases: Vec<String>,
        /// Allow the service to obtain proxy tickets.
        #[arg(long)]
        proxy: bool,
        /// Proxy callback URLs (pgtUrl) the service may use, as a pattern; by default any
        /// https URL on the service's own host.
        #[arg(long, requires = "proxy")]
        proxy_callback: Option<String>,
        /// Single logout: back (server-to-server POST), front (the browser loads the logout
        /// URL), or none.
        #[arg(long, default_value = "back")]
        logout_type: String,
        /// Where single-logout requests go (default: the service URL).
        #[arg(long)]
        logout_url: Option<String>,
        /// Title and description shown in the portal.
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Show one service with all its settings.
    Show { id: i64 },
    /// List services: id, enabled, name, pattern, attributes.
    List,
    /// Remove a service by id.
    Remove { id: i64 },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration with every key and its default.
    Example,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("unicas: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let mut config = match &cli.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(db) = cli.db {
        config.db = db;
    }
    match cli.command {
        Command::Serve(args) => serve(config, args),
        Command::User(cmd) => user(&config, cmd),
        Command::Service(cmd) => service(&config, cmd),
        Command::Config(ConfigCommand::Example) => {
            print!("{}", Config::example());
            Ok(())
        }
    }
}

fn serve(mut config: Config, args: ServeArgs) -> Result<(), String> {
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let base = config.base_url();
        let server = unicas::start(config.clone(), Clock::system(), args.demo).await?;
        println!("unicas listening on {} (public URL {base})", server.addr);
        if args.demo {
            println!(
                "demo: open {} and log in as '{}' with password '{}'",
                unicas::routes::demo_service_url(&config),
                unicas::demo::ACCOUNT,
                unicas::demo::PASSWORD
            );
        }
        let stop = server.shutdown_handle();
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
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

fn open(config: &Config) -> Result<Store, String> {
    Store::open(&config.db).map_err(|e| e.to_string())
}

fn account_id(input: &str) -> Result<String, String> {
    canonical_id(input)
        .ok_or_else(|| format!("invalid account '{input}': use 1-64 of a-z 0-9 . _ @ -"))
}

fn now() -> i64 {
    Clock::system().now()
}

fn user(config: &Config, cmd: UserCommand) -> Result<(), String> {
    match cmd {
        UserCommand::Add {
            account,
            name,
            password,
            kind,
            email,
            phone,
            department,
            attrs,
            must_change,
        } => {
            let id = account_id(&account)?;
            let kind = Kind::parse(&kind)
                .ok_or_else(|| format!("invalid kind '{kind}': use student, staff or admin"))?;
            if name.trim().is_empty() {
                return Err("--name must not be empty".into());
            }
            let mut attributes = Vec::new();
            for attr in attrs {
                let (k, v) = attr
                    .split_once('=')
                    .ok_or_else(|| format!("invalid --attr '{attr}': use KEY=VALUE"))?;
                if !valid_attribute_name(k) {
                    return Err(format!(
                        "invalid attribute name '{k}': use letters, digits, '_', '-', '.'"
                    ));
                }
                attributes.push((k.to_string(), v.to_string()));
            }
            let password_hash = hash_password(&password, config.passwords.bcrypt_cost)
                .map_err(|e| e.to_string())?;
            let new = NewAccount {
                id: id.clone(),
                name,
                kind,
                department,
                email,
                phone,
                password_hash,
                must_change,
                attributes,
            };
            if !open(config)?
                .insert_account(&new, now())
                .map_err(|e| e.to_string())?
            {
                return Err(format!("account '{id}' already exists"));
            }
            println!("added {id}");
        }
        UserCommand::Passwd {
            account,
            password,
            must_change,
        } => {
            let id = account_id(&account)?;
            let hash = hash_password(&password, config.passwords.bcrypt_cost)
                .map_err(|e| e.to_string())?;
            let event = AuditEvent {
                event: "password_set",
                account_id: Some(&id),
                client_ip: "",
                detail: "administrator",
            };
            if !open(config)?
                .set_password(&id, &hash, must_change, &event, now())
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no account '{id}'"));
            }
            println!("password set for {id}");
        }
        UserCommand::Lock { account } => set_status(config, &account, Status::Locked)?,
        UserCommand::Unlock { account } => set_status(config, &account, Status::Active)?,
        UserCommand::Logout { account } => {
            let id = account_id(&account)?;
            let ended = open(config)?
                .delete_sessions_of(&id, now())
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no account '{id}'"))?;
            println!("{id}: {ended} session(s) ended");
        }
        UserCommand::Show { account } => {
            let id = account_id(&account)?;
            let a = open(config)?
                .account(&id)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no account '{id}'"))?;
            println!(
                "account: {}\nname: {}\nkind: {}\nstatus: {}",
                a.id,
                a.name,
                a.kind.as_str(),
                a.status.as_str()
            );
            println!(
                "department: {}\nemail: {}\nphone: {}",
                a.department, a.email, a.phone
            );
            println!(
                "must_change: {}\ncreated: {}\nupdated: {}",
                a.must_change,
                iso8601(a.created_at),
                iso8601(a.updated_at)
            );
            for (k, v) in &a.attributes {
                println!("attr: {k}={v}");
            }
        }
        UserCommand::List => {
            for a in open(config)?.accounts().map_err(|e| e.to_string())? {
                println!(
                    "{}\t{}\t{}\t{}",
                    a.id,
                    a.kind.as_str(),
                    a.status.as_str(),
                    a.name
                );
            }
        }
    }
    Ok(())
}

fn set_status(config: &Config, account: &str, status: Status) -> Result<(), String> {
    let id = account_id(account)?;
    if !open(config)?
        .set_status(&id, status, now())
        .map_err(|e| e.to_string())?
    {
        return Err(format!("no account '{id}'"));
    }
    println!("{id} is {}", status.as_str());
    Ok(())
}

fn service(config: &Config, cmd: ServiceCommand) -> Result<(), String> {
    match cmd {
        ServiceCommand::Add {
            name,
            pattern,
            attributes,
            all_attributes,
            aliases,
            proxy,
            proxy_callback,
            logout_type,
            logout_url,
            title,
            description,
        } => {
            Pattern::parse(&pattern).map_err(|e| format!("invalid pattern: {e}"))?;
            if let Some(p) = &proxy_callback {
                Pattern::parse(p).map_err(|e| format!("invalid --proxy-callback: {e}"))?;
            }
            let logout_type = LogoutType::parse(&logout_type).ok_or_else(|| {
                format!("invalid --logout-type '{logout_type}': use back, front or none")
            })?;
            if logout_type == LogoutType::Front && logout_url.is_none() {
                return Err(
                    "--logout-type front needs --logout-url (the page the browser loads)".into(),
                );
            }
            let mut attribute_aliases = Vec::new();
            for alias in &aliases {
                match alias.split_once('=') {
                    Some((s, a)) if valid_attribute_name(s) && valid_attribute_name(a) => {
                        attribute_aliases.push((s.to_string(), a.to_string()))
                    }
                    _ => return Err(format!("invalid --alias '{alias}': use SOURCE=ALIAS")),
                }
            }
            if let Some(url) = &logout_url {
                Pattern::parse(url)
                    .map_err(|_| format!("invalid --logout-url '{url}': use an http(s) URL"))?;
            }
            let attributes = match (attributes, all_attributes) {
                (_, true) | (None, false) => None,
                (Some(list), false) => {
                    let names: Vec<String> = list
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                    if let Some(bad) = names.iter().find(|n| !valid_attribute_name(n)) {
                        return Err(format!("invalid attribute name '{bad}'"));
                    }
                    Some(names)
                }
            };
            let new = NewService {
                name,
                pattern: pattern.clone(),
                attributes,
                attribute_aliases,
                allow_proxy: proxy,
                proxy_callback,
                logout_type,
                logout_url,
                portal_title: title,
                portal_description: description,
            };
            let id = open(config)?
                .insert_service(&new, now())
                .map_err(|e| e.to_string())?;
            let id = id.ok_or_else(|| format!("pattern '{pattern}' is already registered"))?;
            println!("added service {id}");
        }
        ServiceCommand::Show { id } => {
            let services = open(config)?.services().map_err(|e| e.to_string())?;
            let s = services
                .iter()
                .find(|s| s.id == id)
                .ok_or_else(|| format!("no service {id}"))?;
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            println!(
                "id: {}
name: {}
pattern: {}",
                s.id, s.name, s.pattern
            );
            println!("enabled: {}", s.enabled);
            println!(
                "attributes: {}",
                s.attributes
                    .as_ref()
                    .map_or("*".to_string(), |a| a.join(","))
            );
            for (source, alias) in &s.attribute_aliases {
                println!("alias: {source}={alias}");
            }
            println!("proxy: {}", s.allow_proxy);
            println!(
                "proxy_callback: {}",
                s.proxy_callback
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            );
            println!("logout_type: {}", s.logout_type.as_str());
            println!("logout_url: {}", opt(&s.logout_url));
            println!(
                "title: {}
description: {}",
                opt(&s.portal_title),
                opt(&s.portal_description)
            );
        }
        ServiceCommand::List => {
            for s in open(config)?.services().map_err(|e| e.to_string())? {
                let attributes = s
                    .attributes
                    .as_ref()
                    .map_or("*".to_string(), |a| a.join(","));
                let enabled = if s.enabled { "enabled" } else { "disabled" };
                println!(
                    "{}\t{enabled}\t{}\t{}\t{attributes}",
                    s.id, s.name, s.pattern
                );
            }
        }
        ServiceCommand::Remove { id } => {
            if !open(config)?
                .remove_service(id)
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no service {id}"));
            }
            println!("removed service {id}");
        }
    }
    Ok(())
}
