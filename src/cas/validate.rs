//! Ticket validation: one result, rendered by CAS 1.0, 2.0/3.0 XML and JSON alike. The
//! ticket is removed from the registry before anything else is checked, so it is spent by
//! its first validation attempt, successful or not, and concurrent attempts cannot both win.

use super::Cas;
use crate::model::pattern::normalize;
use crate::model::Status;
use crate::store::LogoutParticipant;
use crate::tickets::{self, Kind};

/// CAS error codes (protocol §2.5.3, §2.7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidTicketSpec,
    InvalidTicket,
    InvalidService,
    InternalError,
    UnauthorizedServiceProxy,
    InvalidProxyCallback,
    UnauthorizedService,
    BadPgt,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::InvalidTicketSpec => "INVALID_TICKET_SPEC",
            ErrorCode::InvalidTicket => "INVALID_TICKET",
            ErrorCode::InvalidService => "INVALID_SERVICE",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::UnauthorizedServiceProxy => "UNAUTHORIZED_SERVICE_PROXY",
            ErrorCode::InvalidProxyCallback => "INVALID_PROXY_CALLBACK",
            ErrorCode::UnauthorizedService => "UNAUTHORIZED_SERVICE",
            ErrorCode::BadPgt => "BAD_PGT",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ValidationError {
    pub code: ErrorCode,
    pub message: String,
}

impl ValidationError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ValidationError {
            code,
            message: message.into(),
        }
    }
}

/// The parameters of a validation request, already checked for duplicates by the caller.
#[derive(Clone, Debug, Default)]
pub struct ValidateRequest {
    pub ticket: Option<String>,
    pub service: Option<String>,
    pub renew: bool,
    /// The proxy callback that should receive a proxy-granting ticket.
    pub pgt_url: Option<String>,
    /// `/proxyValidate` and SAML accept proxy tickets; the others refuse them.
    pub accept_proxy_tickets: bool,
}

/// A successful validation.
#[derive(Clone, Debug)]
pub struct Validation {
    pub user: String,
    /// Released attributes in order; a repeated name is a multi-valued attribute.
    pub attributes: Vec<(String, String)>,
    pub auth_time: i64,
    pub from_new_login: bool,
    pub remember_me: bool,
    /// Proxy chain, most recent first (empty for service tickets).
    pub proxies: Vec<String>,
    /// The `PGTIOU-` when a proxy callback received a proxy-granting ticket.
    pub pgt_iou: Option<String>,
    /// How the session was proved when the ticket was issued.
    pub proof: crate::model::Proof,
    /// The factor that made it multi-factor (`authnContextClass`), if one did.
    pub context_class: Option<&'static str>,
}

