//! The example plugins written in JavaScript (componentize-js) and Python (componentize-py),
//! built with their real toolchains by `scripts/build-lang-plugins`, end to end on the real
//! binary: uploaded through the API (an 18 MB Python component included), granted,
//! triggered by record writes; their outputs, record writes and log lines checked through
//! the API, live and in sandbox dry-run (`applied: false`, nothing written). Errors show as
//! the language gives them: a host denial reaches a JavaScript `catch` as an Error with its
//! stack, an unexpected Python exception comes with its traceback. An upload over
//! `--plugin-upload-limit` answers 413 with the limit.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::api::{BOUNDARY, multipart};
use super::build::plugins_dir;
use crate::e2e::{Client, Server, TOKEN, items, start_with};

/// Builds the JavaScript and Python examples once per test process (the script rebuilds
/// only what changed and keeps its toolchains outside the clone).
fn built_dir() -> &'static Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = plugins_dir().join("../../scripts/build-lang-plugins");
        let output = Command::new(&script)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !output.status.success() {
            return Err(format!(
                "scripts/build-lang-plugins failed (it needs node/npm and python3 with venv):\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(plugins_dir().join("target/lang"))
    })
}

/// The component and manifest of example `name` written in `language`.
fn example(language: &str, name: &str) -> (Vec<u8>, String) {
    let dir = built_dir().as_ref().unwrap_or_else(|e| panic!("{e}"));
    let wasm_path = dir.join(format!("{}.wasm", name.replace('-', "_")));
    let wasm = std::fs::read(&wasm_path).unwrap_or_else(|e| panic!("{}: {e}", wasm_path.display()));
    let manifest_path = plugins_dir()
        .join(language)
        .join(name)
        .join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path)
        .unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display()));
    (wasm, manifest)
}

fn client(server: &Server) -> Client {
    Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: TOKEN.into(),
    }
}

