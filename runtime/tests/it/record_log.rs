//! The automation log at the store: the cap per record holds across transactions and
//! group commits, a savepoint rollback drops what was queued after it, and the sweep
//! deletes by age in bounded batches. Cases of the conformance suite (`conformance/`),
//! run on every driver.

use automations_runtime::record_log::AutomationLogEntry;
use automations_runtime::store::{Store, StoreTx};
use chrono::{DateTime, Duration, Utc};

fn entry(record: &str, event: &str, at: DateTime<Utc>) -> AutomationLogEntry {
    AutomationLogEntry {
        workspace_id: "ws".into(),
        event_id: event.into(),
        event_type: "case.updated".into(),
        object: "case".into(),
        record_id: record.into(),
        created_at: at,
        depth: 0,
        automations: Vec::new(),
        not_listed: 0,
    }
}

async fn events_of<S: Store>(store: &S, record: &str) -> Vec<String> {
    let page = store
        .automation_log("ws", "case", record, 500, None)
        .await
        .unwrap();
    page.items.into_iter().map(|e| e.event_id).collect()
}

/// Conformance case: the cap, savepoint rollback and paging.
pub async fn automation_log_capped_per_record<S: Store>(store: &S) {
    let now = Utc::now();
    // Two transactions of several entries for two records, cap 3.
    for round in 0..2 {
        let mut tx = store.begin().await.unwrap();
        for i in 0..4 {
            tx.queue_automation_log(entry("a", &format!("a{round}{i}"), now), 3);
        }
        tx.queue_automation_log(entry("b", &format!("b{round}"), now), 3);
        tx.commit().await.unwrap();
    }
    assert_eq!(events_of(store, "a").await, ["a13", "a12", "a11"]);
    assert_eq!(events_of(store, "b").await, ["b1", "b0"]);

    // Queued after a savepoint that is rolled back: never written.
    let mut tx = store.begin().await.unwrap();
    tx.queue_automation_log(entry("b", "kept", now), 3);
    tx.savepoint().await.unwrap();
    tx.queue_automation_log(entry("b", "dropped", now), 3);
    tx.rollback_to_savepoint().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(events_of(store, "b").await, ["kept", "b1", "b0"]);

    // Pages newest first with the event id as cursor.
    let first = store
        .automation_log("ws", "case", "a", 2, None)
        .await
        .unwrap();
    assert_eq!(first.next_cursor.as_deref(), Some("a12"));
    let second = store
        .automation_log("ws", "case", "a", 2, first.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert!(second.next_cursor.is_none());
    assert!(
        store
            .automation_log("ws", "case", "a", 2, Some("b0"))
            .await
            .is_err(),
        "a cursor of another record's entry"
    );
}

/// Conformance case: the age sweep, in batches.
pub async fn automation_log_swept_by_age<S: Store>(store: &S) {
    let now = Utc::now();
    let mut tx = store.begin().await.unwrap();
    for i in 0..5 {
        tx.queue_automation_log(
            entry(
                &format!("r{i}"),
                &format!("old{i}"),
                now - Duration::days(40),
            ),
            100,
        );
    }
    tx.queue_automation_log(entry("r0", "new", now), 100);
    tx.commit().await.unwrap();
    let cutoff = now - Duration::days(30);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.sweep_automation_log(cutoff, 3).await.unwrap(), 3);
    assert_eq!(tx.sweep_automation_log(cutoff, 3).await.unwrap(), 2);
    assert_eq!(tx.sweep_automation_log(cutoff, 3).await.unwrap(), 0);
    tx.commit().await.unwrap();
    assert_eq!(events_of(store, "r0").await, ["new"]);
}
