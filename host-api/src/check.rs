//! `automations plugin check FILE`: what the server would say to an upload of
//! the component, without running it. The verdict comes from
//! [`PluginEngine::check`], the path uploads take (compiled once, linked with
//! the deny stubs, checked against the world and the instance pool), so a
//! component `check` accepts is one the server accepts. It must never execute
//! guest code.

use crate::cache::sha256_hex;
use crate::engine::{EngineConfig, PluginEngine};
use crate::error::PluginError;
use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;

/// What the check found in a component that the server would accept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentReport {
    pub sha256: String,
    pub size_bytes: u64,
    /// Capability interfaces of the world it imports (`automations:plugin/...`).
    pub plugin_imports: Vec<String>,
    /// WASI interfaces it imports that link with nothing granted (no files,
    /// environment, arguments or sockets).
    pub wasi_imports: Vec<String>,
    /// Interfaces that link as deny stubs: calling them fails the step
    /// (e.g. `wasi:http`, imported by default by componentize-js).
    pub denied_imports: Vec<String>,
    pub exports: Vec<String>,
}

/// Validates `wasm` as a component for `automations:plugin@0.1.0`/`action`
/// with the server's default engine settings: it must compile, import
/// nothing the host neither provides nor denies by stub, export
/// `run: func(string) -> result<string, string>`, and fit the instance pool.
pub fn check_component(wasm: &[u8]) -> Result<ComponentReport, PluginError> {
    PluginEngine::new(EngineConfig::default())?.check(wasm)
}

/// Describes an accepted component.
pub(crate) fn report(
    engine: &Engine,
    wasm: &[u8],
    component: &Component,
    denied_imports: Vec<String>,
) -> ComponentReport {
    let ty = component.component_type();
    let (plugin_imports, wasi_imports) = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .filter(|name| !denied_imports.contains(name))
        .partition(|name| name.starts_with("automations:plugin/"));
    ComponentReport {
        sha256: sha256_hex(wasm),
        size_bytes: wasm.len() as u64,
        plugin_imports,
        wasi_imports,
        denied_imports,
        exports: ty
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect(),
    }
}

/// [`check_component`] plus, when given, the manifest as an upload would
/// send it: every problem found (manifest, component, and the two together,
/// e.g. a memory that starts above the manifest's limit), not only the first.
pub fn check_plugin(wasm: &[u8], manifest: Option<&str>) -> Result<ComponentReport, Vec<String>> {
    let engine = PluginEngine::new(EngineConfig::default()).map_err(|e| vec![e.to_string()])?;
    let mut problems = Vec::new();
    let manifest = manifest.and_then(|text| {
        crate::Manifest::from_json(text, &engine.config().limits)
            .map_err(|e| problems.extend(e.problems.into_iter().map(|p| format!("manifest: {p}"))))
            .ok()
    });
    let report = engine
        .check(wasm)
        .map_err(|e| problems.push(e.to_string()))
        .ok();
    if let (Some(manifest), Some(_)) = (manifest, &report)
        && let Err(err) = engine.prepare(manifest, wasm)
    {
        problems.push(err.to_string());
    }
    match report {
        Some(report) if problems.is_empty() => Ok(report),
        _ => Err(problems),
    }
}
