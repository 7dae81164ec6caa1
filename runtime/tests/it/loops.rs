//! Cascades: two automations that trigger each other stop with `loop_detected`.

use serde_json::json;

use automations_runtime::model::{RunErrorCode, RunStatus};
use automations_runtime::store::Store;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_triggers_stop_with_loop_detected() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    // A: when status changes to open, set it to pending; B: when it changes to pending, set it to open.
    let a = json!({"name": "A", "trigger": {"event": "case.status_changed", "conditions": {"status": "open"}},
        "actions": [{"type": "update_field", "params": {"field": "status", "value": "pending"}}], "status": "active"});
    let b = json!({"name": "B", "trigger": {"event": "case.status_changed", "conditions": {"status": "pending"}},
        "actions": [{"type": "update_field", "params": {"field": "status", "value": "open"}}], "status": "active"});
    engine.create_automation(&ws.id, a).await.unwrap();
    engine.create_automation(&ws.id, b).await.unwrap();
    let case = fx.create("case", json!({"status": "new"})).await;
    engine
        .update_record(&ws.id, "case", &case.id, obj(json!({"status": "open"})))
        .await
        .unwrap();
    engine.run_until_idle().await.unwrap();

    let runs = fx.runs().await;
    let failed: Vec<_> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{runs:#?}");
    assert_eq!(failed[0].error_code, Some(RunErrorCode::LoopDetected));
    assert!(
        failed[0]
            .error
            .as_deref()
            .unwrap()
            .contains("re-trigger itself")
    );
    assert!(runs.len() <= 17);
    let completed = runs
        .iter()
        .filter(|r| r.status == RunStatus::Completed)
        .count();
    assert_eq!(completed, runs.len() - 1);
    // The record is consistent with the last completed write: A then B ran, so it is open.
    let case = engine.record(&ws.id, "case", &case.id).await.unwrap();
    assert_eq!(case.fields["status"], json!("open"));
    // Every event carries its chain; the deepest one is short.
    let ev = engine
        .store()
        .event(&ws.id, &failed[0].event_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.depth(), 2);
    assert!(ev.depth() <= 16);
}
