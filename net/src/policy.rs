//! The outgoing-address policy (SSRF defence): which IP addresses a webhook delivery or a
//! plugin request may connect to. Loopback, private, link-local, CGNAT, unique-local,
//! multicast, reserved and cloud-metadata addresses are refused unless the allow-list
//! names them. It judges addresses only; names are resolved once by [`crate::resolve`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address block, `10.0.0.0/8`, `::1/128` or a bare address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// A malformed allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address block `{0}`: expected an IP address or CIDR like 10.0.0.0/8")]
pub struct IpNetParseError(pub String);

impl FromStr for IpNet {
    type Err = IpNetParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || IpNetParseError(text.to_string());
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| err())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(err)?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl IpNet {
    /// Whether `ip` is inside this block (IPv4 and IPv6 never match each other).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == b[full] & mask
}

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address {addr} is refused ({reason}); the allow-list does not permit it")]
pub struct AddressDenied {
    pub addr: IpAddr,
    pub reason: &'static str,
}

/// The policy: special-purpose addresses are refused unless allow-listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

impl AddressPolicy {
    /// A policy whose allow-list permits `allow` despite the refusals.
    pub fn new(allow: Vec<IpNet>) -> Self {
        AddressPolicy { allow }
    }

    /// A policy that permits every address (`--webhook-allow-private` for webhooks).
    pub fn allow_all() -> Self {
        AddressPolicy::new(vec![
            IpNet {
                addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                prefix: 0,
            },
            IpNet {
                addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                prefix: 0,
            },
        ])
    }

    /// Ok if a connection to `addr` is permitted.
    pub fn check(&self, addr: IpAddr) -> Result<(), AddressDenied> {
        let Some(reason) = refusal_reason(addr) else {
            return Ok(());
        };
        if self.allow.iter().any(|net| net.contains(addr)) {
            return Ok(());
        }
        Err(AddressDenied { addr, reason })
    }
}

/// Why `addr` is special-purpose, or `None` for an ordinary public address.
pub fn refusal_reason(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    // Checked first: the metadata address is also link-local, and the more
    // specific reason helps whoever reads the error.
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        return Some("cloud metadata");
    }
    let reason = match (a, b, c) {
        (0, _, _) => "unspecified / this network",
        (127, _, _) => "loopback",
        (10, _, _) => "private",
        (172, 16..=31, _) => "private",
        (192, 168, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "carrier-grade NAT",
        (192, 0, 0) => "IETF protocol assignments",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved / broadcast",
        _ => return None,
    };
    Some(reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    // Addresses that embed an IPv4 address are judged by it.
    if let Some(v4) = embedded_v4(ip) {
        return v4_reason(v4);
    }
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("cloud metadata");
    }
    let first = ip.segments()[0];
    let reason = if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if first & 0xfe00 == 0xfc00 {
        "unique local (private)"
    } else if first & 0xffc0 == 0xfe80 {
        "link-local"
    } else if first & 0xffc0 == 0xfec0 {
        "site-local (deprecated private)"
    } else if first & 0xff00 == 0xff00 {
        "multicast"
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        "documentation"
    } else {
        return None;
    };
    Some(reason)
}

/// The IPv4 address inside IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
/// (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
        return Some(from(s[6], s[7]));
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(from(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(from(s[1], s[2]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(policy: &AddressPolicy, ip: &str) -> bool {
        policy.check(ip.parse().unwrap()).is_err()
    }

    #[test]
    fn refuses_special_purpose_addresses() {
        let policy = AddressPolicy::default();
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "ff02::1",
        ] {
            assert!(denied(&policy, ip), "{ip} should be refused");
        }
    }

    #[test]
    fn allows_public_addresses() {
        let policy = AddressPolicy::default();
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
        ] {
            assert!(!denied(&policy, ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn metadata_has_its_own_reason() {
        let err = AddressPolicy::default()
            .check("169.254.169.254".parse().unwrap())
            .unwrap_err();
        assert_eq!(err.reason, "cloud metadata");
        assert!(err.to_string().contains("169.254.169.254"));
        let err = AddressPolicy::default()
            .check("fd00:ec2::254".parse().unwrap())
            .unwrap_err();
        assert_eq!(err.reason, "cloud metadata");
    }

    #[test]
    fn allow_list_permits_named_blocks_only() {
        let policy =
            AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()]);
        assert!(!denied(&policy, "127.0.0.1"));
        assert!(!denied(&policy, "::1"));
        assert!(denied(&policy, "10.0.0.1"));
        assert!(denied(&policy, "169.254.169.254"));
    }

    #[test]
    fn cidr_parsing_and_matching() {
        let net: IpNet = "172.16.0.0/12".parse().unwrap();
        assert!(net.contains("172.31.0.1".parse().unwrap()));
        assert!(!net.contains("172.32.0.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("nope".parse::<IpNet>().is_err());
        assert_eq!(net.to_string(), "172.16.0.0/12");
    }
}
