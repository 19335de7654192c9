//! Every setting unicas reads, with its default. A TOML file may set any subset; the command
//! line overrides the file; `validate` runs once at start so later code can trust the values.

mod messages;
mod sections;
mod social;

pub use messages::{AliyunConfig, MailConfig, SmsConfig, SmtpConfig, TencentConfig, WebhookConfig};
pub use sections::{
    AdminConfig, FirstLoginConfig, HttpConfig, LogConfig, LogoutConfig, MetricsConfig,
    OutboundConfig, PasswordConfig, RecoveryConfig, RetentionConfig, SamlConfig, SessionConfig,
    ThrottleConfig, TicketConfig, TlsConfig,
};
pub use social::{WeChatConfig, WeComConfig};

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// SQLite database file; created 0600 with `schema.sql` on first start.
    pub db: PathBuf,
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// The URL users and CAS clients reach; its path is the protocol prefix (e.g. `/cas`).
    pub public_url: String,
    /// More path prefixes served alongside the public URL's (e.g. `/authserver`), so clients
    /// configured for another product's paths keep working; tickets are shared by all.
    pub prefixes: Vec<String>,
    /// School name shown in the page header, in Chinese and English.
    pub school_name: String,
    pub school_name_en: String,
    /// Optional logo file (PNG, SVG or JPEG) replacing the built-in one.
    pub logo: Option<PathBuf>,
    /// Times on pages (recent sign-ins, sessions) are shown at this offset from UTC, in
    /// minutes: 480 is China Standard Time.
    pub utc_offset_minutes: i32,
    /// Extra CA certificates (PEM) trusted, besides the system's, when calling proxy
    /// callbacks and logout URLs, and the mail server.
    pub ca_file: Option<PathBuf>,
    /// The installation's key file (created 0600 at first start): it seals contact details
    /// and authenticates form tokens. Default: the database path with the extension `.key`.
    /// Keep it with the database's backups, but not inside them.
    pub key_file: Option<PathBuf>,
    pub tickets: TicketConfig,
    pub sessions: SessionConfig,
    pub throttle: ThrottleConfig,
    pub passwords: PasswordConfig,
    pub http: HttpConfig,
    pub saml: SamlConfig,
    pub outbound: OutboundConfig,
    pub logout: LogoutConfig,
    pub first_login: FirstLoginConfig,
    /// Offer login by scanning a QR code with a phone that is logged in (扫码登录).
    pub qr_login: bool,
    pub sms: SmsConfig,
    pub mail: MailConfig,
    pub recovery: RecoveryConfig,
    pub wecom: WeComConfig,
    pub wechat: WeChatConfig,
    pub metrics: MetricsConfig,
    pub log: LogConfig,
    pub retention: RetentionConfig,
    pub tls: TlsConfig,
    pub admin: AdminConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: PathBuf::from("unicas.db"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080/cas".into(),
            prefixes: Vec::new(),
            school_name: "统一身份认证平台".into(),
            school_name_en: "Unified Identity Authentication".into(),
            logo: None,
            utc_offset_minutes: 480,
            ca_file: None,
            key_file: None,
            tickets: TicketConfig::default(),
            sessions: SessionConfig::default(),
            throttle: ThrottleConfig::default(),
            passwords: PasswordConfig::default(),
            http: HttpConfig::default(),
            saml: SamlConfig::default(),
            outbound: OutboundConfig::default(),
            logout: LogoutConfig::default(),
            first_login: FirstLoginConfig::default(),
            qr_login: true,
            sms: SmsConfig::default(),
            mail: MailConfig::default(),
            recovery: RecoveryConfig::default(),
            wecom: WeComConfig::default(),
            wechat: WeChatConfig::default(),
            metrics: MetricsConfig::default(),
            log: LogConfig::default(),
            retention: RetentionConfig::default(),
            tls: TlsConfig::default(),
            admin: AdminConfig::default(),
        }
    }
}

