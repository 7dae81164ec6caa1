//! SQLite SQL of record history and backtests (`0011_record_history_backtests.sql`).
//!
//! History rows are written by triggers on `records` (never from here); this module reads
//! them as of an instant and prunes them. Backtest rows are written only while the job is
//! unfinished (`status IN ('queued', 'running')`), so a cancel and a completion racing
//! each other leave exactly one final state.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, SqliteConnection, SqlitePool};

use super::rows::{EVENT_COLS, event};
use crate::backtest::{Backtest, BacktestStatus};
use crate::error::{Result, RuntimeError};
use crate::model::*;
use crate::store::AsOf;
use crate::store::shared::{EVENT_SKEW_MS, first_seq_at, stored_end};

pub(super) async fn record_as_of(
    pool: &SqlitePool,
    ws: &str,
    object: &str,
    id: &str,
    at: DateTime<Utc>,
) -> Result<AsOf> {
    let row = sqlx::query(
        "SELECT fields, created_at, updated_at, changed_at, \
           (SELECT MIN(n.changed_at) FROM record_history n WHERE n.workspace_id = ?1 \
            AND n.object = ?2 AND n.id = ?3 AND n.changed_at > ?4) AS until \
         FROM (SELECT 1) LEFT JOIN (SELECT * FROM record_history \
           WHERE workspace_id = ?1 AND object = ?2 AND id = ?3 AND changed_at <= ?4 \
           ORDER BY changed_at DESC LIMIT 1)",
    )
    .bind(ws)
    .bind(object)
    .bind(id)
    .bind(ts(at))
    .fetch_one(pool)
    .await?;
    let until = row
        .try_get::<Option<String>, _>("until")?
        .map(|s| parse_ts(&s));
    let from = row
        .try_get::<Option<String>, _>("changed_at")?
        .map(|s| parse_ts(&s));
    // No row, or NULL fields (a deletion): the record did not exist then.
    let record = match row.try_get::<Option<String>, _>("fields")? {
        None => None,
        Some(fields) => Some(Record {
            workspace_id: ws.to_string(),
            object: object.to_string(),
            id: id.to_string(),
            fields: serde_json::from_str(&fields)?,
            created_at: parse_ts(&row.try_get::<String, _>("created_at")?),
            updated_at: parse_ts(&row.try_get::<String, _>("updated_at")?),
        }),
    };
    Ok(AsOf {
        record,
        from,
        until,
    })
}

pub(super) async fn count_history(pool: &SqlitePool, ws: Option<&str>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM record_history WHERE (?1 IS NULL OR workspace_id = ?1)",
    )
    .bind(ws)
    .fetch_one(pool)
    .await?)
}

/// The first `seq` whose event was created at or after `at`, widened by
/// [`EVENT_SKEW_MS`]; one past the last when there is none.
async fn seq_at(pool: &SqlitePool, at: DateTime<Utc>) -> Result<i64> {
    let (lo, hi): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(seq), MAX(seq) FROM events")
            .fetch_one(pool)
            .await?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(0);
    };
    first_seq_at((lo, hi), at, |seq| async move {
        let first: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, created_at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1",
        )
        .bind(seq)
        .fetch_optional(pool)
        .await?;
        Ok::<_, RuntimeError>(first.map(|(seq, created)| (seq, parse_ts(&created))))
    })
    .await
}

/// Events of one type created in `[from, to)`, in stored order (`seq`), after `after`.
pub(super) async fn events_between(
    pool: &SqlitePool,
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
        "SELECT seq, {EVENT_COLS} FROM events WHERE seq >= ?1 AND seq < ?2 \
         AND workspace_id = ?3 AND type = ?4 AND created_at >= ?5 AND created_at < ?6 \
         ORDER BY seq LIMIT CAST(?7 AS INTEGER)"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(start)
        .bind(end)
        .bind(ws)
        .bind(event_type)
        .bind(ts(from))
        .bind(ts(stored_end(to)))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<i64, _>("seq")?, event(r)?)))
        .collect()
}