impl Cas {
    pub async fn validate(&self, req: ValidateRequest) -> Result<Validation, ValidationError> {
        use ErrorCode::*;
        let (ticket, service) = match (req.ticket.as_deref(), req.service.as_deref()) {
            (Some(t), Some(s)) if !t.is_empty() && !s.is_empty() => (t, s),
            _ => {
                return Err(ValidationError::new(
                    InvalidRequest,
                    "'service' and 'ticket' parameters are both required",
                ))
            }
        };
        let shown = shorten(ticket);
        let kind = match ticket.starts_with(Kind::ProxyTicket.prefix()) {
            true if !req.accept_proxy_tickets => {
                return Err(ValidationError::new(
                    InvalidTicketSpec,
                    format!("Ticket '{shown}' is a proxy ticket; use proxyValidate"),
                ))
            }
            true => Kind::ProxyTicket,
            false => Kind::ServiceTicket,
        };
        if !tickets::well_formed(ticket, kind) {
            return Err(ValidationError::new(
                InvalidTicket,
                format!("Ticket '{shown}' not recognized"),
            ));
        }
        let now = self.clock.now();
        let taken = self.tickets.take(ticket, &self.clock).await.map_err(|e| {
            tracing::error!(error = %e, "tickets unavailable");
            ValidationError::new(InternalError, "tickets cannot be read now")
        })?;
        let Some(st) = taken else {
            return Err(ValidationError::new(
                InvalidTicket,
                format!("Ticket '{shown}' not recognized"),
            ));
        };
        if self.tickets.now(&self.clock) > st.expires_at {
            return Err(ValidationError::new(
                InvalidTicket,
                format!("Ticket '{shown}' has expired"),
            ));
        }
        if st.target.service != service {
            tracing::info!(ticket = %tickets::log_label(ticket), issued_for = ?st.target.service, presented = ?service, "INVALID_SERVICE");
            // The console shows these per application: the usual migration mistake.
            if let Some(app) = self.registry.find(&st.target.service) {
                // Normalised, so the console shows the difference that matters; where only
                // the spelling differs (case, a default port), as sent, so it still shows.
                let normal = |s: &str| normalize(s).unwrap_or_else(|| s.to_string());
                let (mut issued, mut presented) = (normal(&st.target.service), normal(service));
                if issued == presented {
                    (issued, presented) = (st.target.service.clone(), service.to_string());
                }
                let now = self.clock.now();
                let recorded = self
                    .store
                    .call(move |s| s.record_mismatch(app.id, &issued, &presented, now))
                    .await;
                if let Err(e) = recorded {
                    tracing::warn!("recording a service mismatch: {e}");
                }
            }
            return Err(ValidationError::new(
                InvalidService,
                format!("Ticket '{shown}' does not match the service"),
            ));
        }
        if req.renew && !st.from_new_login {
            return Err(ValidationError::new(
                InvalidTicket,
                format!("Ticket '{shown}' was not issued from a new login"),
            ));
        }
        let Some(registered) = self.registry.find(service) else {
            return Err(ValidationError::new(
                InvalidService,
                "The service is not registered",
            ));
        };

        let found = self
            .sessions
            .with_account(&st.session.id_hash, &st.session.account_id)
            .await;
        let (session, account) = match found {
            Ok(Some((session, account)))
                if session.is_live(now) && account.status == Status::Active =>
            {
                (session, account)
            }
            Ok(_) => {
                return Err(ValidationError::new(
                    InvalidTicket,
                    format!("Ticket '{shown}' belongs to an ended session"),
                ))
            }
            Err(e) => {
                tracing::error!("validation: {e}");
                return Err(ValidationError::new(InternalError, "Internal error"));
            }
        };
        // An application that requires a second factor (perhaps only since the ticket was
        // issued) never accepts a ticket without one.
        if !self.second_factor_allows(&registered, &st.session) {
            return Err(ValidationError::new(
                InvalidTicket,
                format!("Ticket '{shown}' was not issued with a second factor"),
            ));
        }
        // The rules are checked again here: one changed since the ticket was issued wins.
        let attributes = account.attributes();
        if !registered.admits(&attributes) {
            self.record_denial(&registered, &account.id, None).await;
            return Err(ValidationError::new(
                UnauthorizedService,
                "The account may not use this service",
            ));
        }
        let pgt_iou = match req.pgt_url.as_deref() {
            Some(url) => self.grant_pgt(&registered, service, url, &st).await?,
            None => None,
        };
        self.record_participant(
            &registered,
            LogoutParticipant {
                session_hash: st.session.id_hash.clone(),
                service_id: registered.id,
                service: service.to_string(),
                ticket: ticket.to_string(),
                account_id: account.id.clone(),
                validated_at: now,
            },
        );
        Ok(Validation {
            user: account.id.clone(),
            attributes: registered.release(attributes),
            auth_time: session.auth_time,
            from_new_login: st.from_new_login,
            remember_me: session.remember_me,
            proxies: st.target.proxies.clone(),
            pgt_iou,
            proof: st.session.proof,
            context_class: st
                .session
                .proof
                .context_class(self.config.mfa.scan_is_second_factor),
        })
    }
}

/// Error texts echo at most 64 characters of what the client sent.
pub(super) fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}
