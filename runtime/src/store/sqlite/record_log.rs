//! The automation log's SQL (migration `0010_automation_log.sql`): the multi-row write of a
//! transaction's queued entries with the per-record cap, one record's page, the sweep.

use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::batch::Script;
use crate::error::{Result, RuntimeError};
use crate::model::{Page, parse_ts, ts};
use crate::record_log::{AutomationLogEntry, StoredEntries};

/// Rows per statement: 7 bound values a row, far under SQLite's variable limit.
const CHUNK: usize = 200;

/// Adds to `script` the write of `entries` and the cut of each record they touch to its
/// newest `per_record` entries: two statements for the whole transaction.
pub(super) fn write(
    script: &mut Script,
    entries: &[AutomationLogEntry],
    per_record: u32,
) -> Result<()> {
    for chunk in entries.chunks(CHUNK) {
        let stored = chunk
            .iter()
            .map(AutomationLogEntry::stored_json)
            .collect::<serde_json::Result<Vec<_>>>()?;
        let q = script.statement(
            "INSERT INTO automation_log (workspace_id, object, record_id, event_id, event_type, entries, created_at) ",
        );
        q.push_values(chunk.iter().zip(stored), |mut b, (e, stored)| {
            b.push_bind(e.workspace_id.clone())
                .push_bind(e.object.clone())
                .push_bind(e.record_id.clone())
                .push_bind(e.event_id.clone())
                .push_bind(e.event_type.clone())
                .push_bind(stored)
                .push_bind(ts(e.created_at));
        });
        // An event is dispatched once; a repeat (never expected) keeps the first entry.
        q.push(" ON CONFLICT (workspace_id, event_id) DO NOTHING");
    }
    let records = crate::store::shared::touched_records(entries);
    for chunk in records.chunks(CHUNK) {
        // The touched records drive the join, so each costs two index seeks (its rows,
        // and its newest `per_record`-th row), whatever the size of the table.
        let q = script.statement("WITH touched(w, o, r) AS (VALUES ");
        let mut sep = q.separated(", ");
        for (ws, object, id) in chunk {
            sep.push("(")
                .push_bind_unseparated(ws.to_string())
                .push_unseparated(", ")
                .push_bind_unseparated(object.to_string())
                .push_unseparated(", ")
                .push_bind_unseparated(id.to_string())
                .push_unseparated(")");
        }
        q.push(
            ") DELETE FROM automation_log WHERE seq IN (SELECT l.seq FROM touched \
             JOIN automation_log l ON l.workspace_id = touched.w AND l.object = touched.o \
             AND l.record_id = touched.r WHERE l.seq <= (SELECT x.seq FROM automation_log x \
             WHERE x.workspace_id = touched.w AND x.object = touched.o AND x.record_id = touched.r \
             ORDER BY x.seq DESC LIMIT 1 OFFSET ",
        )
        .push_bind(per_record as i64)
        .push("))");
    }
    Ok(())
}

/// One record's entries, newest first (see `Store::automation_log`).
pub(super) async fn page(
    reader: &SqlitePool,
    ws: &str,
    object: &str,
    record_id: &str,
    limit: u32,
    cursor: Option<&str>,
) -> Result<Page<AutomationLogEntry>> {
    let limit = super::limit_or_default(limit);
    let before: Option<i64> = match cursor {
        None => None,
        Some(event_id) => Some(
            sqlx::query_scalar(
                "SELECT seq FROM automation_log WHERE workspace_id = ? AND object = ? \
                 AND record_id = ? AND event_id = ?",
            )
            .bind(ws)
            .bind(object)
            .bind(record_id)
            .bind(event_id)
            .fetch_optional(reader)
            .await?
            .ok_or_else(|| RuntimeError::not_found("cursor", event_id))?,
        ),
    };
    let rows = sqlx::query(
        "SELECT object, record_id, event_id, event_type, entries, created_at FROM automation_log \
         WHERE workspace_id = ?1 AND object = ?2 AND record_id = ?3 AND (?4 IS NULL OR seq < ?4) \
         ORDER BY seq DESC LIMIT CAST(?5 AS INTEGER)",
    )
    .bind(ws)
    .bind(object)
    .bind(record_id)
    .bind(before)
    .bind(limit as i64 + 1)
    .fetch_all(reader)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let stored: StoredEntries = serde_json::from_str(&r.try_get::<String, _>("entries")?)?;
            Ok(AutomationLogEntry {
                workspace_id: ws.to_string(),
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                object: r.try_get("object")?,
                record_id: r.try_get("record_id")?,
                created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
                depth: stored.depth,
                automations: stored.automations,
                not_listed: stored.not_listed,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(super::page(items, limit, |e| e.event_id.clone()))
}

/// Deletes those of the oldest `limit` entries (in `seq` order, any workspace) created
/// before `before`. Entries are written in the order of their time, so this takes the
/// expired ones first without an index on `created_at` (migration 0012). After a clock
/// that went back, an entry newer than its successors stays until it expires itself, and
/// while it is among the oldest `limit` each sweep deletes at most one batch (the sweep
/// stops at a batch that deleted fewer than `limit`).
pub(super) async fn sweep(
    conn: &mut SqliteConnection,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<u64> {
    let r = sqlx::query(
        "DELETE FROM automation_log WHERE seq IN (SELECT seq FROM \
         (SELECT seq, created_at FROM automation_log ORDER BY seq LIMIT CAST(?2 AS INTEGER)) \
         WHERE created_at < ?1)",
    )
    .bind(ts(before))
    .bind(limit as i64)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}
