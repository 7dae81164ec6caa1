//! Each workspace's CRM schema: the built-in one (DESIGN §4.1) plus that workspace's custom
//! objects and fields, kept in the database as schema extensions (`Store::schema_extensions`)
//! and cached here, loaded whole on start.
//!
//! The engine asks this cache for a workspace's schema view and compiler; the API reads
//! and extends it. It never lets one workspace's extension reach another workspace, and a
//! field's type never changes once defined. With several nodes sharing a database, a node
//! sees another node's additions after its restart (documented in ARCHITECTURE.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use automations_compiler::schema::{Schema, SchemaError};
use automations_runtime::RuntimeError;
use automations_runtime::compiler_glue::CompilerFrontend;
use automations_runtime::hooks::{CompiledDefinition, DefinitionCompiler};
use automations_runtime::model::{Actor, AuditAction, AuditEntry, SchemaExtension};
use automations_runtime::schema::{SchemaView, WorkspaceSchemas};
use automations_runtime::store::{Store, StoreTx};
use serde_json::Value;

/// Why custom fields could not be added or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SchemaChangeError {
    #[error(transparent)]
    Invalid(#[from] SchemaError),
    #[error("cannot store the custom schema: {0}")]
    Store(#[from] RuntimeError),
    #[error("cannot read the old custom schema file: {0}")]
    Io(#[from] std::io::Error),
}

/// The schema of every workspace, swapped whole per workspace when fields are added.
pub struct SchemaCache {
    /// What a workspace without extensions sees.
    base: Arc<Schema>,
    by_workspace: RwLock<HashMap<String, Arc<Schema>>>,
    /// One extension at a time, so that two concurrent additions never lose one.
    writing: tokio::sync::Mutex<()>,
}

impl SchemaCache {
    /// Every workspace sees `base` until it is extended; nothing is loaded.
    pub fn new(base: Schema) -> SchemaCache {
        SchemaCache {
            base: Arc::new(base),
            by_workspace: RwLock::new(HashMap::new()),
            writing: tokio::sync::Mutex::new(()),
        }
    }

    /// `base` plus every workspace's stored extensions, applied in order.
    pub async fn load<S: Store>(base: Schema, store: &S) -> Result<SchemaCache, SchemaChangeError> {
        let cache = SchemaCache::new(base);
        let mut schemas: HashMap<String, Schema> = HashMap::new();
        for e in store.schema_extensions(None).await? {
            let schema = schemas
                .entry(e.workspace_id.clone())
                .or_insert_with(|| (*cache.base).clone());
            schema.extend_from_json_str(&e.extension.to_string())?;
        }
        *cache.write_map() = schemas
            .into_iter()
            .map(|(ws, s)| (ws, Arc::new(s)))
            .collect();
        Ok(cache)
    }

    /// The schema of workspace `ws`.
    pub fn get(&self, ws: &str) -> Arc<Schema> {
        self.by_workspace
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(ws)
            .cloned()
            .unwrap_or_else(|| self.base.clone())
    }

    fn write_map(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Schema>>> {
        self.by_workspace.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds custom objects and fields (`{"objects": {"case": {"fields": {...}}}}`) to the
    /// schema of `ws`: checked, stored (audited as made by `actor`), then swapped in.
    /// Returns the new schema.
    pub async fn extend<S: Store>(
        &self,
        store: &S,
        ws: &str,
        extension: &Value,
        actor: &Actor,
    ) -> Result<Arc<Schema>, SchemaChangeError> {
        let _writing = self.writing.lock().await;
        let mut schema = (*self.get(ws)).clone();
        schema.extend_from_json_str(&extension.to_string())?;
        let mut tx = store.begin().await?;
        tx.insert_schema_extension(&SchemaExtension {
            workspace_id: ws.to_string(),
            seq: 0,
            extension: extension.clone(),
            created_at: chrono::Utc::now(),
        })
        .await?;
        let entry = AuditEntry::new(ws, actor, AuditAction::SchemaExtend, ws, extension.clone());
        tx.insert_audit(&entry).await?;
        tx.commit().await?;
        let schema = Arc::new(schema);
        self.write_map().insert(ws.to_string(), schema.clone());
        Ok(schema)
    }

    /// Custom fields used to be server-wide, in the file `file` beside the database. When it
    /// exists, its content is added to workspace `ws` and the file is renamed
    /// `<file>.imported`, so that the import happens once. False when there was no file.
    pub async fn import_legacy_file<S: Store>(
        &self,
        store: &S,
        ws: &str,
        file: &Path,
    ) -> Result<bool, SchemaChangeError> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let extension: Value =
            serde_json::from_str(&text).map_err(|e| SchemaError::Json(e.to_string()))?;
        self.extend(store, ws, &extension, &Actor::system()).await?;
        let mut done = file.as_os_str().to_owned();
        done.push(".imported");
        std::fs::rename(file, PathBuf::from(done))?;
        Ok(true)
    }
}

/// A workspace's schema as the runtime sees it.
impl WorkspaceSchemas for SchemaCache {
    fn view(&self, ws: &str) -> Arc<dyn SchemaView> {
        self.get(ws)
    }
}

/// Definitions compile against their own workspace's schema.
impl DefinitionCompiler for SchemaCache {
    fn compile(
        &self,
        ws: &str,
        definition: &Value,
    ) -> automations_runtime::Result<CompiledDefinition> {
        CompilerFrontend::new(self.get(ws)).compile(ws, definition)
    }
}
