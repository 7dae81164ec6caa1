//! Health, OpenAPI, metrics, authentication, scopes, unknown routes and the error shape.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, TestApp};

#[tokio::test]
async fn healthz_needs_no_token() {
    let app = TestApp::new().await;
    for path in ["/healthz", "/api/v1/healthz"] {
        let answer = app.call(Method::GET, path, None, None).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, json!({"status": "ok"}));
        assert!(
            answer.headers.contains_key("x-request-id"),
            "request ids are echoed"
        );
    }
}

#[tokio::test]
async fn openapi_lists_the_endpoints() {
    let app = TestApp::new().await;
    let answer = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let paths = answer.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/automations",
        "/api/v1/automations/{id}/runs/{run_id}/complete-task",
        "/api/v1/records/{object}/{id}",
        "/api/v1/events",
        "/api/v1/sandbox/activate",
        "/api/v1/tasks",
        "/api/v1/outbox",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(answer.body["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = TestApp::new().await;
    let answer = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        answer
            .text
            .contains("automations_runs{status=\"completed\"} 0"),
        "{}",
        answer.text
    );
    assert!(
        answer
            .text
            .contains("# TYPE automations_step_duration_seconds histogram")
    );
    assert!(answer.text.contains("automations_outbox_backlog"));
}

/// A counter's value in a scrape.
fn counter(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
}

/// Sixteen record writes at once go through the group-commit writer: its counters show
/// every one of them, in at most sixteen transactions, and where its time went.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_count_the_group_commit_writer() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let scrape = || async { app.call(Method::GET, "/metrics", None, None).await.text };
    let before = scrape().await;
    // Spawned on the multi-thread runtime: the writes really overlap.
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..16 {
        let router = app.router.clone();
        let request = Request::post("/api/v1/records/case")
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"subject": format!("c{i}")}).to_string()))
            .unwrap();
        calls.spawn(async move { router.oneshot(request).await.unwrap().status() });
    }
    while let Some(status) = calls.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::CREATED);
    }
    let after = scrape().await;
    let grew = |name: &str| counter(&after, name) - counter(&before, name);
    assert_eq!(grew("automations_write_group_requests_total"), 16.0);
    let groups = grew("automations_write_groups_total");
    assert!((1.0..=16.0).contains(&groups), "{groups} groups");
    let busy = grew("automations_write_group_seconds_total");
    let parts = grew("automations_write_group_begin_seconds_total")
        + grew("automations_write_group_commit_seconds_total");
    assert!(
        busy > 0.0 && parts > 0.0 && parts <= busy,
        "{busy} s busy, {parts} s begin + commit"
    );
}

#[tokio::test]
async fn missing_or_unknown_tokens_are_401() {
    let app = TestApp::new().await;
    let answer = app
        .call(Method::GET, "/api/v1/automations", None, None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.error_code(), "unauthorized");
    let answer = app
        .call(Method::GET, "/api/v1/automations", Some("atk_nope"), None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = app.get("/api/v1/automations").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn missing_scopes_are_403() {
    let app = TestApp::new().await;
    let reader = app.token("default", &["automations:read"]).await;
    assert_eq!(
        app.get_as(&reader, "/api/v1/automations").await.status,
        StatusCode::OK
    );
    let answer = app
        .post_as(&reader, "/api/v1/automations", &json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.error_code(), "forbidden");
    assert_eq!(
        app.get_as(&reader, "/api/v1/records/case").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_as(&reader, "/api/v1/sandbox/activate", &json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_as(&reader, "/api/v1/outbox").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = TestApp::new().await;
    let answer = app.get("/api/v1/nothing-here").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error_code(), "not_found");
    let answer = app
        .call(Method::PUT, "/api/v1/tasks", Some(ADMIN), None)
        .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.error_code(), "method_not_allowed");
    assert_eq!(answer.headers["allow"], "GET,HEAD");
    // The batch endpoint shares the object's route but takes POST alone.
    for method in [Method::PUT, Method::OPTIONS, Method::DELETE] {
        let answer = app
            .call(method, "/api/v1/records/case:batch", Some(ADMIN), None)
            .await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.error_code(), "method_not_allowed");
        assert_eq!(answer.headers["allow"], "POST");
    }
}

#[tokio::test]
async fn the_rate_limit_answers_429() {
    use automations_server::ApiConfig;
    use automations_server::rate_limit::RateLimit;
    let config = ApiConfig {
        rate_limit: RateLimit::Bucket {
            burst: 3.0,
            per_second: 0.01,
        },
        ..ApiConfig::default()
    };
    let app = TestApp::with_config(config).await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/tasks").await.status, StatusCode::OK);
    }
    let answer = app.get("/api/v1/tasks").await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.error_code(), "rate_limited");
    assert!(answer.headers.contains_key("retry-after"));
    let other = app.token("default", &["runs:read"]).await;
    assert_eq!(
        app.get_as(&other, "/api/v1/tasks").await.status,
        StatusCode::OK,
        "buckets are per token"
    );
}

#[tokio::test]
async fn sandbox_switches_on_and_off() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/api/v1/sandbox").await.body["active"], false);
    let answer = app.post("/api/v1/sandbox/activate", &json!({})).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["active"], true);
    assert_eq!(app.get("/api/v1/sandbox").await.body["active"], true);
    assert_eq!(
        app.post("/api/v1/sandbox/deactivate", &json!({}))
            .await
            .body["active"],
        false
    );
}

#[tokio::test]
async fn empty_lists_page_and_filters_are_checked() {
    let app = TestApp::new().await;
    for path in [
        "/api/v1/tasks",
        "/api/v1/outbox",
        "/api/v1/automations",
        "/api/v1/tasks?status=open&limit=10",
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
        assert_eq!(answer.body, json!({"items": [], "next_cursor": null}));
    }
    for path in [
        "/api/v1/tasks?status=bogus",
        "/api/v1/outbox?kind=fax",
        "/api/v1/automations?limit=0",
        "/api/v1/automations?limit=many",
        "/api/v1/tasks?unknown=1",
    ] {
        let answer = app.get(path).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.text
        );
        assert_eq!(answer.error_code(), "invalid_query");
    }
}

#[tokio::test]
async fn custom_events_are_idempotent_by_id() {
    let app = TestApp::new().await;
    let event = json!({"id": "evt-1", "type": "custom.signup", "data": {"email": "a@b.c"}});
    let first = app.post("/api/v1/events", &event).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    assert_eq!(first.body["duplicate"], false);
    assert_eq!(first.body["event_id"], "evt-1");
    let before = app.fingerprint().await;
    let second = app.post("/api/v1/events", &event).await;
    assert_eq!(second.status, StatusCode::ACCEPTED);
    assert_eq!(second.body["duplicate"], true);
    assert_eq!(
        app.fingerprint().await,
        before,
        "a duplicate event stores nothing"
    );
    let answer = app
        .post("/api/v1/events", &json!({"type": "case.created"}))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::BAD_REQUEST,
        "record events come from record writes"
    );
}
