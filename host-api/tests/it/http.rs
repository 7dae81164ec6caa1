//! The SSRF-safe http client against loopback servers (allow-listed):
//! redirects are re-checked, bodies are capped, chunked bodies decoded.

use automations_host_api::HttpRequest;
use automations_host_api::net::{HttpClient, HttpConfig, HttpError};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A loopback server answering each of `responses` to one connection, in order.
fn server(responses: Vec<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for response in responses {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                line.clear();
            }
            reader.into_inner().write_all(response.as_bytes()).unwrap();
        }
    });
    base
}

fn get(url: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![],
        body: None,
    }
}

fn loopback_client(max_response_bytes: usize) -> HttpClient {
    HttpClient::new(HttpConfig {
        allow: vec!["127.0.0.0/8".parse().unwrap()],
        max_response_bytes,
        ..HttpConfig::default()
    })
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

#[test]
fn follows_a_redirect_on_the_same_host_and_decodes_chunks() {
    let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let base = server(vec![
        "HTTP/1.1 302 Found\r\nlocation: /next\r\ncontent-length: 0\r\n\r\n".into(),
        chunked.into(),
    ]);
    let response = loopback_client(1 << 20)
        .fetch_with(&get(&format!("{base}/start")), deadline(), &|_| true)
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"hello world");
}

#[test]
fn a_redirect_to_a_host_without_capability_is_refused() {
    let base = server(vec![
        "HTTP/1.1 302 Found\r\nlocation: http://localhost:1/\r\ncontent-length: 0\r\n\r\n".into(),
    ]);
    let err = loopback_client(1 << 20)
        .fetch_with(&get(&base), deadline(), &|host| host == "127.0.0.1")
        .unwrap_err();
    assert_eq!(err, HttpError::RedirectNotGranted("localhost".into()));
}

#[test]
fn a_redirect_to_a_refused_address_is_refused() {
    let base = server(vec![
        "HTTP/1.1 307 Temporary\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n"
            .into(),
    ]);
    let err = loopback_client(1 << 20)
        .fetch_with(&get(&base), deadline(), &|_| true)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("169.254.169.254 is refused (cloud metadata)"),
        "{err}"
    );
}

#[test]
fn oversized_bodies_are_cut_off() {
    let body = "x".repeat(2000);
    let base = server(vec![
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        ),
        format!("HTTP/1.1 200 OK\r\n\r\n{body}"),
    ]);
    let client = loopback_client(1000);
    assert_eq!(
        client
            .fetch_with(&get(&base), deadline(), &|_| true)
            .unwrap_err(),
        HttpError::TooLarge(1000)
    );
    assert_eq!(
        client
            .fetch_with(&get(&base), deadline(), &|_| true)
            .unwrap_err(),
        HttpError::TooLarge(1000)
    );
}

#[test]
fn a_silent_server_times_out_at_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let started = Instant::now();
    let err = loopback_client(1000)
        .fetch_with(
            &get(&url),
            Instant::now() + Duration::from_millis(300),
            &|_| true,
        )
        .unwrap_err();
    assert_eq!(err, HttpError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(listener);
}

#[test]
fn header_injection_is_refused() {
    let client = loopback_client(1000);
    let mut request = get("http://127.0.0.1:1/");
    request.headers.push(("x".into(), "a\r\nhost: evil".into()));
    assert!(matches!(
        client.fetch_with(&request, deadline(), &|_| true),
        Err(HttpError::Invalid(_))
    ));
}
