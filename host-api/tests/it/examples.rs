//! The example plugins against the in-memory host: effects applied live,
//! recorded (not applied) in dry-run; capability denials reach the plugin.

use crate::support::*;
use automations_host_api::net::{HttpClient, HttpConfig};
use automations_host_api::testing::MemoryHost;
use automations_host_api::{HttpMock, HttpResponse, PluginError};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn lead_scorer_reads_lead_and_account_and_writes_the_score() {
    let plugin = plugin("lead-scorer");
    let host = crm_host();
    let out = plugin
        .call(
            host.clone(),
            &ctx_for(&plugin),
            &json!({"lead_id": "lead1"}),
        )
        .unwrap();
    assert_eq!(out.output, json!({"lead_id": "lead1", "score": 100}));
    assert_eq!(out.host_calls, 3, "get lead, get account, update lead");
    assert_eq!(host.record("lead", "lead1").unwrap()["score"], 100);
    let effects = host.effects();
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].kind, "record.update");
    assert!(effects[0].applied);
}

#[test]
fn lead_scorer_in_dry_run_records_without_writing() {
    let plugin = plugin("lead-scorer");
    let host = crm_host();
    let ctx = automations_host_api::CallContext {
        dry_run: true,
        ..ctx_for(&plugin)
    };
    let out = plugin
        .call(host.clone(), &ctx, &json!({"lead_id": "lead1"}))
        .unwrap();
    assert_eq!(out.output["score"], 100);
    assert!(
        host.record("lead", "lead1").unwrap().get("score").is_none(),
        "not written"
    );
    let effects = host.effects();
    assert_eq!(effects.len(), 1);
    assert!(!effects[0].applied);
    assert_eq!(effects[0].payload["fields"]["score"], 100);
}

#[test]
fn missing_admin_grant_is_a_clear_error_to_the_plugin() {
    let plugin = plugin("lead-scorer");
    let host = crm_host();
    let ctx = automations_host_api::CallContext {
        granted: grants(&["records:read:lead", "records:read:account"]),
        ..ctx_for(&plugin)
    };
    let err = plugin
        .call(host.clone(), &ctx, &json!({"lead_id": "lead1"}))
        .unwrap_err();
    let PluginError::Guest(message) = &err else {
        panic!("unexpected {err:?}")
    };
    assert!(
        message.contains("records:write:lead") && message.contains("not granted"),
        "{message}"
    );
    assert!(host.effects().is_empty());
}

#[test]
fn plugin_errors_and_bad_input_fail_the_call_readably() {
    let plugin = plugin("lead-scorer");
    let err = plugin
        .call(crm_host(), &ctx_for(&plugin), &json!({"lead_id": "nope"}))
        .unwrap_err();
    assert_eq!(err, PluginError::Guest("lead nope not found".into()));
    let err = plugin
        .call(crm_host(), &ctx_for(&plugin), &json!({"wrong": 1}))
        .unwrap_err();
    assert!(err.to_string().contains("invalid plugin input"), "{err}");
}

#[test]
fn discount_approver_opens_a_task_for_a_large_discount() {
    let plugin = plugin("discount-approver");
    let host = crm_host();
    let input = json!({"opportunity_id": "opp1", "approver": "user-7"});
    let out = plugin
        .call(host.clone(), &ctx_for(&plugin), &input)
        .unwrap();
    assert_eq!(out.output["decision"], "pending_approval");
    let effects = host.effects();
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].kind, "task.create");
    assert_eq!(effects[0].payload["assignee"], "user-7");
    assert_eq!(
        effects[0].payload["related"],
        json!({"object": "opportunity", "id": "opp1"})
    );
    assert_eq!(out.output["task_id"], effects[0].payload["id"]);
}

#[test]
fn discount_approver_in_dry_run_gets_a_synthetic_task_id() {
    let plugin = plugin("discount-approver");
    let host = crm_host();
    let ctx = automations_host_api::CallContext {
        dry_run: true,
        ..ctx_for(&plugin)
    };
    let input = json!({"opportunity_id": "opp1", "approver": "user-7", "auto_approve_max": 5});
    let out = plugin.call(host.clone(), &ctx, &input).unwrap();
    assert!(
        out.output["task_id"].as_str().unwrap().starts_with("dry-"),
        "{}",
        out.output
    );
    assert!(!host.effects()[0].applied);
    let approved = plugin
        .call(
            host,
            &ctx,
            &json!({"opportunity_id": "opp1", "approver": "u", "auto_approve_max": 30}),
        )
        .unwrap();
    assert_eq!(approved.output["decision"], "approved");
}

fn loopback_http_host() -> Arc<MemoryHost> {
    let config = HttpConfig {
        allow: vec!["127.0.0.0/8".parse().unwrap()],
        ..HttpConfig::default()
    };
    Arc::new(MemoryHost::with_http(HttpClient::new(config)))
}

fn slack_input(url: &str) -> serde_json::Value {
    json!({"webhook_url": url, "case": {"id": "c42", "subject": "Printer on fire", "priority": "high"}})
}

#[test]
fn slack_formatter_posts_to_an_allow_listed_loopback_server() {
    let plugin = plugin("slack-formatter");
    let (url, requests) = one_shot_server(200, "ok");
    let host = loopback_http_host();
    let out = plugin
        .call(host.clone(), &ctx_for(&plugin), &slack_input(&url))
        .unwrap();
    assert_eq!(out.output["status"], 200);
    let request = requests.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(request.starts_with("POST /hook HTTP/1.1\r\n"), "{request}");
    assert!(
        request.contains(
            r#"{"text":":rotating_light: *Case c42*: Printer on fire [priority: high]"}"#
        ),
        "{request}"
    );
    assert_eq!(host.effects()[0].kind, "http.fetch");
}

#[test]
fn slack_formatter_without_allow_list_is_refused_loopback() {
    let plugin = plugin("slack-formatter");
    let (url, _requests) = one_shot_server(200, "ok");
    let host = Arc::new(MemoryHost::with_http(
        HttpClient::new(HttpConfig::default()),
    ));
    let err = plugin
        .call(host, &ctx_for(&plugin), &slack_input(&url))
        .unwrap_err();
    assert!(
        err.to_string().contains("127.0.0.1 is refused (loopback)"),
        "{err}"
    );
}

#[test]
fn slack_formatter_in_dry_run_uses_a_mock_or_sends_nothing() {
    let plugin = plugin("slack-formatter");
    let url = "http://127.0.0.1:9/never";
    let host = loopback_http_host();
    let dry = automations_host_api::CallContext {
        dry_run: true,
        ..ctx_for(&plugin)
    };
    let err = plugin
        .call(host.clone(), &dry, &slack_input(url))
        .unwrap_err();
    assert!(
        err.to_string().contains("not performed in dry-run"),
        "{err}"
    );

    let mock = HttpMock {
        method: Some("post".into()),
        url: url.into(),
        response: HttpResponse {
            status: 202,
            headers: vec![],
            body: b"mocked".to_vec(),
        },
    };
    let dry = automations_host_api::CallContext {
        http_mocks: vec![mock],
        ..dry
    };
    let out = plugin.call(host.clone(), &dry, &slack_input(url)).unwrap();
    assert_eq!(out.output["status"], 202);
    assert!(host.effects().is_empty(), "nothing sent");
}
