//! Record history and backtests on PostgreSQL (`postgres/0011_record_history_backtests.sql`).
//!
//! History rows are written by a trigger on `records` (never from here); this module reads
//! them as of an instant and prunes them. Backtest rows are written only while the job is
//! unfinished (`status IN ('queued', 'running')`), so a cancel and a completion racing each
//! other leave exactly one final state. A job is leased to the node that runs it (renewed
//! with its run leases): a node starting up ends only jobs whose node stopped renewing.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};

use super::rows::{EVENT_COLS, event};
use super::{Node, at, opt_at};
use crate::backtest::{Backtest, BacktestStatus};
use crate::error::{Result, RuntimeError};
use crate::model::*;
use crate::store::AsOf;
use crate::store::shared::{EVENT_SKEW_MS, first_seq_at, stored_end};

pub(super) async fn record_as_of(
    pool: &PgPool,
    ws: &str,
    object: &str,
    id: &str,
    when: DateTime<Utc>,
) -> Result<AsOf> {
    let row = sqlx::query(
        "SELECT h.fields, h.created_at, h.updated_at, h.changed_at, \
           (SELECT MIN(n.changed_at) FROM record_history n WHERE n.workspace_id = $1 \
            AND n.object = $2 AND n.id = $3 AND n.changed_at > $4) AS until \
         FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT * FROM record_history \
           WHERE workspace_id = $1 AND object = $2 AND id = $3 AND changed_at <= $4 \
           ORDER BY changed_at DESC LIMIT 1) AS h ON TRUE",
    )
    .bind(ws)
    .bind(object)
    .bind(id)
    .bind(at(when))
    .fetch_one(pool)
    .await?;
    // No row, or NULL fields (a deletion): the record did not exist then.
    let record = match row.try_get::<Option<Value>, _>("fields")? {
        None => None,
        Some(fields) => Some(Record {
            workspace_id: ws.to_string(),
            object: object.to_string(),
            id: id.to_string(),
            fields: serde_json::from_value(fields)?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        }),
    };
    Ok(AsOf {
        record,
        from: row.try_get("changed_at")?,
        until: row.try_get("until")?,
    })
}

pub(super) async fn count_history(pool: &PgPool, ws: Option<&str>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM record_history WHERE ($1::text IS NULL OR workspace_id = $1)",
    )
    .bind(ws)
    .fetch_one(pool)
    .await?)
}

/// The first `seq` whose event was created at or after `when`, widened by
/// [`EVENT_SKEW_MS`]; one past the last when there is none.
async fn seq_at(pool: &PgPool, when: DateTime<Utc>) -> Result<i64> {
    let (lo, hi): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(seq), MAX(seq) FROM events")
            .fetch_one(pool)
            .await?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(0);
    };
    first_seq_at((lo, hi), when, |seq| async move {
        sqlx::query_as("SELECT seq, created_at FROM events WHERE seq >= $1 ORDER BY seq LIMIT 1")
            .bind(seq)
            .fetch_optional(pool)
            .await
            .map_err(RuntimeError::from)
    })
    .await
}

/// Events of one type created in `[from, to)`, in stored order (`seq`), after `after`.
pub(super) async fn events_between(
    pool: &PgPool,
    ws: &str,
    event_type: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<(i64, Event)>> {
    let start = match after {
        Some(seq) => seq + 1,
        None => seq_at(pool, from).await?,
    };
    let end = seq_at(pool, to + chrono::Duration::milliseconds(2 * EVENT_SKEW_MS)).await?;
    let sql = format!(
        "SELECT seq, {EVENT_COLS} FROM events WHERE seq >= $1 AND seq < $2 \
         AND workspace_id = $3 AND type = $4 AND created_at >= $5 AND created_at < $6 \
         ORDER BY seq LIMIT $7"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(start)
        .bind(end)
        .bind(ws)
        .bind(event_type)
        .bind(at(from))
        .bind(stored_end(to))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<i64, _>("seq")?, event(r)?)))
        .collect()
}

