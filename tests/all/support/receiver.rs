//! Local stand-ins for the systems a CAS server calls: an HTTPS (or plain HTTP) endpoint that
//! records every request and answers with a status the test chooses, and a test CA for it.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use tokio_rustls::rustls;

/// A certificate authority made for one test, and a server certificate for 127.0.0.1.
pub struct TestCa {
    pub pem: String,
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            cert,
            key,
        }
    }

    /// Writes the CA certificate where a server's `ca_file` can point.
    pub fn write(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("test-ca.pem");
        std::fs::write(&path, &self.pem).unwrap();
        path
    }

    /// A certificate for 127.0.0.1 signed by this CA, and its key, as PEM.
    pub fn server_pem(&self) -> (String, String) {
        self.server_pem_for(&["127.0.0.1"])
    }

    /// A certificate for `names` (host names or addresses) signed by this CA, and its key.
    pub fn server_pem_for(&self, names: &[&str]) -> (String, String) {
        let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let params = rcgen::CertificateParams::new(names).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        Arc::new(config)
    }
}

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub content_type: String,
    pub body: String,
}

impl Received {
    /// A decoded query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// A recording endpoint. `status` is what it answers (200 unless the test changes it); with
/// `fail_first`, the first n requests get 503 whatever `status` says.
pub struct Receiver {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Received>>>,
    pub status: Arc<AtomicU16>,
    pub fail_first: Arc<AtomicU16>,
    /// Milliseconds to wait before answering.
    pub delay_ms: Arc<AtomicU16>,
    /// Where a 3xx answer points.
    pub location: Arc<Mutex<String>>,
    tls: bool,
}

impl Receiver {
    pub async fn https(ca: &TestCa) -> Receiver {
        Self::start(Some(ca.server_config())).await
    }

    pub async fn http() -> Receiver {
        Self::start(None).await
    }

    async fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let fail_first = Arc::new(AtomicU16::new(0));
        let delay_ms = Arc::new(AtomicU16::new(0));
        let location = Arc::new(Mutex::new(String::new()));
        let is_tls = tls.is_some();
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let (reqs, st, ff) = (requests.clone(), status.clone(), fail_first.clone());
        let (dl, loc) = (delay_ms.clone(), location.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (reqs, st, ff, acceptor) =
                    (reqs.clone(), st.clone(), ff.clone(), acceptor.clone());
                let (dl, loc) = (dl.clone(), loc.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (reqs, st, ff) = (reqs.clone(), st.clone(), ff.clone());
                        let (dl, loc) = (dl.clone(), loc.clone());
                        async move {
                            let delay = dl.load(Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(delay.into()))
                                .await;
                            let mut res = record(req, &reqs, &st, &ff).await;
                            if res.status().is_redirection() {
                                let to = loc.lock().unwrap().clone();
                                res.headers_mut().insert("location", to.parse().unwrap());
                            }
                            Ok::<_, hyper::Error>(res)
                        }
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    match acceptor {
                        Some(acceptor) => {
                            // A client that rejects our certificate ends the handshake here.
                            if let Ok(tls) = acceptor.accept(stream).await {
                                let io = hyper_util::rt::TokioIo::new(tls);
                                let _ = http.serve_connection(io, service).await;
                            }
                        }
                        None => {
                            let io = hyper_util::rt::TokioIo::new(stream);
                            let _ = http.serve_connection(io, service).await;
                        }
                    }
                });
            }
        });
        Receiver {
            addr,
            requests,
            status,
            fail_first,
            delay_ms,
            location,
            tls: is_tls,
        }
    }

    /// `scheme://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits up to five seconds for at least `n` requests.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..500 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.received()
    }
}

async fn record(
    req: hyper::Request<hyper::body::Incoming>,
    requests: &Mutex<Vec<Received>>,
    status: &AtomicU16,
    fail_first: &AtomicU16,
) -> hyper::Response<Full<Bytes>> {
    let method = req.method().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    requests.lock().unwrap().push(Received {
        method,
        target,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let code = match fail_first.load(Ordering::SeqCst) {
        0 => status.load(Ordering::SeqCst),
        n => {
            fail_first.store(n - 1, Ordering::SeqCst);
            503
        }
    };
    let mut res = hyper::Response::new(Full::new(Bytes::from_static(b"ok")));
    *res.status_mut() = hyper::StatusCode::from_u16(code).unwrap();
    res
}
