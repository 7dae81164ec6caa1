//! The embedded web UI at `/` (SPA fallback, assets, headers) and `POST
//! /automations/format`, the JSON <-> DSL conversion its DSL tab uses.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{ADMIN, TestApp};

#[tokio::test]
async fn pages_answer_the_ui_and_the_api_keeps_json_404s() {
    let app = TestApp::new().await;
    for path in [
        "/",
        "/automations/new",
        "/automations/aut_1/edit",
        "/tasks",
        "/sandbox?x=1",
    ] {
        let answer = app.call(Method::GET, path, None, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(
            answer.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(answer.text.contains("<div id=\"root\">"), "{path}");
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-cache");
        assert_eq!(answer.headers[header::REFERRER_POLICY], "no-referrer");
    }
    // The API, other methods and missing files keep the JSON 404.
    for (method, path) in [
        (Method::GET, "/api/v1/nothing-here"),
        (Method::GET, "/api"),
        (Method::POST, "/automations"),
        (Method::GET, "/assets/missing.js"),
        (Method::GET, "/logo.png"),
    ] {
        let answer = app.call(method.clone(), path, Some(ADMIN), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(answer.error_code(), "not_found", "{method} {path}");
    }
}

#[tokio::test]
async fn assets_named_by_the_page_are_served_with_their_type_and_cached() {
    let app = TestApp::new().await;
    let index = app.call(Method::GET, "/", None, None).await.text;
    let assets: Vec<&str> = index
        .split('"')
        .filter(|p| p.starts_with("/assets/"))
        .collect();
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{index}");
    assert!(assets.iter().any(|a| a.ends_with(".css")), "{index}");
    for asset in assets {
        let answer = app.call(Method::GET, asset, None, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{asset}");
        let expected = if asset.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(answer.headers[header::CONTENT_TYPE], expected);
        assert!(
            answer.headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert!(
            answer.text.len() > 1000,
            "{asset} is {} bytes",
            answer.text.len()
        );
    }
    let icon = app.call(Method::GET, "/favicon.svg", None, None).await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.headers[header::CONTENT_TYPE], "image/svg+xml");
}

fn examples() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let value: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            if value.get("trigger").is_some() {
                out.push((path.display().to_string(), value));
            }
        }
    }
    assert!(out.len() >= 9, "examples: {}", out.len());
    out
}

#[tokio::test]
async fn format_turns_every_example_into_dsl_and_back() {
    let app = TestApp::new().await;
    for (name, definition) in examples() {
        let from_json = app.post("/api/v1/automations/format", &definition).await;
        assert_eq!(
            from_json.status,
            StatusCode::OK,
            "{name}: {}",
            from_json.text
        );
        assert_eq!(
            from_json.body["definition"], definition,
            "{name} is canonical JSON"
        );
        let dsl = from_json.body["dsl"].as_str().unwrap();
        assert!(dsl.starts_with("automation \""), "{name}: {dsl}");
        let from_dsl = app
            .post_raw("/api/v1/automations/format", "text/plain", dsl)
            .await;
        assert_eq!(from_dsl.status, StatusCode::OK, "{name}: {}", from_dsl.text);
        assert_eq!(
            from_dsl.body["definition"], definition,
            "{name} through DSL"
        );
        assert_eq!(from_dsl.body["dsl"], dsl, "{name}: the DSL is canonical");
    }
}

#[tokio::test]
async fn format_keeps_the_builder_layout_through_the_dsl() {
    let app = TestApp::new().await;
    let definition = json!({
        "name": "Laid out",
        "status": "draft",
        "trigger": {"event": "case.created"},
        "actions": [{"type": "assign_to_queue", "params": {"queue_id": "q"}}],
        "layout": {"trigger": {"x": -40, "y": 0}, "steps": {"step_1": {"x": 105.5, "y": 240}}}
    });
    let answer = app.post("/api/v1/automations/format", &definition).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let dsl = answer.body["dsl"].as_str().unwrap();
    assert!(dsl.contains("layout {"), "{dsl}");
    let back = app
        .post_raw("/api/v1/automations/format", "text/plain", dsl)
        .await;
    assert_eq!(back.body["definition"], definition, "{}", back.text);
}

#[tokio::test]
async fn format_keeps_typos_and_reports_what_cannot_be_read() {
    let app = TestApp::new().await;
    // Names are validate's business: a typo still formats.
    let typo = json!({"name": "t", "trigger": {"event": "case.created", "conditions": "priorty == 'critical'"}, "actions": []});
    let answer = app.post("/api/v1/automations/format", &typo).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(
        answer.body["dsl"]
            .as_str()
            .unwrap()
            .contains("if priorty == \"critical\"")
    );

    // What cannot be read answers its diagnostics (the DSL tab asks while the user types).
    let unreadable = |answer: &crate::support::Answer| {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.body["dsl"], Value::Null);
        assert_eq!(answer.body["definition"], Value::Null);
        answer.body["diagnostics"][0].clone()
    };
    let broken = "automation \"a\" {\n  when case.created\n  if priority ==\n  do {}\n}\n";
    let answer = app
        .post_raw("/api/v1/automations/format", "text/plain", broken)
        .await;
    let first = unreadable(&answer);
    assert_eq!(first["code"], "E0001", "{first}");
    assert_eq!(first["line"], 4, "{first}");

    let two = "automation \"a\" { when case.created do {} }\nautomation \"b\" { when case.created do {} }\n";
    let answer = app
        .post_raw("/api/v1/automations/format", "text/plain", two)
        .await;
    assert_eq!(unreadable(&answer)["code"], "E0004");

    let answer = app
        .post_raw(
            "/api/v1/automations/format",
            "application/json",
            "{\"name\": ",
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error_code(), "malformed_json");

    let shape =
        json!({"name": "x", "trigger": {"event": "case.created"}, "actions": [{"type": 5}]});
    let answer = app.post("/api/v1/automations/format", &shape).await;
    assert_eq!(unreadable(&answer)["pointer"], "/actions/0/type");

    let anonymous = app
        .call(
            Method::POST,
            "/api/v1/automations/format",
            None,
            Some(("application/json", typo.to_string().into_bytes())),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn format_handles_big_definitions_and_concurrent_calls() {
    let app = TestApp::new().await;
    // 1,000 times the seed's two actions.
    let actions: Vec<Value> = (0..2000)
        .map(|i| json!({"type": "send_notification", "params": {"channel": "slack", "message": format!("note {i}")}}))
        .collect();
    let big = json!({"name": "big", "status": "draft", "trigger": {"event": "case.created", "conditions": {"priority": "critical"}}, "actions": actions});
    let started = std::time::Instant::now();
    let answer = app.post("/api/v1/automations/format", &big).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["definition"], big);
    let dsl = answer.body["dsl"].as_str().unwrap();
    assert_eq!(dsl.matches("send_notification(").count(), 2000);
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());

    // A body over the limit is a 413, as on every endpoint.
    let huge = "x".repeat(app_body_limit() + 1);
    let answer = app
        .post_raw("/api/v1/automations/format", "text/plain", huge)
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);

    // 16 identical calls at once answer the same.
    let app = std::sync::Arc::new(app);
    let seed: Value = serde_json::from_str(crate::support::SEED).unwrap();
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let (app, seed) = (app.clone(), seed.clone());
            tokio::spawn(async move { app.post("/api/v1/automations/format", &seed).await })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap());
    }
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body, answers[0].body);
    }
}

