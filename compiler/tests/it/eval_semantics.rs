//! The semantics of DESIGN §4 on hand-built typed expressions, checked in both evaluators.

use automations_compiler::eval::{EvalInput, Resolver, SlotLayout, compile, fill_slots};
use automations_compiler::typed::{BinaryOp::*, FieldRef, Func, Root, TExprKind, Type};
use automations_compiler::value::Value;
use serde_json::{Value as Json, json};

use crate::eval_support::*;

fn case() -> Json {
    json!({
        "subject": "VPN down in Zürich",
        "priority": "critical",
        "status": "open",
        "amount": 1200,
        "due": "2024-05-01T09:00:00Z",
        "phone": null,
        "tags": ["vpn", "network"],
    })
}

fn on(record: &Json) -> EvalInput<'_> {
    EvalInput::record(record, NOW_MS)
}

#[test]
fn missing_and_null_fields_compare_as_null() {
    let r = case();
    let prio = || field("priority", picklist(&["low", "critical"]));
    assert!(both(&eq(field("missing", Type::String), null()), &on(&r)));
    assert!(both(&eq(field("phone", Type::String), null()), &on(&r)));
    assert!(!both(&eq(prio(), null()), &on(&r)));
    assert!(both(
        &bin(Ne, field("phone", Type::String), s("555")),
        &on(&r)
    ));
    assert!(!both(
        &bin(Lt, field("missing", Type::Number), n(5.0)),
        &on(&r)
    ));
    assert!(!both(
        &bin(Ge, field("missing", Type::Number), n(5.0)),
        &on(&r)
    ));
    assert!(both(
        &not(bin(Gt, field("missing", Type::Number), n(5.0))),
        &on(&r)
    ));
    assert!(both(
        &is_null(field("missing", Type::Number), false),
        &on(&r)
    ));
    assert!(!both(
        &call(Func::Has, vec![field("phone", Type::String)], Type::Bool),
        &on(&r)
    ));
    assert!(both(&call(Func::Has, vec![prio()], Type::Bool), &on(&r)));
}

#[test]
fn strings_are_case_sensitive() {
    let r = case();
    let subject = || field("subject", Type::String);
    assert!(both(&bin(Contains, subject(), s("VPN")), &on(&r)));
    assert!(!both(&bin(Contains, subject(), s("vpn")), &on(&r)));
    assert!(both(
        &bin(
            Contains,
            call(Func::Lower, vec![subject()], Type::String),
            s("vpn")
        ),
        &on(&r)
    ));
    assert!(both(&bin(StartsWith, subject(), s("VPN")), &on(&r)));
    assert!(both(&bin(EndsWith, subject(), s("Zürich")), &on(&r)));
    assert!(!both(
        &bin(StartsWith, field("missing", Type::String), s("")),
        &on(&r)
    ));
    assert!(!both(&bin(Contains, subject(), null()), &on(&r)));
    assert!(both(
        &bin(Matches, subject(), s("^VPN .* Z.rich$")),
        &on(&r)
    ));
    // An invalid pattern never matches (the checker should reject it first).
    assert!(!both(&bin(Matches, subject(), s("(")), &on(&r)));
    assert_eq!(
        both_value(&call(Func::Len, vec![subject()], Type::Number), &on(&r)),
        Value::Number(18.0)
    );
    assert_eq!(
        both_value(
            &call(
                Func::Upper,
                vec![field("missing", Type::String)],
                Type::String
            ),
            &on(&r)
        ),
        Value::Null
    );
}

#[test]
fn arithmetic_division_by_zero_and_null_give_null() {
    let r = case();
    let amount = || field("amount", Type::Number);
    assert_eq!(
        both_value(&bin(Div, amount(), n(0.0)), &on(&r)),
        Value::Null
    );
    assert_eq!(
        both_value(&bin(Add, amount(), field("missing", Type::Number)), &on(&r)),
        Value::Null
    );
    assert_eq!(
        both_value(&bin(Mul, amount(), n(0.5)), &on(&r)),
        Value::Number(600.0)
    );
    assert!(!both(&bin(Gt, bin(Div, amount(), n(0.0)), n(1.0)), &on(&r)));
    // inf - inf is NaN, which is null, never a NaN value.
    let inf = bin(Mul, n(1e308), n(10.0));
    assert_eq!(
        both_value(&bin(Sub, inf.clone(), inf), &on(&r)),
        Value::Null
    );
}

