//! Resolving a destination once: the name is looked up here, every address is judged by
//! the [`AddressPolicy`], and only the permitted ones are handed back for the caller to
//! connect to. The caller must connect to those addresses and never resolve the name
//! again (a second lookup could answer differently: DNS rebinding).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use crate::policy::{AddressDenied, AddressPolicy};

/// Looks names up. [`SystemResolver`] asks the operating system; tests substitute one
/// that answers what they need (e.g. a name that rebinds on its second lookup).
pub trait Resolver: Send + Sync {
    fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The operating system's resolver (blocking: call it off async threads).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

/// Why a destination cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("cannot resolve `{0}`")]
    Unresolved(String),
    #[error(transparent)]
    Denied(#[from] AddressDenied),
}

/// The addresses of `host:port` that `policy` permits, in the resolver's order. An IP
/// literal (`[::1]` too) is judged without a lookup. When every address is refused the
/// first refusal is the error.
pub fn checked_addrs(
    resolver: &dyn Resolver,
    policy: &AddressPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, ResolveError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let candidates = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => resolver
            .lookup(bare, port)
            .map_err(|_| ResolveError::Unresolved(bare.to_string()))?,
    };
    let mut first_denial = None;
    let mut permitted = Vec::with_capacity(candidates.len());
    for addr in candidates {
        match policy.check(addr.ip()) {
            Ok(()) => permitted.push(addr),
            Err(denied) => {
                first_denial.get_or_insert(denied);
            }
        }
    }
    match (permitted.is_empty(), first_denial) {
        (false, _) => Ok(permitted),
        (true, Some(denied)) => Err(denied.into()),
        (true, None) => Err(ResolveError::Unresolved(bare.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Fixed(Mutex<Vec<Vec<SocketAddr>>>);

    impl Resolver for Fixed {
        fn lookup(&self, _: &str, _: u16) -> std::io::Result<Vec<SocketAddr>> {
            Ok(self.0.lock().unwrap().remove(0))
        }
    }

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn keeps_only_permitted_addresses() {
        let r = Fixed(Mutex::new(vec![addrs(&[
            "127.0.0.1:80",
            "93.184.216.34:80",
        ])]));
        let got = checked_addrs(&r, &AddressPolicy::default(), "mixed.example", 80).unwrap();
        assert_eq!(got, addrs(&["93.184.216.34:80"]));
    }

    #[test]
    fn all_refused_is_the_first_refusal() {
        let r = Fixed(Mutex::new(vec![addrs(&[
            "169.254.169.254:80",
            "10.0.0.1:80",
        ])]));
        let err = checked_addrs(&r, &AddressPolicy::default(), "meta.example", 80).unwrap_err();
        assert!(err.to_string().contains("cloud metadata"), "{err}");
    }

    #[test]
    fn literals_are_judged_without_a_lookup() {
        let r = Fixed(Mutex::new(Vec::new()));
        let policy = AddressPolicy::default();
        assert!(checked_addrs(&r, &policy, "[::1]", 80).is_err());
        assert_eq!(
            checked_addrs(&r, &policy, "93.184.216.34", 8080).unwrap(),
            addrs(&["93.184.216.34:8080"])
        );
        assert!(checked_addrs(&r, &AddressPolicy::allow_all(), "127.0.0.1", 1).is_ok());
    }
}
