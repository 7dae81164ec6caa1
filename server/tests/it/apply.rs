//! `POST /automations/apply`: creates, updates and archives in one transaction. Any invalid
//! definition or stale version refuses the whole set and writes nothing; of 16 concurrent
//! sets that update the same version exactly one is applied.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{ADMIN, TestApp};

const VALID: &str = "automation \"Critical\" {\n  status active\n  when case.created\n  if priority == \"critical\"\n  do {\n    assign_to_queue(queue_id: \"q1\")\n  }\n}\n";

/// `VALID` assigning to another queue.
fn dsl_with(queue: &str) -> String {
    VALID.replace("\"q1\"", queue)
}

async fn apply(app: &TestApp, changes: Value) -> (StatusCode, Value) {
    let answer = app
        .post("/api/v1/automations/apply", &json!({ "changes": changes }))
        .await;
    (answer.status, answer.body)
}

#[tokio::test]
async fn creates_updates_and_archives_together() {
    let app = TestApp::new().await;
    let kept = app.create_seed().await;
    let gone = app.create_seed().await;
    let (status, body) = apply(
        &app,
        json!([
            { "op": "create", "dsl": VALID },
            { "op": "update", "id": kept, "version": 1, "dsl": dsl_with("\"q2\"") },
            { "op": "archive", "id": gone, "version": 1 },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ops: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["created", "updated", "archived"]);
    let updated = app.get(&format!("/api/v1/automations/{kept}")).await;
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.body["name"], "Critical");
    let archived = app.get(&format!("/api/v1/automations/{gone}")).await;
    assert_eq!(archived.body["status"], "archived");
    let audit = app.get("/api/v1/audit").await;
    let via_apply = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["details"]["via"] == "apply")
        .count();
    assert_eq!(via_apply, 3, "{}", audit.body);
}

#[tokio::test]
async fn one_invalid_definition_refuses_the_whole_set() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let before = app.fingerprint().await;
    let (status, body) = apply(
        &app,
        json!([
            { "op": "create", "dsl": VALID },
            { "op": "update", "id": id, "dsl": VALID.replace("priority", "priorty") },
            { "op": "create", "definition": { "name": "x", "trigger": { "event": "case.nope" }, "actions": [] } },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("2 of 3 changes are invalid"), "{message}");
    let diagnostics = body["error"]["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics.iter().any(|d| d["notes"][0] == "in change 1"
            && d["message"].as_str().unwrap().contains("priorty")),
        "{body}"
    );
    assert!(
        diagnostics.iter().any(|d| d["notes"][0] == "in change 2"),
        "{body}"
    );
    assert_eq!(app.fingerprint().await, before, "something was written");
}

#[tokio::test]
async fn a_stale_version_or_unknown_id_refuses_the_whole_set() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let before = app.fingerprint().await;
    let (status, body) = apply(
        &app,
        json!([
            { "op": "create", "dsl": VALID },
            { "op": "update", "id": id, "version": 7, "dsl": VALID },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = apply(
        &app,
        json!([
            { "op": "create", "dsl": VALID },
            { "op": "archive", "id": "aut_nothing" },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(app.fingerprint().await, before, "something was written");
}

#[tokio::test]
async fn malformed_changes_are_400_and_name_the_change() {
    let app = TestApp::new().await;
    for (changes, says) in [
        (
            json!([{ "op": "rename", "id": "a" }]),
            "change 0: op `rename`",
        ),
        (
            json!([{ "op": "update", "dsl": VALID }]),
            "change 0: `id` is required",
        ),
        (json!([{ "op": "create" }]), "as `dsl` or as `definition`"),
        (
            json!([{ "op": "create", "dsl": VALID, "extra": 1 }]),
            "extra",
        ),
    ] {
        let (status, body) = apply(&app, changes).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
    let many: Vec<Value> = (0..501)
        .map(|_| json!({ "op": "create", "dsl": VALID }))
        .collect();
    let (status, body) = apply(&app, Value::Array(many)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 500")
    );
}

#[tokio::test]
async fn of_16_concurrent_sets_on_one_version_exactly_one_applies() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let mut handles = Vec::new();
    for i in 0..16 {
        let body = json!({ "changes": [
            { "op": "create", "dsl": VALID.replace("Critical", &format!("C{i}")) },
            { "op": "update", "id": id, "version": 1, "dsl": dsl_with(&format!("\"p{i}\"")) },
        ]});
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/automations/apply")
            .header("authorization", format!("Bearer {ADMIN}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let router = app.router.clone();
        handles.push(tokio::spawn(async move {
            router.oneshot(request).await.unwrap().status()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT)
    );
    let list = app.get("/api/v1/automations?limit=100").await;
    // The seed (now version 2) and the one create of the set that won.
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        list.body
    );
    let seed = app.get(&format!("/api/v1/automations/{id}")).await;
    assert_eq!(seed.body["version"], 2);
}

/// An apply keeps each automation in its environment, as every edit does: a sandbox
/// copy's file without `environment` keeps it in the sandbox, and a change that names
/// another environment refuses the whole set.
#[tokio::test]
async fn an_apply_keeps_each_automation_in_its_environment() {
    let app = TestApp::new().await;
    let live = app.create_seed().await;
    let copy = app.sandbox_copy(&live).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = apply(
        &app,
        json!([{ "op": "update", "id": copy, "version": 1, "dsl": VALID }]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kept = app.get(&format!("/api/v1/automations/{copy}")).await;
    assert_eq!(kept.body["environment"], "sandbox", "{}", kept.text);
    assert_eq!(kept.body["version"], 2);

    let mut to_live = kept.body["definition"].clone();
    to_live["environment"] = json!("live");
    let (status, body) = apply(
        &app,
        json!([
            { "op": "create", "dsl": VALID },
            { "op": "update", "id": copy, "version": 2, "definition": to_live },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("promote"), "{body}");
    let after = app.get(&format!("/api/v1/automations/{copy}")).await;
    assert_eq!(after.body["environment"], "sandbox");
    assert_eq!(after.body["version"], 2);
    let listed = app.get("/api/v1/automations").await;
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        2,
        "the set's create was not written either: {}",
        listed.text
    );
}
