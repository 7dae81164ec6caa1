//! The schema endpoint and custom fields: added, used by records and conditions, kept
//! across restarts, never redefined with another type.

use automations_server::definitions::Definitions;
use axum::http::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn the_builtin_schema_is_served() {
    let app = TestApp::new().await;
    let answer = app.get("/api/v1/schema").await;
    assert_eq!(answer.status, StatusCode::OK);
    let priority = &answer.body["objects"]["case"]["fields"]["priority"];
    assert_eq!(priority["type"], "picklist");
    assert!(
        priority["values"]
            .as_array()
            .unwrap()
            .contains(&json!("critical"))
    );
}

#[tokio::test]
async fn custom_fields_are_added_used_and_kept() {
    let app = TestApp::new().await;
    let added = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "sla_hours", "type": "number"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(
        added.body,
        json!({"name": "sla_hours", "object": "case", "type": "number"})
    );
    assert_eq!(
        app.get("/api/v1/schema").await.body["objects"]["case"]["fields"]["sla_hours"]["type"],
        "number"
    );

    let ok = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "x", "sla_hours": 4}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    let bad = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "x", "sla_hours": "soon"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let automation = json!({
        "name": "Tight SLAs", "status": "active",
        "trigger": {"event": "case.created", "conditions": "sla_hours < 8"},
        "actions": [{"type": "update_field", "params": {"field": "status", "value": "escalated"}}]
    });
    let created = app.post("/api/v1/automations", &automation).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    let object = app
        .post(
            "/api/v1/schema",
            &json!({"objects": {"invoice": {"fields": {"total": {"type": "number"}}}}}),
        )
        .await;
    assert_eq!(object.status, StatusCode::OK, "{}", object.text);
    assert_eq!(
        app.post("/api/v1/records/invoice", &json!({"total": 12.5}))
            .await
            .status,
        StatusCode::CREATED
    );

    let redefined = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "sla_hours", "type": "string"}),
        )
        .await;
    assert_eq!(redefined.status, StatusCode::CONFLICT, "{}", redefined.text);
    let builtin = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "priority", "type": "number"}),
        )
        .await;
    assert_eq!(builtin.status, StatusCode::CONFLICT);
    let bad_name = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "two words", "type": "string"}),
        )
        .await;
    assert_eq!(bad_name.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_type = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "x", "type": "blob"}),
        )
        .await;
    assert_eq!(
        bad_type.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_type.text
    );
    let writer = app
        .token("default", &["automations:write", "records:write"])
        .await;
    let denied = app
        .post_as(
            &writer,
            "/api/v1/schema/case/fields",
            &json!({"name": "y", "type": "string"}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // A restart reads the custom part back from beside the database.
    let file = std::path::PathBuf::from(format!("{}.schema.json", app.db_path.display()));
    let reloaded = Definitions::with_custom_file(file).unwrap().schema_json();
    assert_eq!(
        reloaded["objects"]["case"]["fields"]["sla_hours"]["type"],
        "number"
    );
    assert_eq!(
        reloaded["objects"]["invoice"]["fields"]["total"]["type"],
        "number"
    );
    assert!(reloaded["objects"]["case"]["fields"]["y"].is_null());
}
