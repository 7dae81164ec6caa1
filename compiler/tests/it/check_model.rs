//! What `CheckedAutomation` holds for the runtime: resolved paths, typed params, outputs.

use automations_compiler::catalog::ActionKind;
use automations_compiler::check::{
    CheckedParam, CheckedStepKind, ExprScope, check_automation, check_condition,
};
use automations_compiler::schema::{EventKind, Schema};
use automations_compiler::typed::{FieldRef, Root, TExprKind, Type};
use automations_compiler::value::Value;

use automations_compiler::lower_dsl::parse_dsl;

fn fields(e: &automations_compiler::typed::TExpr, out: &mut Vec<FieldRef>) {
    match &e.kind {
        TExprKind::Field(f) => out.push(f.clone()),
        TExprKind::Binary { lhs, rhs, .. } => {
            fields(lhs, out);
            fields(rhs, out);
        }
        TExprKind::Not(x) | TExprKind::Neg(x) => fields(x, out),
        TExprKind::List(xs) | TExprKind::Template(xs) | TExprKind::Logic { items: xs, .. } => {
            xs.iter().for_each(|x| fields(x, out))
        }
        _ => {}
    }
}

fn resolve(object: &str, text: &str) -> Vec<FieldRef> {
    let expr = automations_grammar::parse_expr(text).expect("parses");
    let (t, diags) = check_condition(
        &expr,
        &ExprScope::for_object(object, "x.updated"),
        &Schema::builtin(),
    );
    assert!(diags.is_empty(), "{diags:?}");
    let mut out = Vec::new();
    fields(&t.expect("typed"), &mut out);
    out
}

fn rec(path: &[&str]) -> FieldRef {
    FieldRef {
        root: Root::Record,
        path: path.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn paths_resolve_to_field_refs() {
    assert_eq!(
        resolve("case", "account.tier == 'gold'"),
        vec![rec(&["account_id", "tier"])]
    );
    assert_eq!(
        resolve("case", "owner.manager.email == 'a'"),
        vec![rec(&["owner_id", "manager_id", "email"])]
    );
    assert_eq!(
        resolve("case", "record.priority == 'low'"),
        vec![rec(&["priority"])]
    );
    assert_eq!(
        resolve("case", "previous.status == 'open'"),
        vec![FieldRef {
            root: Root::Previous,
            path: vec!["status".into()]
        }]
    );
    assert_eq!(
        resolve("task", "due < now()"),
        vec![
            rec(&["due"]),
            FieldRef {
                root: Root::Now,
                path: vec![]
            }
        ]
    );
    assert_eq!(
        resolve("case", "event.payload.x == 1"),
        vec![FieldRef {
            root: Root::Event,
            path: vec!["payload".into(), "x".into()]
        }]
    );
}

#[test]
fn lambda_params_are_locals_and_changed_is_structured() {
    let schema = Schema::builtin();
    let scope = ExprScope::for_object("case", "case.updated");
    let e = automations_grammar::parse_expr("any(['a'], x => subject contains x)").expect("parses");
    let t = check_condition(&e, &scope, &schema).0.expect("typed");
    let TExprKind::Quantifier {
        all: false, body, ..
    } = t.kind
    else {
        panic!("{t:?}")
    };
    let TExprKind::Binary { rhs, .. } = body.kind else {
        panic!()
    };
    assert_eq!(rhs.kind, TExprKind::Local(0));
    assert_eq!(rhs.ty, Type::String);

    let e = automations_grammar::parse_expr("changed(priority, to: 'high')").expect("parses");
    let t = check_condition(&e, &scope, &schema).0.expect("typed");
    let TExprKind::Changed {
        current,
        previous,
        from,
        to,
    } = t.kind
    else {
        panic!()
    };
    assert_eq!(current, rec(&["priority"]));
    assert_eq!(previous.root, Root::Previous);
    assert!(from.is_none());
    assert_eq!(
        to.expect("to").kind,
        TExprKind::Const(Value::String("high".into()))
    );
}

#[test]
fn design_example_is_fully_typed() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("test_data/check/auto/design_example.auto"),
    )
    .expect("case");
    let (automations, lower_diags) = parse_dsl(&text);
    assert!(lower_diags.is_empty(), "{lower_diags:?}");
    let a = &automations[0];
    let (checked, diags) = check_automation(a, &Schema::builtin());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(checked.object.as_deref(), Some("opportunity"));
    assert_eq!(checked.event, EventKind::FieldChanged("stage".into()));
    assert!(checked.condition.is_some());
    let approval = &checked.steps[0];
    assert_eq!(approval.id, "approval");
    assert_eq!(approval.output.fields.get("approved"), Some(&Type::Bool));
    assert_eq!(approval.output.fields.get("notes"), Some(&Type::String));
    let CheckedStepKind::Action { action, params } = &approval.kind else {
        panic!()
    };
    assert_eq!(*action, ActionKind::HumanTask);
    assert!(matches!(&params["form"], CheckedParam::Form(f) if f.len() == 2));
    let CheckedParam::Expr(timeout) = &params["timeout"] else {
        panic!()
    };
    assert_eq!(
        timeout.kind,
        TExprKind::Const(Value::Duration(48 * 3_600_000))
    );
    let CheckedStepKind::If {
        condition,
        then_steps,
        else_steps,
    } = &checked.steps[1].kind
    else {
        panic!()
    };
    assert_eq!(
        condition.kind,
        TExprKind::Field(FieldRef {
            root: Root::StepOutput("approval".into()),
            path: vec!["approved".into()]
        })
    );
    assert_eq!(then_steps.len(), 2);
    assert_eq!(
        else_steps[0].output.fields.get("id"),
        Some(&Type::Reference("task".into()))
    );
}

#[test]
fn string_literals_convert_to_durations_and_datetimes() {
    let text = r#"automation "w" { when case.created do { wait(duration: "2d") wait(until: "1970-01-01T00:00:01Z") } }"#;
    let (automations, _) = parse_dsl(text);
    let (checked, diags) = check_automation(&automations[0], &Schema::builtin());
    assert!(diags.is_empty(), "{diags:?}");
    let param = |i: usize, name: &str| match &checked.steps[i].kind {
        CheckedStepKind::Action { params, .. } => match &params[name] {
            CheckedParam::Expr(e) => e.clone(),
            CheckedParam::Form(_) => panic!(),
        },
        CheckedStepKind::If { .. } => panic!(),
    };
    assert_eq!(
        param(0, "duration").kind,
        TExprKind::Const(Value::Duration(2 * 86_400_000))
    );
    assert_eq!(
        param(1, "until").kind,
        TExprKind::Const(Value::DateTime(1000))
    );
    assert_eq!(param(1, "until").ty, Type::DateTime);
}
