//! Kết nối — the server's connection limits, over raw TCP: a connection that sends no
//! complete request head within the idle limit is closed, new or kept alive; beyond
//! `max_connections` a new connection waits until one closes, and `/metrics` shows it;
//! a TLS handshake that never ends is closed as well.

use crate::spawn_app_with;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The address (`host:port`) of a test server's base URL.
fn address(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

fn request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: kho\r\n\r\n")
}

/// Reads one HTTP/1.1 answer with a `Content-Length` from `tcp`; `None` when nothing
/// came within `wait`.
fn answer(tcp: &mut TcpStream, wait: Duration) -> Option<String> {
    tcp.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .expect("the answer has a Content-Length");
            if body.len() >= length {
                return Some(text);
            }
        }
        match tcp.read(&mut buf) {
            Ok(0) => panic!("the connection closed in the middle of an answer: {text:?}"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) && got.is_empty() => return None,
            Err(e) => panic!("reading the answer: {e}"),
        }
    }
}

/// How long until the server closes `tcp` (reads end-of-file), waiting at most `limit`.
fn closed_after(tcp: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    tcp.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return started.elapsed(),
            Err(e) => panic!("the server did not close the connection within {limit:?}: {e}"),
        }
    }
}

/// A `/metrics` figure from its text.
fn figure(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("{name} is not in /metrics:\n{metrics}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_without_a_complete_request_head_is_closed_after_the_idle_limit() {
    let app = spawn_app_with(|s| s.idle_timeout_secs = 1).await;
    let addr = address(&app.base);
    tokio::task::spawn_blocking(move || {
        // A client that starts a request and stalls (a byte at a time would do the same).
        let mut stalled = TcpStream::connect(&addr).unwrap();
        stalled.write_all(b"GET /healthz HTTP/1.1\r\nHost: kho\r\n").unwrap();
        let took = closed_after(&mut stalled, Duration::from_secs(10));
        assert!(took >= Duration::from_millis(900), "closed too early: {took:?}");

        // A kept-alive connection is answered, then closed once idle for the limit.
        let mut kept = TcpStream::connect(&addr).unwrap();
        kept.write_all(request("/healthz").as_bytes()).unwrap();
        let ok = answer(&mut kept, Duration::from_secs(10)).expect("an answer");
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        let took = closed_after(&mut kept, Duration::from_secs(10));
        assert!(took >= Duration::from_millis(900), "closed too early: {took:?}");

        // A connection that keeps asking within the limit stays open.
        let mut busy = TcpStream::connect(&addr).unwrap();
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(600));
            busy.write_all(request("/healthz").as_bytes()).unwrap();
            assert!(answer(&mut busy, Duration::from_secs(10)).expect("an answer").starts_with("HTTP/1.1 200"));
        }
        busy.write_all(request("/metrics").as_bytes()).unwrap();
        let metrics = answer(&mut busy, Duration::from_secs(10)).expect("the metrics");
        assert_eq!(figure(&metrics, "kho_http_connections_timed_out_total"), 2.0, "{metrics}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn beyond_max_connections_a_new_connection_waits_until_one_closes() {
    let app = spawn_app_with(|s| s.max_connections = Some(2)).await;
    let addr = address(&app.base);
    tokio::task::spawn_blocking(move || {
        let mut first = TcpStream::connect(&addr).unwrap();
        let mut second = TcpStream::connect(&addr).unwrap();
        for tcp in [&mut first, &mut second] {
            tcp.write_all(request("/healthz").as_bytes()).unwrap();
            assert!(answer(tcp, Duration::from_secs(10)).expect("an answer").starts_with("HTTP/1.1 200"));
        }

        // Both places are taken: the third connection is not served…
        let mut third = TcpStream::connect(&addr).unwrap();
        third.write_all(request("/healthz").as_bytes()).unwrap();
        assert_eq!(answer(&mut third, Duration::from_millis(800)), None, "served beyond max_connections");

        // …as the metrics, read on a connection already open, say.
        first.write_all(request("/metrics").as_bytes()).unwrap();
        let metrics = answer(&mut first, Duration::from_secs(10)).expect("the metrics");
        assert_eq!(figure(&metrics, "kho_http_connections_limit"), 2.0, "{metrics}");
        assert_eq!(figure(&metrics, "kho_http_connections_open"), 2.0, "{metrics}");
        assert_eq!(figure(&metrics, "kho_http_connections_waited_total"), 1.0, "{metrics}");

        // Once a connection closes, the waiting one is answered.
        drop(first);
        let ok = answer(&mut third, Duration::from_secs(10)).expect("answered once a place is free");
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tls_connection_that_never_finishes_its_handshake_is_closed_after_the_idle_limit() {
    let certs = tempfile::tempdir().unwrap();
    crate::tls::certificates(certs.path());
    let p = |f: &str| certs.path().join(f);
    let files = kho_server::tls::TlsFiles { cert: p("server.pem"), key: p("server.key"), client_ca: None };
    let app = spawn_app_with(move |s| {
        s.tls = Some(files);
        s.idle_timeout_secs = 1;
    })
    .await;
    let addr = address(&app.base);
    tokio::task::spawn_blocking(move || {
        let mut silent = TcpStream::connect(&addr).unwrap();
        let took = closed_after(&mut silent, Duration::from_secs(10));
        assert!(took >= Duration::from_millis(900), "closed too early: {took:?}");
    })
    .await
    .unwrap();
}
