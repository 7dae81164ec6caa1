//! Backtests (issue 23): a replay of stored events gives what the live runs did; records
//! are read as they were at each event; cancel, bounds and record history retention.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use automations_runtime::backtest::*;
use automations_runtime::model::{RunFilter, RunStatus};
use automations_runtime::store::Store;
use automations_runtime::{NewRecord, RecordOp, RuntimeError};

use crate::support::*;

/// High-priority cases of gold accounts: escalate, email the account's owner address,
/// post to the tier's channel. Reads a related record (the account) in its condition and
/// its params.
fn escalation() -> Value {
    json!({
        "name": "Escalate gold cases",
        "trigger": {"event": "case.created", "conditions": "priority == 'high' and account.tier == 'gold'"},
        "actions": [
            {"type": "update_field", "params": {"field": "status", "value": "escalated"}},
            {"type": "send_email", "params": {"to": "owner-{{ account.name }}@example.com", "subject": "Case {{ subject }}", "body": "Tier {{ account.tier }}"}},
            {"type": "send_notification", "params": {"channel": "slack", "message": "{{ subject }}", "target": "#{{ account.tier }}-{{ account.name }}"}}
        ],
        "status": "active"
    })
}

fn request(from: chrono::DateTime<Utc>, limit: u32) -> BacktestRequest {
    BacktestRequest {
        from,
        to: Utc::now() + chrono::Duration::seconds(1),
        limit,
        version: VersionChoice::Current,
        definition: None,
    }
}

