//! Differential test: the compiled evaluator must agree with the reference evaluator on
//! random well-typed expressions over random records (nulls, missing fields, wrong kinds,
//! huge and tiny numbers, empty and non-ASCII strings).
//!
//! Proptest drives the seeds; expressions and records are built from them by a small
//! deterministic generator (typed generation is far simpler that way). A failure prints the
//! expression and the record, which is what debugging needs.

use std::sync::Arc;

use automations_compiler::eval::reference;
use automations_compiler::eval::{EvalInput, SlotLayout, compile, compile_expr, fill_slots};
use automations_compiler::typed::{
    BinaryOp, FieldRef, Func, LogicOp, Root, TExpr, TExprKind, Type,
};
use automations_compiler::value::Value;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value as Json, json};

use crate::eval_support::*;

const EXPRESSIONS: u32 = 2_000;
const RECORDS_PER_EXPRESSION: usize = 50;

/// splitmix64: tiny, deterministic, good enough to pick shapes.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Bool,
    Num,
    Str,
    Dt,
    Dur,
    ListStr,
    ListNum,
}

const KINDS: [Kind; 7] = [
    Kind::Bool,
    Kind::Num,
    Kind::Str,
    Kind::Dt,
    Kind::Dur,
    Kind::ListStr,
    Kind::ListNum,
];
const STRINGS: [&str; 12] = [
    "", "VPN", "vpn", "critical", "low", "open", "é", "ß", "Zürich", "a", "ab", "日本",
];
const NUMBERS: [f64; 12] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    2.5,
    3.0,
    0.1,
    1e308,
    -1e308,
    1e-300,
    12_500_000.0,
    50.0,
];
const PATTERNS: [&str; 5] = ["^V", "[a-z]+$", "ü", "^$", "("];
const DAY: i64 = 86_400_000;

fn priority_type() -> Type {
    picklist(&["low", "medium", "high", "critical"])
}

fn list_of(t: Type) -> Type {
    Type::List(Box::new(t))
}

fn konst(v: Value, t: Type) -> TExpr {
    texpr(TExprKind::Const(v), t)
}

struct ExprGen {
    g: Gen,
    /// Lambda variables in scope (all strings: quantifiers run over string lists).
    locals: u32,
}

impl ExprGen {
    fn any(&mut self, kind: Kind, depth: u32) -> TExpr {
        match kind {
            Kind::Bool => self.boolean(depth),
            Kind::Num => self.number(depth),
            Kind::Str => self.string(depth),
            Kind::Dt => self.datetime(depth),
            Kind::Dur => self.duration(depth),
            Kind::ListStr => self.list_str(depth),
            Kind::ListNum => self.list_num(depth),
        }
    }

    fn boolean(&mut self, depth: u32) -> TExpr {
        use BinaryOp::*;
        if depth == 0 {
            return match self.g.below(4) {
                0 => b(self.g.chance(50)),
                1 => field("flag", Type::Bool),
                2 => null(),
                _ => eq(
                    field("priority", priority_type()),
                    s(self.g.pick(&["low", "critical", "high"])),
                ),
            };
        }
        let d = depth - 1;
        match self.g.below(14) {
            0 | 1 => {
                // n-ary chains, as the checker builds them (2 to 5 clauses).
                let op = if self.g.chance(50) {
                    LogicOp::And
                } else {
                    LogicOp::Or
                };
                let items = (0..2 + self.g.below(4)).map(|_| self.boolean(d)).collect();
                logic(op, items)
            }
            2 => not(self.boolean(d)),
            3 => {
                let k = self.g.pick(&KINDS);
                let op = if self.g.chance(50) { Eq } else { Ne };
                bin(op, self.any(k, d), self.any(k, d))
            }
            4 => {
                let k = self.g.pick(&[Kind::Num, Kind::Str, Kind::Dt, Kind::Dur]);
                let op = self.g.pick(&[Lt, Le, Gt, Ge]);
                bin(op, self.any(k, d), self.any(k, d))
            }
            5 => match self.g.below(2) {
                0 => bin(In, self.string(d), self.list_str(d)),
                _ => bin(In, self.number(d), self.list_num(d)),
            },
            6 => match self.g.below(2) {
                0 => bin(Contains, self.string(d), self.string(d)),
                _ => bin(Contains, self.list_str(d), self.string(d)),
            },
            7 => {
                let op = if self.g.chance(50) {
                    StartsWith
                } else {
                    EndsWith
                };
                bin(op, self.string(d), self.string(d))
            }
            8 => bin(Matches, self.string(d), s(self.g.pick(&PATTERNS))),
            9 => {
                let k = self.g.pick(&KINDS);
                is_null(self.any(k, d), self.g.chance(50))
            }
            10 => {
                let k = self.g.pick(&KINDS);
                call(Func::Has, vec![self.any(k, d)], Type::Bool)
            }
            11 => self.changed(d),
            12 => self.quantifier(d),
            _ => field("flag", Type::Bool),
        }
    }

