//! Settings of the text messages and e-mail: the SMS gateway (log, webhook, Aliyun, Tencent)
//! and the mail transport (log, SMTP), with their defaults.

use super::*;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// `log` (messages go to the log, codes masked, and to `unicas sms outbox`), `webhook`,
    /// `aliyun` or `tencent`.
    pub provider: SmsProvider,
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
            provider: SmsProvider::Log,
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

/// Where text messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    Log,
    Webhook,
    Aliyun,
    Tencent,
}

impl SmsProvider {
    /// The name in the configuration, the message log and the metrics.
    pub fn name(self) -> &'static str {
        match self {
            SmsProvider::Log => "log",
            SmsProvider::Webhook => "webhook",
            SmsProvider::Aliyun => "aliyun",
            SmsProvider::Tencent => "tencent",
        }
    }
}

impl SmsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let missing = match self.provider {
            SmsProvider::Log => false,
            SmsProvider::Webhook => self.webhook.url.is_empty() || self.webhook.secret.is_empty(),
            SmsProvider::Aliyun => [
                &self.aliyun.access_key_id,
                &self.aliyun.access_key_secret,
                &self.aliyun.template_code,
            ]
            .iter()
            .any(|v| v.is_empty()),
            SmsProvider::Tencent => [
                &self.tencent.secret_id,
                &self.tencent.secret_key,
                &self.tencent.sdk_app_id,
                &self.tencent.template_id,
            ]
            .iter()
            .any(|v| v.is_empty()),
        };
        if missing {
            let section = format!("sms.{}", self.provider.name());
            return Err(invalid(section, "every key of the section must be set"));
        }
        let (ttl, resend, attempts) = (self.code_ttl, self.resend_after, self.max_attempts);
        code_channel("sms", 600, ttl, resend, attempts, self.timeout)
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
    pub provider: MailProvider,
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
            provider: MailProvider::Log,
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

/// Where e-mail goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailProvider {
    Log,
    Smtp,
}

impl MailProvider {
    /// The name in the configuration, the message log and the metrics.
    pub fn name(self) -> &'static str {
        match self {
            MailProvider::Log => "log",
            MailProvider::Smtp => "smtp",
        }
    }
}

impl MailConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.provider == MailProvider::Smtp {
            self.smtp.validate()?;
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            let problem = format!("{:?} is not an address", self.from);
            return Err(invalid("mail.from", problem));
        }
        let (ttl, resend, attempts) = (self.code_ttl, self.resend_after, self.max_attempts);
        code_channel("mail", 1800, ttl, resend, attempts, self.timeout)
    }
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SmtpSecurity {
    /// Plain connection upgraded by STARTTLS, which is required (port 587).
    #[serde(rename = "starttls")]
    StartTls,
    /// TLS from the first byte (port 465).
    #[serde(rename = "tls")]
    Tls,
    /// No encryption: only to a server on this machine.
    #[serde(rename = "none")]
    Plain,
}

impl SmtpConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.host.is_empty() || self.port == 0 {
            return Err(invalid("mail.smtp", "host and port must be set"));
        }
        let local = ["localhost", "127.0.0.1", "::1"].contains(&self.host.as_str());
        if self.security == SmtpSecurity::Plain && !local {
            return Err(invalid(
                "mail.smtp.security",
                "\"none\" is only for a server on this machine (localhost)",
            ));
        }
        Ok(())
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
    pub security: SmtpSecurity,
    /// Empty: no authentication.
    pub username: String,
    pub password: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::StartTls,
            username: String::new(),
            password: String::new(),
        }
    }
}

/// The checks both code channels share: a code lives 60 s to `max_ttl`, and the resend wait,
/// the attempts and the gateway's timeout are positive.
fn code_channel(
    section: &'static str,
    max_ttl: i64,
    ttl: i64,
    resend_after: i64,
    max_attempts: i64,
    timeout: u64,
) -> Result<(), ConfigError> {
    if !(60..=max_ttl).contains(&ttl) || resend_after < 1 || max_attempts < 1 || timeout == 0 {
        let problem = format!(
            "code_ttl must be 60-{max_ttl}, resend_after, max_attempts and timeout positive"
        );
        return Err(invalid(section, problem));
    }
    Ok(())
}
