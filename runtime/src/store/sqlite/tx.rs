//! The SQLite write transaction ([`StoreTx`]). Every statement runs on the one writer
//! connection inside a `BEGIN IMMEDIATE` transaction.
//!
//! A deferred transaction ([`SqliteStore::begin_deferred`](super::SqliteStore)) takes the
//! connection and the lock at its first statement instead of at once. One that only holds
//! rows back (the group commit of record creates) takes them at its commit, and sends
//! `BEGIN IMMEDIATE`, its rows and `COMMIT` in one round trip: until then the connection
//! serves the other writers (outbox outcomes, claims) while the engine works out the rows.
//!
//! Records read or written through the transaction are remembered for its lifetime (a
//! read takes the lock first and the writer holds it to the end, so nothing else changes
//! them; a record created and still held back is nobody else's, and a clash of its key
//! fails the commit): reading one again costs no statement. A written record is remembered as a read would return it (stored JSON and
//! millisecond timestamps). Rolling back to a savepoint forgets them all.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, SqliteConnection};

use super::batch::Script;
use super::pending::Pending;
use super::rows::*;
use super::writer::{OpenTx, Writer};
use super::{batch, runs, work};
use crate::error::Result;
use crate::model::*;
use crate::record_log::AutomationLogEntry;
use crate::store::shared::{RecordMemory, record_key};
use crate::store::step_latency::{EndedSteps, StepLatency};
use crate::store::{ArtifactKey, PluginGrantRow, PluginVersionRow, StoreTx};

pub struct SqliteTx {
    /// The writer connection, for a transaction still deferred.
    writer: Writer,
    /// The transaction on the writer connection, once begun.
    tx: Option<OpenTx>,
    /// Records known in this transaction.
    records: RecordMemory,
    /// Rows held back until the next statement (see `pending.rs`).
    pending: Pending,
    /// Outbox items queued by `queue_outbox`, written before anything that could see them.
    outbox: Vec<OutboxItem>,
    /// Automation log entries queued by `queue_automation_log`, and the per-record cap.
    log: Vec<AutomationLogEntry>,
    log_cap: u32,
    /// The steps it ended, counted in the store's histogram once it commits.
    ended: EndedSteps,
}

impl SqliteTx {
    /// A transaction that begins at its first statement; `tx` when it began already.
    pub(super) fn new(writer: Writer, tx: Option<OpenTx>, step_latency: Arc<StepLatency>) -> Self {
        SqliteTx {
            writer,
            tx,
            records: RecordMemory::default(),
            pending: Pending::default(),
            outbox: Vec::new(),
            log: Vec::new(),
            ended: EndedSteps::new(step_latency),
            log_cap: 0,
        }
    }

    /// The connection for one statement, once the rows held back are written: whatever
    /// the statement reads or changes then sees them. Every statement of the transaction
    /// but those of commit and savepoints goes through here.
    async fn conn(&mut self) -> Result<&mut SqliteConnection> {
        let tx = begun(&self.writer, &mut self.tx).await?;
        self.pending.write(tx.conn()).await?;
        Ok(tx.conn())
    }

    /// The rows held back, then the queued automation log entries (one insert and one
    /// cut per chunk) and outbox items (one statement per chunk), added to `script`.
    fn take_held_back(&mut self, script: &mut Script) -> Result<()> {
        self.pending.take_into(script)?;
        let entries = std::mem::take(&mut self.log);
        super::record_log::write(script, &entries, self.log_cap)?;
        script.insert_outbox(&std::mem::take(&mut self.outbox))
    }

    /// What `commit` writes: the open transaction's rest and `COMMIT`, or for one never
    /// begun, `BEGIN IMMEDIATE`, what it held back and `COMMIT` in one round trip.
    async fn write_and_commit(&mut self) -> Result<()> {
        if self.tx.is_some() {
            self.flush_outbox().await?;
        }
        if let Some(tx) = self.tx.take() {
            return tx.commit().await;
        }
        if self.holds_nothing_back() {
            return Ok(());
        }
        let mut script = Script::default();
        script.statement("BEGIN IMMEDIATE");
        self.take_held_back(&mut script)?;
        script.statement("COMMIT");
        let tx = OpenTx::adopt(self.writer.acquire().await?);
        write_deferred(tx, script).await
    }

