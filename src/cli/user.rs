//! `unicas user ...`: accounts from the command line.

use super::Failed;
use super::{now, open};
use clap::Subcommand;
use unicas::accounts::admin::{self, BindingKind, By};
use unicas::accounts::{check_length, hash_now, Policy};
use unicas::clock::iso8601;
use unicas::config::Config;
use unicas::model::{canonical_id, AuditEvent, AuditRecord, Kind, NewAccount, Phone, Status};
use unicas::store::{AccountFilter, Bound};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add an account.
    Add {
        account: String,
        #[arg(long)]
        name: String,
        /// Must meet the password policy, unless --must-change makes it temporary.
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
        /// Require binding a phone (with an SMS code) at the next login. Without it, --phone
        /// is recorded as a verified binding (the administrator vouches for the number).
        #[arg(long)]
        must_bind_phone: bool,
    },
    /// Import the roster (CSV, UTF-8 or GBK): new accounts with their initial password (the
    /// last six characters of the ID number), which they must change; existing ones get the
    /// roster's name, department and kind. The registrar's export as it is: headers such as
    /// 工资号, 学号, 学院, 手机号, 电子邮箱 or English ones, extra columns ignored, phone and
    /// e-mail optional; without a 类别 column, 工资号/职工号 means staff and 学号 students.
    /// Bad rows are reported by line, in English and Chinese.
    Import {
        file: std::path::PathBuf,
        /// Check the file and report, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Disable imported accounts that are not in this roster.
        #[arg(long)]
        disable_missing: bool,
    },
    /// Set an account's password (ends its SSO sessions).
    Passwd {
        account: String,
        /// Must meet the password policy, unless --must-change makes it temporary.
        #[arg(long)]
        password: String,
        /// Require a password change at the next login.
        #[arg(long)]
        must_change: bool,
        /// Require binding a phone at the next login.
        #[arg(long)]
        must_bind_phone: bool,
    },
    /// Reset a forgotten password: a random temporary one (kmtx-4739-hapw: no look-alike
    /// characters), printed once, which must be changed at the next login. Ends the
    /// account's SSO sessions (single logout follows).
    ResetPassword { account: String },
    /// Remove a binding of an account: `wecom`, `wechat`, `email`, `phone`, or a second
    /// factor: the authenticator app (`totp`), every passkey and security key (`webauthn`) or
    /// the recovery codes (`recovery`). Audited. With every factor removed (the recovery
    /// codes too) the account enrols a new one at its next step-up.
    Unbind {
        account: String,
        /// wecom, wechat, email, phone, totp, webauthn or recovery.
        kind: String,
    },
    /// Lock an account (ends its SSO sessions).
    Lock { account: String },
    /// Unlock an account.
    Unlock { account: String },
    /// End every SSO session of an account; its applications get single logout.
    Logout { account: String },
    /// Show one account.
    Show { account: String },
    /// List accounts: id, kind, status, name (tab-separated), or with --format csv every
    /// column with a header. The filters find who has not finished; they combine.
    List {
        /// Only this department (exactly as the roster gives it).
        #[arg(long)]
        department: Option<String>,
        /// Only student, staff or admin.
        #[arg(long)]
        kind: Option<String>,
        /// Only active, locked or disabled.
        #[arg(long)]
        status: Option<String>,
        /// Only accounts with no phone bound (未绑定手机).
        #[arg(long)]
        no_phone: bool,
        /// Only accounts still on the roster's initial password (仍为初始密码).
        #[arg(long)]
        initial_password: bool,
        /// Only accounts that never logged in (从未登录).
        #[arg(long)]
        never_logged_in: bool,
        /// tsv (id, kind, status, name) or csv (account, name, kind, status, department,
        /// phone masked, initial_password, last_login; UTF-8).
        #[arg(long, default_value = "tsv")]
        format: String,
    },
}

pub fn account_id(input: &str) -> Result<String, Failed> {
    canonical_id(input).ok_or_else(|| {
        Failed::from(format!(
            "invalid account {input:?}: use 1-64 of a-z 0-9 . _ @ -"
        ))
    })
}

/// A password an administrator sets: bcrypt must take it whole, and unless it is temporary
/// (`must_change`) it must meet the policy like any other.
fn admin_password(
    config: &Config,
    id: &str,
    password: &str,
    must_change: bool,
) -> Result<String, Failed> {
    check_length(password)?;
    if !must_change {
        Policy::new(&config.passwords).check(id, password).map_err(|e| {
            format!("the password does not meet the policy ({e}); choose another, or add --must-change to make it temporary")
        })?;
    }
    Ok(hash_now(password, config.passwords.bcrypt_cost)?)
}

