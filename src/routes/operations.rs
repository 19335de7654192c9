//! What operators and their monitoring read, at the root whatever the prefix: `/health`
//! (readiness and liveness) and `/metrics` (Prometheus text, for the allowed addresses).

use super::App;
use crate::http::{Request, Response};
use hyper::StatusCode;

/// `GET /health`: 200 when the database takes a write, else 503 (readiness);
/// `/health/live`: 200 while the process answers (liveness).
pub(super) async fn health(app: &App, live_only: bool) -> Response {
    // A failed write marks the store unhealthy at once: the small probe below may still
    // fit while real writes (an audit row, a session) no longer do.
    let writable = live_only
        || (!app.store.out_of_room_lately(30) && app.store.call(|s| s.writable()).await.is_ok());
    let (status, body) = match writable {
        true => (StatusCode::OK, r#"{"status":"ok","database":"writable"}"#),
        false => (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"unavailable","database":"not writable"}"#,
        ),
    };
    let body = if live_only {
        r#"{"status":"ok"}"#
    } else {
        body
    };
    Response::new(status, "application/json", body.to_string())
        .header(hyper::header::CACHE_CONTROL, "no-store")
}

/// `GET /metrics` for the addresses `metrics.allow` lists; a 404 for anyone else.
pub(super) async fn metrics_page(app: &App, req: &Request) -> Response {
    let ip = req.client_ip(&app.config.http.trusted_proxies);
    if !app.config.metrics.allow.iter().any(|net| net.contains(&ip)) {
        return Response::plain(StatusCode::NOT_FOUND, "not found");
    }
    let now = app.clock.now();
    // Off the runtime threads: a count and the database's size.
    let read = app
        .store
        .call(move |s| {
            Ok(crate::metrics::Gauges {
                sessions: s.live_sessions(now)?,
                database_bytes: s.size_bytes()?,
            })
        })
        .await;
    let gauges = read.unwrap_or(crate::metrics::Gauges {
        sessions: -1,
        database_bytes: 0,
    });
    Response::new(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        app.metrics.render(&gauges),
    )
    .header(hyper::header::CACHE_CONTROL, "no-store")
}
