//! Step retry policies on a delivery step, end to end on the real binary (DESIGN §6): a
//! `webhook` step whose receiver fails transiently is retried per the step's policy and
//! delivered exactly once, with the same `webhook-id` on every try, its tries shown on the
//! step; spent attempts leave the delivery `dead` with the last error. Also survives a
//! kill -9 between two tries.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::e2e::{Client, TOKEN, items, start_with};

/// One request the receiver got: its `webhook-id` header and the status it answered.
#[derive(Debug, Clone)]
struct Hit {
    webhook_id: String,
    status: u16,
}

/// A webhook receiver that answers 503 to its first `failures` requests, then 200.
async fn flaky_receiver(failures: usize) -> (String, Arc<Mutex<Vec<Hit>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(Vec::new()));
    let seen = hits.clone();
    let count = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (seen, count) = (seen.clone(), count.clone());
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 8192];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data).to_string();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let header = |name: &str| {
                        text[..end].lines().find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.trim()
                                .eq_ignore_ascii_case(name)
                                .then(|| v.trim().to_string())
                        })
                    };
                    let length: usize = header("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    if data.len() < end + 4 + length {
                        continue;
                    }
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    let status = if n < failures { 503 } else { 200 };
                    seen.lock().unwrap().push(Hit {
                        webhook_id: header("webhook-id").unwrap_or_default(),
                        status,
                    });
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    return;
                }
            });
        }
    });
    (url, hits)
}

fn webhook_automation(url: &str, retry: Value) -> Value {
    json!({
        "name": "Tell the billing system", "status": "active",
        "trigger": {"event": "case.created"},
        "actions": [{"id": "hook", "type": "webhook", "retry": retry,
            "params": {"url": url, "body": {"case": "{{ id }}"}}}]
    })
}

fn client(base: &str) -> Client {
    Client {
        http: reqwest::Client::new(),
        base: base.to_string(),
        token: TOKEN.into(),
    }
}

/// Creates the automation and one case; returns the automation's id.
async fn trigger(client: &Client, definition: Value) -> String {
    let (status, created) = client.post("/api/v1/automations", definition).await;
    assert_eq!(status, 201, "{created}");
    let (status, case) = client
        .post("/api/v1/records/case", json!({"subject": "Invoice"}))
        .await;
    assert_eq!(status, 201, "{case}");
    created["id"].as_str().unwrap().to_string()
}

/// The only webhook delivery once it is no longer pending.
async fn settled_delivery(client: &Client) -> Value {
    let body = client
        .wait_for("/api/v1/outbox?kind=webhook", |b| {
            items(b).first().is_some_and(|i| i["status"] != "pending")
        })
        .await;
    assert_eq!(items(&body).len(), 1, "{body}");
    items(&body)[0].clone()
}

/// The automation's only run, with its steps, once a step shows `attempts` tries.
async fn step_with_attempts(client: &Client, automation: &str, attempts: i64) -> Value {
    let runs = client
        .wait_for(&format!("/api/v1/automations/{automation}/runs"), |b| {
            items(b).first().is_some_and(|r| r["status"] == "completed")
        })
        .await;
    let run_id = items(&runs)[0]["id"].as_str().unwrap().to_string();
    let run = client
        .wait_for(
            &format!("/api/v1/automations/{automation}/runs/{run_id}"),
            |r| r["steps"][0]["attempts"] == attempts,
        )
        .await;
    run["steps"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_step_retried_after_transient_errors_delivers_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let (url, hits) = flaky_receiver(2).await;
    let (server, _) = start_with(&db, &["--webhook-allow-private"], Some(TOKEN));
    let client = client(&server.base);
    let retry = json!({"attempts": 4, "backoff": "200ms", "max_backoff": "1s"});
    let automation = trigger(&client, webhook_automation(&url, retry)).await;

    let item = settled_delivery(&client).await;
    assert_eq!(item["status"], "delivered", "{item}");
    assert_eq!(item["attempts"], 3, "{item}");
    let hits = hits.lock().unwrap().clone();
    let statuses: Vec<u16> = hits.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [503, 503, 200], "one accepted delivery: {hits:?}");
    let key = item["idempotency_key"].as_str().unwrap();
    assert!(
        hits.iter().all(|h| h.webhook_id == key),
        "every try carries the one key {key}: {hits:?}"
    );
    // The step completed when its delivery was queued; it shows the tries the delivery took.
    let step = step_with_attempts(&client, &automation, 3).await;
    assert_eq!(step["status"], "completed", "{step}");
    assert_eq!(step["last_error"], "HTTP 503", "{step}");
    assert_eq!(step["error"], Value::Null, "{step}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spent_delivery_attempts_leave_it_dead_with_the_last_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let (url, hits) = flaky_receiver(usize::MAX).await;
    let (server, _) = start_with(&db, &["--webhook-allow-private"], Some(TOKEN));
    let client = client(&server.base);
    let retry = json!({"attempts": 2, "backoff": "100ms"});
    let automation = trigger(&client, webhook_automation(&url, retry)).await;

    let item = settled_delivery(&client).await;
    assert_eq!(item["status"], "dead", "{item}");
    assert_eq!(item["attempts"], 2, "{item}");
    assert_eq!(item["last_error"], "HTTP 503 (gave up after 2 attempts)");
    assert_eq!(
        hits.lock().unwrap().len(),
        2,
        "the policy's 2 tries, not the default 8"
    );
    let step = step_with_attempts(&client, &automation, 2).await;
    assert_eq!(step["last_error"], "HTTP 503 (gave up after 2 attempts)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_two_tries_still_delivers_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let (url, hits) = flaky_receiver(1).await;
    let (mut server, _) = start_with(&db, &["--webhook-allow-private"], Some(TOKEN));
    let client_a = client(&server.base);
    // A backoff long enough for the kill to land inside it.
    let retry = json!({"attempts": 3, "backoff": "3s", "max_backoff": "3s"});
    let automation = trigger(&client_a, webhook_automation(&url, retry)).await;
    let pending = client_a
        .wait_for("/api/v1/outbox?kind=webhook", |b| {
            items(b).first().is_some_and(|i| i["attempts"] == 1)
        })
        .await;
    assert_eq!(items(&pending)[0]["status"], "pending", "{pending}");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert_eq!(hits.lock().unwrap().len(), 1);

    let (server, _) = start_with(&db, &["--webhook-allow-private"], None);
    let client_b = client(&server.base);
    let item = settled_delivery(&client_b).await;
    assert_eq!(item["status"], "delivered", "{item}");
    assert_eq!(item["attempts"], 2, "{item}");
    let statuses: Vec<u16> = hits.lock().unwrap().iter().map(|h| h.status).collect();
    assert_eq!(statuses, [503, 200]);
    let step = step_with_attempts(&client_b, &automation, 2).await;
    assert_eq!(step["last_error"], "HTTP 503", "{step}");
}
