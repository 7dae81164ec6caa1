//! Background workers: runs, timers and the outbox, each a loop woken by the engine (or
//! its poll interval) and stopped by [`WorkerHandle::shutdown`]. Errors are logged and the
//! loop backs off; a worker never exits on its own.

use std::future::Future;
use std::time::Duration;

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

impl<S: Store> Engine<S> {
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
        let timers = spawn_loop(
            rx.clone(),
            poll,
            "timers",
            move || {
                let e = e.clone();
                async move { e.fire_due_timers().await }
            },
            self.clone(),
            Wake::Timers,
        );
        // The outbox worker keeps its deliveries in flight across rounds (see
        // `outbox_worker`), so it runs its own loop.
        let e = self.clone();
        let outbox = tokio::spawn(async move { e.outbox_worker(rx).await });
        WorkerHandle {
            stop,
            joins: vec![runs, timers, outbox],
        }
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
    tokio::spawn(async move {
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
