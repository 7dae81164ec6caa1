//! The engine: the async API the server calls, and the background workers (runs, timers,
//! outbox). It owns the store, the dispatch index (swapped atomically) and the plan cache.
//!
//! Invariants kept here: an event and the runs it triggers commit together; a run's steps
//! execute in write transactions in which their record writes and outbox rows commit; a
//! committed step is never executed again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::Notify;

use crate::dispatch::DispatchIndex;
use crate::hooks::{DefinitionCompiler, PluginRunner};
use crate::outbox::{Deliverer, OutboxConfig};
use crate::schema::{SchemaView, WorkspaceSchemas};
use crate::store::{SqliteStore, Store};

mod actions;
mod admin;
mod apply;
mod automations;
mod backtest;
mod caps;
mod combiner;
mod context;
mod effects;
mod exec;
mod exec_plan;
mod follow;
mod ingest;
mod notifications;
mod outbox_lanes;
mod outbox_worker;
mod plugin_calls;
mod record_log;
mod records_api;
mod shadow;
mod tasks;
mod testrun;
mod workers;
mod write_stats;

pub use admin::{
    NewToken, SCOPES, create_token_in, ensure_workspace_in, hash_token, revoke_token_in,
};
pub use apply::{AppliedChange, AutomationChange};
pub use caps::OutputCaps;
pub use ingest::Accepted;
pub use ingest::NewEvent;
pub use records_api::{NewRecord, RecordOp};
pub use tasks::validate_form;
pub use testrun::{OfflineTest, TestEvent, TestReport, TestRequest, test_offline};
pub use workers::{WorkerHandle, WorkerStatus};
pub use write_stats::WriteGroupStats;

/// Cascade protection (DESIGN §5).
#[derive(Debug, Clone)]
pub struct LoopGuardConfig {
    /// Events deeper than this in a causation chain fail their runs with `loop_detected`.
    pub max_depth: usize,
    /// At most this many runs of one automation on one record within `rate_window`.
    pub rate_cap: Option<(i64, Duration)>,
}

impl Default for LoopGuardConfig {
    fn default() -> Self {
        LoopGuardConfig {
            max_depth: 16,
            rate_cap: Some((100, Duration::from_secs(60))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub outbox: OutboxConfig,
    pub loop_guard: LoopGuardConfig,
    /// Runs executed per write transaction (group commit).
    pub run_batch: u32,
    /// Whether an API write starts the runs it queues in its own transaction (up to
    /// `run_batch`; see `Engine::start_in_write`) instead of leaving all of them to the
    /// queue. Either way a run is durable from the write's commit.
    pub start_runs_in_write: bool,
    /// How often idle workers look for work they were not woken for (timers, leases).
    pub poll_interval: Duration,
    /// Plugin calls running at once (each outside any transaction; see `plugin_calls`).
    pub plugin_concurrency: usize,
    /// Byte caps on rendered step params (templates).
    pub output_caps: OutputCaps,
    /// A background task with no heartbeat for longer than this is reported stalled
    /// (readiness answers 503 naming it); idle tasks beat at least every second.
    pub stall_after: Duration,
    /// How long record history is kept (`serve --record-history-days`): a backtest can
    /// start no earlier than this before now. Pruned hourly by the timer worker.
    pub record_history: Duration,
    /// Backtests replaying at once in this process (the others wait, queued).
    pub backtest_concurrency: usize,
    /// The automation log per record: cap, retention, explanations per entry.
    pub automation_log: crate::record_log::AutomationLogConfig,
    /// How often a node on a shared database renews its run leases and takes over lapsed
    /// ones (well under the driver's lease; see `engine::follow`).
    pub lease_renewal: Duration,
}

/// Record history kept by default: 30 days.
pub const DEFAULT_RECORD_HISTORY: Duration = Duration::from_secs(30 * 86_400);

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            outbox: OutboxConfig::default(),
            loop_guard: LoopGuardConfig::default(),
            run_batch: 256,
            start_runs_in_write: true,
            poll_interval: Duration::from_millis(250),
            plugin_concurrency: 16,
            output_caps: OutputCaps::default(),
            stall_after: Duration::from_secs(30),
            record_history: DEFAULT_RECORD_HISTORY,
            backtest_concurrency: 2,
            automation_log: crate::record_log::AutomationLogConfig::default(),
            lease_renewal: Duration::from_secs(5),
        }
    }
}

