//! Storage behind a trait: [`Store`] (reads, on a reader pool) and [`StoreTx`] (one write
//! transaction, on the single writer).
//!
//! All SQL lives in one module per driver (`sqlite`, `postgres`); what is not SQL and the
//! same for every driver (paging, the transaction's memory of records, multi-row rules)
//! is in `shared`; `any` picks the driver from the URL. Nothing above this module builds
//! SQL. Every driver passes the one conformance suite (`runtime/tests/it/conformance`).
//!
//! Workspace invariant: every read or write of one workspace's rows by id takes the
//! workspace id and filters on it (rows passed whole, such as a `Run` to `update_run`,
//! carry theirs), so another workspace's id reads as missing and writes nothing. The only
//! queries that span workspaces are named so in their docs: the workers' claims
//! (`queued_runs`, `requeue_running`, `due_timers`, `claim_outbox`, `claim_outbox_alone`,
//! `due_work`), the dispatch index build (`automations`), start-up loads (`ws: None`),
//! operational counts (`count_runs`, `stats`), the automation log's retention sweep
//! (`sweep_automation_log`), authentication (`token_by_hash`, `workspace`,
//! `workspace_by_name`) and the precompiled plugin artifacts (shared by design).

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::backtest::Backtest;
use crate::error::{Result, RuntimeError};
use crate::model::*;
use crate::record_log::AutomationLogEntry;

pub mod any;
pub mod plugins;
pub mod postgres;
pub mod shared;
pub mod sqlite;
pub mod step_latency;

pub use plugins::{ArtifactKey, PluginGrantRow, PluginVersionRow};

pub use any::{AnyStore, AnyTx, StoreConfig};
pub use postgres::{PgConfig, PgStore};
pub use sqlite::{SqliteConfig, SqliteStore, Synchronous};
pub use step_latency::{STEP_LATENCY_BOUNDS_MS, StepLatencySnapshot};

/// What is waiting for a worker right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueWork {
    pub queued_runs: bool,
    pub due_timers: bool,
    pub due_outbox: bool,
}

/// A record as of an instant, and the span `[from, until)` over which it stays the same
/// (`None`: unbounded), so that a reader of many instants asks once per state.
#[derive(Debug, Clone, PartialEq)]
pub struct AsOf {
    pub record: Option<Record>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl AsOf {
    pub fn holds_at(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| f <= at) && self.until.is_none_or(|u| at < u)
    }
}

/// A change another process made to the shared database, announced by the driver
/// (PostgreSQL `LISTEN/NOTIFY`; SQLite has no other process and announces nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Runs were queued, timers set or outbox items written: wake the workers.
    Work,
    /// Automations changed (the dispatch version moved): rebuild the dispatch index.
    Dispatch,
}

/// Operational numbers over every workspace (the server's `/metrics`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreStats {
    /// (run status, count).
    pub runs_by_status: Vec<(String, i64)>,
    /// The steps this process's transactions ended, by duration (`step_latency`).
    pub step_latency: StepLatencySnapshot,
    /// (outbox kind, pending items).
    pub outbox_backlog: Vec<(String, i64)>,
}

