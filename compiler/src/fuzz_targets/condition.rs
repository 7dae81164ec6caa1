//! The condition compiler and evaluator against the reference evaluator. The input's
//! first line is a condition; the next two lines, when they are JSON objects, are a record
//! and its previous version. The condition is checked for the first object of the
//! built-in schema it types on (as on `<object>.updated`), compiled, and evaluated on the
//! input's record and the fixed ones, with and without a previous version. The compiled
//! condition, the compiled value, the explanation and the reference evaluator must agree.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::check::{ExprScope, check_condition};
use crate::eval::{
    EvalInput, References, SlotLayout, compile_expr, compile_with_source, fill_slots, reference,
};
use crate::schema::Schema;
use crate::typed::TExpr;

use super::records::{self, NOW_MS, Related};
use super::{first_line, schema, text};

/// Objects tried in turn, so most conditions type on one of them.
const OBJECTS: [&str; 8] = [
    "case",
    "opportunity",
    "account",
    "lead",
    "contact",
    "task",
    "user",
    "queue",
];

/// The `condition` target.
pub fn condition(data: &[u8]) {
    let text = text(data);
    let (source, rest) = first_line(&text);
    let Ok(ast) = automations_grammar::parse_expr(source) else {
        return;
    };
    let schema = schema();
    let Some((object, typed)) = OBJECTS.iter().find_map(|object| {
        let scope = ExprScope::for_object(object, &format!("{object}.updated"));
        let (typed, diagnostics) = check_condition(&ast, &scope, &schema);
        let clean = !diagnostics.iter().any(|d| d.is_error());
        typed.filter(|_| clean).map(|t| (*object, t))
    }) else {
        return;
    };
    let (record_line, previous_line) = first_line(rest);
    let mut inputs = records::fixed();
    inputs.extend(records::object(record_line));
    let mut previous = records::previous();
    previous.extend(records::object(first_line(previous_line).0).map(Some));
    agree(source, object, &typed, &schema, &inputs, &previous);
}

fn agree(
    source: &str,
    object: &str,
    typed: &TExpr,
    schema: &Arc<Schema>,
    inputs: &[Json],
    previous: &[Option<Json>],
) {
    let refs = References::from_schema(object, schema.clone());
    let mut layout = SlotLayout::with_references(refs.clone());
    let compiled = compile_with_source(typed, &mut layout, Some(source));
    let value = compile_expr(typed, &mut layout);
    let event = serde_json::json!({"type": format!("{object}.updated")});
    for record in inputs {
        for before in previous {
            let input = EvalInput {
                previous: before.as_ref(),
                event: Some(&event),
                resolver: &Related,
                ..EvalInput::record(record, NOW_MS)
            };
            let slots = fill_slots(&layout, &input);
            let expected = reference::evaluate(typed, &input, &refs);
            let expected_bool = reference::evaluate_bool(typed, &input, &refs);
            let got = value.eval_value(&slots);
            let context =
                || format!("\n{object}: `{source}`\nrecord: {record}\nprevious: {before:?}");
            assert!(
                records::same(&got, &expected),
                "values differ: compiled {got:?}, reference {expected:?}{}",
                context()
            );
            let got_bool = compiled.eval(&slots);
            assert_eq!(got_bool, expected_bool, "conditions differ{}", context());
            let explained = compiled.explain(&slots);
            assert_eq!(
                explained.result,
                got_bool,
                "the explanation differs{}\n{explained}",
                context()
            );
        }
    }
}
