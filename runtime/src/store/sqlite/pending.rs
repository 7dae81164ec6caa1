//! Rows a write transaction holds back: record inserts and updates, the events of record
//! writes with their runs, and the step rows of ended runs. Each would be one statement,
//! i.e. one round trip to the connection's thread; held back, the rows of a whole group
//! commit (or of an executor batch) go in one statement per table, all of them in one
//! round trip (a [`Script`]).
//!
//! Invariant: they are written before any other statement of the transaction runs (so
//! every read, count or claim sees them), before a savepoint is taken or released (so a
//! failure is the request's own) and before the commit. Rolling back to a savepoint drops
//! them: a savepoint writes what came before it, so all of them came after.

use sqlx::SqliteConnection;

use super::batch::{EventRow, RecordRow, Script, StepRow};
use crate::error::Result;
use crate::model::{Event, Record, Run, StepRun};

#[derive(Debug, Default)]
pub(super) struct Pending {
    inserts: Vec<RecordRow>,
    /// Updates of records known to exist (the writer holds the lock, so they still do).
    updates: Vec<RecordRow>,
    /// Events as their rows (see [`EventRow`]).
    events: Vec<EventRow>,
    runs: Vec<Run>,
    /// Step rows of ended runs (see [`StepRow`]).
    steps: Vec<StepRow>,
}

impl Pending {
    pub(super) fn insert_record(&mut self, r: &Record) -> Result<()> {
        self.inserts.push(RecordRow::new(r)?);
        Ok(())
    }

    /// Whether an update of this record is held back (one statement updates each record
    /// once: a second update waits for the first to be written).
    pub(super) fn updates(&self, ws: &str, object: &str, id: &str) -> bool {
        self.updates
            .iter()
            .any(|r| r.id == id && r.object == object && r.workspace_id == ws)
    }

    pub(super) fn update_record(&mut self, r: &Record) -> Result<()> {
        self.updates.push(RecordRow::new(r)?);
        Ok(())
    }

    pub(super) fn insert_events(&mut self, events: &[Event]) -> Result<()> {
        self.events.extend(EventRow::all(events)?);
        Ok(())
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

    /// The step rows of ended runs (a step given twice keeps its last row).
    pub(super) fn upsert_steps(&mut self, ends: &[(&Run, &[StepRun])]) -> Result<()> {
        for (run, steps) in ends {
            for step in steps.iter() {
                self.steps.push(StepRow::new(run, step)?);
            }
        }
        Ok(())
    }

    /// Whether no row is held back (the fields named one by one, as in
    /// [`Self::take_into`], so a new kind of row cannot be left out of either).
    pub(super) fn is_empty(&self) -> bool {
        let Pending {
            inserts,
            updates,
            events,
            runs,
            steps,
        } = self;
        inserts.is_empty()
            && updates.is_empty()
            && events.is_empty()
            && runs.is_empty()
            && steps.is_empty()
    }

    pub(super) fn clear(&mut self) {
        *self = Pending::default();
    }

    /// Adds every row held back to `script`, one statement per table (per chunk), and
    /// forgets them.
    pub(super) fn take_into(&mut self, script: &mut Script) -> Result<()> {
        let Pending {
            inserts,
            updates,
            events,
            runs,
            steps,
        } = std::mem::take(self);
        // Inserts before updates: a record can only be updated once it exists, and its
        // history rows (written by triggers) follow its writes in order. The other tables
        // have neither triggers nor enforced foreign keys, so their order is free.
        script.insert_records(inserts);
        script.update_records(updates);
        script.insert_new_events(events);
        script.insert_runs(&runs)?;
        script.upsert_steps(steps);
        Ok(())
    }

    /// Writes every row held back, in one round trip.
    pub(super) async fn write(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        let mut script = Script::default();
        self.take_into(&mut script)?;
        script.run(conn).await
    }
}
