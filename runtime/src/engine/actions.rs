//! The built-in actions of DESIGN §3.3, one arm each of an exhaustive match on the
//! catalog's [`ActionKind`]. Each turns its evaluated params into an effect request for the
//! one effect path, or parks the run (human task, wait), or calls the plugin runner. No
//! action writes anything except through `apply_effect`, tasks and timers.

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::Engine;
use super::effects::{StepError, StepScope};
use super::exec::{ActionResult, Params, PluginMode, deadline};
use crate::hooks::{EffectRequest, PluginCall};
use crate::model::*;
use crate::plan::ActionStep;
use crate::store::{Store, StoreTx};
use automations_compiler::catalog::{ActionKind, TaskRecord, task_record};

fn need(params: &Params, name: &str, action: ActionKind) -> Result<String, StepError> {
    params
        .str(name)
        .ok_or_else(|| StepError::Step(format!("{action} needs the {name:?} param")))
}

fn object_param(params: &Params, name: &str) -> Option<Map<String, Value>> {
    match params.get(name) {
        Some(Value::Object(m)) => Some(m.clone()),
        _ => None,
    }
}

fn triggering_record(run: &Run, action: ActionKind) -> Result<(&str, &str), StepError> {
    match (&run.object, &run.record_id) {
        (Some(o), Some(id)) => Ok((o, id)),
        _ => Err(StepError::Step(format!(
            "{action} needs a triggering record, and this event has none"
        ))),
    }
}

impl<S: Store> Engine<S> {
    pub(crate) async fn run_action(
        &self,
        tx: &mut S::Tx,
        scope: &StepScope<'_>,
        run: &Run,
        action: &ActionStep,
        params: Params,
        mode: PluginMode,
    ) -> Result<ActionResult, StepError> {
        let kind = action.action;
        let request = match kind {
            ActionKind::HumanTask => return self.human_task(tx, scope, run, params).await,
            ActionKind::Wait => return self.wait(tx, scope, run, params).await,
            ActionKind::Plugin => return self.plugin(tx, scope, params, mode).await,
            ActionKind::UpdateField => update_field(run, &params)?,
            ActionKind::AssignToQueue => assign_to_queue(run, &params)?,
            ActionKind::UpdateRecord => EffectRequest::UpdateRecord {
                object: need(&params, "object", kind)?,
                id: need(&params, "id", kind)?,
                fields: object_param(&params, "fields").unwrap_or_default(),
            },
            ActionKind::CreateRecord => EffectRequest::CreateRecord {
                object: need(&params, "object", kind)?,
                fields: object_param(&params, "fields").unwrap_or_default(),
            },
            ActionKind::CreateTask => create_task(run, &params)?,
            ActionKind::SendEmail => EffectRequest::Email {
                to: non_empty(params.list("to"), "send_email needs a recipient in \"to\"")?,
                cc: params.list("cc"),
                subject: params.str("subject").unwrap_or_default(),
                body: params.str("body").unwrap_or_default(),
            },
            ActionKind::NotifyUser => EffectRequest::Notify {
                user_id: need(&params, "user_id", kind)?,
                message: params.str("message").unwrap_or_default(),
            },
            ActionKind::SendNotification => send_notification(&params)?,
            ActionKind::Webhook => webhook(&params)?,
        };
        let effects = vec![self.apply_effect(tx, scope, 0, request).await?];
        let output = output_of(kind, &effects, &params);
        Ok(ActionResult::Done {
            input: Value::Object(params.json),
            output,
            effects,
            logs: Vec::new(),
        })
    }

