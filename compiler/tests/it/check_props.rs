//! Properties of the checker: it never panics, and what it accepts as a condition is bool.

use automations_compiler::check::{ExprScope, check_condition};
use automations_compiler::schema::Schema;
use automations_compiler::typed::Type;
use proptest::prelude::*;

const ATOMS: &[&str] = &[
    "priority",
    "status",
    "account.tier",
    "owner.manager.email",
    "previous.status",
    "record.subject",
    "event.payload.x",
    "steps.x.output.y",
    "x",
    "amount",
    "subject",
    "created_at",
    "due",
    "close_date",
    "'high'",
    "'Closed Won'",
    "'(('",
    "1",
    "2.5",
    "3d",
    "true",
    "false",
    "null",
    "now()",
    "today()",
    "'{{ priority }} {{ x }}'",
    "priorty",
    "stage",
];
const BINOPS: &[&str] = &[
    "==",
    "!=",
    "<",
    ">=",
    "and",
    "or",
    "in",
    "contains",
    "matches",
    "starts_with",
    "+",
    "-",
    "*",
    "/",
];

fn expr_text() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(ATOMS).prop_map(String::from);
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(BINOPS), inner.clone())
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("not {a}")),
            inner.clone().prop_map(|a| format!("{a} is not null")),
            (
                prop::sample::select(&["has", "len", "lower", "upper", "changed", "nope"][..]),
                inner.clone()
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("any([{a}], x => {b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("changed({a}, to: {b})")),
        ]
    })
}

proptest! {
    #[test]
    fn checking_never_panics(text in expr_text(),
                             object in prop::sample::select(&["case", "opportunity", "task", "account"][..]),
                             created in any::<bool>()) {
        let expr = automations_grammar::parse_expr(&text);
        prop_assert!(expr.is_ok(), "{text}: {expr:?}");
        let event = if created { format!("{object}.created") } else { format!("{object}.updated") };
        let (typed, diags) = check_condition(&expr.unwrap(), &ExprScope::for_object(object, &event), &Schema::builtin());
        if let Some(t) = typed {
            prop_assert!(matches!(t.ty, Type::Bool | Type::Null | Type::Any), "{text}: {:?}", t.ty);
        } else {
            prop_assert!(diags.iter().any(|d| d.is_error()), "{text}: rejected without an error");
        }
    }
}
