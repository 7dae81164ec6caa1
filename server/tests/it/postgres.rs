//! The real binary on PostgreSQL: the end-to-end walk of `e2e.rs` on a fresh database,
//! two `serve` nodes sharing one database (every event runs once, every Slack message is
//! delivered once, a human task completed through one node resumes a run the other
//! started), and a clear error without the password for a database that is not there.
//! Skipped with a notice when `AUTOMATIONS_TEST_POSTGRES_URL` is unset.

use std::collections::HashMap;
use std::process::Command;

use serde_json::{Value, json};

use crate::e2e::{Client, TOKEN, items, seed_end_to_end, slack_sink, start};
use crate::runs::APPROVAL;
use crate::support::SEED;
use crate::support::db::{FreshDatabase, postgres_server};

const BIN: &str = env!("CARGO_BIN_EXE_automations");

fn client(base: &str) -> Client {
    Client {
        http: reqwest::Client::new(),
        base: base.to_string(),
        token: TOKEN.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_end_to_end_on_postgres() {
    let Some(server) = postgres_server() else {
        return;
    };
    let db = FreshDatabase::create(&server).await;
    let migrate = Command::new(BIN)
        .args(["migrate", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    seed_end_to_end(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_database() {
    let Some(server) = postgres_server() else {
        return;
    };
    let db = FreshDatabase::create(&server).await;
    let (slack_url, slack) = slack_sink().await;
    let a = start(&db.url, &slack_url);
    let node_a = client(&a.base);
    node_a
        .post(
            "/api/v1/records/queue",
            json!({"id": "q_escalations", "name": "Escalations"}),
        )
        .await;
    let (status, seed) = node_a
        .post("/api/v1/automations", serde_json::from_str(SEED).unwrap())
        .await;
    assert_eq!(status, 201, "{seed}");
    let seed_id = seed["id"].as_str().unwrap().to_string();
    let (status, approval) = node_a
        .post(
            "/api/v1/automations",
            serde_json::from_str(APPROVAL).unwrap(),
        )
        .await;
    assert_eq!(status, 201, "{approval}");
    let approval_id = approval["id"].as_str().unwrap().to_string();
    // Node B starts on the same database after the automations exist (it loads them).
    let b = start(&db.url, &slack_url);
    let node_b = client(&b.base);

    // 100 critical cases, half through each node, 8 at a time.
    let cases = 100;
    let mut case_ids = Vec::new();
    for chunk in (0..cases).collect::<Vec<_>>().chunks(8) {
        let mut posts = Vec::new();
        for &i in chunk {
            let node = if i % 2 == 0 {
                client(&a.base)
            } else {
                client(&b.base)
            };
            posts.push(tokio::spawn(async move {
                node.post(
                    "/api/v1/records/case",
                    json!({"subject": format!("case {i}"), "priority": "critical"}),
                )
                .await
            }));
        }
        for p in posts {
            let (status, case) = p.await.unwrap();
            assert_eq!(status, 201, "{case}");
            case_ids.push(case["id"].as_str().unwrap().to_string());
        }
    }
    let runs_path = format!("/api/v1/automations/{seed_id}/runs?status=completed&limit=500");
    let runs = node_b
        .wait_for(&runs_path, |b| items(b).len() >= cases)
        .await;
    let mut per_record: HashMap<String, usize> = HashMap::new();
    for run in items(&runs) {
        *per_record
            .entry(run["record_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_record.len(), cases, "every case ran");
    assert!(
        per_record.values().all(|n| *n == 1),
        "exactly one run per case: {per_record:?}"
    );
    let (_, all) = node_a
        .get(&format!("/api/v1/automations/{seed_id}/runs?limit=500"))
        .await;
    assert_eq!(
        items(&all).len(),
        cases,
        "no other run (failed, duplicate): {all}"
    );
    for id in case_ids.iter().step_by(17) {
        let (_, case) = node_b.get(&format!("/api/v1/records/case/{id}")).await;
        assert_eq!(case["queue_id"], "q_escalations", "{case}");
    }
    node_a
        .wait_for(
            "/api/v1/outbox?kind=slack&status=delivered&limit=500",
            |b| items(b).len() >= cases,
        )
        .await;
    let (_, pending) = node_a.get("/api/v1/outbox?kind=slack&status=pending").await;
    assert!(items(&pending).is_empty(), "{pending}");
    assert_eq!(
        slack.lock().unwrap().len(),
        cases,
        "every message reached the sink once"
    );

    // A human task: the run parks; completing it through the other node resumes it.
    let (status, _) = node_a
        .post(
            "/api/v1/records/opportunity",
            json!({"name": "Renewal", "amount": 75000}),
        )
        .await;
    assert_eq!(status, 201);
    let waiting = node_b
        .wait_for(
            &format!("/api/v1/automations/{approval_id}/runs?status=waiting"),
            |b| !items(b).is_empty(),
        )
        .await;
    let run_id = items(&waiting)[0]["id"].as_str().unwrap().to_string();
    let complete = format!("/api/v1/automations/{approval_id}/runs/{run_id}/complete-task");
    let output = json!({"output": {"approved": true, "notes": "fine"}});
    let (first, second) = tokio::join!(
        node_b.post(&complete, output.clone()),
        node_a.post(&complete, output.clone())
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 409],
        "completed exactly once across nodes: {first:?} {second:?}"
    );
    let run: Value = node_a
        .wait_for(
            &format!("/api/v1/automations/{approval_id}/runs/{run_id}"),
            |r| r["status"] == "completed",
        )
        .await;
    assert_eq!(run["steps"].as_array().unwrap().len(), 3, "{run}");
    drop(db);
}

#[tokio::test]
async fn a_database_that_is_not_there_is_a_clear_error_without_the_password() {
    let Some(_) = postgres_server() else { return };
    // Nothing listens on port 1; the password must not be echoed.
    let url = "postgres://someone:hunter2-secret@127.0.0.1:1/nowhere";
    for args in [
        vec!["migrate", "--database-url", url],
        vec!["serve", "--addr", "127.0.0.1:0", "--database-url", url],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stderr.contains("PostgreSQL"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("hunter2") && !stdout.contains("hunter2"),
            "{args:?}: {stderr}"
        );
    }
}