    async fn human_task(
        &self,
        tx: &mut S::Tx,
        scope: &StepScope<'_>,
        run: &Run,
        params: Params,
    ) -> Result<ActionResult, StepError> {
        let now = Utc::now();
        let timeout_at = deadline(&params, "timeout", None);
        let on_timeout = params.str("on_timeout").unwrap_or_else(|| "fail".into());
        if !matches!(on_timeout.as_str(), "fail" | "continue" | "escalate") {
            return Err(StepError::Step(format!(
                "on_timeout must be escalate, fail or continue, not {on_timeout:?}"
            )));
        }
        let on_timeout = match (on_timeout.as_str(), params.str("escalate_to")) {
            ("escalate", Some(to)) => format!("escalate:{to}"),
            (o, _) => o.to_string(),
        };
        let task = Task {
            id: new_id("tsk"),
            workspace_id: scope.ws.to_string(),
            run_id: run.id.clone(),
            automation_id: run.automation_id.clone(),
            step_id: scope.step_id.to_string(),
            title: params
                .str("title")
                .unwrap_or_else(|| scope.step_id.to_string()),
            assignee: params.str("assignee"),
            queue: params.str("queue"),
            form: params.get("form").cloned().unwrap_or_else(|| json!({})),
            status: TaskStatus::Open,
            output: None,
            on_timeout: Some(on_timeout),
            due_at: deadline(&params, "due_in", Some("due")).or(timeout_at),
            timeout_at,
            dry_run: run.dry_run,
            created_at: now,
            completed_at: None,
        };
        tx.insert_task(&task).await.map_err(StepError::Fatal)?;
        if let Some(at) = timeout_at {
            let timer = Timer {
                id: new_id("tmr"),
                workspace_id: scope.ws.to_string(),
                run_id: run.id.clone(),
                step_id: scope.step_id.to_string(),
                kind: TimerKind::TaskTimeout,
                fire_at: at,
            };
            tx.insert_timer(&timer).await.map_err(StepError::Fatal)?;
        }
        let effect = Effect {
            kind: EffectKind::HumanTask,
            applied: !run.dry_run,
            id: Some(task.id.clone()),
            detail: json!({"title": task.title, "assignee": task.assignee, "queue": task.queue, "form": task.form, "dry_run": run.dry_run}),
        };
        Ok(ActionResult::Park {
            input: Value::Object(params.json),
            effects: vec![effect],
        })
    }

    async fn wait(
        &self,
        tx: &mut S::Tx,
        scope: &StepScope<'_>,
        run: &Run,
        params: Params,
    ) -> Result<ActionResult, StepError> {
        let at = deadline(&params, "duration", Some("until"))
            .ok_or_else(|| StepError::Step("wait needs a duration or an until param".into()))?;
        let input = Value::Object(params.json);
        if run.state.skip_waits || at <= Utc::now() {
            let output = json!({ "until": ts(at), "waited": false });
            return Ok(ActionResult::Done {
                input,
                output,
                effects: Vec::new(),
                logs: Vec::new(),
            });
        }
        let timer = Timer {
            id: new_id("tmr"),
            workspace_id: scope.ws.to_string(),
            run_id: run.id.clone(),
            step_id: scope.step_id.to_string(),
            kind: TimerKind::Wait,
            fire_at: at,
        };
        tx.insert_timer(&timer).await.map_err(StepError::Fatal)?;
        Ok(ActionResult::Park {
            input,
            effects: Vec::new(),
        })
    }

    async fn plugin(
        &self,
        tx: &mut S::Tx,
        scope: &StepScope<'_>,
        params: Params,
        mode: PluginMode,
    ) -> Result<ActionResult, StepError> {
        let runner = self.inner.plugins.clone().ok_or_else(|| {
            StepError::Step("no plugin runner is configured on this server".into())
        })?;
        let call = PluginCall {
            workspace_id: scope.ws.to_string(),
            run_id: scope.run_id.to_string(),
            step_id: scope.step_id.to_string(),
            plugin: need(&params, "plugin", ActionKind::Plugin)?,
            version: params.str("version"),
            input: params.get("input").cloned().unwrap_or(Value::Null),
            dry_run: scope.dry_run,
        };
        let outcome = match mode {
            PluginMode::Inline => runner.run(call).await,
            PluginMode::Deferred => match self.inner.plugin_calls.take(scope.run_id, scope.step_id)
            {
                Some(outcome) => outcome,
                None => {
                    self.start_plugin_call(runner, call);
                    return Ok(ActionResult::Pending {
                        input: Value::Object(params.json),
                    });
                }
            },
        };
        let result = outcome.map_err(StepError::Plugin)?;
        let mut effects = Vec::with_capacity(result.effects.len());
        for (n, req) in result.effects.into_iter().enumerate() {
            effects.push(self.apply_effect(tx, scope, n, req).await?);
        }
        Ok(ActionResult::Done {
            input: Value::Object(params.json),
            output: result.output,
            effects,
            logs: result.logs,
        })
    }
}

