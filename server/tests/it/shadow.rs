//! Sandbox copies (`POST /automations/{id}/sandbox-copy`) and the shadow diff
//! (`GET /automations/{id}/shadow-diff`): a seeded change reports exactly the events that
//! differ, with the kind of each difference.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

fn deal_automation(threshold: u32) -> Value {
    json!({
        "name": "Big deals",
        "trigger": {"event": "opportunity.created", "conditions": format!("amount > {threshold}")},
        "actions": [
            {"type": "update_field", "params": {"field": "probability", "value": 50}},
            {"type": "notify_user", "params": {"user_id": "u_sales", "message": "big deal {{ name }}"}}
        ],
        "status": "active"
    })
}

async fn create(app: &TestApp, body: &Value) -> String {
    let a = app.post("/api/v1/automations", body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["id"].as_str().unwrap().to_string()
}

/// Copies `live` to the sandbox and replaces the copy's definition with `edit` of it.
async fn copy_and_edit(app: &TestApp, live: &str, edit: impl Fn(&mut Value)) -> String {
    let copy = app.sandbox_copy(live).await;
    assert_eq!(copy.body["environment"], "sandbox");
    assert_eq!(copy.body["shadows_id"], live);
    assert_eq!(copy.body["status"], "active");
    assert_eq!(copy.body["version"], 1);
    let id = copy.body["id"].as_str().unwrap().to_string();
    let mut definition = copy.body["definition"].clone();
    edit(&mut definition);
    let put = app
        .put(&format!("/api/v1/automations/{id}"), &definition)
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["shadows_id"], live, "an edit keeps the link");
    id
}

