//! The dispatch index must give exactly the full scan's answer (reference evaluator, every
//! entry of the event type) on random events over random automations.

use automations_compiler::dispatch::{DispatchEntry, DispatchIndex};
use automations_compiler::eval::EvalInput;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value as Json;

use crate::dispatch_support::*;
use crate::eval_support::NOW_MS;

/// Runs `events` random events against `index` and returns how many matches there were.
fn agree_on_events(
    index: &DispatchIndex<u32>,
    entries: &[DispatchEntry<u32>],
    g: &mut Gen,
    events: usize,
) -> usize {
    let accounts = Accounts::new();
    let mut matched = 0;
    for _ in 0..events {
        let (event_type, fields) = if g.chance(3) {
            (SILENT_EVENT, CASE_FIELDS)
        } else {
            let (t, _, f) = g.pick(EVENTS);
            (t, f)
        };
        let record: Json = record(g, fields);
        let previous = g
            .chance(50)
            .then(|| crate::dispatch_support::record(g, fields));
        let payload = event_payload(g);
        let input = EvalInput {
            previous: previous.as_ref(),
            event: g.chance(90).then_some(&payload),
            resolver: &accounts,
            ..EvalInput::record(&record, NOW_MS)
        };
        let fast = index.matches(event_type, &input);
        let slow = index.full_scan(event_type, &input);
        if fast != slow {
            let differing: Vec<&DispatchEntry<u32>> = entries
                .iter()
                .filter(|e| fast.contains(&e.key) != slow.contains(&e.key))
                .collect();
            panic!(
                "index and full scan disagree on {event_type}\nrecord: {record}\nprevious: \
                 {previous:?}\nevent: {payload}\nentries: {differing:#?}"
            );
        }
        matched += fast.len();
    }
    matched
}

#[test]
fn index_agrees_with_full_scan_on_10k_events_over_1k_automations() {
    let mut runner = TestRunner::new(Config {
        cases: 1,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::num::u64::ANY, |seed| {
            let mut g = Gen(seed);
            let entries = automations(&mut g, 1_000);
            let index = DispatchIndex::build(entries.clone(), schema());
            assert_eq!(index.len(), 1_000);
            let stats = index.stats();
            // The generator must exercise every access path.
            assert!(stats.equality_indexed > 100, "{stats:?}");
            assert!(stats.range_indexed > 10, "{stats:?}");
            assert!(stats.disjunct_indexed > 10, "{stats:?}");
            assert!(stats.always_evaluated > 50, "{stats:?}");
            let matched = agree_on_events(&index, &entries, &mut g, 10_000);
            assert!(
                matched > 10_000,
                "too few matches to mean anything: {matched}"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn index_agrees_with_full_scan_on_many_small_indexes() {
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::num::u64::ANY, |seed| {
            let mut g = Gen(seed);
            let count = 1 + g.below(40) as u32;
            let entries = automations(&mut g, count);
            let index = DispatchIndex::build(entries.clone(), schema());
            agree_on_events(&index, &entries, &mut g, 50);
            Ok(())
        })
        .unwrap();
}
