//! Uploaded plugins per workspace, persisted in the database (versions side by side with
//! their manifest and component bytes, admin grants) and loaded on start: every version is
//! prepared once with the process-wide `PluginEngine`, whose compiled artifacts persist in
//! the database too (see [`super::cache`]). It never runs guest code.
//!
//! The engine is asked for on the first prepare, not when the registry is built: a server
//! with no plugin never sets up wasmtime (its compiler, linker, pool and epoch ticker
//! thread), which keeps that code out of an idle server's memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use automations_compiler::check::PluginCatalog;
use automations_host_api::cache::sha256_hex;
use automations_host_api::{
    CacheSource, CapabilitySet, LimitPolicy, Manifest, Plugin, PluginEngine,
};
use automations_runtime::model::{Actor, AuditAction, AuditEntry};
use automations_runtime::store::{AnyStore, PluginGrantRow, PluginVersionRow, Store, StoreTx};
use serde::Serialize;
use serde_json::json;

use super::cache::DbCacheStore;

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
    #[error("plugin storage: {0}")]
    Storage(String),
    /// The plugin engine could not be made (a fault of the host, not of the plugin).
    #[error("{0}")]
    Engine(String),
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

/// How often a prepared component came from each cache level (`/metrics`, tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LoadCounts {
    /// Already compiled in this process.
    pub memory: u64,
    /// Deserialized from the database's artifact table.
    pub store: u64,
    /// Compiled now.
    pub compiled: u64,
}

#[derive(Default)]
struct Counters {
    memory: AtomicU64,
    store: AtomicU64,
    compiled: AtomicU64,
}

