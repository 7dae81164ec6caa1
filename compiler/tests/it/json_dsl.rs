//! The two front ends agree: DSL -> JSON -> DSL gives the same canonical text, and
//! JSON -> DSL -> JSON the same JSON (equality objects included: the JSON printer writes
//! every conjunction of `field == literal` as an object).

use std::path::Path;

use automations_compiler::ir::{Automation, ConditionForm};
use automations_compiler::json::{parse_json, to_json, to_json_text};
use automations_compiler::lower_dsl::parse_dsl;
use automations_compiler::print::print_dsl;

use crate::json_lower::{lower_clean, roundtrip_files};

fn dsl_clean(text: &str) -> Vec<Automation> {
    let (automations, diagnostics) = parse_dsl(text);
    assert!(
        diagnostics.is_empty(),
        "diagnostics for\n{text}\n{diagnostics:#?}"
    );
    automations
}

fn dsl_files() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/dsl");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "auto"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    paths
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(p).unwrap()))
        .collect()
}

#[test]
fn dsl_to_json_to_dsl_gives_the_same_text() {
    for (name, text) in dsl_files() {
        let canonical = print_dsl(&dsl_clean(&text));
        let json = to_json_text(&dsl_clean(&text));
        let (from_json, _, diagnostics) = parse_json(&json);
        assert!(diagnostics.is_empty(), "{name}:\n{json}\n{diagnostics:#?}");
        assert_eq!(print_dsl(&from_json), canonical, "{name} via\n{json}");
    }
}

#[test]
fn json_to_dsl_to_json_gives_the_same_json() {
    for (name, text) in roundtrip_files() {
        let (from_json, _) = lower_clean(&text);
        let dsl = print_dsl(&from_json);
        let from_dsl = dsl_clean(&dsl);
        assert_eq!(from_dsl.len(), from_json.len(), "{name}");
        for (json_side, dsl_side) in from_json.iter().zip(&from_dsl) {
            let mut expected = json_side.clone();
            if let Some(condition) = &mut expected.condition {
                condition.form = ConditionForm::Expression;
            }
            assert_eq!(to_json(dsl_side), to_json(&expected), "{name} via\n{dsl}");
        }
    }
}

#[test]
fn canonical_json_survives_the_dsl_unchanged() {
    for (name, text) in roundtrip_files() {
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        let list = original
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![original.clone()]);
        let (from_json, _) = lower_clean(&text);
        let from_dsl = dsl_clean(&print_dsl(&from_json));
        let printed: Vec<_> = from_dsl.iter().map(to_json).collect();
        assert_eq!(printed, list, "{name}");
    }
}

#[test]
fn literal_braces_in_templates_survive_json() {
    let text = "automation \"b\" {\n  when case.created\n  do {\n    notify_user(message: \"a \\{{ b }} {{ name }} c{\")\n  }\n}\n";
    let canonical = print_dsl(&dsl_clean(text));
    let json = to_json_text(&dsl_clean(text));
    assert!(
        json.contains("a {{ '\\\\{' }}{ b }} {{ name }} c{"),
        "{json}"
    );
    let (from_json, _) = lower_clean(&json);
    assert_eq!(print_dsl(&from_json), canonical);
}
