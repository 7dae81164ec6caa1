//! Clause shapes with fast paths in the compiled evaluator (inline comparisons, text
//! search, negation, merged equality chains) against the reference evaluator.

use automations_compiler::typed::{BinaryOp, Func, LogicOp, TExpr, Type};
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use super::{DAY, Gen, check_pair, list_of};
use crate::eval_support::*;

/// Clauses of the shapes the compiled evaluator answers inline (`Fast`: text, number and
/// bool `==`/`!=` with the constant on either side, the four comparisons, a bare bool
/// field, a datetime against `now()` / `now() ± d`, `starts_with`/`ends_with`, `is null`,
/// `has`, bare `changed`, `not` of each), alone, in `and`/`or` chains of one to five and
/// nested one level, agree with the reference evaluator on records with every kind in
/// every field.
#[test]
fn inline_clause_shapes_agree_with_reference() {
    let texts = [
        "",
        "a",
        "open",
        "closed",
        "escalated",
        "sixteen_bytes_16",
        "a much longer text",
    ];
    let numbers = [0.0, -0.0, 1.0, 80.0, 50000.0, -1e300];
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::num::u64::ANY, |seed| {
            let mut g = Gen(seed);
            let clause = |g: &mut Gen| -> TExpr {
                let text = field("status", Type::String);
                let number = field("amount", Type::Number);
                let (f, c) = if g.chance(50) {
                    (text, s(g.pick(&texts[..])))
                } else {
                    (number, n(g.pick(&numbers[..])))
                };
                let is_number = f.ty == Type::Number;
                let ops: &[BinaryOp] = if is_number {
                    &[
                        BinaryOp::Eq,
                        BinaryOp::Ne,
                        BinaryOp::Lt,
                        BinaryOp::Le,
                        BinaryOp::Gt,
                        BinaryOp::Ge,
                    ]
                } else {
                    &[BinaryOp::Eq, BinaryOp::Ne]
                };
                let active = field("active", Type::Bool);
                let due = field("due", Type::DateTime);
                let text_ops = [BinaryOp::StartsWith, BinaryOp::EndsWith];
                let cmp_ops = [BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge];
                let one = match g.below(10) {
                    0 => is_null(f, g.chance(50)),
                    1 => call(Func::Has, vec![f], Type::Bool),
                    2 => changed(if is_number { "amount" } else { "status" }, None, None),
                    3 => bin(g.pick(ops), c, f),
                    4 => active,
                    5 if g.chance(50) => bin(
                        g.pick(&[BinaryOp::Eq, BinaryOp::Ne]),
                        active,
                        b(g.chance(50)),
                    ),
                    5 => bin(
                        g.pick(&[BinaryOp::Eq, BinaryOp::Ne]),
                        b(g.chance(50)),
                        active,
                    ),
                    6 => bin(
                        g.pick(&text_ops),
                        field("status", Type::String),
                        s(g.pick(&texts[..])),
                    ),
                    7 | 8 => {
                        let bound = match g.below(3) {
                            0 => now(),
                            1 => bin(BinaryOp::Sub, now(), dur(g.below(400) as i64 * DAY)),
                            _ => bin(BinaryOp::Add, now(), dur(g.below(400) as i64 * DAY)),
                        };
                        if g.chance(50) {
                            bin(g.pick(&cmp_ops), due, bound)
                        } else {
                            bin(g.pick(&cmp_ops), bound, due)
                        }
                    }
                    _ => bin(g.pick(ops), f, c),
                };
                if g.chance(20) { not(one) } else { one }
            };
            let chain = |g: &mut Gen, depth: u32| -> TExpr {
                let op = if g.chance(50) {
                    LogicOp::And
                } else {
                    LogicOp::Or
                };
                let len = 1 + g.below(5);
                let mut items = Vec::new();
                for _ in 0..len {
                    items.push(if depth > 0 && g.chance(30) {
                        let inner = if op == LogicOp::And {
                            LogicOp::Or
                        } else {
                            LogicOp::And
                        };
                        logic(inner, (0..1 + g.below(3)).map(|_| clause(g)).collect())
                    } else {
                        clause(g)
                    });
                }
                if len == 1 && g.chance(50) {
                    items.pop().unwrap()
                } else {
                    logic(op, items)
                }
            };
            let e = chain(&mut g, 1);
            let value = |g: &mut Gen| match g.below(5) {
                0 => json!(g.pick(&texts[..])),
                1 => json!(g.pick(&numbers[..])),
                2 => json!(null),
                3 => json!(g.chance(50)),
                _ => json!([g.pick(&texts[..])]),
            };
            let date = |g: &mut Gen| match g.below(4) {
                0 => json!(null),
                1 => json!("not a date"),
                _ => json!(automations_compiler::eval::convert::format_datetime(
                    NOW_MS + (g.below(800) as i64 - 400) * DAY + g.below(3) as i64 - 1
                )),
            };
            let record_of = |g: &mut Gen| {
                json!({
                    "status": value(g),
                    "amount": value(g),
                    "active": if g.chance(70) { json!(g.chance(50)) } else { value(g) },
                    "due": date(g),
                })
            };
            for _ in 0..20 {
                let record = record_of(&mut g);
                let previous = match g.below(3) {
                    0 => None,
                    1 => Some(record_of(&mut g)),
                    _ => Some(record.clone()),
                };
                check_pair(&e, &record, previous.as_ref(), &json!({}));
            }
            Ok(())
        })
        .unwrap();
}

