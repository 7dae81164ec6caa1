//! `automations plugin check FILE`: validates a component against the plugin
//! world without running it and lists what it imports and exports. It must
//! never execute guest code.

use crate::bindings::ActionPre;
use crate::cache::sha256_hex;
use crate::error::PluginError;
use crate::state::CallState;
use serde::Serialize;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

/// What `check_component` found in a component that fits the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentReport {
    pub sha256: String,
    pub size_bytes: u64,
    /// Capability interfaces of the world it imports (`automations:plugin/...`).
    pub plugin_imports: Vec<String>,
    /// WASI interfaces it imports (linked with nothing granted).
    pub wasi_imports: Vec<String>,
    pub exports: Vec<String>,
}

/// Validates `wasm` as a component for `automations:plugin@0.1.0`/`action`:
/// it must compile, import nothing the host does not provide, and export
/// `run: func(string) -> result<string, string>`.
pub fn check_component(wasm: &[u8]) -> Result<ComponentReport, PluginError> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).map_err(|e| PluginError::Config(format!("{e:#}")))?;
    let component = Component::new(&engine, wasm)
        .map_err(|e| PluginError::InvalidComponent(format!("{e:#}")))?;
    let mut linker: Linker<CallState> = Linker::new(&engine);
    crate::bindings::Action::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)
        .and_then(|()| wasmtime_wasi::p2::add_to_linker_sync(&mut linker))
        .map_err(|e| PluginError::Config(format!("{e:#}")))?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(|e| PluginError::WorldMismatch(format!("{e:#}")))?;
    ActionPre::new(pre).map_err(|e| PluginError::WorldMismatch(format!("{e:#}")))?;

    let ty = component.component_type();
    let (plugin_imports, wasi_imports) = ty
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .partition(|name| name.starts_with("automations:plugin/"));
    Ok(ComponentReport {
        sha256: sha256_hex(wasm),
        size_bytes: wasm.len() as u64,
        plugin_imports,
        wasi_imports,
        exports: ty
            .exports(&engine)
            .map(|(name, _)| name.to_string())
            .collect(),
    })
}
