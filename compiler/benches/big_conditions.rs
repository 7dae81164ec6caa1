//! How parse + check + compile grow with the number of clauses of a condition (100 to
//! 20,000; it must be linear), and what one clause costs to evaluate in a chain of 1,000
//! against a chain of 3 (within 3x).
//!
//! `cargo bench -p automations-compiler --bench big_conditions`

use std::hint::black_box;

use automations_compiler::check::{ExprScope, check_condition};
use automations_compiler::eval::{EvalInput, SlotLayout, compile, fill_slots};
use automations_compiler::schema::Schema;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;

/// `subject != "s0" and priority != "p1" and ...`: distinct clauses, all true on the
/// record below, so evaluation runs every clause.
fn chain(n: usize) -> String {
    (0..n)
        .map(|i| format!("subject != \"s{i}\""))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn check_and_compile(c: &mut Criterion) {
    let schema = Schema::builtin();
    let scope = ExprScope::for_object("case", "case.updated");
    let mut group = c.benchmark_group("parse_check_compile");
    group.sample_size(10);
    for n in [100, 1_000, 5_000, 20_000] {
        let text = chain(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                let expr = automations_grammar::parse_expr(text).expect("parses");
                let (typed, _) = check_condition(&expr, &scope, &schema);
                let mut layout = SlotLayout::new();
                black_box(compile(&typed.expect("checks"), &mut layout))
            })
        });
    }
    group.finish();
}

fn eval_per_clause(c: &mut Criterion) {
    let schema = Schema::builtin();
    let scope = ExprScope::for_object("case", "case.updated");
    let record = json!({"id": "c1", "subject": "Printer on fire", "priority": "high"});
    let mut group = c.benchmark_group("eval_per_clause");
    for n in [3, 1_000] {
        let expr = automations_grammar::parse_expr(&chain(n)).expect("parses");
        let typed = check_condition(&expr, &scope, &schema).0.expect("checks");
        let mut layout = SlotLayout::new();
        let compiled = compile(&typed, &mut layout);
        let slots = fill_slots(&layout, &EvalInput::record(&record, 0));
        assert!(compiled.eval(&slots));
        // Per clause: the time of one evaluation divided by the clauses it ran.
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| black_box(compiled.eval(black_box(&slots))))
        });
    }
    group.finish();
}

criterion_group!(benches, check_and_compile, eval_per_clause);
criterion_main!(benches);
