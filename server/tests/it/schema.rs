//! The schema endpoint and custom fields: added per workspace, used by records and
//! conditions of that workspace only, kept across restarts, never redefined with another type.

use automations_server::serve::import_legacy_schema;
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

    // A restart reads the custom part back from the database.
    let app = app.reopen().await;
    let reloaded = app.get("/api/v1/schema").await.body;
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

fn sla_automation() -> serde_json::Value {
    json!({
        "name": "Tight SLAs", "status": "active",
        "trigger": {"event": "case.created", "conditions": "sla_hours < 8"},
        "actions": [{"type": "update_field", "params": {"field": "status", "value": "escalated"}}]
    })
}

fn diagnostic_codes(answer: &crate::support::Answer) -> Vec<String> {
    answer.body["error"]["diagnostics"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .filter_map(|d| d["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn custom_fields_belong_to_their_workspace() {
    let app = TestApp::new().await;
    // Workspace A is `default` (the admin token); B is another tenant with full rights.
    let b = app.token("tenant-b", &["admin"]).await;
    let added = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "sla_hours", "type": "number"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);

    // A uses it in a definition and in records.
    let created = app.post("/api/v1/automations", &sla_automation()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let automation_id = created.body["id"].as_str().unwrap().to_string();
    let record = json!({"subject": "x", "sla_hours": 4});
    let written = app.post("/api/v1/records/case", &record).await;
    assert_eq!(written.status, StatusCode::CREATED, "{}", written.text);

    // B sees none of it.
    let b_schema = app.get_as(&b, "/api/v1/schema").await;
    assert_eq!(b_schema.status, StatusCode::OK);
    assert!(b_schema.body["objects"]["case"]["fields"]["priority"].is_object());
    assert!(b_schema.body["objects"]["case"]["fields"]["sla_hours"].is_null());
    let b_created = app
        .post_as(&b, "/api/v1/automations", &sla_automation())
        .await;
    assert_eq!(
        b_created.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        b_created.text
    );
    assert!(
        diagnostic_codes(&b_created).contains(&"E0101".to_string()),
        "{}",
        b_created.text
    );
    let b_valid = app
        .post_as(&b, "/api/v1/automations/validate", &sla_automation())
        .await;
    assert_eq!(b_valid.status, StatusCode::OK, "{}", b_valid.text);
    assert_eq!(b_valid.body["valid"], false, "{}", b_valid.text);
    let b_written = app.post_as(&b, "/api/v1/records/case", &record).await;
    assert_eq!(
        b_written.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        b_written.text
    );

    // B may define the same name with its own type: no clash with A.
    let b_added = app
        .post_as(
            &b,
            "/api/v1/schema/case/fields",
            &json!({"name": "sla_hours", "type": "string"}),
        )
        .await;
    assert_eq!(b_added.status, StatusCode::CREATED, "{}", b_added.text);

    // After a restart A's field (and its active automation) are still there.
    let app = app.reopen().await;
    let a_schema = app.get("/api/v1/schema").await.body;
    assert_eq!(
        a_schema["objects"]["case"]["fields"]["sla_hours"]["type"],
        "number"
    );
    let b_schema = app.get_as(&b, "/api/v1/schema").await.body;
    assert_eq!(
        b_schema["objects"]["case"]["fields"]["sla_hours"]["type"],
        "string"
    );
    let bad = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "y", "sla_hours": "soon"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let urgent = app.post("/api/v1/records/case", &record).await;
    assert_eq!(urgent.status, StatusCode::CREATED, "{}", urgent.text);
    app.settle().await;
    let runs = app
        .get(&format!("/api/v1/automations/{automation_id}/runs"))
        .await;
    assert_eq!(runs.status, StatusCode::OK, "{}", runs.text);
    assert_eq!(
        runs.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        runs.text
    );
    let retyped = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "sla_hours", "type": "string"}),
        )
        .await;
    assert_eq!(retyped.status, StatusCode::CONFLICT, "{}", retyped.text);
}

