//! SQLite SQL of runs and steps: the reads (a run with its steps, the run list, the runs
//! of an event, the counts and `/metrics` stats, the idle probe) and the write
//! transaction's statements (insert once per automation and event, the queue, crash
//! recovery, the loop-guard count, step upserts and attempts).

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};

use super::rows::*;
use super::{Listed, cursor_key, opt_json, opt_ts};
use crate::error::Result;
use crate::model::*;
use crate::store::shared::{limit_or_default, page};
use crate::store::{DueWork, StepLatencySnapshot, StoreStats};

pub(super) async fn run_with_steps(pool: &SqlitePool, ws: &str, id: &str) -> Result<Option<Run>> {
    let sql = format!("SELECT {RUN_COLS} FROM runs WHERE workspace_id = ? AND id = ?");
    let Some(row) = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let mut r = run(&row)?;
    let sql =
        format!("SELECT {STEP_COLS} FROM steps WHERE workspace_id = ? AND run_id = ? ORDER BY seq");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_all(pool)
        .await?;
    r.steps = rows.iter().map(step).collect::<Result<_>>()?;
    Ok(Some(r))
}

pub(super) async fn run_page(pool: &SqlitePool, ws: &str, f: &RunFilter) -> Result<Page<Run>> {
    let limit = limit_or_default(f.limit);
    let (after_at, after_id) = cursor_key(pool, Listed::Runs, ws, f.cursor.as_deref()).await?;
    let sql = format!(
        "SELECT {RUN_COLS} FROM runs WHERE workspace_id = ?1 AND (?2 IS NULL OR automation_id = ?2) \
         AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR dry_run = ?4) \
         AND (?5 IS NULL OR (created_at, id) < (?5, ?6)) \
         ORDER BY created_at DESC, id DESC LIMIT CAST(?7 AS INTEGER)"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(f.automation_id.as_deref())
        .bind(f.status.map(|s| s.as_str()))
        .bind(f.dry_run.map(i64::from))
        .bind(after_at)
        .bind(after_id)
        .bind(limit as i64 + 1)
        .fetch_all(pool)
        .await?;
    let items = rows.iter().map(run).collect::<Result<Vec<_>>>()?;
    Ok(page(items, limit, |r| r.id.clone()))
}

pub(super) async fn runs_for_event(
    pool: &SqlitePool,
    ws: &str,
    event_id: &str,
) -> Result<Vec<Run>> {
    let sql =
        format!("SELECT {RUN_COLS} FROM runs WHERE workspace_id = ? AND event_id = ? ORDER BY id");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(event_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(run).collect()
}

pub(super) async fn count_runs(pool: &SqlitePool, status: Option<RunStatus>) -> Result<i64> {
    let n: i64 = match status {
        None => {
            sqlx::query_scalar("SELECT COUNT(*) FROM runs")
                .fetch_one(pool)
                .await?
        }
        Some(RunStatus::Completed) => sqlx::query_scalar(COMPLETED).fetch_one(pool).await?,
        Some(other) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM runs WHERE status = ?1 AND status <> 'completed'",
            )
            .bind(other.as_str())
            .fetch_one(pool)
            .await?
        }
    };
    Ok(n)
}

/// Completed runs are not in the partial index `runs_status` (migration 0013): they are
/// all runs less the others, counted in one statement so both counts see one snapshot.
const COMPLETED: &str = "SELECT (SELECT COUNT(*) FROM runs) \
     - (SELECT COUNT(*) FROM runs WHERE status <> 'completed')";

/// Runs by status: the others from the partial index `runs_status` alone, then the
/// completed ones, in one statement.
pub(super) const BY_STATUS: &str = "SELECT status, COUNT(*) FROM runs \
     WHERE status <> 'completed' GROUP BY status \
     UNION ALL SELECT 'completed', (SELECT COUNT(*) FROM runs) \
     - (SELECT COUNT(*) FROM runs WHERE status <> 'completed')";

