//! Runs started in the transaction of the write that queued them: done when the write is
//! answered, bounded by `run_batch`, cascades and plugin calls left to the queue, and
//! nothing run or sent twice when the queue comes round afterwards.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

use automations_runtime::model::{OutboxFilter, OutboxKind, OutboxStatus, Record, Run, RunStatus};
use automations_runtime::{NewRecord, RecordOp};

use crate::support::*;

fn by_status(runs: &[Run], status: RunStatus) -> usize {
    runs.iter().filter(|r| r.status == status).count()
}

async fn slack_items(fx: &Fixture) -> Vec<automations_runtime::model::OutboxItem> {
    fx.engine
        .outbox(
            &fx.ws.id,
            &OutboxFilter {
                kind: Some(OutboxKind::Slack),
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
}

fn slack_config() -> automations_runtime::EngineConfig {
    let mut config = quick_config();
    // Nothing listens there: the items only have to be queued (no worker is started).
    config.outbox.slack_webhook_url = Some("http://127.0.0.1:9/slack".into());
    config
}

/// A fixture with the seed automation and one critical case written (no worker runs:
/// whatever is done when the write returns was done by the write).
async fn one_critical_case(config: automations_runtime::EngineConfig) -> (Fixture, Record) {
    let fx = Fixture::with(config, None).await;
    fx.engine
        .create_automation(&fx.ws.id, seed())
        .await
        .unwrap();
    let case = fx
        .create("case", json!({"subject": "Down", "priority": "critical"}))
        .await;
    (fx, case)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_answered_with_its_runs_done_and_their_messages_queued() {
    let (fx, case) = one_critical_case(slack_config()).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let runs = fx.runs().await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Completed, "{runs:#?}");
    let stored = engine.record(&ws.id, "case", &case.id).await.unwrap();
    assert_eq!(stored.fields["queue_id"], json!("q_escalations"));
    let items = slack_items(&fx).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].status, OutboxStatus::Pending);
    // The answer is the record as the request wrote it; the run's write came after.
    assert!(case.fields.get("queue_id").is_none());

    // The queue finds nothing left: no step runs and no message is queued twice.
    assert_eq!(engine.run_until_idle().await.unwrap(), 0);
    let run = engine
        .automation_run(&ws.id, &runs[0].automation_id, &runs[0].id)
        .await
        .unwrap();
    assert_eq!(run.steps.len(), 2, "{:#?}", run.steps);
    assert_eq!(slack_items(&fx).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_option_off_the_runs_wait_for_the_queue() {
    let mut config = slack_config();
    config.start_runs_in_write = false;
    let (fx, case) = one_critical_case(config).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let runs = fx.runs().await;
    assert_eq!(runs[0].status, RunStatus::Queued);
    assert!(slack_items(&fx).await.is_empty());
    assert_eq!(engine.run_until_idle().await.unwrap(), 1);
    let stored = engine.record(&ws.id, "case", &case.id).await.unwrap();
    assert_eq!(stored.fields["queue_id"], json!("q_escalations"));
}

/// "triage" sets a created case's status to pending; that write raises an event which
/// "follow" handles (notifying u1): a cascade, queued by a run, not by a request.
async fn add_triage_and_follow(fx: &Fixture) {
    let triage = json!({"name": "triage", "trigger": {"event": "case.created"},
        "actions": [{"type": "update_field", "params": {"field": "status", "value": "pending"}}],
        "status": "active"});
    let follow = json!({"name": "follow", "trigger": {"event": "case.status_changed", "conditions": {"status": "pending"}},
        "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "pending {{ subject }}"}}],
        "status": "active"});
    for definition in [triage, follow] {
        fx.engine
            .create_automation(&fx.ws.id, definition)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_beyond_the_batch_and_cascades_are_left_to_the_queue() {
    let mut config = slack_config();
    config.run_batch = 4;
    let fx = Fixture::with(config, None).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    engine.create_automation(&ws.id, seed()).await.unwrap();
    add_triage_and_follow(&fx).await;

    // One request writing 5 critical cases: 10 runs queued by the request, 4 started.
    let ops = (0..5)
        .map(|i| RecordOp::Create {
            object: "case".into(),
            record: NewRecord {
                id: None,
                fields: obj(json!({"subject": format!("c{i}"), "priority": "critical"})),
            },
        })
        .collect();
    let written = engine.write_records_each(&ws.id, ops).await.unwrap();
    assert!(written.iter().all(Result::is_ok));
    // Matches go in automation creation order: the seed's and triage's runs of the
    // first two cases ran; each triage run queued its cascade.
    let runs = fx.runs().await;
    assert_eq!(by_status(&runs, RunStatus::Completed), 4, "{runs:#?}");
    assert_eq!(by_status(&runs, RunStatus::Queued), 6 + 2, "{runs:#?}");
    assert_eq!(runs.len(), 12);
    assert!(fx.notifications("u1").await.is_empty());
    assert_eq!(slack_items(&fx).await.len(), 2);

    engine.run_until_idle().await.unwrap();
    let runs = fx.runs().await;
    assert_eq!(
        runs.len(),
        15,
        "10 from the request and 5 cascades: {runs:#?}"
    );
    assert_eq!(by_status(&runs, RunStatus::Completed), 15);
    assert_eq!(fx.notifications("u1").await.len(), 5);
    let items = slack_items(&fx).await;
    assert_eq!(items.len(), 5);
    let keys: HashSet<_> = items.iter().map(|i| i.idempotency_key.clone()).collect();
    assert_eq!(keys.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_racing_writes_each_run_once() {
    let fx = Fixture::with(slack_config(), None).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    engine.create_automation(&ws.id, seed()).await.unwrap();
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..16 {
        let engine = engine.clone();
        let ws = ws.id.clone();
        writes.spawn(async move {
            let record = NewRecord {
                id: None,
                fields: obj(json!({"subject": format!("race {i}"), "priority": "critical"})),
            };
            engine.create_record(&ws, "case", record).await.unwrap()
        });
    }
    let cases = writes.join_all().await;
    assert_eq!(cases.len(), 16);
    engine.run_until_idle().await.unwrap();
    let runs = fx.runs().await;
    assert_eq!(runs.len(), 16);
    assert_eq!(by_status(&runs, RunStatus::Completed), 16, "{runs:#?}");
    let records: HashSet<_> = runs.iter().map(|r| r.record_id.clone()).collect();
    assert_eq!(records.len(), 16);
    let items = slack_items(&fx).await;
    assert_eq!(items.len(), 16);
    for case in cases {
        let stored = engine.record(&ws.id, "case", &case.id).await.unwrap();
        assert_eq!(stored.fields["queue_id"], json!("q_escalations"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workers_are_woken_for_what_a_write_left_to_the_queue() {
    let mut config = slack_config();
    config.run_batch = 4;
    // The run loop must be woken: its own polling would not come round in this test.
    config.poll_interval = Duration::from_secs(60);
    let fx = Fixture::with(config, None).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    add_triage_and_follow(&fx).await;
    let workers = engine.start();
    // Let the loops run their first round and go idle.
    tokio::time::sleep(Duration::from_millis(100)).await;

    // One case: its triage run starts with the write, its cascade is the queue's.
    fx.create("case", json!({"subject": "one"})).await;
    wait_for_completed(&fx, 2).await;
    // Six cases in one request: 4 start with the write, 2 are left, and 4 cascades.
    let ops = (0..6)
        .map(|i| RecordOp::Create {
            object: "case".into(),
            record: NewRecord {
                id: None,
                fields: obj(json!({"subject": format!("c{i}")})),
            },
        })
        .collect();
    engine.write_records_each(&ws.id, ops).await.unwrap();
    wait_for_completed(&fx, 2 + 12).await;
    assert_eq!(fx.notifications("u1").await.len(), 7);
    workers.shutdown().await;
}

async fn wait_for_completed(fx: &Fixture, n: usize) {
    let start = Instant::now();
    loop {
        let runs = fx.runs().await;
        if by_status(&runs, RunStatus::Completed) == n {
            assert_eq!(runs.len(), n, "{runs:#?}");
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the run loop was not woken: {runs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