/// Read access and the entry point of write transactions.
pub trait Store: Send + Sync + 'static {
    type Tx: StoreTx;

    /// Opens a write transaction (`BEGIN IMMEDIATE` on SQLite: the write lock is taken at
    /// once, so two writers never deadlock upgrading a read lock).
    fn begin(&self) -> impl Future<Output = Result<Self::Tx>> + Send;

    /// A write transaction that may take the write lock only at its first statement, or
    /// at its commit when it only held rows back (SQLite: then `BEGIN`, the rows and
    /// `COMMIT` go in one round trip, and the connection serves other writers meanwhile).
    /// Until its first statement it holds no lock: its caller must base nothing it writes
    /// on what it read elsewhere than through the transaction (the group commit reads
    /// only through it). A driver may begin it at once.
    fn begin_deferred(&self) -> impl Future<Output = Result<Self::Tx>> + Send {
        self.begin()
    }

    /// [`StoreTx::update_outbox`] as a write of its own (the outbox worker's delivery
    /// outcomes, one write per few deliveries). A driver may do it without an explicit
    /// transaction when a single statement does it (SQLite: two round trips to the
    /// connection's thread less, `BEGIN` and `COMMIT`).
    fn update_outbox_alone(&self, items: &[OutboxItem]) -> impl Future<Output = Result<()>> + Send {
        async move {
            let mut tx = self.begin().await?;
            tx.update_outbox(items).await?;
            tx.commit().await
        }
    }

    /// [`Self::update_outbox_alone`] of the items `gather` gives once the write can
    /// start: a driver with one writer connection calls it when the connection is its
    /// own, so that what ended while the write waited goes in the same statement.
    fn update_outbox_gathered<F>(&self, gather: F) -> impl Future<Output = Result<()>> + Send
    where
        F: FnOnce() -> Vec<OutboxItem> + Send,
    {
        async move { self.update_outbox_alone(&gather()).await }
    }

    /// [`StoreTx::claim_outbox`] as a write of its own (the outbox worker's claim, of every
    /// workspace). A driver may do it without an explicit transaction when a single
    /// statement does it (SQLite: one round trip to the connection's thread instead of
    /// three).
    fn claim_outbox_alone(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxItem>>> + Send {
        async move {
            let mut tx = self.begin().await?;
            let items = tx.claim_outbox(now, lease_until, limit).await?;
            tx.commit().await?;
            Ok(items)
        }
    }

    fn workspace(&self, id: &str) -> impl Future<Output = Result<Option<Workspace>>> + Send;
    fn workspace_by_name(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Workspace>>> + Send;
    /// The token whose hash is `token_hash` (revoked tokens are not returned).
    fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<ApiToken>>> + Send;

    fn automation(
        &self,
        ws: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Automation>>> + Send;
    /// Automations of one workspace, or of all workspaces when `ws` is `None`; newest
    /// first (`created_at`, then `id`, descending).
    fn automations(&self, ws: Option<&str>)
    -> impl Future<Output = Result<Vec<Automation>>> + Send;
    fn versions(
        &self,
        ws: &str,
        automation_id: &str,
    ) -> impl Future<Output = Result<Vec<AutomationVersion>>> + Send;
    fn version(
        &self,
        ws: &str,
        automation_id: &str,
        version: i64,
    ) -> impl Future<Output = Result<Option<AutomationVersion>>> + Send;
    /// The current version of every automation of every workspace, a page at a time (the
    /// dispatch index build at start compiles them all): up to `limit` of them, by
    /// workspace and automation id, after the (workspace, automation id) `after`.
    fn current_versions(
        &self,
        after: Option<(&str, &str)>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AutomationVersion>>> + Send;

    fn record(
        &self,
        ws: &str,
        object: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Record>>> + Send;
    /// Records of `object` whose fields equal every pair of `equals`; ordered by id.
    fn query_records(
        &self,
        ws: &str,
        object: &str,
        equals: &Map<String, Value>,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<Record>>> + Send;

    /// A run with its steps.
    fn run(&self, ws: &str, id: &str) -> impl Future<Output = Result<Option<Run>>> + Send;
    /// Runs without their steps, newest first (`created_at`, then `id`); the cursor is the
    /// id of the last run of the previous page (`NotFound("cursor")` when it names none).
    /// Tasks and outbox items page the same way.
    fn runs(&self, ws: &str, filter: &RunFilter) -> impl Future<Output = Result<Page<Run>>> + Send;
    /// Every run of an event (tests and the API's event view).
    fn runs_for_event(
        &self,
        ws: &str,
        event_id: &str,
    ) -> impl Future<Output = Result<Vec<Run>>> + Send;
    /// Runs of every workspace (operational count).
    fn count_runs(&self, status: Option<RunStatus>) -> impl Future<Output = Result<i64>> + Send;
    /// Over every workspace (`/metrics`): runs by status and outbox backlog from the
    /// database, the latency of the steps this store's transactions ended (`step_latency`).
    fn stats(&self) -> impl Future<Output = Result<StoreStats>> + Send;
    /// Cheap read-only probe used by idle workers before they take the write lock (spans
    /// workspaces, like the claims it precedes).
    fn due_work(&self, now: DateTime<Utc>) -> impl Future<Output = Result<DueWork>> + Send;
    /// The dispatch version: a counter every committed change to automations (or to a
    /// workspace's sandbox switch) moves, so a node knows whether its in-memory dispatch
    /// index is current. Always 0 on SQLite (one process owns the file).
    fn dispatch_version(&self) -> impl Future<Output = Result<i64>> + Send;
    /// Changes announced by other processes on the same database, or `None` when the
    /// driver has no other process to hear from (SQLite).
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<Change>>;
    /// Extends the lease of every run this node left `running` (waiting for a plugin
    /// call); returns how many. Nothing to do on SQLite (no other node takes runs over).
    fn renew_leases(&self) -> impl Future<Output = Result<u64>> + Send;

    fn task(&self, ws: &str, id: &str) -> impl Future<Output = Result<Option<Task>>> + Send;
    fn tasks(
        &self,
        ws: &str,
        filter: &TaskFilter,
    ) -> impl Future<Output = Result<Page<Task>>> + Send;
    fn outbox(
        &self,
        ws: &str,
        filter: &OutboxFilter,
    ) -> impl Future<Output = Result<Page<OutboxItem>>> + Send;
    fn mailbox(&self, ws: &str) -> impl Future<Output = Result<Vec<MailboxMessage>>> + Send;
    fn notifications(
        &self,
        ws: &str,
        user_id: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Notification>>> + Send;
    fn event(&self, ws: &str, id: &str) -> impl Future<Output = Result<Option<Event>>> + Send;
    fn notification(
        &self,
        ws: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Notification>>> + Send;
    /// Unread first, then newest first (`created_at`, `id`); the cursor is the id of the
    /// last item of the previous page (`NotFound("cursor")` when it names none).
    fn notification_page(
        &self,
        ws: &str,
        filter: &NotificationFilter,
    ) -> impl Future<Output = Result<Page<Notification>>> + Send;
    /// The `custom.<name>` event types of a workspace: those recorded and those its stored
    /// automations trigger on, sorted, at most `limit`.
    fn custom_event_types(
        &self,
        ws: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// Audit entries, newest (highest id) first; the cursor is the id of the last entry
    /// of the previous page (`NotFound("cursor")` when it names none of the workspace).
    fn audit_log(
        &self,
        ws: &str,
        filter: &AuditFilter,
    ) -> impl Future<Output = Result<Page<AuditEntry>>> + Send;
    /// The automation log of one record, newest first; the cursor is the event id of the
    /// last entry of the previous page (`NotFound("cursor")` when it names none of this
    /// record's entries).
    fn automation_log(
        &self,
        ws: &str,
        object: &str,
        record_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<AutomationLogEntry>>> + Send;
    /// Tokens (revoked ones included) of workspace `ws`, or of every workspace; oldest first.
    fn tokens(&self, ws: Option<&str>) -> impl Future<Output = Result<Vec<ApiToken>>> + Send;
    /// A trivial query: the database answers (readiness).
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;

    /// Schema extensions of one workspace, or of every workspace when `ws` is `None`;
    /// ordered by `seq` (the order they must be applied in).
    fn schema_extensions(
        &self,
        ws: Option<&str>,
    ) -> impl Future<Output = Result<Vec<SchemaExtension>>> + Send;

    /// Uploaded plugin versions of workspace `ws` (every workspace when `None`: the
    /// server loads them all on start), oldest upload first within a plugin.
    fn plugin_versions(
        &self,
        ws: Option<&str>,
    ) -> impl Future<Output = Result<Vec<PluginVersionRow>>> + Send;
    /// Admin grants of workspace `ws` (every workspace when `None`).
    fn plugin_grants(
        &self,
        ws: Option<&str>,
    ) -> impl Future<Output = Result<Vec<PluginGrantRow>>> + Send;
    /// The precompiled artifact stored under `key`, if any.
    fn plugin_artifact(
        &self,
        key: ArtifactKey<'_>,
    ) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;

    /// The record as it was at `at` (record history, migration 0011): its last state
    /// written at or before `at` (`None` when it did not exist then, was deleted, or that
    /// part of its history was pruned), and the span over which that answer holds.
    fn record_as_of(
        &self,
        ws: &str,
        object: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<AsOf>> + Send;
    /// History rows of workspace `ws`, or of every workspace (tests, operations).
    fn count_record_history(&self, ws: Option<&str>) -> impl Future<Output = Result<i64>> + Send;
    /// Events of type `event_type` created in `[from, to)`, in the order they were stored
    /// (the store's sequence), after the position `after`; each with its position.
    fn events_between(
        &self,
        ws: &str,
        event_type: &str,
        range: (DateTime<Utc>, DateTime<Utc>),
        after: Option<i64>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(i64, Event)>>> + Send;
    fn backtest(&self, ws: &str, id: &str)
    -> impl Future<Output = Result<Option<Backtest>>> + Send;
    /// Backtests of one automation, newest first (`created_at`, `id`), without their
    /// results; the cursor is the id of the last one of the previous page.
    fn backtests(
        &self,
        ws: &str,
        automation_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<Backtest>>> + Send;
    /// Backtests of `ws` queued or running.
    fn count_active_backtests(&self, ws: &str) -> impl Future<Output = Result<i64>> + Send;
}

/// One write transaction. Dropping it without [`StoreTx::commit`] rolls it back.
pub trait StoreTx: Send {
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
    /// Savepoints let one transaction carry several independent requests (group commit):
    /// a failing request rolls back to its savepoint without touching the others.
    fn savepoint(&mut self) -> impl Future<Output = Result<()>> + Send;
    fn release_savepoint(&mut self) -> impl Future<Output = Result<()>> + Send;
    fn rollback_to_savepoint(&mut self) -> impl Future<Output = Result<()>> + Send;

    fn insert_workspace(&mut self, w: &Workspace) -> impl Future<Output = Result<()>> + Send;
    fn set_sandbox_active(
        &mut self,
        ws: &str,
        on: bool,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn insert_token(
        &mut self,
        t: &ApiToken,
        token_hash: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Revokes a token of workspace `ws`; false when there is no such unrevoked token.
    fn revoke_token(
        &mut self,
        ws: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool>> + Send;

    fn automation(
        &mut self,
        ws: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Automation>>> + Send;
    fn insert_automation(&mut self, a: &Automation) -> impl Future<Output = Result<()>> + Send;
    fn update_automation(&mut self, a: &Automation) -> impl Future<Output = Result<()>> + Send;
    fn insert_version(&mut self, v: &AutomationVersion) -> impl Future<Output = Result<()>> + Send;

    fn record(
        &mut self,
        ws: &str,
        object: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Record>>> + Send;
    /// Reads the records named by `keys` (workspace, object, id) in one go, so that the
    /// following [`StoreTx::record`] calls for them cost no statement.
    fn prefetch_records(
        &mut self,
        keys: &[(&str, &str, &str)],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Inserts a record that does not exist. A driver may hold the row back until the
    /// transaction's next statement (every later read sees it), so a duplicate fails at
    /// the latest at commit; callers check for one first where a request may name it.
    fn insert_record(&mut self, r: &Record) -> impl Future<Output = Result<()>> + Send;
    /// Writes a record's fields and `updated_at` (`created_at` is never rewritten); no row
    /// when it does not exist. Held back like an insert when the transaction knows the
    /// record exists.
    fn update_record(&mut self, r: &Record) -> impl Future<Output = Result<()>> + Send;
    fn delete_record(
        &mut self,
        ws: &str,
        object: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    fn event(&mut self, ws: &str, id: &str) -> impl Future<Output = Result<Option<Event>>> + Send;
    /// The events named by (workspace, id); absent ones are left out, order unspecified.
    fn events(&mut self, keys: &[(&str, &str)]) -> impl Future<Output = Result<Vec<Event>>> + Send;
    fn version(
        &mut self,
        ws: &str,
        automation_id: &str,
        version: i64,
    ) -> impl Future<Output = Result<Option<AutomationVersion>>> + Send;
    /// Automations of every workspace (dispatch index build; spans workspaces).
    fn automations(&mut self) -> impl Future<Output = Result<Vec<Automation>>> + Send;

    /// False when an event with the same workspace and id exists (idempotent acceptance).
    fn insert_event(&mut self, e: &Event) -> impl Future<Output = Result<bool>> + Send;

    /// [`StoreTx::insert_event`] for several events in one statement: per event, whether
    /// it was inserted (false when already stored or repeated earlier in `events`).
    fn insert_events(&mut self, events: &[Event])
    -> impl Future<Output = Result<Vec<bool>>> + Send;

    /// Stores events whose ids were generated for them by this transaction (a record
    /// write's events): new by construction, so there is no answer to wait for. A driver
    /// may hold them back and write them with the next statement, in one statement for
    /// many. A duplicate id is an error (at the latest at commit), never a skipped event.
    fn insert_generated_events(
        &mut self,
        events: &[Event],
    ) -> impl Future<Output = Result<()>> + Send {
        async move {
            let inserted = self.insert_events(events).await?;
            match events.iter().zip(inserted).find(|(_, new)| !new) {
                Some((e, _)) => Err(RuntimeError::Corrupt(format!(
                    "generated event id {} is already stored",
                    e.id
                ))),
                None => Ok(()),
            }
        }
    }

    /// False when the run for this (workspace, automation, event) already exists.
    fn insert_run(&mut self, r: &Run) -> impl Future<Output = Result<bool>> + Send;
    /// [`StoreTx::insert_run`] for a run of an event stored by
    /// [`StoreTx::insert_generated_events`] in this transaction: no run of that event can
    /// exist, so a driver may hold it back like those events.
    fn insert_new_run(&mut self, r: &Run) -> impl Future<Output = Result<()>> + Send {
        async move {
            match self.insert_run(r).await? {
                true => Ok(()),
                false => Err(RuntimeError::Corrupt(format!(
                    "run {} of a new event already exists",
                    r.id
                ))),
            }
        }
    }
    /// A run without steps.
    fn run(&mut self, ws: &str, id: &str) -> impl Future<Output = Result<Option<Run>>> + Send;
    /// Writes the run's state; only the row of `r.workspace_id` with `r.id` (none when the
    /// run is another workspace's).
    fn update_run(&mut self, r: &Run) -> impl Future<Output = Result<()>> + Send;
    /// The oldest queued runs of every workspace (the executor's claim).
    fn queued_runs(&mut self, limit: u32) -> impl Future<Output = Result<Vec<Run>>> + Send;
    /// Marks `running` runs `queued` again, in every workspace, so they resume from their
    /// last committed step; returns how many. SQLite: every one (crash recovery at start:
    /// the process is the only one). PostgreSQL: those whose lease lapsed (their node
    /// died), so a node may call it at any time (takeover).
    fn requeue_running(&mut self) -> impl Future<Output = Result<u64>> + Send;
    /// Runs of `automation_id` on one record created at or after `since` (loop rate cap).
    fn count_runs_on_record(
        &mut self,
        ws: &str,
        automation_id: &str,
        object: &str,
        record_id: &str,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Inserts or replaces a step row of run `run_id` of workspace `ws`; a row of the same
    /// (run, step) in another workspace is left as it is.
    fn upsert_step(
        &mut self,
        ws: &str,
        run_id: &str,
        s: &StepRun,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Ends drives of distinct runs: upserts their step rows (a step id given twice for a
    /// run keeps its last row) and updates the runs, as [`StoreTx::upsert_step`] and
    /// [`StoreTx::update_run`] would, in one statement each for the lot.
    fn end_runs(&mut self, ends: &[(&Run, &[StepRun])]) -> impl Future<Output = Result<()>> + Send;
    fn steps(
        &mut self,
        ws: &str,
        run_id: &str,
    ) -> impl Future<Output = Result<Vec<StepRun>>> + Send;

    fn insert_task(&mut self, t: &Task) -> impl Future<Output = Result<()>> + Send;
    fn task(&mut self, ws: &str, id: &str) -> impl Future<Output = Result<Option<Task>>> + Send;
    fn open_task_for_run(
        &mut self,
        ws: &str,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<Task>>> + Send;
    /// Moves a task from `from` to `to` (with output); false when it was not in `from`:
    /// the compare-and-set that makes completion happen exactly once.
    fn transition_task(
        &mut self,
        ws: &str,
        id: &str,
        from: TaskStatus,
        to: TaskStatus,
        output: Option<&Value>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn reassign_task(
        &mut self,
        ws: &str,
        id: &str,
        assignee: Option<&str>,
        queue: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;

    fn insert_timer(&mut self, t: &Timer) -> impl Future<Output = Result<()>> + Send;
    /// Pending timers due at `now`, of every workspace (the timer worker's claim).
    fn due_timers(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Timer>>> + Send;
    /// Closes a pending timer (`fired` or `cancelled`); false when it was not pending.
    fn close_timer(
        &mut self,
        ws: &str,
        id: &str,
        status: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn cancel_timers_for_run(
        &mut self,
        ws: &str,
        run_id: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// [`StoreTx::insert_outbox`], deferred: the item is written (nothing when its
    /// idempotency key is taken) with the other queued ones in one statement, before the
    /// transaction commits and before any savepoint or outbox operation of the transaction.
    fn queue_outbox(&mut self, o: &OutboxItem) -> impl Future<Output = Result<()>> + Send;
    /// False when an item with the same idempotency key exists (never enqueued twice).
    fn insert_outbox(&mut self, o: &OutboxItem) -> impl Future<Output = Result<bool>> + Send;
    /// Pending items due at `now` of every workspace, oldest first (the outbox worker's
    /// claim); their `next_attempt_at` is pushed to `lease_until` so that a concurrent
    /// worker does not take them too.
    fn claim_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxItem>>> + Send;
    /// Writes the delivery state of items (status, attempts, last error, next attempt,
    /// delivery time) in as few statements as the driver allows; each only to the row of
    /// its `workspace_id` and `id`.
    fn update_outbox(&mut self, items: &[OutboxItem]) -> impl Future<Output = Result<()>> + Send;
    /// Sets a step's `attempts` and `last_error` (the tries of the delivery it queued
    /// under its retry policy); a step of another workspace is left alone.
    fn note_step_attempts(
        &mut self,
        ws: &str,
        run_id: &str,
        step_id: &str,
        attempts: i64,
        last_error: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn insert_mail(&mut self, m: &MailboxMessage) -> impl Future<Output = Result<()>> + Send;

    fn insert_notification(&mut self, n: &Notification) -> impl Future<Output = Result<()>> + Send;
    /// Marks unread notifications read at `at`: the one `id`, or all of `user_id`, or
    /// both filters together. Returns how many changed; already read ones keep their time.
    fn mark_notifications_read(
        &mut self,
        ws: &str,
        id: Option<&str>,
        user_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Queues an automation log entry, written (multi-row) before the transaction commits
    /// or takes a savepoint; the entries of each record it touches are then cut to the
    /// newest `per_record`. Rolling back to a savepoint drops what was queued after it.
    fn queue_automation_log(&mut self, entry: AutomationLogEntry, per_record: u32);
    /// Deletes automation log entries created before `before`, at most `limit` of them,
    /// across every workspace (the retention sweep); returns how many.
    fn sweep_automation_log(
        &mut self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Appends to the audit log (its `id` is the store's); nothing ever updates or deletes it.
    fn insert_audit(&mut self, a: &AuditEntry) -> impl Future<Output = Result<()>> + Send;

    /// Appends an extension to the schema of `e.workspace_id` (its `seq` is ignored);
    /// returns the `seq` the store gave it.
    fn insert_schema_extension(
        &mut self,
        e: &SchemaExtension,
    ) -> impl Future<Output = Result<i64>> + Send;

    /// Stores a plugin version; the same (workspace, name, version) again replaces it.
    fn upsert_plugin_version(
        &mut self,
        v: &PluginVersionRow,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Stores what an admin grants a plugin, replacing the previous grant.
    fn upsert_plugin_grant(
        &mut self,
        g: &PluginGrantRow,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Stores a precompiled artifact (trusted storage: only the host's own compile output).
    fn save_plugin_artifact(
        &mut self,
        key: ArtifactKey<'_>,
        artifact: &[u8],
    ) -> impl Future<Output = Result<()>> + Send;

    fn insert_backtest(&mut self, b: &Backtest) -> impl Future<Output = Result<()>> + Send;
    /// Writes a backtest's status, progress, result and times, only while the stored row
    /// is queued or running (of `b.workspace_id`); false when it had already ended.
    fn update_backtest(&mut self, b: &Backtest) -> impl Future<Output = Result<bool>> + Send;
    /// Fails every queued or running backtest of every workspace whose process is gone
    /// (start-up; on a shared database only those of nodes that stopped renewing their
    /// leases); returns how many.
    fn interrupt_backtests(
        &mut self,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Deletes at most `batch` record history rows that no read at or after `cutoff` can
    /// return (spans workspaces: the retention is the server's); returns how many.
    fn prune_record_history(
        &mut self,
        cutoff: DateTime<Utc>,
        batch: u32,
    ) -> impl Future<Output = Result<u64>> + Send;
}
