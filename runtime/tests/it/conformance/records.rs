//! Records (with the transaction's memory of them), events, custom event types.

use automations_runtime::error::RuntimeError;
use automations_runtime::model::*;
use automations_runtime::store::{Store, StoreTx};
use serde_json::{Map, json};

use super::fixtures::*;

pub async fn records_round_trip<S: Store>(s: &S) {
    let fields = json!({"priority": "critical", "score": 1.5, "big": 9007199254740993_i64,
        "flag": true, "none": null, "list": [1, "two"], "text": "naïve ✓ \"quoted\""});
    let r = record("w1", "case", "c1", fields.clone(), 1);
    let mut tx = s.begin().await.unwrap();
    tx.insert_record(&r).await.unwrap();
    // A driver may hold the insert back: the error then comes at the latest at commit.
    let twice = async {
        tx.insert_record(&r).await?;
        tx.commit().await
    };
    assert!(twice.await.is_err(), "(workspace, object, id) is unique");
    assert!(s.record("w1", "case", "c1").await.unwrap().is_none());
    let mut tx = s.begin().await.unwrap();
    tx.insert_record(&r).await.unwrap();
    tx.insert_record(&record("w2", "case", "c1", json!({"other": 1}), 1))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let read = s.record("w1", "case", "c1").await.unwrap().unwrap();
    assert_eq!(read, r);
    assert_eq!(
        read.fields["big"],
        json!(9007199254740993_i64),
        "integers stay exact"
    );
    assert!(
        s.record("w1", "contact", "c1").await.unwrap().is_none(),
        "object is part of the key"
    );
    assert_eq!(
        s.record("w2", "case", "c1").await.unwrap().unwrap().fields["other"],
        json!(1)
    );

    let mut tx = s.begin().await.unwrap();
    let mut updated = r.clone();
    updated.fields.insert("priority".into(), json!("low"));
    updated.updated_at = at(9);
    updated.created_at = at(999);
    tx.update_record(&updated).await.unwrap();
    let mut missing = record("w1", "case", "nope", json!({}), 1);
    missing.updated_at = at(9);
    tx.update_record(&missing).await.unwrap();
    assert!(
        tx.record("w1", "case", "nope").await.unwrap().is_none(),
        "update creates nothing"
    );
    assert!(tx.delete_record("w2", "case", "c1").await.unwrap());
    assert!(
        !tx.delete_record("w2", "case", "c1").await.unwrap(),
        "already gone"
    );
    tx.commit().await.unwrap();
    let read = s.record("w1", "case", "c1").await.unwrap().unwrap();
    assert_eq!(read.fields["priority"], json!("low"));
    assert_eq!(
        (read.created_at, read.updated_at),
        (at(1), at(9)),
        "created_at is never rewritten"
    );
    assert!(s.record("w2", "case", "c1").await.unwrap().is_none());
}

