//! The record store: validation against the schema, events with previous values, and
//! idempotent event acceptance.

use std::collections::HashMap;

use serde_json::json;

use automations_runtime::model::RunStatus;
use automations_runtime::store::Store;
use automations_runtime::{NewEvent, NewRecord, RuntimeError};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_validated_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(&dir.path().join("a.db"), quick_config()).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    let bad = engine
        .create_record(
            &ws.id,
            "case",
            NewRecord {
                id: None,
                fields: obj(json!({"priority": "urgent", "subject": 3, "nope": 1})),
            },
        )
        .await;
    let Err(RuntimeError::Validation(errors)) = bad else {
        panic!("{bad:?}")
    };
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["priority", "subject", "nope"]);
    assert!(errors[0].message.contains("critical"));
    assert!(matches!(
        engine
            .create_record(&ws.id, "spaceship", NewRecord::default())
            .await,
        Err(RuntimeError::NotFound { .. })
    ));
    let ok = engine
        .create_record(
            &ws.id,
            "case",
            NewRecord {
                id: Some("c1".into()),
                fields: obj(json!({"priority": "low"})),
            },
        )
        .await
        .unwrap();
    assert_eq!(ok.id, "c1");
    assert!(matches!(
        engine
            .create_record(
                &ws.id,
                "case",
                NewRecord {
                    id: Some("c1".into()),
                    fields: Default::default()
                }
            )
            .await,
        Err(RuntimeError::Conflict(_))
    ));
    let upd = engine
        .update_record(&ws.id, "case", "c1", obj(json!({"status": "bogus"})))
        .await;
    assert!(matches!(upd, Err(RuntimeError::Validation(_))));
    // Another workspace cannot see it.
    let other = engine.ensure_workspace("other").await.unwrap();
    assert!(matches!(
        engine.record(&other.id, "case", "c1").await,
        Err(RuntimeError::NotFound { .. })
    ));
    let page = engine
        .query_records(&ws.id, "case", &obj(json!({"priority": "low"})), 10, None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let page = engine
        .query_records(&ws.id, "case", &obj(json!({"priority": "high"})), 10, None)
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_raise_changed_events_with_previous_values() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(&dir.path().join("a.db"), quick_config()).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    // An automation on priority_changed that checks previous values.
    let def = json!({"name": "raised", "trigger": {"event": "case.priority_changed", "conditions": "priority == 'critical' and previous.priority == 'low'"},
        "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "{{ previous.priority }} -> {{ priority }}"}}], "status": "active"});
    engine.create_automation(&ws.id, def).await.unwrap();
    let c = engine
        .create_record(
            &ws.id,
            "case",
            NewRecord {
                id: None,
                fields: obj(json!({"priority": "low", "subject": "a"})),
            },
        )
        .await
        .unwrap();
    engine
        .update_record(&ws.id, "case", &c.id, obj(json!({"subject": "b"})))
        .await
        .unwrap();
    engine
        .update_record(&ws.id, "case", &c.id, obj(json!({"priority": "critical"})))
        .await
        .unwrap();
    // A no-op update raises nothing.
    engine
        .update_record(&ws.id, "case", &c.id, obj(json!({"priority": "critical"})))
        .await
        .unwrap();
    engine.run_until_idle().await.unwrap();
    let runs = engine
        .runs(&ws.id, &Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Completed);
    let ev = engine
        .store()
        .event(&ws.id, &runs[0].event_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.event_type, "case.priority_changed");
    assert_eq!(ev.payload["previous"]["priority"], json!("low"));
    assert_eq!(ev.payload["record"]["priority"], json!("critical"));
    assert_eq!(ev.payload["changed"], json!(["priority"]));
    assert_eq!(
        engine.notifications(&ws.id, None).await.unwrap()[0].message,
        "low -> critical"
    );
    engine.delete_record(&ws.id, "case", &c.id).await.unwrap();
    assert!(matches!(
        engine.record(&ws.id, "case", &c.id).await,
        Err(RuntimeError::NotFound { .. })
    ));
}

/// An update's `updated` and `<field>_changed` events share one payload in memory; each
/// is stored and read back whole, and a later update's events carry their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_updates_events_each_store_the_whole_payload() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(&dir.path().join("a.db"), quick_config()).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    for event in [
        "case.updated",
        "case.priority_changed",
        "case.subject_changed",
    ] {
        let def = json!({"name": event, "trigger": {"event": event},
            "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "{{ subject }}"}}],
            "status": "active"});
        engine.create_automation(&ws.id, def).await.unwrap();
    }
    let c = engine
        .create_record(
            &ws.id,
            "case",
            NewRecord {
                id: None,
                fields: obj(json!({"priority": "low", "subject": "a"})),
            },
        )
        .await
        .unwrap();
    for (priority, subject) in [("high", "b"), ("critical", "c")] {
        engine
            .update_record(
                &ws.id,
                "case",
                &c.id,
                obj(json!({"priority": priority, "subject": subject})),
            )
            .await
            .unwrap();
    }
    engine.run_until_idle().await.unwrap();
    let runs = engine
        .runs(&ws.id, &Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(runs.len(), 6, "three events per update");
    let mut by_subject: HashMap<String, Vec<String>> = HashMap::new();
    for run in &runs {
        let ev = engine
            .store()
            .event(&ws.id, &run.event_id)
            .await
            .unwrap()
            .unwrap();
        let subject = ev.payload["record"]["subject"]
            .as_str()
            .unwrap()
            .to_string();
        let before = if subject == "b" {
            ("low", "a")
        } else {
            ("high", "b")
        };
        assert_eq!(
            ev.payload["previous"]["priority"],
            json!(before.0),
            "{ev:?}"
        );
        assert_eq!(ev.payload["previous"]["subject"], json!(before.1), "{ev:?}");
        assert_eq!(
            ev.payload["changed"],
            json!(["priority", "subject"]),
            "{ev:?}"
        );
        by_subject.entry(subject).or_default().push(ev.event_type);
    }
    for subject in ["b", "c"] {
        let mut types = by_subject.remove(subject).unwrap();
        types.sort();
        assert_eq!(
            types,
            [
                "case.priority_changed",
                "case.subject_changed",
                "case.updated"
            ],
            "the events of the update to {subject}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_event_id_twice_makes_one_set_of_runs() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(&dir.path().join("a.db"), quick_config()).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    for name in ["one", "two"] {
        let def = json!({"name": name, "trigger": {"event": "custom.signup", "conditions": "event.plan == 'pro'"},
            "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "{{ event.email }}"}}], "status": "active"});
        engine.create_automation(&ws.id, def).await.unwrap();
    }
    let ev = || NewEvent {
        id: Some("ext-42".into()),
        event_type: "custom.signup".into(),
        data: json!({"plan": "pro", "email": "a@b.c"}),
        ..Default::default()
    };
    let first = engine.ingest_event(&ws.id, ev()).await.unwrap();
    let second = engine.ingest_event(&ws.id, ev()).await.unwrap();
    assert!(!first.duplicate && second.duplicate);
    assert_eq!(first.run_ids.len(), 2);
    assert!(second.run_ids.is_empty());
    engine.run_until_idle().await.unwrap();
    let third = engine.ingest_event(&ws.id, ev()).await.unwrap();
    assert!(third.duplicate);
    engine.run_until_idle().await.unwrap();
    let runs = engine
        .store()
        .runs_for_event(&ws.id, "ext-42")
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status == RunStatus::Completed));
    assert_eq!(engine.notifications(&ws.id, None).await.unwrap().len(), 2);
    // The same id in another workspace is another event.
    let other = engine.ensure_workspace("other").await.unwrap();
    assert!(
        !engine
            .ingest_event(&other.id, ev())
            .await
            .unwrap()
            .duplicate
    );
    assert!(matches!(
        engine
            .ingest_event(
                &ws.id,
                NewEvent {
                    event_type: "case.created".into(),
                    ..Default::default()
                }
            )
            .await,
        Err(RuntimeError::BadRequest(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits_and_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(&dir.path().join("a.db"), quick_config()).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    engine.create_automation(&ws.id, seed()).await.unwrap();
    let mut handles = Vec::new();
    for i in 0..200 {
        let (engine, ws) = (engine.clone(), ws.id.clone());
        handles.push(tokio::spawn(async move {
            let priority = if i % 50 == 7 { "bogus" } else { "critical" };
            engine
                .create_record(
                    &ws,
                    "case",
                    NewRecord {
                        id: Some(format!("c{i}")),
                        fields: obj(json!({"priority": priority})),
                    },
                )
                .await
        }));
    }
    let mut ok = 0;
    let mut invalid = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err(RuntimeError::Validation(_)) => invalid += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((ok, invalid), (196, 4));
    engine.run_until_idle().await.unwrap();
    assert_eq!(
        engine
            .store()
            .count_runs(Some(RunStatus::Completed))
            .await
            .unwrap(),
        196
    );
    assert!(matches!(
        engine.record(&ws.id, "case", "c7").await,
        Err(RuntimeError::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_pages_are_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(&dir.path().join("a.db"), quick_config()).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    // Created in an order that is neither ascending nor descending by id.
    for id in ["a", "c", "b"] {
        let record = NewRecord {
            id: Some(id.into()),
            fields: obj(json!({"name": id})),
        };
        engine.create_record(&ws.id, "queue", record).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let none = Default::default();
    let first = engine
        .query_records(&ws.id, "queue", &none, 2, None)
        .await
        .unwrap();
    let ids: Vec<_> = first.items.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["b", "c"]);
    let cursor = first.next_cursor.expect("a second page");
    let second = engine
        .query_records(&ws.id, "queue", &none, 2, Some(&cursor))
        .await
        .unwrap();
    let ids: Vec<_> = second.items.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a"]);
    assert!(second.next_cursor.is_none());
}
