//! The audit log (`GET /api/v1/audit`): every audited change is recorded with who (the
//! token's id and name, never its secret), what and when, in the change's own transaction;
//! admin scope only; workspaces isolated; cursor pagination and filters; append-only.
//! Plugin uploads and grants are checked in `plugins::api`.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{ADMIN, Answer, SEED, TestApp};

/// Every entry of the caller's audit log matching `query` (`&name=value...`), newest first,
/// following the cursors.
async fn all_entries(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let limit = if query.contains("limit=") {
            ""
        } else {
            "&limit=500"
        };
        let mut path = format!("/api/v1/audit?{limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get_as(token, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        entries.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return entries,
        }
    }
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

/// The admin token's id, read from its own `token.create` entry (made at bootstrap).
async fn admin_token_id(app: &TestApp) -> String {
    let ws = app.engine().ensure_workspace("default").await.unwrap();
    let tokens = app.engine().tokens(&ws.id).await.unwrap();
    tokens
        .iter()
        .find(|t| t.name == "admin")
        .map(|t| t.id.clone())
        .unwrap()
}

#[tokio::test]
async fn each_change_is_recorded_with_who_and_what() {
    let app = TestApp::new().await;
    let admin_id = admin_token_id(&app).await;
    // Automations: create, update (PUT and PATCH), status, promote, delete.
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}");
    let mut seed: Value = serde_json::from_str(SEED).unwrap();
    seed["name"] = json!("renamed");
    let put = app.put(&path, &seed).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let patched = app.patch(&path, &json!({"description": "d"})).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let paused = app
        .post(&format!("{path}/status"), &json!({"status": "paused"}))
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    // Sandbox on and off, and a sandbox automation promoted.
    let mut sandboxed: Value = serde_json::from_str(SEED).unwrap();
    sandboxed["environment"] = json!("sandbox");
    let sandbox = app.post("/api/v1/automations", &sandboxed).await;
    assert_eq!(sandbox.status, StatusCode::CREATED, "{}", sandbox.text);
    let sandbox_id = sandbox.body["id"].as_str().unwrap().to_string();
    app.post("/api/v1/sandbox/activate", &json!({})).await;
    app.post("/api/v1/sandbox/deactivate", &json!({})).await;
    let promoted = app
        .post(
            &format!("/api/v1/automations/{sandbox_id}/promote"),
            &json!({}),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.text);
    let live_id = promoted.body["id"].as_str().unwrap().to_string();
    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    // A human task completed.
    let approval = app
        .post_raw(
            "/api/v1/automations",
            "application/json",
            crate::runs::APPROVAL,
        )
        .await;
    let approval_id = approval.body["id"].as_str().unwrap().to_string();
    app.post(
        "/api/v1/records/opportunity",
        &json!({"name": "big", "amount": 90000}),
    )
    .await;
    app.settle().await;
    let tasks = app.get("/api/v1/tasks").await;
    let task = &tasks.body["items"][0];
    let task_id = task["id"].as_str().unwrap().to_string();
    let done = app
        .post(
            &format!("/api/v1/tasks/{task_id}/complete"),
            &json!({"output": {"approved": true, "notes": "ok"}}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    // A token made and revoked (engine calls, as the CLI makes them).
    let ws = app.engine().ensure_workspace("default").await.unwrap();
    let reader = app.token("default", &["runs:read"]).await;
    let reader_id = app
        .engine()
        .verify_token(&reader)
        .await
        .unwrap()
        .unwrap()
        .id;
    let cli = automations_runtime::model::Actor::cli();
    app.engine()
        .revoke_token(&ws.id, &reader_id, &cli)
        .await
        .unwrap();
    // A custom field.
    let field = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "sla_hours", "type": "number"}),
        )
        .await;
    assert_eq!(field.status, StatusCode::CREATED, "{}", field.text);

    let entries = all_entries(&app, ADMIN, "").await;
    let mut got = actions(&entries);
    got.reverse();
    assert_eq!(
        got,
        vec![
            "token.create", // the admin token, at first start
            "automation.create",
            "automation.update",
            "automation.update",
            "automation.status",
            "automation.create",
            "sandbox.activate",
            "sandbox.deactivate",
            "automation.promote",
            "automation.delete",
            "automation.create",
            "task.complete",
            "token.create",
            "token.revoke",
            "schema.extend",
        ]
    );
    let by_action = |action: &str| -> Vec<&Value> {
        entries.iter().filter(|e| e["action"] == action).collect()
    };
    // Who: API changes name the token by id and name; first start and the CLI are not tokens.
    let api_actor = json!({"token_id": admin_id, "name": "admin"});
    for entry in &entries[..entries.len() - 1] {
        let action = entry["action"].as_str().unwrap();
        if action.starts_with("token.") {
            continue;
        }
        assert_eq!(entry["actor"], api_actor, "{entry}");
    }
    let first = entries.last().unwrap();
    assert_eq!(first["actor"], json!({"token_id": null, "name": "system"}));
    assert_eq!(by_action("token.revoke")[0]["actor"]["name"], "cli");
    assert_eq!(by_action("token.revoke")[0]["target"], reader_id);
    assert_eq!(
        by_action("token.create")[0]["details"]["scopes"],
        json!(["runs:read"])
    );
    // What: targets, kinds, versions and statuses.
    let updates = by_action("automation.update");
    assert_eq!(updates[0]["details"]["version"], 3);
    assert_eq!(updates[1]["details"]["version"], 2);
    assert!(
        updates
            .iter()
            .all(|e| e["target"] == id && e["kind"] == "automation")
    );
    let status = by_action("automation.status")[0];
    assert_eq!(status["details"]["status"], "paused");
    assert_eq!(status["details"]["previous"], "active");
    let deleted = by_action("automation.delete")[0];
    assert_eq!(deleted["target"], id);
    assert_eq!(deleted["details"]["status"], "archived");
    let promote = by_action("automation.promote")[0];
    assert_eq!(promote["target"], live_id);
    assert_eq!(promote["details"]["sandbox_id"], sandbox_id);
    assert_eq!(promote["details"]["version"], 1);
    assert_eq!(by_action("sandbox.activate")[0]["target"], ws.id);
    let completed = by_action("task.complete")[0];
    assert_eq!(completed["target"], task_id);
    assert_eq!(completed["kind"], "task");
    assert_eq!(completed["details"]["automation_id"], approval_id);
    let schema = by_action("schema.extend")[0];
    assert_eq!(schema["target"], ws.id);
    assert_eq!(
        schema["details"]["objects"]["case"]["fields"]["sla_hours"]["type"],
        "number"
    );
    for entry in &entries {
        assert!(entry["created_at"].is_string(), "{entry}");
        assert!(entry["id"].is_string(), "{entry}");
    }
    // Every field is documented (the OpenAPI mirror of an entry).
    let doc = app.get("/openapi.json").await.body;
    let documented = doc["components"]["schemas"]["AuditEntryDoc"]["properties"]
        .as_object()
        .unwrap()
        .clone();
    for key in entries[0].as_object().unwrap().keys() {
        assert!(documented.contains_key(key), "`{key}` is undocumented");
    }
    // Never a token's secret.
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains(ADMIN) && !text.contains(&reader), "{text}");
}

