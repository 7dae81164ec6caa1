//! `in` against constant lists: every length and kind of list, and the short lists the
//! compiled evaluator compares inline.

use automations_compiler::typed::{BinaryOp, TExpr, Type};
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use super::{Gen, check_pair};
use crate::eval_support::*;

/// Short constant `in` lists (compared by kind) agree with the reference on every kind of
/// value, as do long ones (searched).
#[test]
fn in_lists_of_every_length_and_kind_agree_with_reference() {
    let lists: Vec<(Vec<TExpr>, Type)> = vec![
        (vec![], Type::String),
        (vec![s("high")], Type::String),
        (vec![s("high"), s("low")], Type::String),
        (
            vec![s("a string longer than sixteen bytes"), s("high")],
            Type::String,
        ),
        (vec![s(""), s("é"), s("hig"), s("high")], Type::String),
        (vec![n(5.0), n(-0.0)], Type::Number),
        (vec![n(1.0), n(2.0), n(3.0), n(5.0), n(8.0)], Type::Number),
        ((0..6).map(|i| s(&format!("p{i}"))).collect(), Type::String),
    ];
    let values = [
        json!("high"),
        json!("hig"),
        json!(""),
        json!("é"),
        json!("a string longer than sixteen bytes"),
        json!(5),
        json!(0),
        json!("5"),
        json!(null),
        json!(true),
        json!("p3"),
        json!(8),
    ];
    for (items, elem) in lists {
        let is_text = elem == Type::String;
        let list = list(items, elem.clone());
        let subject = if is_text {
            field("subject", Type::String)
        } else {
            field("amount", Type::Number)
        };
        let e = bin(BinaryOp::In, subject, list);
        for v in &values {
            let record = json!({ "subject": v, "amount": v });
            check_pair(&e, &record, None, &json!({}));
        }
    }
}

/// The inline fast paths for `in` lists of one to four items (strings of up to 16 bytes
/// compared as words, numbers with `==`) agree with the reference evaluator on random
/// lists and subjects: same-length near misses, the empty string, multi-byte text, -0,
/// NaN-free numbers, and values of the other kind.
#[test]
fn short_in_lists_agree_with_reference() {
    let alphabet = [
        "a", "b", "é", "ab", "ba", "high", "hig", "higH", "critical", "critica1",
    ];
    let texts = [
        "",
        "a",
        "b",
        "é",
        "ab",
        "ba",
        "abc",
        "high",
        "hig",
        "higH",
        "critical",
        "critica1",
        "sixteen_bytes_16",
        "sixteen_bytes_1x",
        "seventeen_bytes_1",
    ];
    let numbers = [0.0, -0.0, 1.0, 2.5, -3.0, 1e300, 16.0];
    let mut runner = TestRunner::new(Config {
        cases: 500,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::num::u64::ANY, |seed| {
            let mut g = Gen(seed);
            let len = 1 + g.below(4);
            let strings = g.chance(60);
            let (items, elem, subject) = if strings {
                let items = (0..len).map(|_| s(g.pick(&texts[..]))).collect();
                (items, Type::String, field("subject", Type::String))
            } else {
                let items = (0..len).map(|_| n(g.pick(&numbers[..]))).collect();
                (items, Type::Number, field("amount", Type::Number))
            };
            let e = bin(BinaryOp::In, subject, list(items, elem));
            for _ in 0..20 {
                let v = match g.below(5) {
                    0 => json!(g.pick(&texts[..])),
                    1 => json!(format!(
                        "{}{}",
                        g.pick(&alphabet[..]),
                        g.pick(&alphabet[..])
                    )),
                    2 => json!(g.pick(&numbers[..])),
                    3 => json!(null),
                    _ => json!(g.chance(50)),
                };
                let record = json!({ "subject": v, "amount": v });
                check_pair(&e, &record, None, &json!({}));
            }
            Ok(())
        })
        .unwrap();
}
