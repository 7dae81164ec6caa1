//! The multi-row StoreTx methods the executor uses mean what their one-row twins mean:
//! `insert_events` reports duplicates (stored before, or repeated in the call), `end_runs`
//! keeps the last row of a step given twice and updates every run, and records read or
//! updated in a transaction read back as stored (a rolled-back savepoint forgets them).

use automations_runtime::model::*;
use automations_runtime::store::{SqliteConfig, SqliteStore, Store, StoreTx};
use chrono::Utc;
use serde_json::json;

fn event(id: &str) -> Event {
    Event {
        workspace_id: "w1".into(),
        id: id.into(),
        event_type: "custom.x".into(),
        object: None,
        record_id: None,
        payload: json!({"n": id}),
        causation: Vec::new(),
        created_at: Utc::now(),
    }
}

fn step(id: &str, seq: i64, status: StepStatus) -> StepRun {
    StepRun {
        id: id.into(),
        step_type: "notify".into(),
        status,
        seq,
        started_at: Some(Utc::now()),
        finished_at: None,
        duration_ms: None,
        input: Some(json!({"seq": seq})),
        output: None,
        error: None,
        effects: Vec::new(),
        logs: Vec::new(),
        attempts: 1,
        last_error: None,
    }
}

fn run(id: &str, event_id: &str) -> Run {
    Run {
        id: id.into(),
        workspace_id: "w1".into(),
        automation_id: "a1".into(),
        version: 1,
        event_id: event_id.into(),
        object: None,
        record_id: None,
        status: RunStatus::Queued,
        dry_run: false,
        pc: 0,
        state: RunState::default(),
        error: None,
        error_code: None,
        created_at: Utc::now(),
        started_at: None,
        finished_at: None,
        duration_ms: None,
        steps: Vec::new(),
    }
}

#[tokio::test]
async fn batched_writes_match_their_one_row_twins() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteConfig::file(dir.path().join("b.db")))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.insert_event(&event("e1")).await.unwrap());
    let inserted = tx
        .insert_events(&[event("e1"), event("e2"), event("e3"), event("e2")])
        .await
        .unwrap();
    assert_eq!(inserted, vec![false, true, true, false]);
    let mut found = tx
        .events(&[("w1", "e2"), ("w1", "e3"), ("w2", "e1")])
        .await
        .unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(found.len(), 2, "another workspace's id reads as missing");
    assert_eq!(found[0].payload, json!({"n": "e2"}));

    let (mut a, mut b) = (run("r1", "e1"), run("r2", "e2"));
    assert!(tx.insert_run(&a).await.unwrap());
    assert!(tx.insert_run(&b).await.unwrap());
    a.status = RunStatus::Completed;
    a.pc = 2;
    a.finished_at = Some(Utc::now());
    b.status = RunStatus::Waiting;
    b.error = Some("none".into());
    let a_steps = vec![
        step("s1", 0, StepStatus::Failed),
        step("s2", 1, StepStatus::Completed),
        step("s1", 2, StepStatus::Completed),
    ];
    let b_steps = vec![step("s1", 0, StepStatus::Waiting)];
    tx.end_runs(&[(&a, a_steps.as_slice()), (&b, b_steps.as_slice())])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let a = store.run("w1", "r1").await.unwrap().unwrap();
    assert_eq!((a.status, a.pc), (RunStatus::Completed, 2));
    assert!(a.finished_at.is_some());
    let got: Vec<_> = a.steps.iter().map(|s| (s.id.as_str(), s.status)).collect();
    assert_eq!(
        got,
        vec![("s2", StepStatus::Completed), ("s1", StepStatus::Completed)],
        "the later row of s1 wins, ordered by seq"
    );
    let b = store.run("w1", "r2").await.unwrap().unwrap();
    assert_eq!(b.status, RunStatus::Waiting);
    assert_eq!(b.error.as_deref(), Some("none"));
    assert_eq!(b.steps.len(), 1);
}

#[tokio::test]
async fn records_remembered_in_a_transaction_read_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteConfig::file(dir.path().join("r.db")))
        .await
        .unwrap();
    let now = Utc::now();
    let rec = Record {
        workspace_id: "w1".into(),
        object: "case".into(),
        id: "c1".into(),
        fields: json!({"x": 1.5, "s": "a"}).as_object().unwrap().clone(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_record(&rec).await.unwrap();
    tx.prefetch_records(&[("w1", "case", "c1"), ("w1", "case", "nope")])
        .await
        .unwrap();
    assert!(tx.record("w1", "case", "nope").await.unwrap().is_none());
    let stored = tx.record("w1", "case", "c1").await.unwrap().unwrap();
    let mut updated = stored.clone();
    updated.fields.insert("s".into(), json!("b"));
    updated.updated_at = Utc::now();
    tx.update_record(&updated).await.unwrap();
    let remembered = tx.record("w1", "case", "c1").await.unwrap().unwrap();
    tx.savepoint().await.unwrap();
    tx.delete_record("w1", "case", "c1").await.unwrap();
    assert!(tx.record("w1", "case", "c1").await.unwrap().is_none());
    tx.rollback_to_savepoint().await.unwrap();
    let after_rollback = tx.record("w1", "case", "c1").await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let read = store.record("w1", "case", "c1").await.unwrap().unwrap();
    for r in [&remembered, &after_rollback] {
        assert_eq!(r.fields, read.fields);
        assert_eq!(r.created_at, read.created_at);
        assert_eq!(r.updated_at, read.updated_at);
    }
    assert_eq!(read.fields["s"], json!("b"));
}

fn outbox_item(id: &str, key: &str) -> OutboxItem {
    let now = Utc::now();
    OutboxItem {
        id: id.into(),
        workspace_id: "w1".into(),
        kind: OutboxKind::Slack,
        status: OutboxStatus::Pending,
        attempts: 0,
        last_error: None,
        payload: json!({"text": id}),
        run_id: Some("r1".into()),
        step_id: Some("s1".into()),
        idempotency_key: key.into(),
        next_attempt_at: now,
        created_at: now,
        delivered_at: None,
        retry: None,
    }
}

#[tokio::test]
async fn queued_outbox_items_are_written_once_per_key_before_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteConfig::file(dir.path().join("o.db")))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.queue_outbox(&outbox_item("o1", "k1")).await.unwrap();
    tx.queue_outbox(&outbox_item("o2", "k1")).await.unwrap();
    tx.queue_outbox(&outbox_item("o3", "k2")).await.unwrap();
    // A one-row insert sees the queued ones first.
    assert!(!tx.insert_outbox(&outbox_item("o4", "k2")).await.unwrap());
    tx.queue_outbox(&outbox_item("o5", "k3")).await.unwrap();
    // Rolled back to a savepoint taken before it: never written.
    tx.savepoint().await.unwrap();
    tx.queue_outbox(&outbox_item("o6", "k4")).await.unwrap();
    tx.rollback_to_savepoint().await.unwrap();
    tx.queue_outbox(&outbox_item("o7", "k5")).await.unwrap();
    tx.commit().await.unwrap();
    let filter = OutboxFilter {
        limit: 100,
        ..Default::default()
    };
    let mut ids: Vec<String> = store
        .outbox("w1", &filter)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|o| o.id)
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["o1", "o3", "o5", "o7"]);
}
