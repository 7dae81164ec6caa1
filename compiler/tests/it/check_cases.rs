//! Data-driven checker cases from `test_data/check/{expr,auto}`: each file names the
//! diagnostics it must produce (`# expect: CODE [suggestion]`, or `# expect: none`), and
//! the rendered output is pinned by an insta snapshot.

use automations_compiler::check::{ExprScope, check_automation, check_condition};
use automations_compiler::codes;
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::render::{
    FileDiagnostics, RenderConfig, render_human, render_json_value,
};
use automations_compiler::schema::Schema;

use automations_compiler::json::parse_json;
use automations_compiler::lower_dsl::parse_dsl;

use crate::check_support::{Case, Expected, read_cases};

fn schema_for(case: &Case) -> Schema {
    match case.header("schema") {
        Some(file) => {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("test_data/check")
                .join(file);
            Schema::from_json_str(&std::fs::read_to_string(path).expect("schema file"))
                .expect("valid schema")
        }
        None => Schema::builtin(),
    }
}

fn syntax(e: automations_grammar::ParseError) -> Diagnostic {
    Diagnostic::error(codes::SYNTAX, e.message.clone(), e.span)
}

fn expr_diagnostics(case: &Case) -> Vec<Diagnostic> {
    let schema = schema_for(case);
    let object = case.header("object").unwrap_or("case");
    let event = case
        .header("event")
        .map(String::from)
        .unwrap_or(format!("{object}.updated"));
    let scope = if let Some(name) = event.strip_prefix("custom.") {
        ExprScope::for_custom_event(name)
    } else {
        ExprScope::for_object(object, &event)
    };
    match automations_grammar::parse_expr(case.body.trim_end()) {
        Ok(expr) => check_condition(&expr, &scope, &schema).1,
        Err(e) => vec![syntax(e)],
    }
}

fn auto_diagnostics(case: &Case) -> Vec<Diagnostic> {
    let schema = schema_for(case);
    let (automations, mut diags) = parse_dsl(&case.body);
    for a in &automations {
        diags.extend(check_automation(a, &schema).1);
    }
    diags
}

fn json_diagnostics(case: &Case) -> Vec<Diagnostic> {
    let schema = schema_for(case);
    let (automations, _map, mut diags) = parse_json(&case.body);
    for a in &automations {
        diags.extend(check_automation(a, &schema).1);
    }
    diags
}

fn verify(case: &Case, diags: &[Diagnostic], kind: &str) {
    let mut got: Vec<Expected> = diags
        .iter()
        .map(|d| Expected {
            code: d.code.to_string(),
            suggestion: d.suggestion.clone(),
        })
        .collect();
    got.sort();
    let files = [FileDiagnostics {
        file: &format!("{}.{kind}", case.name),
        source: &case.body,
        diagnostics: diags,
    }];
    let human = render_human(&files, RenderConfig { color: false });
    assert_eq!(
        got,
        case.expected(),
        "case {}: diagnostics differ:\n{human}",
        case.name
    );
    let json = serde_json::to_string_pretty(&render_json_value(&files)).expect("json");
    insta::with_settings!({ snapshot_path => "../../test_data/check/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("{kind}__{}", case.name), format!("{human}\n{json}"));
    });
}

#[test]
fn expression_cases() {
    let cases = read_cases("expr", "expr", false);
    assert!(
        cases.len() >= 20,
        "expected the expression cases, found {}",
        cases.len()
    );
    for case in &cases {
        verify(case, &expr_diagnostics(case), "expr");
    }
}

#[test]
fn automation_cases() {
    let cases = read_cases("auto", "auto", true);
    assert!(
        cases.len() >= 10,
        "expected the automation cases, found {}",
        cases.len()
    );
    for case in &cases {
        verify(case, &auto_diagnostics(case), "auto");
    }
}

#[test]
fn json_cases() {
    let cases = read_cases("json", "json", false);
    assert!(
        cases.len() >= 3,
        "expected the JSON cases, found {}",
        cases.len()
    );
    for case in &cases {
        verify(case, &json_diagnostics(case), "json");
    }
}

#[test]
fn every_code_is_covered_by_a_case() {
    let mut seen = std::collections::BTreeSet::new();
    for case in read_cases("expr", "expr", false)
        .iter()
        .chain(read_cases("auto", "auto", true).iter())
    {
        seen.extend(case.expected().into_iter().map(|e| e.code));
    }
    for code in [
        codes::SYNTAX,
        codes::INVALID_VALUE,
        codes::UNKNOWN_FIELD,
        codes::UNKNOWN_OBJECT,
        codes::UNKNOWN_EVENT,
        codes::UNKNOWN_ACTION,
        codes::UNKNOWN_PARAM,
        codes::UNKNOWN_STEP,
        codes::DUPLICATE_STEP_ID,
        codes::MISSING_PARAM,
        codes::UNKNOWN_FUNCTION,
        codes::STEP_NOT_YET_RUN,
        codes::TYPE_MISMATCH,
        codes::PICKLIST_VALUE,
        codes::TEMPLATE_ERROR,
        codes::BAD_ARGUMENTS,
        codes::INVALID_REGEX,
        codes::CHANGED_ON_CREATE,
        codes::ALWAYS_TRUE,
        codes::ALWAYS_FALSE,
        codes::UNREACHABLE_BRANCH,
        codes::UNUSED_STEP_OUTPUT,
        codes::DEPRECATED_FIELD,
    ] {
        assert!(seen.contains(code), "no case covers {code}");
    }
}

#[test]
fn conformance_conditions_type_check() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data/check/conformance_conditions.json");
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("file")).expect("json");
    let schema = Schema::builtin();
    let cases = data["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40);
    for c in cases {
        let object = c["object"].as_str().expect("object");
        let text = c["expr"].as_str().expect("expr");
        let expr =
            automations_grammar::parse_expr(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let (typed, diags) = check_condition(
            &expr,
            &ExprScope::for_object(object, &format!("{object}.updated")),
            &schema,
        );
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{object}: {text}: {errors:?}");
        assert!(typed.is_some(), "{text} has no typed expression");
    }
}