#[test]
fn datetime_arithmetic() {
    let r = case();
    let due = || field("due", Type::DateTime);
    let day = 86_400_000;
    assert!(both(&bin(Lt, due(), now()), &on(&r)));
    assert!(both(
        &bin(Gt, bin(Sub, now(), due()), dur(7 * day)),
        &on(&r)
    ));
    assert!(both(
        &bin(Gt, bin(Add, due(), dur(365 * day)), now()),
        &on(&r)
    ));
    assert!(!both(
        &bin(Gt, due(), call(Func::Today, vec![], Type::DateTime)),
        &on(&r)
    ));
    let today = both_value(&call(Func::Today, vec![], Type::DateTime), &on(&r));
    assert_eq!(today, Value::DateTime(NOW_MS - NOW_MS % day));
    assert_eq!(
        both_value(&bin(Sub, dur(3 * day), dur(day)), &on(&r)),
        Value::Duration(2 * day)
    );
    assert_eq!(
        both_value(&bin(Sub, due(), field("missing", Type::DateTime)), &on(&r)),
        Value::Null
    );
}

#[test]
fn membership_and_quantifiers() {
    let r = case();
    let tags = || field("tags", Type::List(Box::new(Type::String)));
    let prio = || field("priority", Type::String);
    let many: Vec<_> = ["a", "b", "c", "d", "e", "critical"]
        .iter()
        .map(|x| s(x))
        .collect();
    assert!(both(&bin(In, prio(), list(many, Type::String)), &on(&r)));
    assert!(!both(
        &bin(In, prio(), list(vec![s("low"), s("high")], Type::String)),
        &on(&r)
    ));
    assert!(both(
        &bin(
            In,
            field("missing", Type::String),
            list(vec![s("x"), null()], Type::String)
        ),
        &on(&r)
    ));
    assert!(both(&bin(Contains, tags(), s("vpn")), &on(&r)));
    assert!(!both(
        &bin(
            Contains,
            field("missing_list", Type::List(Box::new(Type::String))),
            s("vpn")
        ),
        &on(&r)
    ));
    let local = texpr(TExprKind::Local(0), Type::String);
    let body = bin(StartsWith, local, s("n"));
    let q = |all: bool, list: automations_compiler::typed::TExpr| {
        texpr(
            TExprKind::Quantifier {
                all,
                list: Box::new(list),
                body: Box::new(body.clone()),
            },
            Type::Bool,
        )
    };
    assert!(both(&q(false, tags()), &on(&r)));
    assert!(!both(&q(true, tags()), &on(&r)));
    let missing = || field("nope", Type::List(Box::new(Type::String)));
    assert!(
        !both(&q(false, missing()), &on(&r)),
        "any over null is false"
    );
    assert!(both(&q(true, missing()), &on(&r)), "all over null is true");
}

#[test]
fn changed_needs_a_previous_record() {
    let now_rec = json!({"priority": "high", "status": "open"});
    let before = json!({"priority": "low", "status": "open"});
    let mut input = on(&now_rec);
    assert!(
        !both(&changed("priority", None, None), &input),
        "false on create"
    );
    input.previous = Some(&before);
    assert!(both(&changed("priority", None, None), &input));
    assert!(!both(&changed("status", None, None), &input));
    assert!(both(
        &changed("priority", Some(s("low")), Some(s("high"))),
        &input
    ));
    assert!(!both(
        &changed("priority", Some(s("medium")), Some(s("high"))),
        &input
    ));
    assert!(!both(&changed("priority", None, Some(s("low"))), &input));
}

#[test]
fn templates_render_values() {
    let r = json!({"name": "Globex", "amount": 1200.0, "ratio": 0.25, "due": "2024-05-01T09:00:00+02:00"});
    let t = texpr(
        TExprKind::Template(vec![
            s("Deal "),
            field("name", Type::String),
            s(": "),
            field("amount", Type::Number),
            s(" / "),
            field("ratio", Type::Number),
            s(" due "),
            field("due", Type::DateTime),
            s(" owner "),
            field("missing", Type::String),
            s("."),
        ]),
        Type::String,
    );
    assert_eq!(
        both_value(&t, &on(&r)),
        Value::String("Deal Globex: 1200 / 0.25 due 2024-05-01T07:00:00Z owner .".into())
    );
}