fn app_body_limit() -> usize {
    automations_server::ApiConfig::default().body_limit
}

/// The UI's unit tests type-check action params against `web/src/model/test_data/
/// actions.json`; it must be what `GET /schema` answers. `UPDATE_UI_FIXTURES=1` rewrites it.
#[tokio::test]
async fn the_ui_test_catalog_is_the_schema_catalog() {
    let app = TestApp::new().await;
    let schema = app.get("/api/v1/schema").await;
    assert_eq!(schema.status, StatusCode::OK);
    let actions = &schema.body["actions"];
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../web/src/model/test_data/actions.json"
    );
    let text = serde_json::to_string_pretty(actions).unwrap() + "\n";
    if std::env::var_os("UPDATE_UI_FIXTURES").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        &fixture, actions,
        "web/src/model/test_data/actions.json is stale: run this test with UPDATE_UI_FIXTURES=1"
    );
}

/// JSON takes any text as an action type, a step id or a param name; the DSL writes them
/// bare. A name it cannot spell answers a diagnostic at that name, never DSL text that
/// does not parse back.
#[tokio::test]
async fn format_refuses_names_the_dsl_cannot_spell() {
    let app = TestApp::new().await;
    let cases = [
        (
            json!({"name": "a", "trigger": {"event": "case.created"},
                "actions": [{"type": "send-email", "params": {}}]}),
            "/actions/0/type",
            "the action `send-email`",
        ),
        (
            json!({"name": "a", "trigger": {"event": "case.created"},
                "actions": [{"type": "a|b", "params": {}}]}),
            "/actions/0/type",
            "the action `a|b`",
        ),
        (
            json!({"name": "a", "trigger": {"event": "case.created"},
                "actions": [{"type": "when", "params": {}}]}),
            "/actions/0/type",
            "the action `when`",
        ),
        (
            json!({"name": "a", "trigger": {"event": "case.created"},
                "actions": [{"type": "notify_user", "params": {"user id": "u", "message": "m"}}]}),
            "/actions/0/params/user id",
            "the param `user id`",
        ),
        (
            json!({"name": "a", "trigger": {"event": "case created"}, "actions": []}),
            "/trigger/event",
            "the trigger event `case created`",
        ),
    ];
    for (definition, pointer, named) in cases {
        let answer = app.post("/api/v1/automations/format", &definition).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.body["dsl"], Value::Null, "{}", answer.text);
        let first = &answer.body["diagnostics"][0];
        assert_eq!(first["code"], "E0005", "{first}");
        assert_eq!(first["pointer"], pointer, "{first}");
        let message = first["message"].as_str().unwrap();
        assert!(message.starts_with(named), "{message}");
        assert!(message.contains("has no DSL form"), "{message}");
    }
    // A spellable unknown action still formats (names are validate's business) and its
    // DSL parses back to the same definition.
    let unknown = json!({"name": "a", "status": "draft", "trigger": {"event": "case.created"},
        "actions": [{"type": "send_emial", "params": {"to": "x"}}]});
    let answer = app.post("/api/v1/automations/format", &unknown).await;
    let dsl = answer.body["dsl"].as_str().unwrap();
    let back = app
        .post_raw("/api/v1/automations/format", "text/plain", dsl)
        .await;
    assert_eq!(back.body["definition"], unknown, "{}", back.text);
}
