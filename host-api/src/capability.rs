//! Capabilities: the strings a manifest requests and an admin grants
//! (`records:read:<object>`, `records:write:<object>`, `email:send`, `notify`,
//! `tasks:create`, `http:fetch:<host>`, `log`) and the set arithmetic on them.
//! The effective set of a plugin is requested ∩ granted; nothing here ever
//! widens a set (no wildcards, no implied capabilities).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// One capability a plugin may hold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// `records:read:<object>`: records.get and records.query on `object`.
    RecordsRead(String),
    /// `records:write:<object>`: records.create and records.update on `object`.
    RecordsWrite(String),
    /// `email:send`.
    EmailSend,
    /// `notify`: notify.user and notify.channel.
    Notify,
    /// `tasks:create`.
    TasksCreate,
    /// `http:fetch:<host>`: http.fetch to URLs whose host name is `host`.
    HttpFetch(String),
    /// `log`.
    Log,
}

/// Why a capability string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid capability `{text}`: {reason}")]
pub struct CapabilityParseError {
    /// The rejected text.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for Capability {
    type Err = CapabilityParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| CapabilityParseError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        match text.split(':').collect::<Vec<_>>().as_slice() {
            ["records", "read", object] => valid_object(object)
                .map(|()| Capability::RecordsRead(object.to_string()))
                .map_err(|r| fail(&r)),
            ["records", "write", object] => valid_object(object)
                .map(|()| Capability::RecordsWrite(object.to_string()))
                .map_err(|r| fail(&r)),
            ["email", "send"] => Ok(Capability::EmailSend),
            ["notify"] => Ok(Capability::Notify),
            ["tasks", "create"] => Ok(Capability::TasksCreate),
            ["http", "fetch", host] => valid_host(host)
                .map(|()| Capability::HttpFetch(host.to_ascii_lowercase()))
                .map_err(|r| fail(&r)),
            ["log"] => Ok(Capability::Log),
            _ => Err(fail(
                "expected one of records:read:<object>, records:write:<object>, email:send, \
                 notify, tasks:create, http:fetch:<host>, log",
            )),
        }
    }
}

fn valid_object(object: &str) -> Result<(), String> {
    let mut chars = object.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    if first_ok && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        Ok(())
    } else {
        Err("object names are lower-case letters, digits and `_`, starting with a letter".into())
    }
}

fn valid_host(host: &str) -> Result<(), String> {
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err("a host is a DNS name or IPv4 address without port or scheme".into())
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::RecordsRead(object) => write!(f, "records:read:{object}"),
            Capability::RecordsWrite(object) => write!(f, "records:write:{object}"),
            Capability::EmailSend => f.write_str("email:send"),
            Capability::Notify => f.write_str("notify"),
            Capability::TasksCreate => f.write_str("tasks:create"),
            Capability::HttpFetch(host) => write!(f, "http:fetch:{host}"),
            Capability::Log => f.write_str("log"),
        }
    }
}

/// A set of capabilities (requested, granted, or effective).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapabilitySet(BTreeSet<Capability>);

impl CapabilitySet {
    /// The empty set: nothing allowed.
    pub fn empty() -> Self {
        CapabilitySet::default()
    }

    /// Parses capability strings; fails on the first invalid one.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, CapabilityParseError> {
        items
            .iter()
            .map(|s| s.as_ref().parse())
            .collect::<Result<_, _>>()
            .map(CapabilitySet)
    }

    /// The capabilities in both sets: requested ∩ granted.
    pub fn intersect(&self, other: &CapabilitySet) -> CapabilitySet {
        CapabilitySet(self.0.intersection(&other.0).cloned().collect())
    }

    /// Whether `capability` is in the set.
    pub fn allows(&self, capability: &Capability) -> bool {
        self.0.contains(capability)
    }

    /// The capabilities, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = &Capability> {
        self.0.iter()
    }

    /// The capabilities as strings, sorted.
    pub fn to_strings(&self) -> Vec<String> {
        let mut strings: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        strings.sort();
        strings
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        CapabilitySet(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_kind() {
        for text in [
            "records:read:lead",
            "records:write:opportunity",
            "email:send",
            "notify",
            "tasks:create",
            "http:fetch:api.example.com",
            "log",
        ] {
            let cap: Capability = text.parse().unwrap();
            assert_eq!(cap.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_strings_with_a_reason() {
        for text in [
            "records:read",
            "records:read:Lead",
            "http:fetch:a/b",
            "fs:read",
            "",
        ] {
            let err = text.parse::<Capability>().unwrap_err();
            assert!(err.to_string().contains(text), "{err}");
        }
    }

    #[test]
    fn effective_set_is_the_intersection() {
        let requested = CapabilitySet::parse(&["records:read:lead", "email:send", "log"]).unwrap();
        let granted = CapabilitySet::parse(&["records:read:lead", "log", "notify"]).unwrap();
        let effective = requested.intersect(&granted);
        assert_eq!(effective.to_strings(), ["log", "records:read:lead"]);
        assert!(!effective.allows(&Capability::EmailSend));
        assert!(!effective.allows(&Capability::Notify));
    }

    #[test]
    fn host_names_compare_case_insensitively() {
        let cap: Capability = "http:fetch:API.Example.com".parse().unwrap();
        assert_eq!(cap, Capability::HttpFetch("api.example.com".into()));
    }
}
