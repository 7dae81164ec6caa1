//! The example plugins end to end on the real binary: `serve` on a temporary SQLite file
//! with `--plugin-http-allow 127.0.0.1`, each plugin uploaded (multipart) and granted, an
//! automation per plugin triggered by a record write, and its effects seen through the API
//! (lead score written, the local sink's Slack message, the approval task record); the
//! sandbox dry-run of lead-scorer; then a restart on the same file that runs plugins from
//! the stored artifacts without compiling.

use serde_json::{Value, json};

use super::api::{BOUNDARY, multipart};
use super::build::{component, manifest_text};
use crate::e2e::{Client, Server, TOKEN, items, slack_sink, start_with};

fn start(db_url: &str) -> Server {
    start_with(db_url, &["--plugin-http-allow", "127.0.0.1"], Some(TOKEN)).0
}

fn client(server: &Server) -> Client {
    Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: TOKEN.into(),
    }
}

/// Uploads example `name` (multipart) and grants what its manifest asks for.
async fn install(client: &Client, name: &str) {
    let manifest = manifest_text(name);
    let response = client
        .http
        .post(format!("{}/api/v1/plugins", client.base))
        .bearer_auth(&client.token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&manifest, &component(name)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let requested = serde_json::from_str::<Value>(&manifest).unwrap()["capabilities"].clone();
    let (status, body) = client
        .post(
            &format!("/api/v1/plugins/{name}/grants"),
            json!({"capabilities": requested}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn create(client: &Client, path: &str, body: Value) -> Value {
    let (status, answer) = client.post(path, body).await;
    assert_eq!(status, 201, "{path}: {answer}");
    answer
}

async fn plugin_automation(
    client: &Client,
    name: &str,
    env: &str,
    event: &str,
    step: Value,
) -> String {
    let definition = json!({
        "name": name, "environment": env, "status": "active",
        "trigger": {"event": event},
        "actions": [{"type": "plugin", "params": step}]
    });
    let created = create(client, "/api/v1/automations", definition).await;
    created["id"].as_str().unwrap().to_string()
}

/// The one run of `automation` once finished.
async fn finished_run(client: &Client, automation: &str, query: &str) -> Value {
    let path = format!("/api/v1/automations/{automation}/runs{query}");
    let body = client
        .wait_for(&path, |b| {
            items(b)
                .first()
                .is_some_and(|r| r["status"] == "completed" || r["status"] == "failed")
        })
        .await;
    let run = items(&body)[0].clone();
    assert_eq!(run["status"], "completed", "{run}");
    run
}

/// Custom fields the example plugins read (lead -> account, account size, discount).
async fn extend_schema(client: &Client) {
    for (object, field, ty) in [
        ("lead", "account_id", "string"),
        ("lead", "title", "string"),
        ("account", "employees", "number"),
        ("opportunity", "discount", "number"),
    ] {
        create(
            client,
            &format!("/api/v1/schema/{object}/fields"),
            json!({"name": field, "type": ty}),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_plugins_end_to_end_on_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("plugins.db").display());
    let (sink_url, sink) = slack_sink().await;
    let server = start(&db_url);
    let client = client(&server);
    extend_schema(&client).await;
    for name in ["lead-scorer", "slack-formatter", "discount-approver"] {
        install(&client, name).await;
    }
    let (_, list) = client.get("/api/v1/plugins").await;
    assert_eq!(items(&list).len(), 3, "{list}");
    create(
        &client,
        "/api/v1/records/account",
        json!({"id": "a_big", "name": "Big Co", "employees": 5000}),
    )
    .await;

    // Sandbox first: lead-scorer dry-runs; its write is recorded, not applied.
    let (status, _) = client.post("/api/v1/sandbox/activate", json!({})).await;
    assert_eq!(status, 200);
    let sandboxed = plugin_automation(
        &client,
        "Score leads (sandbox)",
        "sandbox",
        "lead.created",
        json!({"plugin": "lead-scorer", "input": {"lead_id": "l_sandbox"}}),
    )
    .await;
    create(
        &client,
        "/api/v1/records/lead",
        json!({"id": "l_sandbox", "email": "bo@big.example", "account_id": "a_big"}),
    )
    .await;
    let run = finished_run(&client, &sandboxed, "?dry_run=true").await;
    let effect = &run["steps"][0]["effects"][0];
    assert_eq!(effect["applied"], false, "{run}");
    let (_, lead) = client.get("/api/v1/records/lead/l_sandbox").await;
    assert_eq!(lead["score"], Value::Null, "{lead}");
    let (status, _) = client.post("/api/v1/sandbox/deactivate", json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = client
        .post(
            &format!("/api/v1/automations/{sandboxed}/status"),
            json!({"status": "paused"}),
        )
        .await;
    assert_eq!(status, 200);

    // lead-scorer live: reads the lead and its account, writes `score`.
    let scorer = plugin_automation(
        &client,
        "Score leads",
        "live",
        "lead.created",
        json!({"plugin": "lead-scorer", "version": "0.1.0", "input": {"lead_id": "{{ id }}"}}),
    )
    .await;
    create(
        &client,
        "/api/v1/records/lead",
        json!({"id": "l_1", "email": "ana@big.example", "title": "VP Sales", "account_id": "a_big"}),
    )
    .await;
    let run = finished_run(&client, &scorer, "").await;
    // 20 (company email) + 30 (VP) + 40 (an account of 1000+ people: it read the account).
    assert_eq!(run["steps"][0]["output"]["score"], 90, "{run}");
    let (_, lead) = client.get("/api/v1/records/lead/l_1").await;
    assert_eq!(lead["score"], 90, "{lead}");

    // slack-formatter: plugin http to the local sink (allowed by --plugin-http-allow).
    let formatter = plugin_automation(
        &client,
        "Post new cases",
        "live",
        "case.created",
        json!({"plugin": "slack-formatter", "input": {
            "webhook_url": sink_url,
            "case": {"id": "{{ id }}", "subject": "{{ subject }}", "priority": "{{ priority }}"}}}),
    )
    .await;
    create(
        &client,
        "/api/v1/records/case",
        json!({"id": "c_1", "subject": "Printer on fire", "priority": "high"}),
    )
    .await;
    let run = finished_run(&client, &formatter, "").await;
    assert_eq!(run["steps"][0]["output"]["status"], 200, "{run}");
    let posted = sink.lock().unwrap().clone();
    assert_eq!(posted.len(), 1, "{posted:?}");
    let message: Value = serde_json::from_str(&posted[0]).unwrap();
    let text = message["text"].as_str().unwrap();
    assert!(
        text.contains("Case c_1") && text.contains("Printer on fire"),
        "{text}"
    );

    // discount-approver: a large discount opens an approval task (a `task` record).
    let approver = plugin_automation(
        &client,
        "Approve discounts",
        "live",
        "opportunity.created",
        json!({"plugin": "discount-approver", "input": {
            "opportunity_id": "{{ id }}", "approver": "u_manager", "auto_approve_max": 10}}),
    )
    .await;
    create(
        &client,
        "/api/v1/records/opportunity",
        json!({"id": "o_1", "name": "Big deal", "amount": 50000, "discount": 25}),
    )
    .await;
    let run = finished_run(&client, &approver, "").await;
    assert_eq!(
        run["steps"][0]["output"]["decision"], "pending_approval",
        "{run}"
    );
    let (_, tasks) = client.get("/api/v1/records/task").await;
    let task = items(&tasks)
        .iter()
        .find(|t| t["related_id"] == "o_1")
        .unwrap_or_else(|| panic!("no task for o_1: {tasks}"));
    assert_eq!(task["assignee_id"], "u_manager", "{task}");
    assert!(task["subject"].as_str().unwrap().contains("25"), "{task}");
    drop(server);

    // A restart on the same file: plugins, grants and compiled code come back.
    let server = start(&db_url);
    let client = self::client(&server);
    let (_, list) = client.get("/api/v1/plugins").await;
    assert_eq!(items(&list).len(), 3, "{list}");
    let source = |s: &str| format!("automations_plugin_components_loaded_total{{source=\"{s}\"}}");
    assert_eq!(client.metric(&source("compiled")).await, 0.0);
    assert_eq!(client.metric(&source("store")).await, 3.0);
    create(
        &client,
        "/api/v1/records/lead",
        json!({"id": "l_2", "email": "cy@gmail.com", "account_id": "a_big"}),
    )
    .await;
    let path = format!("/api/v1/automations/{scorer}/runs");
    client
        .wait_for(&path, |b| {
            items(b).len() == 2 && items(b)[0]["status"] == "completed"
        })
        .await;
    let (_, lead) = client.get("/api/v1/records/lead/l_2").await;
    assert_eq!(lead["score"], 40, "{lead}");
}

/// Names of the threads of process `pid` (Linux).
#[cfg(target_os = "linux")]
fn thread_names(pid: u32) -> Vec<String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect()
}

/// The plugin engine is made on first use (an idle server holds no wasmtime set-up): a new
/// server has no epoch ticker thread, and its first upload makes the engine and the
/// plugin's first call runs on it.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_engine_is_made_by_the_first_upload_of_a_new_server() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("lazy.db").display());
    let server = start(&db_url);
    let client = client(&server);
    let pid = server.child.id();
    let ticker = "plugin-epoch".to_string();
    assert!(
        !thread_names(pid).contains(&ticker),
        "{:?}",
        thread_names(pid)
    );

    install(&client, "lead-scorer").await;
    assert!(
        thread_names(pid).contains(&ticker),
        "{:?}",
        thread_names(pid)
    );
    let scorer = plugin_automation(
        &client,
        "Score leads",
        "live",
        "lead.created",
        json!({"plugin": "lead-scorer", "input": {"lead_id": "{{ id }}"}}),
    )
    .await;
    create(
        &client,
        "/api/v1/records/lead",
        json!({"id": "l_1", "email": "ana@acme.example"}),
    )
    .await;
    let run = finished_run(&client, &scorer, "").await;
    assert!(
        run["steps"][0]["output"]["score"].as_i64().is_some(),
        "{run}"
    );
}
