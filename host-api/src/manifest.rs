//! The plugin manifest uploaded with a component (DESIGN §12.1) and the
//! per-call limits resolved from it. Validation collects every problem so an
//! author sees them all at once; it never consults the component itself.

use crate::capability::CapabilitySet;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// A plugin manifest, as uploaded (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    /// A semantic version, `MAJOR.MINOR.PATCH[-pre][+build]`.
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Requested capabilities, e.g. `records:read:lead`.
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub limits: ManifestLimits,
}

/// Limits a manifest asks for; unset ones take the host defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_host_calls: Option<u32>,
}

/// The host's defaults and ceilings for plugin limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitPolicy {
    pub default_timeout: Duration,
    pub max_timeout: Duration,
    pub default_memory_mb: u64,
    pub max_memory_mb: u64,
    pub default_max_output_bytes: u64,
    pub max_output_bytes: u64,
    pub default_max_host_calls: u32,
    pub max_host_calls: u32,
    /// Input size cap (not configurable per plugin).
    pub max_input_bytes: u64,
}

impl Default for LimitPolicy {
    fn default() -> Self {
        LimitPolicy {
            default_timeout: Duration::from_secs(5),
            max_timeout: Duration::from_secs(60),
            default_memory_mb: 64,
            max_memory_mb: 512,
            default_max_output_bytes: 1 << 20,
            max_output_bytes: 16 << 20,
            default_max_host_calls: 1_000,
            max_host_calls: 100_000,
            max_input_bytes: 1 << 20,
        }
    }
}

/// The limits one call runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: u64,
    /// `None`: no fuel metering beyond the timeout.
    pub fuel: Option<u64>,
    pub max_input_bytes: u64,
    pub max_output_bytes: u64,
    pub max_host_calls: u32,
}

impl Limits {
    /// The host defaults (what a manifest without `limits` gets).
    pub fn defaults(policy: &LimitPolicy) -> Limits {
        Limits::resolve(&ManifestLimits::default(), policy)
    }

    /// Applies `requested` over the defaults of `policy`, clamped to its
    /// ceilings (validation reports values over a ceiling beforehand).
    pub fn resolve(requested: &ManifestLimits, policy: &LimitPolicy) -> Limits {
        let timeout = requested
            .timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(policy.default_timeout)
            .min(policy.max_timeout);
        let memory_mb = requested
            .memory_mb
            .unwrap_or(policy.default_memory_mb)
            .min(policy.max_memory_mb);
        Limits {
            timeout,
            memory_bytes: memory_mb << 20,
            fuel: requested.fuel,
            max_input_bytes: policy.max_input_bytes,
            max_output_bytes: requested
                .max_output_bytes
                .unwrap_or(policy.default_max_output_bytes)
                .min(policy.max_output_bytes),
            max_host_calls: requested
                .max_host_calls
                .unwrap_or(policy.default_max_host_calls)
                .min(policy.max_host_calls),
        }
    }
}

/// Everything wrong with a manifest, one readable line per problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid plugin manifest: {}", problems.join("; "))]
pub struct ManifestError {
    pub problems: Vec<String>,
}

impl Manifest {
    /// Parses and validates `manifest.json` text.
    pub fn from_json(text: &str, policy: &LimitPolicy) -> Result<Manifest, ManifestError> {
        let manifest: Manifest = serde_json::from_str(text).map_err(|err| ManifestError {
            problems: vec![format!("not a valid manifest: {err}")],
        })?;
        manifest.validate(policy)?;
        Ok(manifest)
    }

    /// Checks every field; returns all problems found.
    pub fn validate(&self, policy: &LimitPolicy) -> Result<(), ManifestError> {
        let mut problems = Vec::new();
        check_name(&self.name, &mut problems);
        if let Err(reason) = check_semver(&self.version) {
            problems.push(format!(
                "version `{}` is not semver: {reason}",
                self.version
            ));
        }
        for (field, schema) in [
            ("input_schema", &self.input_schema),
            ("output_schema", &self.output_schema),
        ] {
            if schema.as_ref().is_some_and(|s| !s.is_object()) {
                problems.push(format!("{field} must be a JSON object (a JSON schema)"));
            }
        }
        for text in &self.capabilities {
            if let Err(err) = text.parse::<crate::capability::Capability>() {
                problems.push(err.to_string());
            }
        }
        check_limits(&self.limits, policy, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ManifestError { problems })
        }
    }

    /// The requested capabilities (valid manifests only; invalid entries are
    /// dropped, so call [`Manifest::validate`] first).
    pub fn requested(&self) -> CapabilitySet {
        self.capabilities
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect()
    }
}