#[tokio::test]
async fn the_old_server_wide_schema_file_is_imported_into_default_once() {
    let app = TestApp::new().await;
    if !app.on_sqlite() {
        // The file sat beside a SQLite database; a PostgreSQL server never had one.
        return;
    }
    let other = app.token("tenant-b", &["admin"]).await;
    let file = std::path::PathBuf::from(format!("{}.schema.json", app.db_path.display()));
    std::fs::write(
        &file,
        r#"{"objects": {"invoice": {"fields": {"total": {"type": "number"}}}}}"#,
    )
    .unwrap();
    let url = app.database_url();
    let imported = import_legacy_schema(app.engine(), app.state.definitions(), &url)
        .await
        .unwrap();
    assert!(imported);
    assert!(!file.exists());
    let schema = app.get("/api/v1/schema").await.body;
    assert_eq!(
        schema["objects"]["invoice"]["fields"]["total"]["type"],
        "number"
    );
    let theirs = app.get_as(&other, "/api/v1/schema").await.body;
    assert!(theirs["objects"]["invoice"].is_null());
    let again = import_legacy_schema(app.engine(), app.state.definitions(), &url)
        .await
        .unwrap();
    assert!(!again);
    // Kept in the database from then on.
    let app = app.reopen().await;
    let schema = app.get("/api/v1/schema").await.body;
    assert_eq!(
        schema["objects"]["invoice"]["fields"]["total"]["type"],
        "number"
    );
}

/// The keys the web UI builds its trigger picker and action forms from
/// (`events`, `custom_events`, `actions`), per workspace.
#[tokio::test]
async fn the_schema_lists_events_custom_events_and_actions() {
    let app = TestApp::new().await;
    let empty = app.get("/api/v1/schema").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert_eq!(empty.body["custom_events"], json!([]));
    let case = empty.body["events"]["case"].as_array().unwrap();
    assert_eq!(
        case[..3],
        [
            json!("case.created"),
            json!("case.updated"),
            json!("case.deleted")
        ]
    );
    assert!(case.contains(&json!("case.priority_changed")));
    let objects = empty.body["objects"].as_object().unwrap();
    assert_eq!(
        empty.body["events"].as_object().unwrap().len(),
        objects.len(),
        "one events list per object"
    );
    let actions = empty.body["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 12);
    assert_eq!(actions[0]["name"], "update_field");
    assert_eq!(actions[0]["effects"], json!(["record.update"]));
    assert_eq!(actions[10]["one_of"], json!([["duration", "until"]]));

    // Custom fields raise their own `_changed` events.
    let added = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "sla_hours", "type": "number"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    // A stored automation's custom trigger and a recorded custom event are both known.
    let automation = json!({
        "name": "On signup", "status": "draft",
        "trigger": {"event": "custom.signup"},
        "actions": [{"type": "notify_user", "params": {"user_id": "usr_1", "message": "hi"}}]
    });
    let created = app.post("/api/v1/automations", &automation).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let event = app
        .post(
            "/api/v1/events",
            &json!({"id": "evt_1", "type": "custom.invoice_paid", "data": {"amount": 3}}),
        )
        .await;
    assert!(event.status.is_success(), "{}", event.text);
    let schema = app.get("/api/v1/schema").await.body;
    assert!(
        schema["events"]["case"]
            .as_array()
            .unwrap()
            .contains(&json!("case.sla_hours_changed"))
    );
    assert_eq!(
        schema["custom_events"],
        json!(["custom.invoice_paid", "custom.signup"])
    );
    // Another workspace sees neither.
    let other = app.token("other", &["admin"]).await;
    let theirs = app.get_as(&other, "/api/v1/schema").await.body;
    assert_eq!(theirs["custom_events"], json!([]));
    assert!(
        !theirs["events"]["case"]
            .as_array()
            .unwrap()
            .contains(&json!("case.sla_hours_changed"))
    );
}
