//! SQLite SQL of human tasks, timers, the outbox, the local mailbox and in-app
//! notifications: the reads (by id and paged lists) and the write transaction's
//! statements (inserts, transitions, claims).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};

use super::rows::*;
use super::{Listed, cursor_key, opt_json, opt_ts};
use crate::error::{Result, RuntimeError};
use crate::model::*;
use crate::store::shared::{limit_or_default, page};

pub(super) async fn task_by_id(pool: &SqlitePool, ws: &str, id: &str) -> Result<Option<Task>> {
    let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE workspace_id = ? AND id = ?");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(task).transpose()
}

pub(super) async fn task_page(pool: &SqlitePool, ws: &str, f: &TaskFilter) -> Result<Page<Task>> {
    let limit = limit_or_default(f.limit);
    let (after_at, after_id) = cursor_key(pool, Listed::Tasks, ws, f.cursor.as_deref()).await?;
    let sql = format!(
        "SELECT {TASK_COLS} FROM tasks WHERE workspace_id = ?1 AND (?2 IS NULL OR status = ?2) \
         AND (?3 IS NULL OR assignee = ?3) AND (?4 IS NULL OR queue = ?4) \
         AND (?5 IS NULL OR (created_at, id) < (?5, ?6)) \
         ORDER BY created_at DESC, id DESC LIMIT CAST(?7 AS INTEGER)"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(f.status.map(|s| s.as_str()))
        .bind(f.assignee.as_deref())
        .bind(f.queue.as_deref())
        .bind(after_at)
        .bind(after_id)
        .bind(limit as i64 + 1)
        .fetch_all(pool)
        .await?;
    let items = rows.iter().map(task).collect::<Result<Vec<_>>>()?;
    Ok(page(items, limit, |t| t.id.clone()))
}

pub(super) async fn outbox_page(
    pool: &SqlitePool,
    ws: &str,
    f: &OutboxFilter,
) -> Result<Page<OutboxItem>> {
    let limit = limit_or_default(f.limit);
    let (after_at, after_id) = cursor_key(pool, Listed::Outbox, ws, f.cursor.as_deref()).await?;
    let sql = format!(
        "SELECT {OUTBOX_COLS} FROM outbox WHERE workspace_id = ?1 AND (?2 IS NULL OR kind = ?2) \
         AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR run_id = ?4) \
         AND (?5 IS NULL OR (created_at, id) < (?5, ?6)) \
         ORDER BY created_at DESC, id DESC LIMIT CAST(?7 AS INTEGER)"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(f.kind.map(|s| s.as_str()))
        .bind(f.status.map(|s| s.as_str()))
        .bind(f.run_id.as_deref())
        .bind(after_at)
        .bind(after_id)
        .bind(limit as i64 + 1)
        .fetch_all(pool)
        .await?;
    let items = rows.iter().map(outbox).collect::<Result<Vec<_>>>()?;
    Ok(page(items, limit, |o| o.id.clone()))
}

pub(super) async fn mailbox(pool: &SqlitePool, ws: &str) -> Result<Vec<MailboxMessage>> {
    let rows = sqlx::query("SELECT * FROM mailbox WHERE workspace_id = ? ORDER BY id")
        .bind(ws)
        .fetch_all(pool)
        .await?;
    rows.iter().map(mail).collect()
}

pub(super) async fn notifications(
    pool: &SqlitePool,
    ws: &str,
    user_id: Option<&str>,
) -> Result<Vec<Notification>> {
    let rows = sqlx::query(
        "SELECT * FROM notifications WHERE workspace_id = ?1 AND (?2 IS NULL OR user_id = ?2) ORDER BY id",
    )
    .bind(ws)
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(notification).collect()
}

pub(super) async fn notification_by_id(
    pool: &SqlitePool,
    ws: &str,
    id: &str,
) -> Result<Option<Notification>> {
    let row = sqlx::query("SELECT * FROM notifications WHERE workspace_id = ? AND id = ?")
        .bind(ws)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(notification).transpose()
}

pub(super) async fn notification_page(
    pool: &SqlitePool,
    ws: &str,
    f: &NotificationFilter,
) -> Result<Page<Notification>> {
    let limit = limit_or_default(f.limit);
    let after: Option<(i64, String, String)> = match f.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(
            sqlx::query_as(
                "SELECT read_at IS NOT NULL, created_at, id FROM notifications \
                 WHERE workspace_id = ? AND id = ?",
            )
            .bind(ws)
            .bind(cursor)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| RuntimeError::not_found("cursor", cursor))?,
        ),
    };
    let (after_read, after_at, after_id) = match after {
        Some((r, at, id)) => (Some(r), Some(at), Some(id)),
        None => (None, None, None),
    };
    // Unread (flag 0) before read (flag 1); newest first within each.
    let rows = sqlx::query(
        "SELECT * FROM notifications WHERE workspace_id = ?1 \
         AND (?2 IS NULL OR user_id = ?2) \
         AND (?3 IS NULL OR (read_at IS NULL) = ?3) \
         AND (?4 IS NULL OR (read_at IS NOT NULL) > ?4 \
              OR ((read_at IS NOT NULL) = ?4 AND (created_at, id) < (?5, ?6))) \
         ORDER BY read_at IS NOT NULL, created_at DESC, id DESC LIMIT CAST(?7 AS INTEGER)",
    )
    .bind(ws)
    .bind(f.user_id.as_deref())
    .bind(f.unread)
    .bind(after_read)
    .bind(after_at)
    .bind(after_id)
    .bind(limit as i64 + 1)
    .fetch_all(pool)
    .await?;
    let items = rows.iter().map(notification).collect::<Result<Vec<_>>>()?;
    Ok(page(items, limit, |n| n.id.clone()))
}

