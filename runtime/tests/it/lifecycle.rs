//! Run control and automation lifecycle: retry from the failed step, versions, status,
//! the plugin hook.

use std::sync::Arc;

use serde_json::json;

use automations_runtime::hooks::{
    EffectRequest, PluginCall, PluginFailure, PluginFuture, PluginResult, PluginRunner,
};
use automations_runtime::model::{
    AutomationStatus, OutboxKind, RunErrorCode, RunStatus, StepLog, StepStatus,
};
use automations_runtime::{NewRecord, RuntimeError};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_resumes_at_the_failed_step_without_repeating_effects() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let def = json!({"name": "needs c_target", "trigger": {"event": "case.created", "conditions": {"priority": "high"}},
        "actions": [
            {"type": "send_email", "params": {"to": "a@example.com", "subject": "s", "body": "b"}},
            {"type": "update_record", "params": {"object": "case", "id": "c_target", "fields": {"status": "closed"}}}
        ], "status": "active"});
    let (auto, _) = engine.create_automation(&ws.id, def).await.unwrap();
    fx.create("case", json!({"priority": "high"})).await;
    engine.run_until_idle().await.unwrap();
    let run = &fx.runs().await[0];
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error_code, Some(RunErrorCode::StepFailed));
    assert!(matches!(
        engine.retry_run(&ws.id, &auto.id, "run_nope").await,
        Err(RuntimeError::NotFound { .. })
    ));

    engine
        .create_record(
            &ws.id,
            "case",
            NewRecord {
                id: Some("c_target".into()),
                fields: obj(json!({"status": "new"})),
            },
        )
        .await
        .unwrap();
    let retried = engine.retry_run(&ws.id, &auto.id, &run.id).await.unwrap();
    assert_eq!(retried.status, RunStatus::Queued);
    engine.run_until_idle().await.unwrap();
    let run = engine.run(&ws.id, &run.id).await.unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
    assert_eq!(
        run.steps.iter().map(|s| s.status).collect::<Vec<_>>(),
        vec![StepStatus::Completed, StepStatus::Completed]
    );
    let emails = engine
        .outbox(&ws.id, &Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        emails
            .iter()
            .filter(|i| i.kind == OutboxKind::Email)
            .count(),
        1,
        "the applied email is not repeated"
    );
    assert_eq!(
        engine
            .record(&ws.id, "case", "c_target")
            .await
            .unwrap()
            .fields["status"],
        json!("closed")
    );
    assert!(matches!(
        engine.retry_run(&ws.id, &auto.id, &run.id).await,
        Err(RuntimeError::Conflict(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_runs_finish_on_their_version_and_paused_automations_do_not_trigger() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let def = |msg: &str| {
        json!({"name": "versions", "trigger": {"event": "case.created"},
            "actions": [{"id": "ok", "type": "human_task", "params": {"title": "t", "queue": "q1", "form": {"go": "bool"}}},
                        {"type": "notify_user", "params": {"user_id": "u1", "message": msg}}], "status": "active"})
    };
    let (auto, _) = engine.create_automation(&ws.id, def("v1")).await.unwrap();
    fx.create("case", json!({})).await;
    engine.run_until_idle().await.unwrap();
    let (updated, _) = engine
        .update_automation(&ws.id, &auto.id, def("v2"))
        .await
        .unwrap();
    assert_eq!(updated.current_version, 2);
    assert_eq!(
        engine
            .automation_versions(&ws.id, &auto.id)
            .await
            .unwrap()
            .len(),
        2
    );
    let run = fx.runs().await.remove(0);
    engine
        .complete_run_task(&ws.id, &auto.id, &run.id, json!({"go": true}))
        .await
        .unwrap();
    engine.run_until_idle().await.unwrap();
    let run = engine.run(&ws.id, &run.id).await.unwrap();
    assert_eq!((run.status, run.version), (RunStatus::Completed, 1));
    assert_eq!(
        engine.notifications(&ws.id, None).await.unwrap()[0].message,
        "v1"
    );

    fx.create("case", json!({})).await;
    engine.run_until_idle().await.unwrap();
    let newest = fx.runs().await.remove(0);
    assert_eq!(newest.version, 2);

    // Paused: no new runs, the waiting one can still finish.
    engine
        .set_automation_status(&ws.id, &auto.id, AutomationStatus::Paused)
        .await
        .unwrap();
    fx.create("case", json!({})).await;
    engine.run_until_idle().await.unwrap();
    assert_eq!(fx.runs().await.len(), 2);
    engine
        .complete_run_task(&ws.id, &auto.id, &newest.id, json!({"go": false}))
        .await
        .unwrap();
    engine.run_until_idle().await.unwrap();
    assert_eq!(
        engine.run(&ws.id, &newest.id).await.unwrap().status,
        RunStatus::Completed
    );

    engine
        .set_automation_status(&ws.id, &auto.id, AutomationStatus::Archived)
        .await
        .unwrap();
    assert!(matches!(
        engine.update_automation(&ws.id, &auto.id, def("v3")).await,
        Err(RuntimeError::Conflict(_))
    ));
    let bad = engine
        .create_automation(
            &ws.id,
            json!({"name": "x", "trigger": {"event": "case.craeted"}, "actions": []}),
        )
        .await;
    assert!(
        matches!(bad, Err(RuntimeError::Definition { .. })),
        "{bad:?}"
    );
}

struct Scorer;

impl PluginRunner for Scorer {
    fn run(&self, call: PluginCall) -> PluginFuture<'_> {
        Box::pin(async move {
            if call.plugin != "scorer" {
                return Err(format!("unknown plugin {}", call.plugin).into());
            }
            let logs = vec![StepLog {
                level: "info".into(),
                message: "scoring".into(),
                fields: serde_json::Map::from_iter([(
                    "subject".into(),
                    call.input["subject"].clone(),
                )]),
            }];
            if call.input["subject"] == "boom" {
                return Err(PluginFailure {
                    message: "scorer exploded".into(),
                    logs,
                    class: None,
                });
            }
            let effects = vec![EffectRequest::Notify {
                user_id: "u_plugin".into(),
                message: format!("scored {}", call.input["subject"]),
            }];
            Ok(PluginResult {
                output: json!({"score": 7}),
                effects,
                logs,
            })
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_steps_go_through_the_runner_and_the_effect_path() {
    let fx = Fixture::with(quick_config(), Some(Arc::new(Scorer))).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let def = json!({"name": "plugin", "trigger": {"event": "case.created"},
        "actions": [{"id": "p", "type": "plugin", "params": {"plugin": "scorer", "version": "1.0.0", "input": {"subject": "{{ subject }}"}}},
                    {"type": "notify_user", "params": {"user_id": "u1", "message": "score {{ steps.p.output.score }}"}}], "status": "active"});
    engine.create_automation(&ws.id, def).await.unwrap();
    fx.create("case", json!({"subject": "hello"})).await;
    engine.run_until_idle().await.unwrap();
    let run = fx.runs().await.remove(0);
    let run = engine.run(&ws.id, &run.id).await.unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
    assert_eq!(run.steps[0].effects.len(), 1);
    assert!(run.steps[0].effects[0].applied);
    assert_eq!(
        fx.notifications("u_plugin").await[0].message,
        "scored \"hello\""
    );
    assert_eq!(fx.notifications("u1").await[0].message, "score 7");
    // The plugin's log lines are stored on its step, and only there.
    assert_eq!(run.steps[0].logs.len(), 1, "{:?}", run.steps[0]);
    assert_eq!(run.steps[0].logs[0].message, "scoring");
    assert_eq!(run.steps[0].logs[0].fields["subject"], "hello");
    assert!(run.steps[1].logs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_plugin_step_keeps_what_the_plugin_logged() {
    let fx = Fixture::with(quick_config(), Some(Arc::new(Scorer))).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let def = json!({"name": "plugin", "trigger": {"event": "case.created"},
        "actions": [{"id": "p", "type": "plugin", "params": {"plugin": "scorer", "input": {"subject": "{{ subject }}"}}}],
        "status": "active"});
    engine.create_automation(&ws.id, def).await.unwrap();
    fx.create("case", json!({"subject": "boom"})).await;
    engine.run_until_idle().await.unwrap();
    let run = fx.runs().await.remove(0);
    let run = engine.run(&ws.id, &run.id).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    let step = &run.steps[0];
    assert_eq!(step.error.as_deref(), Some("scorer exploded"));
    assert_eq!(step.logs.len(), 1, "{step:?}");
    assert_eq!(step.logs[0].fields["subject"], "boom");
}
