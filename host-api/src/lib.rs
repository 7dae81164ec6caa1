//! automations-host-api: the plugin boundary (`wit/world.wit`, the one stable
//! WIT world `automations:plugin@0.1.0`/`action`) and its wasmtime embedding.
//!
//! - [`Host`]: the capabilities a plugin can reach; the runtime implements it.
//! - [`PluginEngine`]: one per process; pooling allocator, epoch ticker,
//!   component cache ([`CacheStore`]); [`PluginEngine::prepare`] turns a
//!   [`Manifest`] and a component into a [`Plugin`].
//! - [`Plugin::call`]: a fresh store per call, every limit enforced, failures
//!   typed as [`PluginError`].
//! - [`net`]: the SSRF-safe http client and address policy hosts use for
//!   `http.fetch`.
//! - [`check_component`] and [`scaffold_plugin`] back `automations plugin
//!   check` and `automations plugin new`.
//!
//! This crate must never let a guest reach anything its effective capability
//! set (manifest ∩ admin grant) does not cover, and a guest must never be able
//! to crash, hang or exhaust the host process.
//!
//! Building the example plugins needs the `wasm32-wasip2` target
//! (`rustup target add wasm32-wasip2`); the integration tests build them.

mod bindings;
pub mod cache;
pub mod capability;
mod check;
mod engine;
mod error;
pub mod host;
mod link;
pub mod logs;
pub mod manifest;
pub mod net;
mod plugin;
mod scaffold;
mod seed;
mod state;
pub mod testing;
mod text_host;

pub use cache::{CacheError, CacheKey, CacheSource, CacheStore, DirCacheStore};
pub use capability::{Capability, CapabilitySet};
pub use check::{ComponentReport, check_component, check_plugin};
pub use engine::{Allocation, EngineConfig, PluginEngine};
pub use error::PluginError;
pub use host::{
    CallContext, CallInfo, Email, Host, HostResult, HttpMock, HttpRequest, HttpResponse, LogLevel,
    NewTask, RecordRef,
};
pub use logs::{LogBuffer, LogLimits, LogLine};
pub use manifest::{LimitPolicy, Limits, Manifest, ManifestError, ManifestLimits};
pub use plugin::{CallOutput, Plugin};
pub use scaffold::{ScaffoldConfig, ScaffoldError, scaffold_plugin};
