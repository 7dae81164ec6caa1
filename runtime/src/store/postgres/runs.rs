//! PostgreSQL SQL of runs and steps: the reads (a run with its steps, the run list, the
//! runs of an event, the counts and `/metrics` stats, the idle probe), the renewal of this
//! node's run leases, and the write transaction's statements (insert once per automation
//! and event, the queue, crash recovery, the loop-guard count, step upserts and attempts).

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use super::rows::*;
use super::{Listed, Node, at, cursor_key, opt_at};
use crate::error::Result;
use crate::model::*;
use crate::store::shared::{limit_or_default, page};
use crate::store::{DueWork, StepLatencySnapshot, StoreStats};

pub(super) async fn run_with_steps(pool: &PgPool, ws: &str, id: &str) -> Result<Option<Run>> {
    let sql = format!("SELECT {RUN_COLS} FROM runs WHERE workspace_id = $1 AND id = $2");
    let Some(row) = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let mut r = run(&row)?;
    let sql = format!(
        "SELECT {STEP_COLS} FROM steps WHERE workspace_id = $1 AND run_id = $2 ORDER BY seq"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_all(pool)
        .await?;
    r.steps = rows.iter().map(step).collect::<Result<_>>()?;
    Ok(Some(r))
}

pub(super) async fn run_page(pool: &PgPool, ws: &str, f: &RunFilter) -> Result<Page<Run>> {
    let limit = limit_or_default(f.limit);
    let (after_at, after_id) = cursor_key(pool, Listed::Runs, ws, f.cursor.as_deref()).await?;
    let sql = format!(
        "SELECT {RUN_COLS} FROM runs WHERE workspace_id = $1 AND ($2::text IS NULL OR automation_id = $2) \
         AND ($3::text IS NULL OR status = $3) AND ($4::boolean IS NULL OR dry_run = $4) \
         AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6)) \
         ORDER BY created_at DESC, id DESC LIMIT $7"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(f.automation_id.as_deref())
        .bind(f.status.map(|s| s.as_str()))
        .bind(f.dry_run)
        .bind(after_at)
        .bind(after_id)
        .bind(limit as i64 + 1)
        .fetch_all(pool)
        .await?;
    let items = rows.iter().map(run).collect::<Result<Vec<_>>>()?;
    Ok(page(items, limit, |r| r.id.clone()))
}

pub(super) async fn runs_for_event(pool: &PgPool, ws: &str, event_id: &str) -> Result<Vec<Run>> {
    let sql = format!(
        "SELECT {RUN_COLS} FROM runs WHERE workspace_id = $1 AND event_id = $2 ORDER BY id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(event_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(run).collect()
}

pub(super) async fn count_runs(pool: &PgPool, status: Option<RunStatus>) -> Result<i64> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE ($1::text IS NULL OR status = $1)")
            .bind(status.map(|s| s.as_str()))
            .fetch_one(pool)
            .await?;
    Ok(n)
}

/// Runs by status and the outbox backlog from the database, beside this process's step
/// latency histogram (`step_latency`).
pub(super) async fn stats(pool: &PgPool, step_latency: StepLatencySnapshot) -> Result<StoreStats> {
    let runs_by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")
            .fetch_all(pool)
            .await?;
    let outbox_backlog: Vec<(String, i64)> = sqlx::query_as(
        "SELECT kind, COUNT(*) FROM outbox WHERE status = 'pending' GROUP BY kind ORDER BY kind",
    )
    .fetch_all(pool)
    .await?;
    Ok(StoreStats {
        runs_by_status,
        step_latency,
        outbox_backlog,
    })
}

pub(super) async fn due_work(pool: &PgPool, now: DateTime<Utc>) -> Result<DueWork> {
    let (r, t, o): (bool, bool, bool) = sqlx::query_as(
        "SELECT EXISTS(SELECT 1 FROM runs WHERE status = 'queued'), \
         EXISTS(SELECT 1 FROM timers WHERE status = 'pending' AND fire_at <= $1), \
         EXISTS(SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1)",
    )
    .bind(at(now))
    .fetch_one(pool)
    .await?;
    Ok(DueWork {
        queued_runs: r,
        due_timers: t,
        due_outbox: o,
    })
}

pub(super) async fn renew_leases(pool: &PgPool, node: &Node) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE runs SET lease_until = now() + make_interval(secs => $2::float8 / 1000) \
         WHERE locked_by = $1 AND status = 'running'",
    )
    .bind(&node.id)
    .bind(node.lease_ms as f64)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

pub(super) async fn insert_run(conn: &mut PgConnection, r: &Run) -> Result<bool> {
    let sql = format!(
        "INSERT INTO runs ({RUN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (workspace_id, automation_id, event_id) DO NOTHING"
    );
    let res = sqlx::query(AssertSqlSafe(sql))
        .bind(&r.id)
        .bind(&r.workspace_id)
        .bind(&r.automation_id)
        .bind(r.version)
        .bind(&r.event_id)
        .bind(r.object.as_deref())
        .bind(r.record_id.as_deref())
        .bind(r.status.as_str())
        .bind(r.dry_run)
        .bind(r.pc)
        .bind(Json(&r.state))
        .bind(r.error.as_deref())
        .bind(r.error_code.map(RunErrorCode::as_str))
        .bind(at(r.created_at))
        .bind(opt_at(r.started_at))
        .bind(opt_at(r.finished_at))
        .bind(r.duration_ms)
        .execute(&mut *conn)
        .await?;
    Ok(res.rows_affected() == 1)
}

pub(super) async fn run_in_tx(conn: &mut PgConnection, ws: &str, id: &str) -> Result<Option<Run>> {
    let sql = format!("SELECT {RUN_COLS} FROM runs WHERE workspace_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(run).transpose()
}

pub(super) async fn update_run(conn: &mut PgConnection, r: &Run, node: &Node) -> Result<()> {
    sqlx::query(
        "UPDATE runs SET status = $1, pc = $2, state = $3, error = $4, error_code = $5, started_at = $6, finished_at = $7, \
         duration_ms = $8, \
         locked_by = CASE WHEN $1 = 'running' THEN $11 END, \
         lease_until = CASE WHEN $1 = 'running' THEN now() + make_interval(secs => $12::float8 / 1000) END \
         WHERE workspace_id = $9 AND id = $10",
    )
    .bind(r.status.as_str())
    .bind(r.pc)
    .bind(Json(&r.state))
    .bind(r.error.as_deref())
    .bind(r.error_code.map(RunErrorCode::as_str))
    .bind(opt_at(r.started_at))
    .bind(opt_at(r.finished_at))
    .bind(r.duration_ms)
    .bind(&r.workspace_id)
    .bind(&r.id)
    .bind(&node.id)
    .bind(node.lease_ms as f64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn queued_runs(conn: &mut PgConnection, limit: u32) -> Result<Vec<Run>> {
    let sql = format!(
        "SELECT {RUN_COLS} FROM runs WHERE status = 'queued' ORDER BY created_at, id LIMIT $1 \
         FOR UPDATE SKIP LOCKED"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(limit as i64)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(run).collect()
}

pub(super) async fn requeue_running(conn: &mut PgConnection) -> Result<u64> {
    // Only runs whose node stopped renewing: a live node's calls in flight stay its own.
    let r = sqlx::query(
        "UPDATE runs SET status = 'queued', locked_by = NULL, lease_until = NULL \
         WHERE status = 'running' AND (lease_until IS NULL OR lease_until < now())",
    )
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

pub(super) async fn count_runs_on_record(
    conn: &mut PgConnection,
    ws: &str,
    automation_id: &str,
    object: &str,
    record_id: &str,
    since: DateTime<Utc>,
) -> Result<i64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM runs WHERE workspace_id = $1 AND automation_id = $2 AND object = $3 \
         AND record_id = $4 AND created_at >= $5",
    )
    .bind(ws)
    .bind(automation_id)
    .bind(object)
    .bind(record_id)
    .bind(at(since))
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

pub(super) async fn upsert_step(
    conn: &mut PgConnection,
    ws: &str,
    run_id: &str,
    s: &StepRun,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO steps (workspace_id, run_id, step_id, seq, type, status, started_at, finished_at, duration_ms, input, output, error, effects, logs, attempts, last_error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (run_id, step_id) DO UPDATE SET seq = excluded.seq, status = excluded.status, \
         started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, \
         input = excluded.input, output = excluded.output, error = excluded.error, effects = excluded.effects, \
         logs = excluded.logs, attempts = excluded.attempts, last_error = excluded.last_error \
         WHERE steps.workspace_id = excluded.workspace_id",
    )
    .bind(ws)
    .bind(run_id)
    .bind(&s.id)
    .bind(s.seq)
    .bind(&s.step_type)
    .bind(s.status.as_str())
    .bind(opt_at(s.started_at))
    .bind(opt_at(s.finished_at))
    .bind(s.duration_ms)
    .bind(s.input.as_ref())
    .bind(s.output.as_ref())
    .bind(s.error.as_deref())
    .bind(Json(&s.effects))
    .bind(Json(&s.logs))
    .bind(s.attempts)
    .bind(s.last_error.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn steps(conn: &mut PgConnection, ws: &str, run_id: &str) -> Result<Vec<StepRun>> {
    let sql = format!(
        "SELECT {STEP_COLS} FROM steps WHERE workspace_id = $1 AND run_id = $2 ORDER BY seq"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(run_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(step).collect()
}

pub(super) async fn note_step_attempts(
    conn: &mut PgConnection,
    ws: &str,
    run_id: &str,
    step_id: &str,
    attempts: i64,
    last_error: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE steps SET attempts = $1, last_error = $2 \
         WHERE workspace_id = $3 AND run_id = $4 AND step_id = $5",
    )
    .bind(attempts)
    .bind(last_error)
    .bind(ws)
    .bind(run_id)
    .bind(step_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
