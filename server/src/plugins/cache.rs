//! The database-backed store of precompiled components (host-api's `CacheStore`) over the
//! runtime's `plugin_artifacts` table, keyed by sha256 + engine compatibility hash, so a
//! restarted server deserializes instead of recompiling. Trusted storage: only the host's
//! own compile output is ever saved here, never bytes from a request.
//!
//! `CacheStore` is synchronous; this adapter blocks on the async store, so it must only be
//! called from blocking threads (`spawn_blocking`), never from an async worker.

use automations_host_api::{CacheError, CacheKey, CacheStore};
use automations_runtime::store::{AnyStore, ArtifactKey, Store, StoreTx};
use tokio::runtime::Handle;

pub struct DbCacheStore {
    store: AnyStore,
    handle: Handle,
}

impl DbCacheStore {
    pub fn new(store: AnyStore, handle: Handle) -> Self {
        DbCacheStore { store, handle }
    }
}

fn artifact_key(key: &CacheKey) -> ArtifactKey<'_> {
    ArtifactKey {
        component_sha256: &key.component_sha256,
        engine_hash: &key.engine_hash,
    }
}

impl CacheStore for DbCacheStore {
    fn load(&self, key: &CacheKey) -> Result<Option<Vec<u8>>, CacheError> {
        self.handle
            .block_on(self.store.plugin_artifact(artifact_key(key)))
            .map_err(|e| CacheError(e.to_string()))
    }

    fn save(&self, key: &CacheKey, artifact: &[u8]) -> Result<(), CacheError> {
        self.handle
            .block_on(async {
                let mut tx = self.store.begin().await?;
                tx.save_plugin_artifact(artifact_key(key), artifact).await?;
                tx.commit().await
            })
            .map_err(|e| CacheError(e.to_string()))
    }
}
