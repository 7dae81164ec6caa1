//! PostgreSQL SQL of human tasks, timers, the outbox, the local mailbox and in-app
//! notifications: the reads (by id and paged lists) and the write transaction's
//! statements (inserts, transitions, claims).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use super::rows::*;
use super::{Listed, at, cursor_key, opt_at};
use crate::error::{Result, RuntimeError};
use crate::model::*;
use crate::store::shared::{limit_or_default, page};

pub(super) async fn task_by_id(pool: &PgPool, ws: &str, id: &str) -> Result<Option<Task>> {
    let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE workspace_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(task).transpose()
}

pub(super) async fn task_page(pool: &PgPool, ws: &str, f: &TaskFilter) -> Result<Page<Task>> {
    let limit = limit_or_default(f.limit);
    let (after_at, after_id) = cursor_key(pool, Listed::Tasks, ws, f.cursor.as_deref()).await?;
    let sql = format!(
        "SELECT {TASK_COLS} FROM tasks WHERE workspace_id = $1 AND ($2::text IS NULL OR status = $2) \
         AND ($3::text IS NULL OR assignee = $3) AND ($4::text IS NULL OR queue = $4) \
         AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6)) \
         ORDER BY created_at DESC, id DESC LIMIT $7"
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
    pool: &PgPool,
    ws: &str,
    f: &OutboxFilter,
) -> Result<Page<OutboxItem>> {
    let limit = limit_or_default(f.limit);
    let (after_at, after_id) = cursor_key(pool, Listed::Outbox, ws, f.cursor.as_deref()).await?;
    let sql = format!(
        "SELECT {OUTBOX_COLS} FROM outbox WHERE workspace_id = $1 AND ($2::text IS NULL OR kind = $2) \
         AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR run_id = $4) \
         AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6)) \
         ORDER BY created_at DESC, id DESC LIMIT $7"
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

pub(super) async fn mailbox(pool: &PgPool, ws: &str) -> Result<Vec<MailboxMessage>> {
    let rows = sqlx::query("SELECT * FROM mailbox WHERE workspace_id = $1 ORDER BY id")
        .bind(ws)
        .fetch_all(pool)
        .await?;
    rows.iter().map(mail).collect()
}

pub(super) async fn notifications(
    pool: &PgPool,
    ws: &str,
    user_id: Option<&str>,
) -> Result<Vec<Notification>> {
    let rows = sqlx::query(
        "SELECT * FROM notifications WHERE workspace_id = $1 AND ($2::text IS NULL OR user_id = $2) ORDER BY id",
    )
    .bind(ws)
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(notification).collect()
}

pub(super) async fn notification_by_id(
    pool: &PgPool,
    ws: &str,
    id: &str,
) -> Result<Option<Notification>> {
    let row = sqlx::query("SELECT * FROM notifications WHERE workspace_id = $1 AND id = $2")
        .bind(ws)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(notification).transpose()
}

pub(super) async fn notification_page(
    pool: &PgPool,
    ws: &str,
    f: &NotificationFilter,
) -> Result<Page<Notification>> {
    let limit = limit_or_default(f.limit);
    let after: Option<(bool, DateTime<Utc>, String)> = match f.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(
            sqlx::query_as(
                "SELECT read_at IS NOT NULL, created_at, id FROM notifications \
                 WHERE workspace_id = $1 AND id = $2",
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
    // Unread (false) before read (true); newest first within each.
    let rows = sqlx::query(
        "SELECT * FROM notifications WHERE workspace_id = $1 \
         AND ($2::text IS NULL OR user_id = $2) \
         AND ($3::boolean IS NULL OR (read_at IS NULL) = $3) \
         AND ($4::boolean IS NULL OR (read_at IS NOT NULL) > $4 \
              OR ((read_at IS NOT NULL) = $4 AND (created_at, id) < ($5, $6))) \
         ORDER BY read_at IS NOT NULL, created_at DESC, id DESC LIMIT $7",
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

pub(super) async fn insert_task(conn: &mut PgConnection, t: &Task) -> Result<()> {
    let sql = format!(
        "INSERT INTO tasks ({TASK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
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
        .bind(&t.form)
        .bind(t.status.as_str())
        .bind(t.output.as_ref())
        .bind(t.on_timeout.as_deref())
        .bind(opt_at(t.due_at))
        .bind(opt_at(t.timeout_at))
        .bind(t.dry_run)
        .bind(at(t.created_at))
        .bind(opt_at(t.completed_at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn task_in_tx(
    conn: &mut PgConnection,
    ws: &str,
    id: &str,
) -> Result<Option<Task>> {
    let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE workspace_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(task).transpose()
}

pub(super) async fn open_task_for_run(
    conn: &mut PgConnection,
    ws: &str,
    run_id: &str,
) -> Result<Option<Task>> {
    let sql = format!(
        "SELECT {TASK_COLS} FROM tasks WHERE workspace_id = $1 AND run_id = $2 AND status = 'open' \
         ORDER BY id DESC LIMIT 1"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(ws)
        .bind(run_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(task).transpose()
}

pub(super) async fn transition_task(
    conn: &mut PgConnection,
    ws: &str,
    id: &str,
    from: TaskStatus,
    to: TaskStatus,
    output: Option<&Value>,
    at_: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE tasks SET status = $1, output = $2, completed_at = $3 \
         WHERE workspace_id = $4 AND id = $5 AND status = $6",
    )
    .bind(to.as_str())
    .bind(output)
    .bind(at(at_))
    .bind(ws)
    .bind(id)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn reassign_task(
    conn: &mut PgConnection,
    ws: &str,
    id: &str,
    assignee: Option<&str>,
    queue: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE tasks SET assignee = $1, queue = $2 WHERE workspace_id = $3 AND id = $4")
        .bind(assignee)
        .bind(queue)
        .bind(ws)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn insert_timer(conn: &mut PgConnection, t: &Timer) -> Result<()> {
    sqlx::query(
        "INSERT INTO timers (id, workspace_id, run_id, step_id, kind, fire_at, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)",
    )
    .bind(&t.id)
    .bind(&t.workspace_id)
    .bind(&t.run_id)
    .bind(&t.step_id)
    .bind(t.kind.as_str())
    .bind(at(t.fire_at))
    .bind(at(Utc::now()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn due_timers(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Timer>> {
    let rows = sqlx::query(
        "SELECT * FROM timers WHERE status = 'pending' AND fire_at <= $1 ORDER BY fire_at, id LIMIT $2 \
         FOR UPDATE SKIP LOCKED",
    )
    .bind(at(now))
    .bind(limit as i64)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(timer).collect()
}

pub(super) async fn close_timer(
    conn: &mut PgConnection,
    ws: &str,
    id: &str,
    status: &str,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE timers SET status = $1 WHERE workspace_id = $2 AND id = $3 AND status = 'pending'",
    )
    .bind(status)
    .bind(ws)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn cancel_timers_for_run(
    conn: &mut PgConnection,
    ws: &str,
    run_id: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE timers SET status = 'cancelled' WHERE workspace_id = $1 AND run_id = $2 AND status = 'pending'",
    )
    .bind(ws)
    .bind(run_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn insert_outbox(conn: &mut PgConnection, o: &OutboxItem) -> Result<bool> {
    let sql = format!(
        "INSERT INTO outbox ({OUTBOX_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (idempotency_key) DO NOTHING"
    );
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(&o.id)
        .bind(&o.workspace_id)
        .bind(o.kind.as_str())
        .bind(o.status.as_str())
        .bind(o.attempts)
        .bind(o.last_error.as_deref())
        .bind(&o.payload)
        .bind(o.run_id.as_deref())
        .bind(o.step_id.as_deref())
        .bind(&o.idempotency_key)
        .bind(at(o.next_attempt_at))
        .bind(at(o.created_at))
        .bind(opt_at(o.delivered_at))
        .bind(o.retry.as_ref().map(Json))
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn claim_outbox(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<OutboxItem>> {
    let sql = format!(
        "UPDATE outbox SET next_attempt_at = $1 WHERE id IN ( \
           SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
           ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
         RETURNING {OUTBOX_COLS}"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(at(lease_until))
        .bind(at(now))
        .bind(limit as i64)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(outbox).collect()
}

pub(super) async fn insert_mail(conn: &mut PgConnection, m: &MailboxMessage) -> Result<()> {
    sqlx::query(
        "INSERT INTO mailbox (id, workspace_id, outbox_id, recipients, cc, subject, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (outbox_id) DO NOTHING",
    )
    .bind(&m.id)
    .bind(&m.workspace_id)
    .bind(&m.outbox_id)
    .bind(Json(&m.to))
    .bind(Json(&m.cc))
    .bind(&m.subject)
    .bind(&m.body)
    .bind(at(m.created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn insert_notification(conn: &mut PgConnection, n: &Notification) -> Result<()> {
    sqlx::query(
        "INSERT INTO notifications (id, workspace_id, user_id, message, run_id, step_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&n.id)
    .bind(&n.workspace_id)
    .bind(&n.user_id)
    .bind(&n.message)
    .bind(n.run_id.as_deref())
    .bind(n.step_id.as_deref())
    .bind(at(n.created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn mark_notifications_read(
    conn: &mut PgConnection,
    ws: &str,
    id: Option<&str>,
    user_id: Option<&str>,
    at_: DateTime<Utc>,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE notifications SET read_at = $4 WHERE workspace_id = $1 AND read_at IS NULL \
         AND ($2::text IS NULL OR id = $2) AND ($3::text IS NULL OR user_id = $3)",
    )
    .bind(ws)
    .bind(id)
    .bind(user_id)
    .bind(at(at_))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
