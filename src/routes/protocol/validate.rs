//! The validation endpoints: `/validate` (CAS 1.0), `/serviceValidate`, `/proxyValidate`,
//! `/p3/serviceValidate`, `/p3/proxyValidate` (XML, or JSON with `format=JSON`). Failures are
//! protocol answers with HTTP 200, which is what every client expects.

use crate::cas::{
    render_cas1, render_json, render_proxy, render_xml, saml, ErrorCode, ValidateRequest,
    ValidationError,
};
use crate::http::{Repeated, Request, Response};
use crate::model::{AuditEvent, Client};
use crate::routes::App;
use crate::tickets;

enum Format {
    Cas1,
    Xml,
    Json,
}

pub(crate) async fn validate(app: &App, req: &Request, endpoint: &str) -> Response {
    let format = match (endpoint, req.param("format")) {
        ("/validate", _) => Format::Cas1,
        (_, None) => Format::Xml,
        (_, Some(f)) if f.eq_ignore_ascii_case("XML") => Format::Xml,
        (_, Some(f)) if f.eq_ignore_ascii_case("JSON") => Format::Json,
        (_, Some(_)) => {
            let err = ValidationError::new(
                ErrorCode::InvalidRequest,
                "Unsupported format; use XML or JSON",
            );
            return Response::protocol(
                "application/xml; charset=UTF-8",
                render_xml(&Err(err), true),
            );
        }
    };
    let result = match (
        unique(req, "ticket"),
        unique(req, "service"),
        unique(req, "pgtUrl"),
    ) {
        (Ok(ticket), Ok(service), Ok(pgt_url)) => {
            let request = ValidateRequest {
                ticket,
                service,
                renew: req.query.flag("renew") || req.form.flag("renew"),
                // CAS 1.0 has no proxy support at all; an empty pgtUrl is no pgtUrl.
                pgt_url: pgt_url.filter(|u| !u.is_empty() && endpoint != "/validate"),
                accept_proxy_tickets: endpoint.ends_with("proxyValidate"),
            };
            app.cas.validate(request).await
        }
        _ => Err(ValidationError::new(
            ErrorCode::InvalidRequest,
            "'ticket', 'service' and 'pgtUrl' may each be given once",
        )),
    };
    let label = req
        .param("ticket")
        .map(tickets::log_label)
        .unwrap_or_default();
    app.cas.metrics().validated(
        endpoint,
        result
            .as_ref()
            .map_or_else(|e| e.code.as_str(), |_| "success"),
    );
    match &result {
        Ok(v) => {
            tracing::info!(target: "unicas::tickets", endpoint, ticket = ?label, user = %v.user, "ticket validated")
        }
        Err(e) => {
            // One line per refusal only at debug: a burst of guesses becomes one
            // aggregated event (`report_ticket_misses`), not thousands of lines.
            tracing::debug!(target: "unicas::tickets", endpoint, ticket = ?label, code = e.code.as_str(), "ticket refused");
            if e.code == ErrorCode::InvalidTicket {
                note_ticket_miss(app, req);
            }
        }
    }
    match format {
        Format::Cas1 => Response::protocol("text/plain; charset=UTF-8", render_cas1(&result)),
        Format::Xml => {
            Response::protocol("application/xml; charset=UTF-8", render_xml(&result, true))
        }
        Format::Json => Response::protocol("application/json; charset=UTF-8", render_json(&result)),
    }
}

/// `/proxy?pgt=...&targetService=...`: a proxy ticket.
pub(crate) async fn proxy(app: &App, req: &Request) -> Response {
    let json = req
        .param("format")
        .is_some_and(|f| f.eq_ignore_ascii_case("JSON"));
    let result = match (unique(req, "pgt"), unique(req, "targetService")) {
        (Ok(pgt), Ok(target)) => {
            app.cas
                .proxy_ticket(pgt.as_deref(), target.as_deref())
                .await
        }
        _ => Err(ValidationError::new(
            ErrorCode::InvalidRequest,
            "'pgt' and 'targetService' may each be given once",
        )),
    };
    match &result {
        Ok(pt) => tracing::info!(ticket = %tickets::log_label(pt), "proxy ticket issued"),
        Err(e) => tracing::info!(code = e.code.as_str(), "proxy ticket refused"),
    }
    let content_type = match json {
        true => "application/json; charset=UTF-8",
        false => "application/xml; charset=UTF-8",
    };
    Response::protocol(content_type, render_proxy(&result, json))
}

