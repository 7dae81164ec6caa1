//! The wasmtime engines of a process and what hangs off them: the pooling
//! allocator, the epoch ticker thread that enforces wall-clock timeouts, the
//! `Linker` with the capability imports and a nothing-granted WASI, and the
//! compiled-component cache. Plugins are prepared here into [`Plugin`]s.
//! Nothing here runs guest code.
//!
//! There are two engines (sides): plugins without a fuel limit run on one compiled
//! without fuel metering (its instrumentation costs every call); plugins whose manifest
//! sets `limits.fuel` run on a metered one, made when the first such plugin is prepared.

use crate::bindings::Action;
use crate::cache::{CacheKey, CacheSource, CacheStore, Sha256Hasher, sha256_hex};
use crate::check::ComponentReport;
use crate::error::PluginError;
use crate::link::{Linked, PoolLimits, link};
use crate::manifest::{LimitPolicy, Limits, Manifest};
use crate::plugin::Plugin;
use crate::state::CallState;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Defaults and ceilings of per-plugin limits.
    pub limits: LimitPolicy,
    /// How often the epoch advances: the granularity of timeouts.
    pub epoch_tick: Duration,
    /// Plugin instances that may be alive at once (size of the pool).
    pub max_concurrent_instances: u32,
    /// Whether plugins whose manifest sets `limits.fuel` may run (metered). Only those are
    /// compiled with fuel metering (a second wasmtime engine, made on first use); the
    /// others run without its cost.
    pub fuel_metering: bool,
    /// Guest stack size in bytes (deep recursion traps past it).
    pub max_wasm_stack: usize,
    /// Core instances one plugin instance may hold (language runtimes bring
    /// several: the interpreter, libc, adapters).
    pub max_core_instances_per_component: u32,
    /// Linear memories one plugin instance may hold.
    pub max_memories_per_component: u32,
    /// Tables one plugin instance may hold.
    pub max_tables_per_component: u32,
    /// Elements a table may have (interpreters have large function tables).
    pub max_table_elements: usize,
    /// How each call's fresh instance gets and gives back its memory.
    pub allocation: Allocation,
}

/// How a call's instance is allocated. Every call gets a new instance whatever the choice
/// (DESIGN §8: nothing of one call is visible to the next); these settings only change
/// how cheaply its memories and tables are made and reset. Measured per language by
/// `benches/languages.rs` (ARCHITECTURE.md, plugin costs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    /// Instances come from a pool reserved at start (else each is mapped on demand).
    pub pooling: bool,
    /// A memory's initial contents are mapped copy-on-write from the compiled image
    /// (else copied in at every instantiation).
    pub memory_init_cow: bool,
    /// With pooling: bytes of each memory and table that are reset in place (only the
    /// pages the call touched, found with Linux's `PAGEMAP_SCAN` where the kernel has it)
    /// and stay resident for the slot's next instance, instead of being decommitted.
    /// 0: always decommit.
    pub keep_resident: usize,
}

/// Pooling, copy-on-write images and 1 MiB kept resident. Keeping pages resident trades
/// page faults for a reset in place: the Rust lead scorer's fresh-instance call went from
/// 27.1 to 12.5 µs p50 (release, `benches/versus_plain.rs`), although it executes ~22,000
/// more instructions (the reset) per call. What stays resident is at most 1 MiB of each
/// memory and table slot that was used, reset to the image before its next instance.
impl Default for Allocation {
    fn default() -> Self {
        Allocation {
            pooling: true,
            memory_init_cow: true,
            keep_resident: 1 << 20,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            limits: LimitPolicy::default(),
            epoch_tick: Duration::from_millis(5),
            max_concurrent_instances: 64,
            fuel_metering: true,
            max_wasm_stack: 512 << 10,
            max_core_instances_per_component: 64,
            max_memories_per_component: 4,
            max_tables_per_component: 16,
            max_table_elements: 100_000,
            allocation: Allocation::default(),
        }
    }
}

/// The process-wide plugin engine; cheap to clone.
#[derive(Clone)]
pub struct PluginEngine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    /// Plugins without a fuel limit: no fuel metering compiled in.
    plain: Arc<Side>,
    /// Plugins with a fuel limit (when `fuel_metering`), made on first use.
    metered: Mutex<Option<Arc<Side>>>,
    config: EngineConfig,
    store: Option<Arc<dyn CacheStore>>,
}

