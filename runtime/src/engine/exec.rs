//! The executor: drives runs through their plan, one op at a time, inside write
//! transactions that also hold the steps' effects. A batch of queued runs shares one
//! transaction (group commit); a crash before commit loses only uncommitted steps, which
//! are executed again from the run's committed `pc` — their effects were never applied.
//! The runs an API write queues mostly start in that write's own transaction instead
//! (`Engine::start_in_write`); the queue takes the rest.
//! Plugin calls never run inside that transaction (see `plugin_calls`): a run reaching one
//! commits as `running` and comes back to the queue when the call returns.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::Engine;
use super::context::{event_context_taking_payload, load_related, plan_reference_paths};
use super::effects::{StepError, StepScope};
use super::exec_plan::CompiledOp;
use crate::error::{Result, RuntimeError};
use crate::expr;
use crate::model::*;
use crate::plan::{ActionStep, Op};
use crate::secrets;
use crate::store::{Store, StoreTx};
use automations_compiler::catalog::ActionKind;
use automations_compiler::retry::{ErrorClass, RetryPolicy, retries_delivery};
use rand::Rng;

/// What an action did.
pub(crate) enum ActionResult {
    Done {
        input: Value,
        output: Value,
        effects: Vec<Effect>,
        /// What a plugin logged (empty for built-in actions).
        logs: Vec<StepLog>,
    },
    /// The run parks (`waiting`) on this step: a human task or a timer.
    Park { input: Value, effects: Vec<Effect> },
    /// A plugin call was started outside the transaction: the run stays `running` (the
    /// queue skips it) until the call re-queues it.
    Pending { input: Value },
}

/// How the executor makes plugin calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PluginMode {
    /// In the background, outside the transaction (the queue's runs).
    Deferred,
    /// Awaited in place (a single `test` dry-run, which holds no batch of other runs).
    Inline,
}

