//! Builds the example plugins (examples/plugins, a separate cargo workspace)
//! for wasm32-wasip2 once per process and hands out their component bytes.
//! Cargo decides what is stale; a missing target fails with the fix to run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plugins")
}

fn build_once() -> &'static Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = plugins_dir();
        let target_dir = dir.join("target");
        let output = Command::new(env!("CARGO"))
            .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target_dir)
            // Flags meant for the host build (coverage, sanitizers) must not leak in.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .output()
            .map_err(|err| format!("cannot run cargo: {err}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let missing_target = stderr.contains("wasm32-wasip2")
                && (stderr.contains("target may not be installed") || stderr.contains("can't find crate"));
            return Err(if missing_target {
                format!("the wasm32-wasip2 target is not installed: run `rustup target add wasm32-wasip2`\n{stderr}")
            } else {
                format!("building examples/plugins failed:\n{stderr}")
            });
        }
        Ok(target_dir.join("wasm32-wasip2/release"))
    })
}

/// The component bytes of example plugin `crate_name` (e.g. `lead-scorer`).
pub fn component(crate_name: &str) -> Vec<u8> {
    let dir = build_once().as_ref().unwrap_or_else(|err| panic!("{err}"));
    let path = dir.join(format!("{}.wasm", crate_name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The manifest text of example plugin `crate_name`.
pub fn manifest_text(crate_name: &str) -> String {
    let path = plugins_dir().join(crate_name).join("manifest.json");
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}
