//! `GET /records/{object}/{id}/automation-log`: why each automation of an event's trigger
//! ran or did not, per record; workspace isolation, paging, concurrency, the cap.

use std::collections::HashSet;

use automations_runtime::record_log::AutomationLogConfig;
use automations_server::serve::OpenConfig;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{ADMIN, TestApp};

fn automation(name: &str, event: &str, conditions: &str, extra: Value) -> Value {
    let mut a = json!({
        "name": name,
        "trigger": {"event": event, "conditions": conditions},
        "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "hi"}}],
        "status": "active"
    });
    for (k, v) in extra.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

async fn create(app: &TestApp, body: Value) -> String {
    let a = app.post("/api/v1/automations", &body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["id"].as_str().unwrap().to_string()
}

async fn create_case(app: &TestApp, fields: Value) -> String {
    let r = app.post("/api/v1/records/case", &fields).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

async fn log_of(app: &TestApp, object: &str, id: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor
            .as_deref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = app
            .get(&format!(
                "/api/v1/records/{object}/{id}/automation-log?limit=7{q}"
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        items.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
}

fn considered<'a>(entry: &'a Value, id: &str) -> &'a Value {
    entry["automations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["automation_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {entry}"))
}

#[tokio::test]
async fn a_non_match_is_explained_by_its_failing_clause_with_the_value_seen() {
    let app = TestApp::new().await;
    let strict = create(
        &app,
        automation(
            "Outages only when critical",
            "case.created",
            "subject == 'outage' and priority == 'critical'",
            json!({}),
        ),
    )
    .await;
    let any = create(
        &app,
        automation("Every case", "case.created", "has(subject)", json!({})),
    )
    .await;
    let draft = create(
        &app,
        automation(
            "Draft",
            "case.created",
            "has(subject)",
            json!({"status": "draft"}),
        ),
    )
    .await;
    let paused = create(
        &app,
        automation(
            "Paused",
            "case.created",
            "has(subject)",
            json!({"status": "paused"}),
        ),
    )
    .await;
    let sandbox = create(
        &app,
        automation(
            "Sandbox copy",
            "case.created",
            "has(subject)",
            json!({"environment": "sandbox"}),
        ),
    )
    .await;
    let other_trigger = create(
        &app,
        automation("Updates", "case.updated", "has(subject)", json!({})),
    )
    .await;

    let case = create_case(&app, json!({"subject": "outage", "priority": "low"})).await;
    let log = log_of(&app, "case", &case).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let entry = &log[0];
    assert_eq!(entry["event_type"], "case.created");
    assert_eq!(entry["object"], "case");
    assert_eq!(entry["record_id"], case.as_str());
    assert_eq!(entry["depth"], 0);
    assert_eq!(entry["not_listed"], 0);

    let no = considered(entry, &strict);
    assert_eq!(no["outcome"], "not_matched");
    assert_eq!(no["name"], "Outages only when critical");
    assert_eq!(no["version"], 1);
    let explanation = &no["explanation"];
    assert_eq!(explanation["result"], false);
    assert_eq!(explanation["decision"], "first_false");
    let clause = &explanation["clauses"][0];
    assert!(
        clause["text"].as_str().unwrap().contains("priority"),
        "{clause}"
    );
    assert_eq!(clause["result"], false);
    assert!(
        clause["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["field"].as_str().unwrap().contains("priority") && v["value"] == "low"),
        "{clause}"
    );
    assert!(no.get("run_id").is_none());

    let yes = considered(entry, &any);
    assert_eq!(yes["outcome"], "matched");
    let run_id = yes["run_id"].as_str().unwrap();
    let run = app
        .get(&format!("/api/v1/automations/{any}/runs/{run_id}"))
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    assert!(yes.get("explanation").is_none());

    for (id, reason) in [
        (&draft, "draft"),
        (&paused, "paused"),
        (&sandbox, "sandbox_off"),
    ] {
        let x = considered(entry, id);
        assert_eq!(x["outcome"], "excluded", "{x}");
        assert_eq!(x["reason"], reason, "{x}");
    }
    assert!(
        !entry["automations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["automation_id"] == other_trigger.as_str()),
        "an automation of another trigger is not considered"
    );
    // Matched first, then excluded, then not matched.
    let outcomes: Vec<&str> = entry["automations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["matched", "excluded", "excluded", "excluded", "not_matched"]
    );

    // The sandbox on: the sandbox automation runs in dry-run; an archived one is excluded.
    let on = app.post("/api/v1/sandbox/activate", &json!({})).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    assert_eq!(
        app.delete(&format!("/api/v1/automations/{draft}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let second = create_case(&app, json!({"subject": "outage", "priority": "critical"})).await;
    let entry = &log_of(&app, "case", &second).await[0];
    assert_eq!(considered(entry, &strict)["outcome"], "matched");
    let dry = considered(entry, &sandbox);
    assert_eq!(dry["outcome"], "matched");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(considered(entry, &draft)["reason"], "archived");
}

#[tokio::test]
async fn the_loop_guard_is_logged() {
    let app = TestApp::new().await;
    // Writes its own record on every update: the second round is a loop.
    let looping = create(
        &app,
        json!({
            "name": "Touch on update",
            "trigger": {"event": "case.updated"},
            "actions": [{"type": "update_field", "params": {"field": "description", "value": "{{ description }}x"}}],
            "status": "active"
        }),
    )
    .await;
    let case = create_case(&app, json!({"subject": "s", "description": "d"})).await;
    let patched = app
        .patch(
            &format!("/api/v1/records/case/{case}"),
            &json!({"subject": "t"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    app.settle().await;
    let log = log_of(&app, "case", &case).await;
    // Newest first: the automation's own update (depth 1) is the loop.
    let looped = log
        .iter()
        .find(|e| e["depth"] == 1)
        .unwrap_or_else(|| panic!("{log:?}"));
    let c = considered(looped, &looping);
    assert_eq!(c["outcome"], "loop_detected", "{c}");
    assert!(
        c["error"].as_str().unwrap().contains("loop_detected"),
        "{c}"
    );
    assert!(c["run_id"].is_string());
    let first = log.iter().find(|e| e["depth"] == 0).unwrap();
    assert_eq!(considered(first, &looping)["outcome"], "matched");
}

#[tokio::test]
async fn another_workspace_unknown_objects_and_records_are_404() {
    let app = TestApp::new().await;
    let alpha = app.token("alpha", &["admin"]).await;
    let beta = app.token("beta", &["admin"]).await;
    let a = app
        .post_as(
            &alpha,
            "/api/v1/automations",
            &automation("A", "case.created", "has(subject)", json!({})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let case = app
        .post_as(&alpha, "/api/v1/records/case", &json!({"subject": "x"}))
        .await;
    let id = case.body["id"].as_str().unwrap();
    let path = format!("/api/v1/records/case/{id}/automation-log");
    let own = app.get_as(&alpha, &path).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["items"].as_array().unwrap().len(), 1);
    assert!(own.body["next_cursor"].is_null());

    let other = app.get_as(&beta, &path).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);
    assert_eq!(other.error_code(), "not_found");
    let unknown_object = app
        .get_as(&alpha, &format!("/api/v1/records/nope/{id}/automation-log"))
        .await;
    assert_eq!(unknown_object.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_object.error_code(), "not_found");
    let unknown_record = app
        .get_as(&alpha, "/api/v1/records/case/missing/automation-log")
        .await;
    assert_eq!(unknown_record.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_record.error_code(), "not_found");
    let bad_cursor = app.get_as(&alpha, &format!("{path}?cursor=evt_nope")).await;
    assert_eq!(
        bad_cursor.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_cursor.text
    );
    let bad_limit = app.get_as(&alpha, &format!("{path}?limit=0")).await;
    assert_eq!(bad_limit.status, StatusCode::BAD_REQUEST);
    let unknown_param = app.get_as(&alpha, &format!("{path}?colour=red")).await;
    assert_eq!(unknown_param.status, StatusCode::BAD_REQUEST);
    let no_scope = app.token("alpha", &["automations:read"]).await;
    assert_eq!(
        app.get_as(&no_scope, &path).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_events_on_one_record_lose_no_entry() {
    let app = TestApp::new().await;
    let a = create(
        &app,
        automation("Any update", "case.updated", "has(subject)", json!({})),
    )
    .await;
    let case = create_case(&app, json!({"subject": "s0"})).await;
    // Spawned on the multi-thread runtime: the writes really overlap (group commit).
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..16 {
        let router = app.router.clone();
        let request = Request::patch(format!("/api/v1/records/case/{case}"))
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"subject": format!("s{}", i + 1)}).to_string(),
            ))
            .unwrap();
        calls.spawn(async move { router.oneshot(request).await.unwrap().status() });
    }
    while let Some(status) = calls.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    let log = log_of(&app, "case", &case).await;
    let updates: Vec<&Value> = log
        .iter()
        .filter(|e| e["event_type"] == "case.updated")
        .collect();
    assert_eq!(updates.len(), 16, "{log:?}");
    let events: HashSet<&str> = updates
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(events.len(), 16);
    let runs: HashSet<String> = updates
        .iter()
        .map(|e| considered(e, &a)["run_id"].as_str().unwrap().to_string())
        .collect();
    let listed = app
        .get(&format!("/api/v1/automations/{a}/runs?limit=500"))
        .await;
    let stored: HashSet<String> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(runs, stored);
}

#[tokio::test]
async fn the_cap_per_record_keeps_the_newest_and_the_retention_sweeps() {
    let app = TestApp::with_open_config(OpenConfig {
        automation_log: AutomationLogConfig {
            per_record: 5,
            retention: std::time::Duration::ZERO,
            max_explained: 2,
        },
        ..OpenConfig::default()
    })
    .await;
    for i in 0..4 {
        create(
            &app,
            automation(
                &format!("never {i}"),
                "case.updated",
                "subject == 'never'",
                json!({}),
            ),
        )
        .await;
    }
    for i in 0..3 {
        create(
            &app,
            automation(
                &format!("draft {i}"),
                "case.updated",
                "has(subject)",
                json!({"status": "draft"}),
            ),
        )
        .await;
    }
    let case = create_case(&app, json!({"subject": "s0"})).await;
    let other = create_case(&app, json!({"subject": "other"})).await;
    let mut subjects = Vec::new();
    for i in 1..=12 {
        let subject = format!("s{i}");
        let r = app
            .patch(
                &format!("/api/v1/records/case/{case}"),
                &json!({"subject": subject}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        subjects.push(subject);
    }
    let log = log_of(&app, "case", &case).await;
    assert_eq!(log.len(), 5, "{log:?}");
    // The newest five, newest first, each explaining what it saw.
    for (entry, subject) in log.iter().zip(subjects.iter().rev()) {
        let listed = entry["automations"].as_array().unwrap();
        let outcomes: Vec<&str> = listed
            .iter()
            .map(|c| c["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(
            outcomes,
            ["excluded", "excluded", "not_matched", "not_matched"],
            "max_explained of each"
        );
        assert_eq!(entry["not_listed"], 1 + 2);
        let seen = &listed[2]["explanation"]["clauses"][0]["values"][0]["value"];
        assert_eq!(seen, subject.as_str(), "{entry}");
    }
    // Another record's log is its own.
    app.patch(
        &format!("/api/v1/records/case/{other}"),
        &json!({"subject": "o"}),
    )
    .await;
    assert_eq!(log_of(&app, "case", &other).await.len(), 1);
    assert_eq!(log_of(&app, "case", &case).await.len(), 5);

    // Retention zero: the sweep deletes every entry.
    let swept = app.engine().sweep_automation_log().await.unwrap();
    assert_eq!(swept, 6);
    let empty = app
        .get(&format!("/api/v1/records/case/{case}/automation-log"))
        .await;
    assert_eq!(
        empty.status,
        StatusCode::OK,
        "the record exists: {}",
        empty.text
    );
    assert!(empty.body["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_log_off_writes_nothing() {
    let app = TestApp::with_open_config(OpenConfig {
        automation_log: AutomationLogConfig {
            per_record: 0,
            ..AutomationLogConfig::default()
        },
        ..OpenConfig::default()
    })
    .await;
    create(
        &app,
        automation("Any", "case.created", "has(subject)", json!({})),
    )
    .await;
    let case = create_case(&app, json!({"subject": "x"})).await;
    let page = app
        .get(&format!("/api/v1/records/case/{case}/automation-log"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body["items"].as_array().unwrap().is_empty());
}
