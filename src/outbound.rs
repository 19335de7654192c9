//! The one outgoing HTTP client, for proxy callbacks and back-channel logout. Certificates
//! are verified against the system roots plus the configured CA file; redirects are not
//! followed (a callback's answer is the one at the URL the service registered).

use crate::config::Config;
use std::time::Duration;

pub fn client(config: &Config) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(config.outbound.timeout))
        .user_agent(concat!("unicas/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &config.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("ca_file {}: no certificates", path.display()));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| format!("HTTP client: {e}"))
}

/// The client for SMS gateways: their own short timeout, the same trust.
pub fn sms_client(config: &Config) -> Result<reqwest::Client, String> {
    let mut config = config.clone();
    config.outbound.timeout = config.sms.timeout;
    client(&config)
}
