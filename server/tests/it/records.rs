//! The record store: CRUD, schema validation (422), filters, pages, events from writes.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn records_crud() {
    let app = TestApp::new().await;
    let created = app
        .post(
            "/api/v1/records/queue",
            &json!({"id": "q_escalations", "name": "Escalations"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["id"], "q_escalations");
    assert_eq!(created.body["object"], "queue");
    assert_eq!(created.body["name"], "Escalations");
    assert!(created.body["created_at"].is_string());

    let again = app
        .post(
            "/api/v1/records/queue",
            &json!({"id": "q_escalations", "name": "Other"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let got = app.get("/api/v1/records/queue/q_escalations").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["name"], "Escalations");

    let patched = app
        .patch(
            "/api/v1/records/queue/q_escalations",
            &json!({"email": "esc@example.com"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["email"], "esc@example.com");
    assert_eq!(patched.body["name"], "Escalations");

    assert_eq!(
        app.delete("/api/v1/records/queue/q_escalations")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/v1/records/queue/q_escalations").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete("/api/v1/records/queue/q_escalations")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// A write answers the timestamps a later read gives back (the stored precision), on
/// both drivers, whether the record was written alone or in a batch.
#[tokio::test]
async fn a_write_answers_the_timestamps_a_read_gives_back() {
    let app = TestApp::new().await;
    let created = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "x", "priority": "low"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let path = format!(
        "/api/v1/records/case/{}",
        created.body["id"].as_str().unwrap()
    );
    let read = app.get(&path).await.body;
    for key in ["created_at", "updated_at"] {
        assert_eq!(created.body[key], read[key], "{key}");
    }
    let updated = app.patch(&path, &json!({"priority": "high"})).await;
    assert_eq!(updated.status, StatusCode::OK);
    let read = app.get(&path).await.body;
    assert_eq!(updated.body["updated_at"], read["updated_at"]);
    let batch = app
        .post(
            "/api/v1/records/case:batch",
            &json!({"items": [{"subject": "y", "priority": "low"}]}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.text);
    let record = &batch.body["items"][0]["record"];
    let id = record["id"].as_str().unwrap();
    let read = app.get(&format!("/api/v1/records/case/{id}")).await.body;
    assert_eq!(record["created_at"], read["created_at"], "{}", batch.text);
}

#[tokio::test]
async fn wrong_types_and_picklist_values_are_422() {
    let app = TestApp::new().await;
    let answer = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "x", "priority": "urgent"}),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert_eq!(answer.error_code(), "invalid_fields");
    assert_eq!(
        answer.body["error"]["diagnostics"][0]["pointer"],
        "/priority"
    );

    let answer = app
        .post("/api/v1/records/opportunity", &json!({"amount": "a lot"}))
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let answer = app
        .post("/api/v1/records/case", &json!({"priorty": "low"}))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );

    let case = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "x", "priority": "low"}),
        )
        .await;
    let id = case.body["id"].as_str().unwrap();
    let answer = app
        .patch(
            &format!("/api/v1/records/case/{id}"),
            &json!({"priority": 3}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&format!("/api/v1/records/case/{id}")).await.body["priority"],
        "low",
        "unchanged"
    );

    assert_eq!(
        app.get("/api/v1/records/spaceship").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("/api/v1/records/spaceship", &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn lists_filter_and_page() {
    let app = TestApp::new().await;
    for i in 0..5 {
        let priority = if i % 2 == 0 { "high" } else { "low" };
        let answer = app
            .post(
                "/api/v1/records/case",
                &json!({"subject": format!("case {i}"), "priority": priority}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED);
    }
    let high = app.get("/api/v1/records/case?priority=high").await;
    assert_eq!(high.status, StatusCode::OK, "{}", high.text);
    assert_eq!(high.body["items"].as_array().unwrap().len(), 3);

    let mut seen = Vec::new();
    let mut path = "/api/v1/records/case?limit=2".to_string();
    loop {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|r| r["id"].as_str().unwrap().to_string()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/records/case?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "every record exactly once across pages");

    assert_eq!(
        app.get("/api/v1/records/case?nonfield=1").await.status,
        StatusCode::BAD_REQUEST
    );
}
