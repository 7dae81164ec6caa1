//! Crash safety: an engine process SIGKILLed in the middle of 1,000 events; after a restart
//! every event has exactly one completed run per matching automation and every outbox
//! effect reaches the sink once (by idempotency key).
//!
//! The child is this same test binary running the ignored test `kill::engine_child`.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::json;

use automations_runtime::model::{
    OutboxFilter, OutboxKind, OutboxStatus, RunFilter, RunStatus, StepStatus,
};
use automations_runtime::store::Store;
use automations_runtime::{EngineConfig, NewRecord, RecordOp, RuntimeError};

use crate::support::*;

const EVENTS: usize = 1000;
const BATCH: usize = 10;

fn priority(i: usize) -> &'static str {
    if i % 4 == 3 { "low" } else { "critical" }
}

fn config(sink: &str) -> EngineConfig {
    let mut c = quick_config();
    c.outbox.slack_webhook_url = Some(format!("{sink}/slack"));
    c.outbox.lease = Duration::from_millis(500);
    c.run_batch = 32;
    c
}

async fn write_cases(engine: &Engine, ws: &str, pause: Duration) {
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(BATCH) {
        let ops: Vec<RecordOp> = chunk
            .iter()
            .map(|i| RecordOp::Create {
                object: "case".into(),
                record: NewRecord {
                    id: Some(format!("case_{i:04}")),
                    fields: obj(json!({"priority": priority(*i), "subject": format!("#{i}")})),
                },
            })
            .collect();
        match engine.write_records(ws, ops).await {
            Ok(_) => {}
            // Written by the killed process already (batches are all-or-nothing).
            Err(RuntimeError::Conflict(_)) => {}
            Err(e) => panic!("{e}"),
        }
        tokio::time::sleep(pause).await;
    }
}

/// The child: runs the engine with its workers and writes the events, until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by kill_and_restart_loses_nothing as a child process"]
async fn engine_child() {
    let (Ok(db), Ok(sink)) = (std::env::var("RT_KILL_DB"), std::env::var("RT_KILL_SINK")) else {
        return;
    };
    let engine = open_engine(std::path::Path::new(&db), config(&sink)).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    let _workers = engine.start();
    write_cases(&engine, &ws.id, Duration::from_millis(3)).await;
    println!("CHILD-DONE-WRITING");
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_and_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill.db");
    let sink = HttpSink::start().await;
    let (ws_id, auto_id) = {
        let engine = open_engine(&db, config(&sink.url)).await;
        let ws = engine.ensure_workspace("default").await.unwrap();
        let (a, _) = engine.create_automation(&ws.id, seed()).await.unwrap();
        engine.store().close().await;
        (ws.id, a.id)
    };

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "kill::engine_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RT_KILL_DB", &db)
        .env("RT_KILL_SINK", &sink.url)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while sink.requests().len() < 60 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = sink.requests().len();

    // Restart: recover, finish writing the events, let the workers drain everything.
    let engine = open_engine(&db, config(&sink.url)).await;
    let leased_at_kill = leased_keys(&engine, &ws_id).await;
    let written_before = engine
        .query_records(&ws_id, "case", &Default::default(), 500, None)
        .await
        .unwrap()
        .items
        .len();
    let workers = engine.start();
    write_cases(&engine, &ws_id, Duration::ZERO).await;
    let expected = (0..EVENTS).filter(|i| priority(*i) == "critical").count();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = engine
            .store()
            .count_runs(Some(RunStatus::Completed))
            .await
            .unwrap();
        let pending = engine
            .outbox(
                &ws_id,
                &OutboxFilter {
                    status: Some(OutboxStatus::Pending),
                    limit: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items
            .len();
        if done as usize >= expected && pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "did not settle: {done} completed runs, pending outbox {pending}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    workers.shutdown().await;
    println!(
        "kill: sink had {at_kill} requests and {written_before}+ cases existed when the child was killed"
    );

    // Every critical case: exactly one completed run with two completed steps; low: none.
    let mut runs = Vec::new();
    let mut cursor = None;
    loop {
        let page = engine
            .runs(
                &ws_id,
                &RunFilter {
                    limit: 500,
                    cursor,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        runs.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert!(
        runs.iter()
            .all(|r| r.automation_id == auto_id && r.status == RunStatus::Completed)
    );
    let mut per_case: HashMap<String, usize> = HashMap::new();
    for r in &runs {
        *per_case.entry(r.record_id.clone().unwrap()).or_default() += 1;
    }
    for i in 0..EVENTS {
        let n = per_case.get(&format!("case_{i:04}")).copied().unwrap_or(0);
        assert_eq!(n, usize::from(priority(i) == "critical"), "case {i}");
    }
    for r in runs.iter().step_by(37) {
        let full = engine.run(&ws_id, &r.id).await.unwrap();
        assert_eq!(full.steps.len(), 2);
        assert!(full.steps.iter().all(|s| s.status == StepStatus::Completed));
        let case = engine
            .record(&ws_id, "case", full.record_id.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(case.fields["queue_id"], json!("q_escalations"));
    }

    // Outbox: one Slack item per run, all delivered; the sink saw each key.
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let f = OutboxFilter {
            kind: Some(OutboxKind::Slack),
            limit: 500,
            cursor,
            ..Default::default()
        };
        let page = engine.outbox(&ws_id, &f).await.unwrap();
        items.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(items.len(), expected);
    assert!(items.iter().all(|i| i.status == OutboxStatus::Delivered));
    let reqs = sink.requests();
    let keys: HashSet<_> = reqs
        .iter()
        .map(|r| r.headers["idempotency-key"].clone())
        .collect();
    let item_keys: HashSet<_> = items.iter().map(|i| i.idempotency_key.clone()).collect();
    assert_eq!(keys, item_keys, "every outbox effect reached the sink");
    let mut sends: HashMap<&str, usize> = HashMap::new();
    for r in &reqs {
        *sends
            .entry(r.headers["idempotency-key"].as_str())
            .or_default() += 1;
    }
    let redelivered: Vec<&str> = sends
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| *k)
        .collect();
    println!(
        "kill: {} raw sink requests for {} distinct keys ({} redelivered after the kill; {} items were leased at the kill)",
        reqs.len(),
        keys.len(),
        reqs.len() - keys.len(),
        leased_at_kill.len()
    );
    // Only deliveries in flight at the kill can be sent again: items the killed worker had
    // claimed and not recorded, at most its delivery concurrency (one claimed batch).
    let concurrency = config(&sink.url).outbox.batch as usize;
    assert!(
        reqs.len() - keys.len() <= concurrency,
        "{} redeliveries > concurrency {concurrency}",
        reqs.len() - keys.len()
    );
    for k in &redelivered {
        assert!(
            leased_at_kill.contains(*k),
            "{k} was sent twice but was not leased at the kill"
        );
        assert!(sends[k] == 2, "{k} was sent {} times", sends[k]);
    }
}

/// Idempotency keys of outbox items claimed (leased) and not finished: pending items whose
/// next attempt was moved past their creation by a claim.
async fn leased_keys(engine: &Engine, ws: &str) -> HashSet<String> {
    let mut keys = HashSet::new();
    let mut cursor = None;
    loop {
        let f = OutboxFilter {
            status: Some(OutboxStatus::Pending),
            limit: 500,
            cursor,
            ..Default::default()
        };
        let page = engine.outbox(ws, &f).await.unwrap();
        keys.extend(
            page.items
                .into_iter()
                .filter(|i| i.next_attempt_at > i.created_at)
                .map(|i| i.idempotency_key),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return keys,
        }
    }
}
