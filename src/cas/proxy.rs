//! Proxy authentication (protocol §2.5.4, §2.7): a validated service hands us its `pgtUrl`;
//! we deliver a proxy-granting ticket there over verified HTTPS, and the PGT later buys proxy
//! tickets for other services. Chains grow newest first.

use super::{Cas, ErrorCode, ServiceTicket, ValidationError};
use crate::services::Service;
use crate::store::ProxyGrantingTicket;
use crate::tickets::{self, Kind};

impl Cas {
    /// Sends a fresh PGT to `pgt_url` and returns its IOU, or `None` when the callback
    /// answered other than 200 (validation still succeeds, without a PGT). The PGT is stored
    /// before the call, so the service may use it as soon as it has it, and removed again
    /// if the callback did not take it.
    pub(super) async fn grant_pgt(
        &self,
        registered: &Service,
        service: &str,
        pgt_url: &str,
        ticket: &ServiceTicket,
    ) -> Result<Option<String>, ValidationError> {
        use ErrorCode::*;
        if !registered.allow_proxy {
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
        proxies.extend(ticket.proxies.iter().cloned());
        let row = ProxyGrantingTicket {
            session_hash: ticket.session_hash.clone(),
            account_id: ticket.account_id.clone(),
            service: service.to_string(),
            proxies,
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
        let answer = self.http.get(callback).send().await;
        if answer
            .as_ref()
            .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
        {
            tracing::info!(callback = %pgt_url, pgt = %tickets::log_label(&pgt), "PGT delivered");
            return Ok(Some(iou));
        }
        let h = hash.clone();
        if let Err(e) = self.store.call(move |s| s.delete_pgt(&h)).await {
            tracing::error!("remove undelivered PGT: {e}");
        }
        match answer {
            Ok(res) => {
                tracing::info!(callback = %pgt_url, status = res.status().as_u16(), "proxy callback refused the PGT");
                Ok(None)
            }
            Err(e) => {
                tracing::info!(callback = %pgt_url, error = %e, "proxy callback failed");
                Err(ValidationError::new(
                    InvalidProxyCallback,
                    "The proxy callback could not be reached securely",
                ))
            }
        }
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
                let live = s
                    .session(&pgt.session_hash)?
                    .is_some_and(|sess| sess.is_live(now));
                Ok(live.then_some(pgt))
            })
            .await;
        let pgt = match found {
            Ok(Some(pgt)) => pgt,
            Ok(None) => return Err(bad()),
            Err(e) => {
                tracing::error!("proxy: {e}");
                return Err(ValidationError::new(InternalError, "Internal error"));
            }
        };
        let holder_may_proxy = self
            .registry
            .find(&pgt.service)
            .is_some_and(|s| s.allow_proxy);
        if !holder_may_proxy || self.registry.find(target).is_none() {
            return Err(ValidationError::new(
                UnauthorizedService,
                "The target service is not authorized for proxy tickets from this service",
            ));
        }
        let id = tickets::new_id(Kind::ProxyTicket);
        let pt = ServiceTicket {
            service: target.to_string(),
            account_id: pgt.account_id,
            session_hash: pgt.session_hash,
            from_new_login: false,
            proxies: pgt.proxies,
        };
        let expires = now + self.config.tickets.service_ticket_ttl;
        self.service_tickets.insert(id.clone(), pt, expires);
        Ok(id)
    }
}
