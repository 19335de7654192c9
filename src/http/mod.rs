//! hyper glue: the accept loop, per-connection limits, request parsing, responses and the
//! headers every response carries, and cookies. A handler that panics costs its request a
//! generic 500, never the connection's other requests or the server.

mod cookies;
pub mod multipart;
mod request;
mod response;
mod tls;

pub use cookies::{Cookie, Cookies};
pub use request::{Params, Repeated, Request};
pub use response::{Csp, Response};
pub use tls::{Tls, TlsError};

use bytes_limit::read_body;
use futures_util::FutureExt;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// What answers a parsed request.
pub trait Handler: Send + Sync + 'static {
    /// Before its body is read (`req` has the head only): whether this request may send an
    /// upload, up to `max_upload` rather than `max_body`. Route and authorise here, so
    /// nobody else can make the server read a large body.
    fn takes_upload(&self, req: &Request) -> impl Future<Output = bool> + Send;

    fn handle(&self, req: Request) -> impl Future<Output = Response> + Send;
}

/// Limits applied to every connection, and what every response carries.
#[derive(Clone, Debug)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_body: usize,
    /// The larger limit of the one upload (the roster, in the admin console).
    pub max_upload: usize,
    /// Uploads read at once (others are answered 503): their size times this bounds memory.
    pub uploads: Arc<Semaphore>,
    pub max_connections: usize,
    /// `Strict-Transport-Security` for every response, when users reach us over https.
    pub hsts: Option<String>,
    /// Direct HTTPS, when configured.
    pub tls: Option<Arc<Tls>>,
}

/// How long a shutdown waits for the requests in flight.
const DRAIN: Duration = Duration::from_secs(30);

/// Accepts connections until `shutdown` turns true, then lets open requests finish (each
/// connection holds a permit until it closes; the last one back ends the wait).
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    limits: Limits,
    shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    accept(
        listener,
        handler,
        limits.clone(),
        shutdown,
        Arc::clone(&permits),
    )
    .await;
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("shutdown: requests still open after {} s", DRAIN.as_secs());
    }
}

async fn accept<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
    permits: Arc<Semaphore>,
) {
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning or dying.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let handler = Arc::clone(&handler);
        let mut shutdown = shutdown.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            match limits.tls.clone() {
                // A handshake gets the header timeout too: a client that never finishes it
                // holds a connection no longer than one that never sends its headers.
                Some(tls) => {
                    let handshake = tls.acceptor().accept(stream);
                    match tokio::time::timeout(limits.header_timeout, handshake).await {
                        Ok(Ok(secure)) => {
                            connection(secure, peer, handler, limits, &mut shutdown).await
                        }
                        _ => tracing::debug!(%peer, "TLS handshake failed or timed out"),
                    }
                }
                None => connection(stream, peer, handler, limits, &mut shutdown).await,
            }
            drop(permit);
        });
    }
}

/// Serves one connection's requests until it closes, or (on shutdown) until the request in
/// progress is answered.
async fn connection<H: Handler, S>(
    stream: S,
    peer: SocketAddr,
    handler: Arc<H>,
    limits: Limits,
    shutdown: &mut watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let header_timeout = limits.header_timeout;
    let limits = Arc::new(limits);
    let service = service_fn(move |req| {
        let (handler, limits) = (Arc::clone(&handler), Arc::clone(&limits));
        async move { Ok::<_, std::convert::Infallible>(dispatch(&*handler, req, peer, &limits).await) }
    });
    let conn = http1::Builder::new()
        // Without a timer hyper silently disables its header timeout (slowloris).
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// A request's id: a counter from a random start, in hex. Unique within the process and
/// cheap (no system call per request); it identifies, it proves nothing.
fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    let next = NEXT.get_or_init(|| {
        let seed = crate::tickets::random_base62(11)
            .bytes()
            .fold(0u64, |acc, b| {
                acc.wrapping_mul(62).wrapping_add(u64::from(b))
            });
        AtomicU64::new(seed)
    });
    format!("{:016x}", next.fetch_add(1, Ordering::Relaxed))
}

async fn dispatch<H: Handler>(
    handler: &H,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    limits: &Limits,
) -> hyper::Response<Full<Bytes>> {
    use tracing::Instrument;
    let (parts, body) = req.into_parts();
    // Every log line of this request carries its id, which the answer names too, so a
    // complaint ("this page said…") can be found in the log.
    let id = request_id();
    let span = tracing::info_span!("request", id = %id);
    let res = answer(handler, parts, body, peer, limits)
        .instrument(span)
        .await
        .header(hyper::header::HeaderName::from_static("x-request-id"), id);
    match &limits.hsts {
        Some(hsts) => res.header(hyper::header::STRICT_TRANSPORT_SECURITY, hsts.as_str()),
        None => res,
    }
    .into_hyper()
}

async fn answer<H: Handler>(
    handler: &H,
    parts: hyper::http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
    limits: &Limits,
) -> Response {
    let head = match Request::head(parts, peer) {
        Ok(head) => head,
        Err(msg) => return Response::plain(hyper::StatusCode::BAD_REQUEST, msg),
    };
    let (limit, _upload) = match handler.takes_upload(&head).await {
        false => (limits.max_body, None),
        true => match Arc::clone(&limits.uploads).try_acquire_owned() {
            Ok(permit) => (limits.max_upload, Some(permit)),
            Err(_) => {
                let status = hyper::StatusCode::SERVICE_UNAVAILABLE;
                return Response::plain(status, "another upload is being read; try again");
            }
        },
    };
    let req = match read_body(body, &head.headers, limit, limits.body_timeout).await {
        Err(status) => {
            return Response::plain(status, status.canonical_reason().unwrap_or("error"))
        }
        Ok(body) => match head.with_body(body) {
            Err(msg) => return Response::plain(hyper::StatusCode::BAD_REQUEST, msg),
            Ok(req) => req,
        },
    };
    match std::panic::AssertUnwindSafe(handler.handle(req))
        .catch_unwind()
        .await
    {
        Ok(res) => res,
        // The panic message went to the log through the panic hook; the client learns
        // nothing of it (docs/security.md J11).
        Err(_) => Response::plain(
            hyper::StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
        ),
    }
}

mod bytes_limit {
    use http_body_util::{BodyExt, Limited};
    use hyper::body::{Bytes, Incoming};
    use hyper::{HeaderMap, StatusCode};
    use std::time::Duration;

    /// Reads the whole body, refusing more than `max` bytes (413) or a sender slower than
    /// `timeout` (408). hyper enforces neither by itself.
    pub async fn read_body(
        body: Incoming,
        headers: &HeaderMap,
        max: usize,
        timeout: Duration,
    ) -> Result<Bytes, StatusCode> {
        let declared = headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        match tokio::time::timeout(timeout, Limited::new(body, max).collect()).await {
            Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
            Ok(Err(e))
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(StatusCode::PAYLOAD_TOO_LARGE)
            }
            Ok(Err(_)) => Err(StatusCode::BAD_REQUEST),
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
        }
    }
}