struct Accounts;

impl Resolver for Accounts {
    fn related(&self, object: &str, id: &str) -> Option<Json> {
        match (object, id) {
            ("account", "a1") => Some(json!({"tier": "gold", "owner_id": "u1"})),
            ("user", "u1") => Some(json!({"email": "boss@example.com"})),
            _ => None,
        }
    }
}

#[test]
fn reference_hops_follow_the_resolver() {
    let r = json!({"account_id": "a1", "subject": "x"});
    let input = EvalInput {
        resolver: &Accounts,
        ..on(&r)
    };
    let tier = path(Root::Record, &["account_id", "tier"], Type::String);
    assert!(both(
        &bin(In, tier, list(vec![s("gold"), s("platinum")], Type::String)),
        &input
    ));
    let email = path(
        Root::Record,
        &["account_id", "owner_id", "email"],
        Type::String,
    );
    assert!(both(&bin(EndsWith, email, s("@example.com")), &input));
    let dangling = json!({"account_id": "nope"});
    let tier = path(Root::Record, &["account_id", "tier"], Type::String);
    assert!(both(
        &is_null(tier, false),
        &EvalInput {
            resolver: &Accounts,
            ..on(&dangling)
        }
    ));
}

#[test]
fn one_layout_serves_many_conditions() {
    let mut layout = SlotLayout::new();
    let a = compile(
        &eq(field("priority", Type::String), s("critical")),
        &mut layout,
    );
    let b = compile(
        &bin(Gt, field("amount", Type::Number), n(1000.0)),
        &mut layout,
    );
    let c = compile(
        &bin(Ne, field("priority", Type::String), s("low")),
        &mut layout,
    );
    assert_eq!(layout.len(), 2, "priority is shared: {:?}", layout.fields());
    let r = case();
    let slots = fill_slots(&layout, &on(&r));
    assert!(a.eval(&slots) && b.eval(&slots) && c.eval(&slots));
    // Slots filled for an older, shorter layout read as null instead of panicking.
    assert!(!a.eval(&[]));
    assert_eq!(
        layout.fields()[1],
        FieldRef {
            root: Root::Record,
            path: vec!["amount".into()]
        }
    );
}

#[test]
fn steps_and_event_paths() {
    let r = json!({});
    let event = json!({"kind": "renewal", "payload": {"seats": 12}});
    let mut steps = serde_json::Map::new();
    steps.insert("approval".into(), json!({"approved": true, "notes": "ok"}));
    let input = EvalInput {
        event: Some(&event),
        steps: Some(&steps),
        ..on(&r)
    };
    assert!(both(
        &eq(
            path(
                Root::StepOutput("approval".into()),
                &["approved"],
                Type::Bool
            ),
            b(true)
        ),
        &input
    ));
    assert!(both(
        &bin(
            Gt,
            path(Root::Event, &["payload", "seats"], Type::Any),
            n(10.0)
        ),
        &input
    ));
    assert!(both(
        &eq(path(Root::Event, &["kind"], Type::Any), s("renewal")),
        &input
    ));
}

#[test]
fn compiled_evaluators_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<automations_compiler::eval::CompiledCondition>();
    shared::<automations_compiler::eval::CompiledExpr>();
    shared::<SlotLayout>();
}

/// Short string constants are compared word-wise: every length and every differing byte
/// position must still be told apart.
#[test]
fn string_equality_at_every_length_and_position() {
    let base = "abcdefghijklmnopqrstu";
    for len in 0..=20 {
        let c = &base[..len];
        for pos in 0..len {
            let mut other = c.as_bytes().to_vec();
            other[pos] = b'Z';
            let other = String::from_utf8(other).unwrap();
            let r = json!({ "f": other });
            assert!(
                !both(&eq(field("f", Type::String), s(c)), &on(&r)),
                "{c:?} vs {other:?}"
            );
        }
        let same = json!({ "f": c });
        assert!(both(&eq(field("f", Type::String), s(c)), &on(&same)));
        let longer = json!({ "f": format!("{c}x") });
        assert!(!both(&eq(field("f", Type::String), s(c)), &on(&longer)));
    }
}
