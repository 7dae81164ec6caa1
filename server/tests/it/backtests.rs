//! Backtests through the API (issue 23): 202 with `Location`, progress and the kept
//! result, cancel, isolation between workspaces, bounds, and concurrent starts.

use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use automations_runtime::{NewRecord, RecordOp};

use crate::support::*;

/// Stores `n` critical cases (the seed automation's matches) through the engine.
async fn critical_cases(app: &TestApp, n: usize) {
    let ws = app.engine().ensure_workspace("default").await.unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let ops = chunk
            .iter()
            .map(|i| RecordOp::Create {
                object: "case".into(),
                record: NewRecord {
                    id: None,
                    fields: serde_json::from_value(json!({"priority": if i % 2 == 0 { "critical" } else { "low" }, "subject": format!("#{i}")})).unwrap(),
                },
            })
            .collect();
        app.engine().write_records(&ws.id, ops).await.unwrap();
    }
}

async fn wait_done(app: &TestApp, token: Option<&str>, location: &str) -> Value {
    for _ in 0..2000 {
        let answer = match token {
            Some(t) => app.get_as(t, location).await,
            None => app.get(location).await,
        };
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        if !["queued", "running"].contains(&answer.body["status"].as_str().unwrap()) {
            return answer.body;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("backtest at {location} never ended");
}

fn without_backtests(mut fingerprint: Vec<(String, i64)>) -> Vec<(String, i64)> {
    fingerprint.retain(|(table, _)| table != "backtests");
    fingerprint
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backtest_is_a_kept_job_that_writes_nothing_else() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    critical_cases(&app, 40).await;
    app.settle().await;
    let before = without_backtests(app.fingerprint().await);

    let started = app
        .post(
            &format!("/api/v1/automations/{id}/backtest"),
            &json!({"limit": 1000}),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let bid = started.body["id"].as_str().unwrap().to_string();
    let location = started.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        location,
        format!("/api/v1/automations/{id}/backtests/{bid}")
    );
    assert_eq!(started.body["request"]["version"], json!("draft"));
    assert!(["queued", "running", "completed"].contains(&started.body["status"].as_str().unwrap()));

    let done = wait_done(&app, None, &location).await;
    assert_eq!(done["status"], json!("completed"), "{done}");
    let result = &done["result"];
    assert_eq!(result["events_considered"], json!(40));
    assert_eq!(result["events_matched"], json!(20));
    assert_eq!(result["runs"]["completed"], json!(20));
    assert_eq!(done["progress"]["events_considered"], json!(40));
    let groups = result["effects"]["groups"].as_array().unwrap();
    let slack = groups.iter().find(|g| g["kind"] == "slack").unwrap();
    assert_eq!(slack["count"], json!(20));
    let queue = groups
        .iter()
        .find(|g| g["target"] == "case.queue_id")
        .unwrap();
    assert_eq!(
        queue["values"],
        json!([{"value": "q_escalations", "count": 20}])
    );
    assert!(result["sample_runs"][0]["explanation"]["result"] == json!(true));
    assert!(result["sample_non_matches"][0]["explanation"]["clauses"].is_array());

    // Nothing but the job row was written: no record, run, step, outbox item or event.
    assert_eq!(without_backtests(app.fingerprint().await), before);

    let list = app
        .get(&format!("/api/v1/automations/{id}/backtests"))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["items"][0]["id"], json!(bid));
    assert_eq!(list.body["items"][0]["result"], Value::Null);
    assert_eq!(list.body["next_cursor"], Value::Null);

    // A finished backtest cannot be cancelled.
    let cancel = app.delete(&location).await;
    assert_eq!(cancel.status, StatusCode::CONFLICT, "{}", cancel.text);
    let cancel = app.post(&format!("{location}/cancel"), &json!({})).await;
    assert_eq!(cancel.error_code(), "conflict");

    // Unknown ids are 404s.
    assert_eq!(
        app.get(&format!("/api/v1/automations/{id}/backtests/nope"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("/api/v1/automations/nope/backtest", &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_through_the_api_stops_a_backtest() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    critical_cases(&app, 5_000).await;
    let started = app
        .post(
            &format!("/api/v1/automations/{id}/backtest"),
            &json!({"limit": 5000}),
        )
        .await;
    let location = started.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let cancelled = app.delete(&location).await;
    // Either it was still going (200, cancelled) or, on a very fast machine, done (409).
    assert!(
        cancelled.status == StatusCode::OK || cancelled.status == StatusCode::CONFLICT,
        "{}",
        cancelled.text
    );
    let done = wait_done(&app, None, &location).await;
    if cancelled.status == StatusCode::OK {
        assert_eq!(done["status"], json!("cancelled"));
        assert_eq!(done["result"], Value::Null);
        assert_eq!(cancelled.body["status"], json!("cancelled"));
    } else {
        assert_eq!(done["status"], json!("completed"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_workspace_gets_404_everywhere() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    critical_cases(&app, 10).await;
    let started = app
        .post(&format!("/api/v1/automations/{id}/backtest"), &json!({}))
        .await;
    let location = started.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    wait_done(&app, None, &location).await;
    let other = app.token("other", &["admin"]).await;
    let paths = [
        (Method::POST, format!("/api/v1/automations/{id}/backtest")),
        (Method::GET, format!("/api/v1/automations/{id}/backtests")),
        (Method::GET, location.clone()),
        (Method::DELETE, location.clone()),
        (Method::POST, format!("{location}/cancel")),
    ];
    for (method, path) in paths {
        let body = Some(("application/json", b"{}".to_vec()));
        let answer = app.call(method.clone(), &path, Some(&other), body).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            answer.text
        );
        assert_eq!(answer.error_code(), "not_found");
    }
    // A read-only token reads but cannot start or cancel.
    let reader = app.token("default", &["automations:read"]).await;
    assert_eq!(app.get_as(&reader, &location).await.status, StatusCode::OK);
    let refused = app
        .post_as(
            &reader,
            &format!("/api/v1/automations/{id}/backtest"),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_huge_requests_are_refused_clearly() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}/backtest");
    let cases = [
        (
            json!({"limit": 1_000_000}),
            "limit 1000000 is out of bounds",
        ),
        (json!({"limit": 0}), "limit 0 is out of bounds"),
        (json!({"limit": 99_999_999_999u64}), "out of bounds"),
        (
            json!({"from": "yesterday"}),
            "`from` must be an RFC 3339 date-time",
        ),
        (
            json!({"from": "2020-01-01T00:00:00Z"}),
            "before the kept record history",
        ),
        (
            json!({"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}),
            "the range is empty",
        ),
        (json!({"version": "latest"}), "`version` must be"),
        (json!({"version": 0}), "`version` must be"),
        (json!({"limt": 5}), "limt"),
    ];
    for (body, message) in cases {
        let answer = app.post(&path, &body).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        let text = answer.body["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{body}: {text}");
    }
    let both = app
        .post(&path, &json!({"version": 1, "definition": {}}))
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert!(both.text.contains("not both"), "{}", both.text);
    let broken = "automation \"x\" {\n  when case.created\n  do {\n    nope()\n  }\n}\n";
    let invalid = app.post(&path, &json!({"definition": broken})).await;
    assert_eq!(
        invalid.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.text
    );
    assert_eq!(invalid.error_code(), "invalid_definition");
    let missing = app.post(&path, &json!({"version": 7})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let no_copy = app.post(&path, &json!({"version": "sandbox"})).await;
    assert_eq!(no_copy.status, StatusCode::CONFLICT);
    assert!(no_copy.text.contains("no sandbox copy"));
    let list = app
        .get(&format!("/api/v1/automations/{id}/backtests"))
        .await;
    assert_eq!(list.body["items"], json!([]), "nothing refused was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_starts_all_complete_alike() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let id = app.create_seed().await;
    critical_cases(&app, 200).await;
    let path = format!("/api/v1/automations/{id}/backtest");
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (app, path) = (app.clone(), path.clone());
        calls.spawn(async move { app.post(&path, &json!({"limit": 1000})).await });
    }
    let answers = calls.join_all().await;
    let mut locations = Vec::new();
    for a in &answers {
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
        locations.push(a.headers[header::LOCATION].to_str().unwrap().to_string());
    }
    for location in &locations {
        let done = wait_done(&app, None, location).await;
        assert_eq!(done["status"], json!("completed"), "{done}");
        assert_eq!(done["result"]["events_matched"], json!(100));
    }
    // The bound holds: 16 unfinished at most per workspace; the list has all 16.
    let list = app
        .get(&format!("/api/v1/automations/{id}/backtests?limit=500"))
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposed_definitions_secret_is_never_answered_or_stored() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    critical_cases(&app, 4).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let definition = json!({
        "name": "Hook",
        "trigger": {"event": "case.created"},
        "actions": [{"type": "webhook", "params": {"url": "https://user:pw-Secret-1@hooks.example.com/x", "secret": secret, "body": {"id": "{{ id }}"}}}],
        "status": "active"
    });
    let started = app
        .post(
            &format!("/api/v1/automations/{id}/backtest"),
            &json!({"definition": definition}),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    assert_eq!(started.body["version"], json!(0));
    let location = started.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let done = wait_done(&app, None, &location).await;
    assert_eq!(done["status"], json!("completed"), "{done}");
    assert_eq!(done["result"]["events_matched"], json!(4), "{done}");
    let webhook = done["result"]["effects"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "webhook")
        .unwrap()
        .clone();
    assert_eq!(webhook["count"], json!(4));
    for text in [
        started.text.clone(),
        done.to_string(),
        app.get(&format!("/api/v1/automations/{id}/backtests"))
            .await
            .text,
    ] {
        assert!(
            !text.contains(secret) && !text.contains("pw-Secret-1"),
            "a secret was answered: {text}"
        );
    }
    // Neither the database nor its write-ahead log holds either (the job's row is redacted).
    for file in [app.db_path.clone(), app.db_path.with_extension("db-wal")] {
        let dump = std::fs::read(&file).unwrap_or_default();
        let stored = String::from_utf8_lossy(&dump);
        assert!(
            !stored.contains("pw-Secret-1") && !stored.contains(secret),
            "{} keeps a secret",
            file.display()
        );
    }
}

/// Events are stored to the millisecond: a range ending inside the millisecond an event
/// was stamped in (`to` 12.279500 for an event at 12.279) still replays it. A backtest
/// ending "now" used to lose the events of its last millisecond.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_ending_inside_an_events_millisecond_replays_it() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    critical_cases(&app, 2).await;
    let path = format!("/api/v1/automations/{id}/backtest");
    let all = app.post(&path, &json!({})).await;
    assert_eq!(all.status, StatusCode::ACCEPTED, "{}", all.text);
    let location = all.headers[header::LOCATION].to_str().unwrap().to_string();
    let all = wait_done(&app, None, &location).await;
    assert_eq!(all["result"]["events_considered"], json!(2), "{all}");
    let last = all["result"]["last_event_at"].as_str().unwrap();
    let stamp = last.strip_suffix('Z').unwrap();
    assert_eq!(stamp.rsplit('.').next().unwrap().len(), 3, "{last}");
    let to = format!("{stamp}500Z");
    let started = app.post(&path, &json!({"to": to})).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let location = started.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let done = wait_done(&app, None, &location).await;
    assert_eq!(done["result"]["events_considered"], json!(2), "{done}");
    assert_eq!(done["result"]["last_event_at"], json!(last), "{done}");
}