#[tokio::test]
async fn only_admin_tokens_read_it() {
    let app = TestApp::new().await;
    let everything_but_admin = [
        "automations:read",
        "automations:write",
        "runs:read",
        "runs:write",
        "records:read",
        "records:write",
        "tasks:write",
        "plugins:admin",
        "sandbox:admin",
    ];
    let token = app.token("default", &everything_but_admin).await;
    let answer = app.get_as(&token, "/api/v1/audit").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    assert_eq!(answer.error_code(), "forbidden");
    let anonymous = app.call(Method::GET, "/api/v1/audit", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let admin = app.token("default", &["admin"]).await;
    assert_eq!(
        app.get_as(&admin, "/api/v1/audit").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn other_workspaces_see_only_their_own() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let other = app.token("other", &["admin"]).await;
    let body = ("application/json", SEED.as_bytes().to_vec());
    let theirs = app
        .call(
            Method::POST,
            "/api/v1/automations",
            Some(&other),
            Some(body),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    let their_id = theirs.body["id"].as_str().unwrap().to_string();

    let seen = all_entries(&app, &other, "").await;
    // Their admin token's creation and their automation; nothing of `default`.
    assert_eq!(actions(&seen), vec!["automation.create", "token.create"]);
    assert_eq!(seen[0]["target"], their_id);
    let by_target = all_entries(&app, &other, &format!("&target={id}")).await;
    assert!(by_target.is_empty(), "{by_target:?}");
    let mine = all_entries(&app, ADMIN, "&kind=automation").await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["target"], id);
    // A cursor of another workspace names nothing here: 400.
    let their_entry = seen[0]["id"].as_str().unwrap();
    let answer = app
        .get(&format!("/api/v1/audit?cursor={their_entry}"))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
}

/// Sends `count` PATCHes at once (each on its own task), with `If-Match: "1"` or none.
async fn concurrent_patches(app: &TestApp, path: &str, count: usize, if_match: bool) -> usize {
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let mut builder = Request::builder()
                .method(Method::PATCH)
                .uri(path)
                .header("authorization", format!("Bearer {ADMIN}"))
                .header("content-type", "application/json");
            if if_match {
                builder = builder.header("if-match", "\"1\"");
            }
            let body = json!({ "description": format!("edit {i}") }).to_string();
            let request = builder.body(Body::from(body)).unwrap();
            let router = app.router.clone();
            tokio::spawn(async move { router.oneshot(request).await.unwrap().status() })
        })
        .collect();
    let mut ok = 0;
    for handle in handles {
        let status = handle.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "{status}"
        );
        ok += usize::from(status == StatusCode::OK);
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_audit_exactly_the_successful_ones() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}");
    let updates = format!("&action=automation.update&target={id}");

    let ok = concurrent_patches(&app, &path, 16, true).await;
    assert_eq!(ok, 1, "one If-Match winner");
    let entries = all_entries(&app, ADMIN, &updates).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["details"]["version"], 2);

    // Without If-Match every PATCH merges and succeeds: one entry each, versions 3..=18.
    let ok = concurrent_patches(&app, &path, 16, false).await;
    let entries = all_entries(&app, ADMIN, &updates).await;
    assert_eq!(entries.len(), 1 + ok, "{entries:?}");
    let mut versions: Vec<i64> = entries
        .iter()
        .map(|e| e["details"]["version"].as_i64().unwrap())
        .collect();
    versions.sort();
    let expected: Vec<i64> = (2..2 + entries.len() as i64).collect();
    assert_eq!(versions, expected, "one entry per version written");
}