    fn holds_nothing_back(&self) -> bool {
        self.pending.is_empty() && self.log.is_empty() && self.outbox.is_empty()
    }

    /// Writes what is held back in one round trip.
    async fn flush_outbox(&mut self) -> Result<()> {
        if self.holds_nothing_back() {
            return Ok(());
        }
        let mut script = Script::default();
        self.take_held_back(&mut script)?;
        script
            .run(begun(&self.writer, &mut self.tx).await?.conn())
            .await
    }

    /// The statement `sql` (a savepoint's) on the transaction, begun if it was not.
    async fn run_on_tx(&mut self, sql: &'static str) -> Result<()> {
        let tx = begun(&self.writer, &mut self.tx).await?;
        sqlx::query(sql).execute(tx.conn()).await?;
        Ok(())
    }
}

/// The transaction on the writer connection, begun now if it was deferred.
async fn begun<'t>(writer: &Writer, tx: &'t mut Option<OpenTx>) -> Result<&'t mut OpenTx> {
    if tx.is_none() {
        *tx = Some(writer.begin().await?);
    }
    Ok(tx.as_mut().expect("the transaction began above"))
}

/// The write of a transaction that never began, on the writer connection it took:
/// `BEGIN IMMEDIATE`, what it held back and `COMMIT` (all in `script`) in one round trip.
/// A failed one is rolled back before the connection is given back; one dropped midway
/// is rolled back before anyone else gets the connection (`writer.rs`), since a
/// connection left inside a transaction would fail every later `BEGIN`.
async fn write_deferred(mut tx: OpenTx, script: Script) -> Result<()> {
    match script.run(tx.conn()).await {
        Ok(()) => {
            tx.settled();
            Ok(())
        }
        Err(e) => {
            tx.roll_back().await;
            Err(e)
        }
    }
}

impl StoreTx for SqliteTx {
    async fn commit(mut self) -> Result<()> {
        self.write_and_commit().await?;
        self.ended.committed();
        Ok(())
    }

    async fn savepoint(&mut self) -> Result<()> {
        self.flush_outbox().await?;
        self.run_on_tx("SAVEPOINT request").await?;
        self.ended.savepoint();
        Ok(())
    }

