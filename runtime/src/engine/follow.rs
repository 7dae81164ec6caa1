//! Following the other nodes of a shared database (PostgreSQL; SQLite has none).
//!
//! One task per node listens for the driver's change notices ([`Change`]): queued work
//! wakes this node's workers at once (instead of at their next poll), and a moved dispatch
//! version rebuilds the in-memory dispatch index, so an automation changed through any
//! node triggers in its new version here too. Notices are only a shortcut: the task also
//! compares the dispatch version every [`CHECK_EVERY`] (a notice lost while the listening
//! connection reconnects delays a rebuild by at most that), and renews this node's run
//! leases and takes over lapsed ones of dead nodes every `lease_renewal`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::Engine;
use super::workers::{AliveGuard, Liveness};
use crate::store::{Change, Store, StoreTx};

/// The dispatch version is compared at least this often.
pub const CHECK_EVERY: Duration = Duration::from_millis(250);

impl<S: Store> Engine<S> {
    /// Starts the follower when the store has other nodes to follow.
    pub(crate) fn spawn_follower(&self, stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
        let changes = self.inner.store.changes()?;
        let alive = Liveness::new("follower");
        self.watch(alive.clone());
        let engine = self.clone();
        Some(tokio::spawn(async move {
            let _alive = AliveGuard::new(&alive);
            engine.follow(changes, stop).await
        }))
    }

    async fn follow(
        &self,
        mut changes: broadcast::Receiver<Change>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut leases = tokio::time::interval(self.inner.config.lease_renewal);
        leases.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                change = changes.recv() => match change {
                    Ok(Change::Work) => self.wake_all(),
                    Ok(Change::Dispatch) => self.follow_dispatch().await,
                    // Missed notices: do what any of them would have asked.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.wake_all();
                        self.follow_dispatch().await;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = check.tick() => self.follow_dispatch().await,
                _ = leases.tick() => self.tend_leases().await,
            }
        }
    }

    fn wake_all(&self) {
        self.inner.wake_runs.notify_one();
        self.inner.wake_timers.notify_one();
        self.inner.wake_outbox.notify_one();
    }

    /// Rebuilds the dispatch index when the stored dispatch version moved past the one
    /// it was built from.
    async fn follow_dispatch(&self) {
        let current = match self.inner.store.dispatch_version().await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "reading the dispatch version failed");
                return;
            }
        };
        if current == self.inner.index_version.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = self.rebuild_index().await {
            tracing::warn!(error = %e, "rebuilding the dispatch index after a change failed");
        }
    }

    /// Renews this node's run leases, then re-queues the runs of nodes whose leases
    /// lapsed (they resume from their last committed step here or on any node).
    async fn tend_leases(&self) {
        if let Err(e) = self.inner.store.renew_leases().await {
            tracing::warn!(error = %e, "renewing run leases failed");
        }
        let taken = async {
            let mut tx = self.inner.store.begin().await?;
            let n = tx.requeue_running().await?;
            tx.commit().await?;
            crate::Result::<u64>::Ok(n)
        };
        match taken.await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(runs = n, "took over runs whose node stopped renewing");
                self.inner.wake_runs.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "taking over lapsed runs failed"),
        }
    }
}
