//! `automations plugin new NAME`: writes a new plugin crate (Cargo.toml,
//! src/lib.rs using the SDK, manifest.json, .gitignore) into a directory. It
//! never overwrites an existing file.

use std::path::{Path, PathBuf};

/// How to scaffold a plugin.
#[derive(Debug, Clone)]
pub struct ScaffoldConfig {
    /// How the new crate depends on `automations-plugin`, as a Cargo.toml
    /// dependency value, e.g. `{ path = "../automations/sdk" }`.
    pub sdk_dependency: String,
}

impl Default for ScaffoldConfig {
    fn default() -> Self {
        ScaffoldConfig {
            sdk_dependency: r#"{ path = "../sdk" }"#.to_string(),
        }
    }
}

/// Why scaffolding failed.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error(
        "invalid plugin name `{0}`: use lower-case letters, digits and `-`, starting with a letter"
    )]
    InvalidName(String),
    #[error("{} already exists; not overwriting it", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes a plugin crate named `name` into `dir` (created if missing) and
/// returns the paths written.
pub fn scaffold_plugin(
    name: &str,
    dir: &Path,
    config: &ScaffoldConfig,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(ScaffoldError::InvalidName(name.to_string()));
    }
    let files = [
        ("Cargo.toml", cargo_toml(name, &config.sdk_dependency)),
        ("src/lib.rs", LIB_RS.to_string()),
        ("manifest.json", manifest_json(name)),
        (".gitignore", "/target\n".to_string()),
    ];
    for (relative, _) in &files {
        let path = dir.join(relative);
        if path.exists() {
            return Err(ScaffoldError::Exists(path));
        }
    }
    let mut written = Vec::new();
    for (relative, content) in files {
        let path = dir.join(relative);
        let io = |source| ScaffoldError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, content).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}

fn cargo_toml(name: &str, sdk: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# Build with: cargo build --release --target wasm32-wasip2
# (once: rustup target add wasm32-wasip2)
[lib]
crate-type = ["cdylib"]

[dependencies]
automations-plugin = {sdk}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
"#
    )
}

fn manifest_json(name: &str) -> String {
    let manifest = serde_json::json!({
        "name": name,
        "version": "0.1.0",
        "description": "",
        "input_schema": {"type": "object", "required": ["record_id"], "properties": {"record_id": {"type": "string"}}},
        "output_schema": {"type": "object"},
        "capabilities": ["records:read:lead", "log"],
        "limits": {"timeout_ms": 5000, "memory_mb": 64}
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&manifest).expect("static JSON")
    )
}

const LIB_RS: &str = r#"//! An automations plugin (custom action).

use automations_plugin::{Ctx, Error};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Input {
    record_id: String,
}

#[derive(Serialize)]
struct Output {
    found: bool,
}

fn run(input: Input, ctx: &Ctx) -> Result<Output, Error> {
    let lead = ctx.get_record("lead", &input.record_id)?;
    ctx.info(&format!("lead {} found: {}", input.record_id, lead.is_some()));
    Ok(Output { found: lead.is_some() })
}

automations_plugin::plugin!(run);
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_crate_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("my-plugin");
        let written = scaffold_plugin("my-plugin", &target, &ScaffoldConfig::default()).unwrap();
        assert_eq!(written.len(), 4);
        let manifest = std::fs::read_to_string(target.join("manifest.json")).unwrap();
        crate::Manifest::from_json(&manifest, &crate::LimitPolicy::default()).unwrap();
        let cargo = std::fs::read_to_string(target.join("Cargo.toml")).unwrap();
        assert!(cargo.contains(r#"name = "my-plugin""#));
        let err = scaffold_plugin("my-plugin", &target, &ScaffoldConfig::default()).unwrap_err();
        assert!(matches!(err, ScaffoldError::Exists(_)), "{err}");
    }

    #[test]
    fn rejects_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["", "My", "a b", "1x", "a_b"] {
            assert!(
                scaffold_plugin(bad, dir.path(), &ScaffoldConfig::default()).is_err(),
                "{bad}"
            );
        }
    }
}
