//! Differential test: the compiled evaluator must agree with the reference evaluator on
//! random well-typed expressions over random records (nulls, missing fields, wrong kinds,
//! huge and tiny numbers, empty and non-ASCII strings).
//!
//! Proptest drives the seeds; expressions and records are built from them by a small
//! deterministic generator (typed generation is far simpler that way). A failure prints the
//! expression and the record, which is what debugging needs.
//!
//! Shared here: the seed generator, the common constants and helpers, and the check
//! of one expression on one record by both evaluators. The tests live in submodules,
//! grouped by what they cover.

mod expr_gen;
mod fast_paths;
mod in_lists;
mod random;
mod reads;

use automations_compiler::eval::reference;
use automations_compiler::eval::{EvalInput, SlotLayout, compile, compile_expr, fill_slots};
use automations_compiler::typed::{TExpr, Type};
use automations_compiler::value::Value;
use serde_json::Value as Json;

use crate::eval_support::*;

/// splitmix64: tiny, deterministic, good enough to pick shapes.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const DAY: i64 = 86_400_000;

fn priority_type() -> Type {
    picklist(&["low", "medium", "high", "critical"])
}

fn list_of(t: Type) -> Type {
    Type::List(Box::new(t))
}

fn check_pair(e: &TExpr, record: &Json, previous: Option<&Json>, event: &Json) {
    let input = EvalInput {
        previous,
        event: Some(event),
        ..EvalInput::record(record, NOW_MS)
    };
    let mut layout = SlotLayout::new();
    let cond = compile(e, &mut layout);
    let value = compile_expr(e, &mut layout);
    let slots = fill_slots(&layout, &input);
    let refs = layout.references();
    let expected = reference::evaluate(e, &input, refs);
    let got = value.eval_value(&slots);
    assert_eq!(
        got, expected,
        "values differ\nexpr: {e:#?}\nrecord: {record}\nprevious: {previous:?}"
    );
    let expected_bool = reference::evaluate_bool(e, &input, refs);
    assert_eq!(
        cond.eval(&slots),
        expected_bool,
        "conditions differ\nexpr: {e:#?}\nrecord: {record}"
    );
    assert_eq!(expected_bool, expected == Value::Bool(true));
    // Explaining never panics and agrees with eval.
    assert_eq!(cond.explain(&slots).result, expected_bool);
}
