//! The template renderer. The input's first line is a template string; it is used, as an
//! API definition would use it, as a webhook `body` field (any type) and as a
//! notification `message` (text) of an automation on `case.updated`, after a webhook step
//! whose output it may read. Every param that checks is compiled and rendered on the
//! input's record (second line, when it is a JSON object) and the fixed ones, by the
//! compiled and the reference evaluator: they must agree, converting the value to JSON
//! never panics, and rendering within an output cap either gives the same value or says
//! it is too large (never a different value).

use serde_json::{Map, Value as Json, json};

use crate::check::{CheckedParam, CheckedStep, CheckedStepKind, check_automation};
use crate::eval::convert::value_to_json;
use crate::eval::{EvalInput, References, SlotLayout, compile_expr, fill_slots, reference};
use crate::json::parse_json;
use crate::typed::TExpr;

use super::records::{self, NOW_MS, Related};
use super::{first_line, schema, text};

/// A small output cap, so that inputs of a few hundred bytes can pass it.
const SMALL_CAP: usize = 96;

/// The `template` target.
pub fn template(data: &[u8]) {
    let text = text(data);
    let (template, rest) = first_line(&text);
    let definition = json!({
        "name": "fuzz",
        "trigger": {"event": "case.updated"},
        "actions": [
            {"id": "hook", "type": "webhook",
             "params": {"url": "https://example.com/in", "body": {"t": template}}},
            {"id": "note", "type": "send_notification",
             "params": {"channel": "slack", "message": template}}
        ]
    });
    let (automations, _, diagnostics) = parse_json(&definition.to_string());
    if diagnostics.iter().any(|d| d.is_error()) {
        return;
    }
    let Some(automation) = automations.first() else {
        return;
    };
    let (checked, _) = check_automation(automation, &schema());
    let mut inputs = records::fixed();
    inputs.extend(records::object(first_line(rest).0));
    for param in checked.steps.iter().flat_map(params) {
        agree(template, param, &inputs);
    }
}

/// The typed expression params of a step.
fn params(step: &CheckedStep) -> Vec<&TExpr> {
    match &step.kind {
        CheckedStepKind::Action { params, .. } => params
            .values()
            .filter_map(|p| match p {
                CheckedParam::Expr(e) => Some(e),
                CheckedParam::Form(_) => None,
            })
            .collect(),
        CheckedStepKind::If { .. } => Vec::new(),
    }
}

fn agree(template: &str, param: &TExpr, inputs: &[Json]) {
    let refs = References::from_schema("case", schema());
    let mut layout = SlotLayout::with_references(refs.clone());
    let compiled = compile_expr(param, &mut layout);
    let event = json!({"type": "case.updated"});
    let mut steps = Map::new();
    steps.insert("hook".into(), json!({"outbox_id": "ob_1"}));
    let previous = records::previous();
    for record in inputs {
        for before in &previous {
            let input = EvalInput {
                previous: before.as_ref(),
                event: Some(&event),
                steps: Some(&steps),
                resolver: &Related,
                ..EvalInput::record(record, NOW_MS)
            };
            let slots = fill_slots(&layout, &input);
            let expected = reference::evaluate(param, &input, &refs);
            let context =
                || format!("\ntemplate: {template:?}\nrecord: {record}\nprevious: {before:?}");
            let got = compiled.eval_value(&slots);
            assert!(
                records::same(&got, &expected),
                "renderings differ: compiled {got:?}, reference {expected:?}{}",
                context()
            );
            let _ = value_to_json(&got);
            match compiled.eval_value_within(&slots, usize::MAX / 2) {
                Ok(v) => assert!(records::same(&v, &expected), "uncapped {v:?}{}", context()),
                Err(e) => panic!("{e} under no real cap{}", context()),
            }
            if let Ok(v) = compiled.eval_value_within(&slots, SMALL_CAP) {
                assert!(
                    records::same(&v, &expected),
                    "capped rendering {v:?} differs from {expected:?}{}",
                    context()
                );
            }
        }
    }
}
