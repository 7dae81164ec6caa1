//! `If-Match` under concurrency: the version is compared inside the write transaction, so
//! of concurrent writers that saw the same version exactly one succeeds (DESIGN §12.1: the
//! others get 409), and a PATCH without `If-Match` never loses a concurrent edit.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{ADMIN, TestApp};

const CONCURRENCY: usize = 16;

/// One request with an optional `If-Match`, sent as its own task: answers the status and body.
fn spawn_call(
    app: &TestApp,
    method: Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> tokio::task::JoinHandle<(StatusCode, Value)> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json");
    if let Some(tag) = if_match {
        builder = builder.header("if-match", tag);
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = builder.body(Body::from(body)).unwrap();
    let router = app.router.clone();
    tokio::spawn(async move {
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    })
}

async fn statuses(handles: Vec<tokio::task::JoinHandle<(StatusCode, Value)>>) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().0);
    }
    out
}

fn count(statuses: &[StatusCode], wanted: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == wanted).count()
}

async fn versions(app: &TestApp, path: &str) -> Vec<i64> {
    let answer = app.get(&format!("{path}/versions?limit=500")).await;
    answer.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_with_one_if_match_make_one_version() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}");
    let handles = (0..CONCURRENCY)
        .map(|i| {
            let body = json!({ "description": format!("edit {i}") });
            spawn_call(&app, Method::PATCH, &path, Some("\"1\""), Some(body))
        })
        .collect();
    let got = statuses(handles).await;
    assert_eq!(count(&got, StatusCode::OK), 1, "{got:?}");
    assert_eq!(
        count(&got, StatusCode::CONFLICT),
        CONCURRENCY - 1,
        "{got:?}"
    );
    assert_eq!(versions(&app, &path).await, vec![2, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_with_one_if_match_make_one_version() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}");
    let seed: Value = serde_json::from_str(crate::support::SEED).unwrap();
    let handles = (0..CONCURRENCY)
        .map(|i| {
            let mut body = seed.clone();
            body["name"] = json!(format!("replaced {i}"));
            spawn_call(&app, Method::PUT, &path, Some("W/\"1\""), Some(body))
        })
        .collect();
    let got = statuses(handles).await;
    assert_eq!(count(&got, StatusCode::OK), 1, "{got:?}");
    assert_eq!(
        count(&got, StatusCode::CONFLICT),
        CONCURRENCY - 1,
        "{got:?}"
    );
    assert_eq!(versions(&app, &path).await, vec![2, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn patches_without_if_match_each_make_a_version() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}");
    let handles = (0..CONCURRENCY)
        .map(|i| {
            let body = json!({ "description": format!("edit {i}") });
            spawn_call(&app, Method::PATCH, &path, None, Some(body))
        })
        .collect();
    let got = statuses(handles).await;
    assert_eq!(count(&got, StatusCode::OK), CONCURRENCY, "{got:?}");
    let expected: Vec<i64> = (1..=CONCURRENCY as i64 + 1).rev().collect();
    assert_eq!(versions(&app, &path).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_edit_makes_a_pending_status_change_or_delete_stale() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}");
    let edit = app.patch(&path, &json!({"description": "v2"})).await;
    assert_eq!(edit.status, StatusCode::OK, "{:?}", edit.body);
    // Status change, DELETE and a status PATCH made against version 1 are all stale now.
    let pause = spawn_call(
        &app,
        Method::POST,
        &format!("{path}/status"),
        Some("\"1\""),
        Some(json!({"status": "paused"})),
    );
    let status_patch = spawn_call(
        &app,
        Method::PATCH,
        &path,
        Some("\"1\""),
        Some(json!({"status": "paused"})),
    );
    let delete = spawn_call(&app, Method::DELETE, &path, Some("\"1\""), None);
    let got = statuses(vec![pause, status_patch, delete]).await;
    assert_eq!(got, vec![StatusCode::CONFLICT; 3]);
    assert_eq!(app.get(&path).await.body["status"], "active");
    let delete = spawn_call(&app, Method::DELETE, &path, Some("\"2\""), None);
    assert_eq!(statuses(vec![delete]).await, vec![StatusCode::NO_CONTENT]);
    assert_eq!(app.get(&path).await.body["status"], "archived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_promotes_make_one_live_automation() {
    let app = TestApp::new().await;
    let mut sandbox: Value = serde_json::from_str(crate::support::SEED).unwrap();
    sandbox["environment"] = json!("sandbox");
    let created = app.post("/api/v1/automations", &sandbox).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let promote = format!("/api/v1/automations/{id}/promote");
    let handles = (0..CONCURRENCY)
        .map(|_| spawn_call(&app, Method::POST, &promote, None, None))
        .collect();
    let got = statuses(handles).await;
    assert_eq!(count(&got, StatusCode::OK), CONCURRENCY, "{got:?}");
    let live = app
        .get("/api/v1/automations?environment=live&limit=500")
        .await;
    let items = live.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", live.body);
    // Every promote after the first made a new version of that one live automation.
    assert_eq!(items[0]["version"], CONCURRENCY as i64);

    // With If-Match naming the sandbox's version, all but one fail when it changes between.
    let handles = (0..CONCURRENCY)
        .map(|i| {
            let body = json!({ "description": format!("sandbox edit {i}") });
            spawn_call(
                &app,
                Method::PATCH,
                &format!("/api/v1/automations/{id}"),
                Some("\"1\""),
                Some(body),
            )
        })
        .collect();
    let got = statuses(handles).await;
    assert_eq!(count(&got, StatusCode::OK), 1, "{got:?}");
    let stale = spawn_call(&app, Method::POST, &promote, Some("\"1\""), None);
    assert_eq!(statuses(vec![stale]).await, vec![StatusCode::CONFLICT]);
}
