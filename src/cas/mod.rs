//! The CAS protocol: SSO sessions, service tickets, validation and its renderings. Nothing
//! here knows about hyper; `http/` parses requests into these calls and renders the results.

mod hot;
mod logout;
mod proxy;
mod render;
pub mod saml;
mod sessions;
mod validate;

pub use render::{render_cas1, render_json, render_proxy, render_xml};
pub use sessions::{LiveSession, NewSession};
pub use validate::{ErrorCode, ValidateRequest, Validation, ValidationError};

use crate::clock::Clock;
use crate::config::Config;
use crate::services::Registry;
use crate::store::Store;
use crate::tickets::{self, ExpiringMap, Kind};
use std::sync::Arc;

/// A service ticket between its issue and its one validation.
#[derive(Clone, Debug)]
pub struct ServiceTicket {
    /// Exactly as the client sent it (decoded once); compared byte for byte at validation.
    pub service: String,
    pub account_id: String,
    pub session_hash: String,
    /// Issued from a password login just now, not from an existing SSO session.
    pub from_new_login: bool,
    /// For a proxy ticket, the proxy chain, newest first; empty for a service ticket.
    pub proxies: Vec<String>,
}

/// The protocol engine shared by every handler.
#[derive(Clone)]
pub struct Cas {
    pub config: Arc<Config>,
    pub store: Store,
    pub registry: Registry,
    pub clock: Clock,
    /// Outgoing HTTP: proxy callbacks and back-channel logout.
    pub http: reqwest::Client,
    /// Service and proxy tickets between issue and their one validation.
    service_tickets: Arc<ExpiringMap<ServiceTicket>>,
    logout: Arc<logout::SingleLogout>,
    hot: Arc<hot::HotCache>,
}

impl Cas {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        registry: Registry,
        clock: Clock,
        http: reqwest::Client,
    ) -> Cas {
        Cas {
            store,
            registry,
            clock,
            http,
            service_tickets: Arc::default(),
            logout: Arc::new(logout::SingleLogout::new(config.logout.concurrency)),
            hot: Arc::default(),
            config,
        }
    }

    /// Mints a service ticket for `service` (already matched against the registry).
    pub fn issue_service_ticket(
        &self,
        service: &str,
        session: &LiveSession,
        from_new_login: bool,
    ) -> String {
        let id = tickets::new_id(Kind::ServiceTicket);
        let st = ServiceTicket {
            service: service.to_string(),
            account_id: session.account_id.clone(),
            session_hash: session.id_hash.clone(),
            from_new_login,
            proxies: Vec::new(),
        };
        let expires = self.clock.now() + self.config.tickets.service_ticket_ttl;
        self.service_tickets.insert(id.clone(), st, expires);
        id
    }

    /// Drops expired tickets and sessions, then announces ended sessions; run periodically.
    pub async fn sweep(&self) {
        let now = self.clock.now();
        let tickets = self.sweep_memory();
        let window = self.config.throttle.window;
        let swept = self
            .store
            .call(move |s| Ok((s.sweep_sessions(now)?, s.sweep_throttle(now, window)?)))
            .await;
        match swept {
            Ok((sessions, counters)) => {
                tracing::debug!(tickets, sessions, counters, "sweep");
            }
            Err(e) => tracing::error!("sweep failed: {e}"),
        }
        // Sessions the sweep (or another process) ended get their single logout.
        self.announce_ended(None).await;
    }

    /// Drops expired tickets and remembered rows from memory (cheap; run every few seconds,
    /// so a flood of tickets minted and never validated does not pile up); returns how many
    /// tickets went.
    pub fn sweep_memory(&self) -> usize {
        let now = self.clock.now();
        self.sweep_hot(now);
        self.service_tickets.sweep(now)
    }

    /// Appends `ticket=` to a service URL, before any fragment, keeping the rest as sent.
    pub fn service_with_ticket(service: &str, ticket: &str) -> String {
        let (base, fragment) = match service.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (service, None),
        };
        let sep = if base.contains('?') { '&' } else { '?' };
        let mut url = format!("{base}{sep}ticket={ticket}");
        if let Some(f) = fragment {
            url.push('#');
            url.push_str(f);
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::Cas;

    #[test]
    fn ticket_goes_before_the_fragment() {
        assert_eq!(
            Cas::service_with_ticket("https://a/x", "ST-1"),
            "https://a/x?ticket=ST-1"
        );
        assert_eq!(
            Cas::service_with_ticket("https://a/x?y=1#top", "ST-1"),
            "https://a/x?y=1&ticket=ST-1#top"
        );
    }
}
