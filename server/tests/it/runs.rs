//! Runs in-process: the seed's run, human tasks (exactly-once completion), cancel, retry,
//! test (dry-run with explanation), and the sandbox with promote.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

pub const APPROVAL: &str = r#"{
  "name": "Approve big deals",
  "trigger": { "event": "opportunity.created", "conditions": "amount > 50000" },
  "actions": [
    { "id": "approval", "type": "human_task",
      "params": { "title": "Approve {{ name }}", "assignee": "u_manager", "form": { "approved": "bool", "notes": "string" } } },
    { "type": "if", "condition": "steps.approval.output.approved",
      "then": [ { "type": "update_field", "params": { "field": "discount_approved", "value": true } } ] }
  ],
  "status": "active"
}"#;

async fn runs_of(app: &TestApp, automation: &str, query: &str) -> Vec<Value> {
    let answer = app
        .get(&format!("/api/v1/automations/{automation}/runs{query}"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_seed_runs_on_a_critical_case() {
    let app = TestApp::new().await;
    app.post(
        "/api/v1/records/queue",
        &json!({"id": "q_escalations", "name": "Escalations"}),
    )
    .await;
    let id = app.create_seed().await;
    let low = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "meh", "priority": "low"}),
        )
        .await;
    assert_eq!(low.status, StatusCode::CREATED);
    let case = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "Server down", "priority": "critical"}),
        )
        .await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text);
    let case_id = case.body["id"].as_str().unwrap().to_string();
    app.settle().await;

    let runs = runs_of(&app, &id, "").await;
    assert_eq!(runs.len(), 1, "only the critical case matches");
    let run = &runs[0];
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["dry_run"], false);
    assert_eq!(run["record"], json!({"object": "case", "id": case_id}));
    assert!(run["duration_ms"].is_number());
    let steps = run["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["type"], "assign_to_queue");
    assert!(steps.iter().all(|s| s["status"] == "completed"));

    let detail = app
        .get(&format!(
            "/api/v1/automations/{id}/runs/{}",
            run["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["id"], run["id"]);
    assert_eq!(
        app.get(&format!("/api/v1/records/case/{case_id}"))
            .await
            .body["queue_id"],
        "q_escalations"
    );

    let slack = app.get("/api/v1/outbox?kind=slack").await;
    let items = slack.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["status"], "dead",
        "no Slack URL configured: {}",
        items[0]
    );
    assert!(
        items[0]["last_error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("slack")
    );

    assert_eq!(runs_of(&app, &id, "?status=completed").await.len(), 1);
    assert_eq!(runs_of(&app, &id, "?status=failed").await.len(), 0);
    assert_eq!(runs_of(&app, &id, "?dry_run=true").await.len(), 0);
    let metrics = app
        .call(axum::http::Method::GET, "/metrics", None, None)
        .await;
    assert!(
        metrics
            .text
            .contains("automations_runs{status=\"completed\"} 1"),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("automations_step_duration_seconds_count 2\n"),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("automations_step_duration_seconds_bucket{le=\"+Inf\"} 2\n")
    );
    assert!(
        metrics
            .text
            .contains("automations_outbox_backlog{kind=\"slack\"} 0\n"),
        "the dead item is no backlog"
    );
}

#[tokio::test]
async fn human_tasks_complete_exactly_once() {
    let app = TestApp::new().await;
    let created = app
        .post_raw("/api/v1/automations", "application/json", APPROVAL)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let opp = app
        .post(
            "/api/v1/records/opportunity",
            &json!({"name": "Big", "amount": 90000}),
        )
        .await;
    let opp_id = opp.body["id"].as_str().unwrap().to_string();
    app.settle().await;

    let runs = runs_of(&app, &id, "?status=waiting").await;
    assert_eq!(runs.len(), 1);
    let run_id = runs[0]["id"].as_str().unwrap().to_string();
    let tasks = app
        .get("/api/v1/tasks?assignee=u_manager&status=open")
        .await;
    assert_eq!(
        tasks.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        tasks.text
    );
    assert_eq!(tasks.body["items"][0]["title"], "Approve Big");

    let path = format!("/api/v1/automations/{id}/runs/{run_id}/complete-task");
    let wrong = app
        .post(
            &path,
            &json!({"output": {"approved": "yes", "notes": "ok"}}),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert_eq!(wrong.error_code(), "invalid_task_output");
    assert_eq!(
        wrong.body["error"]["diagnostics"][0]["pointer"],
        "/output/approved"
    );

    let done = app
        .post(&path, &json!({"output": {"approved": true, "notes": "ok"}}))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["id"], run_id.as_str());
    let again = app
        .post(&path, &json!({"output": {"approved": true, "notes": "ok"}}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    app.settle().await;
    let run = app
        .get(&format!("/api/v1/automations/{id}/runs/{run_id}"))
        .await;
    assert_eq!(run.body["status"], "completed", "{}", run.text);
    assert_eq!(
        app.get(&format!("/api/v1/records/opportunity/{opp_id}"))
            .await
            .body["discount_approved"],
        true
    );
}

#[tokio::test]
async fn waiting_runs_cancel_and_only_failed_runs_retry() {
    let app = TestApp::new().await;
    let id = app
        .post_raw("/api/v1/automations", "application/json", APPROVAL)
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        "/api/v1/records/opportunity",
        &json!({"name": "Big", "amount": 90000}),
    )
    .await;
    app.settle().await;
    let run_id = runs_of(&app, &id, "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let retry = app
        .post(
            &format!("/api/v1/automations/{id}/runs/{run_id}/retry"),
            &json!({}),
        )
        .await;
    assert_eq!(retry.status, StatusCode::CONFLICT, "{}", retry.text);
    let cancel = app
        .post(
            &format!("/api/v1/automations/{id}/runs/{run_id}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text);
    assert_eq!(cancel.body["status"], "cancelled");
    let complete = app
        .post(
            &format!("/api/v1/automations/{id}/runs/{run_id}/complete-task"),
            &json!({"output": {"approved": true, "notes": ""}}),
        )
        .await;
    assert_eq!(complete.status, StatusCode::CONFLICT);
    assert_eq!(
        app.get(&format!("/api/v1/automations/{id}/runs/run_nope"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn test_dry_runs_and_explains() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}/test");
    let before = app.get("/api/v1/records/case").await.body["items"].clone();
    let hit = app
        .post(
            &path,
            &json!({"record": {"subject": "x", "priority": "critical"}}),
        )
        .await;
    assert_eq!(hit.status, StatusCode::OK, "{}", hit.text);
    assert_eq!(hit.body["matched"], true);
    assert_eq!(hit.body["run"]["dry_run"], true);
    let steps = hit.body["run"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert!(
        steps
            .iter()
            .flat_map(|s| s["effects"].as_array().unwrap())
            .all(|e| e["applied"] == false)
    );

    let miss = app
        .post(&path, &json!({"event": {"record": {"priority": "low"}}}))
        .await;
    assert_eq!(miss.body["matched"], false);
    assert_eq!(miss.body["run"], Value::Null);
    let clauses = miss.body["explanation"]["clauses"].as_array().unwrap();
    assert_eq!(clauses[0]["result"], false);
    assert_eq!(
        app.get("/api/v1/records/case").await.body["items"],
        before,
        "a test writes no record"
    );
    assert_eq!(
        app.get("/api/v1/outbox").await.body["items"],
        json!([]),
        "and sends nothing"
    );
}

#[tokio::test]
async fn sandbox_automations_dry_run_until_promoted() {
    let app = TestApp::new().await;
    let sandboxed = json!({
        "name": "Escalate high cases",
        "environment": "sandbox",
        "status": "active",
        "trigger": {"event": "case.created", "conditions": {"priority": "high"}},
        "actions": [{"type": "update_field", "params": {"field": "status", "value": "escalated"}}]
    });
    let created = app.post("/api/v1/automations", &sandboxed).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["environment"], "sandbox");
    let id = created.body["id"].as_str().unwrap().to_string();

    // Sandbox off: a sandbox automation does not run.
    app.post(
        "/api/v1/records/case",
        &json!({"subject": "a", "priority": "high", "status": "new"}),
    )
    .await;
    app.settle().await;
    assert!(runs_of(&app, &id, "").await.is_empty());

    app.post("/api/v1/sandbox/activate", &json!({})).await;
    let case = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "b", "priority": "high", "status": "new"}),
        )
        .await;
    let case_id = case.body["id"].as_str().unwrap().to_string();
    app.settle().await;
    let runs = runs_of(&app, &id, "?dry_run=true").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "completed", "{}", runs[0]);
    assert_eq!(runs[0]["steps"][0]["effects"][0]["applied"], false);
    assert_eq!(
        app.get(&format!("/api/v1/records/case/{case_id}"))
            .await
            .body["status"],
        "new",
        "record unchanged"
    );

    let live = app
        .post(&format!("/api/v1/automations/{id}/promote"), &json!({}))
        .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.text);
    assert_eq!(live.body["environment"], "live");
    let live_id = live.body["id"].as_str().unwrap().to_string();
    let case = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "c", "priority": "high", "status": "new"}),
        )
        .await;
    let case_id = case.body["id"].as_str().unwrap().to_string();
    app.settle().await;
    let live_runs = runs_of(&app, &live_id, "?dry_run=false").await;
    assert_eq!(live_runs.len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/records/case/{case_id}"))
            .await
            .body["status"],
        "escalated"
    );
    let again = app
        .post(
            &format!("/api/v1/automations/{live_id}/promote"),
            &json!({}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "a live automation cannot be promoted"
    );
}

#[tokio::test]
async fn the_inbox_completes_tasks_too() {
    let app = TestApp::new().await;
    let id = app
        .post_raw("/api/v1/automations", "application/json", APPROVAL)
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        "/api/v1/records/opportunity",
        &json!({"name": "Big", "amount": 90000}),
    )
    .await;
    app.post(
        "/api/v1/records/opportunity",
        &json!({"name": "Small", "amount": 10}),
    )
    .await;
    app.settle().await;
    let inbox = app.get("/api/v1/tasks?status=open").await;
    let tasks = inbox.body["items"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "only the big deal asks for approval");
    let task = &tasks[0];
    assert_eq!(task["automation_id"], id.as_str());
    assert_eq!(task["form"], json!({"approved": "bool", "notes": "string"}));
    assert!(
        task.get("workspace_id").is_none(),
        "internal columns stay internal"
    );
    assert_eq!(
        app.get("/api/v1/tasks?queue=nobody").await.body["items"],
        json!([])
    );

    let path = format!("/api/v1/tasks/{}/complete", task["id"].as_str().unwrap());
    let missing = app
        .post(&path, &json!({"output": {"approved": false}}))
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "notes is required: {}",
        missing.text
    );
    let extra = app
        .post(
            &path,
            &json!({"output": {"approved": false, "notes": "", "bonus": 1}}),
        )
        .await;
    assert_eq!(
        extra.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "fields outside the form are refused"
    );
    let done = app
        .post(
            &path,
            &json!({"output": {"approved": false, "notes": "too deep"}}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(
        app.post(&path, &json!({"output": {"approved": false, "notes": "x"}}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    app.settle().await;
    assert_eq!(
        app.get("/api/v1/tasks?status=completed").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get("/api/v1/tasks/task_nope/complete").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let unknown = app
        .post("/api/v1/tasks/task_nope/complete", &json!({"output": {}}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let reader = app.token("default", &["runs:read"]).await;
    let denied = app
        .post_as(
            &reader,
            &path,
            &json!({"output": {"approved": true, "notes": ""}}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}