impl Counters {
    fn count(&self, source: CacheSource) {
        let counter = match source {
            CacheSource::Memory => &self.memory,
            CacheSource::Store => &self.store,
            CacheSource::Compiled => &self.compiled,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Entry {
    /// By version; order by [`semver_key`] picks the latest.
    versions: BTreeMap<String, Plugin>,
    granted: Arc<CapabilitySet>,
}

/// Gives the process's plugin engine, made on the first call (see the module docs).
pub type EngineSource = fn() -> Result<PluginEngine, String>;

/// Key: (workspace id, plugin name).
pub struct PluginRegistry {
    engine: EngineSource,
    policy: LimitPolicy,
    store: AnyStore,
    entries: RwLock<HashMap<(String, String), Entry>>,
    counters: Counters,
    /// Failed calls by `PluginError::kind` (timeout, panic, memory_exhausted, ...).
    failures: Mutex<BTreeMap<&'static str, u64>>,
}

impl PluginRegistry {
    /// An empty registry over `store`; call [`Self::load`] to bring back stored plugins.
    /// `policy` must be the limits of the engine `engine` gives.
    pub fn new(engine: EngineSource, policy: LimitPolicy, store: AnyStore) -> Self {
        PluginRegistry {
            engine,
            policy,
            store,
            entries: RwLock::new(HashMap::new()),
            counters: Counters::default(),
            failures: Mutex::default(),
        }
    }

    /// Prepares every stored version and applies the stored grants (server start). A version
    /// that no longer prepares (e.g. a stricter limit policy) is logged and skipped rather
    /// than stopping the server. Returns how many versions were loaded.
    pub async fn load(self: &Arc<Self>) -> Result<usize, RegistryError> {
        let versions = self.store.plugin_versions(None).await.map_err(storage)?;
        let grants = self.store.plugin_grants(None).await.map_err(storage)?;
        let mut loaded = 0;
        for row in versions {
            let this = self.clone();
            let (ws, name, version) = (
                row.workspace_id.clone(),
                row.name.clone(),
                row.version.clone(),
            );
            let prepared = tokio::task::spawn_blocking(move || {
                this.prepare(&row.manifest.to_string(), &row.component)
            })
            .await
            .map_err(|e| RegistryError::Storage(e.to_string()))?;
            match prepared {
                Ok((_, plugin)) => {
                    self.insert(&ws, &name, &version, plugin);
                    loaded += 1;
                }
                Err(err) => {
                    tracing::error!(workspace = %ws, plugin = %name, %version, %err, "stored plugin version does not load; skipped")
                }
            }
        }
        let mut entries = self.entries.write().expect("registry lock");
        for grant in grants {
            let Some(entry) = entries.get_mut(&(grant.workspace_id, grant.name.clone())) else {
                continue;
            };
            match CapabilitySet::parse(&grant.capabilities) {
                Ok(set) => entry.granted = Arc::new(set),
                Err(err) => {
                    tracing::error!(plugin = %grant.name, %err, "stored plugin grant does not parse; nothing granted")
                }
            }
        }
        Ok(loaded)
    }

    /// Validates, precompiles and stores an upload; a version uploaded again replaces the
    /// old one. Audited as made by `actor`.
    pub async fn upload(
        self: &Arc<Self>,
        ws: &str,
        manifest: String,
        wasm: Vec<u8>,
        actor: &Actor,
    ) -> Result<PluginInfo, RegistryError> {
        let this = self.clone();
        // Compiling a component takes a while and the cache store blocks: off the workers.
        // `prepare` is the whole acceptance check (the one `plugin check` runs) and
        // compiles the component once.
        let (manifest, plugin, wasm) = tokio::task::spawn_blocking(move || {
            this.prepare(&manifest, &wasm)
                .map(|(manifest, plugin)| (manifest, plugin, wasm))
        })
        .await
        .map_err(|e| RegistryError::Storage(e.to_string()))??;
        let row = PluginVersionRow {
            workspace_id: ws.to_string(),
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            manifest: serde_json::to_value(&manifest).map_err(|e| storage(e.into()))?,
            sha256: sha256_hex(&wasm),
            component: wasm,
            uploaded_at: chrono::Utc::now(),
        };
        let details = json!({
            "version": row.version,
            "sha256": row.sha256,
            "bytes": row.component.len(),
            "capabilities": manifest.capabilities,
        });
        let entry = AuditEntry::new(ws, actor, AuditAction::PluginUpload, &row.name, details);
        let mut tx = self.store.begin().await.map_err(storage)?;
        tx.upsert_plugin_version(&row).await.map_err(storage)?;
        tx.insert_audit(&entry).await.map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        Ok(self.insert(ws, &manifest.name, &manifest.version, plugin))
    }

    /// Replaces (and stores) the admin grants of a plugin (all its versions). Audited as
    /// made by `actor`.
    pub async fn grant(
        &self,
        ws: &str,
        name: &str,
        capabilities: &[String],
        actor: &Actor,
    ) -> Result<PluginInfo, RegistryError> {
        let set = CapabilitySet::parse(capabilities)
            .map_err(|e| RegistryError::Capabilities(e.to_string()))?;
        if !self.exists(ws, name) {
            return Err(RegistryError::NotFound(name.to_string()));
        }
        let row = PluginGrantRow {
            workspace_id: ws.to_string(),
            name: name.to_string(),
            capabilities: set.to_strings(),
            granted_at: chrono::Utc::now(),
        };
        let details = json!({ "capabilities": row.capabilities });
        let entry = AuditEntry::new(ws, actor, AuditAction::PluginGrant, name, details);
        let mut tx = self.store.begin().await.map_err(storage)?;
        tx.upsert_plugin_grant(&row).await.map_err(storage)?;
        tx.insert_audit(&entry).await.map_err(storage)?;
        tx.commit().await.map_err(storage)?;
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

    /// Workspace `ws`'s plugins with their input schemas, for the compiler's check of
    /// `plugin` steps.
    pub fn catalog(&self, ws: &str) -> PluginCatalog {
        let entries = self.entries.read().expect("registry lock");
        let mut catalog = PluginCatalog::new();
        for ((w, name), entry) in entries.iter() {
            if w != ws {
                continue;
            }
            for (version, plugin) in &entry.versions {
                catalog.insert(name, version, plugin.manifest().input_schema.as_ref());
            }
            if let Some((version, _)) = latest(entry) {
                catalog.set_latest(name, version);
            }
        }
        catalog
    }

    /// Counts a failed call of kind `kind` (`/metrics`).
    pub fn count_failure(&self, kind: &'static str) {
        *self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(kind)
            .or_default() += 1;
    }

    /// Failed calls since this registry was built, by kind.
    pub fn failure_counts(&self) -> Vec<(String, u64)> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }

    /// Where prepared components came from since this registry was built.
    pub fn load_counts(&self) -> LoadCounts {
        LoadCounts {
            memory: self.counters.memory.load(Ordering::Relaxed),
            store: self.counters.store.load(Ordering::Relaxed),
            compiled: self.counters.compiled.load(Ordering::Relaxed),
        }
    }

    /// Parses and prepares one version (blocking: compiles or reads the artifact store).
    fn prepare(&self, manifest: &str, wasm: &[u8]) -> Result<(Manifest, Plugin), RegistryError> {
        let manifest = Manifest::from_json(manifest, &self.policy)
            .map_err(|e| RegistryError::Manifest(e.problems))?;
        let cache = DbCacheStore::new(self.store.clone(), tokio::runtime::Handle::current());
        let engine = (self.engine)().map_err(RegistryError::Engine)?;
        let (plugin, source) = engine
            .prepare_in(manifest.clone(), wasm, Some(&cache))
            .map_err(|e| RegistryError::Component(e.to_string()))?;
        self.counters.count(source);
        Ok((manifest, plugin))
    }

    fn insert(&self, ws: &str, name: &str, version: &str, plugin: Plugin) -> PluginInfo {
        let mut entries = self.entries.write().expect("registry lock");
        let entry = entries
            .entry((ws.to_string(), name.to_string()))
            .or_default();
        entry.versions.insert(version.to_string(), plugin);
        info(name, entry)
    }

    fn exists(&self, ws: &str, name: &str) -> bool {
        let entries = self.entries.read().expect("registry lock");
        entries.contains_key(&(ws.to_string(), name.to_string()))
    }
}

fn storage(err: automations_runtime::RuntimeError) -> RegistryError {
    RegistryError::Storage(err.to_string())
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