pub(crate) struct Inner<S: Store> {
    pub(crate) store: S,
    pub(crate) config: EngineConfig,
    pub(crate) schema: Arc<dyn WorkspaceSchemas>,
    pub(crate) compiler: Arc<dyn DefinitionCompiler>,
    pub(crate) plugins: Option<Arc<dyn PluginRunner>>,
    /// Plugin calls in flight or finished and not yet applied.
    pub(crate) plugin_calls: plugin_calls::PluginCalls,
    pub(crate) index: ArcSwap<DispatchIndex>,
    /// The store's dispatch version the index was built from (see `follow`).
    pub(crate) index_version: std::sync::atomic::AtomicI64,
    /// Serialises changes of the dispatch index (a full rebuild, or one automation's).
    pub(crate) index_lock: tokio::sync::Mutex<()>,
    pub(crate) plans: Mutex<HashMap<(String, i64), Arc<exec_plan::ExecPlan>>>,
    pub(crate) deliverer: Deliverer,
    pub(crate) wake_runs: Notify,
    /// Set when a run's own record write queued runs (a cascade); the group commit takes
    /// it after its commit to know whether the run loop has work.
    pub(crate) cascade_queued: std::sync::atomic::AtomicBool,
    pub(crate) wake_outbox: Notify,
    pub(crate) wake_timers: Notify,
    /// The group-commit queue of API writes (see `combiner`).
    pub(crate) writes: tokio::sync::mpsc::UnboundedSender<combiner::WriteJob>,
    /// Liveness of the background tasks (see [`Engine::workers`]).
    pub(crate) tasks: Mutex<Vec<Arc<workers::Liveness>>>,
    /// Backtest jobs of this process (see `backtest`).
    pub(crate) backtests: backtest::Jobs,
    /// When the timer worker next prunes record history (ms since the epoch).
    pub(crate) next_prune_ms: std::sync::atomic::AtomicI64,
    /// What the group-commit writer did (`/metrics`).
    pub(crate) write_counters: write_stats::WriteCounters,
}

/// The durable automation engine. Cheap to clone (one `Arc`).
pub struct Engine<S: Store = SqliteStore> {
    pub(crate) inner: Arc<Inner<S>>,
}

impl<S: Store> Clone for Engine<S> {
    fn clone(&self) -> Self {
        Engine {
            inner: self.inner.clone(),
        }
    }
}

/// What the engine is built from.
pub struct EngineParts<S: Store> {
    pub store: S,
    pub config: EngineConfig,
    /// Each workspace's schema (record writes are validated against it).
    pub schema: Arc<dyn WorkspaceSchemas>,
    /// Compiles a workspace's definitions against that workspace's schema.
    pub compiler: Arc<dyn DefinitionCompiler>,
    pub plugins: Option<Arc<dyn PluginRunner>>,
}

impl<S: Store> Engine<S> {
    /// Builds the engine, re-queues runs a crash left `running`, and loads the dispatch
    /// index. Workers are not started: call [`Engine::start`] (or drive them by hand in tests).
    /// Must be called inside a tokio runtime (it spawns the group-commit writer).
    pub async fn new(parts: EngineParts<S>) -> crate::Result<Engine<S>> {
        let deliverer = Deliverer::new(parts.config.outbox.clone());
        let (writes, write_rx) = tokio::sync::mpsc::unbounded_channel();
        let plugin_calls = plugin_calls::PluginCalls::new(parts.config.plugin_concurrency);
        let backtests = backtest::Jobs::new(parts.config.backtest_concurrency);
        let engine = Engine {
            inner: Arc::new(Inner {
                store: parts.store,
                config: parts.config,
                schema: parts.schema,
                compiler: Arc::new(crate::hooks::ContainedCompiler(parts.compiler)),
                plugins: parts.plugins,
                plugin_calls,
                index: ArcSwap::from_pointee(DispatchIndex::default()),
                index_version: std::sync::atomic::AtomicI64::new(-1),
                index_lock: tokio::sync::Mutex::new(()),
                plans: Mutex::new(HashMap::new()),
                deliverer,
                wake_runs: Notify::new(),
                cascade_queued: Default::default(),
                wake_outbox: Notify::new(),
                wake_timers: Notify::new(),
                writes,
                tasks: Mutex::new(Vec::new()),
                backtests,
                next_prune_ms: std::sync::atomic::AtomicI64::new(0),
                write_counters: write_stats::WriteCounters::default(),
            }),
        };
        let writer = workers::Liveness::new("writer");
        engine.watch(writer.clone());
        combiner::spawn(Arc::downgrade(&engine.inner), write_rx, writer);
        engine.recover().await?;
        engine.rebuild_index().await?;
        Ok(engine)
    }

    pub fn store(&self) -> &S {
        &self.inner.store
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The schema of workspace `ws`.
    pub fn schema(&self, ws: &str) -> Arc<dyn SchemaView> {
        self.inner.schema.view(ws)
    }

    /// How expressions on records of `object` follow references (by the schema of `ws`).
    pub(crate) fn references(
        &self,
        ws: &str,
        object: Option<&str>,
    ) -> automations_compiler::eval::References {
        match object {
            Some(o) => automations_compiler::eval::References::new(
                o,
                Arc::new(crate::expr::SchemaTargets(self.schema(ws))),
            ),
            None => automations_compiler::eval::References::convention(None),
        }
    }

    /// The current dispatch index (for the API's diagnostics and benchmarks).
    pub fn dispatch_index(&self) -> Arc<DispatchIndex> {
        self.inner.index.load_full()
    }
}
