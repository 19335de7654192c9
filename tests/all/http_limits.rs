//! Malformed and oversized HTTP gets a 4xx, never a crash, and the server keeps serving.

use crate::support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn bad_encoding_is_400() {
    let t = TestServer::start().await;
    let mut c = t.client();
    for path in [
        "/cas/login?service=%",
        "/cas/login?service=%G1",
        "/cas/login?service=%FF%FE",
        "/cas/serviceValidate?ticket=%2",
    ] {
        assert_eq!(c.get(path).await.status, 400, "{path}");
    }
    let res = c
        .send(
            "POST",
            "/cas/login",
            &[("content-type", "application/x-www-form-urlencoded")],
            "username=%zz",
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(c.get("/cas/login").await.status, 200);
}

#[tokio::test]
async fn oversized_bodies_are_413_before_reading() {
    let t = TestServer::start().await;
    let reply = raw(t.server.addr, b"POST /cas/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000000\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    let big = "a".repeat(20_000);
    let res = t
        .client()
        .send(
            "POST",
            "/cas/login",
            &[("content-type", "application/x-www-form-urlencoded")],
            &big,
        )
        .await;
    assert_eq!(res.status, 413);
}

#[tokio::test]
async fn garbage_and_huge_headers_are_refused() {
    let t = TestServer::start().await;
    let reply = raw(t.server.addr, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 400"),
        "{reply}"
    );
    let huge = format!(
        "GET /cas/login HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let reply = raw(t.server.addr, huge.as_bytes()).await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431"),
        "{reply}"
    );
    let res = t.client().send("TRACE", "/cas/login", &[], "").await;
    assert_eq!(res.status, 405);
    assert_eq!(t.client().get("/cas/login").await.status, 200);
}

#[tokio::test]
async fn a_slow_sender_is_cut_off() {
    let t = TestServer::start_with(|c| c.http.header_timeout = 1).await;
    let mut s = tokio::net::TcpStream::connect(t.server.addr).await.unwrap();
    s.write_all(b"GET /cas/login HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let closed =
        tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "connection still open after the header timeout"
    );
}
