//! TLS for plugin `https://` requests (rustls with the ring provider). The connection is
//! made by the client to the address the policy already judged; this module only wraps
//! that socket, verifying the certificate against the web PKI roots (plus any roots a test
//! adds through [`super::HttpConfig::extra_roots`]) for the URL's host name, which is also
//! the SNI. It must never accept an unverified certificate or look a name up itself.

use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::client::HttpError;

/// A TLS stream over a checked TCP connection.
pub(super) type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// The client configuration: web PKI roots plus `extra_roots` (DER certificates).
pub(super) fn client_config(extra_roots: &[Vec<u8>]) -> Result<Arc<ClientConfig>, HttpError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra_roots {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|err| HttpError::Tls(format!("invalid extra root certificate: {err}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| HttpError::Tls(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Starts TLS on `tcp` for `host` (SNI and certificate name); the handshake completes on
/// the first read or write, within the socket's timeouts.
pub(super) fn wrap(
    config: &Arc<ClientConfig>,
    host: &str,
    tcp: TcpStream,
) -> Result<TlsStream, HttpError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| HttpError::Tls(format!("`{host}` is not a valid TLS server name")))?;
    let connection = ClientConnection::new(config.clone(), name)
        .map_err(|err| HttpError::Tls(err.to_string()))?;
    Ok(StreamOwned::new(connection, tcp))
}
