//! Automations: the seed verbatim, DSL bodies, versions, status, If-Match, archive, validate.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN, SEED, TestApp};

const DSL: &str = r#"automation "Escalate critical cases" {
  status active
  when case.created
  if priority == "critical"
  do {
    assign_to_queue(queue_id: "q_escalations")
  }
}
"#;

/// A create, an edit and a status change answer the instants a read gives back (the
/// stored precision), as record writes do.
#[tokio::test]
async fn writes_answer_the_timestamps_a_read_gives_back() {
    let app = TestApp::new().await;
    let created = app
        .post_raw("/api/v1/automations", "application/json", SEED)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let path = format!(
        "/api/v1/automations/{}",
        created.body["id"].as_str().unwrap()
    );
    let read = app.get(&path).await.body;
    for key in ["created_at", "updated_at"] {
        assert_eq!(created.body[key], read[key], "{key}");
    }
    let paused = app
        .post(&format!("{path}/status"), &json!({"status": "paused"}))
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    assert_eq!(
        paused.body["updated_at"],
        app.get(&path).await.body["updated_at"]
    );
    let edited = app
        .call(
            Method::PUT,
            &path,
            Some(ADMIN),
            Some(("application/json", SEED.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(
        edited.body["updated_at"],
        app.get(&path).await.body["updated_at"]
    );
}

#[tokio::test]
async fn the_seed_is_accepted_verbatim() {
    let app = TestApp::new().await;
    let answer = app
        .post_raw("/api/v1/automations", "application/json", SEED)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let body = &answer.body;
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(body["version"], 1);
    assert_eq!(body["status"], "active");
    assert_eq!(body["environment"], "live");
    assert_eq!(body["name"], "Auto-assign high-priority cases");
    assert!(body["created_at"].is_string() && body["updated_at"].is_string());
    assert_eq!(body["definition"]["trigger"]["event"], "case.created");
    assert_eq!(body["definition"]["actions"].as_array().unwrap().len(), 2);
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        answer.headers["location"],
        format!("/api/v1/automations/{id}").as_str()
    );

    let got = app.get(&format!("/api/v1/automations/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["id"], id);
    assert_eq!(got.headers["etag"], "\"1\"");

    let list = app.get("/api/v1/automations").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn dsl_bodies_are_accepted_as_text() {
    let app = TestApp::new().await;
    let answer = app.post_raw("/api/v1/automations", "text/plain", DSL).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.body["name"], "Escalate critical cases");
    assert_eq!(answer.body["status"], "active");
}

#[tokio::test]
async fn invalid_definitions_are_422_with_pointers_or_lines() {
    let app = TestApp::new().await;
    let mut bad: Value = serde_json::from_str(SEED).unwrap();
    bad["trigger"]["conditions"] = json!({"priorty": "critical"});
    let answer = app.post("/api/v1/automations", &bad).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert_eq!(answer.error_code(), "invalid_definition");
    let diagnostics = answer.body["error"]["diagnostics"].as_array().unwrap();
    assert!(!diagnostics.is_empty());
    let d = &diagnostics[0];
    assert!(d["code"].as_str().unwrap().starts_with('E'), "{d}");
    assert_eq!(d["severity"], "error");
    assert!(
        d["pointer"]
            .as_str()
            .unwrap()
            .starts_with("/trigger/conditions"),
        "{d}"
    );
    assert_eq!(d["suggestion"], "priority");

    let answer = app.post("/api/v1/automations", &json!({"name": "x", "trigger": {"event": "case.created"}, "actions": [{"type": "teleport"}]})).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown action types are refused"
    );

    let answer = app.post_raw("/api/v1/automations", "text/plain", "automation \"x\" {\n  when case.created\n  if priorty == \"high\"\n  do { assign_to_queue(queue_id: \"q\") }\n}\n").await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    let d = &answer.body["error"]["diagnostics"][0];
    assert_eq!(d["line"], 3, "{d}");
    assert!(d["column"].as_u64().unwrap() >= 1);
    assert_eq!(
        app.get("/api/v1/automations").await.body["items"],
        json!([]),
        "nothing stored"
    );
}

#[tokio::test]
async fn validate_reports_without_storing() {
    let app = TestApp::new().await;
    let answer = app
        .post_raw("/api/v1/automations/validate", "application/json", SEED)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["valid"], true);
    assert_eq!(answer.body["errors"], 0);
    let answer = app
        .post(
            "/api/v1/automations/validate",
            &json!({"name": "x", "trigger": {"event": "case.exploded"}, "actions": []}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["valid"], false);
    assert!(answer.body["errors"].as_u64().unwrap() >= 1);
    let answer = app
        .post_raw("/api/v1/automations/validate", "text/plain", DSL)
        .await;
    assert_eq!(answer.body["valid"], true, "{}", answer.text);
    assert_eq!(
        app.get("/api/v1/automations").await.body["items"],
        json!([])
    );
}

#[tokio::test]
async fn updates_make_versions_and_status_changes_do_not() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}");
    let mut def: Value = serde_json::from_str(SEED).unwrap();
    def["name"] = json!("Renamed");
    let put = app.put(&path, &def).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["version"], 2);
    assert_eq!(put.body["name"], "Renamed");

    let patched = app
        .patch(&path, &json!({"description": "Routes critical cases"}))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["version"], 3);
    assert_eq!(patched.body["description"], "Routes critical cases");

    let status = app
        .post(&format!("{path}/status"), &json!({"status": "paused"}))
        .await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.body["status"], "paused");
    assert_eq!(status.body["version"], 3);
    let status = app.patch(&path, &json!({"status": "active"})).await;
    assert_eq!(status.body["status"], "active");
    assert_eq!(
        app.post(&format!("{path}/status"), &json!({"status": "sleeping"}))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let versions = app.get(&format!("{path}/versions")).await;
    let items = versions.body["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![3, 2, 1]
    );
    assert_eq!(
        items[2]["definition"]["name"],
        "Auto-assign high-priority cases"
    );
    let page = app.get(&format!("{path}/versions?limit=2")).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("{path}/versions?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest.body["items"][0]["version"], 1);
}

#[tokio::test]
async fn stale_if_match_and_archived_edits_are_409() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}");
    let mut request = axum::http::Request::builder()
        .method(Method::PATCH)
        .uri(&path)
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .header("if-match", "\"7\"");
    let stale = app
        .send(
            request
                .body(axum::body::Body::from(r#"{"description":"x"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    request = axum::http::Request::builder()
        .method(Method::PATCH)
        .uri(&path)
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .header("if-match", "\"1\"");
    let fresh = app
        .send(
            request
                .body(axum::body::Body::from(r#"{"description":"x"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);

    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    let archived = app.get(&path).await;
    assert_eq!(archived.body["status"], "archived");
    let edit = app.patch(&path, &json!({"name": "again"})).await;
    assert_eq!(edit.status, StatusCode::CONFLICT);
    assert_eq!(edit.error_code(), "conflict");
    assert_eq!(
        app.post(&format!("{path}/status"), &json!({"status": "active"}))
            .await
            .status,
        StatusCode::CONFLICT
    );
}

fn writer(name: &str, status: &str, on: &str, field: &str, value: &str) -> Value {
    json!({
        "name": name,
        "status": status,
        "trigger": {"event": format!("case.{on}_changed")},
        "actions": [{"type": "update_field", "params": {"field": field, "value": value}}]
    })
}

fn codes(answer: &Value) -> Vec<String> {
    answer["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings array: {answer}"))
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn writes_answer_static_trigger_cycles_as_warnings() {
    let app = TestApp::new().await;
    let a = app
        .post(
            "/api/v1/automations",
            &writer("A", "active", "priority", "status", "open"),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert!(!codes(&a.body).contains(&"W0307".to_string()), "{}", a.text);

    // B writes priority on a status change; A writes status on a priority change.
    let b = app
        .post(
            "/api/v1/automations",
            &writer("B", "draft", "status", "priority", "high"),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    // A draft is warned too: the cycle forms as soon as it is activated.
    assert_eq!(codes(&b.body), ["W0307"], "{}", b.text);
    let b_id = b.body["id"].as_str().unwrap();

    let activated = app
        .post(
            &format!("/api/v1/automations/{b_id}/status"),
            &json!({"status": "active"}),
        )
        .await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.text);
    assert_eq!(codes(&activated.body), ["W0307"], "{}", activated.text);
    let warning = &activated.body["warnings"][0];
    assert_eq!(warning["severity"], "warning");
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("\"A\"") && message.contains("\"B\""),
        "{message}"
    );

    // A GET carries no warnings; a self-retriggering update warns on PUT.
    let got = app.get(&format!("/api/v1/automations/{b_id}")).await;
    assert!(got.body.get("warnings").is_none(), "{}", got.text);
    let own = app
        .call(
            Method::PUT,
            &format!("/api/v1/automations/{b_id}"),
            Some(ADMIN),
            Some((
                "application/json",
                serde_json::to_vec(&writer("B", "active", "status", "status", "closed")).unwrap(),
            )),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(codes(&own.body), ["W0307"], "{}", own.text);
    assert!(
        own.body["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("re-triggers itself"),
        "{}",
        own.text
    );
    // A PATCH of a field and the status answers the cycle once.
    let both = app
        .patch(
            &format!("/api/v1/automations/{b_id}"),
            &json!({"description": "closes itself", "status": "active"}),
        )
        .await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.text);
    assert_eq!(codes(&both.body), ["W0307"], "{}", both.text);
}
