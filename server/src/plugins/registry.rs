//! Uploaded plugins per workspace: every version prepared (precompiled) once with the
//! process-wide `PluginEngine`, and the capabilities an admin granted. It never runs guest code.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use automations_host_api::{
    CapabilitySet, LimitPolicy, Manifest, Plugin, PluginEngine, check_component,
};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid plugin manifest")]
    Manifest(Vec<String>),
    #[error("invalid plugin component: {0}")]
    Component(String),
    #[error("invalid capabilities: {0}")]
    Capabilities(String),
    #[error("plugin `{0}` not found")]
    NotFound(String),
}

/// A plugin as the API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    pub name: String,
    pub versions: Vec<String>,
    pub latest: String,
    pub description: String,
    /// What the latest version's manifest asks for.
    pub requested: Vec<String>,
    pub granted: Vec<String>,
}

#[derive(Default)]
struct Entry {
    /// By version; order by [`semver_key`] picks the latest.
    versions: BTreeMap<String, Plugin>,
    granted: Arc<CapabilitySet>,
}

/// Key: (workspace id, plugin name).
pub struct PluginRegistry {
    engine: PluginEngine,
    policy: LimitPolicy,
    entries: RwLock<HashMap<(String, String), Entry>>,
}

impl PluginRegistry {
    pub fn new(engine: PluginEngine) -> Self {
        let policy = engine.config().limits.clone();
        PluginRegistry {
            engine,
            policy,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// Validates and precompiles an upload; a version uploaded again replaces the old one.
    pub fn upload(
        &self,
        ws: &str,
        manifest: &str,
        wasm: &[u8],
    ) -> Result<PluginInfo, RegistryError> {
        let manifest = Manifest::from_json(manifest, &self.policy)
            .map_err(|e| RegistryError::Manifest(e.problems))?;
        check_component(wasm).map_err(|e| RegistryError::Component(e.to_string()))?;
        let name = manifest.name.clone();
        let version = manifest.version.clone();
        let plugin = self
            .engine
            .prepare(manifest, wasm)
            .map_err(|e| RegistryError::Component(e.to_string()))?;
        let mut entries = self.entries.write().expect("registry lock");
        let entry = entries.entry((ws.to_string(), name.clone())).or_default();
        entry.versions.insert(version, plugin);
        Ok(info(&name, entry))
    }

    /// Replaces the admin grants of a plugin (all its versions).
    pub fn grant(
        &self,
        ws: &str,
        name: &str,
        capabilities: &[String],
    ) -> Result<PluginInfo, RegistryError> {
        let set = CapabilitySet::parse(capabilities)
            .map_err(|e| RegistryError::Capabilities(e.to_string()))?;
        let mut entries = self.entries.write().expect("registry lock");
        let entry = entries
            .get_mut(&(ws.to_string(), name.to_string()))
            .ok_or_else(|| RegistryError::NotFound(name.to_string()))?;
        entry.granted = Arc::new(set);
        Ok(info(name, entry))
    }

    pub fn list(&self, ws: &str) -> Vec<PluginInfo> {
        let entries = self.entries.read().expect("registry lock");
        let mut items: Vec<PluginInfo> = entries
            .iter()
            .filter(|((w, _), _)| w == ws)
            .map(|((_, name), entry)| info(name, entry))
            .collect();
        items.sort_by(|a, b| a.name.cmp(&b.name));
        items
    }

    /// The plugin version to run (the latest when `version` is `None`) and its grants.
    pub fn resolve(
        &self,
        ws: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<(Plugin, Arc<CapabilitySet>), RegistryError> {
        let entries = self.entries.read().expect("registry lock");
        let entry = entries
            .get(&(ws.to_string(), name.to_string()))
            .ok_or_else(|| RegistryError::NotFound(name.to_string()))?;
        let plugin = match version {
            Some(v) => entry.versions.get(v),
            None => latest(entry).map(|(_, p)| p),
        }
        .ok_or_else(|| {
            RegistryError::NotFound(format!("{name}@{}", version.unwrap_or("latest")))
        })?;
        Ok((plugin.clone(), entry.granted.clone()))
    }
}

fn latest(entry: &Entry) -> Option<(&String, &Plugin)> {
    entry.versions.iter().max_by_key(|(v, _)| semver_key(v))
}

/// `MAJOR.MINOR.PATCH` as numbers (pre-release and build parts ignored).
fn semver_key(version: &str) -> Vec<u64> {
    version
        .split(['-', '+'])
        .next()
        .unwrap_or_default()
        .split('.')
        .map(|n| n.parse().unwrap_or(0))
        .collect()
}

fn info(name: &str, entry: &Entry) -> PluginInfo {
    let latest = latest(entry);
    PluginInfo {
        name: name.to_string(),
        versions: entry.versions.keys().cloned().collect(),
        latest: latest.map(|(v, _)| v.clone()).unwrap_or_default(),
        description: latest
            .map(|(_, p)| p.manifest().description.clone())
            .unwrap_or_default(),
        requested: latest
            .map(|(_, p)| p.manifest().requested().to_strings())
            .unwrap_or_default(),
        granted: entry.granted.to_strings(),
    }
}
