//! Plugin calls outside the writer transaction. A plugin is untrusted code with a time
//! budget of seconds; awaiting it inside the batch transaction would hold the single
//! write lock (every other run and API write) for that long.
//!
//! So when the executor reaches a plugin step with no result yet, it commits the run as
//! `running` (the queue never picks `running` runs) and starts the call here: a spawned
//! task, bounded by a semaphore, whose result is kept in memory by (run id, step id). When
//! the call returns, the run is re-queued (a small write) and the runs worker woken; the
//! next drive takes the result and applies its effects in the step's transaction.
//!
//! Must never: apply an effect (calls only collect effect requests), or hold a store
//! transaction across a call. A crash loses only the in-memory result: `recover()`
//! re-queues the `running` run and the call is simply made again.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::Engine;
use crate::hooks::{PluginCall, PluginFailure, PluginResult, PluginRunner};
use crate::model::RunStatus;
use crate::store::{Store, StoreTx};

/// What a plugin call produced: its output and effect requests, or its failure.
pub(crate) type CallOutcome = Result<PluginResult, PluginFailure>;

type Key = (String, String);

enum Slot {
    InFlight,
    Done(CallOutcome),
}

/// The in-memory table of plugin calls in flight or finished but not yet applied.
pub(crate) struct PluginCalls {
    slots: Mutex<HashMap<Key, Slot>>,
    permits: Arc<Semaphore>,
    /// Calls started and not yet settled (result stored and run re-queued).
    unsettled: AtomicUsize,
}

impl PluginCalls {
    pub(crate) fn new(concurrency: usize) -> PluginCalls {
        PluginCalls {
            slots: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            unsettled: AtomicUsize::new(0),
        }
    }

    /// Takes the finished result of a call, if there is one.
    pub(crate) fn take(&self, run_id: &str, step_id: &str) -> Option<CallOutcome> {
        let mut slots = self.slots.lock().expect("plugin call table poisoned");
        let key = (run_id.to_string(), step_id.to_string());
        match slots.remove(&key) {
            Some(Slot::Done(outcome)) => Some(outcome),
            Some(Slot::InFlight) => {
                slots.insert(key, Slot::InFlight);
                None
            }
            None => None,
        }
    }

    /// Marks a call in flight; false when it already is (a rolled-back batch drove the
    /// run again while its call was running: the call must not be made twice).
    fn claim(&self, key: &Key) -> bool {
        let mut slots = self.slots.lock().expect("plugin call table poisoned");
        match slots.entry(key.clone()) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                v.insert(Slot::InFlight);
                self.unsettled.fetch_add(1, Ordering::SeqCst);
                true
            }
        }
    }

    fn finish(&self, key: Key, outcome: CallOutcome) {
        let mut slots = self.slots.lock().expect("plugin call table poisoned");
        slots.insert(key, Slot::Done(outcome));
    }

    fn forget(&self, key: &Key) {
        self.slots
            .lock()
            .expect("plugin call table poisoned")
            .remove(key);
    }

    /// Calls started by this process whose run is not re-queued yet.
    pub(crate) fn unsettled(&self) -> usize {
        self.unsettled.load(Ordering::SeqCst)
    }
}

impl<S: Store> Engine<S> {
    /// Starts a plugin call in the background unless it is already in flight. The caller
    /// commits the run as `running`; the call re-queues it when done.
    pub(crate) fn start_plugin_call(&self, runner: Arc<dyn PluginRunner>, call: PluginCall) {
        let calls = &self.inner.plugin_calls;
        let key = (call.run_id.clone(), call.step_id.clone());
        if !calls.claim(&key) {
            return;
        }
        let engine = self.clone();
        let permits = calls.permits.clone();
        tokio::spawn(async move {
            let outcome = {
                let _permit = permits.acquire_owned().await;
                let ws = call.workspace_id.clone();
                // A panicking runner must not leave the run `running` forever.
                match tokio::spawn(async move { runner.run(call).await }).await {
                    Ok(outcome) => (ws, outcome),
                    Err(e) => (ws, Err(format!("plugin call aborted: {e}").into())),
                }
            };
            let (ws, outcome) = outcome;
            engine.inner.plugin_calls.finish(key.clone(), outcome);
            engine.requeue_after_call(&ws, &key).await;
            engine
                .inner
                .plugin_calls
                .unsettled
                .fetch_sub(1, Ordering::SeqCst);
            engine.inner.wake_runs.notify_one();
        });
    }

    /// Puts the run back in the queue so the next drive applies the call's result. Retries
    /// storage errors; a run no longer `running` (cancelled, or this batch rolled back and
    /// left it `queued`) needs nothing, and a result nobody will take is dropped.
    async fn requeue_after_call(&self, ws: &str, key: &Key) {
        let mut pause = Duration::from_millis(10);
        loop {
            match self.requeue_running_run(ws, &key.0).await {
                Ok(RequeueOutcome::Requeued | RequeueOutcome::StillQueued) => return,
                Ok(RequeueOutcome::Gone) => {
                    self.inner.plugin_calls.forget(key);
                    return;
                }
                Err(e) => {
                    tracing::warn!(run = %key.0, error = %e, "re-queueing after a plugin call failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn requeue_running_run(&self, ws: &str, run_id: &str) -> crate::Result<RequeueOutcome> {
        let mut tx = self.inner.store.begin().await?;
        let outcome = match tx.run(ws, run_id).await? {
            Some(mut run) if run.status == RunStatus::Running => {
                run.status = RunStatus::Queued;
                tx.update_run(&run).await?;
                RequeueOutcome::Requeued
            }
            Some(run) if run.status == RunStatus::Queued => RequeueOutcome::StillQueued,
            _ => RequeueOutcome::Gone,
        };
        tx.commit().await?;
        Ok(outcome)
    }
}

enum RequeueOutcome {
    Requeued,
    StillQueued,
    Gone,
}