fn check_name(name: &str, problems: &mut Vec<String>) {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if name.is_empty() || name.len() > 64 || !valid_chars || !starts_with_letter {
        problems.push(format!(
            "name `{name}` must be 1-64 lower-case letters, digits, `-` or `_`, starting with a letter"
        ));
    }
}

fn check_limits(limits: &ManifestLimits, policy: &LimitPolicy, problems: &mut Vec<String>) {
    let mut range = |field: &str, value: Option<u64>, max: u64| {
        if let Some(v) = value.filter(|v| *v == 0 || *v > max) {
            problems.push(format!(
                "limits.{field} must be between 1 and {max}, got {v}"
            ));
        }
    };
    range(
        "timeout_ms",
        limits.timeout_ms,
        policy.max_timeout.as_millis() as u64,
    );
    range("memory_mb", limits.memory_mb, policy.max_memory_mb);
    range("fuel", limits.fuel, u64::MAX);
    range(
        "max_output_bytes",
        limits.max_output_bytes,
        policy.max_output_bytes,
    );
    range(
        "max_host_calls",
        limits.max_host_calls.map(u64::from),
        u64::from(policy.max_host_calls),
    );
}

/// Checks `MAJOR.MINOR.PATCH[-pre][+build]` (semver 2.0.0).
fn check_semver(version: &str) -> Result<(), String> {
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return Err("expected MAJOR.MINOR.PATCH".into());
    }
    for part in parts {
        let numeric = !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
        if !numeric || (part.len() > 1 && part.starts_with('0')) {
            return Err(format!("`{part}` is not a number without leading zeros"));
        }
    }
    for (what, ids) in [("pre-release", pre), ("build", build)] {
        let Some(ids) = ids else { continue };
        let ok = ids
            .split('.')
            .all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !ok {
            return Err(format!("bad {what} identifiers `{ids}`"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::from_json(text, &LimitPolicy::default())
    }

    #[test]
    fn minimal_manifest_gets_default_limits() {
        let m = parse(r#"{"name": "lead-scorer", "version": "1.2.3"}"#).unwrap();
        let limits = Limits::resolve(&m.limits, &LimitPolicy::default());
        assert_eq!(limits.timeout, Duration::from_secs(5));
        assert_eq!(limits.memory_bytes, 64 << 20);
        assert_eq!(limits.fuel, None);
    }

    #[test]
    fn semver_forms() {
        for ok in ["0.1.0", "1.0.0-alpha.1", "1.0.0+build.5", "10.20.30-rc-1+x"] {
            assert!(check_semver(ok).is_ok(), "{ok}");
        }
        for bad in ["1.0", "01.0.0", "1.0.0-", "a.b.c", "1.0.0+"] {
            assert!(check_semver(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reports_every_problem() {
        let err = parse(
            r#"{"name": "Bad Name", "version": "1", "input_schema": 3,
                "capabilities": ["records:read:lead", "fs:read"],
                "limits": {"timeout_ms": 0, "memory_mb": 100000}}"#,
        )
        .unwrap_err();
        let text = err.to_string();
        for needle in [
            "name `Bad Name`",
            "version `1`",
            "input_schema",
            "`fs:read`",
            "timeout_ms",
            "memory_mb",
        ] {
            assert!(text.contains(needle), "missing {needle} in {text}");
        }
        assert_eq!(err.problems.len(), 6);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = parse(r#"{"name": "a", "version": "1.0.0", "capabilites": []}"#).unwrap_err();
        assert!(err.to_string().contains("capabilites"), "{err}");
    }
}