/// Deletes up to `batch` rows that no read at or after `cutoff` can return: rows older
/// than the cutoff followed by another row of the same record that is also older (the
/// later one is the state at the cutoff), and deletions older than the cutoff.
pub(super) async fn prune(
    conn: &mut SqliteConnection,
    cutoff: DateTime<Utc>,
    batch: u32,
) -> Result<u64> {
    let r = sqlx::query(
        "DELETE FROM record_history WHERE (workspace_id, object, id, changed_at) IN ( \
           SELECT h.workspace_id, h.object, h.id, h.changed_at FROM record_history h \
           WHERE h.changed_at < ?1 AND ( \
             h.fields IS NULL OR EXISTS ( \
               SELECT 1 FROM record_history n WHERE n.workspace_id = h.workspace_id \
               AND n.object = h.object AND n.id = h.id \
               AND n.changed_at > h.changed_at AND n.changed_at < ?1)) \
           LIMIT CAST(?2 AS INTEGER))",
    )
    .bind(ts(cutoff))
    .bind(i64::from(batch))
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

const BACKTEST_COLS: &str = "id, workspace_id, automation_id, target_id, version, request, status, progress, result, error, created_at, started_at, finished_at";

fn backtest(r: &SqliteRow) -> Result<Backtest> {
    let status: String = r.try_get("status")?;
    let opt_ts = |name: &str| -> Result<Option<DateTime<Utc>>> {
        Ok(r.try_get::<Option<String>, _>(name)?.map(|s| parse_ts(&s)))
    };
    Ok(Backtest {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        automation_id: r.try_get("automation_id")?,
        target_id: r.try_get("target_id")?,
        version: r.try_get("version")?,
        request: serde_json::from_str(&r.try_get::<String, _>("request")?)?,
        status: BacktestStatus::parse(&status)
            .ok_or_else(|| RuntimeError::Corrupt(format!("unknown backtest status {status:?}")))?,
        progress: serde_json::from_str(&r.try_get::<String, _>("progress")?)?,
        result: r
            .try_get::<Option<String>, _>("result")?
            .map(|s| serde_json::from_str(&s))
            .transpose()?,
        error: r.try_get("error")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
        started_at: opt_ts("started_at")?,
        finished_at: opt_ts("finished_at")?,
    })
}

pub(super) async fn get(pool: &SqlitePool, ws: &str, id: &str) -> Result<Option<Backtest>> {
    let sql = format!("SELECT {BACKTEST_COLS} FROM backtests WHERE workspace_id = ? AND id = ?");
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
    pool: &SqlitePool,
    ws: &str,
    automation_id: &str,
    limit: u32,
    cursor: Option<&str>,
) -> Result<Vec<Backtest>> {
    let after = match cursor {
        None => None,
        Some(c) => {
            let at: Option<String> = sqlx::query_scalar(
                "SELECT created_at FROM backtests WHERE workspace_id = ? AND automation_id = ? AND id = ?",
            )
            .bind(ws)
            .bind(automation_id)
            .bind(c)
            .fetch_optional(pool)
            .await?;
            Some((
                at.ok_or_else(|| RuntimeError::not_found("cursor", c))?,
                c.to_string(),
            ))
        }
    };
    let cols = BACKTEST_COLS.replace("result,", "NULL AS result,");
    let sql = format!(
        "SELECT {cols} FROM backtests WHERE workspace_id = ?1 AND automation_id = ?2 \
         AND (?3 IS NULL OR (created_at, id) < (?3, ?4)) ORDER BY created_at DESC, id DESC LIMIT CAST(?5 AS INTEGER)"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(automation_id)
        .bind(after.as_ref().map(|a| a.0.clone()))
        .bind(after.map(|a| a.1))
        .bind(i64::from(limit) + 1)
        .fetch_all(pool)
        .await?;
    rows.iter().map(backtest).collect()
}

pub(super) async fn count_active(pool: &SqlitePool, ws: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM backtests WHERE workspace_id = ? AND status IN ('queued', 'running')",
    )
    .bind(ws)
    .fetch_one(pool)
    .await?)
}

pub(super) async fn insert(conn: &mut SqliteConnection, b: &Backtest) -> Result<()> {
    let sql = format!(
        "INSERT INTO backtests ({BACKTEST_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&b.id)
        .bind(&b.workspace_id)
        .bind(&b.automation_id)
        .bind(&b.target_id)
        .bind(b.version)
        .bind(serde_json::to_string(&b.request)?)
        .bind(b.status.as_str())
        .bind(serde_json::to_string(&b.progress)?)
        .bind(b.result.as_ref().map(serde_json::to_string).transpose()?)
        .bind(b.error.as_deref())
        .bind(ts(b.created_at))
        .bind(b.started_at.map(ts))
        .bind(b.finished_at.map(ts))
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes the job's state while the stored row is unfinished; false when it already ended.
pub(super) async fn update(conn: &mut SqliteConnection, b: &Backtest) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE backtests SET status = ?, progress = ?, result = ?, error = ?, started_at = ?, finished_at = ? \
         WHERE workspace_id = ? AND id = ? AND status IN ('queued', 'running')",
    )
    .bind(b.status.as_str())
    .bind(serde_json::to_string(&b.progress)?)
    .bind(b.result.as_ref().map(serde_json::to_string).transpose()?)
    .bind(b.error.as_deref())
    .bind(b.started_at.map(ts))
    .bind(b.finished_at.map(ts))
    .bind(&b.workspace_id)
    .bind(&b.id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends every unfinished backtest of every workspace (start-up: their jobs died with the
/// process that ran them).
pub(super) async fn interrupt(conn: &mut SqliteConnection, at: DateTime<Utc>) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE backtests SET status = 'failed', error = 'interrupted: the server stopped while it ran; start it again', \
         finished_at = ? WHERE status IN ('queued', 'running')",
    )
    .bind(ts(at))
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}
