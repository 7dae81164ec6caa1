//! The PostgreSQL write transaction ([`StoreTx`]): a pooled writer connection inside
//! `BEGIN` plus the cluster-wide write lock (see the module above), so it may remember
//! the records it reads exactly as the SQLite one does.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Postgres, Transaction};

use super::rows::*;
use super::{Node, at, batch, notify, runs, work};
use crate::error::Result;
use crate::model::*;
use crate::record_log::AutomationLogEntry;
use crate::store::shared::{RecordMemory, record_key};
use crate::store::step_latency::{EndedSteps, StepLatency};
use crate::store::{ArtifactKey, PluginGrantRow, PluginVersionRow, StoreTx};

pub struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// Records known in this transaction.
    records: RecordMemory,
    /// Outbox items queued by `queue_outbox`, written before anything that could see them.
    outbox: Vec<OutboxItem>,
    /// This node: its notification channel and run lease.
    node: Arc<Node>,
    /// Automations or a sandbox switch changed: the commit moves the dispatch version and
    /// announces it.
    dispatch_changed: bool,
    /// Work was queued: the commit wakes the other nodes' workers.
    work_added: bool,
    /// Automation log entries queued by `queue_automation_log`, and the per-record cap.
    log: Vec<AutomationLogEntry>,
    log_cap: u32,
    /// The steps it ended, counted in the store's histogram once it commits.
    ended: EndedSteps,
}

impl PgTx {
    pub(super) fn new(
        tx: Transaction<'static, Postgres>,
        node: Arc<Node>,
        step_latency: Arc<StepLatency>,
    ) -> Self {
        PgTx {
            tx,
            records: RecordMemory::default(),
            outbox: Vec::new(),
            node,
            dispatch_changed: false,
            work_added: false,
            log: Vec::new(),
            log_cap: 0,
            ended: EndedSteps::new(step_latency),
        }
    }

    /// Moves the dispatch version and sends the notices this transaction owes; they are
    /// delivered when (and only if) it commits.
    async fn announce(&mut self) -> Result<()> {
        if self.dispatch_changed {
            sqlx::query("UPDATE dispatch_version SET version = version + 1 WHERE id = 1")
                .execute(&mut *self.tx)
                .await?;
            self.notify(notify::DISPATCH).await?;
        }
        if self.work_added {
            self.notify(notify::WORK).await?;
        }
        Ok(())
    }

    async fn notify(&mut self, payload: &str) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.node.channel)
            .bind(payload)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Writes the queued outbox items (one statement per chunk) and automation log
    /// entries (one insert and one cut per chunk).
    async fn flush_outbox(&mut self) -> Result<()> {
        if !self.log.is_empty() {
            let entries = std::mem::take(&mut self.log);
            super::record_log::write(&mut self.tx, &entries, self.log_cap).await?;
        }
        if self.outbox.is_empty() {
            return Ok(());
        }
        let items = std::mem::take(&mut self.outbox);
        batch::insert_outbox(&mut self.tx, &items).await
    }

    async fn exec(&mut self, sql: &'static str) -> Result<()> {
        sqlx::query(sql).execute(&mut *self.tx).await?;
        Ok(())
    }
}

impl StoreTx for PgTx {
    async fn commit(mut self) -> Result<()> {
        self.flush_outbox().await?;
        self.announce().await?;
        // PostgreSQL answers COMMIT of a transaction spoilt by a failed statement with a
        // silent rollback; this statement fails instead, so the caller hears of it.
        self.exec("SELECT 1").await?;
        self.tx.commit().await?;
        self.ended.committed();
        Ok(())
    }

    async fn savepoint(&mut self) -> Result<()> {
        self.flush_outbox().await?;
        self.exec("SAVEPOINT request").await?;
        self.ended.savepoint();
        Ok(())
    }

