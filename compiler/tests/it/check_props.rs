//! Properties of the checker: it never panics, and what it accepts as a condition is bool.

use automations_compiler::check::{ExprScope, actions, check_condition};
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

#[test]
fn action_catalog_serializes_for_the_ui() {
    let v = serde_json::to_value(actions::catalog()).expect("serializes");
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "update_field",
            "update_record",
            "create_record",
            "create_task",
            "assign_to_queue",
            "send_email",
            "notify_user",
            "send_notification",
            "webhook",
            "human_task",
            "wait",
            "plugin"
        ]
    );
    assert_eq!(v[9]["output"], "form");
    // Delivery is asynchronous: a webhook step's output is its outbox row, not a response.
    assert_eq!(
        v[8]["output"],
        serde_json::json!({"fields": [{"name": "outbox_id", "ty": "string"}]})
    );
    assert_eq!(v[7]["params"][0]["choices"][0], "slack");
}
