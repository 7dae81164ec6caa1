//! Plugins survive a restart: versions (side by side), grants and compiled artifacts live
//! in the database; a reopened server lists them and runs a plugin step without
//! recompiling. Plugins are per workspace.

use automations_host_api::cache::sha256_hex;
use automations_runtime::store::{ArtifactKey, Store};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::api::{automation, create_lead, install, runs_of, scorer, upload};
use super::build::{component, manifest_text};
use crate::support::TestApp;

#[tokio::test]
async fn a_reopened_server_keeps_plugins_grants_and_compiled_code() {
    let app = TestApp::new().await;
    install(&app, "lead-scorer").await;
    // A second version beside the first.
    let mut manifest: Value = serde_json::from_str(&manifest_text("lead-scorer")).unwrap();
    manifest["version"] = json!("0.2.0");
    let second = upload(&app, &manifest.to_string(), &component("lead-scorer")).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    let before = app.get("/api/v1/plugins").await.body["items"].clone();

    let app = app.reopen().await;
    let registry = app.state.plugins().expect("plugins enabled").clone();
    let after = app.get("/api/v1/plugins").await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    assert_eq!(after.body["items"], before, "{}", after.text);
    let item = &after.body["items"][0];
    assert_eq!(item["versions"], json!(["0.1.0", "0.2.0"]));
    assert_eq!(item["latest"], "0.2.0");
    assert!(
        item["granted"]
            .as_array()
            .unwrap()
            .contains(&json!("records:write:lead")),
        "{item}"
    );
    // The compiled artifact is in the database under sha256 + engine hash.
    let counts = registry.load_counts();
    assert_eq!(
        counts.compiled, 0,
        "a reopened server recompiled: {counts:?}"
    );
    assert_eq!(counts.memory + counts.store, 2, "{counts:?}");
    let sha = sha256_hex(&component("lead-scorer"));
    let mut stored = 0;
    let hashes: Vec<String> = sqlx_engine_hashes(&app, &sha).await;
    for engine_hash in &hashes {
        let key = ArtifactKey {
            component_sha256: &sha,
            engine_hash,
        };
        if app
            .engine()
            .store()
            .plugin_artifact(key)
            .await
            .unwrap()
            .is_some()
        {
            stored += 1;
        }
    }
    assert_eq!(stored, 1, "one artifact per component and engine");

    // The granted plugin runs after the restart, with no compile.
    let id = automation(&app, scorer("live")).await;
    create_lead(&app).await;
    app.settle().await;
    let runs = runs_of(&app, &id, "").await;
    assert_eq!(runs[0]["status"], "completed", "{}", runs[0]);
    let lead = app.get("/api/v1/records/lead/l_1").await;
    assert!(lead.body["score"].as_i64().is_some(), "{}", lead.text);
    assert_eq!(registry.load_counts().compiled, 0);
}

/// The engine hashes stored for `sha` (read straight from the database: the key's second half
/// is the engine's, which tests do not otherwise see).
async fn sqlx_engine_hashes(app: &TestApp, sha: &str) -> Vec<String> {
    let rows: Vec<(String,)> = if app.on_sqlite() {
        let url = format!("sqlite://{}?mode=ro", app.db_path.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows =
            sqlx::query_as("SELECT engine_hash FROM plugin_artifacts WHERE component_sha256 = ?")
                .bind(sha)
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url()).await.unwrap();
        let rows =
            sqlx::query_as("SELECT engine_hash FROM plugin_artifacts WHERE component_sha256 = $1")
                .bind(sha)
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows
    };
    rows.into_iter().map(|(h,)| h).collect()
}

#[tokio::test]
async fn another_workspaces_plugin_is_not_found() {
    let app = TestApp::new().await;
    install(&app, "lead-scorer").await;
    let other = app
        .token("other", &["plugins:admin", "automations:write"])
        .await;
    let list = app.get_as(&other, "/api/v1/plugins").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["items"], json!([]));
    let grant = app
        .post_as(
            &other,
            "/api/v1/plugins/lead-scorer/grants",
            &json!({"capabilities": []}),
        )
        .await;
    assert_eq!(grant.status, StatusCode::NOT_FOUND, "{}", grant.text);

    // Still true after a restart.
    let app = app.reopen().await;
    let other = app.token("other", &["plugins:admin"]).await;
    let list = app.get_as(&other, "/api/v1/plugins").await;
    assert_eq!(list.body["items"], json!([]), "{}", list.text);
    assert_eq!(
        app.get("/api/v1/plugins").await.body["items"][0]["name"],
        "lead-scorer"
    );
}
