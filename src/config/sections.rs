//! The other sections of the settings (first login, sessions and tickets, throttling,
//! passwords, HTTP, TLS, the console, logs, retention, metrics, recovery, outbound calls,
//! logout, SAML), each with its defaults.

use super::*;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirstLoginConfig {
    /// Accounts imported from the roster must bind a mobile phone at their first login.
    pub require_phone: bool,
    /// Days an initial password (from the roster) stays usable; after that only an
    /// administrator (or recovery) can activate the account. 0: never expires.
    pub initial_password_days: i64,
    /// Failed logins a day, from anywhere, that an account still on its initial password
    /// may have before it is locked for the rest of the day (its password is guessable).
    pub initial_password_failures: i64,
    /// Offer login with the bound phone and an SMS code (动态码登录).
    pub sms_login: bool,
}

impl Default for FirstLoginConfig {
    fn default() -> Self {
        FirstLoginConfig {
            require_phone: true,
            initial_password_days: 90,
            initial_password_failures: 20,
            sms_login: true,
        }
    }
}

impl FirstLoginConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.initial_password_days < 0 || self.initial_password_failures < 1 {
            return Err(invalid(
                "first_login",
                "initial_password_days must not be negative, initial_password_failures positive",
            ));
        }
        Ok(())
    }
}

/// Direct HTTPS (without a reverse proxy): PEM files, read again on SIGHUP. Both empty:
/// plain HTTP (behind nginx).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, the server's certificate first.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

impl TlsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err(invalid("tls", "cert_file and key_file go together"));
        }
        Ok(())
    }
}

/// The admin console (`/admin`): its own, shorter session after the second factor.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Seconds without a request after which the console asks for the second factor again.
    pub idle: i64,
    /// Seconds after which it asks again whatever happened.
    pub lifetime: i64,
    /// Wrong second factors (TOTP or SMS code, from anywhere) that lock an administrator's
    /// second factor for `throttle.lock_duration`.
    pub factor_failures: i64,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            idle: 900,
            lifetime: 7200,
            factor_failures: 5,
        }
    }
}

/// Second factors for people (`service --mfa required`, an account's "always ask").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaConfig {
    /// A login by scanning (扫码登录, WeCom, WeChat) counts as the phone's possession factor,
    /// so it satisfies an application that requires a second factor by itself. Off: such a
    /// session is asked for a second factor like a password's.
    pub scan_is_second_factor: bool,
}

/// The server's log (stderr). `RUST_LOG`, when set, overrides `level`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `plain` (text lines) or `json` (one object per line).
    pub format: LogFormat,
    /// Levels as `tracing` directives: `info`, or `info,unicas::tickets=warn` to drop the
    /// line per validated ticket (the audit table keeps every security event regardless).
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Plain,
            level: "info".into(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Plain,
    Json,
}

impl LogConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if tracing_subscriber::EnvFilter::try_new(&self.level).is_err() {
            let problem = format!("{:?} is no list of levels", self.level);
            return Err(invalid("log.level", problem));
        }
        Ok(())
    }
}

/// How long records of people are kept; housekeeping deletes older ones every 30 s.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// The message log (every SMS and e-mail sent, and the outbox's sealed texts).
    pub messages_days: i64,
    /// The audit log; at least 180 (网络安全法 Art. 21 asks for six months).
    pub audit_days: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            messages_days: 180,
            audit_days: 365,
        }
    }
}

impl RetentionConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.audit_days < 180 || self.messages_days < 1 {
            return Err(invalid(
                "retention",
                "audit_days must be at least 180 (six months), messages_days at least 1",
            ));
        }
        Ok(())
    }
}

/// `GET /metrics`, at the root (outside the CAS prefix).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Client addresses (CIDR ranges) that may read it; the rest get 404.
    #[serde(deserialize_with = "networks")]
    pub allow: Vec<ipnet::IpNet>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            allow: vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()],
        }
    }
}

/// 在线帮助: where the IT office's counter is, and what the page tells people.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HelpConfig {
    /// The service desk people go to (e.g. 信息中心服务台), its telephone, opening hours and
    /// place, in Chinese and English; each shown when set.
    pub desk: String,
    pub desk_en: String,
    pub phone: String,
    pub hours: String,
    pub hours_en: String,
    pub place: String,
    pub place_en: String,
    /// The page's items, one paragraph each, replacing the built-in ones (account numbers,
    /// the initial password and its X, the first login, a forgotten password with and
    /// without a bound phone, QR and WeCom login, browsers, locks). Empty: the built-in ones.
    pub items: Vec<String>,
    pub items_en: Vec<String>,
}