/// The live runs' effects, grouped as a backtest groups them.
async fn live_tally(engine: &Engine, ws: &str, automation_id: &str) -> (u64, EffectTally) {
    let mut tally = TallyBuilder::default();
    let mut n = 0;
    let mut cursor = None;
    loop {
        let filter = RunFilter {
            automation_id: Some(automation_id.to_string()),
            limit: 500,
            cursor: cursor.clone(),
            ..Default::default()
        };
        let page = engine.runs(ws, &filter).await.unwrap();
        for r in &page.items {
            let run = engine.run(ws, &r.id).await.unwrap();
            assert_eq!(run.status, RunStatus::Completed);
            n += 1;
            for step in &run.steps {
                step.effects.iter().for_each(|e| tally.add(e));
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return (n, tally.finish()),
        }
    }
}

async fn accounts(engine: &Engine, ws: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, tier) in [
        "gold", "bronze", "gold", "silver", "platinum", "gold", "bronze", "gold",
    ]
    .iter()
    .enumerate()
    {
        let a = engine
            .create_record(
                ws,
                "account",
                NewRecord {
                    id: Some(format!("acc{i}")),
                    fields: obj(json!({"name": format!("A{i}"), "tier": tier})),
                },
            )
            .await
            .unwrap();
        ids.push(a.id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backtest_of_1000_events_gives_the_live_matches_and_effects() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, fx.ws.id.as_str());
    let started = Utc::now() - chrono::Duration::seconds(1);
    let accounts = accounts(engine, ws).await;
    let (auto, _) = engine.create_automation(ws, escalation()).await.unwrap();
    for chunk in (0..1000).collect::<Vec<usize>>().chunks(100) {
        let ops = chunk
            .iter()
            .map(|i| RecordOp::Create {
                object: "case".into(),
                record: NewRecord {
                    id: None,
                    fields: obj(json!({
                        "subject": format!("#{i}"),
                        "priority": if i % 3 == 0 { "low" } else { "high" },
                        "account_id": accounts[i % accounts.len()],
                    })),
                },
            })
            .collect();
        engine.write_records(ws, ops).await.unwrap();
        // Live runs happen between the batches, as a server's workers would run them.
        engine.run_until_idle().await.unwrap();
    }
    let (live_runs, live) = live_tally(engine, ws, &auto.id).await;
    assert!(
        live_runs > 300,
        "the fixture matches a good part: {live_runs}"
    );

    // Every account changes after the events: a backtest must still see the old tiers.
    tokio::time::sleep(Duration::from_millis(5)).await;
    for id in &accounts {
        engine
            .update_record(
                ws,
                "account",
                id,
                obj(json!({"tier": "bronze", "name": "renamed"})),
            )
            .await
            .unwrap();
    }

    let b = engine
        .run_backtest(ws, &auto.id, request(started, 1000))
        .await
        .unwrap();
    assert_eq!(b.status, BacktestStatus::Completed, "{:?}", b.error);
    let result = b.result.unwrap();
    assert_eq!(result.events_considered, 1000);
    assert_eq!(result.events_matched, live_runs);
    assert_eq!(result.runs.total, live_runs);
    assert_eq!(result.runs.completed, live_runs);
    assert!(!result.truncated);
    assert_eq!(
        result.effects, live,
        "grouped effects differ from the live runs'"
    );
    // The groups say to whom and what: emails per owner address, the field and its value.
    let status = result
        .effects
        .groups
        .iter()
        .find(|g| g.kind == "record.update" && g.target == "case.status")
        .unwrap();
    assert_eq!(
        status.values,
        vec![ValueCount {
            value: json!("escalated"),
            count: live_runs
        }]
    );
    assert!(
        result
            .effects
            .groups
            .iter()
            .any(|g| g.kind == "email" && g.target == "owner-A0@example.com")
    );
    assert!(
        result
            .effects
            .groups
            .iter()
            .any(|g| g.kind == "slack" && g.target == "#gold-A0")
    );
    assert_eq!(result.sample_runs.len(), SAMPLE_RUNS);
    assert!(
        result
            .sample_runs
            .iter()
            .all(|s| s.matched && s.status.as_deref() == Some("completed"))
    );
    assert_eq!(result.sample_non_matches.len(), SAMPLE_NON_MATCHES);
    assert!(
        result
            .sample_non_matches
            .iter()
            .all(|s| s.explanation["result"] == json!(false))
    );

    // A backtest wrote no record, run, outbox item or event.
    let runs_after = engine.store().count_runs(None).await.unwrap();
    assert_eq!(runs_after as u64, live_runs);
    let a0 = engine.record(ws, "account", &accounts[0]).await.unwrap();
    assert_eq!(a0.fields["tier"], json!("bronze"));

    // Live from now on, the same version matches nothing: every account is bronze.
    let limited = engine
        .run_backtest(ws, &auto.id, request(started, 10))
        .await
        .unwrap()
        .result
        .unwrap();
    assert_eq!(limited.events_considered, 10);
    assert!(limited.truncated, "the range holds more than the limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_read_as_they_were_at_each_event() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, fx.ws.id.as_str());
    let started = Utc::now() - chrono::Duration::seconds(1);
    let account = engine
        .create_record(
            ws,
            "account",
            NewRecord {
                id: Some("acc".into()),
                fields: obj(json!({"name": "Acme", "tier": "gold"})),
            },
        )
        .await
        .unwrap();
    let mut draft = escalation();
    draft["status"] = json!("draft");
    let (auto, _) = engine.create_automation(ws, draft).await.unwrap();
    let step = || tokio::time::sleep(Duration::from_millis(3));
    step().await;
    let first = fx
        .create(
            "case",
            json!({"subject": "one", "priority": "high", "account_id": account.id}),
        )
        .await;
    step().await;
    engine
        .update_record(ws, "account", "acc", obj(json!({"tier": "bronze"})))
        .await
        .unwrap();
    step().await;
    fx.create(
        "case",
        json!({"subject": "two", "priority": "high", "account_id": "acc"}),
    )
    .await;
    step().await;
    engine
        .update_record(
            ws,
            "account",
            "acc",
            obj(json!({"tier": "gold", "name": "Acme 2"})),
        )
        .await
        .unwrap();
    step().await;
    let third = fx
        .create(
            "case",
            json!({"subject": "three", "priority": "high", "account_id": "acc"}),
        )
        .await;
    step().await;
    engine.delete_record(ws, "account", "acc").await.unwrap();
    step().await;
    fx.create(
        "case",
        json!({"subject": "four", "priority": "high", "account_id": "acc"}),
    )
    .await;

    // A draft never ran live; its backtest reads the account of each moment.
    assert!(fx.runs().await.is_empty());
    let result = engine
        .run_backtest(ws, &auto.id, request(started, 100))
        .await
        .unwrap()
        .result
        .unwrap();
    assert_eq!(result.events_considered, 4);
    assert_eq!(result.events_matched, 2);
    let matched: Vec<&str> = result
        .sample_runs
        .iter()
        .filter_map(|s| s.record.as_ref().and_then(|r| r["id"].as_str()))
        .collect();
    assert_eq!(matched, vec![first.id.as_str(), third.id.as_str()]);
    let emails: Vec<(&str, u64)> = result
        .effects
        .groups
        .iter()
        .filter(|g| g.kind == "email")
        .map(|g| (g.target.as_str(), g.count))
        .collect();
    assert_eq!(
        emails,
        vec![
            ("owner-Acme 2@example.com", 1),
            ("owner-Acme@example.com", 1)
        ]
    );
    // The non-matches say why: the tier the account had then.
    let why: Vec<String> = result
        .sample_non_matches
        .iter()
        .map(|s| s.explanation.to_string())
        .collect();
    assert_eq!(why.len(), 2);
    assert!(why[0].contains("bronze"), "{}", why[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_choice_replays_that_version() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, fx.ws.id.as_str());
    let started = Utc::now() - chrono::Duration::seconds(1);
    let (auto, _) = engine.create_automation(ws, seed()).await.unwrap();
    let mut v2 = seed();
    v2["trigger"]["conditions"] = json!({"priority": "low"});
    engine.update_automation(ws, &auto.id, v2).await.unwrap();
    fx.create("case", json!({"priority": "critical"})).await;
    fx.create("case", json!({"priority": "low"})).await;
    fx.create("case", json!({"priority": "low"})).await;
    let matched = |choice| {
        let mut req = request(started, 100);
        req.version = choice;
        let engine = engine.clone();
        let id = auto.id.clone();
        async move {
            engine
                .run_backtest(ws, &id, req)
                .await
                .map(|b| b.result.unwrap().events_matched)
        }
    };
    assert_eq!(matched(VersionChoice::Number(1)).await.unwrap(), 1);
    assert_eq!(matched(VersionChoice::Current).await.unwrap(), 2);
    assert!(matches!(
        matched(VersionChoice::Number(9)).await,
        Err(RuntimeError::NotFound { .. })
    ));
    let no_copy = matched(VersionChoice::Sandbox).await.unwrap_err();
    assert!(no_copy.to_string().contains("no sandbox copy"), "{no_copy}");
}

/// Waits until `pred` holds for the stored job (at most ~20 s).
async fn wait_for(
    engine: &Engine,
    ws: &str,
    auto: &str,
    id: &str,
    pred: impl Fn(&Backtest) -> bool,
) -> Backtest {
    for _ in 0..2000 {
        let b = engine.backtest(ws, auto, id).await.unwrap();
        if pred(&b) {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("backtest {id} never reached the expected state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_ends_a_running_or_queued_backtest_and_a_finished_one_is_a_conflict() {
    let mut config = quick_config();
    config.backtest_concurrency = 1;
    let fx = Fixture::with(config, None).await;
    let (engine, ws) = (&fx.engine, fx.ws.id.as_str());
    let started = Utc::now() - chrono::Duration::seconds(1);
    let mut draft = seed();
    draft["status"] = json!("draft");
    let (auto, _) = engine.create_automation(ws, draft).await.unwrap();
    let n = 5_000;
    for chunk in (0..n).collect::<Vec<usize>>().chunks(500) {
        let ops = chunk
            .iter()
            .map(|i| RecordOp::Create {
                object: "case".into(),
                record: NewRecord {
                    id: None,
                    fields: obj(json!({"priority": "critical", "subject": format!("{i}")})),
                },
            })
            .collect();
        engine.write_records(ws, ops).await.unwrap();
    }
    let running = engine
        .start_backtest(ws, &auto.id, request(started, n as u32))
        .await
        .unwrap();
    assert_eq!(running.status, BacktestStatus::Queued);
    // Once it has saved progress it is running and holds the one permit...
    let seen = wait_for(engine, ws, &auto.id, &running.id, |b| {
        b.progress.events_considered > 0 || b.status.is_finished()
    })
    .await;
    assert_eq!(seen.status, BacktestStatus::Running);
    // ...so a second one waits, queued, and a cancel ends it before it starts.
    let queued = engine
        .start_backtest(ws, &auto.id, request(started, n as u32))
        .await
        .unwrap();
    let cancelled = engine
        .cancel_backtest(ws, &auto.id, &queued.id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, BacktestStatus::Cancelled);
    assert!(cancelled.started_at.is_none());
    // The running one stops at its next event.
    let cancelled = engine
        .cancel_backtest(ws, &auto.id, &running.id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, BacktestStatus::Cancelled);
    // Cancelling again answers it as it is.
    engine
        .cancel_backtest(ws, &auto.id, &running.id)
        .await
        .unwrap();
    for _ in 0..500 {
        if engine.store().count_active_backtests(ws).await.unwrap() == 0
            && engine
                .store()
                .backtest(ws, &queued.id)
                .await
                .unwrap()
                .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    for id in [&running.id, &queued.id] {
        let after = engine.backtest(ws, &auto.id, id).await.unwrap();
        assert_eq!(after.status, BacktestStatus::Cancelled);
        assert!(after.result.is_none());
        assert!(after.finished_at.is_some());
        assert!(
            after.progress.events_considered < n as u64,
            "the cancel stopped the replay"
        );
    }

    let done = engine
        .run_backtest(ws, &auto.id, request(started, 100))
        .await
        .unwrap();
    assert_eq!(done.status, BacktestStatus::Completed);
    assert_eq!(done.result.as_ref().unwrap().events_matched, 100);
    let err = engine
        .cancel_backtest(ws, &auto.id, &done.id)
        .await
        .unwrap_err();
    assert!(matches!(err, RuntimeError::Conflict(_)), "{err}");
    // Another automation's id does not reach the job.
    let (other, _) = engine.create_automation(ws, seed()).await.unwrap();
    assert!(matches!(
        engine.backtest(ws, &other.id, &done.id).await,
        Err(RuntimeError::NotFound { .. })
    ));
    let page = engine.backtests(ws, &auto.id, 50, None).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(page.items[0].id, done.id, "newest first");
    assert!(
        page.items.iter().all(|b| b.result.is_none()),
        "lists leave results out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounds_are_checked_with_clear_errors() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, fx.ws.id.as_str());
    let (auto, _) = engine.create_automation(ws, seed()).await.unwrap();
    let now = Utc::now();
    let bad = |req: BacktestRequest| {
        let engine = engine.clone();
        let id = auto.id.clone();
        async move {
            engine
                .run_backtest(ws, &id, req)
                .await
                .unwrap_err()
                .to_string()
        }
    };
    let huge = bad(request(now - chrono::Duration::hours(1), 1_000_000)).await;
    assert!(
        huge.contains("limit 1000000") && huge.contains("100000"),
        "{huge}"
    );
    assert!(
        bad(request(now - chrono::Duration::hours(1), 0))
            .await
            .contains("limit 0")
    );
    let old = bad(request(now - chrono::Duration::days(400), 10)).await;
    assert!(
        old.contains("record history") && old.contains("30 days"),
        "{old}"
    );
    let mut empty = request(now, 10);
    empty.to = now - chrono::Duration::hours(1);
    assert!(bad(empty).await.contains("range is empty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_history_is_written_with_each_write_and_pruned_past_retention() {
    let mut config = quick_config();
    config.record_history = Duration::ZERO;
    let fx = Fixture::with(config, None).await;
    let (engine, ws) = (&fx.engine, fx.ws.id.as_str());
    let store = engine.store();
    let kept = fx.create("case", json!({"subject": "v1"})).await;
    let t1 = Utc::now();
    tokio::time::sleep(Duration::from_millis(3)).await;
    engine
        .update_record(ws, "case", &kept.id, obj(json!({"subject": "v2"})))
        .await
        .unwrap();
    let gone = fx.create("case", json!({"subject": "bye"})).await;
    tokio::time::sleep(Duration::from_millis(3)).await;
    engine.delete_record(ws, "case", &gone.id).await.unwrap();
    assert_eq!(store.count_record_history(Some(ws)).await.unwrap(), 4);
    let then = store.record_as_of(ws, "case", &kept.id, t1).await.unwrap();
    assert!(then.until.is_some(), "v1 held until v2");
    let then = then.record.unwrap();
    assert_eq!(then.fields["subject"], json!("v1"));
    assert!(
        store
            .record_as_of(ws, "case", &gone.id, Utc::now())
            .await
            .unwrap()
            .record
            .is_none()
    );
    // A write that changes nothing raises no event and writes no history.
    engine
        .update_record(ws, "case", &kept.id, obj(json!({"subject": "v2"})))
        .await
        .unwrap();
    assert_eq!(store.count_record_history(Some(ws)).await.unwrap(), 4);

    tokio::time::sleep(Duration::from_millis(3)).await;
    let pruned = engine.prune_record_history().await.unwrap();
    assert_eq!(pruned, 3, "v1, and the deleted record's two rows");
    let now = store
        .record_as_of(ws, "case", &kept.id, Utc::now())
        .await
        .unwrap();
    assert_eq!(now.until, None, "the current state holds on");
    let now = now.record.unwrap();
    assert_eq!(
        now.fields["subject"],
        json!("v2"),
        "the state at the cutoff stays"
    );
    assert_eq!(engine.prune_record_history().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_see_the_event_time_as_now() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, fx.ws.id.as_str());
    let started = Utc::now() - chrono::Duration::seconds(1);
    let draft = json!({
        "name": "Stamp",
        "trigger": {"event": "case.created"},
        "actions": [{"type": "update_field", "params": {"field": "description", "value": "at {{ now() }}"}}],
        "status": "draft"
    });
    let (auto, _) = engine.create_automation(ws, draft).await.unwrap();
    fx.create("case", json!({"subject": "x"})).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let result = engine
        .run_backtest(ws, &auto.id, request(started, 10))
        .await
        .unwrap()
        .result
        .unwrap();
    let sample = &result.sample_runs[0];
    let written = &sample.steps[0]["effects"][0]["detail"]["fields"]["description"];
    let written = written.as_str().unwrap().strip_prefix("at ").unwrap();
    let written = chrono::DateTime::parse_from_rfc3339(written).unwrap();
    assert_eq!(
        written.timestamp_millis(),
        sample.event_at.timestamp_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_version_replays_the_sandbox_copy() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, fx.ws.id.as_str());
    let started = Utc::now() - chrono::Duration::seconds(1);
    let mut copy = seed();
    copy["environment"] = json!("sandbox");
    let (sandbox, _) = engine.create_automation(ws, copy.clone()).await.unwrap();
    let live = engine.promote(ws, &sandbox.id).await.unwrap();
    // The sandbox copy moves on: it now routes low cases instead of critical ones.
    copy["trigger"]["conditions"] = json!({"priority": "low"});
    engine
        .update_automation(ws, &sandbox.id, copy)
        .await
        .unwrap();
    for p in ["critical", "low", "low"] {
        fx.create("case", json!({"priority": p})).await;
    }
    let run = |version| {
        let mut req = request(started, 100);
        req.version = version;
        let engine = engine.clone();
        let id = live.id.clone();
        async move { engine.run_backtest(ws, &id, req).await.unwrap() }
    };
    let through_copy = run(VersionChoice::Sandbox).await;
    assert_eq!(through_copy.target_id, sandbox.id);
    assert_eq!(through_copy.automation_id, live.id);
    assert_eq!(through_copy.result.unwrap().events_matched, 2);
    let live_version = run(VersionChoice::Current).await;
    assert_eq!(live_version.target_id, live.id);
    assert_eq!(live_version.result.unwrap().events_matched, 1);
}
