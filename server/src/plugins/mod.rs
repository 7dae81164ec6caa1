//! Plugin steps backed by automations-host-api: the registry of uploaded plugins
//! (name -> versions side by side -> prepared `Plugin`, plus admin grants; persisted in the
//! database with their compiled artifacts) and the runtime's `PluginRunner` built on it.
//!
//! The runtime crate never links wasmtime; this module is the only bridge. A plugin never
//! writes anything itself: its writes, emails, notifications and tasks become the runtime's
//! effect requests, applied (or in dry-run recorded) by the one effect path with the step.

mod cache;
mod host;
mod registry;

pub use cache::DbCacheStore;
pub use host::HostRunner;
pub use registry::{LoadCounts, PluginInfo, PluginRegistry, RegistryError};
