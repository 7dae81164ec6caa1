//! Several nodes on one PostgreSQL database, on the real binary: `serve` plus two
//! `worker`s share 5,000 triggering events while one worker is killed with SIGKILL
//! midway; a wait timer set by one node fires on another after the first is killed; a
//! human task completed through one node resumes a run another started; each node's
//! `/metrics` counts the steps it ended, and the nodes' counts add up to every step.
//! Skipped with a notice when `AUTOMATIONS_TEST_POSTGRES_URL` is unset.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::e2e::{Client, TOKEN, items, start_with};
use crate::support::SEED;
use crate::support::db::{FreshDatabase, postgres_server};

const EVENTS: usize = 5_000;

/// What the sink received: one (idempotency key, body) per raw request.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A local HTTP receiver answering 200 to every request and keeping its
/// `Idempotency-Key` and body.
async fn keyed_sink() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received: Received = Arc::default();
    let seen = received.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                    let header = |name: &str| {
                        head.lines()
                            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
                    };
                    let length: usize = header("content-length:")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    if data.len() < end + 4 + length {
                        continue;
                    }
                    let key = header("idempotency-key:").unwrap_or_default();
                    let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]);
                    seen.lock().unwrap().push((key, body.to_string()));
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                    return;
                }
            });
        }
    });
    (url, received)
}

