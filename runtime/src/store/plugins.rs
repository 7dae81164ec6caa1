//! The rows of uploaded plugins (DESIGN §8): versions with their manifest and component
//! bytes, admin grants, and precompiled artifacts. The runtime only stores them: it never
//! compiles or runs a component (the server's plugin registry does, through host-api).

use chrono::{DateTime, Utc};
use serde_json::Value;

/// One uploaded version of a plugin in a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginVersionRow {
    pub workspace_id: String,
    pub name: String,
    /// Semver text, as in the manifest.
    pub version: String,
    /// The manifest as uploaded (JSON).
    pub manifest: Value,
    /// The component (.wasm) bytes.
    pub component: Vec<u8>,
    /// Hex sha256 of `component`.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

/// What an admin granted a plugin (all its versions) in a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginGrantRow {
    pub workspace_id: String,
    pub name: String,
    pub capabilities: Vec<String>,
    pub granted_at: DateTime<Utc>,
}

/// The key of a precompiled artifact: the component's sha256 and the engine's
/// compatibility hash (an artifact of another engine never matches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactKey<'a> {
    pub component_sha256: &'a str,
    pub engine_hash: &'a str,
}
