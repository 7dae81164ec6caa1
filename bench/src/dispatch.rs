//! The `dispatch` group: one event against 10 to 100,000 active automations through the
//! dispatch index the engine uses (`automations_compiler::dispatch::DispatchIndex`, one
//! per workspace in the runtime), conditions written as text and checked like the API's.
//!
//! The automations are spread over five event types (cases and opportunities) with
//! conditions as CRM admins write them: mostly an owner or account equality with a
//! picklist test, some ranges, a few top-level `or`s (evaluated on every event).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use automations_compiler::check::{ExprScope, check_condition};
use automations_compiler::dispatch::{DispatchEntry, DispatchIndex};
use automations_compiler::eval::EvalInput;
use automations_compiler::schema::Schema;
use serde::Serialize;
use serde_json::json;

use crate::conditions::corpus::NOW_MS;
use crate::measure::{self, Budget};

const EVENTS: &[(&str, &str)] = &[
    ("case.created", "case"),
    ("case.updated", "case"),
    ("case.priority_changed", "case"),
    ("opportunity.updated", "opportunity"),
    ("opportunity.stage_changed", "opportunity"),
];
const PRIORITIES: &[&str] = &["low", "medium", "high", "critical"];
const STATUSES: &[&str] = &["new", "open", "pending", "escalated", "closed"];
const ORIGINS: &[&str] = &["email", "web", "phone", "chat"];
const STAGES: &[&str] = &["Prospecting", "Qualification", "Proposal", "Negotiation"];

/// A small deterministic generator (splitmix64).
struct Gen(u64);

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// One condition text for a record of `object`.
fn condition(g: &mut Gen, object: &str) -> String {
    let user = format!("user-{}", g.below(500));
    let account = format!("acc-{}", g.below(1000));
    let case = object == "case";
    match g.below(100) {
        0..=44 if case => format!(
            r#"owner_id == "{user}" and priority == "{}""#,
            g.pick(PRIORITIES)
        ),
        0..=44 => format!(r#"owner_id == "{user}" and stage == "{}""#, g.pick(STAGES)),
        45..=64 if case => format!(
            r#"account_id == "{account}" and status in ["{}", "{}"]"#,
            g.pick(STATUSES),
            g.pick(STATUSES)
        ),
        45..=64 => format!(
            r#"account_id == "{account}" and stage in ["{}", "{}"]"#,
            g.pick(STAGES),
            g.pick(STAGES)
        ),
        65..=84 if case => format!(
            r#"origin == "{}" and priority in ["{}", "{}"]"#,
            g.pick(ORIGINS),
            g.pick(PRIORITIES),
            g.pick(PRIORITIES)
        ),
        65..=84 => format!(
            r#"owner_id == "{user}" and amount > {}"#,
            g.below(100) * 1000
        ),
        85..=94 if case => format!(
            r#"status == "{}" and subject contains "VPN""#,
            g.pick(STATUSES)
        ),
        85..=94 => format!(
            r#"stage == "{}" and probability >= {}"#,
            g.pick(STAGES),
            g.below(100)
        ),
        95..=98 if case => format!(r#"created_at > now() - {}d"#, g.below(1000)),
        95..=98 => format!("amount > {}", g.below(1000) * 10_000),
        _ if case => format!(r#"priority == "critical" or owner_id == "{user}""#),
        _ => format!(r#"stage == "Negotiation" or owner_id == "{user}""#),
    }
}

/// `count` automations spread over the event types, their conditions checked.
pub fn automations(count: usize, schema: &Schema) -> anyhow::Result<Vec<DispatchEntry<u32>>> {
    let mut g = Gen(42);
    (0..count)
        .map(|i| {
            let (event, object) = EVENTS[i % EVENTS.len()];
            let text = condition(&mut g, object);
            let ast = automations_compiler::grammar::parse_expr(&text)
                .map_err(|e| anyhow::anyhow!("{text}: {e:?}"))?;
            let (typed, diags) =
                check_condition(&ast, &ExprScope::for_object(object, event), schema);
            let typed = typed.ok_or_else(|| {
                anyhow::anyhow!(
                    "{text}: {:?}",
                    diags.iter().map(|d| &d.message).collect::<Vec<_>>()
                )
            })?;
            Ok(DispatchEntry {
                key: i as u32,
                event: event.into(),
                object: Some(object.into()),
                condition: Some(typed),
            })
        })
        .collect()
}

/// The event: a case update.
pub fn event_record() -> serde_json::Value {
    json!({
        "id": "case-1",
        "subject": "VPN down again",
        "priority": "high",
        "status": "open",
        "origin": "email",
        "owner_id": "user-7",
        "account_id": "acc-3",
        "created_at": "2024-05-30T10:00:00Z",
    })
}

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
    pub always_evaluated: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub points: Vec<Point>,
    pub under_1us_at_10000: Option<bool>,
}

pub const SIZES: &[usize] = &[10, 100, 1_000, 10_000, 100_000];

pub fn run(budget: &Budget, log: &mut dyn FnMut(&str)) -> anyhow::Result<Report> {
    let schema = Arc::new(Schema::builtin());
    let record = event_record();
    let input = EvalInput::record(&record, NOW_MS);
    let mut points = Vec::new();
    for &n in SIZES {
        log(&format!("dispatch: {n} automations"));
        let entries = automations(n, &schema)?;
        let started = Instant::now();
        let index = DispatchIndex::build(entries, schema.clone());
        let build_ms = started.elapsed().as_secs_f64() * 1e3;
        let matched = index.matches("case.updated", &input);
        anyhow::ensure!(
            matched == index.full_scan("case.updated", &input),
            "the index and the full scan disagree at {n}"
        );
        let ns_per_event = measure::ns_per_op(budget, |k| {
            for _ in 0..k {
                black_box(index.matches(black_box("case.updated"), black_box(&input)));
            }
        });
        let ns_full_scan = (n <= 10_000).then(|| {
            measure::ns_per_op(budget, |k| {
                for _ in 0..k {
                    black_box(index.full_scan(black_box("case.updated"), black_box(&input)));
                }
            })
        });
        let stats = index.stats();
        points.push(Point {
            automations: n,
            of_event_type: index.keys_of("case.updated").count(),
            matched: matched.len(),
            ns_per_event,
            ns_full_scan,
            build_ms,
            equality_indexed: stats.equality_indexed,
            range_indexed: stats.range_indexed,
            always_evaluated: stats.always_evaluated,
        });
    }
    let under = points
        .iter()
        .find(|p| p.automations == 10_000)
        .map(|p| p.ns_per_event < 1_000.0);
    Ok(Report {
        points,
        under_1us_at_10000: under,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_automations_check_and_the_index_agrees_with_the_full_scan() {
        let schema = Arc::new(Schema::builtin());
        let entries = automations(500, &schema).unwrap();
        let index = DispatchIndex::build(entries, schema);
        let record = event_record();
        let input = EvalInput::record(&record, NOW_MS);
        let matched = index.matches("case.updated", &input);
        assert_eq!(matched, index.full_scan("case.updated", &input));
        assert!(!matched.is_empty());
    }
}
