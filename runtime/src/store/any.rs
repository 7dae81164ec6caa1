//! One store type over every driver, chosen at start from the database URL (DESIGN §10):
//! `postgres://` and `postgresql://` open PostgreSQL, anything else SQLite. The binary
//! runs `Engine<AnyStore>`; every method forwards to the driver underneath, so the
//! drivers stay the only place with SQL.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::postgres::{PgConfig, PgStore, PgTx};
use super::sqlite::{SqliteConfig, SqliteStore, SqliteTx};
use super::{
    ArtifactKey, AsOf, DueWork, PluginGrantRow, PluginVersionRow, Store, StoreStats, StoreTx,
};
use crate::backtest::Backtest;
use crate::error::Result;
use crate::model::*;
use crate::record_log::AutomationLogEntry;

/// Which driver a URL selects, with its settings.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    Sqlite(SqliteConfig),
    Postgres(PgConfig),
}

impl StoreConfig {
    /// `postgres://...` or `postgresql://...`: PostgreSQL; `sqlite://...`, `sqlite:...` or
    /// a bare path: SQLite.
    pub fn from_url(url: &str) -> StoreConfig {
        if PgConfig::accepts(url) {
            StoreConfig::Postgres(PgConfig::from_url(url))
        } else {
            StoreConfig::Sqlite(SqliteConfig::from_url(url))
        }
    }
}

#[derive(Clone, Debug)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

pub enum AnyTx {
    Sqlite(SqliteTx),
    Postgres(PgTx),
}

impl AnyStore {
    /// Opens the store (applying pending migrations).
    pub async fn open(config: &StoreConfig) -> Result<AnyStore> {
        Ok(match config {
            StoreConfig::Sqlite(c) => AnyStore::Sqlite(SqliteStore::open(c).await?),
            StoreConfig::Postgres(c) => AnyStore::Postgres(PgStore::open(c).await?),
        })
    }

    pub async fn close(&self) {
        match self {
            AnyStore::Sqlite(s) => s.close().await,
            AnyStore::Postgres(s) => s.close().await,
        }
    }

    /// The driver's name, for logs (`sqlite` or `postgres`).
    pub fn driver(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

/// Forwards to whichever driver `self` holds.
macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Self::Sqlite($s) => $call,
            Self::Postgres($s) => $call,
        }
    };
}

impl Store for AnyStore {
    type Tx = AnyTx;

    async fn begin(&self) -> Result<AnyTx> {
        Ok(match self {
            AnyStore::Sqlite(s) => AnyTx::Sqlite(s.begin().await?),
            AnyStore::Postgres(s) => AnyTx::Postgres(s.begin().await?),
        })
    }

    async fn begin_deferred(&self) -> Result<AnyTx> {
        Ok(match self {
            AnyStore::Sqlite(s) => AnyTx::Sqlite(s.begin_deferred().await?),
            AnyStore::Postgres(s) => AnyTx::Postgres(s.begin_deferred().await?),
        })
    }

    async fn workspace(&self, id: &str) -> Result<Option<Workspace>> {
        delegate!(self, s => s.workspace(id).await)
    }

    async fn workspace_by_name(&self, name: &str) -> Result<Option<Workspace>> {
        delegate!(self, s => s.workspace_by_name(name).await)
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        delegate!(self, s => s.token_by_hash(token_hash).await)
    }

    async fn automation(&self, ws: &str, id: &str) -> Result<Option<Automation>> {
        delegate!(self, s => s.automation(ws, id).await)
    }

    async fn automations(&self, ws: Option<&str>) -> Result<Vec<Automation>> {
        delegate!(self, s => s.automations(ws).await)
    }

    async fn versions(&self, ws: &str, automation_id: &str) -> Result<Vec<AutomationVersion>> {
        delegate!(self, s => s.versions(ws, automation_id).await)
    }

    async fn version(
        &self,
        ws: &str,
        automation_id: &str,
        version: i64,
    ) -> Result<Option<AutomationVersion>> {
        delegate!(self, s => s.version(ws, automation_id, version).await)
    }

