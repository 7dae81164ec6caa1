//! Multi-row statements of the write transaction: each call is a round trip to the
//! writer connection's thread, so the executor's per-run cost is the number of round
//! trips. These read or write many rows at once with the same meaning as their one-row
//! twins in `tx.rs`, `runs.rs` and `work.rs`; the writes a transaction holds back are
//! added to a [`Script`] and sent together. Never used outside a write transaction.

use std::collections::HashSet;
use std::sync::Arc;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::rows::*;
use crate::error::Result;
use crate::model::*;
use crate::store::shared::{RecordKey, inserted_flags};

/// Rows per statement: far under SQLite's bound-variable limit for the widest row here.
pub(super) const CHUNK: usize = 200;

fn opt_ts(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(ts)
}

/// Statements sent to the connection's thread in one round trip: SQLite runs a string of
/// statements one after the other, each taking its own share of the bound values in
/// order. What a transaction held back goes this way at once, whatever the tables.
#[derive(Default)]
pub(super) struct Script {
    q: Option<QueryBuilder<Sqlite>>,
}

impl Script {
    /// Starts the next statement with `sql`; the caller goes on with the builder.
    pub(super) fn statement(&mut self, sql: &str) -> &mut QueryBuilder<Sqlite> {
        match &mut self.q {
            Some(q) => {
                q.push(";\n").push(sql);
            }
            None => self.q = Some(QueryBuilder::new(sql)),
        }
        self.q.as_mut().expect("a statement was just started")
    }

    /// Runs every statement, in order; the first failing one fails the script (the
    /// transaction then rolls back what the ones before it did).
    pub(super) async fn run(self, conn: &mut SqliteConnection) -> Result<()> {
        if let Some(mut q) = self.q {
            q.build().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// A step row's columns, ready to be bound (input, output, effects and logs as JSON
/// text): what a transaction holds back of an ended run's step (as [`EventRow`]).
#[derive(Debug)]
pub(super) struct StepRow {
    workspace_id: String,
    run_id: String,
    step_id: String,
    seq: i64,
    step_type: String,
    status: &'static str,
    started_at: Option<String>,
    finished_at: Option<String>,
    duration_ms: Option<i64>,
    input: Option<String>,
    output: Option<String>,
    error: Option<String>,
    effects: String,
    logs: String,
    attempts: i64,
    last_error: Option<String>,
}

impl StepRow {
    pub(super) fn new(run: &Run, s: &StepRun) -> Result<StepRow> {
        Ok(StepRow {
            workspace_id: run.workspace_id.clone(),
            run_id: run.id.clone(),
            step_id: s.id.clone(),
            seq: s.seq,
            step_type: s.step_type.clone(),
            status: s.status.as_str(),
            started_at: opt_ts(s.started_at),
            finished_at: opt_ts(s.finished_at),
            duration_ms: s.duration_ms,
            input: s.input.as_ref().map(json_text),
            output: s.output.as_ref().map(json_text),
            error: s.error.clone(),
            effects: serde_json::to_string(&s.effects)?,
            logs: serde_json::to_string(&s.logs)?,
            attempts: s.attempts,
            last_error: s.last_error.clone(),
        })
    }
}

/// The events named by (workspace, id), in one statement per chunk; absent ones are left out.
pub(super) async fn events(
    conn: &mut SqliteConnection,
    keys: &[(String, String)],
) -> Result<Vec<Event>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {EVENT_COLS} FROM events WHERE (workspace_id, id) IN ("
        ));
        q.push_values(chunk, |mut b, (ws, id)| {
            b.push_bind(ws.clone()).push_bind(id.clone());
        });
        q.push(")");
        for row in q.build().fetch_all(&mut *conn).await? {
            out.push(event(&row)?);
        }
    }
    Ok(out)
}

/// The records named by `keys`, in one statement per chunk; absent ones are left out.
pub(super) async fn records(
    conn: &mut SqliteConnection,
    keys: &[RecordKey],
) -> Result<Vec<Record>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {RECORD_COLS} FROM records WHERE (workspace_id, object, id) IN ("
        ));
        q.push_values(chunk, |mut b, (ws, object, id)| {
            b.push_bind(ws.clone())
                .push_bind(object.clone())
                .push_bind(id.clone());
        });
        q.push(")");
        for row in q.build().fetch_all(&mut *conn).await? {
            out.push(record(&row)?);
        }
    }
    Ok(out)
}

