//! Store cases of issue 23: record history (read as of an instant, pruned past a cutoff),
//! event ranges and backtest rows. Cases of the conformance suite (`conformance/`), run
//! on every driver.

use automations_runtime::backtest::*;
use automations_runtime::model::*;
use automations_runtime::store::{Store, StoreTx};
use chrono::Utc;
use serde_json::json;

use chrono::{DateTime, Duration, TimeZone};
use serde_json::{Map, Value};

fn at(ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::milliseconds(ms)
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_string()).collect()
}

fn record(ws: &str, object: &str, id: &str, fields: Value, created_ms: i64) -> Record {
    Record {
        workspace_id: ws.into(),
        object: object.into(),
        id: id.into(),
        fields: obj(fields),
        created_at: at(created_ms),
        updated_at: at(created_ms),
    }
}

fn event(ws: &str, id: &str, event_type: &str) -> Event {
    Event {
        workspace_id: ws.into(),
        id: id.into(),
        event_type: event_type.into(),
        object: Some("case".into()),
        record_id: Some(format!("rec_{id}")),
        payload: json!({"record": {"id": id}}).into(),
        causation: Vec::new(),
        created_at: at(5),
    }
}

pub async fn record_history_as_of_and_prune<S: Store>(s: &S) {
    let v1 = record("w1", "case", "c1", json!({"subject": "v1"}), 10);
    let mut tx = s.begin().await.unwrap();
    tx.insert_record(&v1).await.unwrap();
    tx.insert_record(&record("w2", "case", "c1", json!({"subject": "other"}), 10))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut v2 = v1.clone();
    v2.fields = obj(json!({"subject": "v2"}));
    v2.updated_at = at(50);
    let mut tx = s.begin().await.unwrap();
    tx.update_record(&v2).await.unwrap();
    tx.commit().await.unwrap();

    let before = s.record_as_of("w1", "case", "c1", at(5)).await.unwrap();
    assert_eq!(
        (before.record, before.from, before.until),
        (None, None, Some(at(10)))
    );
    let first = s.record_as_of("w1", "case", "c1", at(30)).await.unwrap();
    assert_eq!(first.record.unwrap().fields["subject"], json!("v1"));
    assert_eq!((first.from, first.until), (Some(at(10)), Some(at(50))));
    let second = s.record_as_of("w1", "case", "c1", at(50)).await.unwrap();
    assert_eq!(
        second.record.unwrap().fields["subject"],
        json!("v2"),
        "a write's own instant sees it"
    );
    assert_eq!(second.until, None);
    let other = s.record_as_of("w2", "case", "c1", at(30)).await.unwrap();
    assert_eq!(
        other.record.unwrap().fields["subject"],
        json!("other"),
        "by workspace"
    );
    assert_eq!(s.count_record_history(Some("w1")).await.unwrap(), 2);

    // A deletion is a state too, at the database's clock.
    let mut tx = s.begin().await.unwrap();
    assert!(tx.delete_record("w1", "case", "c1").await.unwrap());
    tx.commit().await.unwrap();
    let gone = s
        .record_as_of("w1", "case", "c1", Utc::now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert!(gone.record.is_none() && gone.from.is_some());
    assert_eq!(s.count_record_history(None).await.unwrap(), 4);

    // Pruning at 60 ms drops v1 (v2 is the state at the cutoff) and nothing else.
    let mut tx = s.begin().await.unwrap();
    assert_eq!(tx.prune_record_history(at(60), 100).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let kept = s.record_as_of("w1", "case", "c1", at(60)).await.unwrap();
    assert_eq!(kept.record.unwrap().fields["subject"], json!("v2"));
    assert!(
        s.record_as_of("w1", "case", "c1", at(30))
            .await
            .unwrap()
            .record
            .is_none(),
        "pruned"
    );
}

pub async fn events_between_in_stored_order<S: Store>(s: &S) {
    let mut events = Vec::new();
    for (i, (ws, ty, ms)) in [
        ("w1", "case.created", 10),
        ("w1", "case.updated", 20),
        ("w2", "case.created", 30),
        ("w1", "case.created", 40),
        ("w1", "case.created", 50),
        ("w1", "case.created", 90),
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = event(ws, &format!("e{i}"), ty);
        e.created_at = at(ms);
        events.push(e);
    }
    let mut tx = s.begin().await.unwrap();
    tx.insert_events(&events).await.unwrap();
    tx.commit().await.unwrap();
    let ids = |got: &[(i64, Event)]| got.iter().map(|(_, e)| e.id.clone()).collect::<Vec<_>>();
    let all = s
        .events_between("w1", "case.created", (at(0), at(90)), None, 10)
        .await
        .unwrap();
    assert_eq!(
        ids(&all),
        ["e0", "e3", "e4"],
        "type, workspace and [from, to) filter"
    );
    let first = s
        .events_between("w1", "case.created", (at(0), at(90)), None, 2)
        .await
        .unwrap();
    assert_eq!(ids(&first), ["e0", "e3"]);
    let rest = s
        .events_between("w1", "case.created", (at(0), at(90)), Some(first[1].0), 2)
        .await
        .unwrap();
    assert_eq!(ids(&rest), ["e4"]);
    assert!(
        s.events_between("w1", "case.created", (at(41), at(49)), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

fn job(ws: &str, id: &str, automation: &str, created_ms: i64) -> Backtest {
    Backtest {
        id: id.into(),
        workspace_id: ws.into(),
        automation_id: automation.into(),
        target_id: automation.into(),
        version: 1,
        request: BacktestRequest {
            from: at(0),
            to: at(100),
            limit: 10,
            version: VersionChoice::Number(1),
            definition: None,
        },
        status: BacktestStatus::Queued,
        progress: BacktestProgress::default(),
        result: None,
        error: None,
        created_at: at(created_ms),
        started_at: None,
        finished_at: None,
    }
}

pub async fn backtest_rows<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for (id, ms) in [("b1", 1), ("b2", 2), ("b3", 3)] {
        tx.insert_backtest(&job("w1", id, "a1", ms)).await.unwrap();
    }
    tx.insert_backtest(&job("w2", "b4", "a1", 4)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.count_active_backtests("w1").await.unwrap(), 3);
    assert!(
        s.backtest("w2", "b1").await.unwrap().is_none(),
        "by workspace"
    );

    let mut done = job("w1", "b1", "a1", 1);
    done.status = BacktestStatus::Completed;
    done.progress.events_considered = 7;
    done.result = Some(BacktestResult {
        events_considered: 7,
        ..Default::default()
    });
    done.finished_at = Some(at(9));
    let mut tx = s.begin().await.unwrap();
    assert!(tx.update_backtest(&done).await.unwrap());
    let mut again = done.clone();
    again.status = BacktestStatus::Cancelled;
    assert!(
        !tx.update_backtest(&again).await.unwrap(),
        "an ended job is not written again"
    );
    tx.commit().await.unwrap();
    assert_eq!(s.backtest("w1", "b1").await.unwrap().unwrap(), done);

    let page = s.backtests("w1", "a1", 2, None).await.unwrap();
    assert_eq!(ids(&page.items, |b| &b.id), ["b3", "b2"]);
    assert!(
        page.items.iter().all(|b| b.result.is_none()),
        "lists leave results out"
    );
    let next = s
        .backtests("w1", "a1", 2, page.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(ids(&next.items, |b| &b.id), ["b1"]);
    assert!(
        s.backtests("w1", "a1", 2, Some("b4")).await.is_err(),
        "another workspace's cursor"
    );

    let mut tx = s.begin().await.unwrap();
    assert_eq!(
        tx.interrupt_backtests(at(20)).await.unwrap(),
        3,
        "every workspace's"
    );
    tx.commit().await.unwrap();
    let b2 = s.backtest("w1", "b2").await.unwrap().unwrap();
    assert_eq!(b2.status, BacktestStatus::Failed);
    assert!(b2.error.unwrap().contains("interrupted"));
    assert_eq!(s.count_active_backtests("w1").await.unwrap(), 0);
}
