//! WAL checkpoints off the writer's path.
//!
//! By default SQLite checkpoints from the connection whose commit takes the WAL past 1,000
//! pages: that commit copies those pages into the database file and syncs both files
//! before it returns. On the one writer connection that put a checkpoint (about a
//! thousand page writes and two fsyncs) in front of every write waiting behind that
//! commit, several times a second under load. The writer now never checkpoints
//! (`wal_autocheckpoint=0`); a task of the store checkpoints from a connection of its own
//! (`PRAGMA wal_checkpoint(PASSIVE)`, which takes no lock a writer or reader waits for),
//! as often as about 1,000 new frames (4 MiB) accumulate: every 50 ms under heavy writes,
//! backing off to once a second.
//! Durability is unchanged: a commit is in the WAL before it is answered either way.
//!
//! A passive checkpoint never lets the WAL start over: SQLite rewinds it only when a
//! write begins after every frame was copied, and under steady writes new frames always
//! arrive first, so the file would grow without end (a gigabyte in 30 seconds of load).
//! So once the WAL holds [`RESTART_FRAMES`] frames the task takes the writer connection
//! (waiting its turn like any write transaction) and checkpoints on it with `RESTART`,
//! which copies the few frames the passive checkpoints had not, waits for the readers of
//! older snapshots and starts the WAL over. (A `RESTART` from the task's own connection
//! does not do: it waits for the writer lock with the busy handler's sleeps, and a busy
//! writer takes the lock back first every time.) Writes wait for that short copy and its
//! syncs about once per 16 MiB written instead of for a whole checkpoint every 4 MiB.
//!
//! The task ends when the last clone of the store is dropped or the store is closed; the
//! last connection to close checkpoints what is left, as before.

use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, SqlitePool};

use super::writer::Writer;
use crate::error::Result;

/// Pause between checkpoints while the WAL grows.
const BUSY_PAUSE: Duration = Duration::from_millis(50);
/// Longest pause, once checkpoints find little new.
const IDLE_PAUSE: Duration = Duration::from_secs(1);
/// Frames a checkpoint should find to copy (SQLite's own checkpoints come every 1,000).
const FRAMES_PER_CHECKPOINT: i64 = 1000;
/// WAL frames (pages) past which the WAL is started over (16 MiB of 4 KiB pages).
const RESTART_FRAMES: i64 = 4096;
/// How long starting the WAL over waits for readers of older snapshots.
const READERS_WAIT: Duration = Duration::from_millis(20);

/// Keeps the checkpoint task running while a clone of the store holds it.
#[derive(Debug)]
pub(super) struct Checkpointer {
    pool: SqlitePool,
    _alive: Arc<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database of `options` (a file in WAL mode) whose writer
    /// connection is the one of `writer`.
    pub(super) async fn start(
        options: SqliteConnectOptions,
        writer: Writer,
    ) -> Result<Checkpointer> {
        let pool = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .connect_with(options)
            .await?;
        let alive = Arc::new(());
        let pools = Pools {
            own: pool.clone(),
            writer,
        };
        tokio::spawn(run(pools, Arc::downgrade(&alive)));
        Ok(Checkpointer {
            pool,
            _alive: alive,
        })
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}

/// The task's own connection and the writer's.
struct Pools {
    own: SqlitePool,
    writer: Writer,
}

/// A passive checkpoint on the task's connection, then a restarting one on the writer's
/// when the WAL is long: the WAL's frames and how many of them are in the database file.
async fn checkpoint(pools: &Pools) -> Result<(i64, i64)> {
    let passive = checkpoint_with(&pools.own, "PRAGMA wal_checkpoint(PASSIVE)").await?;
    if passive.0 < RESTART_FRAMES {
        return Ok(passive);
    }
    restart_on_writer(&pools.writer).await
}

/// `wal_checkpoint(RESTART)` on the writer connection, waiting at most [`READERS_WAIT`]
/// for readers of older snapshots (a long read must not hold up every write: the WAL is
/// then started over at a later round).
async fn restart_on_writer(writer: &Writer) -> Result<(i64, i64)> {
    let mut conn = writer.acquire().await?;
    let usual: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await?;
    let short = format!("PRAGMA busy_timeout = {}", READERS_WAIT.as_millis());
    sqlx::raw_sql(AssertSqlSafe(short))
        .execute(&mut *conn)
        .await?;
    let restarted: sqlx::Result<(i64, i64, i64)> = sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
        .fetch_one(&mut *conn)
        .await;
    let back = format!("PRAGMA busy_timeout = {usual}");
    sqlx::raw_sql(AssertSqlSafe(back))
        .execute(&mut *conn)
        .await?;
    let (_busy, log, done) = restarted?;
    Ok((log, done))
}

async fn checkpoint_with(pool: &SqlitePool, pragma: &'static str) -> Result<(i64, i64)> {
    let (_busy, log, done): (i64, i64, i64) = sqlx::query_as(pragma).fetch_one(pool).await?;
    Ok((log, done))
}

async fn run(pools: Pools, alive: Weak<()>) {
    let mut pause = BUSY_PAUSE;
    let mut last = (0, 0);
    loop {
        tokio::time::sleep(pause).await;
        if alive.strong_count() == 0 || pools.own.is_closed() {
            return;
        }
        match checkpoint(&pools).await {
            Ok(now) => {
                pause = next_pause(pause, last, now);
                last = now;
            }
            Err(e) => {
                if pools.own.is_closed() || pools.writer.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "WAL checkpoint failed; retried");
                pause = IDLE_PAUSE;
            }
        }
    }
}

/// Half the pause (down to [`BUSY_PAUSE`]) when the last checkpoint copied at least
/// [`FRAMES_PER_CHECKPOINT`] frames, else twice it (up to [`IDLE_PAUSE`]): each
/// checkpoint copies about that many, so a slow trickle of writes is not met with a
/// checkpoint (and its syncs, which a commit to the same files may wait for) every few
/// writes. `last` and `now` are (frames in the WAL, frames copied) of the two checkpoints.
fn next_pause(pause: Duration, last: (i64, i64), now: (i64, i64)) -> Duration {
    // A WAL that started over since holds only new frames.
    let copied = match now.0 >= last.0 {
        true => now.1 - last.1,
        false => now.1,
    };
    match copied >= FRAMES_PER_CHECKPOINT {
        true => (pause / 2).max(BUSY_PAUSE),
        false => (pause * 2).min(IDLE_PAUSE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_follows_how_many_frames_a_checkpoint_copies() {
        let many = FRAMES_PER_CHECKPOINT;
        assert_eq!(
            next_pause(IDLE_PAUSE, (10, 10), (10 + many, 10 + many)),
            IDLE_PAUSE / 2
        );
        assert_eq!(
            next_pause(BUSY_PAUSE, (10, 10), (10 + many, 10 + many)),
            BUSY_PAUSE
        );
        // A trickle: the pause grows, up to the idle one.
        assert_eq!(next_pause(BUSY_PAUSE, (10, 10), (25, 25)), BUSY_PAUSE * 2);
        assert_eq!(next_pause(IDLE_PAUSE, (25, 25), (25, 25)), IDLE_PAUSE);
        // The WAL started over: everything in it is new.
        assert_eq!(
            next_pause(BUSY_PAUSE * 2, (5000, 5000), (many, many)),
            BUSY_PAUSE
        );
        assert_eq!(next_pause(BUSY_PAUSE, (5000, 5000), (0, 0)), BUSY_PAUSE * 2);
    }
}