    fn changed(&mut self, d: u32) -> TExpr {
        let (name, kind) = self.g.pick(&[
            ("priority", Kind::Str),
            ("amount", Kind::Num),
            ("due", Kind::Dt),
        ]);
        let arg = |g: &mut ExprGen| {
            if g.g.chance(40) {
                Some(g.any(kind, d.min(1)))
            } else {
                None
            }
        };
        let from = arg(self);
        let to = arg(self);
        changed(name, from, to)
    }

    fn quantifier(&mut self, d: u32) -> TExpr {
        let list = self.list_str(d);
        self.locals += 1;
        let body = self.boolean(d);
        self.locals -= 1;
        let all = self.g.chance(50);
        texpr(
            TExprKind::Quantifier {
                all,
                list: Box::new(list),
                body: Box::new(body),
            },
            Type::Bool,
        )
    }

    fn number(&mut self, depth: u32) -> TExpr {
        use BinaryOp::*;
        if depth == 0 || self.g.chance(30) {
            return match self.g.below(5) {
                0 | 1 => n(self.g.pick(&NUMBERS)),
                2 => field("amount", Type::Number),
                3 => field(self.g.pick(&["probability", "nothing"]), Type::Number),
                _ => path(Root::Previous, &["amount"], Type::Number),
            };
        }
        let d = depth - 1;
        match self.g.below(5) {
            0 | 1 => bin(
                self.g.pick(&[Add, Sub, Mul, Div]),
                self.number(d),
                self.number(d),
            ),
            2 => texpr(TExprKind::Neg(Box::new(self.number(d))), Type::Number),
            3 => call(Func::Len, vec![self.string(d)], Type::Number),
            _ => call(Func::Len, vec![self.list_str(d)], Type::Number),
        }
    }

    fn string(&mut self, depth: u32) -> TExpr {
        if self.locals > 0 && self.g.chance(35) {
            let i = self.g.below(self.locals as usize) as u32;
            return texpr(TExprKind::Local(i), Type::String);
        }
        if depth == 0 || self.g.chance(30) {
            return match self.g.below(6) {
                0 | 1 => s(self.g.pick(&STRINGS)),
                2 => field(self.g.pick(&["subject", "description"]), Type::String),
                3 => field("priority", priority_type()),
                4 => path(Root::Event, &["kind"], Type::Any),
                _ => path(Root::Previous, &["priority"], priority_type()),
            };
        }
        let d = depth - 1;
        match self.g.below(4) {
            0 => call(
                self.g.pick(&[Func::Lower, Func::Upper]),
                vec![self.string(d)],
                Type::String,
            ),
            1 => bin(BinaryOp::Add, self.string(d), self.string(d)),
            2 => {
                let parts = (0..1 + self.g.below(3))
                    .map(|_| {
                        let k = self.g.pick(&KINDS);
                        self.any(k, d)
                    })
                    .collect();
                texpr(TExprKind::Template(parts), Type::String)
            }
            _ => s(self.g.pick(&STRINGS)),
        }
    }

    fn datetime(&mut self, depth: u32) -> TExpr {
        use BinaryOp::*;
        if depth == 0 || self.g.chance(30) {
            return match self.g.below(5) {
                0 => konst(Value::DateTime(random_ms(&mut self.g)), Type::DateTime),
                1 => field(self.g.pick(&["due", "close_date"]), Type::DateTime),
                2 => now(),
                3 => call(Func::Today, vec![], Type::DateTime),
                _ => konst(Value::Null, Type::Null),
            };
        }
        let d = depth - 1;
        let op = if self.g.chance(50) { Add } else { Sub };
        bin(op, self.datetime(d), self.duration(d))
    }

    fn duration(&mut self, depth: u32) -> TExpr {
        use BinaryOp::*;
        if depth == 0 || self.g.chance(30) {
            return match self.g.below(3) {
                0 => dur(self.g.pick(&[0, 1_000, DAY, 7 * DAY, -DAY, i64::MAX / 2])),
                1 => field("sla", Type::Duration),
                _ => konst(Value::Null, Type::Null),
            };
        }
        let d = depth - 1;
        match self.g.below(4) {
            0 => bin(Sub, self.datetime(d), self.datetime(d)),
            1 => bin(self.g.pick(&[Add, Sub]), self.duration(d), self.duration(d)),
            2 => bin(self.g.pick(&[Mul, Div]), self.duration(d), self.number(d)),
            _ => texpr(TExprKind::Neg(Box::new(self.duration(d))), Type::Duration),
        }
    }

