//! A small blocking HTTP/1.1 client for plugin requests. Names are resolved
//! here, every candidate address is judged by the [`AddressPolicy`], and the
//! connection goes to the judged address itself (no second lookup, so DNS
//! rebinding cannot swap it). Redirects are followed by hand, each hop
//! re-checked (capability for its host, then addresses). The whole exchange
//! is bounded by the call's deadline and the response size cap.
//!
//! `https://` goes through [`super::tls`] on the same checked connection: the
//! certificate is verified for the URL's host name (also the SNI), never for
//! the address.

use super::policy::{AddressDenied, AddressPolicy, IpNet};
use super::url::Url;
use crate::capability::Capability;
use crate::host::{CallInfo, HttpRequest, HttpResponse};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Client configuration (part of the host's configuration).
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Address blocks permitted despite the policy (e.g. `127.0.0.0/8` in tests).
    pub allow: Vec<IpNet>,
    pub connect_timeout: Duration,
    /// Per-request cap; the call's deadline may cut it shorter.
    pub timeout: Duration,
    pub max_response_bytes: usize,
    pub max_redirects: u8,
    /// DER certificates trusted as roots besides the web PKI ones (tests with a local
    /// TLS server; never user input).
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allow: Vec::new(),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            max_response_bytes: 4 << 20,
            max_redirects: 5,
            extra_roots: Vec::new(),
        }
    }
}

/// Why a plugin request failed; the text goes back to the plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No longer returned (https is supported); kept so that matching code still builds.
    #[error("https is not supported by this host yet: {0}")]
    HttpsUnsupported(String),
    #[error("redirect to host `{0}` refused: capability http:fetch:{0} not granted")]
    RedirectNotGranted(String),
    #[error(transparent)]
    Denied(#[from] AddressDenied),
    #[error("cannot resolve `{0}`")]
    Resolve(String),
    #[error("connection to {addr} failed: {message}")]
    Connect { addr: SocketAddr, message: String },
    #[error("http request timed out")]
    Timeout,
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    #[error("too many redirects (more than {0})")]
    TooManyRedirects(u8),
    #[error("bad http response: {0}")]
    Protocol(String),
    #[error("tls: {0}")]
    Tls(String),
}

impl HttpError {
    /// Whether the same request may succeed later: the name did not resolve, the
    /// connection failed or timed out, or the answer was cut off. A refusal by the policy
    /// or the grants, a bad request and an oversized answer would fail again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HttpError::Resolve(_)
                | HttpError::Connect { .. }
                | HttpError::Timeout
                | HttpError::Protocol(_)
        )
    }
}

/// The SSRF-safe client.
#[derive(Debug, Clone, Default)]
pub struct HttpClient {
    policy: AddressPolicy,
    config: HttpConfig,
    /// Built on the first https request (loading the roots costs a little).
    tls: Arc<OnceLock<Result<Arc<rustls::ClientConfig>, HttpError>>>,
}

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
const MAX_HEADER_BYTES: usize = 64 << 10;

impl HttpClient {
    pub fn new(config: HttpConfig) -> Self {
        HttpClient {
            policy: AddressPolicy::new(config.allow.clone()),
            config,
            tls: Arc::default(),
        }
    }

    /// Performs `request` for a plugin call: bounded by the call's deadline;
    /// redirects must stay within the hosts the call may fetch.
    pub fn fetch(&self, request: &HttpRequest, call: &CallInfo) -> Result<HttpResponse, HttpError> {
        let allowed = |host: &str| call.allows(&Capability::HttpFetch(host.to_string()));
        self.fetch_with(request, call.deadline, &allowed)
    }

