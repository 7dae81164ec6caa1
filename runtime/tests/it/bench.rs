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

/// What `--sqlite-synchronous full` costs: triggering writes (one record each, its event
/// and queued run committed before the call returns) from 1 and from 16 concurrent
/// clients, with the workers running the seed automation, under `normal` and `full`.
/// Prints writes/s, write latency p50/p99 and runs completed/s. Run with:
/// `BENCH_WRITES=2000 cargo test -p automations-runtime --release --test it -- --ignored bench_synchronous --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints the cost of synchronous=FULL"]
async fn bench_synchronous_cost() {
    use automations_runtime::store::{SqliteConfig, SqliteStore, Synchronous};
    use automations_runtime::{Engine, EngineParts, schema::SameSchema};

    let n: usize = std::env::var("BENCH_WRITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    for clients in [1usize, 16] {
        for setting in [Synchronous::Normal, Synchronous::Full] {
            // On the disk the database would live on (not a RAM file system).
            let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
            let store = SqliteStore::open(&SqliteConfig {
                synchronous: setting,
                ..SqliteConfig::file(dir.path().join("sync.db"))
            })
            .await
            .unwrap();
            let engine = Engine::new(EngineParts {
                store,
                config: quick_config(),
                schema: SameSchema::shared(crm_schema()),
                compiler: compiler(),
                plugins: None,
            })
            .await
            .unwrap();
            let ws = engine.ensure_workspace("default").await.unwrap();
            engine.create_automation(&ws.id, seed()).await.unwrap();
            let workers = engine.start();
            let start = Instant::now();
            let per_client = n / clients;
            let mut tasks = Vec::new();
            for c in 0..clients {
                let engine = engine.clone();
                let ws = ws.id.clone();
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(per_client);
                    for i in 0..per_client {
                        let t = Instant::now();
                        let fields =
                            obj(json!({"priority": "critical", "subject": format!("{c}-{i}")}));
                        engine
                            .create_record(&ws, "case", NewRecord { id: None, fields })
                            .await
                            .unwrap();
                        latencies.push(t.elapsed());
                    }
                    latencies
                }));
            }
            let mut latencies = Vec::new();
            for t in tasks {
                latencies.extend(t.await.unwrap());
            }
            let written = start.elapsed();
            let total = per_client * clients;
            while (engine
                .store()
                .count_runs(Some(RunStatus::Completed))
                .await
                .unwrap() as usize)
                < total
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let ran = start.elapsed();
            workers.shutdown().await;
            latencies.sort();
            let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
            println!(
                "bench synchronous={}: {total} triggering writes from {clients} client(s): {:.0} writes/s, write p50 {:.2} ms, p99 {:.2} ms; runs completed {:.0}/s end to end",
                setting.as_str(),
                total as f64 / written.as_secs_f64(),
                pct(0.5).as_secs_f64() * 1000.0,
                pct(0.99).as_secs_f64() * 1000.0,
                total as f64 / ran.as_secs_f64(),
            );
            engine.store().close().await;
        }
    }
}

/// What the automation log costs on the hot path: accepting events (record write, event,
/// dispatch, queued run, and the log entry in the same transaction) with the log off and
/// on, with the seed alone and with 5 more automations of the trigger whose conditions do
/// not hold (each explained in every entry). Prints events/s. Run with:
/// `BENCH_EVENTS=20000 cargo test -p automations-runtime --release --test it -- --ignored bench_automation_log --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints accepted events/s with the automation log off and on"]
async fn bench_automation_log_cost() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let batch: usize = std::env::var("BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    for unmatched in [0usize, 5] {
        for per_record in [0u32, 100] {
            let dir = tempfile::tempdir().unwrap();
            let mut config = quick_config();
            config.automation_log.per_record = per_record;
            let engine = open_engine(&dir.path().join("bench.db"), config).await;
            let ws = engine.ensure_workspace("default").await.unwrap();
            engine.create_automation(&ws.id, seed()).await.unwrap();
            for k in 0..unmatched {
                let mut never = seed();
                never["name"] = json!(format!("never {k}"));
                never["trigger"]["conditions"] =
                    json!(format!("priority == 'low' and subject == 'never {k}'"));
                engine.create_automation(&ws.id, never).await.unwrap();
            }
            let t = Instant::now();
            for chunk in (0..n).collect::<Vec<_>>().chunks(batch) {
                let ops = chunk
                    .iter()
                    .map(|i| RecordOp::Create {
                        object: "case".into(),
                        record: NewRecord {
                            id: None,
                            fields: obj(
                                json!({"priority": "critical", "subject": format!("#{i}")}),
                            ),
                        },
                    })
                    .collect();
                engine.write_records(&ws.id, ops).await.unwrap();
            }
            let accept = t.elapsed();
            println!(
                "bench automation log: {n} events, seed + {unmatched} unmatched automations, log {}: accept {:.0} events/s ({:.1} µs/event)",
                if per_record == 0 { "off" } else { "on" },
                n as f64 / accept.as_secs_f64(),
                accept.as_secs_f64() * 1e6 / n as f64
            );
        }
    }
}

/// What a shadow diff costs to read: a live automation and its sandbox copy (threshold
/// raised) over BENCH_EVENTS case creations, runs executed, then the diff timed (it reads
/// both automations' runs and, for events both matched, each run's steps). Prints ms. Run:
/// `BENCH_EVENTS=2000 cargo test -p automations-runtime --release --test it -- --ignored bench_shadow_diff --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints the time of one shadow diff"]
async fn bench_shadow_diff() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(&dir.path().join("bench.db"), quick_config()).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    let mut live = seed();
    live["trigger"]["conditions"] = json!("amount > 10");
    live["actions"] = json!([{"type": "notify_user", "params": {"user_id": "u1", "message": "m"}}]);
    live["trigger"]["event"] = json!("opportunity.created");
    let (live, _) = engine.create_automation(&ws.id, live).await.unwrap();
    let actor = automations_runtime::model::Actor::system();
    let (copy, _) = engine
        .copy_to_sandbox_by(&ws.id, &live.id, &actor)
        .await
        .unwrap();
    let mut def = engine
        .automation_definition(&ws.id, &copy.id)
        .await
        .unwrap()
        .definition;
    def["trigger"]["conditions"] = json!("amount > 50");
    engine
        .update_automation(&ws.id, &copy.id, def)
        .await
        .unwrap();
    engine.set_sandbox(&ws.id, true, &actor).await.unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let ops = chunk
            .iter()
            .map(|i| RecordOp::Create {
                object: "opportunity".into(),
                record: NewRecord {
                    id: None,
                    fields: obj(json!({"name": format!("#{i}"), "amount": (i % 100) as f64})),
                },
            })
            .collect();
        engine.write_records(&ws.id, ops).await.unwrap();
    }
    engine.run_until_idle().await.unwrap();
    let t = Instant::now();
    let diff = engine
        .shadow_diff(&ws.id, &copy.id, 50, None)
        .await
        .unwrap();
    let took = t.elapsed();
    println!(
        "bench shadow diff: {n} events, {} compared ({} both matched, {} differ): {:.0} ms",
        diff.totals.events,
        diff.totals.same,
        diff.totals.differing,
        took.as_secs_f64() * 1e3
    );
}