impl Config {
    /// Reads a TOML file; keys it does not set keep their defaults.
    pub fn from_file(path: &std::path::Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))
    }

    /// Checks every value once; the server refuses to start on the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        if self.retention.audit_days < 180 || self.retention.messages_days < 1 {
            return Err(
                "retention: audit_days must be at least 180 (six months), messages_days at least 1"
                    .into(),
            );
        }
        let url = self.public_url()?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err("public_url must not have a query or fragment".into());
        }
        for p in &self.prefixes {
            let ok = p.starts_with('/')
                && p.len() > 1
                && !p.ends_with('/')
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
            if !ok {
                return Err(format!(
                    "prefix {p:?}: must start with '/', not end with '/', and use only letters, digits, '-', '_', '.'"
                ));
            }
        }
        let positive = [
            (
                "tickets.service_ticket_ttl",
                self.tickets.service_ticket_ttl,
            ),
            ("tickets.login_form_ttl", self.tickets.login_form_ttl),
            ("sessions.idle_timeout", self.sessions.idle_timeout),
            ("sessions.max_lifetime", self.sessions.max_lifetime),
            (
                "sessions.remember_me_lifetime",
                self.sessions.remember_me_lifetime,
            ),
            ("throttle.account_failures", self.throttle.account_failures),
            (
                "throttle.account_failures_global",
                self.throttle.account_failures_global,
            ),
            (
                "throttle.global_lock_addresses",
                self.throttle.global_lock_addresses,
            ),
            ("throttle.address_failures", self.throttle.address_failures),
            ("throttle.window", self.throttle.window),
            ("throttle.lock_duration", self.throttle.lock_duration),
            ("saml.lifetime", self.saml.lifetime),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(format!("{key} must be positive"));
        }
        if self.outbound.timeout == 0 || self.logout.attempts == 0 || self.logout.concurrency == 0 {
            return Err(
                "outbound.timeout, logout.attempts and logout.concurrency must be positive".into(),
            );
        }
        if self.saml.not_before_skew < 0 || self.throttle.captcha_after < 0 {
            return Err(
                "saml.not_before_skew and throttle.captcha_after must not be negative".into(),
            );
        }
        if !(4..=31).contains(&self.passwords.bcrypt_cost) {
            return Err("passwords.bcrypt_cost must be between 4 and 31".into());
        }
        let p = &self.passwords;
        if !(6..=64).contains(&p.min_length)
            || !(1..=4).contains(&p.min_classes)
            || p.history > 24
            || p.max_age_days < 0
        {
            return Err(
                "passwords: min_length must be 6-64, min_classes 1-4, history at most 24".into(),
            );
        }
        let sms = &self.sms;
        if !matches!(
            sms.provider.as_str(),
            "log" | "webhook" | "aliyun" | "tencent"
        ) {
            return Err("sms.provider must be log, webhook, aliyun or tencent".into());
        }
        let missing = match sms.provider.as_str() {
            "webhook" => sms.webhook.url.is_empty() || sms.webhook.secret.is_empty(),
            "aliyun" => [
                &sms.aliyun.access_key_id,
                &sms.aliyun.access_key_secret,
                &sms.aliyun.template_code,
            ]
            .iter()
            .any(|v| v.is_empty()),
            "tencent" => [
                &sms.tencent.secret_id,
                &sms.tencent.secret_key,
                &sms.tencent.sdk_app_id,
                &sms.tencent.template_id,
            ]
            .iter()
            .any(|v| v.is_empty()),
            _ => false,
        };
        if missing {
            return Err(format!(
                "sms.{0}: every key of [sms.{0}] must be set",
                sms.provider
            ));
        }
        if !(60..=600).contains(&sms.code_ttl)
            || sms.resend_after < 1
            || sms.max_attempts < 1
            || sms.timeout == 0
        {
            return Err(
                "sms: code_ttl must be 60-600, resend_after, max_attempts and timeout positive"
                    .into(),
            );
        }
        let mail = &self.mail;
        match mail.provider.as_str() {
            "log" => {}
            "smtp" => {
                let s = &mail.smtp;
                if s.host.is_empty() || s.port == 0 {
                    return Err("mail.smtp: host and port must be set".into());
                }
                match s.security.as_str() {
                    "starttls" | "tls" => {}
                    "none" if ["localhost", "127.0.0.1", "::1"].contains(&s.host.as_str()) => {}
                    "none" => {
                        return Err("mail.smtp.security = \"none\" is only for a server on this machine (localhost)".into())
                    }
                    other => {
                        return Err(format!(
                            "mail.smtp.security: {other:?}: use starttls, tls or none"
                        ))
                    }
                }
            }
            other => return Err(format!("mail.provider: {other:?}: use log or smtp")),
        }
        if mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!("mail.from: {:?} is not an address", mail.from));
        }
        if !(60..=1800).contains(&mail.code_ttl)
            || mail.resend_after < 1
            || mail.max_attempts < 1
            || mail.timeout == 0
        {
            return Err(
                "mail: code_ttl must be 60-1800, resend_after, max_attempts and timeout positive"
                    .into(),
            );
        }
        let r = &self.recovery;
        if !(60..=3600).contains(&r.ttl) || r.per_account_day < 1 || r.max_answer_attempts < 1 {
            return Err(
                "recovery: ttl must be 60-3600, per_account_day and max_answer_attempts positive"
                    .into(),
            );
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err("tls: cert_file and key_file go together".into());
        }
        if !["plain", "json"].contains(&self.log.format.as_str()) {
            return Err("log.format: use plain or json".into());
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(format!(
                "log.level: {:?} is no list of levels",
                self.log.level
            ));
        }
        let w = &self.wecom;
        if !w.corp_id.is_empty() && (w.agent_id.is_empty() || w.secret.is_empty()) {
            return Err("wecom: corp_id, agent_id and secret go together".into());
        }
        if !["tfa", "legacy"].contains(&w.tfa_api.as_str()) {
            return Err("wecom.tfa_api: use tfa or legacy".into());
        }
        let c = &self.wechat;
        if !c.app_id.is_empty() && c.secret.is_empty()
            || !c.website_app_id.is_empty() && c.website_secret.is_empty()
        {
            return Err("wechat: each app id needs its secret".into());
        }
        if self.utc_offset_minutes.abs() > 14 * 60 {
            return Err("utc_offset_minutes must be within ±840".into());
        }
        if self.first_login.initial_password_days < 0
            || self.first_login.initial_password_failures < 1
        {
            return Err("first_login: initial_password_days must not be negative, initial_password_failures positive".into());
        }
        if self.http.max_connections == 0 || self.http.max_body < 1024 {
            return Err(
                "http.max_connections must be positive and http.max_body at least 1024".into(),
            );
        }
        Ok(())
    }

    /// The public URL, parsed.
    pub fn public_url(&self) -> Result<Url, String> {
        let url = Url::parse(&self.public_url).map_err(|e| format!("public_url: {e}"))?;
        match url.scheme() {
            "http" | "https" => Ok(url),
            _ => Err("public_url must be http or https".into()),
        }
    }

    /// The path prefix all protocol endpoints hang off, without a trailing slash (`/cas`).
    pub fn prefix(&self) -> String {
        let path = self
            .public_url()
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        path.trim_end_matches('/').to_string()
    }

    /// Every prefix served, longest first so `/cas2` is never taken for `/cas`.
    pub fn all_prefixes(&self) -> Vec<String> {
        let mut all = vec![self.prefix()];
        for p in &self.prefixes {
            if !all.contains(p) {
                all.push(p.clone());
            }
        }
        all.sort_by_key(|p| std::cmp::Reverse(p.len()));
        all
    }

    /// The public URL without a trailing slash, for building absolute links.
    pub fn base_url(&self) -> String {
        self.public_url.trim_end_matches('/').to_string()
    }

    /// Cookies get `Secure`, and responses HSTS, whenever users reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https:")
    }

    /// Where the installation's keys are: beside a SQLite file by default. Nodes sharing a
    /// PostgreSQL database must each be given the same file.
    pub fn key_file(&self) -> Result<PathBuf, String> {
        match (&self.key_file, self.shares_database()) {
            (Some(path), _) => Ok(path.clone()),
            (None, false) => Ok(self.db.with_extension("key")),
            (None, true) => Err(
                "key_file is required with a PostgreSQL database (every node needs the same key file)"
                    .into(),
            ),
        }
    }

    /// Whether `db` is a PostgreSQL URL, shared by several nodes.
    pub fn shares_database(&self) -> bool {
        self.db.to_str().is_some_and(is_postgres_url)
    }

    /// A commented example configuration listing every key with its default.
    pub fn example() -> &'static str {
        include_str!("../../examples/unicas.toml")
    }
}