fn update_field(run: &Run, p: &Params) -> Result<EffectRequest, StepError> {
    let kind = ActionKind::UpdateField;
    let (object, id) = triggering_record(run, kind)?;
    let fields = match object_param(p, "fields") {
        Some(f) => f,
        None => {
            let field = need(p, "field", kind)?;
            Map::from_iter([(field, p.json.get("value").cloned().unwrap_or(Value::Null))])
        }
    };
    Ok(EffectRequest::UpdateRecord {
        object: object.into(),
        id: id.into(),
        fields,
    })
}

fn assign_to_queue(run: &Run, p: &Params) -> Result<EffectRequest, StepError> {
    let kind = ActionKind::AssignToQueue;
    let (object, id) = triggering_record(run, kind)?;
    let queue = need(p, "queue_id", kind)?;
    Ok(EffectRequest::UpdateRecord {
        object: object.into(),
        id: id.into(),
        fields: Map::from_iter([("queue_id".into(), json!(queue))]),
    })
}

/// A `task` record about the triggering record, shaped by the catalog.
fn create_task(run: &Run, p: &Params) -> Result<EffectRequest, StepError> {
    let task = TaskRecord {
        subject: json!(need(p, "subject", ActionKind::CreateTask)?),
        description: p.get("description").cloned(),
        assignee: p.get("assignee").cloned(),
        due: p.get("due").cloned(),
        related: run.object.clone().zip(run.record_id.clone()),
    };
    Ok(EffectRequest::CreateRecord {
        object: "task".into(),
        fields: task_record(task),
    })
}

fn send_notification(p: &Params) -> Result<EffectRequest, StepError> {
    let message = p.str("message").unwrap_or_default();
    Ok(match p.str("channel").as_deref().unwrap_or("in_app") {
        "slack" => EffectRequest::Slack {
            text: message,
            target: p.str("target"),
        },
        "email" => EffectRequest::Email {
            to: non_empty(
                p.list("target"),
                "send_notification by email needs a \"target\" address",
            )?,
            cc: Vec::new(),
            subject: message.chars().take(78).collect(),
            body: message,
        },
        "in_app" => EffectRequest::Notify {
            user_id: need(p, "target", ActionKind::SendNotification)?,
            message,
        },
        other => {
            return Err(StepError::Step(format!(
                "unknown channel {other:?} (slack, email, in_app)"
            )));
        }
    })
}

fn webhook(p: &Params) -> Result<EffectRequest, StepError> {
    Ok(EffectRequest::Webhook {
        url: need(p, "url", ActionKind::Webhook)?,
        method: p
            .str("method")
            .unwrap_or_else(|| "POST".into())
            .to_ascii_uppercase(),
        headers: object_param(p, "headers").unwrap_or_default(),
        body: p.json.get("body").cloned().unwrap_or(Value::Null),
        secret: p.str("secret"),
    })
}

fn non_empty(v: Vec<String>, message: &str) -> Result<Vec<String>, StepError> {
    if v.is_empty() {
        Err(StepError::Step(message.into()))
    } else {
        Ok(v)
    }
}

/// The output later steps read as `steps.<id>.output` (the catalog's output spec).
fn output_of(kind: ActionKind, effects: &[Effect], p: &Params) -> Value {
    let id = effects.first().and_then(|e| e.id.clone());
    let applied = effects.iter().all(|e| e.applied);
    match kind {
        ActionKind::UpdateField | ActionKind::UpdateRecord => {
            json!({ "id": effects.first().and_then(|e| e.detail.get("id").cloned()), "applied": applied })
        }
        ActionKind::AssignToQueue => json!({ "queue_id": p.get("queue_id"), "applied": applied }),
        ActionKind::CreateRecord | ActionKind::CreateTask => json!({ "id": id }),
        ActionKind::NotifyUser => json!({ "notification_id": id }),
        ActionKind::SendEmail | ActionKind::SendNotification | ActionKind::Webhook => {
            json!({ "outbox_id": id })
        }
        // These produce their outputs on their own paths (task completion, timer, plugin).
        ActionKind::HumanTask | ActionKind::Wait | ActionKind::Plugin => Value::Null,
    }
}
