//! Dispatch benchmark (DESIGN §13, issue 22: one event against 10,000 active automations
//! under 1 µs): `case.updated` through the index at 10 to 100,000 automations of the
//! selective workload, the coarse workload at 10,000 for contrast, the full scan
//! (reference evaluator, the test oracle) and the build at 10,000. The workloads are
//! `support/dispatch_workload.rs`, shared with the bench crate's `dispatch` group.
//!
//! Run: `cargo bench -p automations-compiler --bench dispatch`.

#[path = "support/dispatch_workload.rs"]
#[allow(dead_code)] // The bench crate uses parts of the workload this bench does not.
mod workload;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use automations_compiler::dispatch::DispatchIndex;
use automations_compiler::schema::Schema;
use criterion::{Criterion, criterion_group, criterion_main};

use workload::{EVENT_TYPE, Workload};

const SIZES: &[usize] = &[10, 100, 1_000, 10_000, 100_000];

fn bench(c: &mut Criterion) {
    let record = workload::event_record();
    let previous = workload::previous_record();
    let input = workload::event_input(&record, &previous);
    for &(w, n) in SIZES
        .iter()
        .map(|n| (Workload::Selective, *n))
        .chain([(Workload::Coarse, 10_000)])
        .collect::<Vec<_>>()
        .iter()
    {
        let started = Instant::now();
        let index = workload::index(w, n).unwrap();
        let hits = index.matches(EVENT_TYPE, &input);
        assert_eq!(hits, index.full_scan(EVENT_TYPE, &input));
        println!(
            "{} {n}: built in {:.1} ms; {:?}; {EVENT_TYPE} matches {} automations",
            w.name(),
            started.elapsed().as_secs_f64() * 1e3,
            index.stats(),
            hits.len()
        );
        c.bench_function(&format!("dispatch/{}_{n}", w.name()), |b| {
            b.iter(|| index.matches(black_box(EVENT_TYPE), black_box(&input)))
        });
        if n == 10_000 && w == Workload::Selective {
            c.bench_function("dispatch/full_scan_selective_10000", |b| {
                b.iter(|| index.full_scan(black_box(EVENT_TYPE), black_box(&input)))
            });
        }
    }
    let schema = Arc::new(Schema::builtin());
    let entries = workload::automations(Workload::Selective, 10_000, &schema).unwrap();
    c.bench_function("dispatch/build_selective_10000", |b| {
        b.iter(|| DispatchIndex::build(black_box(entries.clone()), schema.clone()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
