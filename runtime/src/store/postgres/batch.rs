//! Multi-row statements of the write transaction, with the same meaning as their
//! one-row twins in `tx.rs`, `runs.rs` and `work.rs` (the rules are `store::shared`'s).
//! Each is one round trip per chunk of rows.

use std::collections::HashSet;

use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::rows::*;
use super::{Node, at, opt_at};
use crate::error::Result;
use crate::model::*;
use crate::store::shared::{RecordKey, inserted_flags, last_step_rows};

/// Rows per statement: far under PostgreSQL's 65,535 bound parameters for the widest
/// row here (17 columns).
const CHUNK: usize = 1000;

/// The events named by (workspace, id); absent ones are left out.
pub(super) async fn events(conn: &mut PgConnection, keys: &[(&str, &str)]) -> Result<Vec<Event>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(CHUNK) {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "SELECT {EVENT_COLS} FROM events WHERE (workspace_id, id) IN ("
        ));
        q.push_values(chunk, |mut b, (ws, id)| {
            b.push_bind(ws.to_string()).push_bind(id.to_string());
        });
        q.push(")");
        for row in q.build().fetch_all(&mut *conn).await? {
            out.push(event(&row)?);
        }
    }
    Ok(out)
}

/// The records named by `keys`; absent ones are left out.
pub(super) async fn records(conn: &mut PgConnection, keys: &[RecordKey]) -> Result<Vec<Record>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(CHUNK) {
        let mut q = QueryBuilder::<Postgres>::new(format!(
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

/// Inserts events new by (workspace, id); per event, whether it was inserted.
pub(super) async fn insert_events(conn: &mut PgConnection, events: &[Event]) -> Result<Vec<bool>> {
    let mut inserted: HashSet<(String, String)> = HashSet::new();
    for chunk in events.chunks(CHUNK) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO events (workspace_id, id, type, object, record_id, payload, causation, depth, created_at) ",
        );
        q.push_values(chunk, |mut b, e| {
            b.push_bind(e.workspace_id.clone())
                .push_bind(e.id.clone())
                .push_bind(e.event_type.clone())
                .push_bind(e.object.clone())
                .push_bind(e.record_id.clone())
                .push_bind(e.payload.as_ref().clone())
                .push_bind(Json(e.causation.clone()))
                .push_bind(e.causation.len() as i64)
                .push_bind(at(e.created_at));
        });
        q.push(" ON CONFLICT (workspace_id, id) DO NOTHING RETURNING workspace_id, id");
        for row in q.build().fetch_all(&mut *conn).await? {
            inserted.insert((row.try_get(0)?, row.try_get(1)?));
        }
    }
    Ok(inserted_flags(events, inserted))
}

/// Upserts the step rows of runs (the last row of a repeated step wins).
pub(super) async fn upsert_steps(
    conn: &mut PgConnection,
    ends: &[(&Run, &[StepRun])],
) -> Result<()> {
    let kept = last_step_rows(ends);
    for chunk in kept.chunks(CHUNK) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO steps (workspace_id, run_id, step_id, seq, type, status, started_at, finished_at, duration_ms, input, output, error, effects, logs, attempts, last_error) ",
        );
        q.push_values(chunk, |mut b, (r, s)| {
            b.push_bind(r.workspace_id.clone())
                .push_bind(r.id.clone())
                .push_bind(s.id.clone())
                .push_bind(s.seq)
                .push_bind(s.step_type.clone())
                .push_bind(s.status.as_str())
                .push_bind(opt_at(s.started_at))
                .push_bind(opt_at(s.finished_at))
                .push_bind(s.duration_ms)
                .push_bind(s.input.clone())
                .push_bind(s.output.clone())
                .push_bind(s.error.clone())
                .push_bind(Json(s.effects.clone()))
                .push_bind(Json(s.logs.clone()))
                .push_bind(s.attempts)
                .push_bind(s.last_error.clone());
        });
        q.push(
            " ON CONFLICT (run_id, step_id) DO UPDATE SET seq = excluded.seq, status = excluded.status, \
             started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, \
             input = excluded.input, output = excluded.output, error = excluded.error, effects = excluded.effects, \
             logs = excluded.logs, attempts = excluded.attempts, last_error = excluded.last_error \
             WHERE steps.workspace_id = excluded.workspace_id",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// `update_run` for distinct runs, one statement per chunk.
/// A run left `running` is leased to `node` (see `Node`); any other status clears the lease.
pub(super) async fn update_runs(conn: &mut PgConnection, runs: &[&Run], node: &Node) -> Result<()> {
    for chunk in runs.chunks(CHUNK) {
        let mut q = QueryBuilder::<Postgres>::new(
            "UPDATE runs SET status = v.status, pc = v.pc, state = v.state, error = v.error, \
             error_code = v.error_code, started_at = v.started_at, finished_at = v.finished_at, \
             duration_ms = v.duration_ms, locked_by = CASE WHEN v.status = 'running' THEN ",
        );
        q.push_bind(node.id.clone());
        q.push(
            "::text END, lease_until = CASE WHEN v.status = 'running' \
             THEN now() + make_interval(secs => ",
        );
        q.push_bind(node.lease_ms as f64);
        q.push("::float8 / 1000) END FROM (");
        q.push_values(chunk, |mut b, r| {
            b.push_bind(r.workspace_id.clone())
                .push_bind(r.id.clone())
                .push_bind(r.status.as_str())
                .push_bind(r.pc)
                .push_bind(Json(r.state.clone()))
                .push_bind(r.error.clone())
                .push_bind(r.error_code.map(RunErrorCode::as_str))
                .push_bind(opt_at(r.started_at))
                .push_bind(opt_at(r.finished_at))
                .push_bind(r.duration_ms);
        });
        q.push(
            ") AS v (workspace_id, id, status, pc, state, error, error_code, started_at, finished_at, duration_ms) \
             WHERE runs.id = v.id AND runs.workspace_id = v.workspace_id",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts outbox items, skipping those whose idempotency key is taken (the first of a
/// repeated key winning, as successive one-row inserts would).
pub(super) async fn insert_outbox(conn: &mut PgConnection, items: &[OutboxItem]) -> Result<()> {
    for chunk in items.chunks(CHUNK) {
        let mut q = QueryBuilder::<Postgres>::new(format!("INSERT INTO outbox ({OUTBOX_COLS}) "));
        q.push_values(chunk, |mut b, o| {
            b.push_bind(o.id.clone())
                .push_bind(o.workspace_id.clone())
                .push_bind(o.kind.as_str())
                .push_bind(o.status.as_str())
                .push_bind(o.attempts)
                .push_bind(o.last_error.clone())
                .push_bind(o.payload.clone())
                .push_bind(o.run_id.clone())
                .push_bind(o.step_id.clone())
                .push_bind(o.idempotency_key.clone())
                .push_bind(at(o.next_attempt_at))
                .push_bind(at(o.created_at))
                .push_bind(opt_at(o.delivered_at))
                .push_bind(o.retry.clone().map(Json));
        });
        q.push(" ON CONFLICT (idempotency_key) DO NOTHING");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// `update_outbox` for many items (their delivery state; each only in its own
/// workspace), one statement per chunk.
pub(super) async fn update_outbox(conn: &mut PgConnection, items: &[OutboxItem]) -> Result<()> {
    for chunk in items.chunks(CHUNK) {
        let mut q = QueryBuilder::<Postgres>::new(
            "UPDATE outbox SET status = v.status, attempts = v.attempts, last_error = v.last_error, \
             next_attempt_at = v.next_attempt_at, delivered_at = v.delivered_at FROM (",
        );
        q.push_values(chunk, |mut b, o| {
            b.push_bind(o.workspace_id.clone())
                .push_bind(o.id.clone())
                .push_bind(o.status.as_str())
                .push_bind(o.attempts)
                .push_bind(o.last_error.clone())
                .push_bind(at(o.next_attempt_at))
                .push_bind(opt_at(o.delivered_at));
        });
        q.push(
            ") AS v (workspace_id, id, status, attempts, last_error, next_attempt_at, delivered_at) \
             WHERE outbox.id = v.id AND outbox.workspace_id = v.workspace_id",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}
