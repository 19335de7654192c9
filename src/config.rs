//! Every setting unicas reads, with its default. A TOML file may set any subset; the command
//! line overrides the file; `validate` runs once at start so later code can trust the values.

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

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// `log` (messages go to the log, codes masked, and to `unicas sms outbox`), `webhook`,
    /// `aliyun` or `tencent`.
    pub provider: String,
    /// The approved SMS signature (签名), e.g. the school's name.
    pub sign_name: String,
    /// The message for `log` and `webhook`: {sign}, {code} and {minutes} are filled in.
    pub template: String,
    /// A security notice (password reset or changed, phone changed) for `log` and
    /// `webhook`: {sign} and {event} are filled in.
    pub notice_template: String,
    /// Seconds a code is valid (at most 600).
    pub code_ttl: i64,
    /// Seconds before another code may be sent for the same number and purpose.
    pub resend_after: i64,
    /// Wrong entries that void a code.
    pub max_attempts: i64,
    /// Codes per number per hour and per day; per account per day; per client address per
    /// hour and per day; and for the whole server per day (a breaker, with an audit alert).
    pub per_phone_hour: i64,
    pub per_phone_day: i64,
    pub per_account_day: i64,
    pub per_address_hour: i64,
    pub per_address_day: i64,
    pub per_day: i64,
    /// Seconds a gateway may take.
    pub timeout: u64,
    /// Show the code in the log provider's log line (development only).
    pub log_show_code: bool,
    pub webhook: WebhookConfig,
    pub aliyun: AliyunConfig,
    pub tencent: TencentConfig,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            provider: "log".into(),
            sign_name: "统一身份认证".into(),
            template: "【{sign}】您的验证码为{code}，{minutes}分钟内有效，请勿泄露。".into(),
            notice_template: "【{sign}】您的账号{event}。如非本人操作，请立即联系学校信息中心。"
                .into(),
            code_ttl: 300,
            resend_after: 60,
            max_attempts: 5,
            per_phone_hour: 5,
            per_phone_day: 10,
            per_account_day: 10,
            per_address_hour: 10,
            per_address_day: 30,
            per_day: 2000,
            timeout: 5,
            log_show_code: false,
            webhook: WebhookConfig::default(),
            aliyun: AliyunConfig::default(),
            tencent: TencentConfig::default(),
        }
    }
}

/// The school's own message platform: a JSON POST signed with HMAC-SHA256.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: String,
}

/// Aliyun SMS (Dysms SendSms).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AliyunConfig {
    pub access_key_id: String,
    pub access_key_secret: String,
    /// The approved template (SMS_…) with a `${code}` parameter.
    pub template_code: String,
    /// The approved notice template with an `${event}` parameter; empty: no notices by SMS.
    pub notice_template_code: String,
    pub region: String,
    pub endpoint: String,
}

impl Default for AliyunConfig {
    fn default() -> Self {
        AliyunConfig {
            access_key_id: String::new(),
            access_key_secret: String::new(),
            template_code: String::new(),
            notice_template_code: String::new(),
            region: "cn-hangzhou".into(),
            endpoint: "https://dysmsapi.aliyuncs.com/".into(),
        }
    }
}

/// Tencent Cloud SMS (API 3.0).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TencentConfig {
    pub secret_id: String,
    pub secret_key: String,
    pub sdk_app_id: String,
    /// The approved template with {1} (the code) and {2} (minutes).
    pub template_id: String,
    /// The approved notice template with {1} (what happened); empty: no notices by SMS.
    pub notice_template_id: String,
    pub region: String,
    pub endpoint: String,
}

impl Default for TencentConfig {
    fn default() -> Self {
        TencentConfig {
            secret_id: String::new(),
            secret_key: String::new(),
            sdk_app_id: String::new(),
            template_id: String::new(),
            notice_template_id: String::new(),
            region: "ap-guangzhou".into(),
            endpoint: "https://sms.tencentcloudapi.com/".into(),
        }
    }
}

