//! The CAS protocol: service tickets, validation and its renderings, proxy tickets, SAML 1.1
//! and single logout. Nothing here knows about hyper; `routes/` turns requests into these
//! calls and the results into responses. Sessions come from `sessions/`, applications from
//! the registry (`services/`).

mod logout;
mod proxy;
mod render;
pub mod saml;
mod tickets;
mod validate;

pub use logout::logout_request;
pub use render::{escape_xml, render_cas1, render_json, render_proxy, render_xml};
pub use validate::{ErrorCode, ValidateRequest, Validation, ValidationError};

use crate::clock::Clock;
use crate::config::Config;
use crate::model::{AuditEvent, Client, Mfa, Service};
use crate::services::Registry;
use crate::sessions::{LiveSession, Sessions};
use crate::store::Store;
use crate::tickets::{new_id, Kind};
use std::sync::Arc;
use tickets::{Outstanding, Target};

/// What a session may have of an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clearance {
    Granted,
    /// Its access rules refuse the account (or the session ended).
    Denied,
    /// A second factor first.
    SecondFactor,
}

/// Why no service ticket was issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The application requires a second factor the session has not proved.
    #[error("the application requires a second factor")]
    SecondFactorMissing,
}

/// The protocol engine shared by every handler.
#[derive(Clone)]
pub struct Cas {
    config: Arc<Config>,
    store: Store,
    registry: Registry,
    sessions: Sessions,
    clock: Clock,
    /// Outgoing HTTP: proxy callbacks and back-channel logout.
    http: reqwest::Client,
    tickets: Arc<Outstanding>,
    logout: Arc<logout::SingleLogout>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Cas {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        registry: Registry,
        sessions: Sessions,
        clock: Clock,
        http: reqwest::Client,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Cas {
        Cas {
            metrics,
            logout: Arc::new(logout::SingleLogout::new(config.logout.concurrency)),
            tickets: Arc::new(Outstanding::new(&store)),
            store,
            registry,
            sessions,
            clock,
            http,
            config,
        }
    }

    /// The enabled registry entry `service` belongs to, if any: nothing is ever issued to,
    /// or redirected to, a service without one.
    pub fn registered(&self, service: &str) -> Option<Service> {
        self.registry.find(service)
    }

    /// What `session` may have of `service`: its access rules first, then a second factor
    /// the application requires (or the account always asks for) and the session has not
    /// proved. One read of the session and its account (the two-second memory).
    pub async fn clearance(
        &self,
        service: &Service,
        session: &LiveSession,
    ) -> Result<Clearance, crate::store::StoreError> {
        let found = self
            .sessions
            .with_account(&session.id_hash, &session.account_id)
            .await?;
        let Some((_, account)) = found else {
            return Ok(Clearance::Denied);
        };
        if !service.admits(&account.attributes()) {
            return Ok(Clearance::Denied);
        }
        Ok(
            match self.asks_second_factor(Some(service), &account, session) {
                true => Clearance::SecondFactor,
                false => Clearance::Granted,
            },
        )
    }

    /// Whether `session` must prove a second factor before a ticket for `service` (`None`:
    /// on to the portal): the application requires one, or the account asks for one at every
    /// login, and the session has not proved one (a login by scanning counts when the school
    /// says so).
    pub async fn needs_second_factor(
        &self,
        service: Option<&Service>,
        session: &LiveSession,
    ) -> Result<bool, crate::store::StoreError> {
        // Proved already: nothing to read.
        if self.is_multi_factor(session) {
            return Ok(false);
        }
        let found = self
            .sessions
            .with_account(&session.id_hash, &session.account_id)
            .await?;
        Ok(found.is_some_and(|(_, account)| self.asks_second_factor(service, &account, session)))
    }

    /// The one rule: the application requires a second factor, or the account always asks,
    /// and the session has not proved one.
    fn asks_second_factor(
        &self,
        service: Option<&Service>,
        account: &crate::model::Account,
        session: &LiveSession,
    ) -> bool {
        let asks = service.is_some_and(|s| s.settings.mfa == Mfa::Required) || account.mfa_always;
        asks && !self.is_multi_factor(session)
    }

    /// Whether the session proved a second factor (or a scan that counts as one).
    pub fn is_multi_factor(&self, session: &LiveSession) -> bool {
        let scan = self.config.mfa.scan_is_second_factor;
        session.proof.is_multi_factor(scan)
    }

    /// Whether a ticket for `service` may be issued to `session` as far as second factors
    /// go: the one rule every path that issues tickets passes (`issue_service_ticket`, proxy
    /// tickets).
    fn second_factor_allows(&self, service: &Service, session: &LiveSession) -> bool {
        service.settings.mfa == Mfa::None || self.is_multi_factor(session)
    }

    /// The applications the portal lists for `account`: enabled, with a portal URL, and
    /// admitting the account (an application it may not use is not shown), in id order.
    pub fn portal_services(&self, account: &crate::model::Account) -> Vec<Service> {
        let attributes = account.attributes();
        self.registry
            .all()
            .iter()
            .filter(|s| s.enabled && s.portal_url().is_some() && s.admits(&attributes))
            .cloned()
            .collect()
    }

    /// Writes `access_denied` for `account_id` and `service` (a failed write is logged: the
    /// refusal stands either way).
    pub async fn record_denial(
        &self,
        service: &Service,
        account_id: &str,
        client: Option<&Client>,
    ) {
        tracing::info!(service = service.id, account = %account_id, "access denied by the service's rules");
        let event = AuditEvent::AccessDenied {
            service_id: service.id,
            service: service.name().to_string(),
        };
        let (account, client, now) = (
            account_id.to_string(),
            client.cloned().unwrap_or_default(),
            self.clock.now(),
        );
        let written = self
            .store
            .call(move |s| s.audit(&client.record(event, Some(&account)), now))
            .await;
        if let Err(e) = written {
            tracing::error!("audit of a denied access: {e}");
        }
    }

    /// Mints a service ticket for `service`, whose registry entry is `registered`. Never for
    /// an application that requires a second factor the session has not proved, whatever
    /// path led here.
    pub async fn issue_service_ticket(
        &self,
        service: &str,
        registered: &Service,
        session: &Arc<LiveSession>,
        from_new_login: bool,
    ) -> Result<String, IssueError> {
        if !self.second_factor_allows(registered, session) {
            return Err(IssueError::SecondFactorMissing);
        }
        let id = new_id(Kind::ServiceTicket);
        let target = Target {
            service: service.to_string(),
            proxies: Vec::new(),
        };
        let now = self.tickets.now(&self.clock);
        let expires = now + self.config.tickets.service_ticket_ttl;
        self.tickets
            .insert(
                &id,
                Arc::clone(session),
                target,
                from_new_login,
                (now, expires),
            )
            .await?;
        self.metrics.ticket_issued(false);
        Ok(id)
    }

    /// Every registered service (the registry's snapshot).
    pub fn services(&self) -> Arc<Vec<Service>> {
        self.registry.all()
    }

    /// The registry, for the console's changes to it.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// Drops expired tickets (cheap; run every few seconds, so a flood of tickets minted and
    /// never validated does not pile up); returns how many went.
    pub async fn sweep_tickets(&self) -> usize {
        self.tickets.sweep(&self.clock).await
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
