//! The PostgreSQL driver (DESIGN §10): a pool of readers and a pool of writers over one
//! database, migrations embedded from `runtime/migrations/postgres`.
//!
//! Write transactions are serialised across every process on the database by a
//! transaction-scoped advisory lock taken right after `BEGIN` ([`WRITE_LOCK`]): the
//! engine's write path then sees what it sees on SQLite (one writer at a time, so a
//! transaction may remember the records it read, and compare-and-set updates never race).
//! Claims of queued runs, due timers and due outbox items also take their rows with
//! `FOR UPDATE SKIP LOCKED`. Reads never wait for writers.
//!
//! This module and its children are the only place that speaks PostgreSQL SQL.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

use super::shared::{limit_or_default, page};
use super::step_latency::StepLatency;
use super::{ArtifactKey, DueWork, PluginGrantRow, PluginVersionRow, Store, StoreStats};
use crate::error::{Result, RuntimeError};
use crate::model::*;

mod batch;
mod history;
mod notify;
mod plugins;
mod record_log;
mod rows;
mod runs;
mod tx;
mod work;

use rows::*;
pub use tx::PgTx;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The first key of the advisory lock every write transaction holds (any fixed number;
/// this one spells "auto" in ASCII); the second is a hash of the schema, so that
/// installations in different schemas of one database never wait for each other.
pub const WRITE_LOCK: i32 = 0x6175_746f;

/// A writer connection left idle inside a transaction (a bug, a wedged task) is ended by
/// the server after this long, so it cannot hold the write lock for ever.
const IDLE_IN_TRANSACTION_MS: &str = "300000";

/// Where the database is and how many connections to keep.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// `postgres://user:password@host:port/database?...` (libpq's URL form).
    pub url: String,
    /// Reader connections.
    pub readers: u32,
    /// Writer connections (write transactions still run one at a time; a second
    /// connection lets a node queue its next transaction while one runs).
    pub writers: u32,
    /// How long to wait for a pooled connection before failing.
    pub acquire_timeout: Duration,
    /// A schema to create and use instead of the user's default one (tests give each
    /// their own).
    pub schema: Option<String>,
    /// The connections' `application_name` (what `pg_stat_activity` shows).
    pub application_name: Option<String>,
    /// This node's name in run leases (`runs.locked_by`); unique per process.
    pub node_id: String,
    /// How long a run committed `running` stays this node's without a renewal (see
    /// [`Store::renew_leases`]); after that any node re-queues it.
    pub run_lease: Duration,
}

impl PgConfig {
    pub fn from_url(url: &str) -> Self {
        PgConfig {
            url: url.to_string(),
            readers: 8,
            writers: 2,
            acquire_timeout: Duration::from_secs(30),
            schema: None,
            application_name: Some("automations".into()),
            node_id: format!(
                "{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            run_lease: Duration::from_secs(15),
        }
    }

    /// True for the URLs this driver takes (`postgres://`, `postgresql://`).
    pub fn accepts(url: &str) -> bool {
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }
}

/// PostgreSQL storage: a reader pool and a writer pool on the same database.
#[derive(Clone, Debug)]
pub struct PgStore {
    writer: PgPool,
    reader: PgPool,
    notifier: notify::Notifier,
    node: Arc<Node>,
    /// The steps this process's transactions ended (`/metrics`).
    step_latency: Arc<StepLatency>,
}

/// Who this process is among the nodes of the database.
#[derive(Debug)]
pub(super) struct Node {
    /// The installation's notification channel (see `notify`).
    pub(super) channel: String,
    pub(super) id: String,
    /// The run lease, in milliseconds.
    pub(super) lease_ms: i64,
}

impl PgStore {
    /// Connects and applies pending migrations (which sqlx runs under its own advisory
    /// lock, so nodes starting together migrate once).
    pub async fn open(config: &PgConfig) -> Result<PgStore> {
        let mut options = PgConnectOptions::from_str(&config.url)?;
        // One plain connection first: a database that is not there fails at once with
        // its own error (a pool would retry a refused connection until its timeout).
        let mut first = PgConnection::connect_with(&options).await?;
        let schema: String = match &config.schema {
            Some(schema) => {
                create_schema(&mut first, schema).await?;
                options = options.options([("search_path", schema.as_str())]);
                schema.clone()
            }
            None => {
                sqlx::query_scalar("SELECT current_schema()::text")
                    .fetch_one(&mut first)
                    .await?
            }
        };
        first.close().await?;
        if let Some(name) = &config.application_name {
            options = options.application_name(name);
        }
        let pool = |max: u32, options: PgConnectOptions| {
            PgPoolOptions::new()
                .max_connections(max.max(1))
                .acquire_timeout(config.acquire_timeout)
                .connect_with(options)
        };
        let writer_options = options.clone().options([(
            "idle_in_transaction_session_timeout",
            IDLE_IN_TRANSACTION_MS,
        )]);
        let writer = pool(config.writers, writer_options).await?;
        MIGRATOR.run(&writer).await?;
        let reader = pool(config.readers, options.clone()).await?;
        // The listening connection lives as long as the node: no idle timeout, no
        // lifetime; opened on the first subscription only.
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options);
        let channel = format!("automations:{schema}");
        let node = Arc::new(Node {
            channel: channel.clone(),
            id: config.node_id.clone(),
            lease_ms: config.run_lease.as_millis().min(i64::MAX as u128) as i64,
        });
        let notifier = notify::Notifier::new(channel, listen_pool);
        Ok(PgStore {
            writer,
            reader,
            notifier,
            node,
            step_latency: Default::default(),
        })
    }

