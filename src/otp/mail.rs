//! E-mail delivery: `log` (the default: the message goes to the log with the code masked,
//! and, sealed, to `unicas mail outbox`) or `smtp` through the school's mail server (lettre:
//! STARTTLS or implicit TLS with the certificate verified against the system roots and
//! `ca_file`, authentication, a timeout). Plain SMTP is allowed only to this machine.

use super::{Content, SendError};
use crate::config::{MailConfig, MailProvider, SmtpSecurity};
use crate::model::Email;
use crate::outbound::{bad_certificate, ca_certificates, OutboundError};
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// One e-mail: what it carries, its subject and body.
pub struct Mail<'a> {
    pub to: &'a Email,
    pub content: Content<'a>,
    pub purpose: &'a str,
    pub subject: String,
    pub body: String,
}

#[derive(Clone)]
pub struct Mailer {
    config: MailConfig,
    from: Mailbox,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl Mailer {
    /// The configured mailer; `ca_file` adds CAs trusted for the mail server's certificate.
    pub fn new(
        config: &MailConfig,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Mailer, OutboundError> {
        let from = config.from.parse::<Mailbox>()?;
        let smtp = match config.provider {
            MailProvider::Smtp => Some(transport(config, ca_file)?),
            MailProvider::Log => None,
        };
        Ok(Mailer {
            config: config.clone(),
            from,
            smtp,
        })
    }

    pub fn provider(&self) -> &'static str {
        self.config.provider.name()
    }

    /// Sends `m`; `Ok` once the mail server accepted it for delivery.
    pub async fn send(&self, m: &Mail<'_>) -> Result<(), SendError> {
        let Some(smtp) = &self.smtp else {
            let body = match (m.content, self.config.log_show_code) {
                (Content::Code { code, .. }, false) => m.body.replace(code, "******"),
                _ => m.body.clone(),
            };
            tracing::info!(to = %m.to.masked(), purpose = m.purpose, subject = %m.subject, body = %body, "e-mail (log provider)");
            return Ok(());
        };
        let to =
            m.to.as_str()
                .parse::<Mailbox>()
                .map_err(|_| SendError::Misconfigured("recipient address".into()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|_| SendError::Misconfigured("message".into()))?;
        let timeout = Duration::from_secs(self.config.timeout);
        match tokio::time::timeout(timeout, smtp.send(message)).await {
            Err(_) => Err(SendError::Unavailable("timeout".into())),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(describe(&e)),
        }
    }
}

/// An SMTP failure in a word and its reply code: never the server's text, which may echo
/// the message.
fn describe(e: &lettre::transport::smtp::Error) -> SendError {
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    if e.is_permanent() {
        SendError::Misconfigured(format!("SMTP {code}"))
    } else if e.is_transient() {
        SendError::RateLimited(format!("SMTP {code}"))
    } else if e.is_timeout() {
        SendError::Unavailable("timeout".into())
    } else if e.is_tls() {
        SendError::Unavailable("TLS".into())
    } else {
        SendError::Unavailable("connection failed".into())
    }
}

fn transport(
    config: &MailConfig,
    ca_file: Option<&std::path::Path>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, OutboundError> {
    let s = &config.smtp;
    let mut tls = TlsParameters::builder(s.host.clone());
    if let Some(path) = ca_file {
        for pem in ca_certificates(path)? {
            let cert =
                Certificate::from_pem(pem.as_bytes()).map_err(|e| bad_certificate(path, e))?;
            tls = tls.add_root_certificate(cert);
        }
    }
    let tls = tls.build()?;
    let tls = match s.security {
        SmtpSecurity::Tls => Tls::Wrapper(tls),
        SmtpSecurity::Plain => Tls::None,
        SmtpSecurity::StartTls => Tls::Required(tls),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
        .port(s.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(config.timeout)));
    if !s.username.is_empty() {
        builder = builder.credentials(Credentials::new(s.username.clone(), s.password.clone()));
    }
    Ok(builder.build())
}