/// E-mail: codes to bind an address and recover a password, and security notices.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `log` (messages go to the log, codes masked, and to `unicas mail outbox`) or `smtp`.
    pub provider: String,
    /// The sender, e.g. `统一身份认证 <noreply@example.edu>`.
    pub from: String,
    /// Seconds a code is valid (at most 1800: mail can be slow).
    pub code_ttl: i64,
    pub resend_after: i64,
    pub max_attempts: i64,
    /// Codes per recipient per hour and day, per account per day, per client address per
    /// hour and day, and for the whole server per day.
    pub per_recipient_hour: i64,
    pub per_recipient_day: i64,
    pub per_account_day: i64,
    pub per_address_hour: i64,
    pub per_address_day: i64,
    pub per_day: i64,
    /// Seconds an SMTP delivery may take, connection included.
    pub timeout: u64,
    /// Show codes in the log provider's log lines (development only).
    pub log_show_code: bool,
    pub smtp: SmtpConfig,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            provider: "log".into(),
            from: "统一身份认证 <noreply@example.edu>".into(),
            code_ttl: 600,
            resend_after: 60,
            max_attempts: 5,
            per_recipient_hour: 5,
            per_recipient_day: 10,
            per_account_day: 10,
            per_address_hour: 10,
            per_address_day: 30,
            per_day: 5000,
            timeout: 10,
            log_show_code: false,
            smtp: SmtpConfig::default(),
        }
    }
}

/// The school's mail server.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// `starttls` (port 587), `tls` (implicit TLS, port 465), or `none` (only to a server on
    /// this machine).
    pub security: String,
    /// Empty: no authentication.
    pub username: String,
    pub password: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: String::new(),
            port: 587,
            security: "starttls".into(),
            username: String::new(),
            password: String::new(),
        }
    }
}

/// WeCom (企业微信): the school's self-built application. Empty `corp_id`: off.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeComConfig {
    /// 我的企业 → 企业信息 → 企业ID.
    pub corp_id: String,
    /// 应用管理 → the application → AgentId and Secret.
    pub agent_id: String,
    pub secret: String,
    /// The server API, the computer's QR login page, and the in-app OAuth page (configurable
    /// so tests can use a local stand-in).
    pub api_base: String,
    pub login_base: String,
    pub oauth_base: String,
    /// The directory's userid is the student or payroll number (schools that sync WeCom
    /// from the roster): such a userid logs in as that account and is bound at first use.
    pub userid_is_account: bool,
    /// Secondary verification (二次验证) API: `tfa` (auth/get_tfa_info, user/tfa_succ) or
    /// `legacy` (user/getuserinfo, user/authsucc).
    pub tfa_api: String,
    /// Seconds an API call may take.
    pub timeout: u64,
}

impl Default for WeComConfig {
    fn default() -> Self {
        WeComConfig {
            corp_id: String::new(),
            agent_id: String::new(),
            secret: String::new(),
            api_base: "https://qyapi.weixin.qq.com".into(),
            login_base: "https://login.work.weixin.qq.com".into(),
            oauth_base: "https://open.weixin.qq.com".into(),
            userid_is_account: false,
            tfa_api: "tfa".into(),
            timeout: 5,
        }
    }
}

/// WeChat (微信): an official account's web OAuth (inside WeChat) and, optionally, an Open
/// Platform website application (a QR code on the computer). Empty `app_id`: off.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeChatConfig {
    /// 公众号 → 设置与开发 → 基本配置 → AppID and AppSecret.
    pub app_id: String,
    pub secret: String,
    /// 开放平台 → 网站应用 → AppID and AppSecret; empty: no WeChat QR login on computers.
    pub website_app_id: String,
    pub website_secret: String,
    pub api_base: String,
    pub oauth_base: String,
    pub timeout: u64,
}

impl Default for WeChatConfig {
    fn default() -> Self {
        WeChatConfig {
            app_id: String::new(),
            secret: String::new(),
            website_app_id: String::new(),
            website_secret: String::new(),
            api_base: "https://api.weixin.qq.com".into(),
            oauth_base: "https://open.weixin.qq.com".into(),
            timeout: 5,
        }
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

/// The server's log (stderr). `RUST_LOG`, when set, overrides `level`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `plain` (text lines) or `json` (one object per line).
    pub format: String,
    /// Levels as `tracing` directives: `info`, or `info,unicas::tickets=warn` to drop the
    /// line per validated ticket (the audit table keeps every security event regardless).
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "plain".into(),
            level: "info".into(),
        }
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

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketConfig {
    /// Seconds a service ticket stays valid (Apereo's default is 10).
    pub service_ticket_ttl: i64,
    /// Seconds a login form token stays valid.
    pub login_form_ttl: i64,
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

impl Default for TicketConfig {
    fn default() -> Self {
        TicketConfig {
            service_ticket_ttl: 10,
            login_form_ttl: 1800,
        }
    }
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
        include_str!("../examples/unicas.toml")
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
        let parsed: Config =
            toml::from_str(include_str!("../examples/deploy/authserver-migration.toml")).unwrap();
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
