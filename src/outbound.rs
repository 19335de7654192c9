//! The one outgoing HTTP client, for proxy callbacks and back-channel logout. Certificates
//! are verified against the system roots plus the configured CA file; redirects are not
//! followed (a callback's answer is the one at the URL the service registered).

use crate::config::Config;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why an outgoing client (HTTP or mail) cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("cannot read ca_file {}: {source}", path.display())]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("ca_file {}: {source}", path.display())]
    CaCertificate {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("ca_file {}: no certificates", path.display())]
    NoCertificates { path: PathBuf },
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("mail.from: {0}")]
    MailFrom(#[from] lettre::address::AddressError),
    #[error("mail.smtp TLS: {0}")]
    MailTls(#[from] lettre::transport::smtp::Error),
}

pub fn client(config: &Config) -> Result<reqwest::Client, OutboundError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(config.outbound.timeout))
        .user_agent(concat!("unicas/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &config.ca_file {
        for pem in ca_certificates(path)? {
            let cert = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| bad_certificate(path, e))?;
            builder = builder.add_root_certificate(cert);
        }
    }
    Ok(builder.build()?)
}

/// The client for SMS gateways: their own short timeout, the same trust.
pub fn sms_client(config: &Config) -> Result<reqwest::Client, OutboundError> {
    let mut config = config.clone();
    config.outbound.timeout = config.sms.timeout;
    client(&config)
}

/// The PEM blocks of the configured CA file, trusted besides the system's roots by every
/// outgoing client (HTTP and mail).
pub fn ca_certificates(path: &Path) -> Result<Vec<String>, OutboundError> {
    let pem = std::fs::read_to_string(path).map_err(|source| OutboundError::CaFile {
        path: path.to_path_buf(),
        source,
    })?;
    const END: &str = "-----END CERTIFICATE-----";
    let blocks: Vec<String> = pem
        .split_inclusive(END)
        .filter(|b| b.contains(END))
        .map(|b| b.trim().to_string())
        .collect();
    match blocks.is_empty() {
        true => Err(OutboundError::NoCertificates {
            path: path.to_path_buf(),
        }),
        false => Ok(blocks),
    }
}

/// A block of the CA file that is no certificate.
pub fn bad_certificate(
    path: &Path,
    e: impl std::error::Error + Send + Sync + 'static,
) -> OutboundError {
    OutboundError::CaCertificate {
        path: path.to_path_buf(),
        source: Box::new(e),
    }
}
