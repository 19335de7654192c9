//! Proxy authentication (protocol §2.5.4, §2.7): a validated service hands us its `pgtUrl`;
//! we deliver a proxy-granting ticket there over verified HTTPS, and the PGT later buys proxy
//! tickets for other services. Chains grow newest first.

use super::tickets::{Issued, Target};
use super::{Cas, ErrorCode, ValidationError};
use crate::model::Service;
use crate::sessions::LiveSession;
use crate::store::ProxyGrantingTicket;
use crate::tickets::{self, Kind};
use std::sync::Arc;

impl Cas {
    /// Sends a fresh PGT to `pgt_url` and returns its IOU. A callback the service may not use
    /// (not https, not its own origin or registered callback pattern) is refused with
    /// `INVALID_PROXY_CALLBACK` before any connection is made. A delivery that fails, for
    /// whatever reason (TLS, connection, timeout, an answer other than 200), gives a
    /// successful validation without a PGT, the same for every cause, so the answer is no
    /// port scanner. The PGT is stored before the call, so the service may use it as soon as
    /// it has it, and removed again if the callback did not take it.
    pub(super) async fn grant_pgt(
        &self,
        registered: &Service,
        service: &str,
        pgt_url: &str,
        ticket: &Issued,
    ) -> Result<Option<String>, ValidationError> {
        use ErrorCode::*;
        if !registered.allow_proxy() {
            return Err(ValidationError::new(
                UnauthorizedServiceProxy,
                "The service is not allowed to use proxy authentication",
            ));
        }
        let url = match url::Url::parse(pgt_url) {
            Ok(u) if u.scheme() == "https" && registered.allows_callback(pgt_url, service) => u,
            _ => {
                return Err(ValidationError::new(
                    InvalidProxyCallback,
                    "The proxy callback must be an https URL registered for the service",
                ))
            }
        };
        let pgt = tickets::new_id(Kind::ProxyGrantingTicket);
        let iou = tickets::new_id(Kind::ProxyGrantingTicketIou);
        let hash = tickets::hash_id(&pgt);
        let mut proxies = vec![pgt_url.to_string()];
        proxies.extend(ticket.target.proxies.iter().cloned());
        let row = ProxyGrantingTicket {
            session_hash: ticket.session.id_hash.clone(),
            account_id: ticket.session.account_id.clone(),
            service: service.to_string(),
            proxies,
            proof: ticket.session.proof,
        };
        let now = self.clock.now();
        let h = hash.clone();
        if let Err(e) = self.store.call(move |s| s.insert_pgt(&h, &row, now)).await {
            tracing::error!("store PGT: {e}");
            return Err(ValidationError::new(InternalError, "Internal error"));
        }

        let mut callback = url;
        callback
            .query_pairs_mut()
            .append_pair("pgtId", &pgt)
            .append_pair("pgtIou", &iou);
        let outcome = match self.http.get(callback).send().await {
            Ok(res) if res.status() == reqwest::StatusCode::OK => {
                tracing::info!(callback = ?pgt_url, pgt = %tickets::log_label(&pgt), "PGT delivered");
                return Ok(Some(iou));
            }
            Ok(res) => format!("HTTP {}", res.status().as_u16()),
            // Never the error's text: it carries the URL with the PGT in its query.
            Err(e) => super::logout::error_kind(&e).to_string(),
        };
        tracing::info!(callback = ?pgt_url, result = %outcome, "proxy callback did not take the PGT");
        let h = hash.clone();
        if let Err(e) = self.store.call(move |s| s.delete_pgt(&h)).await {
            tracing::error!("remove undelivered PGT: {e}");
        }
        Ok(None)
    }

    /// `/proxy`: a proxy ticket for `target` bought with a PGT whose session is still live.
    pub async fn proxy_ticket(
        &self,
        pgt: Option<&str>,
        target: Option<&str>,
    ) -> Result<String, ValidationError> {
        use ErrorCode::*;
        let (pgt, target) = match (pgt, target) {
            (Some(p), Some(t)) if !p.is_empty() && !t.is_empty() => (p, t),
            _ => {
                return Err(ValidationError::new(
                    InvalidRequest,
                    "'pgt' and 'targetService' parameters are both required",
                ))
            }
        };
        let bad = || {
            ValidationError::new(
                BadPgt,
                format!("Ticket '{}' not recognized", super::validate::shorten(pgt)),
            )
        };
        if !tickets::well_formed(pgt, Kind::ProxyGrantingTicket) {
            return Err(bad());
        }
        let hash = tickets::hash_id(pgt);
        let now = self.clock.now();
        let found = self
            .store
            .call(move |s| {
                let Some(pgt) = s.pgt(&hash)? else {
                    return Ok(None);
                };
                let session = s
                    .session(&pgt.session_hash)?
                    .filter(|sess| sess.is_live(now));
                let account = s.account(&pgt.account_id)?;
                Ok(session
                    .zip(account)
                    .map(|(session, account)| (pgt, session, account)))
            })
            .await;
        let (pgt, session, account) = match found {
            Ok(Some(found)) => found,
            Ok(None) => return Err(bad()),
            Err(e) => {
                tracing::error!("proxy: {e}");
                return Err(ValidationError::new(InternalError, "Internal error"));
            }
        };
        if account.status != crate::model::Status::Active {
            return Err(bad());
        }
        let holder_may_proxy = self
            .registry
            .find(&pgt.service)
            .is_some_and(|s| s.allow_proxy());
        let refused = || {
            ValidationError::new(
                UnauthorizedService,
                "The target service is not authorized for proxy tickets from this service",
            )
        };
        let Some(registered) = self.registry.find(target).filter(|_| holder_may_proxy) else {
            return Err(refused());
        };
        let id = tickets::new_id(Kind::ProxyTicket);
        let live = Arc::new(LiveSession {
            id_hash: pgt.session_hash,
            account_id: pgt.account_id,
            auth_time: session.auth_time,
            remember_me: session.remember_me,
            // The factors of the ticket the PGT was granted for, not the session's now.
            proof: pgt.proof,
        });
        // A proxied application that requires a second factor gets a ticket only from a
        // session that proved one.
        if !self.second_factor_allows(&registered, &live) {
            return Err(refused());
        }
        // The target's access rules hold for proxied access too.
        if !registered.admits(&account.attributes()) {
            self.record_denial(&registered, &account.id, None).await;
            return Err(refused());
        }
        let target = Target {
            service: target.to_string(),
            proxies: pgt.proxies,
        };
        let now = self.tickets.now(&self.clock);
        let expires = now + self.config.tickets.service_ticket_ttl;
        self.tickets
            .insert(&id, live, target, false, (now, expires))
            .await
            .map_err(|e| {
                tracing::error!("proxy: {e}");
                ValidationError::new(ErrorCode::InternalError, "Internal error")
            })?;
        self.metrics.ticket_issued(true);
        Ok(id)
    }
}
