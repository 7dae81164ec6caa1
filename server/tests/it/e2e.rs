//! End to end against the real binary: `serve` on a temporary SQLite file (and, in
//! `postgres.rs`, a fresh PostgreSQL database) and a free loopback port, a local Slack sink, and the seed walked through the HTTP API; then human
//! tasks, the sandbox and promote; `token create` and `migrate`; SIGTERM shuts it down.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::runs::APPROVAL;
use crate::support::SEED;

const BIN: &str = env!("CARGO_BIN_EXE_automations");

/// The binary the real-binary tests start: this build's, or for a benchmark
/// (`scaling_of_the_seed_through_http`) the one named by `AUTOMATIONS_BENCH_BIN`, e.g. the
/// release build.
pub(crate) fn binary() -> String {
    std::env::var("AUTOMATIONS_BENCH_BIN").unwrap_or_else(|_| BIN.to_string())
}
pub(crate) const TOKEN: &str = "e2e-admin-token";

/// A local HTTP server that answers 200 and keeps every request body.
pub(crate) async fn slack_sink() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/services/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if data.len() >= end + 4 + length {
                            seen.lock().unwrap().push(
                                String::from_utf8_lossy(&data[end + 4..end + 4 + length])
                                    .to_string(),
                            );
                            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, bodies)
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(db_url: &str, slack: &str) -> Server {
    start_with(
        db_url,
        &["--slack-webhook-url", slack, "--webhook-allow-private"],
        Some(TOKEN),
    )
    .0
}

/// Starts `serve` on a free port; returns the server and what it printed before its URL.
pub(crate) fn start_with(
    db_url: &str,
    extra: &[&str],
    admin_token: Option<&str>,
) -> (Server, Vec<String>) {
    let mut command = Command::new(binary());
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", db_url])
        .args(extra)
        .env_remove("AUTOMATIONS_ADMIN_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(token) = admin_token {
        command.env("AUTOMATIONS_ADMIN_TOKEN", token);
    }
    let mut child = command.spawn().expect("the automations binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    let base = loop {
        let line = lines.next().expect("serve printed its URL").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.trim().to_string();
        }
        printed.push(line);
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Server { child, base }, printed)
}

#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

impl Client {
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub(crate) async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// The value of the `/metrics` line that starts with `name` (labels included).
    pub(crate) async fn metric(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().parse().unwrap()))
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    }

    /// Polls `path` until `done` holds on its body (runs and deliveries are asynchronous).
    pub(crate) async fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body) = self.get(path).await;
            if status == 200 && done(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting on {path}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub(crate) fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_end_to_end_on_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("e2e.db").display());
    seed_end_to_end(&db_url).await;
}

