//! The generated conditions the big-condition benchmarks measure: each shape is a chain
//! of `n` clauses (or an `in` list of `n` items) that the record below satisfies in a way
//! that makes evaluation run every clause (an `and` of true clauses, an `or` of false
//! ones), so time per clause is comparable across sizes.

use automations_compiler::check::{ExprScope, check_condition};
use automations_compiler::eval::{CompiledCondition, EvalInput, SlotLayout, compile, fill_slots};
use automations_compiler::schema::Schema;
use automations_compiler::value::Value;
use serde_json::json;

/// Makes the condition text of `n` clauses.
pub type Generator = fn(usize) -> String;

/// (name, generator) of every shape.
pub const SHAPES: &[(&str, Generator)] = &[
    ("and_distinct", |n| {
        join(n, " and ", |i| format!("subject != \"s{i}\""))
    }),
    ("or_distinct", |n| {
        join(n, " or ", |i| format!("subject == \"s{i}\""))
    }),
    ("and_identical", |n| {
        join(n, " and ", |_| "priority == \"high\"".into())
    }),
    ("or_identical", |n| {
        join(n, " or ", |_| "priority == \"low\"".into())
    }),
    ("mixed_pairs", |n| {
        join(n, " and ", |i| {
            format!("(priority == \"low\" or subject != \"s{i}\")")
        })
    }),
    ("in_list", |n| {
        format!("subject in [{}]", join(n, ", ", |i| format!("\"s{i}\"")))
    }),
];

fn join(n: usize, joiner: &str, clause: impl Fn(usize) -> String) -> String {
    (0..n).map(clause).collect::<Vec<_>>().join(joiner)
}

/// The text of shape `name` with `n` clauses.
#[allow(dead_code)] // `clause_loop` picks shapes by name; `big_conditions` runs them all.
pub fn text(name: &str, n: usize) -> String {
    let (_, make) = SHAPES
        .iter()
        .find(|(shape, _)| *shape == name)
        .unwrap_or_else(|| panic!("no shape {name}"));
    make(n)
}

/// What every benchmark runs per condition: parse, check (lints included), compile.
pub fn parse_check_compile(text: &str) -> (CompiledCondition, SlotLayout) {
    let expr = automations_grammar::parse_expr(text).expect("parses");
    let scope = ExprScope::for_object("case", "case.updated");
    let (typed, diags) = check_condition(&expr, &scope, &Schema::builtin());
    let typed = typed.unwrap_or_else(|| panic!("checks: {diags:?}"));
    let mut layout = SlotLayout::new();
    let compiled = compile(&typed, &mut layout);
    (compiled, layout)
}

/// The slots of the record every shape is evaluated on.
#[allow(dead_code)] // Not every loop evaluates the shapes.
pub fn slots(layout: &SlotLayout) -> Vec<Value> {
    let record = json!({"id": "c1", "subject": "Printer on fire", "priority": "high"});
    fill_slots(layout, &EvalInput::record(&record, 0))
}