/// Addresses or CIDR ranges (`10.0.0.0/8`, `127.0.0.1`, `::1`): an address alone is its own
/// one-address range.
fn networks<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    let given: Vec<String> = Deserialize::deserialize(d)?;
    given
        .iter()
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is no address or CIDR range")))
        })
        .collect()
}

/// Whether a `db` setting names a PostgreSQL database (a URL) rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses_to_the_defaults() {
        let parsed: Config = toml::from_str(Config::example()).unwrap();
        let default = Config::default();
        assert_eq!(format!("{parsed:?}"), format!("{default:?}"));
    }

    #[test]
    fn the_migration_example_is_a_valid_configuration() {
        let parsed: Config = toml::from_str(include_str!(
            "../../examples/deploy/authserver-migration.toml"
        ))
        .unwrap();
        parsed.validate().unwrap();
        assert_eq!(parsed.prefix(), "/authserver");
        assert_eq!(parsed.all_prefixes(), ["/authserver", "/cas"]);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("listn = \"1.2.3.4:5\"").is_err());
    }

    #[test]
    fn prefix_comes_from_the_public_url() {
        let config = Config {
            public_url: "https://sso.example.edu/authserver/".into(),
            ..Config::default()
        };
        assert_eq!(config.prefix(), "/authserver");
        assert!(config.secure_cookies());
        config.validate().unwrap();
    }

    #[test]
    fn extra_prefixes_are_checked_and_ordered() {
        let mut config = Config {
            prefixes: vec!["/authserver".into(), "/cas".into(), "/c".into()],
            ..Config::default()
        };
        config.validate().unwrap();
        assert_eq!(config.all_prefixes(), ["/authserver", "/cas", "/c"]);
        config.prefixes = vec!["/bad/".into()];
        assert!(config.validate().is_err());
        config.prefixes = vec!["no-slash".into()];
        assert!(config.validate().is_err());
    }
}
