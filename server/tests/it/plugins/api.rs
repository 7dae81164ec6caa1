//! Example plugins through the API: upload (multipart), grants, a `plugin` step in an
//! automation applying its effects live, recording them in dry-run, and a hostile plugin
//! failing its step while the server keeps serving.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::build::{component, manifest_text};
use crate::support::{Answer, TestApp};

pub(crate) const BOUNDARY: &str = "plugin-upload-boundary";

pub(crate) fn multipart(manifest: &str, wasm: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"manifest\"\r\nContent-Type: application/json\r\n\r\n{manifest}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"component\"; filename=\"p.wasm\"\r\nContent-Type: application/wasm\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(wasm);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(super) async fn upload(app: &TestApp, manifest: &str, wasm: &[u8]) -> Answer {
    app.post_raw(
        "/api/v1/plugins",
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        multipart(manifest, wasm),
    )
    .await
}

/// Uploads example `name` and grants everything its manifest asks for.
pub(super) async fn install(app: &TestApp, name: &str) {
    let manifest = manifest_text(name);
    let answer = upload(app, &manifest, &component(name)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let requested: Value =
        serde_json::from_str::<Value>(&manifest).unwrap()["capabilities"].clone();
    let granted = app
        .post(
            &format!("/api/v1/plugins/{name}/grants"),
            &json!({ "capabilities": requested }),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
}

pub(super) async fn automation(app: &TestApp, definition: Value) -> String {
    let created = app.post("/api/v1/automations", &definition).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_str().unwrap().to_string()
}

pub(super) async fn runs_of(app: &TestApp, automation: &str, query: &str) -> Vec<Value> {
    let answer = app
        .get(&format!("/api/v1/automations/{automation}/runs{query}"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body["items"].as_array().unwrap().clone()
}

pub(super) fn scorer(environment: &str) -> Value {
    json!({
        "name": "Score new leads",
        "environment": environment,
        "status": "active",
        "trigger": {"event": "lead.created"},
        "actions": [{"type": "plugin", "params": {
            "plugin": "lead-scorer", "version": "0.1.0", "input": {"lead_id": "l_1"}}}]
    })
}

pub(super) async fn create_lead(app: &TestApp) {
    let lead = app
        .post(
            "/api/v1/records/lead",
            &json!({"id": "l_1", "email": "ana@acme.example", "first_name": "Ana"}),
        )
        .await;
    assert_eq!(lead.status, StatusCode::CREATED, "{}", lead.text);
}

#[tokio::test]
async fn an_upload_over_the_upload_limit_is_413_naming_the_limit() {
    let config = automations_server::ApiConfig {
        plugin_upload_limit: 1 << 20,
        ..automations_server::ApiConfig::default()
    };
    let app = TestApp::with_config(config).await;
    let big = vec![0u8; 2 << 20];
    let answer = upload(&app, &manifest_text("lead-scorer"), &big).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text
    );
    assert_eq!(answer.error_code(), "payload_too_large");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("1048576 bytes (1 MiB)") && message.contains("--plugin-upload-limit"),
        "{message}"
    );
    // Just under the limit, the same upload is read and judged on its content.
    let small = upload(
        &app,
        &manifest_text("lead-scorer"),
        &big[..(1 << 20) - 4096],
    )
    .await;
    assert_eq!(
        small.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        small.text
    );
}

#[tokio::test]
async fn upload_list_and_grant() {
    let app = TestApp::new().await;
    install(&app, "lead-scorer").await;
    let list = app.get("/api/v1/plugins").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let item = &list.body["items"][0];
    assert_eq!(item["name"], "lead-scorer");
    // Every field is documented (the OpenAPI mirror of a plugin).
    let doc = app.get("/openapi.json").await.body;
    let documented = doc["components"]["schemas"]["PluginDoc"]["properties"]
        .as_object()
        .unwrap()
        .clone();
    for key in item.as_object().unwrap().keys() {
        assert!(
            documented.contains_key(key),
            "`{key}` of a plugin is undocumented"
        );
    }
    assert_eq!(item["versions"], json!(["0.1.0"]));
    assert!(
        item["granted"]
            .as_array()
            .unwrap()
            .contains(&json!("records:write:lead"))
    );

    let bad = upload(&app, r#"{"name": "x"}"#, &component("lead-scorer")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let junk = upload(&app, &manifest_text("lead-scorer"), b"not wasm").await;
    assert_eq!(
        junk.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        junk.text
    );
    let unknown = app
        .post("/api/v1/plugins/nope/grants", &json!({"capabilities": []}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);

    let reader = app.token("default", &["records:read"]).await;
    assert_eq!(
        app.get_as(&reader, "/api/v1/plugins").await.status,
        StatusCode::FORBIDDEN
    );

    // Pages by name.
    install(&app, "slack-formatter").await;
    let first = app.get("/api/v1/plugins?limit=1").await;
    assert_eq!(
        first.body["items"][0]["name"], "lead-scorer",
        "{}",
        first.text
    );
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/api/v1/plugins?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(
        second.body["items"][0]["name"], "slack-formatter",
        "{}",
        second.text
    );
    assert_eq!(second.body["next_cursor"], Value::Null);
    assert_eq!(
        app.get("/api/v1/plugins?cursor=nope").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn uploads_and_grants_are_audited() {
    let app = TestApp::new().await;
    install(&app, "lead-scorer").await;
    let refused = upload(&app, r#"{"name": "x"}"#, &component("lead-scorer")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let log = app.get("/api/v1/audit?kind=plugin").await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let entries = log.body["items"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["plugin.grant", "plugin.upload"],
        "a refused upload is not audited"
    );
    let (grant, upload) = (&entries[0], &entries[1]);
    assert_eq!(upload["target"], "lead-scorer");
    assert_eq!(upload["details"]["version"], "0.1.0");
    assert_eq!(upload["details"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(upload["actor"]["name"], "admin");
    assert!(
        upload["actor"]["token_id"]
            .as_str()
            .unwrap()
            .starts_with("tok_")
    );
    assert_eq!(grant["target"], "lead-scorer");
    assert!(
        grant["details"]["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("records:write:lead"))
    );
}

#[tokio::test]
async fn lead_scorer_writes_the_score_through_a_plugin_step() {
    let app = TestApp::new().await;
    install(&app, "lead-scorer").await;
    let id = automation(&app, scorer("live")).await;
    create_lead(&app).await;
    app.settle().await;

    let runs = runs_of(&app, &id, "").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "completed", "{}", runs[0]);
    let step = &runs[0]["steps"][0];
    assert_eq!(step["output"]["lead_id"], "l_1", "{step}");
    let score = step["output"]["score"].as_i64().expect("a score");
    assert!(score > 0, "{step}"); // a company email
    assert_eq!(step["effects"][0]["applied"], true, "{step}");
    let lead = app.get("/api/v1/records/lead/l_1").await;
    assert_eq!(lead.body["score"], json!(score), "{}", lead.text);
}

#[tokio::test]
async fn in_the_sandbox_plugin_effects_are_recorded_not_applied() {
    let app = TestApp::new().await;
    install(&app, "lead-scorer").await;
    let id = automation(&app, scorer("sandbox")).await;
    app.post("/api/v1/sandbox/activate", &json!({})).await;
    create_lead(&app).await;
    app.settle().await;

    let runs = runs_of(&app, &id, "?dry_run=true").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "completed", "{}", runs[0]);
    let effect = &runs[0]["steps"][0]["effects"][0];
    assert_eq!(effect["applied"], false, "{effect}");
    let lead = app.get("/api/v1/records/lead/l_1").await;
    assert_eq!(lead.body["score"], Value::Null, "{}", lead.text);
}

#[tokio::test]
async fn without_a_grant_the_plugin_step_fails_readably() {
    let app = TestApp::new().await;
    let answer = upload(
        &app,
        &manifest_text("lead-scorer"),
        &component("lead-scorer"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let id = automation(&app, scorer("live")).await;
    create_lead(&app).await;
    app.settle().await;
    let runs = runs_of(&app, &id, "").await;
    assert_eq!(runs[0]["status"], "failed", "{}", runs[0]);
    assert!(
        runs[0].to_string().contains("records:read:lead"),
        "{}",
        runs[0]
    );
}

#[tokio::test]
async fn a_looping_plugin_fails_its_step_and_the_server_keeps_serving() {
    let app = TestApp::new().await;
    install(&app, "hostile").await;
    let id = automation(
        &app,
        json!({
            "name": "Hostile",
            "status": "active",
            "trigger": {"event": "lead.created"},
            "actions": [{"type": "plugin", "params": {
                "plugin": "hostile", "input": {"attack": "infinite-loop"}}}]
        }),
    )
    .await;
    let other = automation(
        &app,
        json!({
            "name": "Escalate",
            "status": "active",
            "trigger": {"event": "case.created"},
            "actions": [{"type": "assign_to_queue", "params": {"queue_id": "q_1"}}]
        }),
    )
    .await;
    create_lead(&app).await;
    // The looping call starts outside the write transaction ...
    app.engine().run_queued_once().await.unwrap();
    // ... so while it loops, another event's run is written and completes.
    let case = app
        .post(
            "/api/v1/records/case",
            &json!({"id": "c_1", "subject": "x"}),
        )
        .await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text);
    app.engine().run_queued_once().await.unwrap();
    let done = runs_of(&app, &other, "").await;
    assert_eq!(done[0]["status"], "completed", "{}", done[0]);
    let looping = runs_of(&app, &id, "").await;
    assert_eq!(looping[0]["status"], "running", "{}", looping[0]);

    app.settle().await;
    let runs = runs_of(&app, &id, "").await;
    assert_eq!(runs[0]["status"], "failed", "{}", runs[0]);
    let text = runs[0].to_string();
    assert!(text.contains("hostile@0.1.0"), "{text}");
    assert_eq!(app.get("/api/v1/healthz").await.status, StatusCode::OK);
    let metrics = app.get("/metrics").await;
    assert!(
        metrics
            .text
            .contains("automations_plugin_failures_total{kind=\"timeout\"} 1\n"),
        "{}",
        metrics.text
    );
}

#[tokio::test]
async fn a_metered_and_an_unmetered_plugin_run_side_by_side() {
    // The lead scorer has no fuel limit (unmetered code); the hostile plugin gets one,
    // so it runs on the metered engine: its loop runs out of fuel, while the scorer's
    // step and the hostile plugin's own fresh-state check both succeed.
    let app = TestApp::new().await;
    install(&app, "lead-scorer").await;
    let mut manifest: Value = serde_json::from_str(&manifest_text("hostile")).unwrap();
    manifest["limits"]["fuel"] = json!(50_000_000);
    manifest["limits"]["timeout_ms"] = json!(10_000);
    let answer = upload(&app, &manifest.to_string(), &component("hostile")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let hostile = |name: &str, attack: &str| {
        json!({
            "name": name,
            "status": "active",
            "trigger": {"event": "lead.created"},
            "actions": [{"type": "plugin", "params": {
                "plugin": "hostile", "input": {"attack": attack}}}]
        })
    };
    let looping = automation(&app, hostile("Loop", "infinite-loop")).await;
    let remember = automation(&app, hostile("Remember", "remember")).await;
    let scorer = automation(&app, scorer("live")).await;
    create_lead(&app).await;
    app.settle().await;

    let runs = runs_of(&app, &scorer, "").await;
    assert_eq!(runs[0]["status"], "completed", "{}", runs[0]);
    assert!(runs[0]["steps"][0]["output"]["score"].as_i64().is_some());
    let runs = runs_of(&app, &remember, "").await;
    assert_eq!(runs[0]["status"], "completed", "{}", runs[0]);
    assert_eq!(
        runs[0]["steps"][0]["output"]["calls_before"], 0,
        "{}",
        runs[0]
    );
    let runs = runs_of(&app, &looping, "").await;
    assert_eq!(runs[0]["status"], "failed", "{}", runs[0]);
    let text = runs[0].to_string();
    assert!(text.contains("ran out of fuel (limit 50000000)"), "{text}");
}
