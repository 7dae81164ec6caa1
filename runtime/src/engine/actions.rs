//! The built-in actions of DESIGN §3.3. Each turns its evaluated params into effect
//! requests for the one effect path, or parks the run (human task, wait), or calls the
//! plugin runner. No action writes anything except through `apply_effect`, tasks and timers.

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::Engine;
use super::effects::{StepError, StepScope};
use super::exec::{ActionResult, Params, PluginMode, deadline};
use crate::hooks::{EffectRequest, PluginCall};
use crate::model::*;
use crate::plan::ActionStep;
use crate::store::{Store, StoreTx};

fn need(params: &Params, name: &str, action: &str) -> Result<String, StepError> {
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

fn triggering_record<'a>(run: &'a Run, action: &str) -> Result<(&'a str, &'a str), StepError> {
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
        let name = action.action.as_str();
        let requests = match name {
            "human_task" => return self.human_task(tx, scope, run, params).await,
            "wait" => return self.wait(tx, scope, run, params).await,
            "plugin" => return self.plugin(tx, scope, params, mode).await,
            _ => effect_requests(name, run, &params)?,
        };
        let mut effects = Vec::with_capacity(requests.len());
        for (n, req) in requests.into_iter().enumerate() {
            effects.push(self.apply_effect(tx, scope, n, req).await?);
        }
        let output = output_of(name, &effects, &params);
        Ok(ActionResult::Done {
            input: Value::Object(params.json),
            output,
            effects,
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
            kind: "human_task".into(),
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
            plugin: need(&params, "plugin", "plugin")?,
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
        let result = outcome.map_err(StepError::Step)?;
        let mut effects = Vec::with_capacity(result.effects.len());
        for (n, req) in result.effects.into_iter().enumerate() {
            effects.push(self.apply_effect(tx, scope, n, req).await?);
        }
        Ok(ActionResult::Done {
            input: Value::Object(params.json),
            output: result.output,
            effects,
        })
    }
}

/// The effect requests of the simple built-in actions.
fn effect_requests(action: &str, run: &Run, p: &Params) -> Result<Vec<EffectRequest>, StepError> {
    let req = match action {
        "update_field" => {
            let (object, id) = triggering_record(run, action)?;
            let fields = match object_param(p, "fields") {
                Some(f) => f,
                None => {
                    let field = need(p, "field", action)?;
                    Map::from_iter([(field, p.json.get("value").cloned().unwrap_or(Value::Null))])
                }
            };
            EffectRequest::UpdateRecord {
                object: object.into(),
                id: id.into(),
                fields,
            }
        }
        "assign_to_queue" => {
            let (object, id) = triggering_record(run, action)?;
            let queue = need(p, "queue_id", action)?;
            EffectRequest::UpdateRecord {
                object: object.into(),
                id: id.into(),
                fields: Map::from_iter([("queue_id".into(), json!(queue))]),
            }
        }
        "update_record" => EffectRequest::UpdateRecord {
            object: need(p, "object", action)?,
            id: need(p, "id", action)?,
            fields: object_param(p, "fields").unwrap_or_default(),
        },
        "create_record" => EffectRequest::CreateRecord {
            object: need(p, "object", action)?,
            fields: object_param(p, "fields").unwrap_or_default(),
        },
        "create_task" => {
            let mut fields = Map::new();
            fields.insert("subject".into(), json!(need(p, "subject", action)?));
            fields.insert("status".into(), json!("open"));
            for (param, field) in [
                ("description", "description"),
                ("due", "due"),
                ("assignee", "assignee_id"),
            ] {
                if let Some(v) = p.get(param) {
                    fields.insert(field.into(), v.clone());
                }
            }
            if let (Some(o), Some(id)) = (&run.object, &run.record_id) {
                fields.insert("related_object".into(), json!(o));
                fields.insert("related_id".into(), json!(id));
            }
            EffectRequest::CreateRecord {
                object: "task".into(),
                fields,
            }
        }
        "send_email" => EffectRequest::Email {
            to: non_empty(p.list("to"), "send_email needs a recipient in \"to\"")?,
            cc: p.list("cc"),
            subject: p.str("subject").unwrap_or_default(),
            body: p.str("body").unwrap_or_default(),
        },
        "notify_user" => EffectRequest::Notify {
            user_id: need(p, "user_id", action)?,
            message: p.str("message").unwrap_or_default(),
        },
        "send_notification" => {
            let message = p.str("message").unwrap_or_default();
            match p.str("channel").as_deref().unwrap_or("in_app") {
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
                    user_id: need(p, "target", action)?,
                    message,
                },
                other => {
                    return Err(StepError::Step(format!(
                        "unknown channel {other:?} (slack, email, in_app)"
                    )));
                }
            }
        }
        "webhook" => EffectRequest::Webhook {
            url: need(p, "url", action)?,
            method: p
                .str("method")
                .unwrap_or_else(|| "POST".into())
                .to_ascii_uppercase(),
            headers: object_param(p, "headers").unwrap_or_default(),
            body: p.json.get("body").cloned().unwrap_or(Value::Null),
            secret: p.str("secret"),
        },
        other => return Err(StepError::Step(format!("unknown action {other:?}"))),
    };
    Ok(vec![req])
}

fn non_empty(v: Vec<String>, message: &str) -> Result<Vec<String>, StepError> {
    if v.is_empty() {
        Err(StepError::Step(message.into()))
    } else {
        Ok(v)
    }
}

/// The output later steps read as `steps.<id>.output`.
fn output_of(action: &str, effects: &[Effect], p: &Params) -> Value {
    let id = effects.first().and_then(|e| e.id.clone());
    match action {
        "update_field" | "update_record" => {
            json!({ "id": effects.first().and_then(|e| e.detail.get("id").cloned()), "applied": effects.iter().all(|e| e.applied) })
        }
        "assign_to_queue" => {
            json!({ "queue_id": p.get("queue_id"), "applied": effects.iter().all(|e| e.applied) })
        }
        "create_record" | "create_task" => json!({ "id": id }),
        "notify_user" => json!({ "notification_id": id }),
        _ => json!({ "outbox_id": id }),
    }
}
