//! Outgoing http for plugins: the address policy (SSRF defence) and a small
//! blocking HTTP/1.1 client (https through rustls) that resolves names itself, connects only to
//! checked addresses and re-checks every redirect. It must never connect to an
//! address the policy has not approved, nor outlive the call's deadline.

pub mod client;
pub mod policy;
mod tls;
mod url;

pub use client::{HttpClient, HttpConfig, HttpError};
pub use policy::{AddressDenied, AddressPolicy, IpNet};

/// The lower-cased host name of an `http://` or `https://` URL.
pub fn url_host(url: &str) -> Result<String, String> {
    url::Url::parse(url).map(|u| u.host)
}
