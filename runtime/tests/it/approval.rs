//! Human tasks: the run parks, survives a restart, resumes exactly once with the output.

use serde_json::json;

use automations_runtime::RuntimeError;
use automations_runtime::model::{RunErrorCode, RunStatus, StepStatus, TaskStatus};

use crate::support::*;

fn approval() -> serde_json::Value {
    json!({
        "name": "Approve escalations",
        "trigger": {"event": "case.created", "conditions": {"priority": "high"}},
        "actions": [
            {"id": "approval", "type": "human_task", "params": {"title": "Approve {{ subject }}", "assignee": "u_manager",
              "form": {"approved": "bool", "notes": "string"}, "timeout": "2d", "on_timeout": "fail"}},
            {"id": "decide", "type": "if", "condition": "steps.approval.output.approved == true",
             "then": [{"id": "mark", "type": "update_field", "params": {"field": "status", "value": "escalated"}},
                      {"id": "say", "type": "notify_user", "params": {"user_id": "u_agent", "message": "Approved: {{ steps.approval.output.notes }}"}}],
             "else": [{"id": "close", "type": "update_field", "params": {"field": "status", "value": "closed"}}]}
        ],
        "status": "active"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_parks_survives_restart_and_resumes_once() {
    let fx = Fixture::new().await;
    let db = fx.db();
    let (ws, auto_id, run_id, case_id) = {
        let (engine, ws) = (&fx.engine, fx.ws.clone());
        let (auto, _) = engine.create_automation(&ws.id, approval()).await.unwrap();
        let case = fx
            .create("case", json!({"subject": "Refund", "priority": "high"}))
            .await;
        engine.run_until_idle().await.unwrap();
        let runs = fx.runs().await;
        assert_eq!(runs.len(), 1);
        let run = engine.run(&ws.id, &runs[0].id).await.unwrap();
        assert_eq!(run.status, RunStatus::Waiting);
        assert_eq!(run.steps.len(), 1);
        assert_eq!(run.steps[0].status, StepStatus::Waiting);
        let tasks = engine
            .tasks(&ws.id, &Default::default())
            .await
            .unwrap()
            .items;
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].title, "Approve Refund");
        assert_eq!(tasks[0].assignee.as_deref(), Some("u_manager"));
        assert_eq!(
            tasks[0].form,
            json!({"approved": "bool", "notes": "string"})
        );
        assert!(tasks[0].timeout_at.is_some());
        engine.store().close().await;
        (ws, auto.id, run.id, case.id)
    };

    // A new process: the task and the waiting run are still there.
    let engine = open_engine(&db, quick_config()).await;
    assert_eq!(
        engine.run(&ws.id, &run_id).await.unwrap().status,
        RunStatus::Waiting
    );

    // Output that does not fit the form: a validation error, nothing changes.
    let bad = engine
        .complete_run_task(
            &ws.id,
            &auto_id,
            &run_id,
            json!({"approved": "yes", "notes": "x"}),
        )
        .await;
    assert!(matches!(bad, Err(RuntimeError::Validation(_))), "{bad:?}");
    let missing = engine
        .complete_run_task(&ws.id, &auto_id, &run_id, json!({"approved": true}))
        .await;
    assert!(
        matches!(missing, Err(RuntimeError::Validation(_))),
        "{missing:?}"
    );
    // Wrong automation id: not found.
    let other = engine
        .complete_run_task(
            &ws.id,
            "aut_other",
            &run_id,
            json!({"approved": true, "notes": "ok"}),
        )
        .await;
    assert!(matches!(other, Err(RuntimeError::NotFound { .. })));

    engine
        .complete_run_task(
            &ws.id,
            &auto_id,
            &run_id,
            json!({"approved": true, "notes": "go ahead"}),
        )
        .await
        .unwrap();
    let second = engine
        .complete_run_task(
            &ws.id,
            &auto_id,
            &run_id,
            json!({"approved": false, "notes": "no"}),
        )
        .await;
    assert!(
        matches!(second, Err(RuntimeError::Conflict(_))),
        "{second:?}"
    );
    engine.run_until_idle().await.unwrap();

    let run = engine.run(&ws.id, &run_id).await.unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
    let ids: Vec<_> = run
        .steps
        .iter()
        .map(|s| (s.id.as_str(), s.status))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("approval", StepStatus::Completed),
            ("decide", StepStatus::Completed),
            ("mark", StepStatus::Completed),
            ("say", StepStatus::Completed)
        ]
    );
    assert_eq!(
        run.steps[0].output,
        Some(json!({"approved": true, "notes": "go ahead"}))
    );
    let case = engine.record(&ws.id, "case", &case_id).await.unwrap();
    assert_eq!(case.fields["status"], json!("escalated"));
    let notes = engine.notifications(&ws.id, Some("u_agent")).await.unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].message, "Approved: go ahead");
    let task = &engine
        .tasks(&ws.id, &Default::default())
        .await
        .unwrap()
        .items[0];
    assert_eq!(task.status, TaskStatus::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_timeout_fails_or_continues() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    for (policy, priority) in [("fail", "high"), ("continue", "low")] {
        let def = json!({
            "name": format!("timeout {policy}"),
            "trigger": {"event": "case.created", "conditions": {"priority": priority}},
            "actions": [{"id": "t", "type": "human_task", "params": {"title": "x", "assignee": "u1", "form": {"ok": "bool"}, "timeout": "1s", "on_timeout": policy}},
                        {"id": "after", "type": "notify_user", "params": {"user_id": "u1", "message": "after"}}],
            "status": "active"
        });
        engine.create_automation(&ws.id, def).await.unwrap();
        fx.create("case", json!({"priority": priority})).await;
    }
    engine.run_until_idle().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    engine.run_until_idle().await.unwrap();
    let runs = fx.runs().await;
    let mut statuses: Vec<_> = runs.iter().map(|r| (r.status, r.error_code)).collect();
    statuses.sort_by_key(|s| s.0.as_str());
    assert_eq!(
        statuses,
        vec![
            (RunStatus::Completed, None),
            (RunStatus::Failed, Some(RunErrorCode::TaskTimeout))
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_parks_on_a_durable_timer_and_cancel_stops_a_run() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let def = json!({
        "name": "wait then notify",
        "trigger": {"event": "case.created"},
        "actions": [{"id": "w", "type": "wait", "params": {"duration": "1s"}},
                    {"id": "n", "type": "notify_user", "params": {"user_id": "u1", "message": "later"}}],
        "status": "active"
    });
    let (auto, _) = engine.create_automation(&ws.id, def).await.unwrap();
    fx.create("case", json!({})).await;
    fx.create("case", json!({})).await;
    engine.run_until_idle().await.unwrap();
    let runs = fx.runs().await;
    assert!(runs.iter().all(|r| r.status == RunStatus::Waiting));
    let cancelled = engine
        .cancel_run(&ws.id, &auto.id, &runs[0].id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert!(matches!(
        engine.cancel_run(&ws.id, &auto.id, &runs[0].id).await,
        Err(RuntimeError::Conflict(_))
    ));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    engine.run_until_idle().await.unwrap();
    let done = engine.run(&ws.id, &runs[1].id).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(
        done.steps[0].output.as_ref().unwrap()["waited"],
        json!(true)
    );
    assert_eq!(
        engine.run(&ws.id, &runs[0].id).await.unwrap().status,
        RunStatus::Cancelled
    );
    assert_eq!(fx.notifications("u1").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_timeout_escalates_and_keeps_waiting() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let def = json!({
        "name": "escalate",
        "trigger": {"event": "case.created"},
        "actions": [{"id": "t", "type": "human_task", "params": {"title": "look", "assignee": "u1", "form": {"ok": "bool"}, "timeout": "1s", "on_timeout": "escalate"}}],
        "status": "active"
    });
    let (auto, _) = engine.create_automation(&ws.id, def).await.unwrap();
    fx.create("case", json!({})).await;
    engine.run_until_idle().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    engine.run_until_idle().await.unwrap();
    let task = engine
        .tasks(&ws.id, &Default::default())
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(task.status, TaskStatus::Open);
    assert_eq!(
        (task.assignee.as_deref(), task.queue.as_deref()),
        (None, Some("escalations"))
    );
    assert_eq!(fx.notifications("escalations").await.len(), 1);
    let run = engine
        .complete_task(&ws.id, &task.id, json!({"ok": true}))
        .await
        .unwrap();
    assert_eq!(run.automation_id, auto.id);
    engine.run_until_idle().await.unwrap();
    assert_eq!(
        engine.run(&ws.id, &run.id).await.unwrap().status,
        RunStatus::Completed
    );
}