/// The seed, a human task, the sandbox and promote, `token create`, SIGTERM and
/// `migrate`, on the binary serving `db_url` (any driver).
pub(crate) async fn seed_end_to_end(db_url: &str) {
    let db_url = db_url.to_string();
    let (slack_url, slack) = slack_sink().await;
    let server = start(&db_url, &slack_url);
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: TOKEN.into(),
    };

    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );

    // The seed: a queue, the automation verbatim, a critical case.
    let (status, _) = client
        .post(
            "/api/v1/records/queue",
            json!({"id": "q_escalations", "name": "Escalations"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, automation) = client
        .post("/api/v1/automations", serde_json::from_str(SEED).unwrap())
        .await;
    assert_eq!(status, 201, "{automation}");
    let id = automation["id"].as_str().unwrap().to_string();
    let (status, case) = client
        .post(
            "/api/v1/records/case",
            json!({"subject": "Checkout down", "priority": "critical"}),
        )
        .await;
    assert_eq!(status, 201);
    let case_id = case["id"].as_str().unwrap().to_string();

    let runs = client
        .wait_for(&format!("/api/v1/automations/{id}/runs"), |b| {
            items(b).first().is_some_and(|r| r["status"] == "completed")
        })
        .await;
    let run = &items(&runs)[0];
    assert_eq!(run["steps"].as_array().unwrap().len(), 2);
    assert!(run["duration_ms"].is_number(), "{run}");
    let (_, case) = client.get(&format!("/api/v1/records/case/{case_id}")).await;
    assert_eq!(case["queue_id"], "q_escalations");
    client
        .wait_for("/api/v1/outbox?kind=slack", |b| {
            items(b).first().is_some_and(|o| o["status"] == "delivered")
        })
        .await;
    let delivered: Vec<Value> = slack
        .lock()
        .unwrap()
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(delivered, vec![json!({"text": "Critical case created"})]);

    // A human task parks the run; complete-task resumes it exactly once.
    let (status, approval) = client
        .post(
            "/api/v1/automations",
            serde_json::from_str(APPROVAL).unwrap(),
        )
        .await;
    assert_eq!(status, 201, "{approval}");
    let approval_id = approval["id"].as_str().unwrap().to_string();
    client
        .post(
            "/api/v1/records/opportunity",
            json!({"name": "Renewal", "amount": 75000}),
        )
        .await;
    let waiting = client
        .wait_for(
            &format!("/api/v1/automations/{approval_id}/runs?status=waiting"),
            |b| !items(b).is_empty(),
        )
        .await;
    let run_id = items(&waiting)[0]["id"].as_str().unwrap().to_string();
    let complete = format!("/api/v1/automations/{approval_id}/runs/{run_id}/complete-task");
    let (status, run) = client
        .post(
            &complete,
            json!({"output": {"approved": true, "notes": "fine"}}),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    let (status, _) = client
        .post(
            &complete,
            json!({"output": {"approved": true, "notes": "fine"}}),
        )
        .await;
    assert_eq!(status, 409);
    client
        .wait_for(
            &format!("/api/v1/automations/{approval_id}/runs/{run_id}"),
            |r| r["status"] == "completed",
        )
        .await;

    // Sandbox: a sandbox automation dry-runs on live events; promote makes it live.
    let (status, sandbox) = client.post("/api/v1/sandbox/activate", json!({})).await;
    assert_eq!((status, &sandbox["active"]), (200, &json!(true)));
    let definition = json!({
        "name": "Escalate high cases", "environment": "sandbox", "status": "active",
        "trigger": {"event": "case.created", "conditions": {"priority": "high"}},
        "actions": [{"type": "update_field", "params": {"field": "status", "value": "escalated"}}]
    });
    let (status, sandboxed) = client.post("/api/v1/automations", definition).await;
    assert_eq!(status, 201, "{sandboxed}");
    let sandbox_id = sandboxed["id"].as_str().unwrap().to_string();
    let (_, case) = client
        .post(
            "/api/v1/records/case",
            json!({"subject": "Slow", "priority": "high", "status": "new"}),
        )
        .await;
    let case_id = case["id"].as_str().unwrap().to_string();
    let runs = client
        .wait_for(&format!("/api/v1/automations/{sandbox_id}/runs"), |b| {
            items(b).first().is_some_and(|r| r["status"] == "completed")
        })
        .await;
    let run = &items(&runs)[0];
    assert_eq!(run["dry_run"], true);
    assert_eq!(run["steps"][0]["effects"][0]["applied"], false, "{run}");
    assert_eq!(
        client
            .get(&format!("/api/v1/records/case/{case_id}"))
            .await
            .1["status"],
        "new"
    );
    let (status, live) = client
        .post(
            &format!("/api/v1/automations/{sandbox_id}/promote"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{live}");
    assert_eq!(live["environment"], "live");
    let (_, case) = client
        .post(
            "/api/v1/records/case",
            json!({"subject": "Slower", "priority": "high", "status": "new"}),
        )
        .await;
    let case_id = case["id"].as_str().unwrap().to_string();
    client
        .wait_for(&format!("/api/v1/records/case/{case_id}"), |c| {
            c["status"] == "escalated"
        })
        .await;

    // `token create` against the same database: a narrower token of a new workspace.
    let output = Command::new(BIN)
        .args([
            "token",
            "create",
            "--workspace",
            "partners",
            "--scopes",
            "runs:read",
            "--database-url",
            &db_url,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_string();
    let partner = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token,
    };
    assert_eq!(partner.get("/api/v1/tasks").await.0, 200);
    assert_eq!(
        partner
            .get(&format!("/api/v1/automations/{id}/runs"))
            .await
            .0,
        404,
        "another workspace"
    );
    assert_eq!(
        partner
            .post("/api/v1/automations", serde_json::from_str(SEED).unwrap())
            .await
            .0,
        403
    );

    // SIGTERM: a graceful exit.
    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "serve exits 0 on SIGTERM: {exit:?}");

    let migrate = Command::new(BIN)
        .args(["migrate", "--database-url", &db_url])
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_prints_an_admin_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("first.db").display());
    let (server, printed) = start_with(&db_url, &[], None);
    let token = printed
        .last()
        .expect("a token was printed")
        .trim()
        .to_string();
    assert!(
        printed.iter().any(|l| l.contains("admin token")),
        "{printed:?}"
    );
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token,
    };
    assert_eq!(client.get("/api/v1/automations").await.0, 200);
    assert_eq!(
        client.post("/api/v1/sandbox/activate", json!({})).await.0,
        200,
        "the token is an admin"
    );
    drop(server);

    let (server, printed) = start_with(&db_url, &[], None);
    assert!(
        printed.is_empty(),
        "a second start prints no token: {printed:?}"
    );
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: client.token,
    };
    assert_eq!(
        client.get("/api/v1/sandbox").await.1["active"],
        true,
        "same database, same token"
    );
}
