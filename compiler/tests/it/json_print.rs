//! IR -> JSON: canonical output, and JSON -> IR -> JSON round trips over the test files.

use automations_compiler::ir::{Condition, ConditionForm};
use automations_compiler::json::{lower_value, parse_json, to_json, to_json_text};
use serde_json::{Value, json};

use crate::json_lower::{lower_clean, roundtrip_files};

fn as_list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        one => vec![one],
    }
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn json_to_ir_to_json_gives_the_same_json() {
    for (name, text) in roundtrip_files() {
        let (automations, _) = lower_clean(&text);
        let original = as_list(serde_json::from_str(&text).unwrap());
        let printed: Vec<Value> = automations.iter().map(to_json).collect();
        assert_eq!(printed, original, "{name}");
    }
}

#[test]
fn printed_text_lowers_back_to_the_same_ir_and_prints_identically() {
    for (name, text) in roundtrip_files() {
        let (automations, _) = lower_clean(&text);
        let printed = to_json_text(&automations);
        let (again, _) = lower_clean(&printed);
        let strip = |list: &[automations_compiler::ir::Automation]| {
            list.iter().map(|a| a.without_spans()).collect::<Vec<_>>()
        };
        assert_eq!(strip(&again), strip(&automations), "{name}");
        assert_eq!(
            to_json_text(&again),
            printed,
            "{name}: printing is not stable"
        );
    }
}

#[test]
fn keys_come_in_canonical_order() {
    let body = json!({
        "layout": {"zoom": 1},
        "actions": [{"params": {"b": 1, "a": 2}, "condition": "x > 1", "type": "t", "id": "s"},
                    {"else": [], "then": [], "condition": "y", "type": "if"}],
        "trigger": {"conditions": "a == 1", "event": "case.created"},
        "environment": "sandbox",
        "description": "d",
        "name": "n"
    });
    let (automation, diagnostics) = lower_value(&body);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let out = to_json(&automation);
    assert_eq!(
        keys(&out),
        [
            "name",
            "description",
            "status",
            "environment",
            "trigger",
            "actions",
            "layout"
        ]
    );
    assert_eq!(keys(&out["trigger"]), ["event", "conditions"]);
    assert_eq!(
        keys(&out["actions"][0]),
        ["id", "type", "condition", "params"]
    );
    // Param order is the author's.
    assert_eq!(keys(&out["actions"][0]["params"]), ["b", "a"]);
    // An empty else is left out; defaulted ids are not printed.
    assert_eq!(keys(&out["actions"][1]), ["type", "condition", "then"]);
}

#[test]
fn defaults_are_left_out_and_status_is_always_printed() {
    let (automation, _) = lower_value(
        &json!({"name": "n", "environment": "live", "trigger": {"event": "e.x", "conditions": null}, "actions": []}),
    );
    assert_eq!(
        to_json(&automation),
        json!({"name": "n", "status": "draft", "trigger": {"event": "e.x"}, "actions": []})
    );
}

#[test]
fn literals_and_expressions_print_as_json_values_or_templates() {
    let body = json!({"name": "n", "trigger": {"event": "e.x"}, "actions": [{"type": "t", "params": {
        "int": 50000, "frac": 0.5, "neg": -3, "yes": true, "none": null, "text": "plain",
        "tpl": "Hi {{ name }}!", "expr": "{{ amount * 2 }}", "list": [1, "{{ x }}"], "obj": {"k": "v"},
        "quoted": "{{ lower(\"ABC\") }}"
    }}]});
    let (automation, diagnostics) = lower_value(&body);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let params = &to_json(&automation)["actions"][0]["params"];
    assert_eq!(serde_json::to_string(&params["int"]).unwrap(), "50000");
    assert_eq!(params["frac"], json!(0.5));
    assert_eq!(params["neg"], json!(-3));
    assert_eq!(params["tpl"], json!("Hi {{ name }}!"));
    assert_eq!(params["expr"], json!("{{ amount * 2 }}"));
    assert_eq!(params["list"], json!([1, "{{ x }}"]));
    assert_eq!(params["obj"], json!({"k": "v"}));
    // Strings inside expressions print with single quotes: nothing to escape in JSON.
    assert_eq!(params["quoted"], json!("{{ lower('ABC') }}"));
}

#[test]
fn plain_durations_print_as_duration_templates() {
    let (automation, _) = lower_value(&json!({"name": "n", "trigger": {"event": "e.x"},
        "actions": [{"type": "wait", "params": {"duration": "2d"}}]}));
    assert_eq!(
        to_json(&automation)["actions"][0]["params"]["duration"],
        json!("{{ 2d }}")
    );
}

#[test]
fn an_equality_object_changed_into_something_else_prints_as_a_string() {
    let (mut automation, _) = lower_value(&json!({"name": "n",
        "trigger": {"event": "case.created", "conditions": {"priority": "high", "tier": "gold"}}, "actions": []}));
    assert_eq!(
        to_json(&automation)["trigger"]["conditions"],
        json!({"priority": "high", "tier": "gold"})
    );
    let (other, _) = lower_value(&json!({"name": "n",
        "trigger": {"event": "case.created", "conditions": "priority == 'high' or amount > 5"}, "actions": []}));
    let expr = other.condition.unwrap().expr;
    automation.condition = Some(Condition {
        expr,
        form: ConditionForm::EqualityObject,
    });
    assert_eq!(
        to_json(&automation)["trigger"]["conditions"],
        json!("priority == 'high' or amount > 5")
    );
}

#[test]
fn one_automation_prints_an_object_several_an_array() {
    let (one, _, _) = parse_json(r#"{"name": "a", "trigger": {"event": "e.x"}, "actions": []}"#);
    assert!(to_json_text(&one).starts_with('{'));
    let several = [one[0].clone(), one[0].clone()];
    let text = to_json_text(&several);
    assert!(text.starts_with('['));
    assert_eq!(
        serde_json::from_str::<Value>(&text)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
