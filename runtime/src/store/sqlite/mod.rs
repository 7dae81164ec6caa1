//! The SQLite driver: WAL, `synchronous=NORMAL` (or `FULL`, [`Synchronous`]), one writer
//! connection (every write transaction starts with `BEGIN IMMEDIATE`), a pool of
//! readers, and checkpoints from a connection of their own (`checkpoint.rs`). Migrations
//! are embedded from `runtime/migrations/sqlite`.
//!
//! This module and its children are the only place that speaks SQLite SQL.
//!
//! A bound `LIMIT` is written `LIMIT CAST(?n AS INTEGER)`, never `LIMIT ?n`: SQLite (3.51,
//! the bundled library) reads a bare bound limit while planning and marks the statement to
//! be planned again whenever that binding changes, which the driver's reset after every
//! execution does; so a cached `LIMIT ?` statement (the outbox claim, the run queue, every
//! list page) was parsed and planned anew each time it ran (about 4% of the connection
//! threads' time under load). The cast hides the parameter from the planner; the limit is
//! read at run time.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, SqlitePool};

use super::shared::{limit_or_default, page};
use super::step_latency::StepLatency;
use super::{ArtifactKey, DueWork, PluginGrantRow, PluginVersionRow, Store, StoreStats, StoreTx};
use crate::error::{Result, RuntimeError};
use crate::model::*;

mod batch;
mod checkpoint;
mod history;
mod pending;
mod plugins;
mod record_log;
mod rows;
mod runs;
mod tx;
mod work;
mod writer;

use rows::*;
pub use tx::SqliteTx;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How hard a commit waits for the disk (`PRAGMA synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// Commits reach the OS, the WAL is synced at checkpoints: a process crash (kill -9)
    /// loses nothing, an OS crash or power loss can lose the last commits.
    #[default]
    Normal,
    /// Every commit syncs the WAL before it is acknowledged: nothing acknowledged is lost
    /// to an OS crash or power loss either, at the cost of one fsync per commit.
    Full,
}

impl Synchronous {
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Normal => "normal",
            Synchronous::Full => "full",
        }
    }

    fn pragma(self) -> SqliteSynchronous {
        match self {
            Synchronous::Normal => SqliteSynchronous::Normal,
            Synchronous::Full => SqliteSynchronous::Full,
        }
    }
}

impl std::str::FromStr for Synchronous {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Synchronous::Normal),
            "full" => Ok(Synchronous::Full),
            _ => Err(format!(
                "`{s}` is not a synchronous setting: use normal or full"
            )),
        }
    }
}

/// Where the database lives, how many readers to keep and how commits reach the disk.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// A file path; `None` is a private in-memory database (offline `test`, unit tests).
    pub path: Option<PathBuf>,
    pub readers: u32,
    pub busy_timeout: Duration,
    pub synchronous: Synchronous,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        SqliteConfig {
            path: Some(PathBuf::from("automations.db")),
            readers: 4,
            busy_timeout: Duration::from_secs(10),
            synchronous: Synchronous::default(),
        }
    }
}

impl SqliteConfig {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        SqliteConfig {
            path: Some(path.into()),
            ..Default::default()
        }
    }
    pub fn in_memory() -> Self {
        SqliteConfig {
            path: None,
            readers: 1,
            ..Default::default()
        }
    }
    /// Accepts `sqlite://path`, `sqlite:path`, `sqlite::memory:` or a bare path.
    pub fn from_url(url: &str) -> Self {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if rest == ":memory:" || rest.is_empty() {
            Self::in_memory()
        } else {
            Self::file(rest)
        }
    }
}

