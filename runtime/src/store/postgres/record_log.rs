//! The automation log's SQL on PostgreSQL (migration `postgres/0010_automation_log.sql`):
//! the multi-row write of a transaction's queued entries with the per-record cap, one
//! record's page, the sweep. The same statements as SQLite's, in PostgreSQL's dialect.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

use super::at;
use crate::error::{Result, RuntimeError};
use crate::model::Page;
use crate::record_log::{AutomationLogEntry, StoredEntries};
use crate::store::shared::{limit_or_default, page as paged};

/// Rows per statement: 7 bound values a row, far under PostgreSQL's 65,535.
const CHUNK: usize = 1_000;

/// Writes `entries` and cuts each record they touch to its newest `per_record` entries.
pub(super) async fn write(
    conn: &mut PgConnection,
    entries: &[AutomationLogEntry],
    per_record: u32,
) -> Result<()> {
    for chunk in entries.chunks(CHUNK) {
        let stored = chunk
            .iter()
            .map(AutomationLogEntry::stored_json)
            .collect::<serde_json::Result<Vec<_>>>()?;
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO automation_log (workspace_id, object, record_id, event_id, event_type, entries, created_at) ",
        );
        q.push_values(chunk.iter().zip(stored), |mut b, (e, stored)| {
            b.push_bind(e.workspace_id.clone())
                .push_bind(e.object.clone())
                .push_bind(e.record_id.clone())
                .push_bind(e.event_id.clone())
                .push_bind(e.event_type.clone())
                .push_bind(stored)
                .push_unseparated("::jsonb")
                .push_bind(at(e.created_at));
        });
        // An event is dispatched once; a repeat (never expected) keeps the first entry.
        q.push(" ON CONFLICT (workspace_id, event_id) DO NOTHING");
        q.build().execute(&mut *conn).await?;
    }
    let records = crate::store::shared::touched_records(entries);
    for chunk in records.chunks(CHUNK) {
        // Each touched record costs two index seeks: its rows, and its newest
        // `per_record`-th row.
        let mut q = QueryBuilder::<Postgres>::new("WITH touched(w, o, r) AS (VALUES ");
        let mut sep = q.separated(", ");
        for (ws, object, id) in chunk {
            sep.push("(")
                .push_bind_unseparated(ws.to_string())
                .push_unseparated("::text, ")
                .push_bind_unseparated(object.to_string())
                .push_unseparated("::text, ")
                .push_bind_unseparated(id.to_string())
                .push_unseparated("::text)");
        }
        q.push(
            ") DELETE FROM automation_log l USING touched \
             WHERE l.workspace_id = touched.w AND l.object = touched.o AND l.record_id = touched.r \
             AND l.seq <= (SELECT x.seq FROM automation_log x \
             WHERE x.workspace_id = touched.w AND x.object = touched.o AND x.record_id = touched.r \
             ORDER BY x.seq DESC LIMIT 1 OFFSET ",
        )
        .push_bind(per_record as i64)
        .push(")");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// One record's entries, newest first (see `Store::automation_log`).
pub(super) async fn page(
    reader: &PgPool,
    ws: &str,
    object: &str,
    record_id: &str,
    limit: u32,
    cursor: Option<&str>,
) -> Result<Page<AutomationLogEntry>> {
    let limit = limit_or_default(limit);
    let before: Option<i64> = match cursor {
        None => None,
        Some(event_id) => Some(
            sqlx::query_scalar(
                "SELECT seq FROM automation_log WHERE workspace_id = $1 AND object = $2 \
                 AND record_id = $3 AND event_id = $4",
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
         WHERE workspace_id = $1 AND object = $2 AND record_id = $3 \
         AND ($4::bigint IS NULL OR seq < $4) ORDER BY seq DESC LIMIT $5",
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
            let stored: StoredEntries =
                serde_json::from_value(r.try_get::<serde_json::Value, _>("entries")?)?;
            Ok(AutomationLogEntry {
                workspace_id: ws.to_string(),
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                object: r.try_get("object")?,
                record_id: r.try_get("record_id")?,
                created_at: r.try_get("created_at")?,
                depth: stored.depth,
                automations: stored.automations,
                not_listed: stored.not_listed,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(paged(items, limit, |e| e.event_id.clone()))
}

/// Deletes those of the oldest `limit` entries (in `seq` order, any workspace) created
/// before `before`, as the SQLite driver does (migration 0012: no index on `created_at`).
pub(super) async fn sweep(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<u64> {
    let r = sqlx::query(
        "DELETE FROM automation_log WHERE seq IN (SELECT seq FROM \
         (SELECT seq, created_at FROM automation_log ORDER BY seq LIMIT $2) AS oldest \
         WHERE created_at < $1)",
    )
    .bind(at(before))
    .bind(limit as i64)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}
