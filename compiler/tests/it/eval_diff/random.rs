//! Random records (right kinds, nulls, missing fields, wrong kinds) and the main test:
//! random expressions on random records agree between the compiled and reference
//! evaluators.

use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value as Json, json};

use super::expr_gen::{ExprGen, KINDS, Kind, NUMBERS, STRINGS, random_ms};
use super::{DAY, Gen, check_pair};

const EXPRESSIONS: u32 = 2_000;
const RECORDS_PER_EXPRESSION: usize = 50;

fn random_string(g: &mut Gen) -> Json {
    let mut text = String::new();
    for _ in 0..g.below(3) {
        text.push_str(g.pick(&STRINGS));
    }
    json!(text)
}

/// A field value of the given kind: usually right, sometimes null, missing or the wrong kind.
fn random_value(g: &mut Gen, kind: Kind) -> Option<Json> {
    match g.below(20) {
        0..=2 => return None,
        3 | 4 => return Some(Json::Null),
        5 => return Some(json!(g.pick(&NUMBERS).clamp(-1e300, 1e300))),
        _ => {}
    }
    Some(match kind {
        Kind::Bool => json!(g.chance(50)),
        Kind::Num => json!(g.pick(&NUMBERS).clamp(-1e300, 1e300)),
        Kind::Str => random_string(g),
        Kind::Dt => match g.below(4) {
            0 => json!("not a date"),
            1 => json!(random_ms(g)),
            _ => json!(automations_compiler::eval::convert::format_datetime(
                random_ms(g)
            )),
        },
        Kind::Dur => match g.below(3) {
            0 => json!(g.pick(&["90s", "2d", "48h", "3x"])),
            _ => json!(g.pick(&[0, 1_000, DAY, 7 * DAY])),
        },
        Kind::ListStr => Json::Array(
            (0..g.below(4))
                .map(|_| random_value(g, Kind::Str).unwrap_or(Json::Null))
                .collect(),
        ),
        Kind::ListNum => Json::Array(
            (0..g.below(4))
                .map(|_| random_value(g, Kind::Num).unwrap_or(Json::Null))
                .collect(),
        ),
    })
}

fn random_record(g: &mut Gen) -> Json {
    let fields = [
        ("subject", Kind::Str),
        ("description", Kind::Str),
        ("priority", Kind::Str),
        ("amount", Kind::Num),
        ("probability", Kind::Num),
        ("flag", Kind::Bool),
        ("due", Kind::Dt),
        ("close_date", Kind::Dt),
        ("sla", Kind::Dur),
        ("tags", Kind::ListStr),
        ("scores", Kind::ListNum),
    ];
    let mut map = serde_json::Map::new();
    for (name, kind) in fields {
        if name == "priority" && g.chance(70) {
            map.insert(
                name.into(),
                json!(g.pick(&["low", "medium", "high", "critical"])),
            );
        } else if let Some(v) = random_value(g, kind) {
            map.insert(name.into(), v);
        }
    }
    Json::Object(map)
}

#[test]
fn compiled_agrees_with_reference() {
    let mut runner = TestRunner::new(Config {
        cases: EXPRESSIONS,
        failure_persistence: None,
        ..Config::default()
    });
    let pairs = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(
            &(proptest::num::u64::ANY, proptest::num::u64::ANY),
            |(expr_seed, record_seed)| {
                let mut eg = ExprGen {
                    g: Gen(expr_seed),
                    locals: 0,
                };
                let depth = 1 + eg.g.below(4) as u32;
                // Mostly conditions; some value expressions (params, templates) too.
                let e = if eg.g.chance(70) {
                    eg.boolean(depth)
                } else {
                    let k = eg.g.pick(&KINDS);
                    eg.any(k, depth)
                };
                let mut rg = Gen(record_seed);
                let event = json!({"kind": rg.pick(&["VPN", "critical", ""])});
                for _ in 0..RECORDS_PER_EXPRESSION {
                    let record = random_record(&mut rg);
                    let previous = if rg.chance(50) {
                        Some(random_record(&mut rg))
                    } else {
                        None
                    };
                    check_pair(&e, &record, previous.as_ref(), &event);
                    pairs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(())
            },
        )
        .unwrap();
    assert!(pairs.into_inner() >= 100_000);
}