/// One wasmtime engine (with or without fuel metering) and what is compiled for it. A
/// component compiled by one side cannot run on the other; their artifacts are cached
/// under different engine hashes.
pub(crate) struct Side {
    pub(crate) engine: Engine,
    linker: Linker<CallState>,
    engine_hash: String,
    pub(crate) metered: bool,
    compiled: Mutex<HashMap<String, Component>>,
}

impl Side {
    fn new(config: &EngineConfig, metered: bool) -> Result<Side, PluginError> {
        let engine = Engine::new(&wasmtime_config(config, metered)).map_err(config_error)?;
        let linker = plugin_linker(&engine)?;
        let engine_hash = engine_hash(&engine);
        start_epoch_ticker(&engine, config.epoch_tick);
        Ok(Side {
            engine,
            linker,
            engine_hash,
            metered,
            compiled: Mutex::new(HashMap::new()),
        })
    }

    fn cache_key(&self, wasm: &[u8]) -> CacheKey {
        CacheKey {
            component_sha256: sha256_hex(wasm),
            engine_hash: self.engine_hash.clone(),
        }
    }
}

impl PluginEngine {
    /// An engine without persistent cache.
    pub fn new(config: EngineConfig) -> Result<Self, PluginError> {
        Self::build(config, None)
    }

    /// An engine whose compiled components persist in `store`.
    pub fn with_cache_store(
        config: EngineConfig,
        store: Arc<dyn CacheStore>,
    ) -> Result<Self, PluginError> {
        Self::build(config, Some(store))
    }

    fn build(
        config: EngineConfig,
        store: Option<Arc<dyn CacheStore>>,
    ) -> Result<Self, PluginError> {
        let plain = Arc::new(Side::new(&config, false)?);
        Ok(PluginEngine {
            inner: Arc::new(EngineInner {
                plain,
                metered: Mutex::new(None),
                config,
                store,
            }),
        })
    }

    /// The wasmtime engine of plugins without a fuel limit (for tools that inspect
    /// components).
    pub fn engine(&self) -> &Engine {
        &self.inner.plain.engine
    }