    async fn release_savepoint(&mut self) -> Result<()> {
        self.flush_outbox().await?;
        self.exec("RELEASE SAVEPOINT request").await?;
        self.ended.release_savepoint();
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> Result<()> {
        self.ended.rollback_to_savepoint();
        self.records.forget_all();
        self.outbox.clear();
        self.log.clear();
        self.exec("ROLLBACK TO SAVEPOINT request").await?;
        self.exec("RELEASE SAVEPOINT request").await
    }

    async fn insert_workspace(&mut self, w: &Workspace) -> Result<()> {
        sqlx::query("INSERT INTO workspaces (id, workspace_id, name, sandbox_active, created_at) VALUES ($1, $1, $2, $3, $4)")
            .bind(&w.id)
            .bind(&w.name)
            .bind(w.sandbox_active)
            .bind(at(w.created_at))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn set_sandbox_active(&mut self, ws: &str, on: bool) -> Result<bool> {
        self.dispatch_changed = true;
        let r = sqlx::query("UPDATE workspaces SET sandbox_active = $1 WHERE id = $2")
            .bind(on)
            .bind(ws)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_token(&mut self, t: &ApiToken, token_hash: &str) -> Result<()> {
        let (rate, burst) = rate_limit_columns(t.rate_limit);
        sqlx::query(
            "INSERT INTO api_tokens (id, workspace_id, name, token_hash, scopes, rate_per_second, rate_burst, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&t.id)
        .bind(&t.workspace_id)
        .bind(&t.name)
        .bind(token_hash)
        .bind(Json(&t.scopes))
        .bind(rate)
        .bind(burst)
        .bind(at(t.created_at))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn revoke_token(&mut self, ws: &str, id: &str, at_: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(at(at_))
        .bind(ws)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn automation(&mut self, ws: &str, id: &str) -> Result<Option<Automation>> {
        let sql = format!(
            "SELECT {AUTOMATION_COLS} FROM automations WHERE workspace_id = $1 AND id = $2"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(automation).transpose()
    }

    async fn insert_automation(&mut self, a: &Automation) -> Result<()> {
        self.dispatch_changed = true;
        let sql = format!(
            "INSERT INTO automations ({AUTOMATION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&a.id)
            .bind(&a.workspace_id)
            .bind(&a.name)
            .bind(a.status.as_str())
            .bind(a.environment.as_str())
            .bind(a.current_version)
            .bind(a.shadows_id.as_deref())
            .bind(at(a.created_at))
            .bind(at(a.updated_at))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn update_automation(&mut self, a: &Automation) -> Result<()> {
        self.dispatch_changed = true;
        sqlx::query(
            "UPDATE automations SET name = $1, status = $2, environment = $3, current_version = $4, shadows_id = $5, updated_at = $6 \
             WHERE workspace_id = $7 AND id = $8",
        )
        .bind(&a.name)
        .bind(a.status.as_str())
        .bind(a.environment.as_str())
        .bind(a.current_version)
        .bind(a.shadows_id.as_deref())
        .bind(at(a.updated_at))
        .bind(&a.workspace_id)
        .bind(&a.id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_version(&mut self, v: &AutomationVersion) -> Result<()> {
        // Bound as text and cast to json: jsonb would reorder the definition's keys.
        sqlx::query(
            "INSERT INTO automation_versions (workspace_id, automation_id, version, definition, status, environment, created_at) \
             VALUES ($1, $2, $3, $4::json, $5, $6, $7)",
        )
        .bind(&v.workspace_id)
        .bind(&v.automation_id)
        .bind(v.version)
        .bind(v.definition.to_string())
        .bind(v.status.as_str())
        .bind(v.environment.as_str())
        .bind(at(v.created_at))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn record(&mut self, ws: &str, object: &str, id: &str) -> Result<Option<Record>> {
        let key = record_key(ws, object, id);
        if let Some(known) = self.records.get(&key) {
            return Ok(known);
        }
        let sql = format!(
            "SELECT {RECORD_COLS} FROM records WHERE workspace_id = $1 AND object = $2 AND id = $3"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(object)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        let found = row.as_ref().map(record).transpose()?;
        self.records.read(key, found.clone());
        Ok(found)
    }

    async fn prefetch_records(&mut self, keys: &[(&str, &str, &str)]) -> Result<()> {
        let wanted = self.records.unknown(keys);
        if wanted.is_empty() {
            return Ok(());
        }
        let found = batch::records(&mut self.tx, &wanted).await?;
        for k in wanted {
            self.records.read(k, None);
        }
        for r in found {
            let key = record_key(&r.workspace_id, &r.object, &r.id);
            self.records.read(key, Some(r));
        }
        Ok(())
    }

    async fn insert_record(&mut self, r: &Record) -> Result<()> {
        let sql = format!("INSERT INTO records ({RECORD_COLS}) VALUES ($1, $2, $3, $4, $5, $6)");
        sqlx::query(AssertSqlSafe(sql))
            .bind(&r.workspace_id)
            .bind(&r.object)
            .bind(&r.id)
            .bind(Json(&r.fields))
            .bind(at(r.created_at))
            .bind(at(r.updated_at))
            .execute(&mut *self.tx)
            .await?;
        self.records.inserted(r);
        Ok(())
    }

    async fn update_record(&mut self, r: &Record) -> Result<()> {
        let res = sqlx::query(
            "UPDATE records SET fields = $1, updated_at = $2 WHERE workspace_id = $3 AND object = $4 AND id = $5",
        )
        .bind(Json(&r.fields))
        .bind(at(r.updated_at))
        .bind(&r.workspace_id)
        .bind(&r.object)
        .bind(&r.id)
        .execute(&mut *self.tx)
        .await?;
        self.records.updated(r, res.rows_affected() == 1);
        Ok(())
    }

    async fn delete_record(&mut self, ws: &str, object: &str, id: &str) -> Result<bool> {
        let r =
            sqlx::query("DELETE FROM records WHERE workspace_id = $1 AND object = $2 AND id = $3")
                .bind(ws)
                .bind(object)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
        self.records.deleted(ws, object, id);
        Ok(r.rows_affected() == 1)
    }

    async fn event(&mut self, ws: &str, id: &str) -> Result<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE workspace_id = $1 AND id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(event).transpose()
    }

    async fn events(&mut self, keys: &[(&str, &str)]) -> Result<Vec<Event>> {
        batch::events(&mut self.tx, keys).await
    }

    async fn version(
        &mut self,
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
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(version).transpose()
    }

    async fn automations(&mut self) -> Result<Vec<Automation>> {
        let sql = format!("SELECT {AUTOMATION_COLS} FROM automations ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(automation).collect()
    }

    async fn insert_event(&mut self, e: &Event) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO events (workspace_id, id, type, object, record_id, payload, causation, depth, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (workspace_id, id) DO NOTHING",
        )
        .bind(&e.workspace_id)
        .bind(&e.id)
        .bind(&e.event_type)
        .bind(e.object.as_deref())
        .bind(e.record_id.as_deref())
        .bind(e.payload.as_ref())
        .bind(Json(&e.causation))
        .bind(e.causation.len() as i64)
        .bind(at(e.created_at))
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_events(&mut self, events: &[Event]) -> Result<Vec<bool>> {
        if let [one] = events {
            return Ok(vec![self.insert_event(one).await?]);
        }
        batch::insert_events(&mut self.tx, events).await
    }

    async fn insert_run(&mut self, r: &Run) -> Result<bool> {
        self.work_added = true;
        runs::insert_run(&mut self.tx, r).await
    }

    async fn run(&mut self, ws: &str, id: &str) -> Result<Option<Run>> {
        runs::run_in_tx(&mut self.tx, ws, id).await
    }

    async fn update_run(&mut self, r: &Run) -> Result<()> {
        self.work_added |= r.status == RunStatus::Queued;
        runs::update_run(&mut self.tx, r, &self.node).await
    }

    async fn queued_runs(&mut self, limit: u32) -> Result<Vec<Run>> {
        runs::queued_runs(&mut self.tx, limit).await
    }

    async fn requeue_running(&mut self) -> Result<u64> {
        runs::requeue_running(&mut self.tx).await
    }

    async fn count_runs_on_record(
        &mut self,
        ws: &str,
        automation_id: &str,
        object: &str,
        record_id: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        runs::count_runs_on_record(&mut self.tx, ws, automation_id, object, record_id, since).await
    }

    async fn upsert_step(&mut self, ws: &str, run_id: &str, s: &StepRun) -> Result<()> {
        runs::upsert_step(&mut self.tx, ws, run_id, s).await?;
        self.ended.step(s);
        Ok(())
    }

    async fn end_runs(&mut self, ends: &[(&Run, &[StepRun])]) -> Result<()> {
        self.work_added |= ends.iter().any(|(r, _)| r.status == RunStatus::Queued);
        if ends.is_empty() {
            return Ok(());
        }
        batch::upsert_steps(&mut self.tx, ends).await?;
        self.ended.ends(ends);
        let runs: Vec<&Run> = ends.iter().map(|(r, _)| *r).collect();
        batch::update_runs(&mut self.tx, &runs, &self.node).await
    }

    async fn steps(&mut self, ws: &str, run_id: &str) -> Result<Vec<StepRun>> {
        runs::steps(&mut self.tx, ws, run_id).await
    }

    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        work::insert_task(&mut self.tx, t).await
    }

    async fn task(&mut self, ws: &str, id: &str) -> Result<Option<Task>> {
        work::task_in_tx(&mut self.tx, ws, id).await
    }

    async fn open_task_for_run(&mut self, ws: &str, run_id: &str) -> Result<Option<Task>> {
        work::open_task_for_run(&mut self.tx, ws, run_id).await
    }

    async fn transition_task(
        &mut self,
        ws: &str,
        id: &str,
        from: TaskStatus,
        to: TaskStatus,
        output: Option<&Value>,
        at_: DateTime<Utc>,
    ) -> Result<bool> {
        work::transition_task(&mut self.tx, ws, id, from, to, output, at_).await
    }

    async fn reassign_task(
        &mut self,
        ws: &str,
        id: &str,
        assignee: Option<&str>,
        queue: Option<&str>,
    ) -> Result<()> {
        work::reassign_task(&mut self.tx, ws, id, assignee, queue).await
    }

    async fn insert_timer(&mut self, t: &Timer) -> Result<()> {
        self.work_added = true;
        work::insert_timer(&mut self.tx, t).await
    }

    async fn due_timers(&mut self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Timer>> {
        work::due_timers(&mut self.tx, now, limit).await
    }

    async fn close_timer(&mut self, ws: &str, id: &str, status: &str) -> Result<bool> {
        work::close_timer(&mut self.tx, ws, id, status).await
    }

    async fn cancel_timers_for_run(&mut self, ws: &str, run_id: &str) -> Result<()> {
        work::cancel_timers_for_run(&mut self.tx, ws, run_id).await
    }

    async fn queue_outbox(&mut self, o: &OutboxItem) -> Result<()> {
        self.work_added = true;
        self.outbox.push(o.clone());
        Ok(())
    }

    async fn insert_outbox(&mut self, o: &OutboxItem) -> Result<bool> {
        self.work_added = true;
        self.flush_outbox().await?;
        work::insert_outbox(&mut self.tx, o).await
    }

    async fn claim_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        self.flush_outbox().await?;
        work::claim_outbox(&mut self.tx, now, lease_until, limit).await
    }

    async fn note_step_attempts(
        &mut self,
        ws: &str,
        run_id: &str,
        step_id: &str,
        attempts: i64,
        last_error: Option<&str>,
    ) -> Result<()> {
        runs::note_step_attempts(&mut self.tx, ws, run_id, step_id, attempts, last_error).await
    }

    async fn update_outbox(&mut self, items: &[OutboxItem]) -> Result<()> {
        self.flush_outbox().await?;
        batch::update_outbox(&mut self.tx, items).await
    }

    async fn insert_mail(&mut self, m: &MailboxMessage) -> Result<()> {
        work::insert_mail(&mut self.tx, m).await
    }

    async fn insert_notification(&mut self, n: &Notification) -> Result<()> {
        work::insert_notification(&mut self.tx, n).await
    }

    async fn mark_notifications_read(
        &mut self,
        ws: &str,
        id: Option<&str>,
        user_id: Option<&str>,
        at_: DateTime<Utc>,
    ) -> Result<u64> {
        work::mark_notifications_read(&mut self.tx, ws, id, user_id, at_).await
    }

    async fn insert_audit(&mut self, a: &AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (workspace_id, actor, actor_token_id, action, target_kind, target, details, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&a.workspace_id)
        .bind(&a.actor.name)
        .bind(a.actor.token_id.as_deref())
        .bind(a.action.as_str())
        .bind(a.action.target_kind())
        .bind(&a.target)
        .bind(&a.details)
        .bind(at(a.created_at))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_schema_extension(&mut self, e: &SchemaExtension) -> Result<i64> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO workspace_schema_extensions (workspace_id, extension, created_at) \
             VALUES ($1, $2::json, $3) RETURNING seq",
        )
        .bind(&e.workspace_id)
        .bind(e.extension.to_string())
        .bind(at(e.created_at))
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(seq)
    }

    async fn upsert_plugin_version(&mut self, v: &PluginVersionRow) -> Result<()> {
        super::plugins::upsert_version(&mut self.tx, v).await
    }

    async fn upsert_plugin_grant(&mut self, g: &PluginGrantRow) -> Result<()> {
        super::plugins::upsert_grant(&mut self.tx, g).await
    }

    async fn save_plugin_artifact(&mut self, key: ArtifactKey<'_>, artifact: &[u8]) -> Result<()> {
        super::plugins::save_artifact(&mut self.tx, key, artifact).await
    }

    fn queue_automation_log(&mut self, entry: AutomationLogEntry, per_record: u32) {
        self.log_cap = per_record;
        self.log.push(entry);
    }

    async fn sweep_automation_log(&mut self, before: DateTime<Utc>, limit: u32) -> Result<u64> {
        super::record_log::sweep(&mut self.tx, before, limit).await
    }

    async fn insert_backtest(&mut self, b: &crate::backtest::Backtest) -> Result<()> {
        super::history::insert(&mut self.tx, b, &self.node).await
    }

    async fn update_backtest(&mut self, b: &crate::backtest::Backtest) -> Result<bool> {
        super::history::update(&mut self.tx, b).await
    }

    async fn interrupt_backtests(&mut self, at: DateTime<Utc>) -> Result<u64> {
        super::history::interrupt(&mut self.tx, at, &self.node).await
    }

    async fn prune_record_history(&mut self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64> {
        super::history::prune(&mut self.tx, cutoff, batch).await
    }
}