/// Rows a driver may hold back (record inserts and updates, generated events and their
/// runs) are seen by every later statement of their transaction, go with a rolled-back
/// savepoint, and leave each record's history in the order of its writes.
pub async fn held_back_rows_are_seen_by_later_statements<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    let c1 = record("w1", "case", "c1", json!({"p": "low"}), 10);
    tx.insert_record(&c1).await.unwrap();
    let read = tx.record("w1", "case", "c1").await.unwrap().unwrap();
    assert_eq!(read, c1, "an inserted record reads back in its transaction");
    let mut high = read.clone();
    high.fields.insert("p".into(), json!("high"));
    high.updated_at = at(20);
    tx.update_record(&high).await.unwrap();
    let mut critical = high.clone();
    critical.fields.insert("p".into(), json!("critical"));
    critical.updated_at = at(30);
    tx.update_record(&critical).await.unwrap();
    let mut e1 = event("w1", "e1", "case.created");
    e1.record_id = Some("c1".into());
    tx.insert_generated_events(std::slice::from_ref(&e1))
        .await
        .unwrap();
    tx.insert_new_run(&run("w1", "r1", "a1", "e1", 10))
        .await
        .unwrap();
    assert_eq!(
        tx.count_runs_on_record("w1", "a1", "case", "c1", at(0))
            .await
            .unwrap(),
        1,
        "the loop guard's count sees the run"
    );
    let queued = tx.queued_runs(10).await.unwrap();
    assert_eq!(ids(&queued, |r| &r.id), ["r1"]);
    let events = tx.events(&[("w1", "e1")]).await.unwrap();
    assert_eq!(ids(&events, |e| &e.id), ["e1"]);
    let mut highest = critical.clone();
    highest.fields.insert("p".into(), json!("highest"));
    highest.updated_at = at(40);
    tx.update_record(&highest).await.unwrap();

    tx.savepoint().await.unwrap();
    tx.insert_record(&record("w1", "case", "c2", json!({}), 40))
        .await
        .unwrap();
    tx.insert_generated_events(&[event("w1", "e2", "case.created")])
        .await
        .unwrap();
    tx.insert_new_run(&run("w1", "r2", "a1", "e2", 40))
        .await
        .unwrap();
    tx.rollback_to_savepoint().await.unwrap();
    tx.commit().await.unwrap();

    let stored = s.record("w1", "case", "c1").await.unwrap().unwrap();
    assert_eq!(stored.fields["p"], json!("highest"));
    for (ms, p) in [(15, "low"), (25, "high"), (35, "critical"), (45, "highest")] {
        let state = s.record_as_of("w1", "case", "c1", at(ms)).await.unwrap();
        assert_eq!(
            state.record.unwrap().fields["p"],
            json!(p),
            "history at {ms}"
        );
    }
    assert!(s.record("w1", "case", "c2").await.unwrap().is_none());
    assert!(s.event("w1", "e2").await.unwrap().is_none());
    assert!(s.run("w1", "r2").await.unwrap().is_none());
    assert!(s.run("w1", "r1").await.unwrap().is_some());

    // A generated event whose id is taken fails, at the latest at commit, and takes its
    // transaction with it.
    let mut tx = s.begin().await.unwrap();
    tx.insert_record(&record("w1", "case", "c3", json!({}), 50))
        .await
        .unwrap();
    let taken = async {
        tx.insert_generated_events(std::slice::from_ref(&e1))
            .await?;
        tx.commit().await
    };
    assert!(taken.await.is_err(), "event ids are unique");
    assert!(s.record("w1", "case", "c3").await.unwrap().is_none());
}

/// What a transaction remembers of records reads back as stored; a rolled-back
/// savepoint forgets it.
pub async fn records_remembered_in_a_transaction<S: Store>(s: &S) {
    let rec = record("w1", "case", "c1", json!({"x": 1.5, "s": "a"}), 1);
    let mut tx = s.begin().await.unwrap();
    tx.insert_record(&rec).await.unwrap();
    tx.prefetch_records(&[
        ("w1", "case", "c1"),
        ("w1", "case", "nope"),
        ("w1", "case", "c1"),
    ])
    .await
    .unwrap();
    assert!(tx.record("w1", "case", "nope").await.unwrap().is_none());
    let stored = tx.record("w1", "case", "c1").await.unwrap().unwrap();
    assert_eq!(stored, rec);
    let mut updated = stored.clone();
    updated.fields.insert("s".into(), json!("b"));
    updated.updated_at = at(5);
    tx.update_record(&updated).await.unwrap();
    let remembered = tx.record("w1", "case", "c1").await.unwrap().unwrap();
    tx.savepoint().await.unwrap();
    tx.delete_record("w1", "case", "c1").await.unwrap();
    assert!(tx.record("w1", "case", "c1").await.unwrap().is_none());
    tx.rollback_to_savepoint().await.unwrap();
    let after_rollback = tx.record("w1", "case", "c1").await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let read = s.record("w1", "case", "c1").await.unwrap().unwrap();
    assert_eq!(remembered, read);
    assert_eq!(after_rollback, read);
    assert_eq!(read.fields["s"], json!("b"));
}

