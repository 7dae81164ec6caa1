//! Condition evaluation benchmarks (DESIGN §13): the compiled evaluator on a 3-clause case
//! condition over pre-filled slots, the once-per-event slot fill, the reference evaluator
//! and hand-written Rust for scale.
//!
//! `priority == "critical" and status != "closed" and subject contains "VPN"`

use std::hint::black_box;
use std::sync::Arc;

use automations_compiler::eval::{EvalInput, SlotLayout, compile, fill_slots, reference};
use automations_compiler::typed::{
    BinaryOp, FieldRef, LogicOp, Root, Span, TExpr, TExprKind, Type,
};
use automations_compiler::value::Value;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn node(kind: TExprKind, ty: Type) -> TExpr {
    TExpr {
        kind,
        ty,
        span: Span::default(),
    }
}

fn field(name: &str) -> TExpr {
    node(
        TExprKind::Field(FieldRef {
            root: Root::Record,
            path: vec![name.into()],
        }),
        Type::String,
    )
}

fn text(s: &str) -> TExpr {
    node(TExprKind::Const(Value::String(Arc::from(s))), Type::String)
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

fn vpn_condition() -> TExpr {
    TExpr {
        kind: TExprKind::Logic {
            op: LogicOp::And,
            items: vec![
                bin(BinaryOp::Eq, field("priority"), text("critical")),
                bin(BinaryOp::Ne, field("status"), text("closed")),
                bin(BinaryOp::Contains, field("subject"), text("VPN")),
            ],
        },
        ty: Type::Bool,
        span: Span::default(),
    }
}

struct Case {
    priority: String,
    status: String,
    subject: String,
}

fn hand_written(c: &Case) -> bool {
    c.priority == "critical" && c.status != "closed" && c.subject.contains("VPN")
}

fn bench(c: &mut Criterion) {
    let record = json!({
        "id": "case_1",
        "subject": "VPN down for the Zurich office",
        "description": "Users cannot connect since 9:00",
        "priority": "critical",
        "status": "open",
        "origin": "email",
        "account_id": "acc_1",
        "created_at": "2026-11-25T09:00:00Z",
    });
    let miss = json!({"subject": "Printer jam", "priority": "low", "status": "open"});
    let input = EvalInput::record(&record, 1_764_000_000_000);
    let mut layout = SlotLayout::new();
    let expr = vpn_condition();
    let compiled = compile(&expr, &mut layout);
    let slots = fill_slots(&layout, &input);
    let miss_slots = fill_slots(&layout, &EvalInput::record(&miss, 0));
    assert!(compiled.eval(&slots) && !compiled.eval(&miss_slots));

    c.bench_function("compiled/vpn_3_clause_match", |b| {
        b.iter(|| compiled.eval(black_box(&slots)))
    });
    c.bench_function("compiled/vpn_3_clause_miss", |b| {
        b.iter(|| compiled.eval(black_box(&miss_slots)))
    });
    c.bench_function("fill_slots/case_3_fields", |b| {
        b.iter(|| fill_slots(black_box(&layout), black_box(&input)))
    });
    let refs = layout.references().clone();
    c.bench_function("reference/vpn_3_clause_match", |b| {
        b.iter(|| reference::evaluate_bool(black_box(&expr), black_box(&input), &refs))
    });
    let case = Case {
        priority: "critical".into(),
        status: "open".into(),
        subject: "VPN down for the Zurich office".into(),
    };
    c.bench_function("hand_written/vpn_3_clause_match", |b| {
        b.iter(|| hand_written(black_box(&case)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
