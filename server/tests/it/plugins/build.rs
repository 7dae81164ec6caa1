//! The example plugins' components: examples/plugins (its own cargo workspace) is built for
//! wasm32-wasip2 once per test process, into examples/plugins/target like scripts/test and
//! the host-api tests do; cargo decides what is stale.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plugins")
}

fn release_dir() -> &'static Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = plugins_dir();
        let target = dir.join("target");
        let output = Command::new(env!("CARGO"))
            .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            // Host-build flags (coverage, sanitizers) must not reach the wasm build.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "building examples/plugins failed (is `rustup target add wasm32-wasip2` done?):\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(target.join("wasm32-wasip2/release"))
    })
}

/// The path of example plugin `crate_name`'s component (e.g. `lead-scorer`).
pub fn component_path(crate_name: &str) -> PathBuf {
    let dir = release_dir().as_ref().unwrap_or_else(|e| panic!("{e}"));
    dir.join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// The component bytes of example plugin `crate_name`.
pub fn component(crate_name: &str) -> Vec<u8> {
    let path = component_path(crate_name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The manifest text of example plugin `crate_name`.
pub fn manifest_text(crate_name: &str) -> String {
    let path = plugins_dir().join(crate_name).join("manifest.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
