//! The shadow diff's boundary: runs are compared from after the copy's creation. Times are
//! stored to the millisecond, so a run stamped in the copy's own millisecond cannot be
//! ordered against the copy (its event may have come just before it) and is left out.

use chrono::Duration;
use serde_json::json;

use automations_runtime::model::Actor;
use automations_runtime::store::{Store, StoreTx};

use crate::conformance::fixtures::run;
use crate::support::*;

#[tokio::test]
async fn a_run_of_the_copys_own_millisecond_is_not_compared() {
    let fx = Fixture::new().await;
    let ws = fx.ws.id.clone();
    let def = json!({"name": "live", "status": "active", "trigger": {"event": "case.created"},
        "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "hi"}}]});
    let (live, _) = fx.engine.create_automation(&ws, def).await.unwrap();
    let (copy, _) = fx
        .engine
        .copy_to_sandbox_by(&ws, &live.id, &Actor::system())
        .await
        .unwrap();
    // As stored (to the millisecond).
    let copied_at = fx
        .engine
        .automation(&ws, &copy.id)
        .await
        .unwrap()
        .created_at;
    let mut tx = fx.engine.store().begin().await.unwrap();
    for (id, event, at) in [
        ("run_same", "ev_same", copied_at),
        (
            "run_after",
            "ev_after",
            copied_at + Duration::milliseconds(1),
        ),
    ] {
        let mut r = run(&ws, id, &live.id, event, 0);
        r.created_at = at;
        assert!(tx.insert_run(&r).await.unwrap());
    }
    tx.commit().await.unwrap();

    let diff = fx
        .engine
        .shadow_diff(&ws, &copy.id, 50, None)
        .await
        .unwrap();
    let events: Vec<&str> = diff.items.iter().map(|d| d.event_id.as_str()).collect();
    assert_eq!(
        events,
        vec!["ev_after"],
        "only the run after the copy's millisecond"
    );
    assert_eq!(diff.totals.events, 1);
    assert_eq!(diff.since, copied_at);
}
