//! Plugin steps backed by automations-host-api: the registry of uploaded plugins
//! (name -> versions side by side -> prepared `Plugin`, plus admin grants) and the runtime's
//! `PluginRunner` built on it.
//!
//! The runtime crate never links wasmtime; this module is the only bridge. A plugin never
//! writes anything itself: its writes, emails, notifications and tasks become the runtime's
//! effect requests, applied (or in dry-run recorded) by the one effect path with the step.

mod host;
mod registry;

pub use host::HostRunner;
pub use registry::{PluginInfo, PluginRegistry, RegistryError};
