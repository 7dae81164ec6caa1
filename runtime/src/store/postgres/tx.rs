//! The PostgreSQL write transaction ([`StoreTx`]): a pooled writer connection inside
//! `BEGIN` plus the cluster-wide write lock (see the module above), so it may remember
//! the records it reads exactly as the SQLite one does.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Postgres, Transaction};

use super::rows::*;
use super::{Node, at, batch, notify, opt_at};
use crate::error::Result;
use crate::model::*;
use crate::record_log::AutomationLogEntry;
use crate::store::shared::{RecordMemory, record_key};
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
}

impl PgTx {
    pub(super) fn new(tx: Transaction<'static, Postgres>, node: Arc<Node>) -> Self {
        PgTx {
            tx,
            records: RecordMemory::default(),
            outbox: Vec::new(),
            node,
            dispatch_changed: false,
            work_added: false,
            log: Vec::new(),
            log_cap: 0,
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
        Ok(self.tx.commit().await?)
    }

    async fn savepoint(&mut self) -> Result<()> {
        self.flush_outbox().await?;
        self.exec("SAVEPOINT request").await
    }

    async fn release_savepoint(&mut self) -> Result<()> {
        self.flush_outbox().await?;
        self.exec("RELEASE SAVEPOINT request").await
    }

    async fn rollback_to_savepoint(&mut self) -> Result<()> {
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
        .bind(&e.payload)
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
        let sql = format!(
            "INSERT INTO runs ({RUN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (workspace_id, automation_id, event_id) DO NOTHING"
        );
        let res = sqlx::query(AssertSqlSafe(sql))
            .bind(&r.id)
            .bind(&r.workspace_id)
            .bind(&r.automation_id)
            .bind(r.version)
            .bind(&r.event_id)
            .bind(r.object.as_deref())
            .bind(r.record_id.as_deref())
            .bind(r.status.as_str())
            .bind(r.dry_run)
            .bind(r.pc)
            .bind(Json(&r.state))
            .bind(r.error.as_deref())
            .bind(r.error_code.map(RunErrorCode::as_str))
            .bind(at(r.created_at))
            .bind(opt_at(r.started_at))
            .bind(opt_at(r.finished_at))
            .bind(r.duration_ms)
            .execute(&mut *self.tx)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    async fn run(&mut self, ws: &str, id: &str) -> Result<Option<Run>> {
        let sql = format!("SELECT {RUN_COLS} FROM runs WHERE workspace_id = $1 AND id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(run).transpose()
    }

    async fn update_run(&mut self, r: &Run) -> Result<()> {
        self.work_added |= r.status == RunStatus::Queued;
        sqlx::query(
            "UPDATE runs SET status = $1, pc = $2, state = $3, error = $4, error_code = $5, started_at = $6, finished_at = $7, \
             duration_ms = $8, \
             locked_by = CASE WHEN $1 = 'running' THEN $11 END, \
             lease_until = CASE WHEN $1 = 'running' THEN now() + make_interval(secs => $12::float8 / 1000) END \
             WHERE workspace_id = $9 AND id = $10",
        )
        .bind(r.status.as_str())
        .bind(r.pc)
        .bind(Json(&r.state))
        .bind(r.error.as_deref())
        .bind(r.error_code.map(RunErrorCode::as_str))
        .bind(opt_at(r.started_at))
        .bind(opt_at(r.finished_at))
        .bind(r.duration_ms)
        .bind(&r.workspace_id)
        .bind(&r.id)
        .bind(&self.node.id)
        .bind(self.node.lease_ms as f64)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn queued_runs(&mut self, limit: u32) -> Result<Vec<Run>> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM runs WHERE status = 'queued' ORDER BY created_at, id LIMIT $1 \
             FOR UPDATE SKIP LOCKED"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(limit as i64)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(run).collect()
    }

    async fn requeue_running(&mut self) -> Result<u64> {
        // Only runs whose node stopped renewing: a live node's calls in flight stay its own.
        let r = sqlx::query(
            "UPDATE runs SET status = 'queued', locked_by = NULL, lease_until = NULL \
             WHERE status = 'running' AND (lease_until IS NULL OR lease_until < now())",
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected())
    }

    async fn count_runs_on_record(
        &mut self,
        ws: &str,
        automation_id: &str,
        object: &str,
        record_id: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM runs WHERE workspace_id = $1 AND automation_id = $2 AND object = $3 \
             AND record_id = $4 AND created_at >= $5",
        )
        .bind(ws)
        .bind(automation_id)
        .bind(object)
        .bind(record_id)
        .bind(at(since))
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(n)
    }

    async fn upsert_step(&mut self, ws: &str, run_id: &str, s: &StepRun) -> Result<()> {
        sqlx::query(
            "INSERT INTO steps (workspace_id, run_id, step_id, seq, type, status, started_at, finished_at, duration_ms, input, output, error, effects, logs, attempts, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (run_id, step_id) DO UPDATE SET seq = excluded.seq, status = excluded.status, \
             started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, \
             input = excluded.input, output = excluded.output, error = excluded.error, effects = excluded.effects, \
             logs = excluded.logs, attempts = excluded.attempts, last_error = excluded.last_error \
             WHERE steps.workspace_id = excluded.workspace_id",
        )
        .bind(ws)
        .bind(run_id)
        .bind(&s.id)
        .bind(s.seq)
        .bind(&s.step_type)
        .bind(s.status.as_str())
        .bind(opt_at(s.started_at))
        .bind(opt_at(s.finished_at))
        .bind(s.duration_ms)
        .bind(s.input.as_ref())
        .bind(s.output.as_ref())
        .bind(s.error.as_deref())
        .bind(Json(&s.effects))
        .bind(Json(&s.logs))
        .bind(s.attempts)
        .bind(s.last_error.as_deref())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn end_runs(&mut self, ends: &[(&Run, &[StepRun])]) -> Result<()> {
        self.work_added |= ends.iter().any(|(r, _)| r.status == RunStatus::Queued);
        if ends.is_empty() {
            return Ok(());
        }
        batch::upsert_steps(&mut self.tx, ends).await?;
        let runs: Vec<&Run> = ends.iter().map(|(r, _)| *r).collect();
        batch::update_runs(&mut self.tx, &runs, &self.node).await
    }

    async fn steps(&mut self, ws: &str, run_id: &str) -> Result<Vec<StepRun>> {
        let sql = format!(
            "SELECT {STEP_COLS} FROM steps WHERE workspace_id = $1 AND run_id = $2 ORDER BY seq"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(run_id)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(step).collect()
    }

    async fn insert_task(&mut self, t: &Task) -> Result<()> {
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
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn task(&mut self, ws: &str, id: &str) -> Result<Option<Task>> {
        let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE workspace_id = $1 AND id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(task).transpose()
    }

    async fn open_task_for_run(&mut self, ws: &str, run_id: &str) -> Result<Option<Task>> {
        let sql = format!(
            "SELECT {TASK_COLS} FROM tasks WHERE workspace_id = $1 AND run_id = $2 AND status = 'open' \
             ORDER BY id DESC LIMIT 1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(run_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(task).transpose()
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
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn reassign_task(
        &mut self,
        ws: &str,
        id: &str,
        assignee: Option<&str>,
        queue: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE tasks SET assignee = $1, queue = $2 WHERE workspace_id = $3 AND id = $4",
        )
        .bind(assignee)
        .bind(queue)
        .bind(ws)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_timer(&mut self, t: &Timer) -> Result<()> {
        self.work_added = true;
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
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn due_timers(&mut self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Timer>> {
        let rows = sqlx::query(
            "SELECT * FROM timers WHERE status = 'pending' AND fire_at <= $1 ORDER BY fire_at, id LIMIT $2 \
             FOR UPDATE SKIP LOCKED",
        )
        .bind(at(now))
        .bind(limit as i64)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(timer).collect()
    }

    async fn close_timer(&mut self, ws: &str, id: &str, status: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE timers SET status = $1 WHERE workspace_id = $2 AND id = $3 AND status = 'pending'",
        )
        .bind(status)
        .bind(ws)
        .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn cancel_timers_for_run(&mut self, ws: &str, run_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE timers SET status = 'cancelled' WHERE workspace_id = $1 AND run_id = $2 AND status = 'pending'",
        )
        .bind(ws)
        .bind(run_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn queue_outbox(&mut self, o: &OutboxItem) -> Result<()> {
        self.work_added = true;
        self.outbox.push(o.clone());
        Ok(())
    }

    async fn insert_outbox(&mut self, o: &OutboxItem) -> Result<bool> {
        self.work_added = true;
        self.flush_outbox().await?;
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
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn claim_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        self.flush_outbox().await?;
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
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(outbox).collect()
    }

    async fn note_step_attempts(
        &mut self,
        ws: &str,
        run_id: &str,
        step_id: &str,
        attempts: i64,
        last_error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE steps SET attempts = $1, last_error = $2 \
             WHERE workspace_id = $3 AND run_id = $4 AND step_id = $5",
        )
        .bind(attempts)
        .bind(last_error)
        .bind(ws)
        .bind(run_id)
        .bind(step_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_outbox(&mut self, items: &[OutboxItem]) -> Result<()> {
        self.flush_outbox().await?;
        batch::update_outbox(&mut self.tx, items).await
    }

    async fn insert_mail(&mut self, m: &MailboxMessage) -> Result<()> {
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
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_notification(&mut self, n: &Notification) -> Result<()> {
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
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn mark_notifications_read(
        &mut self,
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
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
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
