//! Single logout (protocol §2.3.3, Appendix C). Each successful validation records the
//! service as a participant of its SSO session. When a session ends, by whatever path, its
//! participants are taken from the store and told: back-channel services get a SAML
//! `LogoutRequest` POSTed in the background (bounded concurrency, retries with backoff, the
//! outcome audited); front-channel ones are loaded by the user's browser on the logged-out
//! page. Nothing here delays the user's logout page.

use super::Cas;
use crate::clock::iso8601;
use crate::model::{AuditEvent, AuditRecord, LogoutType, Service};
use crate::store::LogoutParticipant;
use crate::tickets;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Distinct participants recorded since the last flush; beyond this many (the store failing
/// for a long time) new ones are dropped rather than growing without bound.
const MAX_PENDING: usize = 100_000;

/// (session hash, service URL up to `?`, `;` or `#`): one participant per application.
type Key = (String, String);

pub struct SingleLogout {
    /// Validations record here, keyed like the table (the most recent ticket per session and
    /// application wins); the store is written in batches, so validation does not pay a
    /// durable write each. A crash loses at most the last few seconds of participants; a
    /// store that cannot be written loses none (the batch stays here until it is written).
    pending: Mutex<HashMap<Key, LogoutParticipant>>,
    in_flight: Arc<Semaphore>,
    /// Deliveries started and not yet finished (retries included).
    deliveries: std::sync::atomic::AtomicUsize,
    /// One announcement at a time: two running at once could each take part of the ended
    /// sessions' participants, and the background's could take a browser's front-channel
    /// applications before its own logout page asks for them.
    announcing: tokio::sync::Mutex<()>,
}

impl SingleLogout {
    pub fn new(concurrency: usize) -> SingleLogout {
        SingleLogout {
            pending: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Semaphore::new(concurrency)),
            deliveries: std::sync::atomic::AtomicUsize::new(0),
            announcing: tokio::sync::Mutex::new(()),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<Key, LogoutParticipant>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The SAML 2 `LogoutRequest` clients expect: the literal `samlp:` prefix and the
/// `SessionIndex` on one line as a direct child (phpCAS regex-matches it, mod_auth_cas walks
/// direct children).
pub fn logout_request(user: &str, ticket: &str, now: i64) -> String {
    format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"LR-{}\" \
         Version=\"2.0\" IssueInstant=\"{}\"><saml:NameID \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">{}</saml:NameID>\
         <samlp:SessionIndex>{}</samlp:SessionIndex></samlp:LogoutRequest>",
        tickets::random_base62(29),
        iso8601(now),
        super::render::escape_xml(user),
        super::render::escape_xml(ticket)
    )
}

impl Cas {
    /// Notes that `service` validated `ticket` of a session, unless it opted out.
    pub(super) fn record_participant(&self, service: &Service, participant: LogoutParticipant) {
        if service.logout_type() == LogoutType::None {
            return;
        }
        let mut pending = self.logout.pending();
        let key = (
            participant.session_hash.clone(),
            participant.service_key().to_string(),
        );
        if pending.len() < MAX_PENDING || pending.contains_key(&key) {
            pending.insert(key, participant);
        }
    }

    /// Writes recorded participants, takes those whose session has ended, and starts their
    /// back-channel requests. Returns the front-channel logout URLs belonging to `session`
    /// (the one the user is logging out of now) for the logged-out page to load.
    pub async fn announce_ended(&self, session: Option<&str>) -> Vec<String> {
        let _turn = self.logout.announcing.lock().await;
        self.announce(session).await
    }

    /// Runs `end` (a logout ending this browser's session; its id hash if there was one) and
    /// announces that session with no other announcement in between: the background's,
    /// woken by this very end, must not take the session's front-channel applications.
    pub async fn end_and_announce(
        &self,
        end: impl std::future::Future<Output = Option<String>>,
    ) -> Vec<String> {
        let _turn = self.logout.announcing.lock().await;
        match end.await {
            Some(hash) => self.announce(Some(&hash)).await,
            None => Vec::new(),
        }
    }

    async fn announce(&self, session: Option<&str>) -> Vec<String> {
        let batch: Vec<LogoutParticipant> = std::mem::take(&mut *self.logout.pending())
            .into_values()
            .collect();
        if !batch.is_empty() {
            let written = batch.clone();
            if let Err(e) = self
                .store
                .call(move |s| s.insert_logout_participants(&written))
                .await
            {
                tracing::error!("single logout: recording participants failed, will retry: {e}");
                // Back into memory, unless a newer ticket of the same application came in.
                let mut pending = self.logout.pending();
                for p in batch {
                    let key = (p.session_hash.clone(), p.service_key().to_string());
                    pending.entry(key).or_insert(p);
                }
                return Vec::new();
            }
        }
        let ended = match self.store.call(|s| s.take_ended_participants()).await {
            Ok(ended) => ended,
            Err(e) => {
                tracing::error!("single logout: {e}");
                return Vec::new();
            }
        };
        let mut front = Vec::new();
        for p in ended {
            let Some(service) = self.registry.by_id(p.service_id) else {
                continue;
            };
            match service.logout_type() {
                LogoutType::None => {}
                // Only the browser logging out now can load it; other sessions' front-channel
                // applications cannot be reached.
                LogoutType::Front if session == Some(p.session_hash.as_str()) => {
                    front.extend(service.logout_url().map(str::to_string));
                }
                LogoutType::Front => {}
                LogoutType::Back => {
                    let cas = self.clone();
                    cas.logout.deliveries.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(async move {
                        cas.send_logout(&service, p).await;
                        cas.logout.deliveries.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            }
        }
        front
    }

    /// Back-channel deliveries still under way (graceful shutdown and tests wait for none).
    pub fn logout_deliveries(&self) -> usize {
        self.logout.deliveries.load(Ordering::SeqCst)
    }

    /// POSTs one `LogoutRequest`, retrying with doubling delays, and audits the outcome.
    async fn send_logout(&self, service: &Service, p: LogoutParticipant) {
        let url = service
            .logout_url()
            .map_or_else(|| p.service.clone(), str::to_string);
        let xml = logout_request(&p.account_id, &p.ticket, self.clock.now());
        // mod_auth_cas requires the body to start with `logoutRequest=`.
        let body = format!(
            "logoutRequest={}",
            url::form_urlencoded::byte_serialize(xml.as_bytes()).collect::<String>()
        );
        let config = &self.config.logout;
        let mut outcome = String::new();
        let mut delivered = false;
        let mut attempts = 0;
        for attempt in 1..=config.attempts {
            attempts = attempt;
            let answer = {
                let _permit = self.logout.in_flight.acquire().await;
                self.http
                    .post(&url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body.clone())
                    .send()
                    .await
            };
            match answer {
                Ok(res) => {
                    let status = res.status();
                    outcome = format!("HTTP {}", status.as_u16());
                    // A redirect still means the application received the request.
                    if status.is_success() || status.is_redirection() {
                        delivered = true;
                        break;
                    }
                }
                Err(e) => outcome = error_kind(&e).to_string(),
            }
            if attempt < config.attempts {
                let delay = config
                    .retry_delay
                    .saturating_mul(1 << (attempt - 1).min(16));
                tokio::time::sleep(Duration::from_secs(delay)).await;
            }
        }
        let (service_id, ticket) = (service.id, tickets::log_label(&p.ticket));
        tracing::info!(service = service_id, url = ?url, result = %outcome, attempts, delivered, "single logout");
        self.metrics
            .logout_delivery(if delivered { "delivered" } else { "failed" });
        let event = match delivered {
            true => AuditEvent::LogoutDelivered {
                service_id,
                url,
                ticket,
                result: outcome,
                attempts,
            },
            false => AuditEvent::LogoutFailed {
                service_id,
                url,
                ticket,
                result: outcome,
                attempts,
            },
        };
        let now = self.clock.now();
        let account = p.account_id.clone();
        let audited = self
            .store
            .call(move |s| s.audit(&AuditRecord::system(event, Some(&account)), now))
            .await;
        if let Err(e) = audited {
            tracing::error!("audit single logout: {e}");
        }
    }
}

/// What went wrong with an outgoing request, in a word: never the error's own text, which
/// carries the URL (and with it, for proxy callbacks, the PGT).
pub(super) fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_index_is_on_one_line_with_the_samlp_prefix() {
        let xml = super::logout_request("2023<1>", "ST-abc", 0);
        assert!(xml.contains("<samlp:SessionIndex>ST-abc</samlp:SessionIndex>"));
        assert!(!xml.contains('\n'));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "LogoutRequest");
        let index = root
            .children()
            .find(|n| n.tag_name().name() == "SessionIndex")
            .unwrap();
        assert_eq!(index.text(), Some("ST-abc"));
        assert!(xml.contains(">2023&lt;1&gt;</saml:NameID>"));
    }
}