pub async fn query_records_filters_and_pages<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for i in 0..7 {
        let priority = if i % 2 == 0 { "critical" } else { "low" };
        let fields = json!({"priority": priority, "n": i, "tag": null, "odd\"key": i});
        tx.insert_record(&record("w1", "case", &format!("c{i}"), fields, i))
            .await
            .unwrap();
    }
    // Same instant: the id orders them.
    tx.insert_record(&record(
        "w1",
        "case",
        "c7",
        json!({"priority": "critical"}),
        6,
    ))
    .await
    .unwrap();
    tx.insert_record(&record(
        "w1",
        "contact",
        "p1",
        json!({"priority": "critical"}),
        1,
    ))
    .await
    .unwrap();
    tx.insert_record(&record(
        "w2",
        "case",
        "x1",
        json!({"priority": "critical"}),
        1,
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let none = Map::new();
    let all = s.query_records("w1", "case", &none, 0, None).await.unwrap();
    assert_eq!(
        ids(&all.items, |r| &r.id),
        ["c7", "c6", "c5", "c4", "c3", "c2", "c1", "c0"]
    );
    assert!(all.next_cursor.is_none());

    let critical = obj(json!({"priority": "critical"}));
    let p1 = s
        .query_records("w1", "case", &critical, 2, None)
        .await
        .unwrap();
    assert_eq!(ids(&p1.items, |r| &r.id), ["c7", "c6"]);
    assert_eq!(p1.next_cursor.as_deref(), Some("c6"));
    let p2 = s
        .query_records("w1", "case", &critical, 2, Some("c6"))
        .await
        .unwrap();
    assert_eq!(ids(&p2.items, |r| &r.id), ["c4", "c2"]);
    let p3 = s
        .query_records("w1", "case", &critical, 2, p2.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(ids(&p3.items, |r| &r.id), ["c0"]);
    assert!(p3.next_cursor.is_none());

    let two = obj(json!({"priority": "low", "n": 3}));
    let got = s.query_records("w1", "case", &two, 10, None).await.unwrap();
    assert_eq!(ids(&got.items, |r| &r.id), ["c3"], "every pair must match");
    let float = obj(json!({"n": 3.0}));
    let got = s
        .query_records("w1", "case", &float, 10, None)
        .await
        .unwrap();
    assert_eq!(ids(&got.items, |r| &r.id), ["c3"], "3.0 equals 3");
    let null = obj(json!({"tag": null, "priority": "critical"}));
    let got = s
        .query_records("w1", "case", &null, 10, None)
        .await
        .unwrap();
    assert_eq!(
        ids(&got.items, |r| &r.id),
        ["c7", "c6", "c4", "c2", "c0"],
        "null matches null and missing"
    );
    let quoted = obj(json!({"odd\"key": 4}));
    let got = s
        .query_records("w1", "case", &quoted, 10, None)
        .await
        .unwrap();
    assert!(
        got.items.len() <= 1,
        "a quote in a field name is data, never SQL"
    );
    let none_match = obj(json!({"priority": "medium"}));
    assert!(
        s.query_records("w1", "case", &none_match, 10, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    match s.query_records("w1", "case", &none, 10, Some("x1")).await {
        Err(RuntimeError::NotFound { what: "cursor", .. }) => {}
        other => panic!("another workspace's id is no cursor: {other:?}"),
    }
    let big = s
        .query_records("w1", "case", &none, 100_000, None)
        .await
        .unwrap();
    assert_eq!(big.items.len(), 8, "a huge limit is clamped, not an error");
}

pub async fn events_insert_once<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.insert_event(&event("w1", "e1", "case.created"))
            .await
            .unwrap()
    );
    assert!(
        !tx.insert_event(&event("w1", "e1", "case.updated"))
            .await
            .unwrap(),
        "same id"
    );
    assert!(
        tx.insert_event(&event("w2", "e1", "case.created"))
            .await
            .unwrap(),
        "other workspace"
    );
    let inserted = tx
        .insert_events(&[
            event("w1", "e1", "case.created"),
            event("w1", "e2", "case.created"),
            event("w1", "e3", "custom.ping"),
            event("w1", "e2", "case.created"),
        ])
        .await
        .unwrap();
    assert_eq!(inserted, vec![false, true, true, false]);
    assert_eq!(
        tx.insert_events(&[event("w1", "e4", "x")]).await.unwrap(),
        vec![true]
    );
    assert!(tx.insert_events(&[]).await.unwrap().is_empty());
    let mut found = tx
        .events(&[("w1", "e2"), ("w1", "e3"), ("w3", "e1"), ("w1", "zz")])
        .await
        .unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(ids(&found, |e| &e.id), ["e2", "e3"]);
    assert_eq!(found[1].event_type, "custom.ping");
    let one = tx.event("w1", "e1").await.unwrap().unwrap();
    assert_eq!(one.event_type, "case.created", "the first stored one stays");
    assert!(tx.event("w3", "e1").await.unwrap().is_none());
    tx.commit().await.unwrap();

    let e = s.event("w1", "e2").await.unwrap().unwrap();
    let want = event("w1", "e2", "case.created");
    assert_eq!((e.object, e.record_id), (want.object, want.record_id));
    assert_eq!(e.payload, want.payload);
    assert_eq!(e.causation, want.causation);
    assert_eq!(e.created_at, want.created_at);
    assert!(s.event("w2", "e2").await.unwrap().is_none());
}

/// Many events in one call (more than one statement's worth of rows).
pub async fn events_in_bulk<S: Store>(s: &S) {
    let events: Vec<Event> = (0..1500)
        .map(|i| event("w1", &format!("e{i}"), "case.created"))
        .collect();
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_events(&events).await.unwrap().iter().all(|b| *b));
    let keys: Vec<(&str, &str)> = events.iter().map(|e| ("w1", e.id.as_str())).collect();
    assert_eq!(tx.events(&keys).await.unwrap().len(), 1500);
    assert!(tx.insert_events(&events).await.unwrap().iter().all(|b| !*b));
    tx.commit().await.unwrap();
}

pub async fn custom_event_types<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for (i, t) in [
        "custom.b",
        "custom.a",
        "custom.b",
        "case.created",
        "customer.x",
    ]
    .iter()
    .enumerate()
    {
        tx.insert_event(&event("w1", &format!("e{i}"), t))
            .await
            .unwrap();
    }
    tx.insert_event(&event("w2", "e9", "custom.other_ws"))
        .await
        .unwrap();
    let a = automation("w1", "a1", 1);
    tx.insert_automation(&a).await.unwrap();
    tx.insert_version(&version(&a, 1, "custom.old"))
        .await
        .unwrap();
    let mut a = a.clone();
    a.current_version = 2;
    tx.update_automation(&a).await.unwrap();
    tx.insert_version(&version(&a, 2, "custom.c"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let types = s.custom_event_types("w1", 10).await.unwrap();
    assert_eq!(
        types,
        ["custom.a", "custom.b", "custom.c"],
        "current versions only"
    );
    assert_eq!(
        s.custom_event_types("w1", 2).await.unwrap(),
        ["custom.a", "custom.b"]
    );
    assert_eq!(
        s.custom_event_types("w2", 10).await.unwrap(),
        ["custom.other_ws"]
    );
}

/// Text with NUL (U+0000): stored as is, or refused with a clear error that leaves the
/// transaction usable after its savepoint is rolled back (PostgreSQL cannot store it).
pub async fn nul_text_is_stored_or_refused_clearly<S: Store>(s: &S) {
    let nul = record("w1", "case", "c1", json!({"subject": "a\u{0}b"}), 1);
    let mut tx = s.begin().await.unwrap();
    tx.savepoint().await.unwrap();
    match tx.insert_record(&nul).await {
        Ok(()) => {
            tx.release_savepoint().await.unwrap();
            tx.commit().await.unwrap();
            let read = s.record("w1", "case", "c1").await.unwrap().unwrap();
            assert_eq!(read.fields["subject"], json!("a\u{0}b"));
        }
        Err(RuntimeError::BadRequest(message)) => {
            assert!(message.contains("NUL"), "{message}");
            tx.rollback_to_savepoint().await.unwrap();
            tx.insert_record(&record("w1", "case", "c2", json!({"subject": "ok"}), 1))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert!(s.record("w1", "case", "c2").await.unwrap().is_some());
            assert!(s.record("w1", "case", "c1").await.unwrap().is_none());
        }
        Err(other) => panic!("neither stored nor refused clearly: {other:?}"),
    }
}

/// A held-back write that fails (an event id taken since) fails the transaction, and none
/// of the rows held back or queued with it is stored: drivers that send them together in
/// one round trip must not keep those written before the failing one.
pub async fn a_failing_held_back_write_stores_nothing_of_its_transaction<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    tx.insert_generated_events(&[event("w1", "e1", "case.created")])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await.unwrap();
    tx.insert_record(&record("w1", "case", "c9", json!({"p": "low"}), 20))
        .await
        .unwrap();
    tx.insert_new_run(&run("w1", "r9", "a1", "e1", 20))
        .await
        .unwrap();
    tx.insert_outbox(&outbox("w1", "o9", "k9", 20))
        .await
        .unwrap();
    // A driver may refuse the taken id at once or at the commit.
    if tx
        .insert_generated_events(&[event("w1", "e1", "case.created")])
        .await
        .is_ok()
    {
        assert!(tx.commit().await.is_err(), "the commit fails");
    }

    assert!(s.record("w1", "case", "c9").await.unwrap().is_none());
    assert!(s.run("w1", "r9").await.unwrap().is_none());
    let items = s.outbox("w1", &OutboxFilter::default()).await.unwrap();
    assert!(items.items.is_empty(), "{:?}", items.items);
}
