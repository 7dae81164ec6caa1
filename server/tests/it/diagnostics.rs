//! Compiler diagnostics reach API clients whole: through the runtime's hooks and errors
//! (the engine compiling a definition) into the 422 with code, severity, notes,
//! did-you-mean, line/column and JSON pointer; the server's own check agrees.

use automations_compiler::codes;
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::ir::Span;
use automations_compiler::sourced::{DiagnosticSource, SourcedDiagnostics};
use automations_runtime::RuntimeError;
use automations_server::error::ApiError;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::support::TestApp;

async fn answer_of(err: RuntimeError) -> (StatusCode, Value) {
    let response = ApiError::from(err).into_response();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_diagnostic_with_notes_crosses_the_runtime_error_intact() {
    let text = "automation \"x\" {\n  when case.created\n  do { notify_user(user_id: \"u\", message: \"m\") }\n}\n";
    let start = text.find("case.created").unwrap();
    let d = Diagnostic::error(
        codes::UNKNOWN_EVENT,
        "a test diagnostic",
        Span::new(start, start + 12),
    )
    .with_note("first note")
    .with_note("second note")
    .with_suggestion("case.updated")
    .with_label(Span::new(start - 5, start - 1), "the keyword");
    let err = RuntimeError::Definition {
        message: "E0103: a test diagnostic".into(),
        diagnostics: Box::new(SourcedDiagnostics::new(
            DiagnosticSource::dsl(text),
            vec![d],
        )),
    };
    let (status, body) = answer_of(err).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "invalid_definition");
    assert_eq!(
        body["error"]["diagnostics"],
        json!([{
            "code": "E0103", "severity": "error", "message": "a test diagnostic",
            "line": 2, "column": 8, "end_line": 2, "end_column": 20,
            "suggestion": "case.updated", "notes": ["first note", "second note"],
            "labels": [{"message": "the keyword", "line": 2, "column": 3, "end_line": 2, "end_column": 7}]
        }])
    );
}

#[tokio::test]
async fn the_engine_compilers_diagnostics_reach_the_422_with_pointer_and_note() {
    let app = TestApp::new().await;
    let ws = app.engine().ensure_workspace("default").await.unwrap();
    let definition = json!({
        "name": "typo",
        "trigger": {"event": "case.created", "conditions": "priorty == 'critical'"},
        "actions": [{"type": "notify_user", "params": {"user_id": "u", "mesage": "m"}}]
    });
    let err = app
        .engine()
        .create_automation(&ws.id, definition.clone())
        .await
        .unwrap_err();
    let (status, body) = answer_of(err).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let diagnostics = body["error"]["diagnostics"].as_array().unwrap();
    let field = diagnostics
        .iter()
        .find(|d| d["code"] == "E0101")
        .expect("unknown field");
    assert_eq!(field["notes"], json!(["did you mean `priority`?"]));
    assert_eq!(field["suggestion"], "priority");
    assert_eq!(field["pointer"], "/trigger/conditions");
    assert!(field["line"].as_u64().unwrap() > 1, "{field}");
    assert!(field["column"].as_u64().unwrap() > 1, "{field}");
    let param = diagnostics
        .iter()
        .find(|d| d["code"] == "E0105")
        .expect("unknown param");
    assert_eq!(param["pointer"], "/actions/0/params/mesage");
    assert_eq!(param["suggestion"], "message");

    // The same definition sent to the API is checked by the server first: same findings.
    let posted = app.post("/api/v1/automations", &definition).await;
    assert_eq!(posted.status, StatusCode::UNPROCESSABLE_ENTITY);
    let same = posted.body["error"]["diagnostics"].as_array().unwrap();
    assert_eq!(same.len(), diagnostics.len(), "{}", posted.text);
    for (a, b) in same.iter().zip(diagnostics) {
        for key in [
            "code",
            "severity",
            "message",
            "notes",
            "suggestion",
            "pointer",
        ] {
            assert_eq!(a[key], b[key], "{key}: {a} vs {b}");
        }
    }
}

#[tokio::test]
async fn an_unknown_status_is_a_placed_invalid_value() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    let answer = app
        .post(
            &format!("/api/v1/automations/{id}/status"),
            &json!({"status": "actve"}),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    let d = &answer.body["error"]["diagnostics"][0];
    assert_eq!(d["code"], codes::INVALID_VALUE);
    assert_eq!(d["pointer"], "/status");
    assert_eq!(d["suggestion"], "active");
}

#[tokio::test]
async fn labels_are_placed_like_their_diagnostic() {
    let app = TestApp::new().await;
    let text = "automation \"x\" {\n  when case.created\n  if priority == \"high\" and (status == \"new\"\n  do { notify_user(user_id: \"u\", message: \"m\") }\n}\n";
    let answer = app
        .post_raw("/api/v1/automations/validate", "text/plain", text)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let d = answer.body["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == codes::SYNTAX)
        .unwrap_or_else(|| panic!("{}", answer.text))
        .clone();
    assert!(d["message"].as_str().unwrap().contains("unclosed"), "{d}");
    let column = text.lines().nth(2).unwrap().find('(').unwrap() as u64 + 1;
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(column)),
        "{d}"
    );
    let label = &d["labels"][0];
    assert!(
        label["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{d}"
    );
    assert!(label["line"].as_u64().unwrap() >= 3, "{d}");
}
