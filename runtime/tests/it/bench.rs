//! End-to-end throughput of the seed automation on SQLite (an ignored test that prints the
//! figure; no timing assertion). Run with:
//! `cargo test -p automations-runtime --release --test it -- --ignored bench --nocapture`

use std::time::{Duration, Instant};

use serde_json::json;

use automations_runtime::model::RunStatus;
use automations_runtime::store::Store;
use automations_runtime::{NewRecord, RecordOp};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints events/s"]
async fn bench_seed_throughput() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let batch: usize = std::env::var("BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start().await;
    let mut config = quick_config();
    config.outbox.slack_webhook_url = Some(format!("{}/slack", sink.url));
    config.outbox.batch = 256;
    let engine = open_engine(&dir.path().join("bench.db"), config).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    engine.create_automation(&ws.id, seed()).await.unwrap();
    let workers = engine.start();
    let start = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(batch) {
        let ops = chunk
            .iter()
            .map(|i| RecordOp::Create {
                object: "case".into(),
                record: NewRecord {
                    id: None,
                    fields: obj(json!({"priority": "critical", "subject": format!("#{i}")})),
                },
            })
            .collect();
        engine.write_records(&ws.id, ops).await.unwrap();
    }
    let written = start.elapsed();
    while (engine
        .store()
        .count_runs(Some(RunStatus::Completed))
        .await
        .unwrap() as usize)
        < n
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ran = start.elapsed();
    while sink.requests().len() < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let delivered = start.elapsed();
    workers.shutdown().await;
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "bench: {n} critical cases (batches of {batch}): written {:.0}/s, runs completed {:.0} runs/s end to end, Slack delivered to a local sink {:.0}/s",
        rate(written),
        rate(ran),
        rate(delivered)
    );
}

/// The same work in phases, to see where the time goes: accepting events (record writes
/// that create queued runs), executing runs, delivering the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints events/s per phase"]
async fn bench_seed_phases() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let batch: usize = std::env::var("BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start().await;
    let mut config = quick_config();
    config.outbox.slack_webhook_url = Some(format!("{}/slack", sink.url));
    config.outbox.batch = 256;
    let engine = open_engine(&dir.path().join("bench.db"), config).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    engine.create_automation(&ws.id, seed()).await.unwrap();
    let t = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(batch) {
        let ops = chunk
            .iter()
            .map(|i| RecordOp::Create {
                object: "case".into(),
                record: NewRecord {
                    id: None,
                    fields: obj(json!({"priority": "critical", "subject": format!("#{i}")})),
                },
            })
            .collect();
        engine.write_records(&ws.id, ops).await.unwrap();
    }
    let accept = t.elapsed();
    let t = Instant::now();
    engine.run_until_idle().await.unwrap();
    let execute = t.elapsed();
    let t = Instant::now();
    engine.deliver_outbox_until_idle().await.unwrap();
    let deliver = t.elapsed();
    assert_eq!(
        engine
            .store()
            .count_runs(Some(RunStatus::Completed))
            .await
            .unwrap() as usize,
        n
    );
    assert_eq!(sink.requests().len(), n);
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "bench phases: {n} events: accept (write + event + dispatch + queued run) {:.0}/s, execute 2-step runs {:.0} runs/s, deliver Slack {:.0}/s; all three {:.0} events/s",
        rate(accept),
        rate(execute),
        rate(deliver),
        rate(accept + execute + deliver)
    );
}