    pub async fn close(&self) {
        self.notifier.close().await;
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Creates `schema` when missing (a name of letters, digits and `_` only: it is spliced).
async fn create_schema(conn: &mut PgConnection, schema: &str) -> Result<()> {
    if schema.is_empty()
        || !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(RuntimeError::BadRequest(format!(
            "invalid schema name {schema:?}: letters, digits and _ only"
        )));
    }
    let sql = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
    sqlx::query(AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// An instant as stored (whole milliseconds, as on SQLite).
pub(super) fn at(t: DateTime<Utc>) -> DateTime<Utc> {
    super::shared::stored_instant(t)
}

pub(super) fn opt_at(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.map(at)
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
            Listed::Runs => "SELECT created_at, id FROM runs WHERE workspace_id = $1 AND id = $2",
            Listed::Tasks => "SELECT created_at, id FROM tasks WHERE workspace_id = $1 AND id = $2",
            Listed::Outbox => {
                "SELECT created_at, id FROM outbox WHERE workspace_id = $1 AND id = $2"
            }
        }
    }
}

type Cursor = (Option<DateTime<Utc>>, Option<String>);

/// The `(created_at, id)` of the row a cursor names; `NotFound("cursor")` when it names
/// no row of the workspace.
async fn cursor_key(
    reader: &PgPool,
    list: Listed,
    ws: &str,
    cursor: Option<&str>,
) -> Result<Cursor> {
    let Some(cursor) = cursor else {
        return Ok((None, None));
    };
    let key: Option<(DateTime<Utc>, String)> = sqlx::query_as(list.key_sql())
        .bind(ws)
        .bind(cursor)
        .fetch_optional(reader)
        .await?;
    let (created_at, id) = key.ok_or_else(|| RuntimeError::not_found("cursor", cursor))?;
    Ok((Some(created_at), Some(id)))
}

impl PgStore {
    /// The audit entry id a cursor names; `NotFound("cursor")` when it names no entry of
    /// the workspace.
    async fn audit_cursor(&self, ws: &str, cursor: &str) -> Result<i64> {
        let missing = || RuntimeError::not_found("cursor", cursor);
        let id: i64 = cursor.parse().map_err(|_| missing())?;
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM audit_log WHERE workspace_id = $1 AND id = $2")
                .bind(ws)
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
        found.map(|(id,)| id).ok_or_else(missing)
    }
}

impl Store for PgStore {
    type Tx = PgTx;