    async fn current_versions(
        &self,
        after: Option<(&str, &str)>,
        limit: u32,
    ) -> Result<Vec<AutomationVersion>> {
        delegate!(self, s => s.current_versions(after, limit).await)
    }

    async fn record(&self, ws: &str, object: &str, id: &str) -> Result<Option<Record>> {
        delegate!(self, s => s.record(ws, object, id).await)
    }

    async fn query_records(
        &self,
        ws: &str,
        object: &str,
        equals: &Map<String, Value>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Record>> {
        delegate!(self, s => s.query_records(ws, object, equals, limit, cursor).await)
    }

    async fn run(&self, ws: &str, id: &str) -> Result<Option<Run>> {
        delegate!(self, s => s.run(ws, id).await)
    }

    async fn runs(&self, ws: &str, filter: &RunFilter) -> Result<Page<Run>> {
        delegate!(self, s => s.runs(ws, filter).await)
    }

    async fn runs_for_event(&self, ws: &str, event_id: &str) -> Result<Vec<Run>> {
        delegate!(self, s => s.runs_for_event(ws, event_id).await)
    }

    async fn count_runs(&self, status: Option<RunStatus>) -> Result<i64> {
        delegate!(self, s => s.count_runs(status).await)
    }

    async fn stats(&self) -> Result<StoreStats> {
        delegate!(self, s => s.stats().await)
    }

    async fn due_work(&self, now: DateTime<Utc>) -> Result<DueWork> {
        delegate!(self, s => s.due_work(now).await)
    }

    async fn dispatch_version(&self) -> Result<i64> {
        delegate!(self, s => s.dispatch_version().await)
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<super::Change>> {
        delegate!(self, s => s.changes())
    }

    async fn renew_leases(&self) -> Result<u64> {
        delegate!(self, s => s.renew_leases().await)
    }

    async fn update_outbox_alone(&self, items: &[OutboxItem]) -> Result<()> {
        delegate!(self, s => s.update_outbox_alone(items).await)
    }

    async fn update_outbox_gathered<F>(&self, gather: F) -> Result<()>
    where
        F: FnOnce() -> Vec<OutboxItem> + Send,
    {
        delegate!(self, s => s.update_outbox_gathered(gather).await)
    }

    async fn claim_outbox_alone(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        delegate!(self, s => s.claim_outbox_alone(now, lease_until, limit).await)
    }

    async fn task(&self, ws: &str, id: &str) -> Result<Option<Task>> {
        delegate!(self, s => s.task(ws, id).await)
    }

    async fn tasks(&self, ws: &str, filter: &TaskFilter) -> Result<Page<Task>> {
        delegate!(self, s => s.tasks(ws, filter).await)
    }

    async fn outbox(&self, ws: &str, filter: &OutboxFilter) -> Result<Page<OutboxItem>> {
        delegate!(self, s => s.outbox(ws, filter).await)
    }

    async fn mailbox(&self, ws: &str) -> Result<Vec<MailboxMessage>> {
        delegate!(self, s => s.mailbox(ws).await)
    }

    async fn notifications(&self, ws: &str, user_id: Option<&str>) -> Result<Vec<Notification>> {
        delegate!(self, s => s.notifications(ws, user_id).await)
    }

    async fn event(&self, ws: &str, id: &str) -> Result<Option<Event>> {
        delegate!(self, s => s.event(ws, id).await)
    }

    async fn notification(&self, ws: &str, id: &str) -> Result<Option<Notification>> {
        delegate!(self, s => s.notification(ws, id).await)
    }

    async fn notification_page(
        &self,
        ws: &str,
        filter: &NotificationFilter,
    ) -> Result<Page<Notification>> {
        delegate!(self, s => s.notification_page(ws, filter).await)
    }

    async fn custom_event_types(&self, ws: &str, limit: u32) -> Result<Vec<String>> {
        delegate!(self, s => s.custom_event_types(ws, limit).await)
    }

    async fn audit_log(&self, ws: &str, filter: &AuditFilter) -> Result<Page<AuditEntry>> {
        delegate!(self, s => s.audit_log(ws, filter).await)
    }

    async fn tokens(&self, ws: Option<&str>) -> Result<Vec<ApiToken>> {
        delegate!(self, s => s.tokens(ws).await)
    }

    async fn automation_log(
        &self,
        ws: &str,
        object: &str,
        record_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<AutomationLogEntry>> {
        delegate!(self, s => s.automation_log(ws, object, record_id, limit, cursor).await)
    }

    async fn record_as_of(
        &self,
        ws: &str,
        object: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<AsOf> {
        delegate!(self, s => s.record_as_of(ws, object, id, at).await)
    }

    async fn count_record_history(&self, ws: Option<&str>) -> Result<i64> {
        delegate!(self, s => s.count_record_history(ws).await)
    }

    async fn events_between(
        &self,
        ws: &str,
        event_type: &str,
        range: (DateTime<Utc>, DateTime<Utc>),
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>> {
        delegate!(self, s => s.events_between(ws, event_type, range, after, limit).await)
    }

    async fn backtest(&self, ws: &str, id: &str) -> Result<Option<Backtest>> {
        delegate!(self, s => s.backtest(ws, id).await)
    }

    async fn backtests(
        &self,
        ws: &str,
        automation_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Backtest>> {
        delegate!(self, s => s.backtests(ws, automation_id, limit, cursor).await)
    }

    async fn count_active_backtests(&self, ws: &str) -> Result<i64> {
        delegate!(self, s => s.count_active_backtests(ws).await)
    }

    async fn ping(&self) -> Result<()> {
        delegate!(self, s => s.ping().await)
    }

    async fn schema_extensions(&self, ws: Option<&str>) -> Result<Vec<SchemaExtension>> {
        delegate!(self, s => s.schema_extensions(ws).await)
    }

    async fn plugin_versions(&self, ws: Option<&str>) -> Result<Vec<PluginVersionRow>> {
        delegate!(self, s => s.plugin_versions(ws).await)
    }

    async fn plugin_grants(&self, ws: Option<&str>) -> Result<Vec<PluginGrantRow>> {
        delegate!(self, s => s.plugin_grants(ws).await)
    }

    async fn plugin_artifact(&self, key: ArtifactKey<'_>) -> Result<Option<Vec<u8>>> {
        delegate!(self, s => s.plugin_artifact(key).await)
    }
}

impl StoreTx for AnyTx {
    async fn commit(self) -> Result<()> {
        delegate!(self, s => s.commit().await)
    }

    async fn savepoint(&mut self) -> Result<()> {
        delegate!(self, s => s.savepoint().await)
    }

    async fn release_savepoint(&mut self) -> Result<()> {
        delegate!(self, s => s.release_savepoint().await)
    }

    async fn rollback_to_savepoint(&mut self) -> Result<()> {
        delegate!(self, s => s.rollback_to_savepoint().await)
    }

    async fn insert_workspace(&mut self, w: &Workspace) -> Result<()> {
        delegate!(self, s => s.insert_workspace(w).await)
    }

    async fn set_sandbox_active(&mut self, ws: &str, on: bool) -> Result<bool> {
        delegate!(self, s => s.set_sandbox_active(ws, on).await)
    }

    async fn insert_token(&mut self, t: &ApiToken, token_hash: &str) -> Result<()> {
        delegate!(self, s => s.insert_token(t, token_hash).await)
    }

    async fn revoke_token(&mut self, ws: &str, id: &str, at: DateTime<Utc>) -> Result<bool> {
        delegate!(self, s => s.revoke_token(ws, id, at).await)
    }

    async fn automation(&mut self, ws: &str, id: &str) -> Result<Option<Automation>> {
        delegate!(self, s => s.automation(ws, id).await)
    }

    async fn insert_automation(&mut self, a: &Automation) -> Result<()> {
        delegate!(self, s => s.insert_automation(a).await)
    }

    async fn update_automation(&mut self, a: &Automation) -> Result<()> {
        delegate!(self, s => s.update_automation(a).await)
    }

    async fn insert_version(&mut self, v: &AutomationVersion) -> Result<()> {
        delegate!(self, s => s.insert_version(v).await)
    }

    async fn record(&mut self, ws: &str, object: &str, id: &str) -> Result<Option<Record>> {
        delegate!(self, s => s.record(ws, object, id).await)
    }

    async fn prefetch_records(&mut self, keys: &[(&str, &str, &str)]) -> Result<()> {
        delegate!(self, s => s.prefetch_records(keys).await)
    }

    async fn insert_record(&mut self, r: &Record) -> Result<()> {
        delegate!(self, s => s.insert_record(r).await)
    }

    async fn update_record(&mut self, r: &Record) -> Result<()> {
        delegate!(self, s => s.update_record(r).await)
    }

    async fn delete_record(&mut self, ws: &str, object: &str, id: &str) -> Result<bool> {
        delegate!(self, s => s.delete_record(ws, object, id).await)
    }

    async fn event(&mut self, ws: &str, id: &str) -> Result<Option<Event>> {
        delegate!(self, s => s.event(ws, id).await)
    }

    async fn events(&mut self, keys: &[(&str, &str)]) -> Result<Vec<Event>> {
        delegate!(self, s => s.events(keys).await)
    }

    async fn version(
        &mut self,
        ws: &str,
        automation_id: &str,
        version: i64,
    ) -> Result<Option<AutomationVersion>> {
        delegate!(self, s => s.version(ws, automation_id, version).await)
    }

    async fn automations(&mut self) -> Result<Vec<Automation>> {
        delegate!(self, s => s.automations().await)
    }

    async fn insert_event(&mut self, e: &Event) -> Result<bool> {
        delegate!(self, s => s.insert_event(e).await)
    }

    async fn insert_events(&mut self, events: &[Event]) -> Result<Vec<bool>> {
        delegate!(self, s => s.insert_events(events).await)
    }

    async fn insert_run(&mut self, r: &Run) -> Result<bool> {
        delegate!(self, s => s.insert_run(r).await)
    }

    async fn insert_generated_events(&mut self, events: &[Event]) -> Result<()> {
        delegate!(self, s => s.insert_generated_events(events).await)
    }

    async fn insert_new_run(&mut self, r: &Run) -> Result<()> {
        delegate!(self, s => s.insert_new_run(r).await)
    }

    async fn run(&mut self, ws: &str, id: &str) -> Result<Option<Run>> {
        delegate!(self, s => s.run(ws, id).await)
    }

    async fn update_run(&mut self, r: &Run) -> Result<()> {
        delegate!(self, s => s.update_run(r).await)
    }

    async fn queued_runs(&mut self, limit: u32) -> Result<Vec<Run>> {
        delegate!(self, s => s.queued_runs(limit).await)
    }

    async fn requeue_running(&mut self) -> Result<u64> {
        delegate!(self, s => s.requeue_running().await)
    }

    async fn count_runs_on_record(
        &mut self,
        ws: &str,
        automation_id: &str,
        object: &str,
        record_id: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        delegate!(self, s => s.count_runs_on_record(ws, automation_id, object, record_id, since).await)
    }

    async fn upsert_step(&mut self, ws: &str, run_id: &str, s: &StepRun) -> Result<()> {
        delegate!(self, tx => tx.upsert_step(ws, run_id, s).await)
    }

    async fn end_runs(&mut self, ends: &[(&Run, &[StepRun])]) -> Result<()> {
        delegate!(self, s => s.end_runs(ends).await)
    }

    async fn steps(&mut self, ws: &str, run_id: &str) -> Result<Vec<StepRun>> {
        delegate!(self, s => s.steps(ws, run_id).await)
    }

    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        delegate!(self, s => s.insert_task(t).await)
    }

    async fn task(&mut self, ws: &str, id: &str) -> Result<Option<Task>> {
        delegate!(self, s => s.task(ws, id).await)
    }

    async fn open_task_for_run(&mut self, ws: &str, run_id: &str) -> Result<Option<Task>> {
        delegate!(self, s => s.open_task_for_run(ws, run_id).await)
    }

    async fn transition_task(
        &mut self,
        ws: &str,
        id: &str,
        from: TaskStatus,
        to: TaskStatus,
        output: Option<&Value>,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        delegate!(self, s => s.transition_task(ws, id, from, to, output, at).await)
    }

    async fn reassign_task(
        &mut self,
        ws: &str,
        id: &str,
        assignee: Option<&str>,
        queue: Option<&str>,
    ) -> Result<()> {
        delegate!(self, s => s.reassign_task(ws, id, assignee, queue).await)
    }

    async fn insert_timer(&mut self, t: &Timer) -> Result<()> {
        delegate!(self, s => s.insert_timer(t).await)
    }

    async fn due_timers(&mut self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Timer>> {
        delegate!(self, s => s.due_timers(now, limit).await)
    }

    async fn close_timer(&mut self, ws: &str, id: &str, status: &str) -> Result<bool> {
        delegate!(self, s => s.close_timer(ws, id, status).await)
    }

    async fn cancel_timers_for_run(&mut self, ws: &str, run_id: &str) -> Result<()> {
        delegate!(self, s => s.cancel_timers_for_run(ws, run_id).await)
    }

    async fn queue_outbox(&mut self, o: &OutboxItem) -> Result<()> {
        delegate!(self, s => s.queue_outbox(o).await)
    }

    async fn insert_outbox(&mut self, o: &OutboxItem) -> Result<bool> {
        delegate!(self, s => s.insert_outbox(o).await)
    }

    async fn claim_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        delegate!(self, s => s.claim_outbox(now, lease_until, limit).await)
    }

    async fn update_outbox(&mut self, items: &[OutboxItem]) -> Result<()> {
        delegate!(self, s => s.update_outbox(items).await)
    }

    async fn note_step_attempts(
        &mut self,
        ws: &str,
        run_id: &str,
        step_id: &str,
        attempts: i64,
        last_error: Option<&str>,
    ) -> Result<()> {
        delegate!(self, s => s.note_step_attempts(ws, run_id, step_id, attempts, last_error).await)
    }

    async fn insert_mail(&mut self, m: &MailboxMessage) -> Result<()> {
        delegate!(self, s => s.insert_mail(m).await)
    }

    async fn insert_notification(&mut self, n: &Notification) -> Result<()> {
        delegate!(self, s => s.insert_notification(n).await)
    }

    async fn mark_notifications_read(
        &mut self,
        ws: &str,
        id: Option<&str>,
        user_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        delegate!(self, s => s.mark_notifications_read(ws, id, user_id, at).await)
    }

    fn queue_automation_log(&mut self, entry: AutomationLogEntry, per_record: u32) {
        delegate!(self, s => s.queue_automation_log(entry, per_record))
    }

    async fn sweep_automation_log(&mut self, before: DateTime<Utc>, limit: u32) -> Result<u64> {
        delegate!(self, s => s.sweep_automation_log(before, limit).await)
    }

    async fn insert_backtest(&mut self, b: &Backtest) -> Result<()> {
        delegate!(self, s => s.insert_backtest(b).await)
    }

    async fn update_backtest(&mut self, b: &Backtest) -> Result<bool> {
        delegate!(self, s => s.update_backtest(b).await)
    }

    async fn interrupt_backtests(&mut self, at: DateTime<Utc>) -> Result<u64> {
        delegate!(self, s => s.interrupt_backtests(at).await)
    }

    async fn prune_record_history(&mut self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64> {
        delegate!(self, s => s.prune_record_history(cutoff, batch).await)
    }

    async fn insert_audit(&mut self, a: &AuditEntry) -> Result<()> {
        delegate!(self, s => s.insert_audit(a).await)
    }

    async fn insert_schema_extension(&mut self, e: &SchemaExtension) -> Result<i64> {
        delegate!(self, s => s.insert_schema_extension(e).await)
    }

    async fn upsert_plugin_version(&mut self, v: &PluginVersionRow) -> Result<()> {
        delegate!(self, s => s.upsert_plugin_version(v).await)
    }

    async fn upsert_plugin_grant(&mut self, g: &PluginGrantRow) -> Result<()> {
        delegate!(self, s => s.upsert_plugin_grant(g).await)
    }

    async fn save_plugin_artifact(&mut self, key: ArtifactKey<'_>, artifact: &[u8]) -> Result<()> {
        delegate!(self, s => s.save_plugin_artifact(key, artifact).await)
    }
}
