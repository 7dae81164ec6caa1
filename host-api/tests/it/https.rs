//! https for plugin `http`: a local TLS server with a self-signed certificate for
//! `localhost`/`127.0.0.1` (host-api/test_data/tls), trusted only through the test hook
//! `HttpConfig::extra_roots`. The SSRF rules hold before TLS (resolve, check, connect to
//! the checked address), the certificate is verified for the URL's host name, and
//! redirects out of https are re-checked.

use automations_host_api::HttpRequest;
use automations_host_api::net::{HttpClient, HttpConfig, HttpError};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn tls_file(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data/tls")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn server_config() -> Arc<ServerConfig> {
    let cert = CertificateDer::from(tls_file("cert.der"));
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(tls_file("key.der")));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    Arc::new(config)
}

/// A TLS server on `ip` answering each of `responses` to one connection, in order;
/// returns its port. Handshake failures (the refusal tests) just end that connection.
fn tls_server(ip: &str, responses: Vec<String>) -> u16 {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = server_config();
    std::thread::spawn(move || {
        for response in responses {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let connection = ServerConnection::new(config.clone()).unwrap();
            let mut reader = BufReader::new(StreamOwned::new(connection, tcp));
            let mut line = String::new();
            let mut ok = true;
            loop {
                match reader.read_line(&mut line) {
                    Ok(n) if n > 0 && line != "\r\n" => line.clear(),
                    Ok(_) => break,
                    Err(_) => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                let mut stream = reader.into_inner();
                let _ = stream.write_all(response.as_bytes());
                stream.conn.send_close_notify();
                let _ = stream.flush();
            }
        }
    });
    port
}

fn get(url: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![],
        body: None,
    }
}

/// Loopback allowed (the local server), the test certificate trusted when `trusted`.
fn client(trusted: bool) -> HttpClient {
    HttpClient::new(HttpConfig {
        allow: vec!["127.0.0.0/8".parse().unwrap()],
        extra_roots: if trusted {
            vec![tls_file("cert.der")]
        } else {
            Vec::new()
        },
        ..HttpConfig::default()
    })
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

const HELLO: &str = "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nhello tls";

#[test]
fn https_to_a_trusted_local_server_by_name_and_by_address() {
    let port = tls_server("127.0.0.1", vec![HELLO.into(), HELLO.into()]);
    let client = client(true);
    for host in ["localhost", "127.0.0.1"] {
        let response = client
            .fetch_with(
                &get(&format!("https://{host}:{port}/hi")),
                deadline(),
                &|_| true,
            )
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"hello tls");
    }
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let port = tls_server("127.0.0.1", vec![HELLO.into()]);
    let err = client(false)
        .fetch_with(
            &get(&format!("https://localhost:{port}/")),
            deadline(),
            &|_| true,
        )
        .unwrap_err();
    let HttpError::Tls(message) = &err else {
        panic!("unexpected {err:?}")
    };
    assert!(message.contains("UnknownIssuer"), "{message}");
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    // 127.0.0.2 is loopback too, but the certificate names only localhost and 127.0.0.1.
    let port = tls_server("127.0.0.2", vec![HELLO.into()]);
    let err = client(true)
        .fetch_with(
            &get(&format!("https://127.0.0.2:{port}/")),
            deadline(),
            &|_| true,
        )
        .unwrap_err();
    let HttpError::Tls(message) = &err else {
        panic!("unexpected {err:?}")
    };
    assert!(message.contains("not valid for name"), "{message}");
}

#[test]
fn https_to_a_refused_address_never_connects() {
    let client = HttpClient::new(HttpConfig::default());
    for url in ["https://127.0.0.1:1/", "https://169.254.169.254/latest/"] {
        let err = client
            .fetch_with(&get(url), deadline(), &|_| true)
            .unwrap_err();
        assert!(matches!(err, HttpError::Denied(_)), "{url}: {err:?}");
    }
}

#[test]
fn a_redirect_out_of_https_is_rechecked() {
    let redirect = "HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/latest/\r\ncontent-length: 0\r\n\r\n";
    let port = tls_server("127.0.0.1", vec![redirect.into()]);
    let err = client(true)
        .fetch_with(
            &get(&format!("https://localhost:{port}/")),
            deadline(),
            &|_| true,
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("169.254.169.254 is refused (cloud metadata)"),
        "{err}"
    );
}