/// SQLite storage: one writer connection and a pool of readers over the same file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: writer::Writer,
    reader: SqlitePool,
    /// A file database's checkpoints (an in-memory one has no WAL).
    checkpointer: Option<std::sync::Arc<checkpoint::Checkpointer>>,
    /// The steps this process's transactions ended (`/metrics`).
    step_latency: std::sync::Arc<StepLatency>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database and applies pending migrations.
    pub async fn open(config: &SqliteConfig) -> Result<SqliteStore> {
        let base = match &config.path {
            Some(p) => SqliteConnectOptions::new()
                .filename(p)
                .create_if_missing(true),
            None => SqliteConnectOptions::from_str("sqlite::memory:")?,
        }
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(config.synchronous.pragma())
        .busy_timeout(config.busy_timeout)
        .foreign_keys(false);
        // A file's writer leaves checkpoints to the checkpointer. Its temporary storage
        // (the statement journal of a multi-row statement, the ephemeral tables of its
        // `VALUES` lists) stays in memory: on file, a group's statements created and
        // unlinked a temporary file about once per group. A group's statements are bounded
        // (`combiner::MAX_GROUP`), so this memory is too; readers, whose sorts can be as
        // large as a table, keep SQLite's default.
        let writer_options = match config.path {
            Some(_) => base
                .clone()
                .pragma("wal_autocheckpoint", "0")
                .pragma("temp_store", "MEMORY"),
            None => base.clone(),
        };
        // No ping before each acquire (the pool's default): a connection to a local file
        // does not drop, and the ping is one more round trip to the connection's thread
        // for every read. An in-memory database exists per connection: its readers share
        // the writer's.
        let writer = match config.path {
            Some(_) => writer::Writer::open(writer_options).await?,
            None => writer::Writer::Shared(
                SqlitePoolOptions::new()
                    .test_before_acquire(false)
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(writer_options)
                    .await?,
            ),
        };
        // `run_direct` on the connection itself: `run` wants an `Acquire` for every
        // lifetime, which a held `&mut` connection is not, and then the futures of the
        // engine's tasks that open a store could not be proven `Send`.
        MIGRATOR
            .run_direct(None, &mut *writer.acquire().await?, false)
            .await?;
        let reader = match &writer {
            writer::Writer::Shared(pool) => pool.clone(),
            writer::Writer::Own(_) => {
                SqlitePoolOptions::new()
                    .test_before_acquire(false)
                    .max_connections(config.readers.max(1))
                    .connect_with(base.clone().read_only(true))
                    .await?
            }
        };
        let checkpointer = match config.path {
            Some(_) => Some(std::sync::Arc::new(
                checkpoint::Checkpointer::start(base, writer.clone()).await?,
            )),
            None => None,
        };
        Ok(SqliteStore {
            writer,
            reader,
            checkpointer,
            step_latency: Default::default(),
        })
    }

    /// `PRAGMA synchronous` of the writer connection as SQLite reports it (0 off,
    /// 1 normal, 2 full, 3 extra): what commits actually do, for tests and operators.
    pub async fn synchronous(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *self.writer.acquire().await?)
            .await?)
    }

    pub async fn close(&self) {
        if let Some(c) = &self.checkpointer {
            c.close().await;
        }
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// The lists that page by `(created_at, id)`, newest first.
#[derive(Clone, Copy)]
enum Listed {
    Runs,
    Tasks,
    Outbox,
}

impl Listed {
    fn key_sql(self) -> &'static str {
        match self {
            Listed::Runs => "SELECT created_at, id FROM runs WHERE workspace_id = ? AND id = ?",
            Listed::Tasks => "SELECT created_at, id FROM tasks WHERE workspace_id = ? AND id = ?",
            Listed::Outbox => "SELECT created_at, id FROM outbox WHERE workspace_id = ? AND id = ?",
        }
    }
}

/// The `(created_at, id)` of the row a cursor names (the last item of the previous
/// page); `NotFound("cursor")` when it names no row of the workspace.
async fn cursor_key(
    reader: &SqlitePool,
    list: Listed,
    ws: &str,
    cursor: Option<&str>,
) -> Result<(Option<String>, Option<String>)> {
    let Some(cursor) = cursor else {
        return Ok((None, None));
    };
    let key: Option<(String, String)> = sqlx::query_as(list.key_sql())
        .bind(ws)
        .bind(cursor)
        .fetch_optional(reader)
        .await?;
    let (created_at, id) = key.ok_or_else(|| RuntimeError::not_found("cursor", cursor))?;
    Ok((Some(created_at), Some(id)))
}

/// An optional instant as stored (text).
fn opt_ts(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(ts)
}

/// An optional JSON value as stored (text).
fn opt_json(v: Option<&Value>) -> Option<String> {
    v.map(json_text)
}

impl SqliteStore {
    /// The audit entry id a cursor names; `NotFound("cursor")` when it names no entry of
    /// the workspace.
    async fn audit_cursor(&self, ws: &str, cursor: &str) -> Result<i64> {
        let missing = || RuntimeError::not_found("cursor", cursor);
        let id: i64 = cursor.parse().map_err(|_| missing())?;
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM audit_log WHERE workspace_id = ? AND id = ?")
                .bind(ws)
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
        found.map(|(id,)| id).ok_or_else(missing)
    }
}

impl Store for SqliteStore {
    type Tx = SqliteTx;

