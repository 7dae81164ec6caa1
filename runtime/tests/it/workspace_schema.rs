//! Per-workspace schemas: extensions are stored per workspace in order, and the engine
//! validates each workspace's record writes against that workspace's own schema.

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;

use automations_compiler::schema::Schema;
use automations_runtime::model::SchemaExtension;
use automations_runtime::schema::{SchemaView, WorkspaceSchemas};
use automations_runtime::store::{SqliteConfig, SqliteStore, Store, StoreTx};
use automations_runtime::{Engine, EngineParts, NewRecord, RuntimeError};

use crate::support::*;

fn extension(ws: &str, ext: serde_json::Value) -> SchemaExtension {
    SchemaExtension {
        workspace_id: ws.to_string(),
        seq: 0,
        extension: ext,
        created_at: Utc::now(),
    }
}

#[tokio::test]
async fn extensions_are_kept_per_workspace_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let store = SqliteStore::open(&SqliteConfig::file(&path)).await.unwrap();
    let first = json!({"objects": {"case": {"fields": {"sla_hours": {"type": "number"}}}}});
    let second = json!({"objects": {"invoice": {"fields": {"total": {"type": "number"}}}}});
    let other = json!({"objects": {"lead": {"fields": {"region": {"type": "string"}}}}});
    let mut tx = store.begin().await.unwrap();
    let s1 = tx
        .insert_schema_extension(&extension("ws_a", first.clone()))
        .await
        .unwrap();
    tx.insert_schema_extension(&extension("ws_b", other.clone()))
        .await
        .unwrap();
    let s2 = tx
        .insert_schema_extension(&extension("ws_a", second.clone()))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(s1 < s2);
    store.close().await;

    // Reopened: the same rows, in order, filtered by workspace.
    let store = SqliteStore::open(&SqliteConfig::file(&path)).await.unwrap();
    let a: Vec<_> = store
        .schema_extensions(Some("ws_a"))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.extension)
        .collect();
    assert_eq!(a, vec![first, second]);
    let all = store.schema_extensions(None).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(
        store
            .schema_extensions(Some("ws_c"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Workspace `a` has `case.sla_hours`; every other workspace has the built-in schema.
struct TwoSchemas {
    a_id: String,
    a: Arc<dyn SchemaView>,
    others: Arc<dyn SchemaView>,
}

impl WorkspaceSchemas for TwoSchemas {
    fn view(&self, ws: &str) -> Arc<dyn SchemaView> {
        if ws == self.a_id {
            self.a.clone()
        } else {
            self.others.clone()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_writes_use_the_schema_of_their_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteConfig::file(dir.path().join("a.db")))
        .await
        .unwrap();
    let mut custom = Schema::builtin();
    custom
        .extend_from_json_str(
            r#"{"objects": {"case": {"fields": {"sla_hours": {"type": "number"}}}}}"#,
        )
        .unwrap();
    // Workspace ids are generated: create both first with a throwaway engine's store.
    let setup = Engine::new(EngineParts {
        store: store.clone(),
        config: quick_config(),
        schema: automations_runtime::schema::SameSchema::shared(crm_schema()),
        compiler: compiler(),
        plugins: None,
    })
    .await
    .unwrap();
    let a = setup.ensure_workspace("a").await.unwrap();
    let b = setup.ensure_workspace("b").await.unwrap();
    drop(setup);
    let engine = Engine::new(EngineParts {
        store,
        config: quick_config(),
        schema: Arc::new(TwoSchemas {
            a_id: a.id.clone(),
            a: Arc::new(custom),
            others: crm_schema(),
        }),
        compiler: compiler(),
        plugins: None,
    })
    .await
    .unwrap();
    let record = || NewRecord {
        id: None,
        fields: obj(json!({"subject": "x", "sla_hours": 4})),
    };
    engine.create_record(&a.id, "case", record()).await.unwrap();
    let denied = engine.create_record(&b.id, "case", record()).await;
    let Err(RuntimeError::Validation(errors)) = denied else {
        panic!("{denied:?}")
    };
    assert_eq!(errors[0].field, "sla_hours");
    assert!(
        engine
            .schema(&a.id)
            .field_type("case", "sla_hours")
            .is_some()
    );
    assert!(
        engine
            .schema(&b.id)
            .field_type("case", "sla_hours")
            .is_none()
    );
}