    /// The side a plugin with (or without) a fuel limit runs on.
    fn side(&self, fuel: bool) -> Result<Arc<Side>, PluginError> {
        if !fuel {
            return Ok(self.inner.plain.clone());
        }
        if !self.inner.config.fuel_metering {
            return Err(PluginError::Config(
                "the manifest sets limits.fuel but this host runs without fuel metering".into(),
            ));
        }
        let mut metered = self.inner.metered.lock().expect("engine lock");
        if let Some(side) = metered.as_ref() {
            return Ok(side.clone());
        }
        let side = Arc::new(Side::new(&self.inner.config, true)?);
        *metered = Some(side.clone());
        Ok(side)
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The cache key of `wasm` under this engine (for plugins without a fuel limit; those
    /// with one are cached under the metered engine's hash).
    pub fn cache_key(&self, wasm: &[u8]) -> CacheKey {
        self.inner.plain.cache_key(wasm)
    }

    /// Compiles `wasm` on upload: validates it against the world and stores
    /// the artifact in the persistent store (if any) and memory cache.
    pub fn precompile(&self, wasm: &[u8]) -> Result<CacheKey, PluginError> {
        self.load_component(wasm)?;
        Ok(self.cache_key(wasm))
    }

    /// Validates `wasm` exactly as an upload would (compiled once, linked,
    /// checked against the world and the instance pool) and describes it;
    /// backs `automations plugin check`. Runs no guest code.
    pub fn check(&self, wasm: &[u8]) -> Result<ComponentReport, PluginError> {
        let side = &self.inner.plain;
        let (component, linked, _) = self.load_with(side, wasm, None, false)?;
        Ok(crate::check::report(
            &side.engine,
            wasm,
            &component,
            linked.denied_imports,
        ))
    }

    /// The compiled component for `wasm`: from memory, then the store, else
    /// compiled now (and saved). Also checks that it fits the world.
    pub fn load_component(&self, wasm: &[u8]) -> Result<(Component, CacheSource), PluginError> {
        // Everything in memory was compiled by this engine and saved to its own store then.
        let (component, _, source) =
            self.load_with(&self.inner.plain, wasm, self.inner.store.as_deref(), false)?;
        Ok((component, source))
    }

    /// [`Self::load_component`] with `store` as the persistent cache instead of
    /// the engine's own: one process-wide engine can serve several databases
    /// (each with its own trusted artifact table). A component already in
    /// memory is also saved to `store` when `store` lacks it, so that the next
    /// process finds it there.
    pub fn load_component_in(
        &self,
        wasm: &[u8],
        store: Option<&dyn CacheStore>,
    ) -> Result<(Component, CacheSource), PluginError> {
        let (component, _, source) = self.load_with(&self.inner.plain, wasm, store, true)?;
        Ok((component, source))
    }

    /// Compiles (or finds) `wasm` once and links it: the one acceptance path
    /// of upload, start-up and `plugin check`.
    fn load_with(
        &self,
        side: &Side,
        wasm: &[u8],
        store: Option<&dyn CacheStore>,
        save_memory_hits: bool,
    ) -> Result<(Component, Linked, CacheSource), PluginError> {
        let key = side.cache_key(wasm);
        let in_memory = side
            .compiled
            .lock()
            .expect("cache lock")
            .get(&key.component_sha256)
            .cloned();
        if let Some(component) = in_memory {
            if let (Some(store), true) = (store, save_memory_hits) {
                save_if_missing(store, &key, &component)?;
            }
            let linked = self.link(side, &component)?;
            return Ok((component, linked, CacheSource::Memory));
        }
        let (component, source) = match load_from_store(side, store, &key)? {
            Some(component) => (component, CacheSource::Store),
            None => (
                compile_and_save(side, store, wasm, &key)?,
                CacheSource::Compiled,
            ),
        };
        let linked = self.link(side, &component)?;
        side.compiled
            .lock()
            .expect("cache lock")
            .insert(key.component_sha256, component.clone());
        Ok((component, linked, source))
    }

    fn link(&self, side: &Side, component: &Component) -> Result<Linked, PluginError> {
        let config = &self.inner.config;
        let pool = PoolLimits {
            memories_per_component: config.max_memories_per_component,
            tables_per_component: config.max_tables_per_component,
            table_elements: config.max_table_elements as u64,
            memory_bytes: config.limits.max_memory_mb << 20,
        };
        link(&side.linker, &side.engine, component, &pool)
    }

    /// Drops the compiled component of `component_sha256` from the memory
    /// cache (e.g. when a plugin version is deleted); the store keeps it.
    pub fn evict(&self, component_sha256: &str) {
        let metered = self.inner.metered.lock().expect("engine lock").clone();
        for side in std::iter::once(&self.inner.plain).chain(metered.as_ref()) {
            side.compiled
                .lock()
                .expect("cache lock")
                .remove(component_sha256);
        }
    }

    /// Prepares a validated plugin: manifest checked, component compiled (or
    /// taken from the cache) and pre-instantiated.
    pub fn prepare(&self, manifest: Manifest, wasm: &[u8]) -> Result<Plugin, PluginError> {
        self.prepare_with(manifest, wasm, self.inner.store.as_deref(), false)
            .map(|(plugin, _)| plugin)
    }

    /// [`Self::prepare`] with `store` as the persistent cache; also says where
    /// the compiled component came from.
    pub fn prepare_in(
        &self,
        manifest: Manifest,
        wasm: &[u8],
        store: Option<&dyn CacheStore>,
    ) -> Result<(Plugin, CacheSource), PluginError> {
        self.prepare_with(manifest, wasm, store, true)
    }

    fn prepare_with(
        &self,
        manifest: Manifest,
        wasm: &[u8],
        store: Option<&dyn CacheStore>,
        save_memory_hits: bool,
    ) -> Result<(Plugin, CacheSource), PluginError> {
        let policy = &self.inner.config.limits;
        manifest.validate(policy)?;
        let limits = Limits::resolve(&manifest.limits, policy);
        let side = self.side(limits.fuel.is_some())?;
        let (component, linked, source) = self.load_with(&side, wasm, store, save_memory_hits)?;
        check_initial_memory(&component, &limits)?;
        Ok((
            Plugin::new(self.clone(), side, manifest, limits, linked.pre)?,
            source,
        ))
    }

    pub(crate) fn epoch_ticks(&self, timeout: Duration) -> u64 {
        let tick = self.inner.config.epoch_tick.as_nanos().max(1);
        // +1: the current tick may be about to end.
        (timeout.as_nanos().div_ceil(tick) as u64).saturating_add(1)
    }
}

fn load_from_store(
    side: &Side,
    store: Option<&dyn CacheStore>,
    key: &CacheKey,
) -> Result<Option<Component>, PluginError> {
    let Some(store) = store else {
        return Ok(None);
    };
    let Some(artifact) = store
        .load(key)
        .map_err(|err| PluginError::Cache(err.to_string()))?
    else {
        return Ok(None);
    };
    deserialize_trusted(&side.engine, &artifact).map(Some)
}

fn compile_and_save(
    side: &Side,
    store: Option<&dyn CacheStore>,
    wasm: &[u8],
    key: &CacheKey,
) -> Result<Component, PluginError> {
    let artifact = side
        .engine
        .precompile_component(wasm)
        .map_err(|err| PluginError::InvalidComponent(format!("{err:#}")))?;
    if let Some(store) = store {
        store
            .save(key, &artifact)
            .map_err(|err| PluginError::Cache(err.to_string()))?;
    }
    deserialize_trusted(&side.engine, &artifact)
}

fn wasmtime_config(config: &EngineConfig, metered: bool) -> Config {
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .epoch_interruption(true)
        .consume_fuel(metered)
        .max_wasm_stack(config.max_wasm_stack)
        .memory_init_cow(config.allocation.memory_init_cow);
    if config.allocation.pooling {
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool_config(config)));
    } else {
        wasm.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    }
    wasm
}