#[tokio::test]
async fn pages_follow_cursors_and_filters_narrow() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let path = format!("/api/v1/automations/{id}");
    for i in 0..6 {
        let answer = app
            .patch(&path, &json!({"description": format!("v{i}")}))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let everything = all_entries(&app, ADMIN, "").await;
    assert_eq!(everything.len(), 8, "token, create, six updates");
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = "/api/v1/audit?limit=3".to_string();
        if let Some(c) = &cursor {
            query.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&query).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        paged.extend(items.iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(
        paged, everything,
        "pages concatenate to the whole log, newest first"
    );
    let ids: Vec<i64> = paged
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    let cases: &[(&str, usize)] = &[
        ("&kind=automation", 7),
        ("&kind=token", 1),
        ("&kind=task", 0),
        ("&action=automation.create", 1),
        ("&action=automation.update&limit=2", 6),
    ];
    for (query, expected) in cases {
        let got = all_entries(&app, ADMIN, query).await;
        assert_eq!(got.len(), *expected, "{query}: {got:?}");
    }
    let bad: &[(&str, &str)] = &[
        ("?kind=automations", "unknown kind `automations`"),
        (
            "?action=automation.edit",
            "unknown action `automation.edit`",
        ),
        ("?cursor=nope", "unknown cursor"),
        ("?cursor=999999", "unknown cursor"),
        ("?limit=0", "limit"),
        ("?colour=red", "colour"),
    ];
    for (query, fragment) in bad {
        let answer: Answer = app.get(&format!("/api/v1/audit{query}")).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            answer.text
        );
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(fragment), "{query}: {message}");
    }
}

#[tokio::test]
async fn the_log_is_append_only() {
    let app = TestApp::new().await;
    app.create_seed().await;
    for statement in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ] {
        let err = app.execute_outside(statement).await.expect_err(statement);
        assert!(err.contains("append-only"), "{err}");
    }
    assert_eq!(all_entries(&app, ADMIN, "").await.len(), 2);
}

#[tokio::test]
async fn refused_changes_leave_no_entry() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let before = all_entries(&app, ADMIN, "").await;
    let path = format!("/api/v1/automations/{id}");
    let invalid = app
        .patch(&path, &json!({"trigger": {"event": "case.nope"}}))
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let stale = app.call(Method::DELETE, &path, Some(ADMIN), None).await;
    assert_eq!(stale.status, StatusCode::NO_CONTENT);
    let archived = app.patch(&path, &json!({"description": "x"})).await;
    assert_eq!(archived.status, StatusCode::CONFLICT);
    let after = all_entries(&app, ADMIN, "").await;
    assert_eq!(after.len(), before.len() + 1, "only the delete: {after:?}");
    assert_eq!(after[0]["action"], "automation.delete");
}
