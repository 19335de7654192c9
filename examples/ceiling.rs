//! The ceiling for benchmarks: a CAS server that does no work. `/cas/login` answers a 302 to
//! the service with a fresh random ticket (no session, no lookup); every other path answers
//! the constant success body of a validation. The load generator and the wrk script drive it
//! exactly as they drive unicas, with the same parsing, so both sides of a ratio cost the
//! client the same. `cargo run --release --example ceiling -- 127.0.0.1:18090`

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::distr::{Alphanumeric, SampleString};

const BODY: &str = "<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'>\n  <cas:authenticationSuccess>\n    <cas:user>bench0</cas:user>\n  </cas:authenticationSuccess>\n</cas:serviceResponse>\n";

fn answer(req: &hyper::Request<hyper::body::Incoming>) -> hyper::Response<Full<Bytes>> {
    if req.uri().path() == "/cas/login" {
        let ticket = Alphanumeric.sample_string(&mut rand::rng(), 29);
        return hyper::Response::builder()
            .status(302)
            .header(
                "location",
                format!("https://bench.test/app?ticket=ST-{ticket}"),
            )
            .header("cache-control", "no-store")
            .body(Full::new(Bytes::new()))
            .expect("response");
    }
    hyper::Response::builder()
        .header("content-type", "application/xml; charset=UTF-8")
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .expect("response")
}

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("ceiling listening on {addr}");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service =
                service_fn(|req| async move { Ok::<_, std::convert::Infallible>(answer(&req)) });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