impl HelpConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let texts = [
            &self.desk,
            &self.desk_en,
            &self.phone,
            &self.hours,
            &self.hours_en,
        ];
        let all = texts
            .into_iter()
            .chain([&self.place, &self.place_en])
            .chain(self.items.iter().chain(&self.items_en));
        for text in all {
            if text.len() > 2000 || text.chars().any(|c| c.is_control() && c != '\n') {
                return Err(invalid(
                    "help",
                    "each text at most 2000 bytes, without control characters",
                ));
            }
        }
        Ok(())
    }
}

/// Forgot password (忘记密码).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecoveryConfig {
    /// Seconds a recovery may take from the first step to the new password.
    pub ttl: i64,
    /// Recoveries an account may start a day (each needs an image captcha).
    pub per_account_day: i64,
    /// Wrong answers to the security questions that end a recovery.
    pub max_answer_attempts: i64,
    /// Whom to ask when nothing is bound, in Chinese and English.
    pub contact: String,
    pub contact_en: String,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            ttl: 900,
            per_account_day: 10,
            max_answer_attempts: 5,
            contact: "如果没有绑定邮箱、手机或没有预设问题，请联系管理员，进行人工找回密码。".into(),
            contact_en: "If you have bound no e-mail or phone and set no security questions, ask the administrator to reset your password.".into(),
        }
    }
}

impl RecoveryConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(60..=3600).contains(&self.ttl)
            || self.per_account_day < 1
            || self.max_answer_attempts < 1
        {
            return Err(invalid(
                "recovery",
                "ttl must be 60-3600, per_account_day and max_answer_attempts positive",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundConfig {
    /// Seconds allowed for a proxy callback or logout request, connection included.
    pub timeout: u64,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig { timeout: 5 }
    }
}

impl OutboundConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        positive("outbound.timeout", self.timeout as i64)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogoutConfig {
    /// Tries per back-channel logout request before it is given up (and audited as failed).
    pub attempts: u32,
    /// Seconds before the first retry; each later retry waits twice as long.
    pub retry_delay: u64,
    /// Logout requests in flight at once, server-wide.
    pub concurrency: usize,
}

impl Default for LogoutConfig {
    fn default() -> Self {
        LogoutConfig {
            attempts: 3,
            retry_delay: 2,
            concurrency: 8,
        }
    }
}

impl LogoutConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        positive("logout.attempts", self.attempts.into())?;
        positive("logout.concurrency", self.concurrency as i64)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamlConfig {
    /// Seconds before now that a SAML 1.1 assertion's `NotBefore` lies (clients' clock skew).
    pub not_before_skew: i64,
    /// Seconds after now until its `NotOnOrAfter`.
    pub lifetime: i64,
    /// Release attributes in SAML answers for plain-http `TARGET`s too. The CAS SAML
    /// profile forbids it; intranet applications without TLS may need it.
    pub attributes_over_http: bool,
}

impl Default for SamlConfig {
    fn default() -> Self {
        SamlConfig {
            not_before_skew: 5,
            lifetime: 60,
            attributes_over_http: false,
        }
    }
}

impl SamlConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        positive("saml.lifetime", self.lifetime)?;
        if self.not_before_skew < 0 {
            return Err(invalid("saml.not_before_skew", "must not be negative"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketConfig {
    /// Seconds a service ticket stays valid (Apereo's default is 10).
    pub service_ticket_ttl: i64,
    /// Seconds a login form token stays valid.
    pub login_form_ttl: i64,
}

impl Default for TicketConfig {
    fn default() -> Self {
        TicketConfig {
            service_ticket_ttl: 10,
            login_form_ttl: 1800,
        }
    }
}

impl TicketConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        positive("tickets.service_ticket_ttl", self.service_ticket_ttl)?;
        positive("tickets.login_form_ttl", self.login_form_ttl)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// SSO session idle timeout, seconds.
    pub idle_timeout: i64,
    /// SSO session absolute lifetime, seconds.
    pub max_lifetime: i64,
    /// Offer "remember me" on the login form.
    pub remember_me: bool,
    /// Lifetime of a remembered session, seconds (idle and absolute).
    pub remember_me_lifetime: i64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout: 2 * 3600,
            max_lifetime: 8 * 3600,
            remember_me: true,
            remember_me_lifetime: 7 * 24 * 3600,
        }
    }
}

impl SessionConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        positive("sessions.idle_timeout", self.idle_timeout)?;
        positive("sessions.max_lifetime", self.max_lifetime)?;
        positive("sessions.remember_me_lifetime", self.remember_me_lifetime)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Failures of one account from one client address within `window` that lock the
    /// account for that address (others can still log in, after a captcha).
    pub account_failures: i64,
    /// Failures of one account from anywhere within `window` that lock it for everyone...
    pub account_failures_global: i64,
    /// ...when they came from at least this many addresses (an attack, audited).
    pub global_lock_addresses: i64,
    /// Failures per client address within `window` that block that address temporarily.
    pub address_failures: i64,
    /// Counting window, seconds.
    pub window: i64,
    /// How long a lock lasts, seconds.
    pub lock_duration: i64,
    /// Failures per account within `window` after which logins need an image captcha
    /// (0: never). Below `account_failures`, so people see a captcha before a lock.
    pub captcha_after: i64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            account_failures: 5,
            account_failures_global: 50,
            global_lock_addresses: 5,
            address_failures: 30,
            window: 900,
            lock_duration: 900,
            captcha_after: 3,
        }
    }
}