async fn upload(client: &Client, manifest: &str, wasm: &[u8]) -> (u16, Value) {
    let response = client
        .http
        .post(format!("{}/api/v1/plugins", client.base))
        .bearer_auth(&client.token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(manifest, wasm))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn grant(client: &Client, name: &str, capabilities: Value) {
    let path = format!("/api/v1/plugins/{name}/grants");
    let (status, body) = client
        .post(&path, json!({"capabilities": capabilities}))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn create(client: &Client, path: &str, body: Value) -> Value {
    let (status, answer) = client.post(path, body).await;
    assert_eq!(status, 201, "{path}: {answer}");
    answer
}

async fn automation(client: &Client, env: &str, event: &str, step: Value) -> String {
    let definition = json!({
        "name": format!("{} on {event} ({env})", step["plugin"]), "environment": env,
        "status": "active", "trigger": {"event": event},
        "actions": [{"id": "plugin", "type": "plugin", "params": step}]
    });
    create(client, "/api/v1/automations", definition).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The newest run of `automation` once it has ended (completed or failed).
async fn ended_run(client: &Client, automation: &str, query: &str) -> Value {
    let path = format!("/api/v1/automations/{automation}/runs{query}");
    let body = client
        .wait_for(&path, |b| {
            items(b)
                .first()
                .is_some_and(|r| r["status"] == "completed" || r["status"] == "failed")
        })
        .await;
    items(&body)[0].clone()
}

async fn pause(client: &Client, automation: &str) {
    let path = format!("/api/v1/automations/{automation}/status");
    let (status, body) = client.post(&path, json!({"status": "paused"})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_and_python_plugins_end_to_end_on_the_real_binary() {
    let (js, js_manifest) = example("javascript", "case-triage");
    let (py, py_manifest) = example("python", "lead-qualifier");
    assert!(
        py.len() > 18_000_000,
        "the Python component is {} bytes",
        py.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("lang.db").display());
    let (server, _) = start_with(&db_url, &[], Some(TOKEN));
    let client = client(&server);
    for (manifest, wasm) in [(&js_manifest, &js), (&py_manifest, &py)] {
        let (status, body) = upload(&client, manifest, wasm).await;
        assert_eq!(status, 201, "{body}");
    }
    javascript_case_triage(&client).await;
    python_lead_qualifier(&client).await;
}

async fn javascript_case_triage(client: &Client) {
    // Read granted, write not: the host's denial reaches the plugin's `catch` as an Error.
    grant(client, "case-triage", json!(["records:read:case", "log"])).await;
    let live = automation(
        client,
        "live",
        "case.created",
        json!({"plugin": "case-triage", "input": {"case_id": "{{ id }}"}}),
    )
    .await;
    create(
        client,
        "/api/v1/records/case",
        json!({"id": "c_denied", "subject": "Site down since 9am"}),
    )
    .await;
    let run = ended_run(client, &live, "").await;
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["steps"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("records:write:case") && error.contains("not granted"),
        "{error}"
    );
    assert!(error.contains("triage@"), "the JS stack is kept: {error}");

    grant(
        client,
        "case-triage",
        json!(["records:read:case", "records:write:case", "log"]),
    )
    .await;
    create(
        client,
        "/api/v1/records/case",
        json!({"id": "c_outage", "subject": "Outage: checkout is down", "priority": "low"}),
    )
    .await;
    let path = format!("/api/v1/automations/{live}/runs");
    let body = client
        .wait_for(&path, |b| {
            items(b).len() == 2
                && items(b)[0]["status"] != "queued"
                && items(b)[0]["status"] != "running"
        })
        .await;
    let run = &items(&body)[0];
    assert_eq!(run["status"], "completed", "{run}");
    let step = &run["steps"][0];
    assert_eq!(step["output"]["priority"], "critical", "{run}");
    assert_eq!(step["output"]["matched"], "outage", "{run}");
    assert_eq!(step["effects"][0]["applied"], true, "{run}");
    assert_eq!(step["logs"][0]["level"], "info", "{run}");
    assert_eq!(
        step["logs"][0]["message"],
        "case c_outage triaged as critical"
    );
    assert_eq!(step["logs"][0]["fields"]["matched"], "outage");
    let (_, case) = client.get("/api/v1/records/case/c_outage").await;
    assert_eq!(case["priority"], "critical", "{case}");
    assert_eq!(case["status"], "escalated", "{case}");
    pause(client, &live).await;

    // Sandbox dry-run: the same call, its write recorded with `applied: false` only.
    let (status, _) = client.post("/api/v1/sandbox/activate", json!({})).await;
    assert_eq!(status, 200);
    let sandboxed = automation(
        client,
        "sandbox",
        "case.created",
        json!({"plugin": "case-triage", "input": {"case_id": "{{ id }}"}}),
    )
    .await;
    create(
        client,
        "/api/v1/records/case",
        json!({"id": "c_question", "subject": "Question about invoices", "priority": "high"}),
    )
    .await;
    let run = ended_run(client, &sandboxed, "?dry_run=true").await;
    assert_eq!(run["status"], "completed", "{run}");
    let step = &run["steps"][0];
    assert_eq!(step["output"]["priority"], "low", "{run}");
    assert_eq!(step["effects"][0]["applied"], false, "{run}");
    assert_eq!(step["logs"][0]["message"], "case c_question triaged as low");
    let (_, case) = client.get("/api/v1/records/case/c_question").await;
    assert_eq!(case["priority"], "high", "dry-run wrote nothing: {case}");
    let (status, _) = client.post("/api/v1/sandbox/deactivate", json!({})).await;
    assert_eq!(status, 200);
    pause(client, &sandboxed).await;
}

async fn python_lead_qualifier(client: &Client) {
    grant(
        client,
        "lead-qualifier",
        json!(["records:read:lead", "records:write:lead", "log"]),
    )
    .await;
    let live = automation(
        client,
        "live",
        "lead.created",
        json!({"plugin": "lead-qualifier", "input": {"lead_id": "{{ id }}"}}),
    )
    .await;
    create(
        client,
        "/api/v1/records/lead",
        json!({"id": "l_good", "email": "ana@acme.example", "company": "Acme",
               "source": "referral"}),
    )
    .await;
    let run = ended_run(client, &live, "").await;
    assert_eq!(run["status"], "completed", "{run}");
    let step = &run["steps"][0];
    // 30 (company email) + 20 (company) + 30 (referral).
    assert_eq!(step["output"]["score"], 80, "{run}");
    assert_eq!(step["output"]["status"], "qualified", "{run}");
    assert_eq!(step["effects"][0]["applied"], true, "{run}");
    assert_eq!(step["logs"][0]["message"], "lead l_good scored 80", "{run}");
    let (_, lead) = client.get("/api/v1/records/lead/l_good").await;
    assert_eq!(lead["score"], 80, "{lead}");
    assert_eq!(lead["status"], "qualified", "{lead}");
    pause(client, &live).await;

    // An unexpected exception (a threshold of the wrong type) fails the step with the
    // Python traceback; an expected one (no such lead) with the plugin's own message.
    let broken = automation(
        client,
        "live",
        "lead.updated",
        json!({"plugin": "lead-qualifier", "input": {"lead_id": "{{ id }}", "threshold": "high"}}),
    )
    .await;
    let (status, body) = client
        .send(
            reqwest::Method::PATCH,
            "/api/v1/records/lead/l_good",
            Some(json!({"company": "Acme Inc"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let run = ended_run(client, &broken, "").await;
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["steps"][0]["error"].as_str().unwrap();
    assert!(error.contains("TypeError"), "{error}");
    assert!(
        error.contains("Traceback (most recent call last)") && error.contains("app.py"),
        "{error}"
    );
    pause(client, &broken).await;

    let missing = automation(
        client,
        "live",
        "lead.created",
        json!({"plugin": "lead-qualifier", "input": {"lead_id": "l_nobody"}}),
    )
    .await;
    create(client, "/api/v1/records/lead", json!({"id": "l_other"})).await;
    let run = ended_run(client, &missing, "").await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(
        run["steps"][0]["error"],
        "plugin lead-qualifier@0.1.0 failed: plugin returned an error: lead l_nobody not found",
        "{run}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_configured_limit_answers_413_with_the_limit() {
    let (py, manifest) = example("python", "lead-qualifier");
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("limit.db").display());
    let (server, _) = start_with(&db_url, &["--plugin-upload-limit", "8MiB"], Some(TOKEN));
    let client = client(&server);
    let (status, body) = upload(&client, &manifest, &py).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("8388608") && message.contains("8 MiB"),
        "{message}"
    );
    // The server keeps serving, and nothing was stored.
    let (status, list) = client.get("/api/v1/plugins").await;
    assert_eq!(status, 200);
    assert!(items(&list).is_empty(), "{list}");
}