/// A `worker` process, killed (SIGKILL) when dropped.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(db_url: &str, slack: &str) -> Worker {
    let mut child = Command::new(crate::e2e::binary())
        .args(["worker", "--database-url", db_url])
        .args(["--slack-webhook-url", slack, "--webhook-allow-private"])
        .args(["--outbox-lease", "10s"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the automations binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines
            .next()
            .expect("worker printed that it is ready")
            .unwrap();
        if line.contains("worker ready") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Worker(child)
}

fn serve(db_url: &str, slack: &str) -> crate::e2e::Server {
    start_with(
        db_url,
        &[
            "--slack-webhook-url",
            slack,
            "--webhook-allow-private",
            "--rate-limit",
            "off",
            "--outbox-lease",
            "10s",
        ],
        Some(TOKEN),
    )
    .0
}

fn client(base: &str) -> Client {
    Client {
        http: reqwest::Client::new(),
        base: base.to_string(),
        token: TOKEN.into(),
    }
}

/// Every item of a list, following `next_cursor`.
async fn all_items(node: &Client, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page = match &cursor {
            Some(c) => format!("{path}{sep}limit=500&cursor={c}"),
            None => format!("{path}{sep}limit=500"),
        };
        let (status, body) = node.get(&page).await;
        assert_eq!(status, 200, "{page}: {body}");
        out.extend(items(&body).iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// Waits (up to `limit`) until `done` holds on everything `path` lists.
async fn wait_all(
    node: &Client,
    path: &str,
    limit: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let all = all_items(node, path).await;
        if done(&all) {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting on {path}: {} items",
            all.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_nodes_step_histograms_add_up_to_every_step() {
    let Some(server) = postgres_server() else {
        return;
    };
    let db = FreshDatabase::create(&server).await;
    let (sink_url, _received) = keyed_sink().await;
    let nodes = [serve(&db.url, &sink_url), serve(&db.url, &sink_url)];
    let clients: Vec<Client> = nodes.iter().map(|n| client(&n.base)).collect();
    let (status, _) = clients[0]
        .post(
            "/api/v1/records/queue",
            json!({"id": "q_escalations", "name": "Escalations"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, seed) = clients[0]
        .post("/api/v1/automations", serde_json::from_str(SEED).unwrap())
        .await;
    assert_eq!(status, 201, "{seed}");
    let seed_id = seed["id"].as_str().unwrap().to_string();
    // The second node learns of the automation from the dispatch version's notice, or
    // at its next check (every 250 ms) at the latest.
    tokio::time::sleep(Duration::from_secs(1)).await;
    const CASES: usize = 60;
    let body = |i: usize| json!({"subject": format!("case {i}"), "priority": "critical"});
    for i in 0..CASES {
        let (status, case) = clients[i % 2].post("/api/v1/records/case", body(i)).await;
        assert_eq!(status, 201, "{case}");
    }
    // A write creates its runs: once every post is answered, they all exist.
    let runs_path = format!("/api/v1/automations/{seed_id}/runs");
    let runs = wait_all(&clients[0], &runs_path, Duration::from_secs(60), |runs| {
        runs.iter().all(|r| r["status"] == "completed")
    })
    .await;
    assert_eq!(runs.len(), CASES, "every critical case ran the seed once");
    // Two steps per seed run (queue assignment, Slack message), each ended by one node.
    let steps = 2 * CASES as u64;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut counts = [0; 2];
        for (count, node) in counts.iter_mut().zip(&clients) {
            *count = node
                .metric("automations_step_duration_seconds_count ")
                .await as u64;
        }
        let total: u64 = counts.iter().sum();
        if total == steps {
            assert!(
                counts.iter().all(|n| *n > 0),
                "each node ended the steps of runs its own writes started: {counts:?}"
            );
            break;
        }
        assert!(
            total < steps && Instant::now() < deadline,
            "the nodes counted {counts:?} steps, {steps} ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_share_5000_events_and_survive_a_killed_worker() {
    let Some(server) = postgres_server() else {
        return;
    };
    let db = FreshDatabase::create(&server).await;
    let (sink_url, received) = keyed_sink().await;
    let a = serve(&db.url, &sink_url);
    let node_a = client(&a.base);
    let (status, _) = node_a
        .post(
            "/api/v1/records/queue",
            json!({"id": "q_escalations", "name": "Escalations"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, seed) = node_a
        .post("/api/v1/automations", serde_json::from_str(SEED).unwrap())
        .await;
    assert_eq!(status, 201, "{seed}");
    let seed_id = seed["id"].as_str().unwrap().to_string();
    let w1 = worker(&db.url, &sink_url);
    let mut w2 = Some(worker(&db.url, &sink_url));

    // 5,000 critical cases over loopback, 32 at a time; the second worker is killed
    // (SIGKILL) once half of them are in.
    let mut case_ids = Vec::with_capacity(EVENTS);
    let mut raw_at_kill = None;
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(32) {
        if raw_at_kill.is_none() && chunk[0] >= EVENTS / 2 {
            drop(w2.take());
            raw_at_kill = Some(received.lock().unwrap().len());
        }
        let posts: Vec<_> = chunk
            .iter()
            .map(|i| {
                let node = client(&a.base);
                let body = json!({"subject": format!("case {i}"), "priority": "critical"});
                tokio::spawn(async move { node.post("/api/v1/records/case", body).await })
            })
            .collect();
        for p in posts {
            let (status, case) = p.await.unwrap();
            assert_eq!(status, 201, "{case}");
            case_ids.push(case["id"].as_str().unwrap().to_string());
        }
    }

    let runs_path = format!("/api/v1/automations/{seed_id}/runs");
    let runs = wait_all(&node_a, &runs_path, Duration::from_secs(300), |runs| {
        runs.len() >= EVENTS && runs.iter().all(|r| r["status"] == "completed")
    })
    .await;
    let mut per_record: HashMap<&str, usize> = HashMap::new();
    for run in &runs {
        *per_record
            .entry(run["record_id"].as_str().unwrap())
            .or_default() += 1;
    }
    assert_eq!(runs.len(), EVENTS, "no duplicate or extra run");
    assert_eq!(per_record.len(), EVENTS, "every case ran");
    assert!(per_record.values().all(|n| *n == 1));
    assert!(
        case_ids
            .iter()
            .all(|id| per_record.contains_key(id.as_str()))
    );

    // Every Slack message goes to one destination, which each node serves with at most
    // `OutboxConfig::per_destination` deliveries at once; what waits for a slot waits in
    // the node's memory (bounded, within its lease), so the backlog drains as fast as
    // the sink answers.
    wait_all(
        &node_a,
        "/api/v1/outbox?kind=slack&status=delivered",
        Duration::from_secs(600),
        |d| d.len() >= EVENTS,
    )
    .await;
    let outbox = all_items(&node_a, "/api/v1/outbox?kind=slack").await;
    assert_eq!(outbox.len(), EVENTS, "one Slack item per run");
    assert!(outbox.iter().all(|o| o["status"] == "delivered"));
    let keys: HashSet<String> = outbox
        .iter()
        .map(|o| o["idempotency_key"].as_str().unwrap().to_string())
        .collect();
    let raw = received.lock().unwrap().clone();
    let distinct: HashSet<&str> = raw.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(distinct.len(), EVENTS, "every effect reached the sink");
    assert!(
        distinct.iter().all(|k| keys.contains(*k)),
        "only the outbox's keys"
    );
    // A repeat is only a delivery the killed worker had in flight (its claim lapsed and
    // another node sent it again with the same key): at most its per-destination slots.
    let repeats = raw.len() - distinct.len();
    assert!(
        repeats <= 4,
        "{repeats} repeated deliveries (raw {}, at the kill {raw_at_kill:?})",
        raw.len()
    );
    drop(w1);
    drop(a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_timer_set_on_one_node_fires_on_another_after_it_is_killed() {
    let Some(server) = postgres_server() else {
        return;
    };
    let db = FreshDatabase::create(&server).await;
    let (sink_url, received) = keyed_sink().await;
    let a = serve(&db.url, &sink_url);
    let node_a = client(&a.base);
    let pause = json!({
        "name": "Pause then tag",
        "trigger": {"event": "case.created"},
        "actions": [
            {"id": "pause", "type": "wait", "params": {"duration": "3s"}},
            {"type": "send_notification", "params": {"channel": "slack", "message": "after the pause"}}
        ],
        "status": "active"
    });
    let (status, automation) = node_a.post("/api/v1/automations", pause).await;
    assert_eq!(status, 201, "{automation}");
    let id = automation["id"].as_str().unwrap().to_string();
    let (status, _) = node_a
        .post(
            "/api/v1/records/case",
            json!({"subject": "before", "priority": "low"}),
        )
        .await;
    assert_eq!(status, 201);
    // Node A (the only node) runs up to the wait and sets the timer; then it dies.
    let runs = format!("/api/v1/automations/{id}/runs");
    node_a
        .wait_for(&runs, |b| {
            items(b).first().is_some_and(|r| r["status"] == "waiting")
        })
        .await;
    drop(a);
    let b = serve(&db.url, &sink_url);
    let node_b = client(&b.base);
    let done = node_b
        .wait_for(&runs, |b| {
            items(b).first().is_some_and(|r| r["status"] == "completed")
        })
        .await;
    let run = &items(&done)[0];
    assert_eq!(run["steps"].as_array().unwrap().len(), 2, "{run}");
    node_b
        .wait_for("/api/v1/outbox?kind=slack&status=delivered", |b| {
            !items(b).is_empty()
        })
        .await;
    let raw = received.lock().unwrap().clone();
    assert_eq!(raw.len(), 1, "{raw:?}");
    assert!(raw[0].1.contains("after the pause"), "{raw:?}");
}

/// Node B starts a run that parks on a human task and dies; the task is completed
/// through node A, and A's engine resumes the run from its last committed step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_human_task_completed_through_one_node_resumes_a_run_another_started() {
    let Some(server) = postgres_server() else {
        return;
    };
    let db = FreshDatabase::create(&server).await;
    let (sink_url, _received) = keyed_sink().await;
    let b = serve(&db.url, &sink_url);
    let node_b = client(&b.base);
    let (status, approval) = node_b
        .post(
            "/api/v1/automations",
            serde_json::from_str(crate::runs::APPROVAL).unwrap(),
        )
        .await;
    assert_eq!(status, 201, "{approval}");
    let id = approval["id"].as_str().unwrap().to_string();
    let (status, deal) = node_b
        .post(
            "/api/v1/records/opportunity",
            json!({"name": "Renewal", "amount": 75000}),
        )
        .await;
    assert_eq!(status, 201, "{deal}");
    let deal_id = deal["id"].as_str().unwrap().to_string();
    let waiting = node_b
        .wait_for(
            &format!("/api/v1/automations/{id}/runs?status=waiting"),
            |b| !items(b).is_empty(),
        )
        .await;
    let run_id = items(&waiting)[0]["id"].as_str().unwrap().to_string();
    drop(b);

    let a = serve(&db.url, &sink_url);
    let node_a = client(&a.base);
    let (status, run) = node_a
        .post(
            &format!("/api/v1/automations/{id}/runs/{run_id}/complete-task"),
            json!({"output": {"approved": true, "notes": "fine"}}),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    let done = node_a
        .wait_for(&format!("/api/v1/automations/{id}/runs/{run_id}"), |r| {
            r["status"] == "completed"
        })
        .await;
    assert!(done["steps"].as_array().unwrap().len() >= 2, "{done}");
    let (status, deal) = node_a
        .get(&format!("/api/v1/records/opportunity/{deal_id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(deal["discount_approved"], json!(true), "{deal}");
}

/// Events per measurement of [`scaling_of_the_seed_through_http`].
const SCALING_EVENTS: usize = 2_000;

/// Events accepted per second (the POSTs of `SCALING_EVENTS` critical cases sent to
/// `ingress`, 32 at a time over kept-alive connections) and runs completed per second
/// (from the first POST to the last completed run), with the other nodes already running.
async fn seed_throughput(ingress: &Client, seed_id: &str) -> (f64, f64) {
    let start = Instant::now();
    for chunk in (0..SCALING_EVENTS).collect::<Vec<_>>().chunks(32) {
        let posts: Vec<_> = chunk
            .iter()
            .map(|i| {
                let node = ingress.clone();
                let body = json!({"subject": format!("case {i}"), "priority": "critical"});
                tokio::spawn(async move { node.post("/api/v1/records/case", body).await })
            })
            .collect();
        for p in posts {
            assert_eq!(p.await.unwrap().0, 201);
        }
    }
    let accepted = SCALING_EVENTS as f64 / start.elapsed().as_secs_f64();
    let path = format!("/api/v1/automations/{seed_id}/runs?status=completed");
    wait_all(ingress, &path, Duration::from_secs(600), |r| {
        r.len() >= SCALING_EVENTS
    })
    .await;
    let completed = SCALING_EVENTS as f64 / start.elapsed().as_secs_f64();
    (accepted, completed)
}

/// Runs/s of the seed end to end through HTTP: 1, 2 and 3 nodes on PostgreSQL (`serve`
/// plus `worker`s), 1 node on SQLite. A benchmark (`--ignored`): prints its figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore]
async fn scaling_of_the_seed_through_http() {
    let Some(server) = postgres_server() else {
        return;
    };
    let (sink_url, _received) = keyed_sink().await;
    let mut figures = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("scale.db").display());
    for (label, workers) in [
        ("sqlite, 1 node", 0),
        ("postgres, 1 node", 0),
        ("postgres, 2 nodes", 1),
        ("postgres, 3 nodes", 2),
    ] {
        let db = FreshDatabase::create(&server).await;
        let url = if label.starts_with("sqlite") {
            sqlite.clone()
        } else {
            db.url.clone()
        };
        let a = serve(&url, &sink_url);
        let node = client(&a.base);
        node.post(
            "/api/v1/records/queue",
            json!({"id": "q_escalations", "name": "Escalations"}),
        )
        .await;
        let (_, seed) = node
            .post("/api/v1/automations", serde_json::from_str(SEED).unwrap())
            .await;
        let seed_id = seed["id"].as_str().unwrap().to_string();
        let extra: Vec<Worker> = (0..workers).map(|_| worker(&url, &sink_url)).collect();
        let (accepted, completed) = seed_throughput(&node, &seed_id).await;
        figures.push(format!(
            "{label}: {accepted:.0} events/s accepted, {completed:.0} runs/s completed"
        ));
        drop(extra);
        drop(a);
    }
    eprintln!(
        "seed end to end through HTTP, {SCALING_EVENTS} events:\n{}",
        figures.join("\n")
    );
}