    async fn begin(&self) -> Result<SqliteTx> {
        let tx = self.writer.begin().await?;
        Ok(SqliteTx::new(
            self.writer.clone(),
            Some(tx),
            self.step_latency.clone(),
        ))
    }

    async fn begin_deferred(&self) -> Result<SqliteTx> {
        Ok(SqliteTx::new(
            self.writer.clone(),
            None,
            self.step_latency.clone(),
        ))
    }

    async fn workspace(&self, id: &str) -> Result<Option<Workspace>> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(workspace).transpose()
    }

    async fn workspace_by_name(&self, name: &str) -> Result<Option<Workspace>> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(workspace).transpose()
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let row =
            sqlx::query("SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL")
                .bind(token_hash)
                .fetch_optional(&self.reader)
                .await?;
        row.as_ref().map(token).transpose()
    }

    async fn automation(&self, ws: &str, id: &str) -> Result<Option<Automation>> {
        let sql =
            format!("SELECT {AUTOMATION_COLS} FROM automations WHERE workspace_id = ? AND id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(automation).transpose()
    }

    async fn automations(&self, ws: Option<&str>) -> Result<Vec<Automation>> {
        let sql = format!(
            "SELECT {AUTOMATION_COLS} FROM automations WHERE (?1 IS NULL OR workspace_id = ?1) \
             ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(automation).collect()
    }

    async fn versions(&self, ws: &str, automation_id: &str) -> Result<Vec<AutomationVersion>> {
        let rows = sqlx::query(
            "SELECT * FROM automation_versions WHERE workspace_id = ? AND automation_id = ? ORDER BY version DESC",
        )
        .bind(ws)
        .bind(automation_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(version).collect()
    }

    async fn version(
        &self,
        ws: &str,
        automation_id: &str,
        v: i64,
    ) -> Result<Option<AutomationVersion>> {
        let row = sqlx::query(
            "SELECT * FROM automation_versions WHERE workspace_id = ? AND automation_id = ? AND version = ?",
        )
        .bind(ws)
        .bind(automation_id)
        .bind(v)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(version).transpose()
    }

    async fn current_versions(
        &self,
        after: Option<(&str, &str)>,
        limit: u32,
    ) -> Result<Vec<AutomationVersion>> {
        let rows = sqlx::query(
            "SELECT v.* FROM automations a JOIN automation_versions v \
               ON v.workspace_id = a.workspace_id AND v.automation_id = a.id \
              AND v.version = a.current_version \
             WHERE (?1 IS NULL OR (a.workspace_id, a.id) > (?1, ?2)) \
             ORDER BY a.workspace_id, a.id LIMIT CAST(?3 AS INTEGER)",
        )
        .bind(after.map(|(ws, _)| ws))
        .bind(after.map(|(_, id)| id))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(version).collect()
    }

    async fn record(&self, ws: &str, object: &str, id: &str) -> Result<Option<Record>> {
        let sql = format!(
            "SELECT {RECORD_COLS} FROM records WHERE workspace_id = ? AND object = ? AND id = ?"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(object)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(record).transpose()
    }

    async fn query_records(
        &self,
        ws: &str,
        object: &str,
        equals: &Map<String, Value>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Record>> {
        let limit = limit_or_default(limit);
        if let Some(c) = cursor.filter(|c| !c.is_empty()) {
            let known: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM records WHERE workspace_id = ? AND object = ? AND id = ?",
            )
            .bind(ws)
            .bind(object)
            .bind(c)
            .fetch_optional(&self.reader)
            .await?;
            if known.is_none() {
                return Err(RuntimeError::not_found("cursor", c));
            }
        }
        // Newest first (DESIGN §12.1); the cursor is the id of the last record of the
        // previous page, and (created_at, id) orders records created in the same instant.
        let mut sql = format!(
            "SELECT {RECORD_COLS} FROM records WHERE workspace_id = ? AND object = ? \
             AND (? = '' OR (created_at, id) < \
                 (SELECT created_at, id FROM records WHERE workspace_id = ? AND object = ? AND id = ?))"
        );
        for _ in equals {
            // Field names are bound as JSON paths, never spliced into the SQL.
            sql.push_str(" AND json_extract(fields, ?) IS json_extract(?, '$')");
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT CAST(? AS INTEGER)");
        let cursor = cursor.unwrap_or("");
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(object)
            .bind(cursor)
            .bind(ws)
            .bind(object)
            .bind(cursor);
        for (k, v) in equals {
            q = q
                .bind(format!("$.\"{}\"", k.replace('"', "")))
                .bind(v.to_string());
        }
        let rows = q.bind(limit as i64 + 1).fetch_all(&self.reader).await?;
        let items = rows.iter().map(record).collect::<Result<Vec<_>>>()?;
        Ok(page(items, limit, |r| r.id.clone()))
    }

    async fn run(&self, ws: &str, id: &str) -> Result<Option<Run>> {
        runs::run_with_steps(&self.reader, ws, id).await
    }

    async fn runs(&self, ws: &str, f: &RunFilter) -> Result<Page<Run>> {
        runs::run_page(&self.reader, ws, f).await
    }

    async fn runs_for_event(&self, ws: &str, event_id: &str) -> Result<Vec<Run>> {
        runs::runs_for_event(&self.reader, ws, event_id).await
    }

    async fn count_runs(&self, status: Option<RunStatus>) -> Result<i64> {
        runs::count_runs(&self.reader, status).await
    }

    async fn stats(&self) -> Result<StoreStats> {
        runs::stats(&self.reader, self.step_latency.snapshot()).await
    }

    async fn due_work(&self, now: chrono::DateTime<chrono::Utc>) -> Result<DueWork> {
        runs::due_work(&self.reader, now).await
    }

    async fn dispatch_version(&self) -> Result<i64> {
        Ok(0)
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<super::Change>> {
        None
    }

    async fn update_outbox_alone(&self, items: &[OutboxItem]) -> Result<()> {
        // One statement commits on its own (no BEGIN and COMMIT round trips); more items
        // than one statement takes need the transaction to stay one write.
        if items.len() > batch::CHUNK {
            let mut tx = self.begin().await?;
            tx.update_outbox(items).await?;
            return tx.commit().await;
        }
        let mut conn = self.writer.acquire().await?;
        batch::update_outbox(&mut conn, items).await
    }

    async fn update_outbox_gathered<F>(&self, gather: F) -> Result<()>
    where
        F: FnOnce() -> Vec<OutboxItem> + Send,
    {
        let mut conn = self.writer.acquire().await?;
        let items = gather();
        if items.len() > batch::CHUNK {
            drop(conn);
            return self.update_outbox_alone(&items).await;
        }
        batch::update_outbox(&mut conn, &items).await
    }

    async fn claim_outbox_alone(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        lease_until: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        // One `UPDATE ... RETURNING` commits on its own, all of it or nothing.
        let mut conn = self.writer.acquire().await?;
        work::claim_outbox(&mut conn, now, lease_until, limit).await
    }

    async fn renew_leases(&self) -> Result<u64> {
        Ok(0)
    }

    async fn task(&self, ws: &str, id: &str) -> Result<Option<Task>> {
        work::task_by_id(&self.reader, ws, id).await
    }

    async fn tasks(&self, ws: &str, f: &TaskFilter) -> Result<Page<Task>> {
        work::task_page(&self.reader, ws, f).await
    }

    async fn outbox(&self, ws: &str, f: &OutboxFilter) -> Result<Page<OutboxItem>> {
        work::outbox_page(&self.reader, ws, f).await
    }

    async fn mailbox(&self, ws: &str) -> Result<Vec<MailboxMessage>> {
        work::mailbox(&self.reader, ws).await
    }

    async fn notifications(&self, ws: &str, user_id: Option<&str>) -> Result<Vec<Notification>> {
        work::notifications(&self.reader, ws, user_id).await
    }

    async fn custom_event_types(&self, ws: &str, limit: u32) -> Result<Vec<String>> {
        // Recorded types by a loose index scan over the partial index `events_custom_types`
        // (one index seek per distinct type, however many events there are), plus the
        // triggers of current automation versions.
        let rows = sqlx::query(
            "WITH RECURSIVE seen(type) AS ( \
               SELECT MIN(type) FROM events \
                WHERE workspace_id = ?1 AND type >= 'custom.' AND type < 'custom/' \
               UNION ALL \
               SELECT (SELECT MIN(e.type) FROM events e \
                        WHERE e.workspace_id = ?1 AND e.type >= 'custom.' AND e.type < 'custom/' \
                          AND e.type > seen.type) \
                 FROM seen WHERE seen.type IS NOT NULL LIMIT CAST(?2 AS INTEGER) \
             ) \
             SELECT type FROM seen WHERE type IS NOT NULL \
             UNION \
             SELECT json_extract(v.definition, '$.trigger.event') FROM automations a \
               JOIN automation_versions v ON v.workspace_id = a.workspace_id \
                AND v.automation_id = a.id AND v.version = a.current_version \
              WHERE a.workspace_id = ?1 AND v.definition LIKE '%custom.%' \
                AND json_extract(v.definition, '$.trigger.event') LIKE 'custom.%' \
             ORDER BY 1 LIMIT CAST(?2 AS INTEGER)",
        )
        .bind(ws)
        .bind(limit as i64)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok(sqlx::Row::try_get::<String, _>(r, 0)?))
            .collect()
    }

    async fn notification(&self, ws: &str, id: &str) -> Result<Option<Notification>> {
        work::notification_by_id(&self.reader, ws, id).await
    }

    async fn notification_page(
        &self,
        ws: &str,
        f: &NotificationFilter,
    ) -> Result<Page<Notification>> {
        work::notification_page(&self.reader, ws, f).await
    }

    async fn event(&self, ws: &str, id: &str) -> Result<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE workspace_id = ? AND id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(event).transpose()
    }

    async fn audit_log(&self, ws: &str, f: &AuditFilter) -> Result<Page<AuditEntry>> {
        let limit = limit_or_default(f.limit);
        let before = match f.cursor.as_deref() {
            None => None,
            Some(cursor) => Some(self.audit_cursor(ws, cursor).await?),
        };
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE workspace_id = ?1 AND (?2 IS NULL OR target_kind = ?2) \
             AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR target = ?4) \
             AND (?5 IS NULL OR id < ?5) ORDER BY id DESC LIMIT CAST(?6 AS INTEGER)",
        )
        .bind(ws)
        .bind(f.kind.as_deref())
        .bind(f.action.map(|a| a.as_str()))
        .bind(f.target.as_deref())
        .bind(before)
        .bind(limit as i64 + 1)
        .fetch_all(&self.reader)
        .await?;
        let items = rows.iter().map(audit).collect::<Result<Vec<_>>>()?;
        Ok(page(items, limit, |a| a.id.to_string()))
    }

    async fn automation_log(
        &self,
        ws: &str,
        object: &str,
        record_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<crate::record_log::AutomationLogEntry>> {
        record_log::page(&self.reader, ws, object, record_id, limit, cursor).await
    }

    async fn tokens(&self, ws: Option<&str>) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT * FROM api_tokens WHERE (?1 IS NULL OR workspace_id = ?1) ORDER BY created_at, id",
        )
        .bind(ws)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(token).collect()
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.reader).await?;
        Ok(())
    }

    async fn schema_extensions(&self, ws: Option<&str>) -> Result<Vec<SchemaExtension>> {
        let rows = sqlx::query(
            "SELECT * FROM workspace_schema_extensions WHERE (?1 IS NULL OR workspace_id = ?1) ORDER BY seq",
        )
        .bind(ws)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(schema_extension).collect()
    }

    async fn plugin_versions(&self, ws: Option<&str>) -> Result<Vec<PluginVersionRow>> {
        plugins::versions(&self.reader, ws).await
    }

    async fn plugin_grants(&self, ws: Option<&str>) -> Result<Vec<PluginGrantRow>> {
        plugins::grants(&self.reader, ws).await
    }

    async fn plugin_artifact(&self, key: ArtifactKey<'_>) -> Result<Option<Vec<u8>>> {
        plugins::artifact(&self.reader, key).await
    }

    async fn record_as_of(
        &self,
        ws: &str,
        object: &str,
        id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<super::AsOf> {
        history::record_as_of(&self.reader, ws, object, id, at).await
    }

    async fn count_record_history(&self, ws: Option<&str>) -> Result<i64> {
        history::count_history(&self.reader, ws).await
    }

    async fn events_between(
        &self,
        ws: &str,
        event_type: &str,
        range: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>> {
        history::events_between(&self.reader, ws, event_type, range, after, limit).await
    }

    async fn backtest(&self, ws: &str, id: &str) -> Result<Option<crate::backtest::Backtest>> {
        history::get(&self.reader, ws, id).await
    }

    async fn backtests(
        &self,
        ws: &str,
        automation_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<crate::backtest::Backtest>> {
        let limit = limit_or_default(limit);
        let items = history::list(&self.reader, ws, automation_id, limit, cursor).await?;
        Ok(page(items, limit, |b| b.id.clone()))
    }

    async fn count_active_backtests(&self, ws: &str) -> Result<i64> {
        history::count_active(&self.reader, ws).await
    }
}

#[cfg(test)]
mod tests;
