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

/// The rate cap counts a record's runs in the window: a record created again under an id
/// the client chose is counted with the runs of its earlier life (the store is asked),
/// while records with generated ids start at zero (no earlier run can name them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_cap_counts_runs_of_a_recreated_id_but_not_of_new_ones() {
    let mut config = quick_config();
    config.loop_guard.rate_cap = Some((1, std::time::Duration::from_secs(3600)));
    let fx = Fixture::with(config, None).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let auto = json!({"name": "On create", "trigger": {"event": "case.created"},
        "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "seen"}}], "status": "active"});
    engine.create_automation(&ws.id, auto).await.unwrap();
    let create = |id: Option<&str>| {
        let record = automations_runtime::engine::NewRecord {
            id: id.map(str::to_string),
            fields: obj(json!({"subject": "s"})),
        };
        engine.create_record(&ws.id, "case", record)
    };
    for id in [None, None, None, Some("case_client_1")] {
        create(id).await.unwrap();
    }
    engine
        .delete_record(&ws.id, "case", "case_client_1")
        .await
        .unwrap();
    create(Some("case_client_1")).await.unwrap();
    engine.run_until_idle().await.unwrap();

    let runs = fx.runs().await;
    assert_eq!(runs.len(), 5, "{runs:#?}");
    let failed: Vec<_> = runs
        .iter()
        .filter(|r| r.error_code == Some(RunErrorCode::LoopDetected))
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "only the second life of the client id: {runs:#?}"
    );
    assert_eq!(failed[0].record_id.as_deref(), Some("case_client_1"));
    assert!(failed[0].error.as_deref().unwrap().contains("cap 1"));
}
