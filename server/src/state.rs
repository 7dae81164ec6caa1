//! The shared state of every handler: the engine, the rate limiter, in-process counters.
//!
//! Cheap to clone (one `Arc`). It must never hold per-request data.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use automations_runtime::store::{AnyStore, Store};

use crate::api::metrics::HttpCounters;
use crate::auth::{Principal, Scope};
use crate::definitions::Definitions;
use crate::error::ApiError;
use crate::plugins::PluginRegistry;
use crate::rate_limit::{DEFAULT_RATE_LIMIT, RateLimit, RateLimiter};
use crate::token_cache::TokenCache;

/// The engine the API drives (SQLite or PostgreSQL storage, chosen by the URL).
pub type Engine = automations_runtime::Engine<AnyStore>;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub body_limit: usize,
    /// The body limit of a plugin upload (`--plugin-upload-limit`).
    pub plugin_upload_limit: usize,
    /// The per-token request rate limit of tokens without their own (`--rate-limit`).
    pub rate_limit: RateLimit,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            body_limit: crate::api::extract::DEFAULT_BODY_LIMIT,
            plugin_upload_limit: crate::api::plugins::DEFAULT_UPLOAD_LIMIT,
            rate_limit: DEFAULT_RATE_LIMIT,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    definitions: Definitions,
    config: ApiConfig,
    limiter: RateLimiter,
    counters: HttpCounters,
    ready: AtomicBool,
    /// Uploaded plugins; `None` when the engine was built without a plugin runner.
    plugins: Option<Arc<PluginRegistry>>,
    /// Recently authenticated tokens (bounded in age: see `token_cache`).
    tokens: TokenCache,
}

impl AppState {
    pub fn new(engine: Engine, definitions: Definitions, config: ApiConfig) -> AppState {
        AppState::build(engine, definitions, config, None)
    }

    /// The state of a server whose engine runs plugins from `plugins`.
    pub fn with_plugins(
        engine: Engine,
        definitions: Definitions,
        config: ApiConfig,
        plugins: Arc<PluginRegistry>,
    ) -> AppState {
        AppState::build(engine, definitions, config, Some(plugins))
    }

    fn build(
        engine: Engine,
        definitions: Definitions,
        config: ApiConfig,
        plugins: Option<Arc<PluginRegistry>>,
    ) -> AppState {
        let limiter = RateLimiter::new(config.rate_limit);
        let inner = Inner {
            engine,
            definitions,
            config,
            limiter,
            counters: HttpCounters::default(),
            ready: AtomicBool::new(true),
            plugins,
            tokens: TokenCache::default(),
        };
        AppState {
            inner: Arc::new(inner),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
    pub fn definitions(&self) -> &Definitions {
        &self.inner.definitions
    }
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }
    pub fn plugins(&self) -> Option<&Arc<PluginRegistry>> {
        self.inner.plugins.as_ref()
    }
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }
    pub fn counters(&self) -> &HttpCounters {
        &self.inner.counters
    }
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }
    /// Marks the server unready (shutting down): `/healthz` answers 503.
    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::Release);
    }

    /// Forgets the cached principal of a token this server revoked.
    pub fn forget_token(&self, token_id: &str) {
        self.inner.tokens.forget_token(token_id);
    }

    /// The principal of a token hash, or `None` for an unknown or revoked token. A token
    /// read less than `TOKEN_CACHE_MAX_AGE` ago is not read again.
    pub async fn authenticate(&self, token_hash: &str) -> Result<Option<Principal>, ApiError> {
        if let Some(principal) = self.inner.tokens.get(token_hash) {
            return Ok(Some(principal));
        }
        let read_at = Instant::now();
        let Some(token) = self.engine().store().token_by_hash(token_hash).await? else {
            self.inner.tokens.forget(token_hash);
            return Ok(None);
        };
        let scopes = token
            .scopes
            .iter()
            .filter_map(|s| Scope::parse(s))
            .collect();
        let principal = Principal {
            token_id: token.id,
            token_name: token.name,
            workspace_id: token.workspace_id,
            scopes,
            rate_limit: token.rate_limit,
        };
        self.inner.tokens.insert(token_hash, &principal, read_at);
        Ok(Some(principal))
    }
}