    async fn release_savepoint(&mut self) -> Result<()> {
        self.flush_outbox().await?;
        self.run_on_tx("RELEASE request").await?;
        self.ended.release_savepoint();
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> Result<()> {
        self.ended.rollback_to_savepoint();
        self.records.forget_all();
        self.pending.clear();
        self.outbox.clear();
        self.log.clear();
        self.run_on_tx("ROLLBACK TO request").await?;
        self.run_on_tx("RELEASE request").await
    }

    async fn insert_workspace(&mut self, w: &Workspace) -> Result<()> {
        sqlx::query("INSERT INTO workspaces (id, workspace_id, name, sandbox_active, created_at) VALUES (?1, ?1, ?2, ?3, ?4)")
            .bind(&w.id)
            .bind(&w.name)
            .bind(w.sandbox_active as i64)
            .bind(ts(w.created_at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn set_sandbox_active(&mut self, ws: &str, on: bool) -> Result<bool> {
        let r = sqlx::query("UPDATE workspaces SET sandbox_active = ? WHERE id = ?")
            .bind(on as i64)
            .bind(ws)
            .execute(self.conn().await?)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_token(&mut self, t: &ApiToken, token_hash: &str) -> Result<()> {
        let (rate, burst) = super::rows::rate_limit_columns(t.rate_limit);
        sqlx::query("INSERT INTO api_tokens (id, workspace_id, name, token_hash, scopes, rate_per_second, rate_burst, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(&t.id)
            .bind(&t.workspace_id)
            .bind(&t.name)
            .bind(token_hash)
            .bind(serde_json::to_string(&t.scopes)?)
            .bind(rate)
            .bind(burst)
            .bind(ts(t.created_at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn revoke_token(&mut self, ws: &str, id: &str, at: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL",
        )
        .bind(ts(at))
        .bind(ws)
        .bind(id)
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn automation(&mut self, ws: &str, id: &str) -> Result<Option<Automation>> {
        let sql =
            format!("SELECT {AUTOMATION_COLS} FROM automations WHERE workspace_id = ? AND id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(id)
            .fetch_optional(self.conn().await?)
            .await?;
        row.as_ref().map(automation).transpose()
    }

    async fn insert_automation(&mut self, a: &Automation) -> Result<()> {
        let sql = format!(
            "INSERT INTO automations ({AUTOMATION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&a.id)
            .bind(&a.workspace_id)
            .bind(&a.name)
            .bind(a.status.as_str())
            .bind(a.environment.as_str())
            .bind(a.current_version)
            .bind(a.shadows_id.as_deref())
            .bind(ts(a.created_at))
            .bind(ts(a.updated_at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn update_automation(&mut self, a: &Automation) -> Result<()> {
        sqlx::query(
            "UPDATE automations SET name = ?, status = ?, environment = ?, current_version = ?, shadows_id = ?, updated_at = ? \
             WHERE workspace_id = ? AND id = ?",
        )
        .bind(&a.name)
        .bind(a.status.as_str())
        .bind(a.environment.as_str())
        .bind(a.current_version)
        .bind(a.shadows_id.as_deref())
        .bind(ts(a.updated_at))
        .bind(&a.workspace_id)
        .bind(&a.id)
        .execute(self.conn().await?)
        .await?;
        Ok(())
    }

    async fn insert_version(&mut self, v: &AutomationVersion) -> Result<()> {
        sqlx::query(
            "INSERT INTO automation_versions (workspace_id, automation_id, version, definition, status, environment, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&v.workspace_id)
        .bind(&v.automation_id)
        .bind(v.version)
        .bind(v.definition.to_string())
        .bind(v.status.as_str())
        .bind(v.environment.as_str())
        .bind(ts(v.created_at))
        .execute(self.conn().await?)
        .await?;
        Ok(())
    }

    async fn record(&mut self, ws: &str, object: &str, id: &str) -> Result<Option<Record>> {
        let key = record_key(ws, object, id);
        if let Some(known) = self.records.get(&key) {
            return Ok(known);
        }
        let sql = format!(
            "SELECT {RECORD_COLS} FROM records WHERE workspace_id = ? AND object = ? AND id = ?"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(object)
            .bind(id)
            .fetch_optional(self.conn().await?)
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
        let found = batch::records(self.conn().await?, &wanted).await?;
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
        self.pending.insert_record(r)?;
        self.records.inserted(r);
        Ok(())
    }

    async fn update_record(&mut self, r: &Record) -> Result<()> {
        // A record this transaction knows to exist still does (the writer holds the
        // lock): its update is held back. Else the update says whether it found one.
        if self.records.holds(&r.workspace_id, &r.object, &r.id) {
            if self.pending.updates(&r.workspace_id, &r.object, &r.id) {
                let tx = begun(&self.writer, &mut self.tx).await?;
                self.pending.write(tx.conn()).await?;
            }
            self.pending.update_record(r)?;
            self.records.updated(r, true);
            return Ok(());
        }
        let fields = serde_json::to_string(&r.fields)?;
        let res = sqlx::query("UPDATE records SET fields = ?, updated_at = ? WHERE workspace_id = ? AND object = ? AND id = ?")
            .bind(&fields)
            .bind(ts(r.updated_at))
            .bind(&r.workspace_id)
            .bind(&r.object)
            .bind(&r.id)
            .execute(self.conn().await?)
            .await?;
        self.records.updated(r, res.rows_affected() == 1);
        Ok(())
    }

    async fn delete_record(&mut self, ws: &str, object: &str, id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM records WHERE workspace_id = ? AND object = ? AND id = ?")
            .bind(ws)
            .bind(object)
            .bind(id)
            .execute(self.conn().await?)
            .await?;
        self.records.deleted(ws, object, id);
        Ok(r.rows_affected() == 1)
    }

    async fn event(&mut self, ws: &str, id: &str) -> Result<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE workspace_id = ? AND id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ws)
            .bind(id)
            .fetch_optional(self.conn().await?)
            .await?;
        row.as_ref().map(event).transpose()
    }

    async fn events(&mut self, keys: &[(&str, &str)]) -> Result<Vec<Event>> {
        let keys: Vec<(String, String)> = keys
            .iter()
            .map(|(ws, id)| (ws.to_string(), id.to_string()))
            .collect();
        batch::events(self.conn().await?, &keys).await
    }

    async fn version(
        &mut self,
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
        .fetch_optional(self.conn().await?)
        .await?;
        row.as_ref().map(version).transpose()
    }

    async fn automations(&mut self) -> Result<Vec<Automation>> {
        let sql = format!("SELECT {AUTOMATION_COLS} FROM automations ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter().map(automation).collect()
    }

    async fn insert_event(&mut self, e: &Event) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO events (workspace_id, id, type, object, record_id, payload, causation, depth, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, id) DO NOTHING",
        )
        .bind(&e.workspace_id)
        .bind(&e.id)
        .bind(&e.event_type)
        .bind(e.object.as_deref())
        .bind(e.record_id.as_deref())
        .bind(json_text(&e.payload))
        .bind(serde_json::to_string(&e.causation)?)
        .bind(e.causation.len() as i64)
        .bind(ts(e.created_at))
        .execute(self.conn().await?)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_events(&mut self, events: &[Event]) -> Result<Vec<bool>> {
        // One event (every record creation): the plain insert is cheaper than a RETURNING
        // query read back row by row.
        if let [one] = events {
            return Ok(vec![self.insert_event(one).await?]);
        }
        batch::insert_events(self.conn().await?, events).await
    }

    async fn insert_generated_events(&mut self, events: &[Event]) -> Result<()> {
        self.pending.insert_events(events)
    }

    async fn insert_new_run(&mut self, r: &Run) -> Result<()> {
        self.pending.insert_run(r);
        Ok(())
    }

    async fn insert_run(&mut self, r: &Run) -> Result<bool> {
        runs::insert_run(self.conn().await?, r).await
    }

    async fn run(&mut self, ws: &str, id: &str) -> Result<Option<Run>> {
        runs::run_in_tx(self.conn().await?, ws, id).await
    }

    async fn update_run(&mut self, r: &Run) -> Result<()> {
        runs::update_run(self.conn().await?, r).await
    }

    async fn queued_runs(&mut self, limit: u32) -> Result<Vec<Run>> {
        runs::queued_runs(self.conn().await?, limit).await
    }

    async fn requeue_running(&mut self) -> Result<u64> {
        runs::requeue_running(self.conn().await?).await
    }

    async fn count_runs_on_record(
        &mut self,
        ws: &str,
        automation_id: &str,
        object: &str,
        record_id: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        runs::count_runs_on_record(
            self.conn().await?,
            ws,
            automation_id,
            object,
            record_id,
            since,
        )
        .await
    }

    async fn upsert_step(&mut self, ws: &str, run_id: &str, s: &StepRun) -> Result<()> {
        runs::upsert_step(self.conn().await?, ws, run_id, s).await?;
        self.ended.step(s);
        Ok(())
    }

    async fn end_runs(&mut self, ends: &[(&Run, &[StepRun])]) -> Result<()> {
        if ends.is_empty() {
            return Ok(());
        }
        let runs: Vec<&Run> = ends
            .iter()
            .map(|(r, _)| *r)
            .filter(|r| !self.pending.replace_run(r))
            .collect();
        // Nothing reads step rows before the next statement writes them.
        self.pending.upsert_steps(ends)?;
        self.ended.ends(ends);
        if runs.is_empty() {
            return Ok(());
        }
        batch::update_runs(self.conn().await?, &runs).await
    }

    async fn steps(&mut self, ws: &str, run_id: &str) -> Result<Vec<StepRun>> {
        runs::steps(self.conn().await?, ws, run_id).await
    }

    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        work::insert_task(self.conn().await?, t).await
    }

    async fn task(&mut self, ws: &str, id: &str) -> Result<Option<Task>> {
        work::task_in_tx(self.conn().await?, ws, id).await
    }

    async fn open_task_for_run(&mut self, ws: &str, run_id: &str) -> Result<Option<Task>> {
        work::open_task_for_run(self.conn().await?, ws, run_id).await
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
        work::transition_task(self.conn().await?, ws, id, from, to, output, at).await
    }

    async fn reassign_task(
        &mut self,
        ws: &str,
        id: &str,
        assignee: Option<&str>,
        queue: Option<&str>,
    ) -> Result<()> {
        work::reassign_task(self.conn().await?, ws, id, assignee, queue).await
    }

    async fn insert_timer(&mut self, t: &Timer) -> Result<()> {
        work::insert_timer(self.conn().await?, t).await
    }

    async fn due_timers(&mut self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Timer>> {
        work::due_timers(self.conn().await?, now, limit).await
    }

    async fn close_timer(&mut self, ws: &str, id: &str, status: &str) -> Result<bool> {
        work::close_timer(self.conn().await?, ws, id, status).await
    }

    async fn cancel_timers_for_run(&mut self, ws: &str, run_id: &str) -> Result<()> {
        work::cancel_timers_for_run(self.conn().await?, ws, run_id).await
    }

    async fn queue_outbox(&mut self, o: &OutboxItem) -> Result<()> {
        self.outbox.push(o.clone());
        Ok(())
    }

    async fn insert_outbox(&mut self, o: &OutboxItem) -> Result<bool> {
        self.flush_outbox().await?;
        work::insert_outbox(self.conn().await?, o).await
    }

    async fn claim_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        self.flush_outbox().await?;
        work::claim_outbox(self.conn().await?, now, lease_until, limit).await
    }

    async fn note_step_attempts(
        &mut self,
        ws: &str,
        run_id: &str,
        step_id: &str,
        attempts: i64,
        last_error: Option<&str>,
    ) -> Result<()> {
        runs::note_step_attempts(
            self.conn().await?,
            ws,
            run_id,
            step_id,
            attempts,
            last_error,
        )
        .await
    }

    async fn update_outbox(&mut self, items: &[OutboxItem]) -> Result<()> {
        self.flush_outbox().await?;
        batch::update_outbox(self.conn().await?, items).await
    }

    async fn insert_mail(&mut self, m: &MailboxMessage) -> Result<()> {
        work::insert_mail(self.conn().await?, m).await
    }

    async fn insert_notification(&mut self, n: &Notification) -> Result<()> {
        work::insert_notification(self.conn().await?, n).await
    }

    async fn mark_notifications_read(
        &mut self,
        ws: &str,
        id: Option<&str>,
        user_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        work::mark_notifications_read(self.conn().await?, ws, id, user_id, at).await
    }

    fn queue_automation_log(&mut self, entry: AutomationLogEntry, per_record: u32) {
        self.log_cap = per_record;
        self.log.push(entry);
    }

    async fn sweep_automation_log(&mut self, before: DateTime<Utc>, limit: u32) -> Result<u64> {
        super::record_log::sweep(self.conn().await?, before, limit).await
    }

    async fn insert_audit(&mut self, a: &AuditEntry) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (workspace_id, actor, actor_token_id, action, target_kind, target, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(&a.workspace_id)
            .bind(&a.actor.name)
            .bind(a.actor.token_id.as_deref())
            .bind(a.action.as_str())
            .bind(a.action.target_kind())
            .bind(&a.target)
            .bind(a.details.to_string())
            .bind(ts(a.created_at))
            .execute(self.conn().await?)
            .await?;
        Ok(())
    }

    async fn insert_schema_extension(&mut self, e: &SchemaExtension) -> Result<i64> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO workspace_schema_extensions (workspace_id, extension, created_at) VALUES (?, ?, ?) RETURNING seq",
        )
        .bind(&e.workspace_id)
        .bind(e.extension.to_string())
        .bind(ts(e.created_at))
        .fetch_one(self.conn().await?)
        .await?;
        Ok(seq)
    }

    async fn upsert_plugin_version(&mut self, v: &PluginVersionRow) -> Result<()> {
        super::plugins::upsert_version(self.conn().await?, v).await
    }

    async fn upsert_plugin_grant(&mut self, g: &PluginGrantRow) -> Result<()> {
        super::plugins::upsert_grant(self.conn().await?, g).await
    }

    async fn save_plugin_artifact(&mut self, key: ArtifactKey<'_>, artifact: &[u8]) -> Result<()> {
        super::plugins::save_artifact(self.conn().await?, key, artifact).await
    }

    async fn insert_backtest(&mut self, b: &crate::backtest::Backtest) -> Result<()> {
        super::history::insert(self.conn().await?, b).await
    }

    async fn update_backtest(&mut self, b: &crate::backtest::Backtest) -> Result<bool> {
        super::history::update(self.conn().await?, b).await
    }

    async fn interrupt_backtests(&mut self, at: DateTime<Utc>) -> Result<u64> {
        super::history::interrupt(self.conn().await?, at).await
    }

    async fn prune_record_history(&mut self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64> {
        super::history::prune(self.conn().await?, cutoff, batch).await
    }
}