    fn list_str(&mut self, depth: u32) -> TExpr {
        match self.g.below(4) {
            0 => field("tags", list_of(Type::String)),
            1 if depth > 0 => {
                let items = (0..self.g.below(7))
                    .map(|_| self.string(depth - 1))
                    .collect();
                list(items, Type::String)
            }
            2 => {
                let items: Vec<Value> = (0..self.g.below(7))
                    .map(|_| Value::String(Arc::from(self.g.pick(&STRINGS))))
                    .collect();
                konst(Value::List(items.into()), list_of(Type::String))
            }
            _ => field(self.g.pick(&["tags", "no_tags"]), list_of(Type::String)),
        }
    }

    fn list_num(&mut self, depth: u32) -> TExpr {
        match self.g.below(3) {
            0 => field("scores", list_of(Type::Number)),
            1 if depth > 0 => {
                let items = (0..self.g.below(4))
                    .map(|_| self.number(depth - 1))
                    .collect();
                list(items, Type::Number)
            }
            _ => list(vec![n(1.0), null(), n(12_500_000.0)], Type::Number),
        }
    }
}

fn random_ms(g: &mut Gen) -> i64 {
    NOW_MS + (g.below(20 * 365) as i64 - 10 * 365) * DAY + g.below(DAY as usize) as i64
}

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

