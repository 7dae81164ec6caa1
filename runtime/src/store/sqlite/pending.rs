//! Rows a write transaction holds back: record inserts and updates, and the events of
//! record writes with their runs. Each would be one statement, i.e. one round trip to the
//! connection's thread; held back, the rows of a whole group commit (or of an executor
//! batch) go in one statement per table.
//!
//! Invariant: they are written before any other statement of the transaction runs (so
//! every read, count or claim sees them), before a savepoint is taken or released (so a
//! failure is the request's own) and before the commit. Rolling back to a savepoint drops
//! them: a savepoint writes what came before it, so all of them came after.

use sqlx::SqliteConnection;

use super::batch;
use crate::error::Result;
use crate::model::{Event, Record, Run};

#[derive(Debug, Default)]
pub(super) struct Pending {
    inserts: Vec<Record>,
    /// Updates of records known to exist (the writer holds the lock, so they still do).
    updates: Vec<Record>,
    events: Vec<Event>,
    runs: Vec<Run>,
}

impl Pending {
    pub(super) fn insert_record(&mut self, r: &Record) {
        self.inserts.push(r.clone());
    }

    /// Whether an update of this record is held back (one statement updates each record
    /// once: a second update waits for the first to be written).
    pub(super) fn updates(&self, ws: &str, object: &str, id: &str) -> bool {
        self.updates
            .iter()
            .any(|r| r.id == id && r.object == object && r.workspace_id == ws)
    }

    pub(super) fn update_record(&mut self, r: &Record) {
        self.updates.push(r.clone());
    }

    pub(super) fn insert_events(&mut self, events: &[Event]) {
        self.events.extend_from_slice(events);
    }

    pub(super) fn insert_run(&mut self, r: &Run) {
        self.runs.push(r.clone());
    }

    /// Puts a run's new state in place of its held-back insert (a run started in the
    /// transaction that queued it is inserted as it ended); false when it is not held back.
    pub(super) fn replace_run(&mut self, r: &Run) -> bool {
        let held = self
            .runs
            .iter_mut()
            .find(|h| h.id == r.id && h.workspace_id == r.workspace_id);
        match held {
            Some(h) => {
                h.clone_from(r);
                true
            }
            None => false,
        }
    }

    pub(super) fn clear(&mut self) {
        *self = Pending::default();
    }

    /// Writes every row held back, one statement per table (per chunk).
    pub(super) async fn write(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        if self.inserts.is_empty()
            && self.updates.is_empty()
            && self.events.is_empty()
            && self.runs.is_empty()
        {
            return Ok(());
        }
        let Pending {
            inserts,
            updates,
            events,
            runs,
        } = std::mem::take(self);
        // Inserts before updates: a record can only be updated once it exists, and its
        // history rows (written by triggers) follow its writes in order. The other tables
        // have neither triggers nor enforced foreign keys, so their order is free.
        batch::insert_records(conn, &inserts).await?;
        batch::update_records(conn, &updates).await?;
        batch::insert_new_events(conn, &events).await?;
        batch::insert_runs(conn, &runs).await
    }
}
