//! Every setting unicas reads, with its default. A TOML file may set any subset; the command
//! line overrides the file; `validate` runs once at start so later code can trust the values.

mod messages;
mod sections;
mod social;

pub use messages::{
    AliyunConfig, MailConfig, MailProvider, SmsConfig, SmsProvider, SmtpConfig, SmtpSecurity,
    TencentConfig, WebhookConfig,
};
pub use sections::{
    AdminConfig, FirstLoginConfig, HelpConfig, HttpConfig, LogConfig, LogFormat, LogoutConfig,
    MetricsConfig, MfaConfig, OutboundConfig, PasswordConfig, RecoveryConfig, RetentionConfig,
    SamlConfig, SessionConfig, ThrottleConfig, TicketConfig, TlsConfig,
};
pub use social::{TfaApi, WeChatConfig, WeComConfig};

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

/// Why a configuration cannot be used: the file, its syntax, or a value (named by its key).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {}: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("{key}: {problem}")]
    Invalid { key: String, problem: String },
}

/// A value the server cannot run with.
fn invalid(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

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
    pub help: HelpConfig,
    pub wecom: WeComConfig,
    pub wechat: WeChatConfig,
    pub metrics: MetricsConfig,
    pub log: LogConfig,
    pub retention: RetentionConfig,
    pub tls: TlsConfig,
    pub admin: AdminConfig,
    pub mfa: MfaConfig,
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
            help: HelpConfig::default(),
            wecom: WeComConfig::default(),
            wechat: WeChatConfig::default(),
            metrics: MetricsConfig::default(),
            log: LogConfig::default(),
            retention: RetentionConfig::default(),
            tls: TlsConfig::default(),
            admin: AdminConfig::default(),
            mfa: MfaConfig::default(),
        }
    }
}

impl Config {
    /// Reads a TOML file; keys it does not set keep their defaults.
    pub fn from_file(path: &std::path::Path) -> Result<Config, ConfigError> {
        let path_buf = || path.to_path_buf();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path_buf(),
            source,
        })
    }

    /// Checks every value once; the server refuses to start on the first bad one. Choices
    /// (providers, formats) are enums, so the file's parser has already refused unknown ones.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.public_url()?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("public_url", "must not have a query or fragment"));
        }
        for p in &self.prefixes {
            let ok = p.starts_with('/')
                && p.len() > 1
                && !p.ends_with('/')
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
            if !ok {
                return Err(invalid(
                    "prefixes",
                    format!("{p:?}: must start with '/', not end with '/', and use only letters, digits, '-', '_', '.'"),
                ));
            }
        }
        if self.utc_offset_minutes.abs() > 14 * 60 {
            return Err(invalid("utc_offset_minutes", "must be within ±840"));
        }
        self.validate_sections()
    }

    /// The public URL, parsed.
    pub fn public_url(&self) -> Result<Url, ConfigError> {
        let url = Url::parse(&self.public_url).map_err(|e| invalid("public_url", e.to_string()))?;
        match url.scheme() {
            "http" | "https" => Ok(url),
            _ => Err(invalid("public_url", "must be http or https")),
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
    pub fn key_file(&self) -> Result<PathBuf, ConfigError> {
        match (&self.key_file, self.shares_database()) {
            (Some(path), _) => Ok(path.clone()),
            (None, false) => Ok(self.db.with_extension("key")),
            (None, true) => Err(invalid(
                "key_file",
                "required with a PostgreSQL database (every node needs the same key file)",
            )),
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
    fn choices_are_refused_when_the_file_is_read() {
        for (text, choice) in [
            ("[sms]\nprovider = \"sms\"", "sms"),
            ("[mail]\nprovider = \"sendmail\"", "sendmail"),
            ("[mail.smtp]\nsecurity = \"ssl\"", "ssl"),
            ("[log]\nformat = \"xml\"", "xml"),
            ("[wecom]\ntfa_api = \"v2\"", "v2"),
        ] {
            let refused = toml::from_str::<Config>(text).unwrap_err().to_string();
            assert!(
                refused.contains(&format!("unknown variant `{choice}`")),
                "{refused}"
            );
        }
        let chosen: Config =
            toml::from_str("[mail]\nprovider = \"smtp\"\n[mail.smtp]\nsecurity = \"none\"")
                .unwrap();
        assert_eq!(chosen.mail.provider, MailProvider::Smtp);
        assert_eq!(chosen.mail.smtp.security, SmtpSecurity::Plain);
    }

    #[test]
    fn a_refused_value_is_named_by_its_key() {
        let mut config = Config::default();
        config.mail.provider = MailProvider::Smtp;
        config.mail.smtp.host = "mail.example.edu".into();
        config.mail.smtp.security = SmtpSecurity::Plain;
        let refused = config.validate().unwrap_err();
        assert!(
            matches!(&refused, ConfigError::Invalid { key, .. } if key == "mail.smtp.security"),
            "{refused}"
        );
        config.mail.smtp.host = "localhost".into();
        config.validate().unwrap();
        config.sms.provider = SmsProvider::Tencent;
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "sms.tencent: every key of the section must be set"
        );
        config.sms.provider = SmsProvider::Log;
        config.throttle.window = 0;
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "throttle.window: must be positive"
        );
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