/// `POST /samlValidate?TARGET=service`: the SAML 1.1 form of the same validation.
pub(crate) async fn saml_validate(app: &App, req: &Request) -> Response {
    let now = app.clock.now();
    let target = req.query.unique("TARGET").ok().flatten().unwrap_or("");
    let parsed = saml::parse_request(&req.body);
    let request_id = parsed.as_ref().ok().and_then(|r| r.request_id.clone());
    let result = match (parsed, req.query.unique("TARGET")) {
        (Ok(r), Ok(Some(_))) => {
            let request = ValidateRequest {
                ticket: Some(r.ticket),
                service: Some(target.to_string()),
                renew: req.query.flag("renew"),
                pgt_url: None,
                accept_proxy_tickets: true,
            };
            app.cas.validate(request).await
        }
        (Err(e), _) => Err(ValidationError::new(ErrorCode::InvalidRequest, e)),
        (_, _) => Err(ValidationError::new(
            ErrorCode::InvalidRequest,
            "'TARGET' is required, once",
        )),
    };
    app.cas.metrics().validated(
        "/samlValidate",
        result
            .as_ref()
            .map_or_else(|e| e.code.as_str(), |_| "success"),
    );
    match &result {
        Ok(v) => {
            tracing::info!(target: "unicas::tickets", endpoint = "/samlValidate", user = %v.user, "ticket validated")
        }
        Err(e) => {
            tracing::info!(
                endpoint = "/samlValidate",
                code = e.code.as_str(),
                "ticket refused"
            )
        }
    }
    let saml = &app.config.saml;
    let window = saml::Window {
        not_before: now - saml.not_before_skew,
        not_on_or_after: now + saml.lifetime,
    };
    // From configuration, never from the request's Host (docs/security.md B16).
    let issuer = app
        .config
        .public_url()
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    // The SAML profile forbids releasing attributes to a site without TLS.
    let with_attributes = saml.attributes_over_http
        || target
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("https:"));
    let body = saml::render_response(
        &result,
        target,
        request_id.as_deref(),
        &issuer,
        now,
        &window,
        with_attributes,
    );
    Response::protocol("text/xml; charset=UTF-8", body)
}

/// Invalid tickets from one address per report below which nothing is reported (a user
/// reloading a page with a spent ticket is no event).
const MISS_THRESHOLD: u64 = 20;
/// Addresses counted separately at most; beyond, they are counted together.
const MISS_ADDRESSES: usize = 10_000;

fn note_ticket_miss(app: &App, req: &Request) {
    let ip = app.client(req).ip;
    let mut misses = app.ticket_misses.lock().unwrap_or_else(|p| p.into_inner());
    let key = match misses.len() < MISS_ADDRESSES || misses.contains_key(&ip) {
        true => ip,
        false => "(other addresses)".to_string(),
    };
    *misses.entry(key).or_default() += 1;
}

impl App {
    /// Writes one audit row (and one warning) per address that presented many invalid
    /// tickets since the last report (docs/security.md A06); run periodically.
    pub async fn report_ticket_misses(&self) {
        let bursts: Vec<(String, u64)> =
            std::mem::take(&mut *self.ticket_misses.lock().unwrap_or_else(|p| p.into_inner()))
                .into_iter()
                .filter(|(_, n)| *n >= MISS_THRESHOLD)
                .collect();
        if bursts.is_empty() {
            return;
        }
        for (ip, count) in bursts {
            tracing::warn!(%ip, count, "many invalid tickets presented");
            let client = Client {
                ip,
                user_agent: String::new(),
            };
            let event = AuditEvent::InvalidTickets { count };
            if let Err(e) = self.accounts.record(&client, event, None).await {
                tracing::error!("audit of invalid tickets: {e}");
            }
        }
    }
}

/// A parameter from the query or, for clients that POST, the form; given twice (in either or
/// across both) it is an error.
fn unique(req: &Request, name: &str) -> Result<Option<String>, Repeated> {
    match (req.query.unique(name)?, req.form.unique(name)?) {
        (Some(_), Some(_)) => Err(Repeated),
        (a, b) => Ok(a.or(b).map(str::to_string)),
    }
}
