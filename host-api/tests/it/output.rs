//! Reading `run`'s result: the host must copy it out of guest memory before the
//! guest's post-return frees it. The `freed-output` guest overwrites freed
//! memory at once, so a host that reads late sees garbage instead of the JSON.

use crate::support::*;
use automations_host_api::PluginError;
use serde_json::json;

#[test]
fn ok_output_survives_a_guest_that_overwrites_freed_memory() {
    let plugin = plugin("freed-output");
    for echo in [
        json!("short"),
        json!({"nested": [1, 2, 3]}),
        json!("é✓ unicode"),
    ] {
        let out = plugin
            .call(crm_host(), &ctx_for(&plugin), &json!({"echo": echo}))
            .unwrap_or_else(|err| panic!("echo {echo}: {err}"));
        assert_eq!(out.output["echo"], echo);
        assert_eq!(out.output["padding"].as_str().map(str::len), Some(4096));
    }
}

#[test]
fn guest_err_is_reported_as_the_guests_error() {
    let plugin = plugin("freed-output");
    let err = plugin
        .call(
            crm_host(),
            &ctx_for(&plugin),
            &json!({"fail": "the discount is over the approval limit"}),
        )
        .unwrap_err();
    assert_eq!(
        err,
        PluginError::Guest("the discount is over the approval limit".into())
    );
    assert_eq!(
        err.to_string(),
        "plugin returned an error: the discount is over the approval limit"
    );
}

#[test]
fn call_text_gives_the_output_as_written_and_call_json_the_same_value() {
    let plugin = plugin("freed-output");
    let ctx = ctx_for(&plugin);
    let input = r#"{"echo": {"nested": [1, 2, 3]}}"#;
    let text = plugin.call_text(crm_host(), &ctx, input).unwrap();
    let value = plugin.call_json(crm_host(), &ctx, input).unwrap();
    assert!(text.output.starts_with('{'), "{}", text.output);
    let parsed: serde_json::Value = serde_json::from_str(&text.output).unwrap();
    assert_eq!(parsed, value.output);
    assert_eq!(parsed["echo"], json!({"nested": [1, 2, 3]}));
    assert_eq!(text.fuel_used, None);
    assert_eq!(text.host_calls, value.host_calls);
}
