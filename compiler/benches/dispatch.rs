//! Dispatch benchmark (DESIGN §13): one event against 10,000 active automations through
//! the index (target: under 5 µs per event), the same against 10 automations for scale,
//! the full scan (reference evaluator, the test oracle) for contrast, and the build time.
//!
//! The workload: 10,000 automations over 5 event types (2,000 each), mostly equality and
//! range conditions as CRM admins write them:
//! - 45% `owner_id == "user-K" and priority == P`            (K in 0..500)
//! - 20% `account_id == "acc-K" and status in [S1, S2]`       (K in 0..1000)
//! - 20% `owner_id == "user-K" and amount > T` (opportunities) / `origin == O and
//!   priority in [..]` (cases)
//! - 10% `stage == S and probability >= P` / `status == S and subject contains "VPN"`
//! -  4% a pure range: `amount > T` / `created_at > D`
//! -  1% a top-level `or` (evaluated on every event of its type)
//!
//! Run: `cargo bench -p automations-compiler --bench dispatch`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use automations_compiler::dispatch::{DispatchEntry, DispatchIndex};
use automations_compiler::eval::EvalInput;
use automations_compiler::schema::Schema;
use automations_compiler::typed::{
    BinaryOp, FieldRef, LogicOp, Root, Span, TExpr, TExprKind, Type,
};
use automations_compiler::value::Value;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const NOW_MS: i64 = 1_717_245_296_000;

fn node(kind: TExprKind, ty: Type) -> TExpr {
    TExpr {
        kind,
        ty,
        span: Span::default(),
    }
}

fn field(name: &str, ty: Type) -> TExpr {
    node(
        TExprKind::Field(FieldRef {
            root: Root::Record,
            path: vec![name.into()],
        }),
        ty,
    )
}

fn text(s: &str) -> TExpr {
    node(TExprKind::Const(Value::String(Arc::from(s))), Type::String)
}

fn num(x: f64) -> TExpr {
    node(TExprKind::Const(Value::Number(x)), Type::Number)
}

fn texts(items: &[&str]) -> TExpr {
    node(
        TExprKind::List(items.iter().map(|s| text(s)).collect()),
        Type::List(Box::new(Type::String)),
    )
}

fn bin(op: BinaryOp, lhs: TExpr, rhs: TExpr) -> TExpr {
    node(
        TExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        Type::Bool,
    )
}

fn logic(op: LogicOp, a: TExpr, b: TExpr) -> TExpr {
    node(
        TExprKind::Logic {
            op,
            items: vec![a, b],
        },
        Type::Bool,
    )
}

fn and(a: TExpr, b: TExpr) -> TExpr {
    logic(LogicOp::And, a, b)
}

fn eq(f: &str, ty: Type, c: &str) -> TExpr {
    bin(BinaryOp::Eq, field(f, ty), text(c))
}

/// splitmix64
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
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const PRIORITIES: &[&str] = &["low", "medium", "high", "critical"];
const STATUSES: &[&str] = &["new", "open", "pending", "escalated", "closed"];
const ORIGINS: &[&str] = &["email", "web", "phone", "chat"];
const STAGES: &[&str] = &["Prospecting", "Qualification", "Proposal", "Negotiation"];
const EVENTS: &[(&str, &str)] = &[
    ("case.created", "case"),
    ("case.updated", "case"),
    ("case.priority_changed", "case"),
    ("opportunity.updated", "opportunity"),
    ("opportunity.stage_changed", "opportunity"),
];

fn condition(g: &mut Gen, object: &str) -> TExpr {
    let s = Type::String;
    let user = format!("user-{}", g.below(500));
    let account = format!("acc-{}", g.below(1000));
    let roll = g.below(100);
    let case = object == "case";
    match roll {
        0..=44 => and(
            eq("owner_id", s.clone(), &user),
            if case {
                eq("priority", s, g.pick(PRIORITIES))
            } else {
                eq("stage", s, g.pick(STAGES))
            },
        ),
        45..=64 => and(
            eq("account_id", s, &account),
            bin(
                BinaryOp::In,
                field(if case { "status" } else { "stage" }, Type::String),
                texts(&[g.pick(STATUSES), g.pick(STAGES)]),
            ),
        ),
        65..=84 if case => and(
            eq("origin", s, g.pick(ORIGINS)),
            bin(
                BinaryOp::In,
                field("priority", Type::String),
                texts(&[g.pick(PRIORITIES), g.pick(PRIORITIES)]),
            ),
        ),
        65..=84 => and(
            eq("owner_id", s, &user),
            bin(
                BinaryOp::Gt,
                field("amount", Type::Number),
                num(g.below(100) as f64 * 1000.0),
            ),
        ),
        85..=94 if case => and(
            eq("status", s, g.pick(STATUSES)),
            bin(
                BinaryOp::Contains,
                field("subject", Type::String),
                text("VPN"),
            ),
        ),
        85..=94 => and(
            eq("stage", s, g.pick(STAGES)),
            bin(
                BinaryOp::Ge,
                field("probability", Type::Number),
                num(g.below(100) as f64),
            ),
        ),
        95..=98 if case => bin(
            BinaryOp::Gt,
            field("created_at", Type::DateTime),
            node(
                TExprKind::Const(Value::DateTime(NOW_MS - g.below(1000) as i64 * 86_400_000)),
                Type::DateTime,
            ),
        ),
        95..=98 => bin(
            BinaryOp::Gt,
            field("amount", Type::Number),
            num(g.below(1000) as f64 * 10_000.0),
        ),
        _ => logic(
            LogicOp::Or,
            eq(
                if case { "priority" } else { "stage" },
                s.clone(),
                "critical",
            ),
            eq("owner_id", s, &user),
        ),
    }
}

fn automations(count: usize) -> Vec<DispatchEntry<u32>> {
    let mut g = Gen(42);
    (0..count)
        .map(|i| {
            let (event, object) = EVENTS[i % EVENTS.len()];
            DispatchEntry {
                key: i as u32,
                event: event.into(),
                object: Some(object.into()),
                condition: Some(condition(&mut g, object)),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let schema = Arc::new(Schema::builtin());
    let record = json!({
        "id": "case-1",
        "subject": "VPN down again",
        "priority": "high",
        "status": "open",
        "origin": "email",
        "owner_id": "user-7",
        "account_id": "acc-3",
        "created_at": "2024-05-30T10:00:00Z",
    });
    let input = EvalInput::record(&record, NOW_MS);

    let started = Instant::now();
    let big = DispatchIndex::build(automations(10_000), schema.clone());
    let build = started.elapsed();
    let small = DispatchIndex::build(automations(10), schema.clone());
    let hits = big.matches("case.updated", &input);
    assert_eq!(hits, big.full_scan("case.updated", &input));
    println!(
        "build of 10,000: {:.1} ms; {:?}; case.updated matches {} automations",
        build.as_secs_f64() * 1e3,
        big.stats(),
        hits.len()
    );

    c.bench_function("dispatch/build_10000", |b| {
        b.iter(|| DispatchIndex::build(black_box(automations(10_000)), schema.clone()))
    });
    c.bench_function("dispatch/index_10000", |b| {
        b.iter(|| big.matches(black_box("case.updated"), black_box(&input)))
    });
    c.bench_function("dispatch/index_10", |b| {
        b.iter(|| small.matches(black_box("case.updated"), black_box(&input)))
    });
    c.bench_function("dispatch/full_scan_10000", |b| {
        b.iter(|| big.full_scan(black_box("case.updated"), black_box(&input)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