    async fn begin(&self) -> Result<PgTx> {
        let sql = format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK}, hashtext(current_schema()))"
        );
        Ok(PgTx::new(
            self.writer.begin_with(AssertSqlSafe(sql)).await?,
            self.node.clone(),
            self.step_latency.clone(),
        ))
    }

    async fn workspace(&self, id: &str) -> Result<Option<Workspace>> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(workspace).transpose()
    }

    async fn workspace_by_name(&self, name: &str) -> Result<Option<Workspace>> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(workspace).transpose()
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let row =
            sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
                .bind(token_hash)
                .fetch_optional(&self.reader)
                .await?;
        row.as_ref().map(token).transpose()
    }

    async fn automation(&self, ws: &str, id: &str) -> Result<Option<Automation>> {
        let sql = format!(
            "SELECT {AUTOMATION_COLS} FROM automations WHERE workspace_id = $1 AND id = $2"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(automation).transpose()
    }

    async fn automations(&self, ws: Option<&str>) -> Result<Vec<Automation>> {
        let sql = format!(
            "SELECT {AUTOMATION_COLS} FROM automations WHERE ($1::text IS NULL OR workspace_id = $1) \
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
            "SELECT * FROM automation_versions WHERE workspace_id = $1 AND automation_id = $2 ORDER BY version DESC",
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
            "SELECT * FROM automation_versions WHERE workspace_id = $1 AND automation_id = $2 AND version = $3",
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
             WHERE ($1::text IS NULL OR (a.workspace_id, a.id) > ($1, $2)) \
             ORDER BY a.workspace_id, a.id LIMIT $3",
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
            "SELECT {RECORD_COLS} FROM records WHERE workspace_id = $1 AND object = $2 AND id = $3"
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
        let cursor = cursor.filter(|c| !c.is_empty());
        let after: Option<(DateTime<Utc>, String)> = match cursor {
            None => None,
            Some(c) => Some(
                sqlx::query_as(
                    "SELECT created_at, id FROM records WHERE workspace_id = $1 AND object = $2 AND id = $3",
                )
                .bind(ws)
                .bind(object)
                .bind(c)
                .fetch_optional(&self.reader)
                .await?
                .ok_or_else(|| RuntimeError::not_found("cursor", c))?,
            ),
        };
        // A missing field and a JSON null both match null (as on SQLite). Field names and
        // values are bound, never spliced into the SQL.
        let mut sql = format!(
            "SELECT {RECORD_COLS} FROM records WHERE workspace_id = $1 AND object = $2 \
             AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))"
        );
        let mut n = 4;
        for _ in equals {
            sql.push_str(&format!(
                " AND COALESCE(fields -> ${}, 'null'::jsonb) = ${}::jsonb",
                n + 1,
                n + 2
            ));
            n += 2;
        }
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id DESC LIMIT ${}",
            n + 1
        ));
        let (after_at, after_id) = after.unzip();
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(object)
            .bind(after_at)
            .bind(after_id);
        for (k, v) in equals {
            q = q.bind(k.as_str()).bind(v);
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

    async fn due_work(&self, now: DateTime<Utc>) -> Result<DueWork> {
        runs::due_work(&self.reader, now).await
    }

    async fn dispatch_version(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT version FROM dispatch_version WHERE id = 1")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<super::Change>> {
        Some(self.notifier.subscribe())
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

    async fn record_as_of(
        &self,
        ws: &str,
        object: &str,
        id: &str,
        at: DateTime<Utc>,
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
        range: (DateTime<Utc>, DateTime<Utc>),
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

    async fn renew_leases(&self) -> Result<u64> {
        history::renew(&self.writer, &self.node).await?;
        runs::renew_leases(&self.writer, &self.node).await
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
        // Recorded types by a loose index scan over the partial index
        // `events_custom_types` (one index probe per distinct type), plus the triggers of
        // current automation versions.
        let rows: Vec<(String,)> = sqlx::query_as(
            "WITH RECURSIVE seen(type) AS ( \
               (SELECT type FROM events \
                 WHERE workspace_id = $1 AND type >= 'custom.' AND type < 'custom/' \
                 ORDER BY type LIMIT 1) \
               UNION ALL \
               SELECT (SELECT e.type FROM events e \
                        WHERE e.workspace_id = $1 AND e.type >= 'custom.' AND e.type < 'custom/' \
                          AND e.type > seen.type ORDER BY e.type LIMIT 1) \
                 FROM seen WHERE seen.type IS NOT NULL \
             ) \
             SELECT t FROM ( \
               (SELECT type AS t FROM seen WHERE type IS NOT NULL LIMIT $2) \
               UNION \
               SELECT (v.definition -> 'trigger' ->> 'event') COLLATE \"C\" FROM automations a \
                 JOIN automation_versions v ON v.workspace_id = a.workspace_id \
                 AND v.automation_id = a.id AND v.version = a.current_version \
                WHERE a.workspace_id = $1 \
                  AND v.definition -> 'trigger' ->> 'event' LIKE 'custom.%' \
             ) u ORDER BY t COLLATE \"C\" LIMIT $2",
        )
        .bind(ws)
        .bind(limit as i64)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
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
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE workspace_id = $1 AND id = $2");
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
            "SELECT * FROM audit_log WHERE workspace_id = $1 AND ($2::text IS NULL OR target_kind = $2) \
             AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR target = $4) \
             AND ($5::bigint IS NULL OR id < $5) ORDER BY id DESC LIMIT $6",
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

    async fn tokens(&self, ws: Option<&str>) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT * FROM api_tokens WHERE ($1::text IS NULL OR workspace_id = $1) ORDER BY created_at, id",
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
            "SELECT * FROM workspace_schema_extensions WHERE ($1::text IS NULL OR workspace_id = $1) ORDER BY seq",
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
}
