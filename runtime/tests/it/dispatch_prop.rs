//! The dispatch index agrees with the full scan on random automations and events.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use automations_compiler::eval::NamingConvention;
use automations_compiler::typed::{BinaryOp, FieldRef, LogicOp, Root, TExpr, TExprKind, Type};
use automations_compiler::value::Value as V;
use automations_runtime::dispatch::{DispatchEntry, DispatchIndex, DispatchInput, Slot};
use automations_runtime::expr::EvalContext;
use automations_runtime::plan::Plan;

const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];
const STATUSES: [&str; 3] = ["new", "open", "closed"];
const EVENTS: [&str; 2] = ["case.created", "case.updated"];

fn t(kind: TExprKind, ty: Type) -> TExpr {
    TExpr {
        kind,
        ty,
        span: Default::default(),
    }
}
fn field(name: &str, ty: Type) -> TExpr {
    t(
        TExprKind::Field(FieldRef {
            root: Root::Record,
            path: vec![name.into()],
        }),
        ty,
    )
}
fn s(v: &str) -> TExpr {
    t(TExprKind::Const(V::String(v.into())), Type::String)
}
fn n(v: f64) -> TExpr {
    t(TExprKind::Const(V::Number(v)), Type::Number)
}
fn bin(op: BinaryOp, l: TExpr, r: TExpr) -> TExpr {
    t(
        TExprKind::Binary {
            op,
            lhs: Box::new(l),
            rhs: Box::new(r),
        },
        Type::Bool,
    )
}

fn logic(op: LogicOp, items: Vec<TExpr>) -> TExpr {
    t(TExprKind::Logic { op, items }, Type::Bool)
}

fn clause() -> impl Strategy<Value = TExpr> {
    prop_oneof![
        (0..4usize).prop_map(|i| bin(
            BinaryOp::Eq,
            field("priority", Type::String),
            s(PRIORITIES[i])
        )),
        (0..4usize).prop_map(|i| bin(
            BinaryOp::Eq,
            s(PRIORITIES[i]),
            field("priority", Type::String)
        )),
        (0..3usize).prop_map(|i| bin(BinaryOp::Eq, field("status", Type::String), s(STATUSES[i]))),
        proptest::collection::vec(0..4usize, 1..3).prop_map(|is| bin(
            BinaryOp::In,
            field("priority", Type::String),
            t(
                TExprKind::List(is.into_iter().map(|i| s(PRIORITIES[i])).collect()),
                Type::List(Box::new(Type::String))
            )
        )),
        (0..5usize, 0..100i32).prop_map(|(o, v)| {
            let op = [
                BinaryOp::Gt,
                BinaryOp::Ge,
                BinaryOp::Lt,
                BinaryOp::Le,
                BinaryOp::Eq,
            ][o];
            bin(op, field("score", Type::Number), n(v as f64))
        }),
        (0..100i32).prop_map(|v| bin(BinaryOp::Lt, n(v as f64), field("score", Type::Number))),
        (0..4usize).prop_map(|i| t(
            TExprKind::Not(Box::new(bin(
                BinaryOp::Eq,
                field("priority", Type::String),
                s(PRIORITIES[i])
            ))),
            Type::Bool
        )),
        (0..4usize, 0..3usize).prop_map(|(i, j)| logic(
            LogicOp::Or,
            vec![
                bin(
                    BinaryOp::Eq,
                    field("priority", Type::String),
                    s(PRIORITIES[i])
                ),
                bin(BinaryOp::Eq, field("status", Type::String), s(STATUSES[j]))
            ]
        )),
        Just(t(
            TExprKind::IsNull {
                expr: Box::new(field("status", Type::String)),
                negated: false
            },
            Type::Bool
        )),
    ]
}

fn condition() -> impl Strategy<Value = Option<TExpr>> {
    proptest::collection::vec(clause(), 0..4).prop_map(|mut cs| match cs.len() {
        0 | 1 => cs.pop(),
        _ => Some(logic(LogicOp::And, cs)),
    })
}

fn automation() -> impl Strategy<Value = (usize, usize, Option<TExpr>)> {
    (0..2usize, 0..2usize, condition())
}

