//! Lists (§12.1): newest first, `limit` + `cursor` pages that cover everything once, and an
//! unknown cursor is a 400, for automations, versions, runs, tasks and the outbox; an empty
//! cursor is the first page on every list.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::runs::APPROVAL;
use crate::support::TestApp;

/// Every page of `path` (which has no query yet) with `limit=2`; checks the page sizes.
async fn all_pages(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let url = match &cursor {
            None => format!("{path}?limit=2"),
            Some(c) => format!("{path}?limit=2&cursor={c}"),
        };
        let page = app.get(&url).await;
        assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.text);
        let got = page.body["items"].as_array().unwrap().clone();
        assert!(got.len() <= 2, "{}", page.text);
        items.extend(got);
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
    panic!("{path}: the cursors never end")
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn named(name: &str) -> Value {
    json!({"name": name, "trigger": {"event": "case.created"},
        "actions": [{"type": "update_field", "params": {"field": "status", "value": "open"}}]})
}

#[tokio::test]
async fn automations_list_newest_first_in_pages() {
    let app = TestApp::new().await;
    let mut created = Vec::new();
    for name in ["first", "second", "third"] {
        let answer = app.post("/api/v1/automations", &named(name)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        created.push(answer.body["id"].as_str().unwrap().to_string());
    }
    let page = app.get("/api/v1/automations?limit=2").await;
    let names: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["third", "second"], "{}", page.text);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/api/v1/automations?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest.body["items"][0]["name"], "first", "{}", rest.text);
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    created.reverse();
    assert_eq!(ids(&all_pages(&app, "/api/v1/automations").await), created);
    let unknown = app.get("/api/v1/automations?cursor=aut_nope").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
}

#[tokio::test]
async fn versions_list_newest_version_first() {
    let app = TestApp::new().await;
    let created = app.post("/api/v1/automations", &named("v")).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    for name in ["v2", "v3"] {
        let answer = app
            .put(&format!("/api/v1/automations/{id}"), &named(name))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let versions = all_pages(&app, &format!("/api/v1/automations/{id}/versions")).await;
    let numbers: Vec<i64> = versions
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
}

#[tokio::test]
async fn runs_tasks_and_outbox_list_newest_first_in_pages() {
    let app = TestApp::new().await;
    let seed = app.create_seed().await;
    let approval = app
        .post_raw("/api/v1/automations", "application/json", APPROVAL)
        .await;
    assert_eq!(approval.status, StatusCode::CREATED, "{}", approval.text);
    for n in 0..3 {
        let case = json!({"subject": format!("case {n}"), "priority": "critical"});
        assert_eq!(
            app.post("/api/v1/records/case", &case).await.status,
            StatusCode::CREATED
        );
        let deal = json!({"name": format!("deal {n}"), "amount": 60000 + n});
        assert_eq!(
            app.post("/api/v1/records/opportunity", &deal).await.status,
            StatusCode::CREATED
        );
        // Distinct creation instants, so that newest-first is observable.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        app.settle().await;
    }

    let runs = all_pages(&app, &format!("/api/v1/automations/{seed}/runs")).await;
    assert_eq!(runs.len(), 3);
    newest_first(&runs, "created_at");
    let tasks = all_pages(&app, "/api/v1/tasks").await;
    assert_eq!(tasks.len(), 3);
    newest_first(&tasks, "created_at");
    let titles: Vec<&str> = tasks.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        ["Approve deal 2", "Approve deal 1", "Approve deal 0"]
    );
    let outbox = all_pages(&app, "/api/v1/outbox").await;
    assert_eq!(outbox.len(), 3);
    newest_first(&outbox, "created_at");

    for path in [
        format!("/api/v1/automations/{seed}/runs?cursor=run_nope"),
        "/api/v1/tasks?cursor=tsk_nope".to_string(),
        "/api/v1/outbox?cursor=obx_nope".to_string(),
    ] {
        let answer = app.get(&path).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.text
        );
    }
}

/// Items are ordered by the time in `field`, then id, newest first, without repeats.
fn newest_first(items: &[Value], field: &str) {
    let keys: Vec<(chrono::DateTime<chrono::FixedOffset>, String)> = items
        .iter()
        .map(|i| {
            let at = i[field]
                .as_str()
                .unwrap_or_else(|| panic!("no {field} in {i}"));
            let at = chrono::DateTime::parse_from_rfc3339(at).unwrap();
            (at, i["id"].as_str().unwrap().to_string())
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.reverse();
    sorted.dedup();
    assert_eq!(keys, sorted);
}

/// Every list the OpenAPI document gives a `cursor` reads it alike: an empty `?cursor=`
/// is the first page (as no cursor), and a cursor that names nothing is a 400
/// `invalid_query`.
#[tokio::test]
async fn every_list_reads_its_cursor_alike() {
    let app = TestApp::new().await;
    let seed = app.create_seed().await;
    // The seed's shadow diff needs a sandbox copy to compare with.
    app.sandbox_copy(&seed).await;
    let case = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "cursor", "priority": "critical"}),
        )
        .await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text);
    let case_id = case.body["id"].as_str().unwrap().to_string();
    app.settle().await;
    let doc = app.get("/openapi.json").await.body;
    let mut lists = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        if params
            .iter()
            .any(|p| p["in"] == "query" && p["name"] == "cursor")
        {
            let id = if path.starts_with("/api/v1/records/") {
                &case_id
            } else {
                &seed
            };
            lists.push(path.replace("{object}", "case").replace("{id}", id));
        }
    }
    assert!(lists.len() > 10, "the lists were found: {lists:?}");
    for path in &lists {
        let first = app.get(&format!("{path}?limit=3")).await;
        assert_eq!(first.status, StatusCode::OK, "{path}: {}", first.text);
        for empty in ["?limit=3&cursor=", "?cursor&limit=3", "?cursor=&limit=3"] {
            let answer = app.get(&format!("{path}{empty}")).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{path}{empty}: {}",
                answer.text
            );
            assert_eq!(answer.body, first.body, "{path}{empty}");
        }
        let unknown = app.get(&format!("{path}?cursor=no_such_item")).await;
        assert_eq!(
            unknown.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            unknown.text
        );
        assert_eq!(unknown.error_code(), "invalid_query", "{path}");
        assert_eq!(unknown.body["error"]["message"], "unknown cursor", "{path}");
    }
}
