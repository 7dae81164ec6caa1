//! How parse + check (lints included) + compile grow with the number of clauses of a
//! condition (100 to 20,000, every shape of `support/shapes.rs`: `and`/`or` chains of
//! distinct and identical clauses, mixed `(a or b) and ...` pairs, `in` lists; it must be
//! linear), and what one clause costs to evaluate in a chain of 1,000 against a chain of 3
//! (within 3x). Criterion's throughput is in clauses, so its "elem/s" is per clause.
//! Results and their reading: `benches/REPORT.md`.
//!
//! `cargo bench -p automations-compiler --bench big_conditions`

#[path = "support/shapes.rs"]
mod shapes;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn check_and_compile(c: &mut Criterion) {
    for (shape, make) in shapes::SHAPES {
        let mut group = c.benchmark_group(format!("parse_check_compile/{shape}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for n in [100, 1_000, 5_000, 20_000] {
            let text = make(n);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
                b.iter(|| black_box(shapes::parse_check_compile(text)))
            });
        }
        group.finish();
    }
}

fn eval_per_clause(c: &mut Criterion) {
    for (shape, make) in shapes::SHAPES {
        let mut group = c.benchmark_group(format!("eval_per_clause/{shape}"));
        group
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for n in [3, 1_000] {
            let (compiled, layout) = shapes::parse_check_compile(&make(n));
            let slots = shapes::slots(&layout);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| black_box(compiled.eval(black_box(&slots))))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, check_and_compile, eval_per_clause);
criterion_main!(benches);
