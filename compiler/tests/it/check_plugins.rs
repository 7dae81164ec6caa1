//! Plugin steps against a plugin catalog (DESIGN §8): unknown plugin or version, input
//! properties missing, unknown (with did-you-mean) or of the wrong type, `enum` values.
//! Without a catalog (the offline CLI) plugin steps are not checked against manifests.

use automations_compiler::check::{CheckConfig, PluginCatalog, check_automation_with};
use automations_compiler::codes;
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::json::parse_json;
use automations_compiler::schema::Schema;
use serde_json::{Value, json};

fn catalog() -> PluginCatalog {
    let mut catalog = PluginCatalog::new();
    let v1 = json!({
        "type": "object",
        "required": ["lead_id"],
        "properties": {
            "lead_id": {"type": "string"},
            "boost": {"type": "integer"},
            "weight": {"type": "number"},
            "strict": {"type": "boolean"},
            "tags": {"type": "array"},
            "options": {"type": "object"},
            "mode": {"type": "string", "enum": ["fast", "careful"]}
        }
    });
    catalog.insert("lead-scorer", "0.1.0", Some(&v1));
    catalog.insert("lead-scorer", "0.2.0", Some(&json!({"type": "object"})));
    catalog.set_latest("lead-scorer", "0.1.0");
    catalog.insert("free-form", "1.0.0", None);
    catalog.set_latest("free-form", "1.0.0");
    catalog
}

fn definition(params: Value) -> String {
    json!({
        "name": "Plugin step",
        "trigger": {"event": "lead.created"},
        "actions": [{"type": "plugin", "params": params}]
    })
    .to_string()
}

fn check(params: Value, catalog: Option<&PluginCatalog>) -> Vec<Diagnostic> {
    let text = definition(params);
    let (automations, _, lowered) = parse_json(&text);
    assert!(lowered.is_empty(), "{lowered:?}");
    let config = CheckConfig { plugins: catalog };
    check_automation_with(&automations[0], &Schema::builtin(), &config).1
}

fn codes_of(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect()
}

#[test]
fn plugin_inputs_against_the_catalog() {
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "valid",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l_1"}}),
            vec![],
        ),
        (
            "every type right",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "{{ email }}", "boost": 3,
                "weight": 0.5, "strict": true, "tags": ["a"], "options": {"x": 1}, "mode": "fast"}}),
            vec![],
        ),
        (
            "an integer is a number",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "weight": 2}}),
            vec![],
        ),
        (
            "a whole-string template keeps its type",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "weight": "{{ score }}"}}),
            vec![],
        ),
        (
            "a number field for a string",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "{{ score }}"}}),
            vec![codes::TYPE_MISMATCH],
        ),
        (
            "a mixed template is text",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "weight": "n{{ score }}"}}),
            vec![codes::TYPE_MISMATCH],
        ),
        (
            "a number expression",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "weight": "{{ score * 2 }}"}}),
            vec![],
        ),
        (
            "unknown plugin",
            json!({"plugin": "lead-scorr", "input": {}}),
            vec![codes::UNKNOWN_PLUGIN],
        ),
        (
            "unknown version",
            json!({"plugin": "lead-scorer", "version": "9.9.9", "input": {}}),
            vec![codes::UNKNOWN_PLUGIN],
        ),
        (
            "missing required",
            json!({"plugin": "lead-scorer", "input": {"boost": 1}}),
            vec![codes::MISSING_PLUGIN_INPUT],
        ),
        (
            "no input at all",
            json!({"plugin": "lead-scorer"}),
            vec![codes::MISSING_PLUGIN_INPUT],
        ),
        (
            "unknown property",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "bost": 1}}),
            vec![codes::UNKNOWN_PLUGIN_INPUT],
        ),
        (
            "string for integer",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "boost": "3"}}),
            vec![codes::TYPE_MISMATCH],
        ),
        (
            "fraction for integer",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "boost": 1.5}}),
            vec![codes::TYPE_MISMATCH],
        ),
        (
            "number for string",
            json!({"plugin": "lead-scorer", "input": {"lead_id": 7}}),
            vec![codes::TYPE_MISMATCH],
        ),
        (
            "bool for array",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "tags": true}}),
            vec![codes::TYPE_MISMATCH],
        ),
        (
            "not in enum",
            json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "mode": "slow"}}),
            vec![codes::PICKLIST_VALUE],
        ),
        (
            "a version with an open schema",
            json!({"plugin": "lead-scorer", "version": "0.2.0", "input": {"anything": 1}}),
            vec![],
        ),
        (
            "a plugin without input schema",
            json!({"plugin": "free-form", "input": {"anything": 1}}),
            vec![],
        ),
        (
            "all problems at once",
            json!({"plugin": "lead-scorer", "input": {"boost": "x", "mode": "slow", "zzz": 1}}),
            vec![
                codes::MISSING_PLUGIN_INPUT,
                codes::TYPE_MISMATCH,
                codes::PICKLIST_VALUE,
                codes::UNKNOWN_PLUGIN_INPUT,
            ],
        ),
    ];
    let catalog = catalog();
    for (name, params, expected) in cases {
        let diags = check(params, Some(&catalog));
        let mut got = codes_of(&diags);
        let mut want = expected.clone();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{name}: {diags:#?}");
    }
}

#[test]
fn suggestions_name_the_closest_plugin_and_property() {
    let catalog = catalog();
    let diags = check(json!({"plugin": "lead-scorr"}), Some(&catalog));
    assert_eq!(
        diags[0].suggestion.as_deref(),
        Some("lead-scorer"),
        "{diags:?}"
    );
    let diags = check(
        json!({"plugin": "lead-scorer", "input": {"lead_id": "l", "bost": 1}}),
        Some(&catalog),
    );
    let unknown = diags
        .iter()
        .find(|d| d.code == codes::UNKNOWN_PLUGIN_INPUT)
        .unwrap();
    assert_eq!(unknown.suggestion.as_deref(), Some("boost"));
    assert!(
        unknown.message.contains("lead-scorer@0.1.0"),
        "{}",
        unknown.message
    );
}

#[test]
fn without_a_catalog_plugin_steps_are_not_checked_against_manifests() {
    let diags = check(json!({"plugin": "anything", "input": {"x": 1}}), None);
    assert_eq!(codes_of(&diags), Vec::<&str>::new(), "{diags:?}");
}