/// Deletes up to `batch` rows that no read at or after `cutoff` can return: rows older
/// than the cutoff followed by another row of the same record that is also older, and
/// deletions older than the cutoff.
pub(super) async fn prune(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    batch: u32,
) -> Result<u64> {
    let r = sqlx::query(
        "DELETE FROM record_history WHERE (workspace_id, object, id, changed_at) IN ( \
           SELECT h.workspace_id, h.object, h.id, h.changed_at FROM record_history h \
           WHERE h.changed_at < $1 AND ( \
             h.fields IS NULL OR EXISTS ( \
               SELECT 1 FROM record_history n WHERE n.workspace_id = h.workspace_id \
               AND n.object = h.object AND n.id = h.id \
               AND n.changed_at > h.changed_at AND n.changed_at < $1)) \
           LIMIT $2)",
    )
    .bind(at(cutoff))
    .bind(i64::from(batch))
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

const BACKTEST_COLS: &str = "id, workspace_id, automation_id, target_id, version, request, status, progress, result, error, created_at, started_at, finished_at";

fn backtest(r: &PgRow) -> Result<Backtest> {
    let status: String = r.try_get("status")?;
    Ok(Backtest {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        automation_id: r.try_get("automation_id")?,
        target_id: r.try_get("target_id")?,
        version: r.try_get("version")?,
        request: serde_json::from_value(r.try_get("request")?)?,
        status: BacktestStatus::parse(&status)
            .ok_or_else(|| RuntimeError::Corrupt(format!("unknown backtest status {status:?}")))?,
        progress: serde_json::from_value(r.try_get("progress")?)?,
        result: r
            .try_get::<Option<Value>, _>("result")?
            .map(serde_json::from_value)
            .transpose()?,
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

pub(super) async fn get(pool: &PgPool, ws: &str, id: &str) -> Result<Option<Backtest>> {
    let sql = format!("SELECT {BACKTEST_COLS} FROM backtests WHERE workspace_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(backtest).transpose()
}

/// Backtests of one automation, newest first (`created_at`, `id`), without their results
/// (a list stays small); at most `limit + 1` (the caller pages).
pub(super) async fn list(
    pool: &PgPool,
    ws: &str,
    automation_id: &str,
    limit: u32,
    cursor: Option<&str>,
) -> Result<Vec<Backtest>> {
    let after = match cursor {
        None => None,
        Some(c) => {
            let created: Option<DateTime<Utc>> = sqlx::query_scalar(
                "SELECT created_at FROM backtests WHERE workspace_id = $1 AND automation_id = $2 AND id = $3",
            )
            .bind(ws)
            .bind(automation_id)
            .bind(c)
            .fetch_optional(pool)
            .await?;
            Some((
                created.ok_or_else(|| RuntimeError::not_found("cursor", c))?,
                c.to_string(),
            ))
        }
    };
    let cols = BACKTEST_COLS.replace("result,", "NULL::jsonb AS result,");
    let sql = format!(
        "SELECT {cols} FROM backtests WHERE workspace_id = $1 AND automation_id = $2 \
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::text)) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(automation_id)
        .bind(after.as_ref().map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(i64::from(limit) + 1)
        .fetch_all(pool)
        .await?;
    rows.iter().map(backtest).collect()
}

pub(super) async fn count_active(pool: &PgPool, ws: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM backtests WHERE workspace_id = $1 AND status IN ('queued', 'running')",
    )
    .bind(ws)
    .fetch_one(pool)
    .await?)
}

/// Inserts a job leased to `node` (the node whose engine runs it).
pub(super) async fn insert(conn: &mut PgConnection, b: &Backtest, node: &Node) -> Result<()> {
    let sql = format!(
        "INSERT INTO backtests ({BACKTEST_COLS}, locked_by, lease_until) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         now() + make_interval(secs => $15::float8 / 1000))"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&b.id)
        .bind(&b.workspace_id)
        .bind(&b.automation_id)
        .bind(&b.target_id)
        .bind(b.version)
        .bind(Json(&b.request))
        .bind(b.status.as_str())
        .bind(Json(&b.progress))
        .bind(b.result.as_ref().map(Json))
        .bind(b.error.as_deref())
        .bind(at(b.created_at))
        .bind(opt_at(b.started_at))
        .bind(opt_at(b.finished_at))
        .bind(&node.id)
        .bind(node.lease_ms as f64)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes the job's state while the stored row is unfinished; false when it already ended.
pub(super) async fn update(conn: &mut PgConnection, b: &Backtest) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE backtests SET status = $1, progress = $2, result = $3, error = $4, \
         started_at = $5, finished_at = $6 \
         WHERE workspace_id = $7 AND id = $8 AND status IN ('queued', 'running')",
    )
    .bind(b.status.as_str())
    .bind(Json(&b.progress))
    .bind(b.result.as_ref().map(Json))
    .bind(b.error.as_deref())
    .bind(opt_at(b.started_at))
    .bind(opt_at(b.finished_at))
    .bind(&b.workspace_id)
    .bind(&b.id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends the unfinished backtests of nodes that stopped renewing their leases, and this
/// node's own (start-up, when it has none running: they are a previous life's); another
/// live node's jobs go on.
pub(super) async fn interrupt(
    conn: &mut PgConnection,
    when: DateTime<Utc>,
    node: &Node,
) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE backtests SET status = 'failed', \
         error = 'interrupted: the server stopped while it ran; start it again', finished_at = $1 \
         WHERE status IN ('queued', 'running') \
         AND (lease_until IS NULL OR lease_until < now() OR locked_by = $2)",
    )
    .bind(at(when))
    .bind(&node.id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Renews `node`'s leases on its unfinished backtests.
pub(super) async fn renew(pool: &PgPool, node: &Node) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE backtests SET lease_until = now() + make_interval(secs => $2::float8 / 1000) \
         WHERE locked_by = $1 AND status IN ('queued', 'running')",
    )
    .bind(&node.id)
    .bind(node.lease_ms as f64)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}
