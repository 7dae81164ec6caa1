//! Workspaces never see each other: every id of one is a 404 for the other, lists are
//! disjoint, and nothing of one workspace changes through the other's calls.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::runs::APPROVAL;
use crate::support::TestApp;

#[tokio::test]
async fn another_workspaces_ids_are_404() {
    let app = TestApp::new().await;
    let a = app.token("alpha", &["admin"]).await;
    let b = app.token("beta", &["admin"]).await;
    let body = |v: serde_json::Value| Some(("application/json", v.to_string().into_bytes()));

    let automation = app
        .call(
            Method::POST,
            "/api/v1/automations",
            Some(&a),
            Some(("application/json", APPROVAL.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(
        automation.status,
        StatusCode::CREATED,
        "{}",
        automation.text
    );
    let aid = automation.body["id"].as_str().unwrap().to_string();
    let opp = app
        .call(
            Method::POST,
            "/api/v1/records/opportunity",
            Some(&a),
            body(json!({"name": "Big", "amount": 90000})),
        )
        .await;
    let oid = opp.body["id"].as_str().unwrap().to_string();
    app.settle().await;
    let runs = app
        .get_as(&a, &format!("/api/v1/automations/{aid}/runs"))
        .await;
    let rid = runs.body["items"][0]["id"].as_str().unwrap().to_string();
    let tasks = app.get_as(&a, "/api/v1/tasks").await;
    let tid = tasks.body["items"][0]["id"].as_str().unwrap().to_string();
    let field = app
        .call(
            Method::POST,
            "/api/v1/schema/opportunity/fields",
            Some(&a),
            body(json!({"name": "region", "type": "string"})),
        )
        .await;
    assert_eq!(field.status, StatusCode::CREATED, "{}", field.text);
    let before = app.fingerprint().await;

    let output = json!({"output": {"approved": true, "notes": ""}});
    let probes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/api/v1/automations/{aid}"), None),
        (
            Method::PUT,
            format!("/api/v1/automations/{aid}"),
            Some(serde_json::from_str(APPROVAL).unwrap()),
        ),
        (
            Method::PATCH,
            format!("/api/v1/automations/{aid}"),
            Some(json!({"status": "paused"})),
        ),
        (Method::DELETE, format!("/api/v1/automations/{aid}"), None),
        (
            Method::POST,
            format!("/api/v1/automations/{aid}/status"),
            Some(json!({"status": "paused"})),
        ),
        (
            Method::GET,
            format!("/api/v1/automations/{aid}/versions"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/automations/{aid}/test"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/automations/{aid}/promote"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/automations/{aid}/runs"), None),
        (
            Method::GET,
            format!("/api/v1/automations/{aid}/runs/{rid}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/automations/{aid}/runs/{rid}/complete-task"),
            Some(output.clone()),
        ),
        (
            Method::POST,
            format!("/api/v1/automations/{aid}/runs/{rid}/cancel"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/automations/{aid}/runs/{rid}/retry"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/tasks/{tid}/complete"),
            Some(output.clone()),
        ),
        (
            Method::GET,
            format!("/api/v1/records/opportunity/{oid}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/records/opportunity/{oid}"),
            Some(json!({"amount": 1})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/records/opportunity/{oid}"),
            None,
        ),
    ];
    for (method, path, json_body) in probes {
        let answer = app
            .call(method.clone(), &path, Some(&b), json_body.and_then(body))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {path} as another workspace: {}",
            answer.text
        );
        assert_eq!(answer.error_code(), "not_found");
    }
    assert_eq!(
        app.fingerprint().await,
        before,
        "the other workspace changed nothing"
    );

    assert_eq!(
        app.get_as(&b, "/api/v1/outbox").await.body["items"],
        json!([])
    );
    for path in [
        "/api/v1/automations",
        "/api/v1/tasks",
        "/api/v1/records/opportunity",
    ] {
        let answer = app.get_as(&b, path).await;
        assert_eq!(
            answer.body["items"],
            json!([]),
            "{path} leaks across workspaces"
        );
        assert_ne!(
            app.get_as(&a, path).await.body["items"],
            json!([]),
            "{path} of the owner"
        );
    }
    // A's custom field is A's alone; A's ids are no cursor for B's lists.
    let b_schema = app.get_as(&b, "/api/v1/schema").await.body;
    assert!(b_schema["objects"]["opportunity"]["fields"]["region"].is_null());
    let a_schema = app.get_as(&a, "/api/v1/schema").await.body;
    assert_eq!(
        a_schema["objects"]["opportunity"]["fields"]["region"]["type"],
        "string"
    );
    for path in [
        format!("/api/v1/tasks?cursor={tid}"),
        format!("/api/v1/records/opportunity?cursor={oid}"),
    ] {
        let answer = app.get_as(&b, &path).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.text
        );
    }
    // A record id of another workspace can be reused without colliding.
    let same = app
        .call(
            Method::POST,
            "/api/v1/records/opportunity",
            Some(&b),
            body(json!({"id": oid, "name": "Mine"})),
        )
        .await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.text);
    assert_eq!(
        app.get_as(&a, &format!("/api/v1/records/opportunity/{oid}"))
            .await
            .body["name"],
        "Big"
    );
}