async fn deal(app: &TestApp, amount: u32) -> String {
    let r = app
        .post(
            "/api/v1/records/opportunity",
            &json!({"name": format!("deal {amount}"), "amount": amount}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

async fn all_items(app: &TestApp, id: &str) -> (Vec<Value>, Value) {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(&format!(
                "/api/v1/automations/{id}/shadow-diff?limit=7{cursor}"
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        items.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return (items, page.body),
        }
    }
}

#[tokio::test]
async fn a_raised_threshold_reports_exactly_the_events_that_differ() {
    let app = TestApp::new().await;
    let live = create(&app, &deal_automation(1000)).await;
    // Before the copy: not compared.
    for amount in [2000, 3000, 9000] {
        deal(&app, amount).await;
    }
    let sandbox = copy_and_edit(&app, &live, |d| {
        d["trigger"]["conditions"] = json!("amount > 5000");
    })
    .await;
    let on = app.post("/api/v1/sandbox/activate", &json!({})).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    let mut expected = BTreeSet::new();
    let mut both = 0;
    for i in 0..50u32 {
        let amount = i * 200;
        let id = deal(&app, amount).await;
        if amount > 1000 && amount <= 5000 {
            expected.insert(id);
        } else if amount > 5000 {
            both += 1;
        }
    }
    app.settle().await;

    for asked in [&sandbox, &live] {
        let (items, last) = all_items(&app, asked).await;
        assert_eq!(last["live_id"], live.as_str());
        assert_eq!(last["sandbox_id"], sandbox.as_str());
        assert_eq!(last["truncated"], false);
        let got: BTreeSet<String> = items
            .iter()
            .map(|i| i["record_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            got, expected,
            "exactly the deals over 1000 and at most 5000"
        );
        assert_eq!(items.len(), 20);
        for item in &items {
            assert_eq!(
                item["differences"],
                json!([{"kind": "matched", "live": true, "sandbox": false}]),
                "{item}"
            );
            assert!(item["live"]["run_id"].is_string());
            assert!(item["sandbox"].is_null());
        }
        // Compared as instants: RFC 3339 text leaves out a zero fraction ("...:30Z"),
        // which sorts after "...:30.007Z" as text.
        let at: Vec<chrono::DateTime<chrono::Utc>> = items
            .iter()
            .map(|i| i["at"].as_str().unwrap().parse().unwrap())
            .collect();
        let mut sorted = at.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(at, sorted, "newest first");
        assert_eq!(
            last["totals"],
            json!({"events": 20 + both, "same": both, "differing": 20, "matched_live_only": 20,
                   "matched_sandbox_only": 0, "steps": 0, "fields": 0, "recipients": 0})
        );
    }
}

/// An edit keeps an automation in its environment. A whole definition without
/// `environment` (as a user writes one: the copy's own definition names it) used to make a
/// sandbox copy live, and its next run changed real records; an edit that names the other
/// environment is a 409 that says how to move it.
#[tokio::test]
async fn an_edit_keeps_an_automation_in_its_environment() {
    let app = TestApp::new().await;
    let live = create(&app, &deal_automation(1000)).await;
    let copy = app.sandbox_copy(&live).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let put = |id: &str, definition: Value| {
        let path = format!("/api/v1/automations/{id}");
        let app = &app;
        async move { app.put(&path, &definition).await }
    };
    let edited = put(&copy, deal_automation(5000)).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(edited.body["environment"], "sandbox", "{}", edited.text);
    assert_eq!(edited.body["shadows_id"], live.as_str());
    assert_eq!(edited.body["version"], 2);

    // With the live automation paused only the copy runs, and it runs dry.
    let paused = app
        .patch(
            &format!("/api/v1/automations/{live}"),
            &json!({"status": "paused"}),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    let on = app.post("/api/v1/sandbox/activate", &json!({})).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    let big = deal(&app, 9000).await;
    app.settle().await;
    let record = app.get(&format!("/api/v1/records/opportunity/{big}")).await;
    assert_eq!(record.status, StatusCode::OK, "{}", record.text);
    assert!(
        record.body["probability"].is_null(),
        "the sandbox copy changed a real record: {}",
        record.text
    );
    for id in [&copy, &live] {
        let diff = app
            .get(&format!("/api/v1/automations/{id}/shadow-diff"))
            .await;
        assert_eq!(diff.status, StatusCode::OK, "{}", diff.text);
    }

    // Moving an automation by an edit is refused, whatever the way of editing.
    let mut to_live = deal_automation(5000);
    to_live["environment"] = json!("live");
    let refused = put(&copy, to_live).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("promote"), "{}", refused.text);
    let refused = app
        .patch(
            &format!("/api/v1/automations/{copy}"),
            &json!({"environment": "live"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let mut to_sandbox = deal_automation(1000);
    to_sandbox["environment"] = json!("sandbox");
    let refused = put(&live, to_sandbox).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("sandbox copy"), "{}", refused.text);
    for (id, environment, version) in [(&copy, "sandbox", 2), (&live, "live", 1)] {
        let now = app.get(&format!("/api/v1/automations/{id}")).await;
        assert_eq!(now.body["environment"], environment, "{}", now.text);
        assert_eq!(now.body["version"], version, "{}", now.text);
    }
}

#[tokio::test]
async fn steps_fields_and_recipients_that_differ_are_named() {
    let app = TestApp::new().await;
    let live = create(&app, &deal_automation(1000)).await;
    let sandbox = copy_and_edit(&app, &live, |d| {
        d["actions"][0]["params"]["value"] = json!(60);
        d["actions"][1]["params"]["user_id"] = json!("u_boss");
        d["actions"].as_array_mut().unwrap().push(
            json!({"type": "create_task", "params": {"subject": "call", "assignee": "u_boss"}}),
        );
    })
    .await;
    app.post("/api/v1/sandbox/activate", &json!({})).await;
    let small = deal(&app, 10).await;
    let big = deal(&app, 2000).await;
    app.settle().await;
    let (items, last) = all_items(&app, &sandbox).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["record_id"], big.as_str());
    assert_ne!(items[0]["record_id"], small.as_str());
    assert_eq!(items[0]["sandbox"]["status"], "completed");
    assert_eq!(
        items[0]["differences"],
        json!([
            {"kind": "step", "step_id": "step_3", "taken_by": "sandbox"},
            {"kind": "field", "step_id": "step_1", "object": "opportunity", "field": "probability", "live": 50, "sandbox": 60},
            {"kind": "recipient", "step_id": "step_2", "live": ["user:u_sales"], "sandbox": ["user:u_boss"]}
        ])
    );
    assert_eq!(
        last["totals"],
        json!({"events": 1, "same": 0, "differing": 1, "matched_live_only": 0,
               "matched_sandbox_only": 0, "steps": 1, "fields": 1, "recipients": 1})
    );
}

#[tokio::test]
async fn copies_are_refused_where_they_make_no_sense() {
    let app = TestApp::new().await;
    let live = create(&app, &deal_automation(1000)).await;
    let no_copy = app
        .get(&format!("/api/v1/automations/{live}/shadow-diff"))
        .await;
    assert_eq!(no_copy.status, StatusCode::CONFLICT, "{}", no_copy.text);
    assert!(no_copy.text.contains("sandbox-copy"), "{}", no_copy.text);

    let mut def = deal_automation(1);
    def["environment"] = json!("sandbox");
    let lone = create(&app, &def).await;
    let copy_of_sandbox = app
        .post(
            &format!("/api/v1/automations/{lone}/sandbox-copy"),
            &json!({}),
        )
        .await;
    assert_eq!(copy_of_sandbox.status, StatusCode::CONFLICT);
    assert_eq!(copy_of_sandbox.error_code(), "conflict");
    let unlinked = app
        .get(&format!("/api/v1/automations/{lone}/shadow-diff"))
        .await;
    assert_eq!(unlinked.status, StatusCode::CONFLICT);

    let other = app.token("beta", &["admin"]).await;
    let cross = app
        .post_as(
            &other,
            &format!("/api/v1/automations/{live}/sandbox-copy"),
            &json!({}),
        )
        .await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    let cross_diff = app
        .get_as(&other, &format!("/api/v1/automations/{live}/shadow-diff"))
        .await;
    assert_eq!(cross_diff.status, StatusCode::NOT_FOUND);
    let missing = app
        .post("/api/v1/automations/aut_missing/sandbox-copy", &json!({}))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let copy = app
        .post(
            &format!("/api/v1/automations/{live}/sandbox-copy"),
            &json!({}),
        )
        .await;
    let copy_id = copy.body["id"].as_str().unwrap();
    let bad_cursor = app
        .get(&format!(
            "/api/v1/automations/{copy_id}/shadow-diff?cursor=evt_x"
        ))
        .await;
    assert_eq!(bad_cursor.status, StatusCode::BAD_REQUEST);
    let reader = app.token("default", &["automations:read"]).await;
    let forbidden = app
        .get_as(
            &reader,
            &format!("/api/v1/automations/{copy_id}/shadow-diff"),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    assert_eq!(
        app.delete(&format!("/api/v1/automations/{live}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let archived = app
        .post(
            &format!("/api/v1/automations/{live}/sandbox-copy"),
            &json!({}),
        )
        .await;
    assert_eq!(archived.status, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_copies_each_shadow_the_live_automation() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let live = create(&app, &deal_automation(1000)).await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let app = app.clone();
        let path = format!("/api/v1/automations/{live}/sandbox-copy");
        calls.spawn(async move { app.post(&path, &json!({})).await });
    }
    let mut ids = BTreeSet::new();
    while let Some(answer) = calls.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        assert_eq!(answer.body["shadows_id"], live.as_str());
        ids.insert(answer.body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 16);
    // The live automation is unchanged.
    let after = app.get(&format!("/api/v1/automations/{live}")).await;
    assert_eq!(after.body["version"], 1);
    assert_eq!(after.body["environment"], "live");
}