fn pool_config(config: &EngineConfig) -> PoolingAllocationConfig {
    let n = config.max_concurrent_instances;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(n)
        .total_core_instances(n * config.max_core_instances_per_component)
        .max_core_instances_per_component(config.max_core_instances_per_component)
        .total_memories(n * config.max_memories_per_component)
        .max_memories_per_component(config.max_memories_per_component)
        .total_tables(n * config.max_tables_per_component)
        .max_tables_per_component(config.max_tables_per_component)
        .table_elements(config.max_table_elements)
        .max_memory_size((config.limits.max_memory_mb << 20) as usize);
    let keep = config.allocation.keep_resident;
    if keep > 0 {
        pool.linear_memory_keep_resident(keep)
            .table_keep_resident(keep)
            .pagemap_scan(Enabled::Auto);
    }
    pool
}

fn plugin_linker(engine: &Engine) -> Result<Linker<CallState>, PluginError> {
    let mut linker = Linker::new(engine);
    Action::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)
        .map_err(config_error)?;
    // std guests import WASI (cli, io, clocks, filesystem, ...) even when
    // unused; they get a context with nothing granted.
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(config_error)?;
    // Their hash-map seed is the one WASI call most make: answered without a context.
    crate::seed::link_insecure_seed(&mut linker).map_err(config_error)?;
    Ok(linker)
}

fn engine_hash(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(&hasher.0.finalize()[..16])
}

/// Advances the epoch every `tick` while the engine lives.
fn start_epoch_ticker(engine: &Engine, tick: Duration) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(tick);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        });
    // Without the ticker timeouts would never fire: refuse to run at all.
    spawned.expect("spawn the plugin epoch ticker thread");
}

#[allow(unsafe_code)]
fn deserialize_trusted(engine: &Engine, artifact: &[u8]) -> Result<Component, PluginError> {
    // SAFETY: artifacts come only from `Engine::precompile_component` of an
    // engine with the same compatibility hash (part of the cache key), stored
    // in trusted storage (see the module doc of `cache`).
    unsafe { Component::deserialize(engine, artifact) }
        .map_err(|err| PluginError::Cache(format!("{err:#}")))
}

/// Saves `component`'s artifact (its own serialization: this engine's compile output) to
/// `store` unless the store has it already.
fn save_if_missing(
    store: &dyn CacheStore,
    key: &CacheKey,
    component: &Component,
) -> Result<(), PluginError> {
    let cache_error = |err: crate::cache::CacheError| PluginError::Cache(err.to_string());
    if store.load(key).map_err(cache_error)?.is_some() {
        return Ok(());
    }
    let artifact = component
        .serialize()
        .map_err(|err| PluginError::Cache(format!("{err:#}")))?;
    store.save(key, &artifact).map_err(cache_error)
}

fn config_error(err: wasmtime::Error) -> PluginError {
    PluginError::Config(format!("{err:#}"))
}

/// A memory that starts above the plugin's own limit could never be created.
fn check_initial_memory(component: &Component, limits: &Limits) -> Result<(), PluginError> {
    let Some(pages) = component
        .resources_required()
        .and_then(|r| r.max_initial_memory_size)
    else {
        return Ok(());
    };
    let bytes = pages.saturating_mul(64 << 10);
    if bytes > limits.memory_bytes {
        return Err(PluginError::Config(format!(
            "the component's memory starts at {} MiB, over the plugin's memory limit of {} MiB: \
             raise limits.memory_mb in the manifest",
            bytes.div_ceil(1 << 20),
            limits.memory_bytes >> 20
        )));
    }
    Ok(())
}