/// Constants of the texts tests: empty, short, non-ASCII, at and past 16 bytes.
const NEEDLES: [&str; 9] = [
    "",
    "a",
    "VPN",
    "ü",
    "日本",
    "refund",
    "sixteen_bytes_16",
    "seventeen_bytes_17",
    "a needle that is longer than sixteen bytes",
];

/// The shapes with fast paths of their own agree with the reference evaluator: `contains`
/// of a constant (needles short and long, empty, non-ASCII; texts shorter and longer
/// than the short-text scan, lists, other kinds, absent fields), `not` of every shape
/// (folded into the clause), `starts_with`/`ends_with` up to and past 16 bytes, and
/// nested chains whose equalities on one field merge into one `in` (up to four, more
/// than four, mixed with other fields, negated).
#[test]
fn search_negation_and_merged_shapes_agree_with_reference() {
    let needles = NEEDLES;
    let long = "x".repeat(70);
    let texts = [
        String::new(),
        "a".into(),
        "VPN".into(),
        "vpn down in Zürich".into(),
        "日本語のテキスト".into(),
        "Customer asks for a refund".into(),
        "sixteen_bytes_16".into(),
        format!("{long}refund"),
        format!("refund{long}"),
        format!("{long}日本{long}"),
        format!("{long}a needle that is longer than sixteen bytes"),
        long.clone(),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::num::u64::ANY, |seed| {
            let mut g = Gen(seed);
            let clause = |g: &mut Gen| -> TExpr {
                let name = g.pick(&["subject", "status"]);
                let f = field(name, Type::String);
                let needle = s(g.pick(&needles[..]));
                let one = match g.below(8) {
                    0 | 1 => bin(BinaryOp::Contains, f, needle),
                    2 => bin(
                        BinaryOp::Contains,
                        field("tags", list_of(Type::String)),
                        needle,
                    ),
                    3 => bin(
                        g.pick(&[BinaryOp::StartsWith, BinaryOp::EndsWith]),
                        f,
                        needle,
                    ),
                    4 => {
                        let items = (0..g.below(6)).map(|_| s(g.pick(&needles[..]))).collect();
                        bin(BinaryOp::In, f, list(items, Type::String))
                    }
                    5 => field("active", Type::Bool),
                    6 => is_null(f, g.chance(50)),
                    _ => bin(g.pick(&[BinaryOp::Eq, BinaryOp::Ne]), f, needle),
                };
                if g.chance(30) { not(one) } else { one }
            };
            // Chains of equalities of one field, nested two deep, sometimes negated.
            let chain = |g: &mut Gen, depth: u32| -> TExpr {
                fn build(g: &mut Gen, depth: u32, clause: &dyn Fn(&mut Gen) -> TExpr) -> TExpr {
                    let op = g.pick(&[LogicOp::And, LogicOp::Or]);
                    let same_field = g.chance(50);
                    let items = (0..1 + g.below(6))
                        .map(|_| {
                            if depth > 0 && g.chance(25) {
                                build(g, depth - 1, clause)
                            } else if same_field {
                                let eq = g.pick(&[BinaryOp::Eq, BinaryOp::Ne]);
                                bin(eq, field("status", Type::String), s(g.pick(&NEEDLES[..])))
                            } else {
                                clause(g)
                            }
                        })
                        .collect();
                    let e = logic(op, items);
                    if g.chance(20) { not(e) } else { e }
                }
                build(g, depth, &clause)
            };
            let e = if g.chance(30) {
                clause(&mut g)
            } else {
                chain(&mut g, 2)
            };
            let text = |g: &mut Gen| g.pick(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
            let value = |g: &mut Gen| match g.below(7) {
                0 => json!(null),
                1 => json!(3),
                2 => json!(true),
                3 => json!([texts[text(g)], g.pick(&needles[..])]),
                _ => json!(texts[text(g)]),
            };
            for _ in 0..20 {
                let mut record = json!({});
                for name in ["subject", "status", "tags", "active"] {
                    // Absent about one time in six.
                    if g.below(6) > 0 {
                        record[name] = if name == "active" && g.chance(60) {
                            json!(g.chance(50))
                        } else {
                            value(&mut g)
                        };
                    }
                }
                check_pair(&e, &record, None, &json!({}));
            }
            Ok(())
        })
        .unwrap();
}
