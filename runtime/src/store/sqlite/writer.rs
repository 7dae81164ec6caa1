//! The one writer connection, held by the store rather than lent by a pool.
//!
//! sqlx's pool gives a connection back from a task it spawns, which first pings the
//! connection's thread (a request and an answer), and only then hands the connection to
//! the next task waiting for it. Every write on SQLite waits for the one writer
//! connection, so that round trip and those two task wake-ups stood between every write
//! and the next: the group commits, the outbox's outcome writes and its claims. Here the
//! connection sits behind a fair async mutex: giving it back is an unlock, and the next
//! writer runs at once. Transactions are begun and committed with plain `BEGIN IMMEDIATE`
//! and `COMMIT` statements (one round trip each, where sqlx's own begin and commit wait
//! for an acknowledgement as well).
//!
//! Invariant: nobody gets the connection inside a transaction somebody else left open. A
//! transaction dropped open (its future cancelled, or an error returned before its
//! commit) keeps the connection until a task it spawns has rolled it back; when the
//! rollback fails, or no runtime is there to run it, the connection is closed (SQLite
//! rolls back what it held) and the next writer opens a new one.
//!
//! An in-memory database exists per connection and its readers share the writer's, so
//! it keeps a pool of one connection: its writes take that connection from the pool.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::Result;

/// The writer connection (cheap to clone: every clone is the same connection).
#[derive(Clone, Debug)]
pub(super) enum Writer {
    /// A file database's own connection.
    Own(Arc<Mutex<Slot>>),
    /// An in-memory database's pool of one, shared with its readers.
    Shared(SqlitePool),
}

/// The connection of a file database, `None` once closed or discarded.
#[derive(Debug)]
pub(super) struct Slot {
    conn: Option<SqliteConnection>,
    options: SqliteConnectOptions,
    closed: bool,
}

impl Writer {
    /// Opens the connection of a file database.
    pub(super) async fn open(options: SqliteConnectOptions) -> Result<Writer> {
        let conn = SqliteConnection::connect_with(&options).await?;
        Ok(Writer::Own(Arc::new(Mutex::new(Slot {
            conn: Some(conn),
            options,
            closed: false,
        }))))
    }

    /// The connection, once every writer before has given it back (first come, first
    /// served). A connection discarded since is opened again here.
    pub(super) async fn acquire(&self) -> Result<WriterConn> {
        match self {
            Writer::Own(slot) => {
                let mut slot = Arc::clone(slot).lock_owned().await;
                if slot.closed {
                    return Err(sqlx::Error::PoolClosed.into());
                }
                if slot.conn.is_none() {
                    slot.conn = Some(SqliteConnection::connect_with(&slot.options).await?);
                }
                Ok(WriterConn::Own(slot))
            }
            Writer::Shared(pool) => Ok(WriterConn::Pooled(pool.acquire().await?)),
        }
    }

    /// The connection inside a transaction begun with `BEGIN IMMEDIATE` (the write lock
    /// taken at once, so its reads see what it will write over).
    /// Held as a transaction from before the `BEGIN` is sent: dropped while it runs, or
    /// after it failed, the connection is rolled back before anyone else gets it.
    pub(super) async fn begin(&self) -> Result<OpenTx> {
        let mut tx = OpenTx(Some(self.acquire().await?));
        sqlx::query("BEGIN IMMEDIATE").execute(tx.conn()).await?;
        Ok(tx)
    }

    pub(super) async fn close(&self) {
        match self {
            Writer::Own(slot) => {
                let mut slot = slot.lock().await;
                slot.closed = true;
                if let Some(conn) = slot.conn.take() {
                    let _ = conn.close().await;
                }
            }
            Writer::Shared(pool) => pool.close().await,
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        match self {
            Writer::Own(slot) => slot.try_lock().map(|s| s.closed).unwrap_or(false),
            Writer::Shared(pool) => pool.is_closed(),
        }
    }
}

/// The writer connection, for as long as it is held.
pub(super) enum WriterConn {
    Own(OwnedMutexGuard<Slot>),
    Pooled(PoolConnection<Sqlite>),
}

impl WriterConn {
    /// Closes the connection instead of giving it back: its state is not known.
    fn discard(self) {
        match self {
            WriterConn::Own(mut slot) => drop(slot.conn.take()),
            WriterConn::Pooled(mut conn) => conn.close_on_drop(),
        }
    }
}

/// A connection perhaps inside a transaction: discarded when dropped (a future dropped
/// midway included) unless [`Self::give_back`] was called.
struct Unsettled(Option<WriterConn>);

impl Unsettled {
    fn conn(&mut self) -> &mut SqliteConnection {
        self.0.as_mut().expect("held until given back")
    }

    fn give_back(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Unsettled {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            conn.discard();
        }
    }
}

/// Rolls back whatever transaction the connection is in (none is fine) and gives it
/// back; when that fails the connection is discarded.
async fn roll_back(mut held: Unsettled) -> Result<()> {
    match sqlx::query("ROLLBACK").execute(held.conn()).await {
        Ok(_) => held.give_back(),
        Err(e) if no_transaction(&e) => held.give_back(),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// SQLite's answer to a `ROLLBACK` outside a transaction (a script that failed before
/// its `BEGIN`, or whose failure already ended the transaction).
fn no_transaction(e: &sqlx::Error) -> bool {
    e.to_string().contains("no transaction is active")
}

impl std::ops::Deref for WriterConn {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match self {
            WriterConn::Own(slot) => slot.conn.as_ref().expect("opened when acquired"),
            WriterConn::Pooled(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for WriterConn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            WriterConn::Own(slot) => slot.conn.as_mut().expect("opened when acquired"),
            WriterConn::Pooled(conn) => conn,
        }
    }
}

/// The writer connection inside a transaction (or perhaps inside one: a script that
/// begins and commits its own and may have stopped in between). Dropped without
/// [`Self::commit`] or [`Self::settled`], the transaction is rolled back before anyone
/// else gets the connection.
pub(super) struct OpenTx(Option<WriterConn>);

impl OpenTx {
    /// A connection about to run a script that begins and commits a transaction itself.
    pub(super) fn adopt(conn: WriterConn) -> OpenTx {
        OpenTx(Some(conn))
    }

    pub(super) fn conn(&mut self) -> &mut SqliteConnection {
        self.0.as_mut().expect("held until committed")
    }

    pub(super) async fn commit(mut self) -> Result<()> {
        sqlx::query("COMMIT").execute(self.conn()).await?;
        self.settled();
        Ok(())
    }

    /// Gives the connection back as it is: no transaction is open on it.
    pub(super) fn settled(mut self) {
        drop(self.0.take());
    }

    /// Rolls back now (the caller then reports its own error, not a failed rollback).
    pub(super) async fn roll_back(mut self) {
        if let Some(conn) = self.0.take() {
            let _ = roll_back(Unsettled(Some(conn))).await;
        }
    }
}

impl Drop for OpenTx {
    fn drop(&mut self) {
        let Some(conn) = self.0.take() else { return };
        // The task owns the connection until the rollback is done; a task that never
        // runs (the runtime shutting down) drops it unsettled, i.e. discarded.
        let held = Unsettled(Some(conn));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move {
                if let Err(e) = roll_back(held).await {
                    tracing::warn!(error = %e, "a dropped write could not be rolled back; the writer connection is opened anew");
                }
            })),
            Err(_) => drop(held),
        }
    }
}
