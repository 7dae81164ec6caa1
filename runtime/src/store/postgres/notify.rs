//! Change announcements between the nodes of one database (`LISTEN/NOTIFY`).
//!
//! A write transaction that queued work (runs, timers, outbox items) or changed
//! automations sends `pg_notify` on the installation's channel just before it commits;
//! PostgreSQL delivers it to every listener once the commit is visible. Each node keeps
//! one listening connection (opened on the first [`Notifier::subscribe`]) and fans the
//! notices out to its workers through a broadcast channel. A notice can be lost while the
//! listening connection reconnects: the workers' poll interval and the dispatch version
//! check are the backstops, notices only make nodes react sooner.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use crate::store::Change;

/// The payloads on the channel.
pub(super) const WORK: &str = "work";
pub(super) const DISPATCH: &str = "dispatch";

/// One node's end of the installation's channel.
#[derive(Clone, Debug)]
pub(super) struct Notifier {
    /// `automations:<schema>`: installations in other schemas of the database never hear
    /// each other.
    channel: String,
    sender: broadcast::Sender<Change>,
    /// Set once the listening task runs.
    started: Arc<OnceLock<()>>,
    /// The pool the listening connection comes from (one connection, no idle timeout).
    pool: PgPool,
}

impl Notifier {
    pub(super) fn new(channel: String, pool: PgPool) -> Notifier {
        Notifier {
            channel,
            sender: broadcast::channel(64).0,
            started: Arc::new(OnceLock::new()),
            pool,
        }
    }

    /// A receiver of the notices; the first call starts the listening task (it must be
    /// made inside a tokio runtime).
    pub(super) fn subscribe(&self) -> broadcast::Receiver<Change> {
        let receiver = self.sender.subscribe();
        if self.started.set(()).is_ok() {
            let (pool, channel, sender) =
                (self.pool.clone(), self.channel.clone(), self.sender.clone());
            tokio::spawn(listen(pool, channel, sender));
        }
        receiver
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}

/// Forwards the channel's notices until the pool is closed; reconnects after errors.
async fn listen(pool: PgPool, channel: String, sender: broadcast::Sender<Change>) {
    loop {
        if pool.is_closed() {
            return;
        }
        match listen_once(&pool, &channel, &sender).await {
            Ok(()) => return,
            Err(e) if pool.is_closed() => {
                tracing::debug!(error = %e, "change listener stopped");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "change listener lost its connection; reconnecting");
                // Whatever was announced meanwhile: look again.
                let _ = sender.send(Change::Work);
                let _ = sender.send(Change::Dispatch);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn listen_once(
    pool: &PgPool,
    channel: &str,
    sender: &broadcast::Sender<Change>,
) -> sqlx::Result<()> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    loop {
        let notice = listener.recv().await?;
        let change = match notice.payload() {
            DISPATCH => Change::Dispatch,
            _ => Change::Work,
        };
        // No receiver (nothing subscribed yet): nothing to wake.
        let _ = sender.send(change);
    }
}
