//! A plain loop for counting, with callgrind, what one evaluation of a realistic CRM
//! condition costs through the public library API (issue 22's target: within 2x of the
//! same condition written by hand in Rust): `crm_loop ENGINE CONDITION ITERATIONS` with
//! ENGINE `compiled`, `hand`, `reference` or `fill` (preparing the record: its JSON into
//! the condition's slots and one evaluation: minus `compiled`, the per-event cost of
//! preparing it) and CONDITION `1`..`5` (the target's five) or `6`, `7` (shapes of the
//! bench crate's corpus: a datetime against `now() + 7d`, `ends_with`, `not (.. in ..)`). Run it with 0 and
//! with N iterations; the difference in instructions divided by N is one evaluation
//! (the harness loop included, the same for every engine).
//!
//! The record is prepared once, outside the loop: converted to slots for the compiled
//! evaluator, to a plain struct for the hand-written code. Each record makes every clause
//! of its condition run (an `and` of true clauses, an `or` whose first clause is false).

use std::hint::black_box;

use automations_compiler::eval::{EvalInput, reference};
use automations_compiler::pipeline::{ConditionCompiler, ConditionInput};
use automations_compiler::schema::Schema;
use serde_json::{Value as Json, json};

/// (object, condition text, record, previous record) of each measured condition.
fn corpus() -> Vec<(&'static str, &'static str, Json, Option<Json>)> {
    vec![
        (
            "case",
            r#"priority in ["high", "critical"] and status != "closed""#,
            json!({"id": "c1", "priority": "critical", "status": "open"}),
            None,
        ),
        (
            "opportunity",
            r#"amount >= 50000 and stage == "Negotiation""#,
            json!({"id": "o1", "amount": 72000, "stage": "Negotiation"}),
            None,
        ),
        (
            "case",
            r#"changed(status) and status == "escalated""#,
            json!({"id": "c2", "status": "escalated"}),
            Some(json!({"id": "c2", "status": "open"})),
        ),
        (
            "lead",
            r#"score > 80 and source in ["referral", "partner", "event"]"#,
            json!({"id": "l1", "score": 91, "source": "event"}),
            None,
        ),
        (
            "case",
            r#"subject contains "outage" or origin == "phone""#,
            json!({"id": "c3", "subject": "Printer jam on floor 2", "origin": "phone"}),
            None,
        ),
        // Not in the five of the target: shapes of the bench crate's corpus.
        (
            "opportunity",
            r#"stage != "Closed Won" and close_date < now() + 7d"#,
            json!({"id": "o2", "stage": "Proposal", "close_date": "2026-12-06T00:00:00Z"}),
            None,
        ),
        (
            "lead",
            r#"email ends_with "@acme.com" and not (status in ["disqualified", "working"])"#,
            json!({"id": "l2", "email": "ada@acme.com", "status": "new"}),
            None,
        ),
    ]
}

/// The records as a hand-written engine would hold them once prepared.
struct Prepared {
    priority: String,
    status: String,
    previous_status: Option<String>,
    amount: f64,
    stage: String,
    score: f64,
    source: String,
    subject: String,
    origin: String,
    close_date_ms: i64,
    email: String,
}

/// The clock of every evaluation: 2026-12-04T00:00:00Z.
const NOW_MS: i64 = 1_796_342_400_000;
const DAY_MS: i64 = 86_400_000;

fn hand(which: usize, r: &Prepared) -> bool {
    match which {
        1 => matches!(r.priority.as_str(), "high" | "critical") && r.status != "closed",
        2 => r.amount >= 50000.0 && r.stage == "Negotiation",
        3 => r.previous_status.as_deref().is_some_and(|p| p != r.status) && r.status == "escalated",
        4 => r.score > 80.0 && matches!(r.source.as_str(), "referral" | "partner" | "event"),
        5 => r.subject.contains("outage") || r.origin == "phone",
        6 => r.stage != "Closed Won" && r.close_date_ms < NOW_MS + 7 * DAY_MS,
        _ => {
            r.email.ends_with("@acme.com")
                && !matches!(r.status.as_str(), "disqualified" | "working")
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [engine, which, iterations] = &args[..] else {
        eprintln!("usage: crm_loop compiled|hand|reference|fill 1..7 ITERATIONS");
        std::process::exit(2);
    };
    let which: usize = which.parse().expect("CONDITION is 1..7");
    let n: u64 = iterations.parse().expect("ITERATIONS is a number");
    let corpus = corpus();
    let (object, text, record, previous) = &corpus[which - 1];
    let compiler = ConditionCompiler::new(Schema::builtin());
    let condition = compiler.compile(text, object).expect("the corpus checks");
    let input = ConditionInput {
        previous: previous.as_ref(),
        ..ConditionInput::record(record, NOW_MS)
    };
    let slots = condition.fill(&input);
    let field = |j: &Json, k: &str| j.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
    let number = |k: &str| record.get(k).and_then(Json::as_f64).unwrap_or(f64::NAN);
    let prepared = Prepared {
        priority: field(record, "priority"),
        status: field(record, "status"),
        previous_status: previous.as_ref().map(|p| field(p, "status")),
        amount: number("amount"),
        stage: field(record, "stage"),
        score: number("score"),
        source: field(record, "source"),
        subject: field(record, "subject"),
        origin: field(record, "origin"),
        close_date_ms: 1_796_515_200_000,
        email: field(record, "email"),
    };
    let mut hits = 0u64;
    match engine.as_str() {
        "compiled" => {
            for _ in 0..n {
                hits += condition.eval_slots(black_box(&slots)) as u64;
            }
        }
        "hand" => {
            for _ in 0..n {
                hits += hand(black_box(which), black_box(&prepared)) as u64;
            }
        }
        "fill" => {
            let mut reused = slots.clone();
            for _ in 0..n {
                condition.fill_into(black_box(&input), &mut reused);
                hits += condition.eval_slots(black_box(&reused)) as u64;
            }
        }
        "reference" => {
            let (typed, layout) = reference_parts(&compiler, object, text);
            let input = EvalInput {
                previous: previous.as_ref(),
                ..EvalInput::record(record, NOW_MS)
            };
            for _ in 0..n {
                hits +=
                    reference::evaluate_bool(black_box(&typed), &input, layout.references()) as u64;
            }
        }
        other => panic!("no engine {other}"),
    }
    let expected = expected_hits(&condition, &slots, n);
    assert_eq!(
        hits, expected,
        "{engine} disagrees with the compiled evaluator"
    );
    println!("{engine} {which}: {hits}/{n}");
}

fn expected_hits(
    condition: &automations_compiler::pipeline::Condition,
    slots: &automations_compiler::pipeline::Slots,
    n: u64,
) -> u64 {
    condition.eval_slots(slots) as u64 * n
}

/// The typed tree and layout the reference evaluator walks.
fn reference_parts(
    compiler: &ConditionCompiler,
    object: &str,
    text: &str,
) -> (
    automations_compiler::typed::TExpr,
    automations_compiler::eval::SlotLayout,
) {
    use automations_compiler::check::{ExprScope, check_condition};
    let expr = automations_compiler::grammar::parse_expr(text).expect("parses");
    let scope = ExprScope::for_object(object, &format!("{object}.updated"));
    let (typed, _) = check_condition(&expr, &scope, compiler.schema());
    let layout = automations_compiler::eval::SlotLayout::new();
    (typed.expect("checks"), layout)
}
