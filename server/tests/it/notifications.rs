//! Built-in actions that talk to people, end to end through the API on a real SQLite file:
//! `create_task`, `send_notification` on `email` and `in_app`, `notify_user`; the
//! notifications list (per user, unread first, cursor pages) and marking read; and that
//! `draft` and `paused` automations never trigger.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{ADMIN, TestApp};

async fn user(app: &TestApp, id: &str) {
    let answer = app
        .post(
            "/api/v1/records/user",
            &json!({"id": id, "name": id, "email": format!("{id}@example.com"), "active": true}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
}

async fn case(app: &TestApp, subject: &str, priority: &str) -> String {
    let answer = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": subject, "priority": priority}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.body["id"].as_str().unwrap().to_string()
}

async fn automation(app: &TestApp, status: &str, actions: Value) -> String {
    let definition = json!({
        "name": format!("people ({status})"),
        "status": status,
        "trigger": {"event": "case.created", "conditions": {"priority": "critical"}},
        "actions": actions,
    });
    let answer = app.post("/api/v1/automations", &definition).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.body["id"].as_str().unwrap().to_string()
}

fn people_actions() -> Value {
    json!([
        {"id": "task", "type": "create_task", "params": {
            "subject": "Call back: {{ subject }}", "assignee": "usr_1",
            "due": "2030-01-01T09:00:00Z", "description": "Priority {{ priority }}"}},
        {"id": "mail", "type": "send_notification", "params": {
            "channel": "email", "message": "Critical case: {{ subject }}", "target": "oncall@example.com"}},
        {"id": "app", "type": "send_notification", "params": {
            "channel": "in_app", "message": "Look at {{ subject }}", "target": "usr_1"}},
        {"id": "fyi", "type": "notify_user", "params": {
            "user_id": "usr_2", "message": "Task {{ steps.task.output.id }} was created"}}
    ])
}

fn items(answer: &crate::support::Answer) -> Vec<Value> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn create_task_email_and_in_app_notifications_run_end_to_end() {
    let app = TestApp::new().await;
    user(&app, "usr_1").await;
    user(&app, "usr_2").await;
    let id = automation(&app, "active", people_actions()).await;
    let case_id = case(&app, "VPN down", "critical").await;
    case(&app, "Printer jam", "low").await;
    app.settle().await;

    let runs = items(&app.get(&format!("/api/v1/automations/{id}/runs")).await);
    assert_eq!(runs.len(), 1, "only the critical case matches");
    let run = &runs[0];
    assert_eq!(run["status"], "completed", "{run}");
    let kinds: Vec<&Value> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["effects"][0]["kind"])
        .collect();
    assert_eq!(
        kinds,
        [
            &json!("record.create"),
            &json!("email"),
            &json!("notification"),
            &json!("notification")
        ]
    );

    // The task record, shaped by the catalog, about the case.
    let tasks = items(&app.get("/api/v1/records/task").await);
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    let task_id = task["id"].as_str().unwrap();
    assert_eq!(run["steps"][0]["output"]["id"], task["id"]);
    let fields = if task.get("fields").is_some() {
        &task["fields"]
    } else {
        task
    };
    assert_eq!(fields["subject"], "Call back: VPN down");
    assert_eq!(fields["status"], "open");
    assert_eq!(fields["assignee_id"], "usr_1");
    assert_eq!(fields["description"], "Priority critical");
    assert_eq!(fields["related_object"], "case");
    assert_eq!(fields["related_id"], case_id.as_str());
    assert!(
        fields["due"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-01T09:00:00")
    );

    // The email went through the outbox to the local mailbox.
    let mail = items(&app.get("/api/v1/outbox?kind=email").await);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["status"], "delivered", "{}", mail[0]);
    assert_eq!(mail[0]["payload"]["to"], json!(["oncall@example.com"]));
    assert_eq!(mail[0]["payload"]["body"], "Critical case: VPN down");
    assert_eq!(run["steps"][1]["output"]["outbox_id"], mail[0]["id"]);

    // Each user sees their own notifications.
    let mine = items(&app.get("/api/v1/notifications?user_id=usr_1").await);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["message"], "Look at VPN down");
    assert_eq!(mine[0]["read"], false);
    assert_eq!(mine[0]["run_id"], run["id"]);
    assert_eq!(mine[0]["step_id"], "app");
    let theirs = items(&app.get("/api/v1/notifications?user_id=usr_2").await);
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["message"], format!("Task {task_id} was created"));
    assert_eq!(items(&app.get("/api/v1/notifications").await).len(), 2);
}

