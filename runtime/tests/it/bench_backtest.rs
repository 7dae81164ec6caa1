//! Benchmarks of issue 23 (ignored tests that print their figures; no timing assertion):
//! what record history costs the write path, and backtest events/s. Run with:
//! `cargo test -p automations-runtime --release --test it -- --ignored bench_record_history --nocapture`
//! `BENCH_EVENTS=100000 cargo test -p automations-runtime --release --test it -- --ignored bench_backtest --nocapture`

use std::time::Instant;

use chrono::Utc;
use serde_json::json;
use sqlx::Connection;

use automations_runtime::backtest::{BacktestRequest, BacktestStatus, VersionChoice};
use automations_runtime::{NewRecord, RecordOp};

use crate::support::*;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The history triggers of migration 0011, to drop and re-create between rounds.
const TRIGGERS: [&str; 3] = [
    "records_history_insert",
    "records_history_update",
    "records_history_delete",
];

async fn set_history(db: &std::path::Path, on: bool, saved: &mut Vec<String>) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    if on {
        for sql in saved.drain(..) {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    } else {
        for name in TRIGGERS {
            let sql: String = sqlx::query_scalar(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
            )
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .unwrap();
            saved.push(sql);
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
    conn.close().await.unwrap();
}

/// Record updates per second with and without the history triggers, single writes and
/// batches of 200, alternating rounds (best of each printed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints the write-path cost of record history"]
async fn bench_record_history_cost() {
    let n = env_or("BENCH_WRITES", 4_000);
    let rounds = env_or("BENCH_ROUNDS", 3);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let db = dir.path().join("history.db");
    let engine = open_engine(&db, quick_config()).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    let mut ids = Vec::new();
    for i in 0..200 {
        let r = engine
            .create_record(
                &ws.id,
                "case",
                NewRecord {
                    id: None,
                    fields: obj(json!({"subject": format!("{i}")})),
                },
            )
            .await
            .unwrap();
        ids.push(r.id);
    }
    let mut saved = Vec::new();
    let mut best: [[f64; 2]; 2] = [[0.0; 2]; 2];
    let mut counter = 0usize;
    for _ in 0..rounds {
        for on in [true, false] {
            if !on {
                set_history(&db, false, &mut saved).await;
            }
            for (b, batch) in [1usize, 200].into_iter().enumerate() {
                let start = Instant::now();
                for chunk in (0..n).collect::<Vec<_>>().chunks(batch) {
                    let ops = chunk
                        .iter()
                        .map(|i| {
                            counter += 1;
                            RecordOp::Update {
                                object: "case".into(),
                                id: ids[i % ids.len()].clone(),
                                fields: obj(json!({"subject": format!("v{counter}")})),
                            }
                        })
                        .collect();
                    engine.write_records(&ws.id, ops).await.unwrap();
                }
                let rate = n as f64 / start.elapsed().as_secs_f64();
                let slot = &mut best[usize::from(!on)][b];
                *slot = slot.max(rate);
            }
            if !on {
                set_history(&db, true, &mut saved).await;
            }
        }
    }
    for (b, batch) in [1usize, 200].into_iter().enumerate() {
        let (with, without) = (best[0][b], best[1][b]);
        println!(
            "record updates, {batch} per write: {with:.0}/s with history, {without:.0}/s without ({:+.1}%)",
            (with / without - 1.0) * 100.0
        );
    }
}

/// Backtest events/s over `BENCH_EVENTS` stored `case.created` events (default 100,000),
/// for a condition reading a related record (the account, as of each event) and 3 steps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints backtest events/s"]
async fn bench_backtest_events_per_second() {
    let n = env_or("BENCH_EVENTS", 100_000);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let engine = open_engine(&dir.path().join("backtest.db"), quick_config()).await;
    let ws = engine.ensure_workspace("default").await.unwrap();
    let from = Utc::now() - chrono::Duration::seconds(1);
    for (i, tier) in ["gold", "bronze", "silver", "gold"].iter().enumerate() {
        engine
            .create_record(
                &ws.id,
                "account",
                NewRecord {
                    id: Some(format!("acc{i}")),
                    fields: obj(json!({"name": format!("A{i}"), "tier": tier})),
                },
            )
            .await
            .unwrap();
    }
    let definition = json!({
        "name": "Escalate gold cases",
        "trigger": {"event": "case.created", "conditions": "priority == 'high' and account.tier == 'gold'"},
        "actions": [
            {"type": "update_field", "params": {"field": "status", "value": "escalated"}},
            {"type": "send_email", "params": {"to": "owner-{{ account.name }}@example.com", "subject": "Case {{ subject }}", "body": "x"}},
            {"type": "send_notification", "params": {"channel": "slack", "message": "{{ subject }}"}}
        ],
        "status": "draft"
    });
    let (auto, _) = engine.create_automation(&ws.id, definition).await.unwrap();
    let stored = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let ops = chunk
            .iter()
            .map(|i| RecordOp::Create {
                object: "case".into(),
                record: NewRecord {
                    id: None,
                    fields: obj(json!({"subject": format!("#{i}"), "priority": if i % 2 == 0 { "high" } else { "low" }, "account_id": format!("acc{}", i % 4)})),
                },
            })
            .collect();
        engine.write_records(&ws.id, ops).await.unwrap();
    }
    println!(
        "stored {n} events in {:.1} s",
        stored.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let b = engine
        .run_backtest(
            &ws.id,
            &auto.id,
            BacktestRequest {
                from,
                to: Utc::now() + chrono::Duration::seconds(1),
                limit: n as u32,
                version: VersionChoice::Current,
                definition: None,
            },
        )
        .await
        .unwrap();
    let took = start.elapsed().as_secs_f64();
    assert_eq!(b.status, BacktestStatus::Completed, "{:?}", b.error);
    let r = b.result.unwrap();
    println!(
        "backtest: {} events considered, {} matched, {} runs completed in {took:.2} s: {:.0} events/s",
        r.events_considered,
        r.events_matched,
        r.runs.completed,
        r.events_considered as f64 / took
    );
}