impl ThrottleConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        positive("throttle.account_failures", self.account_failures)?;
        positive(
            "throttle.account_failures_global",
            self.account_failures_global,
        )?;
        positive("throttle.global_lock_addresses", self.global_lock_addresses)?;
        positive("throttle.address_failures", self.address_failures)?;
        positive("throttle.window", self.window)?;
        positive("throttle.lock_duration", self.lock_duration)?;
        if self.captcha_after < 0 {
            return Err(invalid("throttle.captcha_after", "must not be negative"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordConfig {
    /// bcrypt cost factor (4..=31).
    pub bcrypt_cost: u32,
    /// Threads that run bcrypt; 0 means one per core.
    pub hash_threads: usize,
    /// The policy for new passwords: shortest length in characters...
    pub min_length: usize,
    /// ...how many of lower case, upper case, digits and symbols...
    pub min_classes: usize,
    /// ...how many earlier passwords may not come back...
    pub history: usize,
    /// ...after how many days a password must be changed at the next login (0: never;
    /// 等级保护 asks for periodic change, NIST advises against it)...
    pub max_age_days: i64,
    /// ...and words of this installation a password may not contain (the school's
    /// abbreviation, the system's name), besides the common passwords shipped inside.
    pub context_words: Vec<String>,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            bcrypt_cost: 10,
            hash_threads: 0,
            min_length: 8,
            min_classes: 3,
            history: 5,
            max_age_days: 0,
            context_words: Vec::new(),
        }
    }
}

impl PasswordConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(4..=31).contains(&self.bcrypt_cost) {
            return Err(invalid("passwords.bcrypt_cost", "must be between 4 and 31"));
        }
        if !(6..=64).contains(&self.min_length)
            || !(1..=4).contains(&self.min_classes)
            || self.history > 24
            || self.max_age_days < 0
        {
            return Err(invalid(
                "passwords",
                "min_length must be 6-64, min_classes 1-4, history at most 24, max_age_days not negative",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Seconds a client may take to send the request headers.
    pub header_timeout: u64,
    /// Seconds a client may take to send a request body.
    pub body_timeout: u64,
    /// Largest accepted form body, bytes.
    pub max_body: usize,
    /// Largest roster uploaded in the admin console, bytes.
    pub max_upload: usize,
    /// Simultaneous connections; further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Reverse proxies (nginx in front) whose `X-Forwarded-For` is believed: for requests
    /// from these addresses the client is the nearest untrusted address in that header.
    /// Without this, every client behind the proxy shares its address and one campus-wide
    /// throttle counter.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `Strict-Transport-Security` max-age, seconds, sent when the public URL is https.
    pub hsts_max_age: u64,
    /// Captcha images and QR-code login requests one client address may have drawn a
    /// minute (they need no login); more are answered 429. A campus NAT puts many people
    /// behind one address: each page shows one of either.
    pub anonymous_per_minute: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_timeout: 10,
            body_timeout: 10,
            max_body: 16 * 1024,
            max_upload: 16 * 1024 * 1024,
            max_connections: 4096,
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()],
            hsts_max_age: 31_536_000,
            anonymous_per_minute: 600,
        }
    }
}

impl HttpConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        positive("http.max_connections", self.max_connections as i64)?;
        if self.max_body < 1024 {
            return Err(invalid("http.max_body", "must be at least 1024"));
        }
        Ok(())
    }
}

impl Config {
    /// Every section's own checks, in the order of the file.
    pub(super) fn validate_sections(&self) -> Result<(), ConfigError> {
        self.tickets.validate()?;
        self.sessions.validate()?;
        self.throttle.validate()?;
        self.passwords.validate()?;
        self.http.validate()?;
        self.saml.validate()?;
        self.outbound.validate()?;
        self.logout.validate()?;
        self.first_login.validate()?;
        self.sms.validate()?;
        self.mail.validate()?;
        self.recovery.validate()?;
        self.help.validate()?;
        self.wecom.validate()?;
        self.wechat.validate()?;
        self.log.validate()?;
        self.retention.validate()?;
        self.tls.validate()
    }
}

/// A count or duration that must be above zero.
fn positive(key: &'static str, value: i64) -> Result<(), ConfigError> {
    match value > 0 {
        true => Ok(()),
        false => Err(invalid(key, "must be positive")),
    }
}
