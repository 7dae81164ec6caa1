//! Background workers: runs, timers and the outbox, each a loop woken by the engine (or
//! its poll interval) and stopped by [`WorkerHandle::shutdown`]. Errors are logged and the
//! loop backs off; a worker never exits on its own.
//!
//! Every loop (the group-commit writer too) reports a heartbeat each time it comes round,
//! busy or idle (idle loops wake at least every poll interval). A loop stuck inside a round
//! (a database lock that never frees, a delivery that never ends) stops beating, and
//! [`Engine::workers`] reports it `stalled` once its last beat is older than
//! `EngineConfig::stall_after`, so readiness probes catch it.
//!
//! The run and timer loops beat at the end of each round, so a worker counts as started
//! only once its first round is done: the timer worker's first round is the start-up
//! housekeeping (automation log sweep, record history prune), write transactions that a
//! busy database can hold up. Until then readiness says `starting` rather than `ok`.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Engine;
use crate::error::Result;
use crate::store::Store;

/// Running workers; dropping it leaves them running, `shutdown` stops them.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    joins: Vec<JoinHandle<()>>,
}

impl WorkerHandle {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for j in self.joins {
            let _ = j.await;
        }
    }
}

/// Whether one background task is alive (readiness probes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerStatus {
    /// `writer` (group commit), `runs`, `timers` or `outbox`.
    pub name: &'static str,
    /// False once the task has ended: stopped, or a panic unwound it.
    pub alive: bool,
    /// How long ago the task last came round its loop.
    pub since_heartbeat: Duration,
    /// It has beaten at least once since it was spawned (a run or timer loop: its first
    /// round is done).
    pub started: bool,
    /// Alive, but no heartbeat for longer than `EngineConfig::stall_after`: stuck.
    pub stalled: bool,
}

/// A task's liveness flag and heartbeat, shared with the engine.
#[derive(Debug)]
pub(crate) struct Liveness {
    name: &'static str,
    alive: AtomicBool,
    /// Milliseconds since the Unix epoch of the last heartbeat (of the spawn until then).
    beat_ms: AtomicI64,
    /// A heartbeat came since the spawn.
    started: AtomicBool,
}

impl Liveness {
    pub(crate) fn new(name: &'static str) -> Arc<Liveness> {
        Arc::new(Liveness {
            name,
            alive: AtomicBool::new(true),
            beat_ms: AtomicI64::new(Utc::now().timestamp_millis()),
            started: AtomicBool::new(false),
        })
    }

    /// The task came round its loop (busy or idle).
    pub(crate) fn beat(&self) {
        self.beat_ms
            .store(Utc::now().timestamp_millis(), Ordering::Release);
        self.started.store(true, Ordering::Release);
    }

    fn status(&self, stall_after: Duration) -> WorkerStatus {
        let ago = Utc::now().timestamp_millis() - self.beat_ms.load(Ordering::Acquire);
        let since_heartbeat = Duration::from_millis(ago.max(0) as u64);
        let alive = self.alive.load(Ordering::Acquire);
        WorkerStatus {
            name: self.name,
            alive,
            since_heartbeat,
            started: self.started.load(Ordering::Acquire),
            stalled: alive && since_heartbeat > stall_after,
        }
    }
}

/// Held by the task; dropping it (the task returned, or a panic unwound it) marks the
/// task dead, so no exit path can leave it reported alive.
pub(crate) struct AliveGuard(Arc<Liveness>);

impl AliveGuard {
    pub(crate) fn new(liveness: &Arc<Liveness>) -> AliveGuard {
        AliveGuard(liveness.clone())
    }
}

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::Release);
    }
}

impl<S: Store> Engine<S> {
    /// The engine's background tasks, whether each is alive and whether it is stalled (no
    /// heartbeat within `EngineConfig::stall_after`): the group-commit writer always, the
    /// run, timer and outbox workers once [`Engine::start`] was called.
    pub fn workers(&self) -> Vec<WorkerStatus> {
        let stall_after = self.inner.config.stall_after;
        let tasks = self.inner.tasks.lock().expect("worker list lock");
        tasks.iter().map(|t| t.status(stall_after)).collect()
    }

    pub(crate) fn watch(&self, liveness: Arc<Liveness>) {
        let mut tasks = self.inner.tasks.lock().expect("worker list lock");
        tasks.retain(|t| t.name != liveness.name);
        tasks.push(liveness);
    }

    /// Re-queues runs left `running` by a crash (they resume from their last committed step).
    pub(crate) async fn recover(&self) -> Result<u64> {
        use crate::store::StoreTx;
        let mut tx = self.inner.store.begin().await?;
        let n = tx.requeue_running().await?;
        tx.commit().await?;
        if n > 0 {
            tracing::info!(runs = n, "resumed runs left running by a previous process");
        }
        Ok(n)
    }

    /// Starts the run, timer and outbox workers on the current tokio runtime.
    pub fn start(&self) -> WorkerHandle {
        let (stop, rx) = watch::channel(false);
        let poll = self.inner.config.poll_interval;
        let e = self.clone();
        let runs = spawn_loop(
            rx.clone(),
            poll,
            "runs",
            move || {
                let e = e.clone();
                async move { e.run_queued_once().await }
            },
            self.clone(),
            Wake::Runs,
        );
        let e = self.clone();
        // The timer worker also sweeps the automation log by age, now and then.
        let swept = Arc::new(Mutex::new(None));
        let timers = spawn_loop(
            rx.clone(),
            poll,
            "timers",
            move || {
                let e = e.clone();
                let swept = swept.clone();
                async move {
                    e.sweep_automation_log_if_due(&swept).await;
                    let n = e.fire_due_timers().await?;
                    e.prune_record_history_if_due().await?;
                    Ok(n)
                }
            },
            self.clone(),
            Wake::Timers,
        );
        // The outbox worker keeps its deliveries in flight across rounds (see
        // `outbox_worker`), so it runs its own loop.
        let e = self.clone();
        let alive = Liveness::new("outbox");
        self.watch(alive.clone());
        let follower = self.spawn_follower(rx.clone());
        let outbox = tokio::spawn(async move {
            let _alive = AliveGuard::new(&alive);
            e.outbox_worker(rx, &alive).await
        });
        let mut joins = vec![runs, timers, outbox];
        joins.extend(follower);
        WorkerHandle { stop, joins }
    }
}

#[derive(Clone, Copy)]
enum Wake {
    Runs,
    Timers,
}

fn spawn_loop<S, F, Fut>(
    mut stop: watch::Receiver<bool>,
    poll: Duration,
    name: &'static str,
    mut work: F,
    engine: Engine<S>,
    wake: Wake,
) -> JoinHandle<()>
where
    S: Store,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<usize>> + Send + 'static,
{
    let alive = Liveness::new(name);
    engine.watch(alive.clone());
    tokio::spawn(async move {
        let _alive = AliveGuard::new(&alive);
        loop {
            if *stop.borrow() {
                return;
            }
            let idle = match work().await {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => {
                    tracing::warn!(worker = name, error = %e, "worker round failed; retrying");
                    true
                }
            };
            // At the end of the round: the first beat says the first round is done.
            alive.beat();
            if idle {
                let notify = match wake {
                    Wake::Runs => &engine.inner.wake_runs,
                    Wake::Timers => &engine.inner.wake_timers,
                };
                tokio::select! {
                    _ = notify.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    })
}
