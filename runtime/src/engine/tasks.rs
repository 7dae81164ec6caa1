//! Parked runs and run control: completing human tasks (exactly once), timers (waits and
//! task timeouts), cancel and retry, and the read side of runs, tasks and the outbox.

use chrono::Utc;
use serde_json::{Map, Value, json};

use automations_compiler::typed::Type;

use super::Engine;
use super::exec::{finish_run, finish_step};
use crate::error::{FieldError, Result, RuntimeError};
use crate::model::*;
use crate::store::{Store, StoreTx};

/// A form type name (`bool`, `string`, `number`, `datetime`, `duration`, `list<T>`, `any`).
fn form_type(name: &str) -> Option<Type> {
    let name = name.trim();
    Some(match name {
        "bool" | "boolean" => Type::Bool,
        "string" | "text" => Type::String,
        "number" => Type::Number,
        "datetime" => Type::DateTime,
        "duration" => Type::Duration,
        "any" | "object" => Type::Any,
        _ => Type::List(Box::new(form_type(
            name.strip_prefix("list<")?.strip_suffix('>')?,
        )?)),
    })
}

/// Checks task output against its form: every form field present with its type, nothing else.
pub fn validate_form(form: &Value, output: &Value) -> Result<()> {
    let Value::Object(out) = output else {
        return Err(RuntimeError::invalid("output", "must be an object"));
    };
    let empty = Map::new();
    let form = form.as_object().unwrap_or(&empty);
    let mut errors = Vec::new();
    for (field, ty) in form {
        let ty_name = ty.as_str().unwrap_or("any");
        match (out.get(field), form_type(ty_name)) {
            (None, _) => errors.push(FieldError {
                field: field.clone(),
                message: format!("is required ({ty_name})"),
            }),
            (Some(v), Some(t)) => {
                if let Err(m) = crate::records::check_value(&t, v) {
                    errors.push(FieldError {
                        field: field.clone(),
                        message: m,
                    });
                }
            }
            (Some(_), None) => {}
        }
    }
    for field in out.keys().filter(|k| !form.contains_key(*k)) {
        errors.push(FieldError {
            field: field.clone(),
            message: "is not a field of the form".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RuntimeError::Validation(errors))
    }
}

impl<S: Store> Engine<S> {
    pub async fn run(&self, ws: &str, run_id: &str) -> Result<Run> {
        self.inner
            .store
            .run(ws, run_id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("run", run_id))
    }

    /// A run of a given automation (404 when it belongs to another one).
    pub async fn automation_run(&self, ws: &str, automation_id: &str, run_id: &str) -> Result<Run> {
        let run = self.run(ws, run_id).await?;
        if run.automation_id != automation_id {
            return Err(RuntimeError::not_found("run", run_id));
        }
        Ok(run)
    }

    pub async fn runs(&self, ws: &str, filter: &RunFilter) -> Result<Page<Run>> {
        self.inner.store.runs(ws, filter).await
    }

    pub async fn tasks(&self, ws: &str, filter: &TaskFilter) -> Result<Page<Task>> {
        self.inner.store.tasks(ws, filter).await
    }

    pub async fn task(&self, ws: &str, id: &str) -> Result<Task> {
        self.inner
            .store
            .task(ws, id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("task", id))
    }

    /// Outbox items, newest first, as answered: secrets redacted (`crate::secrets`); the
    /// stored rows keep them for delivery.
    pub async fn outbox(&self, ws: &str, filter: &OutboxFilter) -> Result<Page<OutboxItem>> {
        let mut page = self.inner.store.outbox(ws, filter).await?;
        for item in &mut page.items {
            crate::secrets::redact_payload(item.kind.as_str(), &mut item.payload);
            if let Some(e) = &mut item.last_error {
                *e = crate::secrets::redact_text(e);
            }
        }
        Ok(page)
    }

    /// Email delivered locally (no SMTP configured), oldest first.
    pub async fn mailbox(&self, ws: &str) -> Result<Vec<MailboxMessage>> {
        self.inner.store.mailbox(ws).await
    }

    pub async fn notifications(
        &self,
        ws: &str,
        user_id: Option<&str>,
    ) -> Result<Vec<Notification>> {
        self.inner.store.notifications(ws, user_id).await
    }

    /// Completes the open human task of a run (`POST .../runs/{runId}/complete-task`).
    /// Validation error (422) when the output does not fit the form; Conflict (409) when the
    /// task was already completed. Returns the run as it is after the completion commits.
    pub async fn complete_run_task(
        &self,
        ws: &str,
        automation_id: &str,
        run_id: &str,
        output: Value,
    ) -> Result<Run> {
        self.complete_run_task_by(ws, automation_id, run_id, output, &Actor::system())
            .await
    }

    /// [`Engine::complete_run_task`], audited as made by `actor`.
    pub async fn complete_run_task_by(
        &self,
        ws: &str,
        automation_id: &str,
        run_id: &str,
        output: Value,
        actor: &Actor,
    ) -> Result<Run> {
        let mut tx = self.inner.store.begin().await?;
        let run = tx
            .run(ws, run_id)
            .await?
            .filter(|r| r.automation_id == automation_id);
        run.ok_or_else(|| RuntimeError::not_found("run", run_id))?;
        let Some(task) = tx.open_task_for_run(ws, run_id).await? else {
            return Err(RuntimeError::Conflict(format!(
                "run {run_id} has no open task (already completed?)"
            )));
        };
        self.complete_in_tx(&mut tx, task, output, actor).await?;
        tx.commit().await?;
        self.inner.wake_runs.notify_one();
        self.run(ws, run_id).await
    }

    /// Completes a task by its id (the inbox). Same rules as [`Engine::complete_run_task`].
    pub async fn complete_task(&self, ws: &str, task_id: &str, output: Value) -> Result<Run> {
        self.complete_task_by(ws, task_id, output, &Actor::system())
            .await
    }

    /// [`Engine::complete_task`], audited as made by `actor`.
    pub async fn complete_task_by(
        &self,
        ws: &str,
        task_id: &str,
        output: Value,
        actor: &Actor,
    ) -> Result<Run> {
        let mut tx = self.inner.store.begin().await?;
        let task = tx
            .task(ws, task_id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("task", task_id))?;
        let run_id = task.run_id.clone();
        self.complete_in_tx(&mut tx, task, output, actor).await?;
        tx.commit().await?;
        self.inner.wake_runs.notify_one();
        self.run(ws, &run_id).await
    }

    async fn complete_in_tx(
        &self,
        tx: &mut S::Tx,
        task: Task,
        output: Value,
        actor: &Actor,
    ) -> Result<()> {
        if task.status != TaskStatus::Open {
            return Err(RuntimeError::Conflict(format!(
                "task {} is {}",
                task.id, task.status
            )));
        }
        validate_form(&task.form, &output)?;
        if !tx
            .transition_task(
                &task.workspace_id,
                &task.id,
                TaskStatus::Open,
                TaskStatus::Completed,
                Some(&output),
                Utc::now(),
            )
            .await?
        {
            return Err(RuntimeError::Conflict(format!(
                "task {} was completed concurrently",
                task.id
            )));
        }
        tx.cancel_timers_for_run(&task.workspace_id, &task.run_id)
            .await?;
        let details = json!({
            "run_id": task.run_id,
            "automation_id": task.automation_id,
            "step_id": task.step_id,
        });
        let entry = AuditEntry::new(
            &task.workspace_id,
            actor,
            AuditAction::TaskComplete,
            &task.id,
            details,
        );
        tx.insert_audit(&entry).await?;
        self.resume_after_step(
            tx,
            (&task.workspace_id, &task.run_id),
            &task.step_id,
            StepStatus::Completed,
            output,
        )
        .await
    }

    /// Marks a parked step finished with `output` and queues its run at the next op.
    async fn resume_after_step(
        &self,
        tx: &mut S::Tx,
        (ws, run_id): (&str, &str),
        step_id: &str,
        status: StepStatus,
        output: Value,
    ) -> Result<()> {
        let mut run = tx
            .run(ws, run_id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("run", run_id))?;
        if run.status != RunStatus::Waiting {
            return Err(RuntimeError::Conflict(format!(
                "run {run_id} is {}, not waiting",
                run.status
            )));
        }
        let plan = self
            .plan_in_tx(tx, ws, &run.automation_id, run.version)
            .await?;
        let pc = plan
            .pc_of(step_id)
            .ok_or_else(|| RuntimeError::Corrupt(format!("no step {step_id} in run {run_id}")))?;
        let mut step = tx
            .steps(ws, run_id)
            .await?
            .into_iter()
            .find(|s| s.id == step_id)
            .ok_or_else(|| RuntimeError::Corrupt(format!("no step row {step_id}")))?;
        step.output = Some(output.clone());
        finish_step(&mut step, status);
        tx.upsert_step(ws, run_id, &step).await?;
        run.state.outputs.insert(step_id.to_string(), output);
        run.pc = plan.ops[pc].next() as i64;
        run.status = RunStatus::Queued;
        tx.update_run(&run).await
    }

    /// Cancels a queued, running or waiting run; its open task is cancelled and timers dropped.
    pub async fn cancel_run(&self, ws: &str, automation_id: &str, run_id: &str) -> Result<Run> {
        let mut tx = self.inner.store.begin().await?;
        let mut run = tx
            .run(ws, run_id)
            .await?
            .filter(|r| r.automation_id == automation_id)
            .ok_or_else(|| RuntimeError::not_found("run", run_id))?;
        if run.status.is_terminal() {
            return Err(RuntimeError::Conflict(format!(
                "run {run_id} is already {}",
                run.status
            )));
        }
        if let Some(task) = tx.open_task_for_run(ws, run_id).await? {
            tx.transition_task(
                ws,
                &task.id,
                TaskStatus::Open,
                TaskStatus::Cancelled,
                None,
                Utc::now(),
            )
            .await?;
        }
        tx.cancel_timers_for_run(ws, run_id).await?;
        // A step parked on a task or timer, or waiting for a plugin call, ends with the run.
        for mut step in tx.steps(ws, run_id).await? {
            if matches!(step.status, StepStatus::Running | StepStatus::Waiting) {
                step.error = Some("cancelled with the run".into());
                finish_step(&mut step, StepStatus::Skipped);
                tx.upsert_step(ws, run_id, &step).await?;
            }
        }
        run.state.pending_since = None;
        finish_run(&mut run, RunStatus::Cancelled, None);
        tx.update_run(&run).await?;
        tx.commit().await?;
        self.run(ws, run_id).await
    }

    /// Re-queues a failed run at its failed step. Steps already completed are not executed
    /// again and outbox keys are per step, so no applied effect repeats. The failed step
    /// starts its retry policy over (its `attempts` count from 1 again).
    pub async fn retry_run(&self, ws: &str, automation_id: &str, run_id: &str) -> Result<Run> {
        let mut tx = self.inner.store.begin().await?;
        let mut run = tx
            .run(ws, run_id)
            .await?
            .filter(|r| r.automation_id == automation_id)
            .ok_or_else(|| RuntimeError::not_found("run", run_id))?;
        if run.status != RunStatus::Failed {
            return Err(RuntimeError::Conflict(format!(
                "run {run_id} is {}, only failed runs can be retried",
                run.status
            )));
        }
        if run.error_code == Some(RunErrorCode::LoopDetected) {
            return Err(RuntimeError::Conflict(format!(
                "run {run_id} was stopped by the loop guard and cannot be retried"
            )));
        }
        run.status = RunStatus::Queued;
        run.error = None;
        run.error_code = None;
        run.finished_at = None;
        run.duration_ms = None;
        // A retried run gives its failed step a fresh retry policy.
        run.state.failed_attempts = None;
        tx.update_run(&run).await?;
        tx.commit().await?;
        self.inner.wake_runs.notify_one();
        self.run(ws, run_id).await
    }

    /// Fires due timers: waits resume their run, task timeouts apply `on_timeout`.
    pub async fn fire_due_timers(&self) -> Result<usize> {
        if !self.inner.store.due_work(Utc::now()).await?.due_timers {
            return Ok(0);
        }
        let mut tx = self.inner.store.begin().await?;
        let timers = tx.due_timers(Utc::now(), 256).await?;
        let n = timers.len();
        for t in timers {
            if !tx.close_timer(&t.workspace_id, &t.id, "fired").await? {
                continue;
            }
            let run = tx.run(&t.workspace_id, &t.run_id).await?;
            let Some(mut run) = run.filter(|r| r.status == RunStatus::Waiting) else {
                continue;
            };
            match t.kind {
                // The next attempt of a failed step: the run goes back to the queue at the
                // same step (its `pc` never moved).
                TimerKind::Retry => {
                    run.status = RunStatus::Queued;
                    tx.update_run(&run).await?;
                }
                TimerKind::Wait => {
                    let out = json!({ "until": ts(t.fire_at), "waited": true });
                    self.resume_after_step(
                        &mut tx,
                        (&t.workspace_id, &t.run_id),
                        &t.step_id,
                        StepStatus::Completed,
                        out,
                    )
                    .await?;
                }
                TimerKind::TaskTimeout => self.task_timed_out(&mut tx, &t).await?,
            }
        }
        tx.commit().await?;
        if n > 0 {
            self.inner.wake_runs.notify_one();
        }
        Ok(n)
    }

    async fn task_timed_out(&self, tx: &mut S::Tx, t: &Timer) -> Result<()> {
        let ws = t.workspace_id.as_str();
        let Some(task) = tx.open_task_for_run(ws, &t.run_id).await? else {
            return Ok(());
        };
        let policy = task.on_timeout.clone().unwrap_or_else(|| "fail".into());
        let now = Utc::now();
        if let Some(target) = policy.strip_prefix("escalate") {
            // The task stays open, moved to the escalation target (or the escalations queue).
            let target = target.trim_start_matches(':');
            let (assignee, queue) = if target.is_empty() {
                (None, Some("escalations"))
            } else {
                (Some(target), None)
            };
            tx.reassign_task(ws, &task.id, assignee, queue).await?;
            tx.insert_notification(&Notification {
                id: new_id("ntf"),
                workspace_id: task.workspace_id.clone(),
                user_id: assignee.unwrap_or("escalations").to_string(),
                message: format!("Escalated: task \"{}\" timed out", task.title),
                run_id: Some(task.run_id.clone()),
                step_id: Some(task.step_id.clone()),
                read_at: None,
                created_at: now,
            })
            .await?;
            return Ok(());
        }
        tx.transition_task(
            ws,
            &task.id,
            TaskStatus::Open,
            TaskStatus::TimedOut,
            None,
            now,
        )
        .await?;
        if policy == "continue" {
            return self
                .resume_after_step(
                    tx,
                    (ws, &t.run_id),
                    &t.step_id,
                    StepStatus::Completed,
                    json!({ "timed_out": true }),
                )
                .await;
        }
        let mut run = tx
            .run(ws, &t.run_id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("run", &t.run_id))?;
        if let Some(mut step) = tx
            .steps(ws, &t.run_id)
            .await?
            .into_iter()
            .find(|s| s.id == t.step_id)
        {
            step.error = Some("human task timed out".into());
            finish_step(&mut step, StepStatus::Failed);
            tx.upsert_step(&run.workspace_id, &run.id, &step).await?;
        }
        finish_run(
            &mut run,
            RunStatus::Failed,
            Some((
                RunErrorCode::TaskTimeout,
                format!("human task {} timed out", task.id),
            )),
        );
        tx.update_run(&run).await
    }
}