pub(super) async fn insert_task(conn: &mut SqliteConnection, t: &Task) -> Result<()> {
    let sql = format!(
        "INSERT INTO tasks ({TASK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&t.id)
        .bind(&t.workspace_id)
        .bind(&t.run_id)
        .bind(&t.automation_id)
        .bind(&t.step_id)
        .bind(&t.title)
        .bind(t.assignee.as_deref())
        .bind(t.queue.as_deref())
        .bind(t.form.to_string())
        .bind(t.status.as_str())
        .bind(opt_json(t.output.as_ref()))
        .bind(t.on_timeout.as_deref())
        .bind(opt_ts(t.due_at))
        .bind(opt_ts(t.timeout_at))
        .bind(t.dry_run as i64)
        .bind(ts(t.created_at))
        .bind(opt_ts(t.completed_at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn task_in_tx(
    conn: &mut SqliteConnection,
    ws: &str,
    id: &str,
) -> Result<Option<Task>> {
    let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE workspace_id = ? AND id = ?");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(task).transpose()
}

pub(super) async fn open_task_for_run(
    conn: &mut SqliteConnection,
    ws: &str,
    run_id: &str,
) -> Result<Option<Task>> {
    let sql = format!(
        "SELECT {TASK_COLS} FROM tasks WHERE run_id = ? AND workspace_id = ? AND status = 'open' \
         ORDER BY id DESC LIMIT 1"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(run_id)
        .bind(ws)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(task).transpose()
}

pub(super) async fn transition_task(
    conn: &mut SqliteConnection,
    ws: &str,
    id: &str,
    from: TaskStatus,
    to: TaskStatus,
    output: Option<&Value>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE tasks SET status = ?, output = ?, completed_at = ? WHERE workspace_id = ? AND id = ? AND status = ?",
    )
    .bind(to.as_str())
    .bind(opt_json(output))
    .bind(ts(at))
    .bind(ws)
    .bind(id)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn reassign_task(
    conn: &mut SqliteConnection,
    ws: &str,
    id: &str,
    assignee: Option<&str>,
    queue: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE tasks SET assignee = ?, queue = ? WHERE workspace_id = ? AND id = ?")
        .bind(assignee)
        .bind(queue)
        .bind(ws)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn insert_timer(conn: &mut SqliteConnection, t: &Timer) -> Result<()> {
    sqlx::query(
        "INSERT INTO timers (id, workspace_id, run_id, step_id, kind, fire_at, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
    )
    .bind(&t.id)
    .bind(&t.workspace_id)
    .bind(&t.run_id)
    .bind(&t.step_id)
    .bind(t.kind.as_str())
    .bind(ts(t.fire_at))
    .bind(ts(Utc::now()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn due_timers(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Timer>> {
    let rows = sqlx::query(
        "SELECT * FROM timers WHERE status = 'pending' AND fire_at <= ? ORDER BY fire_at LIMIT CAST(? AS INTEGER)",
    )
    .bind(ts(now))
    .bind(limit as i64)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(timer).collect()
}

pub(super) async fn close_timer(
    conn: &mut SqliteConnection,
    ws: &str,
    id: &str,
    status: &str,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE timers SET status = ? WHERE workspace_id = ? AND id = ? AND status = 'pending'",
    )
    .bind(status)
    .bind(ws)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn cancel_timers_for_run(
    conn: &mut SqliteConnection,
    ws: &str,
    run_id: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE timers SET status = 'cancelled' WHERE workspace_id = ? AND run_id = ? AND status = 'pending'",
    )
    .bind(ws)
    .bind(run_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn insert_outbox(conn: &mut SqliteConnection, o: &OutboxItem) -> Result<bool> {
    let sql = format!(
        "INSERT INTO outbox ({OUTBOX_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING"
    );
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(&o.id)
        .bind(&o.workspace_id)
        .bind(o.kind.as_str())
        .bind(o.status.as_str())
        .bind(o.attempts)
        .bind(o.last_error.as_deref())
        .bind(json_text(&o.payload))
        .bind(o.run_id.as_deref())
        .bind(o.step_id.as_deref())
        .bind(&o.idempotency_key)
        .bind(ts(o.next_attempt_at))
        .bind(ts(o.created_at))
        .bind(opt_ts(o.delivered_at))
        .bind(retry_text(o)?)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The due items a claim takes (`?2` now, `?3` how many), oldest due first. The literal
/// `status = 'pending'` lets SQLite read them from the partial index `outbox_due`
/// (migration 0012), which holds pending items only.
pub(super) const CLAIMABLE: &str = "SELECT id FROM outbox WHERE status = 'pending' \
     AND next_attempt_at <= ?2 ORDER BY next_attempt_at LIMIT CAST(?3 AS INTEGER)";

pub(super) async fn claim_outbox(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<OutboxItem>> {
    let sql = format!(
        "UPDATE outbox SET next_attempt_at = ?1 WHERE id IN ({CLAIMABLE}) RETURNING {OUTBOX_COLS}"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ts(lease_until))
        .bind(ts(now))
        .bind(limit as i64)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(outbox).collect()
}

pub(super) async fn insert_mail(conn: &mut SqliteConnection, m: &MailboxMessage) -> Result<()> {
    sqlx::query(
        "INSERT INTO mailbox (id, workspace_id, outbox_id, recipients, cc, subject, body, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (outbox_id) DO NOTHING",
    )
    .bind(&m.id)
    .bind(&m.workspace_id)
    .bind(&m.outbox_id)
    .bind(serde_json::to_string(&m.to)?)
    .bind(serde_json::to_string(&m.cc)?)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(ts(m.created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn insert_notification(
    conn: &mut SqliteConnection,
    n: &Notification,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notifications (id, workspace_id, user_id, message, run_id, step_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&n.id)
    .bind(&n.workspace_id)
    .bind(&n.user_id)
    .bind(&n.message)
    .bind(n.run_id.as_deref())
    .bind(n.step_id.as_deref())
    .bind(ts(n.created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn mark_notifications_read(
    conn: &mut SqliteConnection,
    ws: &str,
    id: Option<&str>,
    user_id: Option<&str>,
    at: DateTime<Utc>,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE notifications SET read_at = ?4 WHERE workspace_id = ?1 AND read_at IS NULL \
         AND (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR user_id = ?3)",
    )
    .bind(ws)
    .bind(id)
    .bind(user_id)
    .bind(ts(at))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