/// Inserts events that are new by (workspace, id); returns, per event, whether it was
/// inserted (false for one already stored, or repeated earlier in `events`).
pub(super) async fn insert_events(
    conn: &mut SqliteConnection,
    events: &[Event],
) -> Result<Vec<bool>> {
    let mut inserted: HashSet<(String, String)> = HashSet::new();
    for chunk in events.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(INSERT_EVENTS);
        let rows = EventRow::all(chunk)?;
        event_values(&mut q, rows);
        q.push(" ON CONFLICT (workspace_id, id) DO NOTHING RETURNING workspace_id, id");
        for row in q.build().fetch_all(&mut *conn).await? {
            use sqlx::Row;
            inserted.insert((row.try_get(0)?, row.try_get(1)?));
        }
    }
    Ok(inserted_flags(events, inserted))
}

impl Script {
    /// Upserts step rows; a (run, step id) given twice keeps its last row, as successive
    /// one-row upserts would.
    pub(super) fn upsert_steps(&mut self, held: Vec<StepRow>) {
        let mut seen = HashSet::new();
        let mut last: Vec<bool> = held
            .iter()
            .rev()
            .map(|s| seen.insert((s.run_id.as_str(), s.step_id.as_str())))
            .collect();
        last.reverse();
        let kept = held
            .into_iter()
            .zip(last)
            .filter_map(|(s, last)| last.then_some(s));
        for chunk in chunked(kept.collect()) {
            let q = self.statement(
                "INSERT INTO steps (workspace_id, run_id, step_id, seq, type, status, started_at, finished_at, duration_ms, input, output, error, effects, logs, attempts, last_error) ",
            );
            q.push_values(chunk, |mut b, s| {
                b.push_bind(s.workspace_id)
                    .push_bind(s.run_id)
                    .push_bind(s.step_id)
                    .push_bind(s.seq)
                    .push_bind(s.step_type)
                    .push_bind(s.status)
                    .push_bind(s.started_at)
                    .push_bind(s.finished_at)
                    .push_bind(s.duration_ms)
                    .push_bind(s.input)
                    .push_bind(s.output)
                    .push_bind(s.error)
                    .push_bind(s.effects)
                    .push_bind(s.logs)
                    .push_bind(s.attempts)
                    .push_bind(s.last_error);
            });
            q.push(
                " ON CONFLICT (run_id, step_id) DO UPDATE SET seq = excluded.seq, status = excluded.status, \
                 started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, \
                 input = excluded.input, output = excluded.output, error = excluded.error, effects = excluded.effects, \
                 logs = excluded.logs, attempts = excluded.attempts, last_error = excluded.last_error \
                 WHERE steps.workspace_id = excluded.workspace_id",
            );
        }
    }
}