    /// Performs `request`, stopping at `deadline`; `host_allowed` judges the
    /// host of every redirect target.
    pub fn fetch_with(
        &self,
        request: &HttpRequest,
        deadline: Instant,
        host_allowed: &dyn Fn(&str) -> bool,
    ) -> Result<HttpResponse, HttpError> {
        let deadline = deadline.min(Instant::now() + self.config.timeout);
        let mut method = request.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(HttpError::Invalid(format!(
                "method `{}` not supported",
                request.method
            )));
        }
        check_headers(&request.headers)?;
        let mut url = Url::parse(&request.url).map_err(HttpError::Invalid)?;
        let mut body = request.body.clone();
        for _hop in 0..=self.config.max_redirects {
            let response =
                self.exchange(&method, &url, &request.headers, body.as_deref(), deadline)?;
            let Some(location) = redirect_location(&response) else {
                return Ok(response);
            };
            let next = url.join(&location).map_err(HttpError::Protocol)?;
            if next.host != url.host && !host_allowed(&next.host) {
                return Err(HttpError::RedirectNotGranted(next.host));
            }
            // 303, and 301/302 after a POST, turn into a GET without body (as browsers do).
            if response.status == 303 || (method == "POST" && matches!(response.status, 301 | 302))
            {
                method = "GET".into();
                body = None;
            }
            url = next;
        }
        Err(HttpError::TooManyRedirects(self.config.max_redirects))
    }

    fn exchange(
        &self,
        method: &str,
        url: &Url,
        headers: &[(String, String)],
        body: Option<&[u8]>,
        deadline: Instant,
    ) -> Result<HttpResponse, HttpError> {
        let addr = self.resolve(url)?;
        let tcp = connect(addr, self.config.connect_timeout, deadline)?;
        set_timeouts(&tcp, deadline)?;
        if url.scheme == "https" {
            let config = self
                .tls
                .get_or_init(|| super::tls::client_config(&self.config.extra_roots))
                .clone()?;
            let stream = super::tls::wrap(&config, &url.host, tcp)?;
            self.send(stream, method, url, headers, body, deadline)
        } else {
            self.send(tcp, method, url, headers, body, deadline)
        }
    }

    /// Writes the request on `stream` (plain or TLS) and reads the response.
    fn send(
        &self,
        mut stream: impl Timed + Write,
        method: &str,
        url: &Url,
        headers: &[(String, String)],
        body: Option<&[u8]>,
        deadline: Instant,
    ) -> Result<HttpResponse, HttpError> {
        let head = request_head(method, url, headers, body.map_or(0, <[u8]>::len));
        stream.write_all(head.as_bytes()).map_err(io_error)?;
        if let Some(body) = body {
            stream.write_all(body).map_err(io_error)?;
        }
        let mut reader = BufReader::new(stream);
        read_response(
            &mut reader,
            method == "HEAD",
            deadline,
            self.config.max_response_bytes,
        )
    }

    /// The first address of `url`'s host that the policy permits; refuses
    /// with the first denial when none is permitted.
    fn resolve(&self, url: &Url) -> Result<SocketAddr, HttpError> {
        let resolver = automations_net::SystemResolver;
        match automations_net::checked_addrs(&resolver, &self.policy, &url.host, url.port) {
            Ok(addrs) => addrs
                .first()
                .copied()
                .ok_or_else(|| HttpError::Resolve(url.host.clone())),
            Err(automations_net::ResolveError::Denied(denied)) => Err(HttpError::Denied(denied)),
            Err(automations_net::ResolveError::Unresolved(_)) => {
                Err(HttpError::Resolve(url.host.clone()))
            }
        }
    }
}

fn check_headers(headers: &[(String, String)]) -> Result<(), HttpError> {
    for (name, value) in headers {
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !name_ok || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(HttpError::Invalid(format!("invalid header `{name}`")));
        }
    }
    Ok(())
}

/// Headers the client owns; a plugin's values for them are dropped.
const OWNED_HEADERS: [&str; 4] = ["host", "content-length", "connection", "transfer-encoding"];

fn request_head(method: &str, url: &Url, headers: &[(String, String)], body_len: usize) -> String {
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
        url.target,
        url.authority()
    );
    if body_len > 0 || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("content-length: {body_len}\r\n"));
    }
    for (name, value) in headers {
        if !OWNED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    head
}

fn connect(
    addr: SocketAddr,
    connect_timeout: Duration,
    deadline: Instant,
) -> Result<TcpStream, HttpError> {
    let budget = remaining(deadline)?.min(connect_timeout);
    TcpStream::connect_timeout(&addr, budget).map_err(|err| {
        if err.kind() == std::io::ErrorKind::TimedOut {
            HttpError::Timeout
        } else {
            HttpError::Connect {
                addr,
                message: err.to_string(),
            }
        }
    })
}

/// A stream whose socket timeouts can be tightened as the deadline nears.
trait Timed: Read {
    fn socket(&self) -> &TcpStream;
}

impl Timed for TcpStream {
    fn socket(&self) -> &TcpStream {
        self
    }
}

impl Timed for super::tls::TlsStream {
    fn socket(&self) -> &TcpStream {
        self.get_ref()
    }
}

fn remaining(deadline: Instant) -> Result<Duration, HttpError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(HttpError::Timeout)
    } else {
        Ok(left)
    }
}

fn set_timeouts(stream: &TcpStream, deadline: Instant) -> Result<(), HttpError> {
    let left = remaining(deadline)?;
    stream.set_read_timeout(Some(left)).map_err(io_error)?;
    stream.set_write_timeout(Some(left)).map_err(io_error)
}