pub fn run(config: &Config, cmd: UserCommand) -> Result<(), Failed> {
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
            must_bind_phone,
        } => {
            let kind = Kind::parse(&kind)
                .ok_or_else(|| format!("invalid kind {kind:?}: use student, staff or admin"))?;
            let mut new =
                NewAccount::new(&account, &name, kind, &department, &email, &phone, &attrs)?;
            new.password_hash = admin_password(config, &new.id, &password, must_change)?;
            new.must_change = must_change;
            new.must_bind_phone = must_bind_phone;
            let store = open(config)?;
            if !store.insert_account(&new, now())? {
                return Err(format!("account '{}' already exists", new.id).into());
            }
            // The administrator vouches for the number: a verified binding.
            if !new.phone.is_empty() && !must_bind_phone {
                let masked = Phone::parse(&new.phone)
                    .map(|p| p.masked())
                    .unwrap_or_default();
                let record =
                    AuditRecord::system(AuditEvent::PhoneBound { phone: masked }, Some(&new.id));
                let bound = store.bind(&new.id, "phone", &new.phone, &record, now())?;
                if bound == Bound::Taken {
                    eprintln!(
                        "unicas: that phone is bound to another account; not bound to {}",
                        new.id
                    );
                }
            }
            println!("added {}", new.id);
        }
        UserCommand::Import {
            file,
            dry_run,
            disable_missing,
        } => super::import::import(config, &file, dry_run, disable_missing)?,
        UserCommand::Passwd {
            account,
            password,
            must_change,
            must_bind_phone,
        } => {
            let id = account_id(&account)?;
            let hash = admin_password(config, &id, &password, must_change)?;
            let store = open(config)?;
            admin::set_password(&store, &By::CommandLine, &id, &hash, must_change, now())?;
            if must_bind_phone {
                store.set_must_bind_phone(&id, true)?;
            }
            println!("password set for {id}");
        }
        UserCommand::ResetPassword { account } => {
            let id = account_id(&account)?;
            let temporary = unicas::accounts::temporary_password();
            let hash = hash_now(&temporary, config.passwords.bcrypt_cost)?;
            admin::set_password(&open(config)?, &By::CommandLine, &id, &hash, true, now())?;
            println!("temporary password for {id}: {temporary}");
            println!("(shown once; it must be changed at the next login, and every session of {id} has ended)");
        }
        UserCommand::Unbind { account, kind } => {
            let id = account_id(&account)?;
            let kind = BindingKind::parse(&kind).ok_or_else(|| {
                format!(
                    "unknown binding {kind:?}: use wecom, wechat, email, phone, totp, webauthn or recovery"
                )
            })?;
            admin::unbind(&open(config)?, &By::CommandLine, &id, kind, now())?;
            println!("{id}: {} unbound", kind.as_str());
        }
        UserCommand::Lock { account } => set_status(config, &account, Status::Locked)?,
        UserCommand::Unlock { account } => set_status(config, &account, Status::Active)?,
        UserCommand::Logout { account } => {
            let id = account_id(&account)?;
            let ended = admin::end_sessions(&open(config)?, &id, now())?;
            println!("{id}: {ended} session(s) ended");
        }
        UserCommand::Show { account } => {
            let id = account_id(&account)?;
            let store = open(config)?;
            let a = store
                .account(&id)?
                .ok_or_else(|| format!("no account '{id}'"))?;
            let masked = |p: Option<&str>| {
                p.and_then(Phone::parse)
                    .map(|p| p.masked())
                    .unwrap_or_default()
            };
            println!(
                "account: {}\nname: {}\nkind: {}\nstatus: {}",
                a.id,
                a.name,
                a.kind.as_str(),
                a.status.as_str()
            );
            println!(
                "source: {}\ndepartment: {}\nemail: {}\nphone: {}\nbound_phone: {}",
                a.source.as_str(),
                a.department,
                a.email,
                masked(Some(&a.phone)),
                masked(a.bound_phone.as_deref())
            );
            println!(
                "must_change: {}\nmust_bind_phone: {}\ninitial_password: {}",
                a.must_change,
                a.phone_required(config.first_login.require_phone),
                a.initial_password
            );
            if let Some(last4) = store.id_last4(&a.id)? {
                println!("id_number_last4: {last4}");
            }
            for (kind, _) in store.bindings_of(&a.id)? {
                if kind == "wecom" || kind == "wechat" || kind == "email" {
                    println!("bound: {kind}");
                }
            }
            println!(
                "password_changed: {}\ncreated: {}\nupdated: {}",
                iso8601(a.password_changed_at),
                iso8601(a.created_at),
                iso8601(a.updated_at)
            );
            for (k, v) in &a.attributes {
                println!("attr: {k}={v}");
            }
        }
        UserCommand::List {
            department,
            kind,
            status,
            no_phone,
            initial_password,
            never_logged_in,
            format,
        } => {
            let filter = AccountFilter {
                department: department.unwrap_or_default(),
                kind: match kind.as_deref() {
                    None => None,
                    Some(k) => Some(Kind::parse(k).ok_or_else(|| {
                        format!("unknown kind {k:?}: use student, staff or admin")
                    })?),
                },
                status: match status.as_deref() {
                    None => None,
                    Some(s) => Some(Status::parse(s).ok_or_else(|| {
                        format!("unknown status {s:?}: use active, locked or disabled")
                    })?),
                },
                no_phone,
                initial_password,
                never_logged_in,
                ..AccountFilter::default()
            };
            if !matches!(format.as_str(), "tsv" | "csv") {
                return Err(format!("unknown format {format:?}: use tsv or csv").into());
            }
            let rows = admin::list_all(&open(config)?, &filter)?;
            if format == "csv" {
                print!("{}", admin::accounts_csv(&rows));
                return Ok(());
            }
            for r in rows {
                let a = r.account;
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

fn set_status(config: &Config, account: &str, status: Status) -> Result<(), Failed> {
    let id = account_id(account)?;
    admin::set_status(&open(config)?, &By::CommandLine, &id, status, now())?;
    println!("{id} is {}", status.as_str());
    Ok(())
}
