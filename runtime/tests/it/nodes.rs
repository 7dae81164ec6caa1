//! Two engines on one PostgreSQL schema, as two nodes of one installation: an automation
//! edited through one node stops triggering in its old version on the other within a
//! second, without a restart and without any traffic on that node (its follower hears
//! the change notice, or at worst sees the dispatch version move at its next check).
//! Skipped with a notice when `AUTOMATIONS_TEST_POSTGRES_URL` is unset.

use std::time::{Duration, Instant};

use automations_runtime::store::{AnyStore, PgStore};
use automations_runtime::{EngineParts, NewRecord};
use serde_json::json;

use crate::support::pg::{FreshSchema, url};
use crate::support::{Engine, compiler, crm_schema, obj, quick_config};
use automations_runtime::schema::SameSchema;

async fn node(schema: &FreshSchema) -> Engine {
    let store = PgStore::open(&schema.config()).await.unwrap();
    Engine::new(EngineParts {
        store: AnyStore::Postgres(store),
        config: quick_config(),
        schema: SameSchema::shared(crm_schema()),
        compiler: compiler(),
        plugins: None,
    })
    .await
    .unwrap()
}

/// The version of `id` in `engine`'s dispatch index (`None`: not dispatched).
fn dispatched(engine: &Engine, id: &str) -> Option<i64> {
    engine
        .dispatch_index()
        .entries()
        .find(|e| e.automation_id == id)
        .map(|e| e.version)
}

/// Waits until `engine` dispatches `id` in `version`; returns how long that took.
async fn converge(engine: &Engine, id: &str, version: Option<i64>) -> Duration {
    let start = Instant::now();
    while dispatched(engine, id) != version {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "node still dispatches {id} in version {:?}, not {version:?}, after 1 s",
            dispatched(engine, id)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

fn case(priority: &str) -> NewRecord {
    NewRecord {
        id: None,
        fields: obj(json!({"subject": "s", "priority": priority})),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_through_one_node_reaches_the_other_within_a_second() {
    let Some(url) = url() else { return };
    let schema = FreshSchema::new(&url);
    let a = node(&schema).await;
    let b = node(&schema).await;
    let workers_b = b.start();
    let ws = a.ensure_workspace("default").await.unwrap();
    let critical = json!({
        "name": "Critical cases",
        "trigger": {"event": "case.created", "conditions": {"priority": "critical"}},
        "actions": [{"type": "assign_to_queue", "params": {"queue_id": "q1"}}],
        "status": "active"
    });
    let (created, _) = a.create_automation(&ws.id, critical).await.unwrap();
    let id = created.id.clone();
    let first = converge(&b, &id, Some(1)).await;

    let mut low = json!({
        "name": "Low cases",
        "trigger": {"event": "case.created", "conditions": {"priority": "low"}},
        "actions": [{"type": "assign_to_queue", "params": {"queue_id": "q1"}}],
        "status": "active"
    });
    a.update_automation(&ws.id, &id, low.clone()).await.unwrap();
    let second = converge(&b, &id, Some(2)).await;
    // Node B now triggers the new version only: a critical case starts nothing, a low
    // one starts a run of version 2.
    b.create_record(&ws.id, "case", case("critical"))
        .await
        .unwrap();
    b.create_record(&ws.id, "case", case("low")).await.unwrap();
    let runs = b.runs(&ws.id, &Default::default()).await.unwrap().items;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].automation_id.as_str(), runs[0].version),
        (id.as_str(), 2)
    );

    // Pausing it through A takes it out of B's dispatch too.
    low["status"] = json!("paused");
    a.update_automation(&ws.id, &id, low).await.unwrap();
    let third = converge(&b, &id, None).await;
    eprintln!("node B followed node A's changes in {first:?}, {second:?}, {third:?}");
    workers_b.shutdown().await;
}