fn record() -> impl Strategy<Value = (usize, usize, Map<String, Value>)> {
    (
        0..2usize,
        0..2usize,
        proptest::option::of(0..4usize),
        proptest::option::of(0..3usize),
        proptest::option::of(0..100i32),
    )
        .prop_map(|(ws, ev, p, st, sc)| {
            let mut m = Map::new();
            if let Some(p) = p {
                m.insert("priority".into(), json!(PRIORITIES[p]));
            }
            if let Some(st) = st {
                m.insert("status".into(), json!(STATUSES[st]));
            }
            if let Some(sc) = sc {
                m.insert("score".into(), json!(sc));
            }
            (ws, ev, m)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, max_shrink_iters: 50, ..ProptestConfig::default() })]

    #[test]
    fn index_agrees_with_full_scan(
        autos in proptest::collection::vec(automation(), 1000),
        events in proptest::collection::vec(record(), 10_000),
    ) {
        let entries = autos.into_iter().enumerate().map(|(i, (ws, ev, cond))| DispatchEntry {
            workspace_id: format!("ws{ws}"),
            automation_id: format!("a{i}"),
            version: 1,
            plan: Arc::new(Plan::new(format!("a{i}"), EVENTS[ev], cond, vec![])),
            dry_run: false,
        });
        let index = DispatchIndex::build(entries, Arc::new(NamingConvention));
        prop_assert_eq!(index.len(), 1000);
        let mut total = 0usize;
        for (ws, ev, rec) in events {
            let ctx = EvalContext { record: Some(Value::Object(rec)), ..Default::default() };
            let ws = format!("ws{ws}");
            let input = DispatchInput { workspace_id: &ws, event_type: EVENTS[ev], ctx: &ctx };
            let mut a: Vec<_> = index.matches(&input).into_iter().map(|e| e.automation_id.clone()).collect();
            let mut b: Vec<_> = index.full_scan(&input).into_iter().map(|e| e.automation_id.clone()).collect();
            a.sort();
            b.sort();
            total += a.len();
            prop_assert_eq!(a, b);
        }
        prop_assert!(total > 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, max_shrink_iters: 50, ..ProptestConfig::default() })]

    /// An index changed one automation at a time (`with_automation`: added, replaced on
    /// another trigger, removed) answers every event as one built from scratch.
    #[test]
    fn incremental_changes_agree_with_a_full_build(
        autos in proptest::collection::vec(automation(), 200),
        changes in proptest::collection::vec((0usize..200, automation(), any::<bool>()), 100),
        events in proptest::collection::vec(record(), 1_000),
    ) {
        let entry = |i: usize, (ws, ev, cond): (usize, usize, Option<TExpr>)| DispatchEntry {
            workspace_id: format!("ws{ws}"),
            automation_id: format!("a{i:03}"),
            version: 1,
            plan: Arc::new(Plan::new(format!("a{i}"), EVENTS[ev], cond, vec![])),
            dry_run: false,
        };
        let targets = Arc::new(NamingConvention);
        let mut current: std::collections::BTreeMap<usize, DispatchEntry> = Default::default();
        let mut index = DispatchIndex::default();
        for (i, a) in autos.into_iter().enumerate() {
            let e = entry(i, a);
            index = index.with_automation(&e.workspace_id.clone(), &e.automation_id.clone(), Slot::Dispatched(e.clone()), targets.clone());
            current.insert(i, e);
        }
        for (i, a, remove) in changes {
            let Some(old) = current.get(&i).cloned() else { continue };
            if remove {
                index = index.with_automation(&old.workspace_id, &old.automation_id, Slot::Absent, targets.clone());
                current.remove(&i);
            } else {
                // Same workspace (an automation never moves), maybe another trigger.
                let mut e = entry(i, a);
                e.workspace_id = old.workspace_id.clone();
                e.version = old.version + 1;
                index = index.with_automation(&e.workspace_id.clone(), &e.automation_id.clone(), Slot::Dispatched(e.clone()), targets.clone());
                current.insert(i, e);
            }
        }
        let full = DispatchIndex::build(current.values().cloned(), targets.clone());
        prop_assert_eq!(index.len(), current.len());
        for (ws, ev, rec) in events {
            let ctx = EvalContext { record: Some(Value::Object(rec)), ..Default::default() };
            let ws = format!("ws{ws}");
            let input = DispatchInput { workspace_id: &ws, event_type: EVENTS[ev], ctx: &ctx };
            let a: Vec<_> = index.matches(&input).into_iter().map(|e| (e.automation_id.clone(), e.version)).collect();
            let b: Vec<_> = full.matches(&input).into_iter().map(|e| (e.automation_id.clone(), e.version)).collect();
            prop_assert_eq!(&a, &b);
            let scan: Vec<_> = index.full_scan(&input).into_iter().map(|e| (e.automation_id.clone(), e.version)).collect();
            prop_assert_eq!(&scan, &b);
            let listed = index.keys_of(&ws, EVENTS[ev]).len();
            prop_assert_eq!(listed, full.keys_of(&ws, EVENTS[ev]).len());
        }
    }
}
