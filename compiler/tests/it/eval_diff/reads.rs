//! Reads: lambda variables of nested quantifiers, one field read in two kinds, and paths
//! through nested objects and related records.

use automations_compiler::eval::{EvalInput, SlotLayout, compile, fill_slots};
use automations_compiler::typed::{BinaryOp, FieldRef, LogicOp, Root, TExpr, TExprKind, Type};
use automations_compiler::value::Value;
use serde_json::{Value as Json, json};

use super::{check_pair, list_of, priority_type};
use crate::eval_support::*;

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
