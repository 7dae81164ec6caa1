//! Step retries with a real plugin (DESIGN §6): a call past its time limit is retried by a
//! policy naming `timeout`, and the run answers `attempts` and `last_error` on the step; a
//! panic or a refused address is never transient, whatever the policy names.

use std::time::Duration;

use serde_json::{Value, json};

use super::api::{BOUNDARY, automation, create_lead, install, multipart, runs_of};
use super::build::{component, manifest_text};
use crate::support::TestApp;

fn hostile(attack: &str, retry: Value) -> Value {
    json!({
        "name": format!("Hostile {attack}"),
        "status": "active",
        "trigger": {"event": "lead.created"},
        "actions": [{"id": "h", "type": "plugin", "retry": retry, "params": {
            "plugin": "hostile", "input": {"attack": attack}}}]
    })
}

/// The automation's only run once it has finished (the retry timers come due on their
/// own; the bound only turns a hang into a failure).
async fn finished(app: &TestApp, automation: &str) -> Value {
    for _ in 0..300 {
        app.settle().await;
        let runs = runs_of(app, automation, "").await;
        if let Some(run) = runs.first()
            && ["completed", "failed", "cancelled"].contains(&run["status"].as_str().unwrap_or(""))
        {
            let id = run["id"].as_str().unwrap();
            return app
                .get(&format!("/api/v1/automations/{automation}/runs/{id}"))
                .await
                .body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timing_out_plugin_is_retried_and_the_step_shows_its_attempts() {
    let app = TestApp::new().await;
    install(&app, "hostile").await;
    let retry = json!({"attempts": 2, "backoff": "100ms", "on": ["timeout"]});
    let id = automation(&app, hostile("infinite-loop", retry)).await;
    create_lead(&app).await;
    let run = finished(&app, &id).await;
    assert_eq!(run["status"], "failed", "{run}");
    let step = &run["steps"][0];
    assert_eq!(step["attempts"], 2, "{step}");
    assert_eq!(step["status"], "failed", "{step}");
    let last = step["last_error"].as_str().unwrap();
    assert!(last.contains("timed out"), "{last}");
    assert_eq!(step["error"], step["last_error"]);
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .starts_with("step h failed after 2 attempts: "),
        "{run}"
    );
    let metrics = app.get("/metrics").await;
    assert!(
        metrics
            .text
            .contains("automations_plugin_failures_total{kind=\"timeout\"} 2\n"),
        "{}",
        metrics.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_that_would_happen_again_are_not_retried() {
    // A panic (a trap), and an address the network policy refuses (not a network failure).
    for attack in ["panic", "http-metadata"] {
        let app = TestApp::new().await;
        install(&app, "hostile").await;
        let every = json!(["timeout", "http", "conflict"]);
        let retry = json!({"attempts": 3, "backoff": "100ms", "on": every});
        let id = automation(&app, hostile(attack, retry)).await;
        create_lead(&app).await;
        let run = finished(&app, &id).await;
        assert_eq!(run["status"], "failed", "{attack}: {run}");
        assert_eq!(run["steps"][0]["attempts"], 1, "{attack}: {run}");
        assert!(run["steps"][0]["last_error"].is_string(), "{attack}: {run}");
    }
}

/// The real binary is killed (SIGKILL) while a plugin step waits out its backoff; the
/// restarted one makes the next attempt once, from the timer in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_the_backoff_then_a_restart_resumes_the_retry() {
    use crate::e2e::{Client, TOKEN, items, start_with};

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("k.db").display());
    let (mut server, _) = start_with(&db, &[], Some(TOKEN));
    let client = |base: &str| Client {
        http: reqwest::Client::new(),
        base: base.to_string(),
        token: TOKEN.into(),
    };
    let first = client(&server.base);
    let manifest = manifest_text("hostile");
    let uploaded = first
        .http
        .post(format!("{}/api/v1/plugins", server.base))
        .bearer_auth(TOKEN)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&manifest, &component("hostile")))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status().as_u16(), 201);
    let capabilities = serde_json::from_str::<Value>(&manifest).unwrap()["capabilities"].clone();
    let (status, _) = first
        .post(
            "/api/v1/plugins/hostile/grants",
            json!({ "capabilities": capabilities }),
        )
        .await;
    assert_eq!(status, 200);
    // Long enough a backoff for the kill to land inside it.
    let retry = json!({"attempts": 2, "backoff": "3s", "max_backoff": "3s", "on": ["timeout"]});
    let (status, created) = first
        .post("/api/v1/automations", hostile("infinite-loop", retry))
        .await;
    assert_eq!(status, 201, "{created}");
    let automation = created["id"].as_str().unwrap().to_string();
    let (status, _) = first
        .post("/api/v1/records/lead", json!({"email": "ana@acme.example"}))
        .await;
    assert_eq!(status, 201);
    let runs = format!("/api/v1/automations/{automation}/runs");
    let waiting = first
        .wait_for(&runs, |b| {
            items(b).first().is_some_and(|r| r["status"] == "waiting")
        })
        .await;
    let run_id = items(&waiting)[0]["id"].as_str().unwrap().to_string();
    let run_path = format!("{runs}/{run_id}");
    let (_, parked) = first.get(&run_path).await;
    assert_eq!(parked["steps"][0]["status"], "waiting", "{parked}");
    assert_eq!(parked["steps"][0]["attempts"], 1, "{parked}");
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let (server, _) = start_with(&db, &[], None);
    let second = client(&server.base);
    let run = second
        .wait_for(&run_path, |r| r["status"] == "failed")
        .await;
    let step = &run["steps"][0];
    assert_eq!(step["attempts"], 2, "{run}");
    assert!(
        step["last_error"].as_str().unwrap().contains("timed out"),
        "{run}"
    );
    // The restarted process made exactly one call: the second attempt.
    let metrics = second
        .http
        .get(format!("{}/metrics", server.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("automations_plugin_failures_total{kind=\"timeout\"} 1\n"),
        "{metrics}"
    );
}
