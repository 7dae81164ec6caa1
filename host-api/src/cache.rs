//! The compiled-component cache: components are compiled once (on upload)
//! and kept as precompiled artifacts keyed by the component's sha256 and the
//! engine's compatibility hash, in memory and in a [`CacheStore`] the runtime
//! backs with its database. Artifacts are native code loaded without
//! validation, so a store must be trusted storage only: never fill it from
//! user-supplied artifacts, only from [`crate::PluginEngine::precompile`].

use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// The key of one compiled artifact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey {
    /// Hex sha256 of the component bytes.
    pub component_sha256: String,
    /// Hex digest of `Engine::precompile_compatibility_hash`: artifacts from
    /// another wasmtime version or configuration never match.
    pub engine_hash: String,
}

impl CacheKey {
    /// A file-name-safe rendering of the key.
    pub fn file_name(&self) -> String {
        format!("{}-{}.cwasm", self.component_sha256, self.engine_hash)
    }
}

/// Why the persistent store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("component cache store: {0}")]
pub struct CacheError(pub String);

/// Persistent storage of compiled artifacts (trusted storage only).
pub trait CacheStore: Send + Sync + 'static {
    fn load(&self, key: &CacheKey) -> Result<Option<Vec<u8>>, CacheError>;
    fn save(&self, key: &CacheKey, artifact: &[u8]) -> Result<(), CacheError>;
}

/// A [`CacheStore`] in a directory, one file per key (tests, single hosts).
#[derive(Debug, Clone)]
pub struct DirCacheStore {
    dir: PathBuf,
}

impl DirCacheStore {
    /// Uses `dir`, creating it if needed.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, CacheError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|err| CacheError(format!("{}: {err}", dir.display())))?;
        Ok(DirCacheStore { dir })
    }
}

impl CacheStore for DirCacheStore {
    fn load(&self, key: &CacheKey) -> Result<Option<Vec<u8>>, CacheError> {
        match std::fs::read(self.dir.join(key.file_name())) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(CacheError(err.to_string())),
        }
    }

    fn save(&self, key: &CacheKey, artifact: &[u8]) -> Result<(), CacheError> {
        // Write then rename so a reader never sees half an artifact.
        let path = self.dir.join(key.file_name());
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, artifact).map_err(|err| CacheError(err.to_string()))?;
        std::fs::rename(&tmp, &path).map_err(|err| CacheError(err.to_string()))
    }
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Feeds a `Hash` value into sha256 to get a stable, printable digest.
pub(crate) struct Sha256Hasher(pub Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Where a loaded component came from (for metrics and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSource {
    /// Already compiled in this process.
    Memory,
    /// Deserialized from the persistent store.
    Store,
    /// Compiled now (and saved to the store, if any).
    Compiled,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_store_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirCacheStore::new(dir.path().join("cache")).unwrap();
        let key = CacheKey {
            component_sha256: sha256_hex(b"x"),
            engine_hash: "e1".into(),
        };
        assert_eq!(store.load(&key).unwrap(), None);
        store.save(&key, b"artifact").unwrap();
        assert_eq!(store.load(&key).unwrap().as_deref(), Some(&b"artifact"[..]));
        let other = CacheKey {
            engine_hash: "e2".into(),
            ..key
        };
        assert_eq!(store.load(&other).unwrap(), None);
    }
}