fn io_error(err: std::io::Error) -> HttpError {
    // Handshake and certificate failures come wrapped in io errors.
    if let Some(tls) = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return HttpError::Tls(tls.to_string());
    }
    match err.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => HttpError::Timeout,
        _ => HttpError::Protocol(err.to_string()),
    }
}

fn redirect_location(response: &HttpResponse) -> Option<String> {
    if !matches!(response.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        .map(|(_, value)| value.clone())
}

fn read_response(
    reader: &mut BufReader<impl Timed>,
    head_only: bool,
    deadline: Instant,
    max_body: usize,
) -> Result<HttpResponse, HttpError> {
    let mut header_bytes = 0;
    let status_line = read_line(reader, deadline, &mut header_bytes)?;
    let status = parse_status(&status_line)?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, deadline, &mut header_bytes)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| HttpError::Protocol(format!("malformed header line `{line}`")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    let body = if no_body {
        Vec::new()
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(reader, deadline, max_body)?
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| HttpError::Protocol(format!("bad content-length `{length}`")))?;
        if length > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        read_exact(reader, length, deadline)?
    } else {
        read_to_end(reader, deadline, max_body)?
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn parse_status(line: &str) -> Result<u16, HttpError> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Protocol(format!("bad status line `{line}`")));
    }
    code.parse()
        .ok()
        .filter(|c| (100..600).contains(c))
        .ok_or_else(|| HttpError::Protocol(format!("bad status line `{line}`")))
}

fn read_line(
    reader: &mut BufReader<impl Timed>,
    deadline: Instant,
    used: &mut usize,
) -> Result<String, HttpError> {
    set_timeouts(reader.get_ref().socket(), deadline)?;
    let mut line = Vec::new();
    let budget = (MAX_HEADER_BYTES - *used) as u64;
    let n = reader
        .by_ref()
        .take(budget)
        .read_until(b'\n', &mut line)
        .map_err(io_error)?;
    *used += n;
    if !line.ends_with(b"\n") {
        return Err(if *used >= MAX_HEADER_BYTES {
            HttpError::Protocol("response headers too large".into())
        } else {
            HttpError::Protocol("connection closed in the response head".into())
        });
    }
    let text =
        String::from_utf8(line).map_err(|_| HttpError::Protocol("non-UTF-8 header".into()))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

fn read_exact(
    reader: &mut BufReader<impl Timed>,
    length: usize,
    deadline: Instant,
) -> Result<Vec<u8>, HttpError> {
    let mut body = vec![0; length];
    let mut filled = 0;
    while filled < length {
        set_timeouts(reader.get_ref().socket(), deadline)?;
        match reader.read(&mut body[filled..]).map_err(io_error)? {
            0 => {
                return Err(HttpError::Protocol(
                    "connection closed before the body ended".into(),
                ));
            }
            n => filled += n,
        }
    }
    Ok(body)
}

fn read_to_end(
    reader: &mut BufReader<impl Timed>,
    deadline: Instant,
    max_body: usize,
) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        set_timeouts(reader.get_ref().socket(), deadline)?;
        let n = reader.read(&mut buf).map_err(io_error)?;
        if n == 0 {
            return Ok(body);
        }
        if body.len() + n > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        body.extend_from_slice(&buf[..n]);
    }
}

fn read_chunked(
    reader: &mut BufReader<impl Timed>,
    deadline: Instant,
    max_body: usize,
) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let mut used = 0;
        let line = read_line(reader, deadline, &mut used)?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Protocol(format!("bad chunk size `{size_text}`")))?;
        if size == 0 {
            // Trailers end with an empty line.
            while !read_line(reader, deadline, &mut used)?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        body.extend(read_exact(reader, size, deadline)?);
        read_line(reader, deadline, &mut used)?;
    }
}

#[cfg(test)]
mod transient_tests {
    use super::*;

    #[test]
    fn network_failures_are_transient_refusals_are_not() {
        let addr: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let transient = [
            HttpError::Resolve("x".into()),
            HttpError::Connect {
                addr,
                message: "refused".into(),
            },
            HttpError::Timeout,
            HttpError::Protocol("cut".into()),
        ];
        let permanent = [
            HttpError::Invalid("x".into()),
            HttpError::RedirectNotGranted("x".into()),
            HttpError::TooLarge(1),
            HttpError::TooManyRedirects(1),
            HttpError::Tls("bad certificate".into()),
        ];
        assert!(transient.iter().all(HttpError::is_transient));
        assert!(!permanent.iter().any(HttpError::is_transient));
    }
}
