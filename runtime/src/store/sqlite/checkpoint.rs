//! WAL checkpoints off the writer's path.
//!
//! By default SQLite checkpoints from the connection whose commit takes the WAL past 1,000
//! pages: that commit copies those pages into the database file and syncs both files
//! before it returns. On the one writer connection that put a checkpoint (about a
//! thousand page writes and two fsyncs) in front of every write waiting behind that
//! commit, several times a second under load. The writer now never checkpoints
//! (`wal_autocheckpoint=0`); a task of the store checkpoints from a connection of its own
//! (`PRAGMA wal_checkpoint(PASSIVE)`, which takes no lock a writer or reader waits for),
//! every 50 ms while the WAL grows and backing off to once a second when it does not.
//! Durability is unchanged: a commit is in the WAL before it is answered either way.
//!
//! The task ends when the last clone of the store is dropped or the store is closed; the
//! last connection to close checkpoints what is left, as before.

use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::error::Result;

/// Pause between checkpoints while the WAL grows.
const BUSY_PAUSE: Duration = Duration::from_millis(50);
/// Longest pause, once checkpoints find nothing new.
const IDLE_PAUSE: Duration = Duration::from_secs(1);

/// Keeps the checkpoint task running while a clone of the store holds it.
#[derive(Debug)]
pub(super) struct Checkpointer {
    pool: SqlitePool,
    _alive: Arc<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database of `options` (a file in WAL mode).
    pub(super) async fn start(options: SqliteConnectOptions) -> Result<Checkpointer> {
        let pool = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .connect_with(options)
            .await?;
        let alive = Arc::new(());
        tokio::spawn(run(pool.clone(), Arc::downgrade(&alive)));
        Ok(Checkpointer {
            pool,
            _alive: alive,
        })
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}

/// One `wal_checkpoint(PASSIVE)`: the WAL's frames and how many of them are in the
/// database file.
async fn checkpoint(pool: &SqlitePool) -> Result<(i64, i64)> {
    let (_busy, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    Ok((log, done))
}

async fn run(pool: SqlitePool, alive: Weak<()>) {
    let mut pause = BUSY_PAUSE;
    let mut last = (0, 0);
    loop {
        tokio::time::sleep(pause).await;
        if alive.strong_count() == 0 || pool.is_closed() {
            return;
        }
        match checkpoint(&pool).await {
            Ok(now) => {
                pause = next_pause(pause, last, now);
                last = now;
            }
            Err(e) => {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "WAL checkpoint failed; retried");
                pause = IDLE_PAUSE;
            }
        }
    }
}

/// Back to the short pause when the WAL changed since the last checkpoint, else twice
/// as long (up to [`IDLE_PAUSE`]).
fn next_pause(pause: Duration, last: (i64, i64), now: (i64, i64)) -> Duration {
    if now != last && now.0 > 0 {
        BUSY_PAUSE
    } else {
        (pause * 2).min(IDLE_PAUSE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_shortens_while_the_wal_grows_and_lengthens_when_it_does_not() {
        assert_eq!(next_pause(IDLE_PAUSE, (10, 10), (25, 25)), BUSY_PAUSE);
        assert_eq!(next_pause(BUSY_PAUSE, (25, 25), (25, 25)), BUSY_PAUSE * 2);
        assert_eq!(next_pause(IDLE_PAUSE, (25, 25), (25, 25)), IDLE_PAUSE);
        // A WAL restarted and still empty is nothing to do.
        assert_eq!(next_pause(BUSY_PAUSE, (25, 25), (0, 0)), BUSY_PAUSE * 2);
    }
}
