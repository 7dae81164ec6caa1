//! The `dispatch` group: one `case.updated` event against 10 to 100,000 active automations
//! through the dispatch index the engine uses (`automations_compiler::dispatch::DispatchIndex`,
//! one per workspace and event type in the runtime), conditions written as text and checked
//! like the API's. The workloads (`compiler/benches/support/dispatch_workload.rs`, shared
//! with the compiler's criterion bench): the selective one, as a CRM's automations are
//! (a handful match any event), is the one the target is about; the coarse one (8% of the
//! event type's automations match) shows the cost of producing many matches.

#[path = "../../compiler/benches/support/dispatch_workload.rs"]
#[allow(dead_code)] // The compiler's bench and loop use parts of the workload this group does not.
mod workload;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use automations_compiler::dispatch::DispatchIndex;
use automations_compiler::schema::Schema;
use serde::Serialize;

use crate::measure::{self, Budget};
use workload::{EVENT_TYPE, Workload};

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub automations: usize,
    /// Of them, triggered by `case.updated`.
    pub of_event_type: usize,
    pub matched: usize,
    pub ns_per_event: f64,
    /// The full scan (reference evaluator over every automation of the event type), for
    /// contrast; measured up to 10,000.
    pub ns_full_scan: Option<f64>,
    pub build_ms: f64,
    pub equality_indexed: usize,
    pub range_indexed: usize,
    pub disjunct_indexed: usize,
    pub always_evaluated: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The selective workload (the target's).
    pub points: Vec<Point>,
    /// The coarse workload (many matches per event).
    pub coarse_points: Vec<Point>,
    /// Instructions per event at 10,000 selective automations (callgrind), when measured.
    pub instructions_per_event_at_10000: Option<f64>,
    pub under_1us_at_10000: Option<bool>,
}

pub const SIZES: &[usize] = &[10, 100, 1_000, 10_000, 100_000];

fn point(w: Workload, n: usize, schema: &Arc<Schema>, budget: &Budget) -> anyhow::Result<Point> {
    let entries = workload::automations(w, n, schema).map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let index = DispatchIndex::build(entries, schema.clone());
    let build_ms = started.elapsed().as_secs_f64() * 1e3;
    let record = workload::event_record();
    let previous = workload::previous_record();
    let input = workload::event_input(&record, &previous);
    let matched = index.matches(EVENT_TYPE, &input);
    anyhow::ensure!(
        matched == index.full_scan(EVENT_TYPE, &input),
        "the index and the full scan disagree at {n} ({})",
        w.name()
    );
    let ns_per_event = measure::ns_per_op(budget, |k| {
        for _ in 0..k {
            black_box(index.matches(black_box(EVENT_TYPE), black_box(&input)));
        }
    });
    let ns_full_scan = (n <= 10_000).then(|| {
        measure::ns_per_op(budget, |k| {
            for _ in 0..k {
                black_box(index.full_scan(black_box(EVENT_TYPE), black_box(&input)));
            }
        })
    });
    let stats = index.stats();
    Ok(Point {
        automations: n,
        of_event_type: index.keys_of(EVENT_TYPE).count(),
        matched: matched.len(),
        ns_per_event,
        ns_full_scan,
        build_ms,
        equality_indexed: stats.equality_indexed,
        range_indexed: stats.range_indexed,
        disjunct_indexed: stats.disjunct_indexed,
        always_evaluated: stats.always_evaluated,
    })
}

pub fn run(budget: &Budget, log: &mut dyn FnMut(&str)) -> anyhow::Result<Report> {
    let schema = Arc::new(Schema::builtin());
    let mut series = Vec::new();
    for w in [Workload::Selective, Workload::Coarse] {
        let mut points = Vec::new();
        for &n in SIZES {
            log(&format!("dispatch: {n} automations, {} workload", w.name()));
            points.push(point(w, n, &schema, budget)?);
        }
        series.push(points);
    }
    let coarse_points = series.pop().unwrap_or_default();
    let points = series.pop().unwrap_or_default();
    let instructions = if budget.callgrind_ops > 0 && measure::callgrind_available() {
        log("dispatch: callgrind at 10,000 automations");
        let n = budget.callgrind_ops / 2;
        Some(measure::instructions_per_op(
            &["count-dispatch", "selective", "10000"],
            n,
        )?)
    } else {
        None
    };
    let under = points
        .iter()
        .find(|p| p.automations == 10_000)
        .map(|p| p.ns_per_event < 1_000.0);
    Ok(Report {
        points,
        coarse_points,
        instructions_per_event_at_10000: instructions,
        under_1us_at_10000: under,
    })
}

/// Dispatches the event `n` times to `count` automations of `workload` (for callgrind).
pub fn count(workload: &str, count: usize, n: u64) -> anyhow::Result<usize> {
    let w = match workload {
        "selective" => Workload::Selective,
        "coarse" => Workload::Coarse,
        other => anyhow::bail!("unknown dispatch workload {other:?}: selective or coarse"),
    };
    let index = workload::index(w, count).map_err(anyhow::Error::msg)?;
    let record = workload::event_record();
    let previous = workload::previous_record();
    let input = workload::event_input(&record, &previous);
    let mut matched = 0;
    for _ in 0..n {
        matched = black_box(index.matches(black_box(EVENT_TYPE), black_box(&input))).len();
    }
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_workloads_check_and_the_index_agrees_with_the_full_scan() {
        let record = workload::event_record();
        let previous = workload::previous_record();
        let input = workload::event_input(&record, &previous);
        for w in [Workload::Selective, Workload::Coarse] {
            let index = workload::index(w, 2_000).unwrap();
            let matched = index.matches(EVENT_TYPE, &input);
            assert_eq!(matched, index.full_scan(EVENT_TYPE, &input), "{w:?}");
            assert!(!matched.is_empty(), "{w:?}");
        }
    }
}
