//! Malformed and oversized HTTP gets a 4xx, never a crash, and the server keeps serving.

use crate::support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// docs/security.md J01, J02
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

/// docs/security.md J04
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

/// docs/security.md J03, J09
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

/// docs/security.md J05
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

/// docs/security.md J06: a body sent a byte at a time is cut off at the body timeout.
#[tokio::test]
async fn a_slow_body_is_cut_off() {
    let t = TestServer::start_with(|c| c.http.body_timeout = 1).await;
    let mut s = tokio::net::TcpStream::connect(t.server.addr).await.unwrap();
    s.write_all(b"POST /cas/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\nu")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if s.write_all(b"x").await.is_err() {
            break;
        }
        if let Ok(Ok(n)) =
            tokio::time::timeout(std::time::Duration::from_millis(10), s.read(&mut byte)).await
        {
            reply.extend_from_slice(&byte[..n]);
            break;
        }
    }
    let _ =
        tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply:?}");
    assert_eq!(t.client().get("/cas/login").await.status, 200);
}

/// docs/security.md J03, J04: too many headers, an over-long URI, an endless chunked body.
#[tokio::test]
async fn header_floods_long_uris_and_endless_bodies_are_refused() {
    let t = TestServer::start().await;
    let mut many = String::from("GET /cas/login HTTP/1.1\r\nHost: x\r\n");
    for i in 0..101 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let reply = raw(t.server.addr, many.as_bytes()).await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431"),
        "{reply}"
    );
    let long = format!(
        "GET /cas/login?service={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    let reply = raw(t.server.addr, long.as_bytes()).await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 414") || reply.starts_with("HTTP/1.1 431"),
        "{reply}"
    );
    let mut s = tokio::net::TcpStream::connect(t.server.addr).await.unwrap();
    s.write_all(b"POST /cas/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let chunk = format!("1000\r\n{}\r\n", "a".repeat(4096));
    let mut reply = Vec::new();
    for _ in 0..64 {
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ =
        tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut reply)).await;
    assert!(String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 413"));
    assert_eq!(t.client().get("/cas/login").await.status, 200);
}

/// docs/security.md J09: an HTTP/0.9 line is refused; an absolute-form target is served as our
/// own path, and the host it names appears nowhere.
#[tokio::test]
async fn old_and_absolute_request_lines() {
    let t = TestServer::start().await;
    let reply = raw(t.server.addr, b"GET /cas/login\r\n").await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 400") || reply.starts_with("HTTP/1.0 400"),
        "{reply}"
    );
    let reply = raw(
        t.server.addr,
        b"GET http://evil.test/cas/login HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(!reply.contains("evil.test"));
}

/// docs/security.md J10: methods beyond GET, HEAD and POST get 405 with `Allow`, never a CORS
/// header; HEAD gets the headers alone; `GET /samlValidate` is 405.
#[tokio::test]
async fn other_methods_are_405_and_head_has_no_body() {
    let t = TestServer::start().await;
    let mut c = t.client();
    for method in ["TRACE", "OPTIONS", "PUT", "DELETE", "PATCH", "FOO"] {
        for path in [
            "/cas/login",
            "/cas/serviceValidate",
            "/cas/logout",
            "/cas/proxy",
        ] {
            let res = c
                .send(method, path, &[("origin", "https://evil.test")], "")
                .await;
            assert_eq!(res.status, 405, "{method} {path}");
            assert!(res.header("allow").is_some());
            assert!(res.header("access-control-allow-origin").is_none());
        }
    }
    let head = c.send("HEAD", "/cas/login", &[], "").await;
    assert_eq!(head.status, 200);
    assert!(head.raw.is_empty());
    assert_eq!(c.get("/cas/samlValidate").await.status, 405);
}

/// docs/security.md M06, issue "Defects found from outside" #7: only the console's own import
/// path, posted by an administrator past the second factor, may send an upload; every other
/// body, whatever its path ends with, is held to the small limit before it is read; and the
/// server reads one upload at a time.
#[tokio::test]
async fn uploads_are_routed_and_authorised_before_their_body_is_read() {
    let t = TestServer::start().await;
    let big = "x".repeat(1024 * 1024);
    for path in [
        "/cas/admin/import",
        "/cas/nothing/admin/import",
        "/nothing/admin/import",
    ] {
        let mut c = t.client();
        c.login("alice", PASSWORD, None).await;
        let res = c
            .send(
                "POST",
                path,
                &[("content-type", "multipart/form-data; boundary=b")],
                &big,
            )
            .await;
        assert_eq!(res.status, 413, "{path}");
    }

    // An administrator's upload is read; a second at the same time waits its turn.
    let admin = crate::admin::admin_console(&t).await;
    let cookies = admin
        .jar
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let head = format!(
        "POST /cas/admin/import HTTP/1.1\r\nhost: cas.test\r\ncookie: {cookies}\r\n\
         content-type: multipart/form-data; boundary=b\r\ncontent-length: 1000000\r\n\r\n"
    );
    let mut first = tokio::net::TcpStream::connect(t.server.addr).await.unwrap();
    first.write_all(head.as_bytes()).await.unwrap();
    first.write_all(&[b'x'; 1000]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let second = raw(t.server.addr, head.as_bytes()).await;
    assert!(second.starts_with("HTTP/1.1 503"), "{second}");
}

/// Issue "Defects found from outside" #12: every path answers a method it does not take
/// with 405 and the `Allow` of the one route table (GET on getDynamicCode.htl was a 404).
#[tokio::test]
async fn every_path_answers_a_wrong_method_with_405_and_its_allow() {
    let t = TestServer::start().await;
    let mut c = t.client();
    for (method, path, allow) in [
        ("GET", "/cas/dynamicCode/getDynamicCode.htl", "POST"),
        ("PUT", "/cas/admin/service", "GET, HEAD, POST"),
        ("DELETE", "/cas/admin/import", "GET, HEAD, POST"),
        ("PUT", "/cas/admin/totp", "GET, HEAD, POST"),
        ("PUT", "/cas/admin/account", "GET, HEAD, POST"),
        ("PATCH", "/cas/qrCode/qrCodeLogin.do", "GET, HEAD, POST"),
        ("PUT", "/cas/wecom/verify", "GET, HEAD, POST"),
        ("GET", "/cas/samlValidate", "POST"),
        ("POST", "/cas/portal", "GET, HEAD"),
        ("PUT", "/cas/login", "GET, HEAD, POST"),
    ] {
        let res = c.send(method, path, &[], "").await;
        assert_eq!(
            (res.status, res.header("allow")),
            (405, Some(allow)),
            "{method} {path}"
        );
    }
    assert_eq!(c.get("/cas/nothing-here").await.status, 404);
}
