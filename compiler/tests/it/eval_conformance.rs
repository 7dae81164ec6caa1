//! The shared conformance cases (DESIGN §4, `test_data/conformance.json`): each condition
//! is parsed, type-checked against the built-in schema, and must give the expected result
//! in BOTH evaluators.

use std::sync::Arc;

use automations_compiler::check::{ExprScope, check_condition};
use automations_compiler::eval::{
    EvalInput, References, SlotLayout, compile, fill_slots, reference,
};
use automations_compiler::schema::Schema;
use serde::Deserialize;
use serde_json::Value as Json;

/// 2026-11-25T12:00:00Z: a fixed clock, so date cases do not depend on the day run.
const NOW_MS: i64 = 1_764_072_000_000;

#[derive(Deserialize)]
struct Case {
    object: String,
    record: Json,
    #[serde(default)]
    previous: Option<Json>,
    expr: String,
    expect: bool,
}

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[test]
fn conformance_cases_pass_in_both_evaluators() {
    let text = include_str!("../../test_data/conformance.json");
    let cases: Cases = serde_json::from_str(text).unwrap();
    let schema = Arc::new(Schema::builtin());
    let mut failures = Vec::new();
    for case in &cases.cases {
        let ast = automations_grammar::parse_expr(&case.expr)
            .unwrap_or_else(|e| panic!("`{}` does not parse: {e:?}", case.expr));
        let scope = ExprScope::for_object(&case.object, &format!("{}.updated", case.object));
        let (typed, diags) = check_condition(&ast, &scope, &schema);
        let Some(typed) = typed else {
            panic!("`{}` does not check: {diags:?}", case.expr);
        };
        let refs = References::from_schema(case.object.clone(), schema.clone());
        let mut layout = SlotLayout::with_references(refs.clone());
        let compiled = compile(&typed, &mut layout).with_source(&case.expr);
        let input = EvalInput {
            previous: case.previous.as_ref(),
            ..EvalInput::record(&case.record, NOW_MS)
        };
        let slots = fill_slots(&layout, &input);
        let fast = compiled.eval(&slots);
        let slow = reference::evaluate_bool(&typed, &input, &refs);
        if fast != case.expect || slow != case.expect {
            failures.push(format!(
                "{} `{}`: expected {}, compiled {fast}, reference {slow}; {}",
                case.object,
                case.expr,
                case.expect,
                compiled.explain(&slots)
            ));
        }
        assert_eq!(compiled.explain(&slots).result, fast);
    }
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases.cases.len() >= 40);
}

#[test]
fn explanations_quote_the_source() {
    let src = r#"priority == "critical" and status != "closed" and subject contains "VPN""#;
    let schema = Arc::new(Schema::builtin());
    let ast = automations_grammar::parse_expr(src).unwrap();
    let (typed, _) = check_condition(
        &ast,
        &ExprScope::for_object("case", "case.created"),
        &schema,
    );
    let mut layout = SlotLayout::with_references(References::from_schema("case", schema));
    let c = compile(&typed.unwrap(), &mut layout).with_source(src);
    let record =
        serde_json::json!({"priority": "critical", "status": "open", "subject": "Printer jam"});
    let x = c.explain(&fill_slots(&layout, &EvalInput::record(&record, NOW_MS)));
    assert_eq!(
        x.to_string(),
        r#"false: clause `subject contains "VPN"` was false (subject = "Printer jam")"#
    );
}

/// `account.tier` on a case follows `case.account_id` to the account, as the schema says.
#[test]
fn reference_paths_from_the_checker_follow_the_resolver() {
    struct Accounts;
    impl automations_compiler::eval::Resolver for Accounts {
        fn related(&self, object: &str, id: &str) -> Option<Json> {
            (object == "account" && id == "a1").then(|| serde_json::json!({"tier": "gold"}))
        }
    }
    let src = r#"account.tier in ["gold", "platinum"]"#;
    let schema = Arc::new(Schema::builtin());
    let ast = automations_grammar::parse_expr(src).unwrap();
    let (typed, diags) = check_condition(
        &ast,
        &ExprScope::for_object("case", "case.created"),
        &schema,
    );
    let typed = typed.unwrap_or_else(|| panic!("{diags:?}"));
    let refs = References::from_schema("case", schema);
    let mut layout = SlotLayout::with_references(refs.clone());
    let c = compile(&typed, &mut layout);
    let record = serde_json::json!({"account_id": "a1"});
    let input = EvalInput {
        resolver: &Accounts,
        ..EvalInput::record(&record, NOW_MS)
    };
    assert!(c.eval(&fill_slots(&layout, &input)));
    assert!(reference::evaluate_bool(&typed, &input, &refs));
}
