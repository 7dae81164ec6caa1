//! The server checks `plugin` steps against the workspace's plugins (DESIGN §8): an input
//! property the manifest does not declare, or of the wrong type, is a 422 with the
//! diagnostic and a JSON pointer to the property; an unknown plugin too.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::api::install;
use crate::support::TestApp;

fn with_input(plugin: &str, input: Value) -> Value {
    json!({
        "name": "Score", "status": "active",
        "trigger": {"event": "lead.created"},
        "actions": [{"type": "plugin", "params": {"plugin": plugin, "input": input}}]
    })
}

fn diagnostic<'a>(body: &'a Value, code: &str) -> &'a Value {
    body["error"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {body}"))
}

#[tokio::test]
async fn plugin_input_is_checked_against_the_manifest() {
    let app = TestApp::new().await;
    install(&app, "lead-scorer").await;

    let typo = app
        .post(
            "/api/v1/automations",
            &with_input("lead-scorer", json!({"lead_id": "l_1", "lead_idd": "x"})),
        )
        .await;
    assert_eq!(
        typo.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        typo.text
    );
    let d = diagnostic(&typo.body, "E0112");
    assert_eq!(d["pointer"], "/actions/0/params/input/lead_idd", "{d}");
    assert_eq!(d["suggestion"], "lead_id", "{d}");

    let wrong = app
        .post(
            "/api/v1/automations/validate",
            &with_input("lead-scorer", json!({"lead_id": 42})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::OK, "{}", wrong.text);
    let d = wrong.body["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "E0201")
        .unwrap_or_else(|| panic!("{}", wrong.text))
        .clone();
    assert_eq!(d["pointer"], "/actions/0/params/input/lead_id", "{d}");

    let missing = app
        .post("/api/v1/automations", &with_input("lead-scorer", json!({})))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        diagnostic(&missing.body, "E0113")["pointer"],
        "/actions/0/params/input"
    );

    let unknown = app
        .post(
            "/api/v1/automations",
            &with_input("lead-scorr", json!({"lead_id": "l_1"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let d = diagnostic(&unknown.body, "E0111");
    assert_eq!(d["pointer"], "/actions/0/params/plugin", "{d}");
    assert_eq!(d["suggestion"], "lead-scorer", "{d}");

    // Another workspace does not see this workspace's plugin.
    let other = app.token("other", &["automations:write"]).await;
    let elsewhere = app
        .post_as(
            &other,
            "/api/v1/automations",
            &with_input("lead-scorer", json!({"lead_id": "l_1"})),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    diagnostic(&elsewhere.body, "E0111");

    let fine = app
        .post(
            "/api/v1/automations",
            &with_input("lead-scorer", json!({"lead_id": "{{ id }}"})),
        )
        .await;
    assert_eq!(fine.status, StatusCode::CREATED, "{}", fine.text);
}
