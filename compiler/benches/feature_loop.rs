//! A plain loop for counting, with callgrind, what single features of the compiled
//! evaluator cost (issue 22's "seen on the way"): `feature_loop CASE ITERATIONS`, run with 0
//! and with N iterations; the difference in instructions divided by N is one iteration.
//!
//! - `in_short`: evaluating `priority in ["high", "critical"]` (a short `in` list).
//! - `fill_nested`: filling the slots of `details.level` and `details.owner` on a record
//!   whose `details` is a nested object of 40 entries.
//! - `fill_changed`: filling the slots of `changed(subject) and subject == "x"` (one
//!   field read untyped and as text).
//! - `compile_pairs`: parse + check + compile of 100 mixed `(a or b)` pairs.

#[path = "support/shapes.rs"]
mod shapes;

use std::hint::black_box;

use automations_compiler::eval::{EvalInput, SlotLayout, fill_slots};
use automations_compiler::typed::{FieldRef, Root, Type};
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [case, iterations] = &args[..] else {
        eprintln!("usage: feature_loop CASE ITERATIONS");
        std::process::exit(2);
    };
    let n: u64 = iterations.parse().expect("ITERATIONS is a number");
    let record = json!({"id": "c1", "subject": "x", "priority": "critical"});
    let mut hits = 0u64;
    match case.as_str() {
        "in_short" => {
            let (c, layout) = shapes::parse_check_compile("priority in [\"high\", \"critical\"]");
            let slots = fill_slots(&layout, &EvalInput::record(&record, 0));
            hits = (0..n).filter(|_| c.eval(black_box(&slots))).count() as u64;
        }
        "fill_nested" => {
            let mut details = serde_json::Map::new();
            for i in 0..40 {
                details.insert(format!("key{i}"), json!(format!("value {i}")));
            }
            details.insert("level".into(), json!("gold"));
            details.insert("owner".into(), json!("ada"));
            let record = json!({"id": "c1", "details": details});
            let mut layout = SlotLayout::new();
            for leaf in ["level", "owner"] {
                let f = FieldRef {
                    root: Root::Record,
                    path: vec!["details".into(), leaf.into()],
                };
                layout.slot_typed(&f, &Type::String);
            }
            for _ in 0..n {
                hits += fill_slots(&layout, &EvalInput::record(black_box(&record), 0)).len() as u64;
            }
        }
        "fill_changed" => {
            let (_, layout) = shapes::parse_check_compile("changed(subject) and subject == \"x\"");
            let previous = json!({"id": "c1", "subject": "y"});
            let input = EvalInput {
                previous: Some(&previous),
                ..EvalInput::record(&record, 0)
            };
            for _ in 0..n {
                hits += fill_slots(&layout, black_box(&input)).len() as u64;
            }
        }
        "compile_pairs" => {
            let text = shapes::text("mixed_pairs", 100);
            for _ in 0..n {
                let (c, _) = shapes::parse_check_compile(black_box(&text));
                hits += c.eval(&[]) as u64;
            }
        }
        other => panic!("no case {other}"),
    }
    println!("{case}: {hits}/{n}");
}