fn check_pair(e: &TExpr, record: &Json, previous: Option<&Json>, event: &Json) {
    let input = EvalInput {
        previous,
        event: Some(event),
        ..EvalInput::record(record, NOW_MS)
    };
    let mut layout = SlotLayout::new();
    let cond = compile(e, &mut layout);
    let value = compile_expr(e, &mut layout);
    let slots = fill_slots(&layout, &input);
    let refs = layout.references();
    let expected = reference::evaluate(e, &input, refs);
    let got = value.eval_value(&slots);
    assert_eq!(
        got, expected,
        "values differ\nexpr: {e:#?}\nrecord: {record}\nprevious: {previous:?}"
    );
    let expected_bool = reference::evaluate_bool(e, &input, refs);
    assert_eq!(
        cond.eval(&slots),
        expected_bool,
        "conditions differ\nexpr: {e:#?}\nrecord: {record}"
    );
    assert_eq!(expected_bool, expected == Value::Bool(true));
    // Explaining never panics and agrees with eval.
    assert_eq!(cond.explain(&slots).result, expected_bool);
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

#[test]
fn nested_quantifiers_see_the_right_variable() {
    // any(tags, x => all(["a", "b"], y => x + y != "vpnb"))
    let inner = texpr(
        TExprKind::Quantifier {
            all: true,
            list: Box::new(list(vec![s("a"), s("b")], Type::String)),
            body: Box::new(bin(
                BinaryOp::Ne,
                bin(
                    BinaryOp::Add,
                    texpr(TExprKind::Local(1), Type::String),
                    texpr(TExprKind::Local(0), Type::String),
                ),
                s("vpnb"),
            )),
        },
        Type::Bool,
    );
    let outer = texpr(
        TExprKind::Quantifier {
            all: false,
            list: Box::new(field("tags", list_of(Type::String))),
            body: Box::new(inner),
        },
        Type::Bool,
    );
    let only_vpn = json!({"tags": ["vpn"]});
    assert!(!both(&outer, &EvalInput::record(&only_vpn, NOW_MS)));
    let more = json!({"tags": ["vpn", "lan"]});
    assert!(both(&outer, &EvalInput::record(&more, NOW_MS)));
    let _ = FieldRef {
        root: Root::Record,
        path: vec![],
    };
}

/// One condition reading a field untyped (`changed(f)`) and as a number (`f > 5`): the
/// layout gives each read kind its own slot, so the compiled evaluator agrees with the
/// reference one even when the JSON value converts differently per kind.
#[test]
fn one_field_read_in_two_kinds_agrees_with_reference() {
    let t = |kind, ty| TExpr {
        kind,
        ty,
        span: Default::default(),
    };
    let field = |root: Root| FieldRef {
        root,
        path: vec!["amount".into()],
    };
    let changed = t(
        TExprKind::Changed {
            current: field(Root::Record),
            previous: field(Root::Previous),
            from: None,
            to: None,
        },
        Type::Bool,
    );
    let gt = t(
        TExprKind::Binary {
            op: BinaryOp::Gt,
            lhs: Box::new(t(TExprKind::Field(field(Root::Record)), Type::Number)),
            rhs: Box::new(t(TExprKind::Const(Value::Number(5.0)), Type::Number)),
        },
        Type::Bool,
    );
    let pairs = [
        (json!("10"), json!(10)),
        (json!("x"), json!("y")),
        (json!(10), json!("10")),
        (json!(10), json!(4)),
        (json!(3), json!(3)),
    ];
    for op in [LogicOp::And, LogicOp::Or] {
        for (l, r) in [(&changed, &gt), (&gt, &changed)] {
            let e = t(
                TExprKind::Logic {
                    op,
                    items: vec![l.clone(), r.clone()],
                },
                Type::Bool,
            );
            for (now, before) in &pairs {
                let record = json!({ "amount": now });
                let previous = json!({ "amount": before });
                check_pair(&e, &record, Some(&previous), &json!({}));
            }
        }
    }
    // The case that used to differ: 10 -> "10" is a change to the untyped read, while a
    // slot shared with `amount > 5` read the new value as the number 10.
    let and = t(
        TExprKind::Logic {
            op: LogicOp::And,
            items: vec![changed, gt],
        },
        Type::Bool,
    );
    let mut layout = SlotLayout::new();
    let c = compile(&and, &mut layout);
    let (record, previous) = (json!({"amount": "10"}), json!({"amount": 10}));
    let input = EvalInput {
        previous: Some(&previous),
        ..EvalInput::record(&record, 0)
    };
    assert!(c.eval(&fill_slots(&layout, &input)));
}

/// A field read as text (`priority == "high"`) and untyped (`changed(priority)`) is
/// converted once, the text slot taken from the untyped one when it holds a string or
/// null: every JSON value still reads as the reference evaluator reads it.
#[test]
fn text_and_untyped_reads_of_one_field_agree_with_reference() {
    let text_read = eq(field("priority", priority_type()), s("high"));
    let untyped = changed("priority", None, None);
    let values = [
        json!("high"),
        json!("low"),
        json!(5),
        json!("5"),
        json!(null),
        json!(true),
        json!(["high"]),
    ];
    for op in [LogicOp::And, LogicOp::Or] {
        for items in [
            vec![text_read.clone(), untyped.clone()],
            vec![untyped.clone(), text_read.clone()],
        ] {
            let e = logic(op, items);
            for now in &values {
                for before in &values {
                    let record = json!({ "priority": now });
                    let previous = json!({ "priority": before });
                    check_pair(&e, &record, Some(&previous), &json!({}));
                    check_pair(&e, &json!({}), Some(&previous), &json!({}));
                }
            }
        }
    }
}

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

/// Paths through nested objects and related records read what the JSON holds (the slot
/// filler enters nested objects by reference and fetches each related record once).
#[test]
fn nested_and_related_paths_read_their_values() {
    use automations_compiler::eval::Resolver;
    struct Accounts(std::cell::Cell<usize>);
    impl Resolver for Accounts {
        fn related(&self, object: &str, id: &str) -> Option<Json> {
            self.0.set(self.0.get() + 1);
            (object == "account" && id == "a1")
                .then(|| json!({"tier": "gold", "owner": {"name": "Ada"}, "parent_id": "a1"}))
        }
    }
    let record = json!({
        "details": {"level": "high", "inner": {"deep": 3}, "account_id": "a1"},
        "account_id": "a1",
        "other_id": "x",
    });
    let paths: [(&[&str], Type, Value); 7] = [
        (
            &["details", "level"],
            Type::String,
            Value::String("high".into()),
        ),
        (
            &["details", "inner", "deep"],
            Type::Number,
            Value::Number(3.0),
        ),
        (
            &["account_id", "tier"],
            Type::String,
            Value::String("gold".into()),
        ),
        (
            &["account_id", "owner", "name"],
            Type::String,
            Value::String("Ada".into()),
        ),
        (
            &["details", "account_id", "tier"],
            Type::String,
            Value::String("gold".into()),
        ),
        // `parent_id` names a `parent` by the naming convention: none is known.
        (
            &["account_id", "parent_id", "tier"],
            Type::String,
            Value::Null,
        ),
        (&["details", "missing", "x"], Type::String, Value::Null),
    ];
    let mut layout = SlotLayout::new();
    let slots: Vec<usize> = paths
        .iter()
        .map(|(p, ty, _)| {
            let f = FieldRef {
                root: Root::Record,
                path: p.iter().map(|s| s.to_string()).collect(),
            };
            layout.slot_typed(&f, ty)
        })
        .collect();
    let accounts = Accounts(std::cell::Cell::new(0));
    let input = EvalInput {
        resolver: &accounts,
        ..EvalInput::record(&record, 0)
    };
    let values = fill_slots(&layout, &input);
    for ((p, _, want), slot) in paths.iter().zip(slots) {
        assert_eq!(&values[slot], want, "{p:?}");
    }
    // account a1 at depth 0 (three paths share it), under `details` (depth 1), parent a1.
    assert_eq!(accounts.0.get(), 3);
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