#[tokio::test]
async fn notifications_page_unread_first_and_are_marked_read_once() {
    let app = TestApp::new().await;
    user(&app, "usr_1").await;
    let actions = json!([{"type": "notify_user", "params": {"user_id": "usr_1", "message": "{{ subject }}"}}]);
    automation(&app, "active", actions).await;
    for n in 0..5 {
        case(&app, &format!("case {n}"), "critical").await;
        // Distinct creation times keep "newest first" unambiguous.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    app.settle().await;
    let all = items(&app.get("/api/v1/notifications?user_id=usr_1").await);
    let messages: Vec<&str> = all.iter().map(|n| n["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["case 4", "case 3", "case 2", "case 1", "case 0"]);

    // Mark two read, the second one 16 times at once: one read_at, every answer 200.
    let first = all[4]["id"].as_str().unwrap().to_string();
    let second = all[1]["id"].as_str().unwrap().to_string();
    let read = app
        .post(&format!("/api/v1/notifications/{first}/read"), &json!({}))
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.body["read"], true);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let router = app.router.clone();
        let request = Request::post(format!("/api/v1/notifications/{second}/read"))
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .body(Body::empty())
            .unwrap();
        calls.spawn(async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        });
    }
    let mut times = std::collections::BTreeSet::new();
    while let Some(done) = calls.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        times.insert(body["read_at"].as_str().unwrap().to_string());
    }
    assert_eq!(times.len(), 1, "read once: {times:?}");
    let again = app
        .post(&format!("/api/v1/notifications/{first}/read"), &json!({}))
        .await;
    assert_eq!(again.body["read_at"], read.body["read_at"]);

    // Unread first (newest first), then read (newest first), in pages of two.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/notifications?user_id=usr_1&limit=2".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path).await;
        for n in items(&page) {
            seen.push(n["message"].as_str().unwrap().to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["case 4", "case 2", "case 1", "case 3", "case 0"]);
    let unread = items(
        &app.get("/api/v1/notifications?user_id=usr_1&unread=true")
            .await,
    );
    assert_eq!(unread.len(), 3);

    let all_read = app
        .post("/api/v1/notifications/read", &json!({"user_id": "usr_1"}))
        .await;
    assert_eq!(all_read.body, json!({"marked": 3}), "{}", all_read.text);
    assert!(items(&app.get("/api/v1/notifications?unread=true").await).is_empty());

    // Bad input: unknown cursor, unknown id, another workspace's id, wrong body.
    let bad_cursor = app.get("/api/v1/notifications?cursor=ntf_nope").await;
    assert_eq!(bad_cursor.status, StatusCode::BAD_REQUEST);
    let unknown = app
        .post("/api/v1/notifications/ntf_nope/read", &json!({}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let other = app.token("other", &["admin"]).await;
    let foreign = app
        .post_as(
            &other,
            &format!("/api/v1/notifications/{first}/read"),
            &json!({}),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(items(&app.get_as(&other, "/api/v1/notifications").await).is_empty());
    let no_user = app.post("/api/v1/notifications/read", &json!({})).await;
    assert_eq!(no_user.status, StatusCode::BAD_REQUEST, "{}", no_user.text);
    let reader = app.token("default", &["records:read"]).await;
    let denied = app.get_as(&reader, "/api/v1/notifications").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn draft_and_paused_automations_never_trigger() {
    let app = TestApp::new().await;
    user(&app, "usr_1").await;
    user(&app, "usr_2").await;
    let draft = automation(&app, "draft", people_actions()).await;
    let paused = automation(&app, "paused", people_actions()).await;
    for n in 0..3 {
        case(&app, &format!("critical {n}"), "critical").await;
    }
    app.settle().await;
    for id in [&draft, &paused] {
        assert!(items(&app.get(&format!("/api/v1/automations/{id}/runs")).await).is_empty());
    }
    assert!(items(&app.get("/api/v1/records/task").await).is_empty());
    assert!(items(&app.get("/api/v1/outbox").await).is_empty());
    assert!(items(&app.get("/api/v1/notifications").await).is_empty());

    // Activated, the draft runs on the next event (and not on the earlier ones).
    let activated = app
        .post(
            &format!("/api/v1/automations/{draft}/status"),
            &json!({"status": "active"}),
        )
        .await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.text);
    case(&app, "after activation", "critical").await;
    app.settle().await;
    let runs = items(&app.get(&format!("/api/v1/automations/{draft}/runs")).await);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "completed", "{}", runs[0]);
    assert!(items(&app.get(&format!("/api/v1/automations/{paused}/runs")).await).is_empty());
}