/// Runs by status and the outbox backlog from the database, beside this process's step
/// latency histogram (`step_latency`).
pub(super) async fn stats(
    pool: &SqlitePool,
    step_latency: StepLatencySnapshot,
) -> Result<StoreStats> {
    let mut runs_by_status: Vec<(String, i64)> = sqlx::query_as(BY_STATUS).fetch_all(pool).await?;
    runs_by_status.retain(|(_, n)| *n > 0);
    runs_by_status.sort();
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

/// Whether a run is queued (read on the partial index `runs_status`), a timer is due, an
/// outbox item is due.
pub(super) const DUE_WORK: &str = "SELECT \
     EXISTS(SELECT 1 FROM runs WHERE status = 'queued' AND status <> 'completed'), \
     EXISTS(SELECT 1 FROM timers WHERE status = 'pending' AND fire_at <= ?1), \
     EXISTS(SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1)";

/// Runs a crash left running go back to the queue (at start).
pub(super) const REQUEUE: &str =
    "UPDATE runs SET status = 'queued' WHERE status = 'running' AND status <> 'completed'";

pub(super) async fn due_work(
    pool: &SqlitePool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DueWork> {
    let now = ts(now);
    let (r, t, o): (i64, i64, i64) = sqlx::query_as(DUE_WORK).bind(now).fetch_one(pool).await?;
    Ok(DueWork {
        queued_runs: r != 0,
        due_timers: t != 0,
        due_outbox: o != 0,
    })
}

pub(super) async fn insert_run(conn: &mut SqliteConnection, r: &Run) -> Result<bool> {
    let sql = format!(
        "INSERT INTO runs ({RUN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
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
        .bind(r.dry_run as i64)
        .bind(r.pc)
        .bind(serde_json::to_string(&r.state)?)
        .bind(r.error.as_deref())
        .bind(r.error_code.map(RunErrorCode::as_str))
        .bind(ts(r.created_at))
        .bind(opt_ts(r.started_at))
        .bind(opt_ts(r.finished_at))
        .bind(r.duration_ms)
        .execute(&mut *conn)
        .await?;
    Ok(res.rows_affected() == 1)
}

pub(super) async fn run_in_tx(
    conn: &mut SqliteConnection,
    ws: &str,
    id: &str,
) -> Result<Option<Run>> {
    let sql = format!("SELECT {RUN_COLS} FROM runs WHERE workspace_id = ? AND id = ?");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(run).transpose()
}

pub(super) async fn update_run(conn: &mut SqliteConnection, r: &Run) -> Result<()> {
    sqlx::query(
        "UPDATE runs SET status = ?, pc = ?, state = ?, error = ?, error_code = ?, started_at = ?, finished_at = ?, \
         duration_ms = ? WHERE workspace_id = ? AND id = ?",
    )
    .bind(r.status.as_str())
    .bind(r.pc)
    .bind(serde_json::to_string(&r.state)?)
    .bind(r.error.as_deref())
    .bind(r.error_code.map(RunErrorCode::as_str))
    .bind(opt_ts(r.started_at))
    .bind(opt_ts(r.finished_at))
    .bind(r.duration_ms)
    .bind(&r.workspace_id)
    .bind(&r.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The oldest queued runs, read in order from the partial index `runs_status`.
pub(super) const QUEUED: &str = "FROM runs WHERE status = 'queued' AND status <> 'completed' \
     ORDER BY created_at, id LIMIT CAST(? AS INTEGER)";

pub(super) async fn queued_runs(conn: &mut SqliteConnection, limit: u32) -> Result<Vec<Run>> {
    let sql = format!("SELECT {RUN_COLS} {QUEUED}");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(limit as i64)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(run).collect()
}

pub(super) async fn requeue_running(conn: &mut SqliteConnection) -> Result<u64> {
    let r = sqlx::query(REQUEUE).execute(&mut *conn).await?;
    Ok(r.rows_affected())
}

pub(super) async fn count_runs_on_record(
    conn: &mut SqliteConnection,
    ws: &str,
    automation_id: &str,
    object: &str,
    record_id: &str,
    since: DateTime<Utc>,
) -> Result<i64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM runs WHERE automation_id = ? AND object = ? AND record_id = ? AND created_at >= ? \
         AND workspace_id = ?",
    )
    .bind(automation_id)
    .bind(object)
    .bind(record_id)
    .bind(ts(since))
    .bind(ws)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

pub(super) async fn upsert_step(
    conn: &mut SqliteConnection,
    ws: &str,
    run_id: &str,
    s: &StepRun,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO steps (workspace_id, run_id, step_id, seq, type, status, started_at, finished_at, duration_ms, input, output, error, effects, logs, attempts, last_error) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
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
    .bind(opt_ts(s.started_at))
    .bind(opt_ts(s.finished_at))
    .bind(s.duration_ms)
    .bind(opt_json(s.input.as_ref()))
    .bind(opt_json(s.output.as_ref()))
    .bind(s.error.as_deref())
    .bind(serde_json::to_string(&s.effects)?)
    .bind(serde_json::to_string(&s.logs)?)
    .bind(s.attempts)
    .bind(s.last_error.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn steps(
    conn: &mut SqliteConnection,
    ws: &str,
    run_id: &str,
) -> Result<Vec<StepRun>> {
    let sql =
        format!("SELECT {STEP_COLS} FROM steps WHERE workspace_id = ? AND run_id = ? ORDER BY seq");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(run_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(step).collect()
}

pub(super) async fn note_step_attempts(
    conn: &mut SqliteConnection,
    ws: &str,
    run_id: &str,
    step_id: &str,
    attempts: i64,
    last_error: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE steps SET attempts = ?, last_error = ? \
         WHERE workspace_id = ? AND run_id = ? AND step_id = ?",
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