/// [`update_run`](super::tx) for distinct runs, one statement per chunk.
pub(super) async fn update_runs(conn: &mut SqliteConnection, runs: &[&Run]) -> Result<()> {
    for chunk in runs.chunks(CHUNK) {
        let mut rows = Vec::with_capacity(chunk.len());
        for r in chunk {
            rows.push((*r, serde_json::to_string(&r.state)?));
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "WITH v (workspace_id, id, status, pc, state, error, error_code, started_at, finished_at, duration_ms) AS (",
        );
        q.push_values(rows, |mut b, (r, state)| {
            b.push_bind(r.workspace_id.clone())
                .push_bind(r.id.clone())
                .push_bind(r.status.as_str())
                .push_bind(r.pc)
                .push_bind(state)
                .push_bind(r.error.clone())
                .push_bind(r.error_code.map(RunErrorCode::as_str))
                .push_bind(opt_ts(r.started_at))
                .push_bind(opt_ts(r.finished_at))
                .push_bind(r.duration_ms);
        });
        q.push(
            ") UPDATE runs SET status = v.status, pc = v.pc, state = v.state, error = v.error, \
             error_code = v.error_code, started_at = v.started_at, finished_at = v.finished_at, \
             duration_ms = v.duration_ms FROM v WHERE runs.id = v.id AND runs.workspace_id = v.workspace_id",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

impl Script {
    /// Inserts outbox items, skipping those whose idempotency key is taken (as successive
    /// `insert_outbox` calls would, the first of a repeated key winning).
    pub(super) fn insert_outbox(&mut self, items: &[OutboxItem]) -> Result<()> {
        for chunk in items.chunks(CHUNK) {
            let retries = chunk
                .iter()
                .map(super::rows::retry_text)
                .collect::<Result<Vec<_>>>()?;
            let q = self.statement(&format!("INSERT INTO outbox ({OUTBOX_COLS}) "));
            q.push_values(chunk.iter().zip(retries), |mut b, (o, retry)| {
                b.push_bind(o.id.clone())
                    .push_bind(o.workspace_id.clone())
                    .push_bind(o.kind.as_str())
                    .push_bind(o.status.as_str())
                    .push_bind(o.attempts)
                    .push_bind(o.last_error.clone())
                    .push_bind(json_text(&o.payload))
                    .push_bind(o.run_id.clone())
                    .push_bind(o.step_id.clone())
                    .push_bind(o.idempotency_key.clone())
                    .push_bind(ts(o.next_attempt_at))
                    .push_bind(ts(o.created_at))
                    .push_bind(opt_ts(o.delivered_at))
                    .push_bind(retry);
            });
            q.push(" ON CONFLICT (idempotency_key) DO NOTHING");
        }
        Ok(())
    }
}

/// `update_outbox` for many items (their delivery state; each only in its own
/// workspace), one statement per chunk. One item is a plain `UPDATE`: the joined form
/// materialises its values and the join into two temporary b-trees, which costs more
/// than the update of one row.
pub(super) async fn update_outbox(conn: &mut SqliteConnection, items: &[OutboxItem]) -> Result<()> {
    if let [o] = items {
        sqlx::query(
            "UPDATE outbox SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ?, \
             delivered_at = ? WHERE id = ? AND workspace_id = ?",
        )
        .bind(o.status.as_str())
        .bind(o.attempts)
        .bind(o.last_error.as_deref())
        .bind(ts(o.next_attempt_at))
        .bind(opt_ts(o.delivered_at))
        .bind(o.id.as_str())
        .bind(o.workspace_id.as_str())
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    for chunk in items.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "WITH v (workspace_id, id, status, attempts, last_error, next_attempt_at, delivered_at) AS (",
        );
        q.push_values(chunk, |mut b, o| {
            b.push_bind(o.workspace_id.clone())
                .push_bind(o.id.clone())
                .push_bind(o.status.as_str())
                .push_bind(o.attempts)
                .push_bind(o.last_error.clone())
                .push_bind(ts(o.next_attempt_at))
                .push_bind(opt_ts(o.delivered_at));
        });
        q.push(
            ") UPDATE outbox SET status = v.status, attempts = v.attempts, last_error = v.last_error, \
             next_attempt_at = v.next_attempt_at, delivered_at = v.delivered_at \
             FROM v WHERE outbox.id = v.id AND outbox.workspace_id = v.workspace_id",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Each item's `part` as JSON text.
fn json_texts<T, V: serde::Serialize>(items: &[T], part: impl Fn(&T) -> &V) -> Result<Vec<String>> {
    items
        .iter()
        .map(|i| Ok(serde_json::to_string(part(i))?))
        .collect()
}

/// An event's columns, ready to be bound: its payload and causation as JSON text.
///
/// What a transaction holds back of an event is this, not the event: a record write's
/// payload holds the record (and its previous state), so a clone of the event copied
/// every field of it twice, to be freed again once written; its text is needed anyway.
#[derive(Debug)]
pub(super) struct EventRow {
    workspace_id: String,
    id: String,
    event_type: String,
    object: Option<String>,
    record_id: Option<String>,
    payload: String,
    causation: String,
    depth: i64,
    created_at: String,
}

impl EventRow {
    fn new(e: &Event, payload: String) -> Result<EventRow> {
        Ok(EventRow {
            workspace_id: e.workspace_id.clone(),
            id: e.id.clone(),
            event_type: e.event_type.clone(),
            object: e.object.clone(),
            record_id: e.record_id.clone(),
            payload,
            causation: serde_json::to_string(&e.causation)?,
            depth: e.causation.len() as i64,
            created_at: ts(e.created_at),
        })
    }

    /// The rows of `events`; a payload shared with the event before (an update's
    /// `<field>_changed` events share its `updated` event's) is serialised once.
    pub(super) fn all(events: &[Event]) -> Result<Vec<EventRow>> {
        let mut rows: Vec<EventRow> = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let shared = i
                .checked_sub(1)
                .filter(|&before| Arc::ptr_eq(&events[before].payload, &e.payload))
                .and_then(|_| rows.last());
            let payload = match shared {
                Some(row) => row.payload.clone(),
                None => json_text(&e.payload),
            };
            rows.push(EventRow::new(e, payload)?);
        }
        Ok(rows)
    }
}

/// The `VALUES` rows of `chunk`'s events, after an `INSERT INTO events (...)` of `q`.
fn event_values(q: &mut QueryBuilder<Sqlite>, chunk: impl IntoIterator<Item = EventRow>) {
    q.push_values(chunk, |mut b, e| {
        b.push_bind(e.workspace_id)
            .push_bind(e.id)
            .push_bind(e.event_type)
            .push_bind(e.object)
            .push_bind(e.record_id)
            .push_bind(e.payload)
            .push_bind(e.causation)
            .push_bind(e.depth)
            .push_bind(e.created_at);
    });
}

const INSERT_EVENTS: &str = "INSERT INTO events (workspace_id, id, type, object, record_id, payload, causation, depth, created_at) ";

/// A record's columns, ready to be bound: its fields as JSON text. What a transaction
/// holds back of a written record (as [`EventRow`] of an event).
#[derive(Debug)]
pub(super) struct RecordRow {
    pub(super) workspace_id: String,
    pub(super) object: String,
    pub(super) id: String,
    fields: String,
    created_at: String,
    updated_at: String,
}

impl RecordRow {
    pub(super) fn new(r: &Record) -> Result<RecordRow> {
        Ok(RecordRow {
            workspace_id: r.workspace_id.clone(),
            object: r.object.clone(),
            id: r.id.clone(),
            fields: serde_json::to_string(&r.fields)?,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        })
    }
}

/// `chunk`'s records as `VALUES` rows of `RECORD_COLS`, after what `q` holds.
fn record_values(q: &mut QueryBuilder<Sqlite>, chunk: impl IntoIterator<Item = RecordRow>) {
    q.push_values(chunk, |mut b, r| {
        b.push_bind(r.workspace_id)
            .push_bind(r.object)
            .push_bind(r.id)
            .push_bind(r.fields)
            .push_bind(r.created_at)
            .push_bind(r.updated_at);
    });
}

/// `rows` in chunks of at most [`CHUNK`].
fn chunked<T>(rows: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        rows.peek()?;
        Some(rows.by_ref().take(CHUNK).collect())
    })
}

impl Script {
    /// Inserts records (none may exist: a conflict is an error, as for the one-row insert).
    pub(super) fn insert_records(&mut self, records: Vec<RecordRow>) {
        for chunk in chunked(records) {
            let q = self.statement(&format!("INSERT INTO records ({RECORD_COLS}) "));
            record_values(q, chunk);
        }
    }

    /// Updates the fields and `updated_at` of existing records, each named once (a plain
    /// `UPDATE`: the history trigger's `OR REPLACE` applies as for the one-row update,
    /// which an upsert's conflict clause would override; `created_at` is never rewritten).
    pub(super) fn update_records(&mut self, records: Vec<RecordRow>) {
        for chunk in chunked(records) {
            let q = self.statement(&format!("WITH v ({RECORD_COLS}) AS ("));
            record_values(q, chunk);
            q.push(
                ") UPDATE records SET fields = v.fields, updated_at = v.updated_at FROM v \
                 WHERE records.workspace_id = v.workspace_id AND records.object = v.object \
                 AND records.id = v.id",
            );
        }
    }

    /// Inserts events with generated ids (a duplicate is an error, never skipped).
    pub(super) fn insert_new_events(&mut self, events: Vec<EventRow>) {
        for chunk in chunked(events) {
            event_values(self.statement(INSERT_EVENTS), chunk);
        }
    }

    /// Inserts the runs of generated events (none can exist yet: a conflict is an error).
    pub(super) fn insert_runs(&mut self, runs: &[Run]) -> Result<()> {
        for chunk in runs.chunks(CHUNK) {
            let states = json_texts(chunk, |r| &r.state)?;
            let q = self.statement(&format!("INSERT INTO runs ({RUN_COLS}) "));
            q.push_values(chunk.iter().zip(states), |mut b, (r, state)| {
                b.push_bind(r.id.clone())
                    .push_bind(r.workspace_id.clone())
                    .push_bind(r.automation_id.clone())
                    .push_bind(r.version)
                    .push_bind(r.event_id.clone())
                    .push_bind(r.object.clone())
                    .push_bind(r.record_id.clone())
                    .push_bind(r.status.as_str())
                    .push_bind(r.dry_run as i64)
                    .push_bind(r.pc)
                    .push_bind(state)
                    .push_bind(r.error.clone())
                    .push_bind(r.error_code.map(RunErrorCode::as_str))
                    .push_bind(ts(r.created_at))
                    .push_bind(opt_ts(r.started_at))
                    .push_bind(opt_ts(r.finished_at))
                    .push_bind(r.duration_ms);
            });
        }
        Ok(())
    }
}