/// A step's evaluated params: language values (for durations and dates) and their JSON.
pub(crate) struct Params {
    pub values: Vec<(String, automations_compiler::value::Value)>,
    pub json: Map<String, Value>,
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.json.get(name).filter(|v| !v.is_null())
    }
    pub fn str(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
    pub fn value(&self, name: &str) -> Option<&automations_compiler::value::Value> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn calls_plugin(ops: &[Op]) -> bool {
    ops.iter()
        .any(|op| matches!(op, Op::Action { step, .. } if step.action == ActionKind::Plugin))
}

fn step_type(op: &Op) -> &str {
    match op {
        Op::Action { step, .. } => step.action.as_str(),
        Op::Branch { .. } => "if",
    }
}

pub(crate) fn finish_step(step: &mut StepRun, status: StepStatus) {
    let now = Utc::now();
    step.status = status;
    step.finished_at = Some(now);
    step.duration_ms = step.started_at.map(|s| (now - s).num_milliseconds());
}

pub(crate) fn finish_run(run: &mut Run, status: RunStatus, error: Option<(RunErrorCode, String)>) {
    let now = Utc::now();
    run.status = status;
    run.finished_at = Some(now);
    run.duration_ms = run.started_at.map(|s| (now - s).num_milliseconds().max(0));
    if let Some((code, message)) = error {
        run.error_code = Some(code);
        run.error = Some(message);
    }
}

impl<S: Store> Engine<S> {
    /// Executes up to `run_batch` queued runs in one write transaction; returns how many.
    pub async fn run_queued_once(&self) -> Result<usize> {
        // Idle rounds must not take the write lock from API writers.
        if !self.inner.store.due_work(Utc::now()).await?.queued_runs {
            return Ok(0);
        }
        let mut tx = self.inner.store.begin().await?;
        let runs = tx.queued_runs(self.inner.config.run_batch).await?;
        let n = runs.len();
        let mut events = prefetch(&mut tx, &runs).await?;
        let batch = runs.into_iter().map(|run| {
            let event = events.remove(&(run.workspace_id.clone(), run.event_id.clone()));
            (run, event)
        });
        self.drive_batch(&mut tx, batch.collect()).await?;
        tx.commit().await?;
        if n > 0 {
            self.inner.wake_outbox.notify_one();
        }
        Ok(n)
    }

    /// Drives a batch of runs (each with its event when it was read) inside `tx` and writes
    /// where they ended. Nothing in the batch reads run or step rows back, so they are
    /// written all at once.
    async fn drive_batch(&self, tx: &mut S::Tx, batch: Vec<(Run, Option<Event>)>) -> Result<()> {
        let mut ended = Vec::with_capacity(batch.len());
        for (run, event) in batch {
            ended.push(
                self.drive_with(tx, run, event, PluginMode::Deferred)
                    .await?,
            );
        }
        let ends: Vec<(&Run, &[StepRun])> =
            ended.iter().map(|e| (&e.run, e.steps.as_slice())).collect();
        tx.end_runs(&ends).await
    }

    /// Starts runs that an API write just queued in that write's own transaction, as an
    /// after-save flow runs with its save: each goes as far as the queue would have taken
    /// it (done, failed or parked), and the group's one commit stores the write, its runs'
    /// steps and their outbox items together. At most `run_batch` of them; a run whose
    /// plan calls a plugin stays queued (a call must not start from a transaction that may
    /// still roll back), and so do the runs these runs' own writes queue (a cascade is
    /// the queue's). Returns how many ran.
    pub(crate) async fn start_in_write(
        &self,
        tx: &mut S::Tx,
        queued: Vec<(Run, Event)>,
    ) -> Result<usize> {
        let mut batch = Vec::with_capacity(queued.len());
        for (run, event) in queued {
            if batch.len() >= self.inner.config.run_batch as usize {
                break;
            }
            let exec = self
                .exec_plan_in_tx(tx, &run.workspace_id, &run.automation_id, run.version)
                .await;
            if exec.is_ok_and(|e| !calls_plugin(&e.plan.ops)) {
                batch.push((run, Some(event)));
            }
        }
        let n = batch.len();
        self.drive_batch(tx, batch).await?;
        Ok(n)
    }

    /// Executes queued runs and due timers until there is nothing left to do now, waiting
    /// for this process's plugin calls in flight (their runs come back to the queue).
    pub async fn run_until_idle(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            // Read before the round: a call settled after this read re-queued its run
            // before the round looked at the queue.
            let unsettled = self.inner.plugin_calls.unsettled();
            let n = self.run_queued_once().await? + self.fire_due_timers().await?;
            if n == 0 {
                if unsettled == 0 {
                    return Ok(total);
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            total += n;
        }
    }

    /// Runs one run forward from its `pc` until it completes, fails, parks, or waits for
    /// a plugin call (then it stays `running` with `pc` at the plugin step).
    pub(crate) async fn drive(&self, tx: &mut S::Tx, run: Run, mode: PluginMode) -> Result<()> {
        let e = self.drive_with(tx, run, None, mode).await?;
        tx.end_runs(&[(&e.run, e.steps.as_slice())]).await
    }

    /// Drives a dry-run as [`Self::drive`] does, its event given, and hands back where it
    /// ended and the steps it executed without writing them (a backtest keeps neither).
    pub(crate) async fn drive_detached(
        &self,
        tx: &mut S::Tx,
        run: Run,
        event: Event,
    ) -> Result<(Run, Vec<StepRun>)> {
        let e = self
            .drive_with(tx, run, Some(event), PluginMode::Inline)
            .await?;
        Ok((e.run, e.steps))
    }

    /// [`Self::drive`] with the run's event when it was already read, leaving the writes
    /// of the run's new state and of the steps it executed to the caller (`end_runs`).
    async fn drive_with(
        &self,
        tx: &mut S::Tx,
        mut run: Run,
        event: Option<Event>,
        mode: PluginMode,
    ) -> Result<Ended> {
        let now = Utc::now();
        if run.started_at.is_none() {
            run.started_at = Some(now);
        }
        run.status = RunStatus::Running;
        let exec = match self
            .exec_plan_in_tx(tx, &run.workspace_id, &run.automation_id, run.version)
            .await
        {
            Ok(p) => p,
            Err(e @ (RuntimeError::Database(_) | RuntimeError::Corrupt(_))) => return Err(e),
            Err(e) => {
                finish_run(
                    &mut run,
                    RunStatus::Failed,
                    Some((RunErrorCode::PlanUnavailable, e.to_string())),
                );
                return Ok(Ended {
                    run,
                    steps: Vec::new(),
                });
            }
        };
        let mut event = match event {
            Some(e) => e,
            None => tx
                .event(&run.workspace_id, &run.event_id)
                .await?
                .ok_or_else(|| {
                    RuntimeError::Corrupt(format!("run {} has no event {}", run.id, run.event_id))
                })?,
        };
        // The steps read the event's envelope only (`StepScope`): its payload moves into
        // the context.
        let mut ctx = event_context_taking_payload(
            &mut event,
            run.state.clock_ms.unwrap_or_else(|| now.timestamp_millis()),
            self.references(&run.workspace_id, run.object.as_deref()),
        );
        self.run_record(tx, &run, &mut ctx).await?;
        ctx.steps = run.state.outputs.clone();
        let plan = &exec.plan;
        let paths = plan_reference_paths(plan);
        if !paths.is_empty() {
            load_related(
                tx,
                self.schema(&run.workspace_id).as_ref(),
                &run.workspace_id,
                run.object.as_deref(),
                &paths,
                &mut ctx,
            )
            .await?;
        }
        let mut steps: Vec<StepRun> = Vec::new();
        while (run.pc as usize) < plan.ops.len() {
            let op = &plan.ops[run.pc as usize];
            let compiled = &exec.ops[run.pc as usize];
            let mut step = StepRun {
                id: op.step_id().to_string(),
                step_type: step_type(op).to_string(),
                status: StepStatus::Running,
                seq: run.state.next_seq,
                started_at: Some(run.state.pending_since.take().unwrap_or_else(Utc::now)),
                finished_at: None,
                duration_ms: None,
                input: None,
                output: None,
                error: None,
                effects: Vec::new(),
                logs: Vec::new(),
                attempts: 0,
                last_error: None,
            };
            run.state.next_seq += 1;
            let parked = match op {
                Op::Branch {
                    then_pc,
                    else_pc,
                    next,
                    ..
                } => {
                    let slots = compiled.slots(&ctx);
                    if !compiled.guard_holds(&slots) {
                        finish_step(&mut step, StepStatus::Skipped);
                        run.pc = *next as i64;
                    } else {
                        let taken = compiled.condition_holds(&slots);
                        step.output =
                            Some(json!({ "branch": if taken { "then" } else { "else" } }));
                        finish_step(&mut step, StepStatus::Completed);
                        run.pc = if taken { *then_pc } else { *else_pc } as i64;
                    }
                    false
                }
                Op::Action { step: action, next } => {
                    match self
                        .step_action(
                            tx,
                            &mut run,
                            (&event, mode),
                            &mut ctx,
                            (action, compiled),
                            &mut step,
                        )
                        .await?
                    {
                        StepEnd::Pending => {
                            // The step runs again when the call is back: same seq then.
                            run.state.next_seq = step.seq;
                            run.state.pending_since = step.started_at;
                            steps.push(step);
                            return Ok(Ended { run, steps });
                        }
                        StepEnd::Next => {
                            run.pc = *next as i64;
                            false
                        }
                        StepEnd::Parked => true,
                        StepEnd::Failed(message) => {
                            run.state.failed_attempts = None;
                            steps.push(step);
                            finish_run(
                                &mut run,
                                RunStatus::Failed,
                                Some((RunErrorCode::StepFailed, message)),
                            );
                            return Ok(Ended { run, steps });
                        }
                    }
                }
            };
            steps.push(step);
            if parked {
                run.status = RunStatus::Waiting;
                return Ok(Ended { run, steps });
            }
        }
        finish_run(&mut run, RunStatus::Completed, None);
        Ok(Ended { run, steps })
    }

    /// The triggering record as the run sees it (DESIGN §5): the record of its event with
    /// the run's own writes laid over. An event that carries no record (a custom event
    /// naming one) has only the live record to show.
    async fn run_record(
        &self,
        tx: &mut S::Tx,
        run: &Run,
        ctx: &mut crate::expr::EvalContext,
    ) -> Result<()> {
        if !ctx.carries_record()
            && let (Some(o), Some(id)) = (&run.object, &run.record_id)
            && let Some(r) = tx.record(&run.workspace_id, o, id).await?
        {
            ctx.set_record(Value::Object(r.to_json()));
        }
        if !run.state.record_writes.is_empty() {
            ctx.record_mut().extend(run.state.record_writes.clone());
        }
        Ok(())
    }

    /// Remembers what a step wrote to the run's triggering record (the stored values, read
    /// back through the transaction that wrote them) and shows it to the later steps.
    async fn keep_own_writes(
        &self,
        tx: &mut S::Tx,
        run: &mut Run,
        ctx: &mut crate::expr::EvalContext,
        effects: &[Effect],
    ) -> Result<()> {
        let (Some(object), Some(id)) = (run.object.clone(), run.record_id.clone()) else {
            return Ok(());
        };
        let written: Vec<String> = effects
            .iter()
            .filter(|e| e.applied && e.kind == EffectKind::RecordUpdate)
            .filter(|e| e.detail["object"] == object.as_str() && e.detail["id"] == id.as_str())
            .filter_map(|e| e.detail["fields"].as_object())
            .flat_map(|fields| fields.keys().cloned())
            .collect();
        if written.is_empty() {
            return Ok(());
        }
        let stored = tx.record(&run.workspace_id, &object, &id).await?;
        let stored = stored.map(|r| r.to_json()).unwrap_or_default();
        for field in written {
            let value = stored.get(&field).cloned().unwrap_or(Value::Null);
            run.state.record_writes.insert(field.clone(), value.clone());
            ctx.record_mut().insert(field, value);
        }
        Ok(())
    }

    /// Executes one action step and records its outcome on `step`.
    async fn step_action(
        &self,
        tx: &mut S::Tx,
        run: &mut Run,
        (event, mode): (&Event, PluginMode),
        ctx: &mut crate::expr::EvalContext,
        (action, compiled): (&ActionStep, &CompiledOp),
        step: &mut StepRun,
    ) -> Result<StepEnd> {
        // One slot fill serves the guard and every param (same context for both).
        let slots = compiled.slots(ctx);
        if !compiled.guard_holds(&slots) {
            run.state.failed_attempts = None;
            finish_step(step, StepStatus::Skipped);
            return Ok(StepEnd::Next);
        }
        // This attempt follows the step's failed ones, if it waited out a backoff. They
        // stay on the run while a plugin call of this attempt is in flight.
        let failed = run
            .state
            .failed_attempts
            .clone()
            .filter(|f| f.step_id == action.id);
        step.attempts = failed.as_ref().map_or(0, |f| f.count) + 1;
        step.last_error = failed.map(|f| f.last_error);
        if let Some(mock) = run.state.mocks.get(&action.id).cloned() {
            run.state.failed_attempts = None;
            step.output = Some(mock.clone());
            self.record_output(run, ctx, &action.id, mock);
            finish_step(step, StepStatus::Completed);
            return Ok(StepEnd::Next);
        }
        let (values, json) = match compiled.params(&slots, &self.inner.config.output_caps) {
            Ok(params) => params,
            Err(capped) => {
                // Fails before the action runs: no effect, no outbox row, no stored input.
                let message = capped.to_string();
                step.error = Some(message.clone());
                step.last_error = Some(message.clone());
                finish_step(step, StepStatus::Failed);
                return Ok(StepEnd::Failed(format!(
                    "step {} failed: {message}",
                    action.id
                )));
            }
        };
        let params = Params { values, json };
        step.input = Some(shown(&action.action, Value::Object(params.json.clone())));
        let scope = StepScope {
            ws: &run.workspace_id,
            run_id: &run.id,
            automation_id: &run.automation_id,
            step_id: &action.id,
            event,
            dry_run: run.dry_run,
            delivery: action
                .retry
                .as_ref()
                .filter(|_| retries_delivery(action.action))
                .map(DeliveryRetry::from_policy),
        };
        // A step that may be retried runs under a savepoint: a failed attempt leaves none
        // of its writes or outbox rows behind, so the next attempt starts clean and no
        // effect is applied twice (DESIGN §6).
        let guarded = action.retry.is_some();
        if guarded {
            tx.savepoint().await?;
        }
        let result = self.run_action(tx, &scope, run, action, params, mode).await;
        if guarded {
            match &result {
                Ok(_) => tx.release_savepoint().await?,
                Err(StepError::Fatal(_)) => {}
                Err(_) => tx.rollback_to_savepoint().await?,
            }
        }
        match result {
            Ok(ActionResult::Done {
                input,
                output,
                effects,
                logs,
            }) => {
                run.state.failed_attempts = None;
                self.keep_own_writes(tx, run, ctx, &effects).await?;
                step.input = Some(shown(&action.action, input));
                step.effects = shown_effects(effects);
                step.logs = shown_logs(logs);
                step.output = Some(output.clone());
                self.record_output(run, ctx, &action.id, output);
                finish_step(step, StepStatus::Completed);
                Ok(StepEnd::Next)
            }
            Ok(ActionResult::Park { input, effects }) => {
                step.input = Some(shown(&action.action, input));
                step.effects = shown_effects(effects);
                step.status = StepStatus::Waiting;
                Ok(StepEnd::Parked)
            }
            Ok(ActionResult::Pending { input }) => {
                step.input = Some(shown(&action.action, input));
                Ok(StepEnd::Pending)
            }
            Err(StepError::Step(message)) => {
                self.attempt_failed(tx, run, (action, mode), step, (message, None))
                    .await
            }
            Err(StepError::Transient(class, message)) => {
                self.attempt_failed(tx, run, (action, mode), step, (message, Some(class)))
                    .await
            }
            Err(StepError::Plugin(failure)) => {
                step.logs = shown_logs(failure.logs);
                let outcome = (failure.message, failure.class);
                self.attempt_failed(tx, run, (action, mode), step, outcome)
                    .await
            }
            Err(StepError::Fatal(e)) => Err(e),
        }
    }

    /// A failed attempt: parks the run until the next attempt when the step's policy
    /// retries this error and has attempts left (a `retry` timer, durable like a `wait`),
    /// else fails the step.
    async fn attempt_failed(
        &self,
        tx: &mut S::Tx,
        run: &mut Run,
        (action, mode): (&ActionStep, PluginMode),
        step: &mut StepRun,
        (message, class): (String, Option<ErrorClass>),
    ) -> Result<StepEnd> {
        let message = secrets::redact_text(&message);
        step.last_error = Some(message.clone());
        // The `test` dry-run awaits its plugin calls in place and shows the first failure.
        let policy = action
            .retry
            .as_ref()
            .filter(|_| mode == PluginMode::Deferred);
        if let Some(delay) = policy.and_then(|p| retry_delay(p, step.attempts, class)) {
            run.state.failed_attempts = Some(FailedAttempts {
                step_id: action.id.clone(),
                count: step.attempts,
                last_error: message,
            });
            // The next attempt writes this step's row again, keeping its place and start.
            run.state.next_seq = step.seq;
            run.state.pending_since = step.started_at;
            step.status = StepStatus::Waiting;
            let timer = Timer {
                id: new_id("tmr"),
                workspace_id: run.workspace_id.clone(),
                run_id: run.id.clone(),
                step_id: action.id.clone(),
                kind: TimerKind::Retry,
                fire_at: Utc::now() + delay,
            };
            tx.insert_timer(&timer).await?;
            return Ok(StepEnd::Parked);
        }
        step.error = Some(message.clone());
        finish_step(step, StepStatus::Failed);
        let after = match step.attempts {
            n if n > 1 => format!(" after {n} attempts"),
            _ => String::new(),
        };
        Ok(StepEnd::Failed(format!(
            "step {} failed{after}: {message}",
            action.id
        )))
    }

    fn record_output(
        &self,
        run: &mut Run,
        ctx: &mut crate::expr::EvalContext,
        id: &str,
        output: Value,
    ) {
        run.state.outputs.insert(id.to_string(), output.clone());
        ctx.steps.insert(id.to_string(), output);
    }
}

/// The wait before the next attempt when `policy` retries an error of `class` after
/// `made` attempts: the policy's backoff plus up to a quarter more (jitter, so that runs
/// failing together do not all come back at the same instant); `None` when the error is
/// not transient, not one the policy names, or the attempts are spent.
fn retry_delay(
    policy: &RetryPolicy,
    made: i64,
    class: Option<ErrorClass>,
) -> Option<chrono::Duration> {
    let class = class?;
    if !policy.retries(class) || made >= i64::from(policy.attempts) {
        return None;
    }
    let base = policy.delay_ms(made.clamp(1, i64::from(u32::MAX)) as u32);
    let jitter = rand::rng().random_range(0..=base / 4);
    Some(chrono::Duration::milliseconds(base + jitter))
}

/// A step's input as the run shows it: secrets redacted (the step keeps no other copy;
/// the effects that need the real values were built before this).
fn shown(action: &ActionKind, mut input: Value) -> Value {
    secrets::redact_params(action.as_str(), &mut input);
    input
}

/// Effects as the run shows them: a webhook's secret headers and URL credentials redacted.
fn shown_effects(mut effects: Vec<Effect>) -> Vec<Effect> {
    for e in &mut effects {
        secrets::redact_params(e.kind.as_str(), &mut e.detail);
    }
    effects
}

/// A plugin's log lines as the run shows (and stores) them: credentials in URLs and the
/// values of sensitive fields redacted, as in step inputs.
fn shown_logs(mut logs: Vec<StepLog>) -> Vec<StepLog> {
    for line in &mut logs {
        line.message = secrets::redact_text(&line.message);
        for (name, value) in line.fields.iter_mut() {
            if secrets::is_sensitive_name(name) {
                *value = Value::String(secrets::PLACEHOLDER.to_string());
            } else if let Value::String(text) = value {
                *text = secrets::redact_text(text);
            }
        }
    }
    logs
}

/// Where a drive left a run, and the steps it executed: not yet written.
pub(crate) struct Ended {
    run: Run,
    steps: Vec<StepRun>,
}

/// Reads, in one statement each, the events of a batch of runs (returned by workspace and
/// id) and their triggering records (remembered by the transaction for the drives).
async fn prefetch<T: StoreTx>(
    tx: &mut T,
    runs: &[Run],
) -> Result<HashMap<(String, String), Event>> {
    if runs.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<(&str, &str)> = runs
        .iter()
        .map(|r| (r.workspace_id.as_str(), r.event_id.as_str()))
        .collect();
    let events = tx.events(&keys).await?;
    let records: Vec<(&str, &str, &str)> = runs
        .iter()
        .filter_map(|r| match (&r.object, &r.record_id) {
            (Some(o), Some(id)) => Some((r.workspace_id.as_str(), o.as_str(), id.as_str())),
            _ => None,
        })
        .collect();
    if !records.is_empty() {
        tx.prefetch_records(&records).await?;
    }
    Ok(events
        .into_iter()
        .map(|e| ((e.workspace_id.clone(), e.id.clone()), e))
        .collect())
}

pub(crate) enum StepEnd {
    Next,
    Parked,
    Pending,
    Failed(String),
}

/// Evaluates every param of a step with the reference evaluator (forms become
/// `{field: type}` objects): the oracle the compiled params are tested against.
#[cfg(test)]
pub(crate) fn eval_params(action: &ActionStep, ctx: &crate::expr::EvalContext) -> Params {
    let mut values = Vec::new();
    let mut json_map = Map::new();
    for (name, p) in &action.params {
        match p {
            crate::plan::ParamExpr::Expr(e) => {
                let v = expr::eval(e, ctx);
                json_map.insert(name.clone(), expr::to_json(&v));
                values.push((name.clone(), v));
            }
            crate::plan::ParamExpr::Form(fields) => {
                let form: Map<String, Value> = fields
                    .iter()
                    .map(|(k, t)| (k.clone(), Value::String(t.clone())))
                    .collect();
                json_map.insert(name.clone(), Value::Object(form));
            }
        }
    }
    Params {
        values,
        json: json_map,
    }
}

/// A point in time from a `duration` (from now) or an `until` param.
pub(crate) fn deadline(
    params: &Params,
    duration_param: &str,
    until_param: Option<&str>,
) -> Option<DateTime<Utc>> {
    use automations_compiler::value::Value as V;
    let now = Utc::now();
    let ms = match params.value(duration_param) {
        Some(V::Duration(ms)) => Some(*ms),
        Some(V::Number(n)) => Some((*n * 1000.0) as i64),
        Some(V::String(s)) => expr::parse_duration(s),
        _ => None,
    };
    if let Some(ms) = ms {
        return Some(now + chrono::Duration::milliseconds(ms));
    }
    match until_param.and_then(|u| params.value(u)) {
        Some(V::DateTime(ms)) => DateTime::from_timestamp_millis(*ms),
        Some(V::String(s)) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}
