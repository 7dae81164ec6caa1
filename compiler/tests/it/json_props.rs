//! Property: any IR automation printed as JSON lowers back to the same IR (spans aside).

use automations_compiler::ir::{
    Automation, Condition, ConditionForm, Environment, Param, Span, Status, Step, StepKind, Trigger,
};
use automations_compiler::json::{lower_value, parse_json, to_json, to_json_text};
use automations_grammar::ast::{
    BinaryOp, CallArg, Expr, ExprKind, Ident, LogicOp, ObjectEntry, StrPart,
};
use proptest::prelude::*;

fn expr(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_owned(),
        span: Span::default(),
    }
}

/// One `and`/`or` chain of `items` (as the parser builds it), or the only item.
fn logic(op: LogicOp, mut items: Vec<Expr>) -> Expr {
    if items.len() == 1 {
        return items.remove(0);
    }
    expr(ExprKind::Logic { op, items })
}

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    expr(ExprKind::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    })
}

/// Field names that are no keyword of the condition language.
fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "priority", "amount", "stage", "owner", "email", "tier", "score", "x1", "_hidden",
    ])
    .prop_map(str::to_owned)
}

fn path() -> impl Strategy<Value = Expr> {
    prop::collection::vec(name(), 1..4)
        .prop_map(|names| expr(ExprKind::Path(names.iter().map(|n| ident(n)).collect())))
}

/// Text that needs no escaping in either quote style and holds no template braces.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,.!?_-]{1,12}"
}

/// Text for template parts, braces included (the printer must keep them from opening one).
fn template_text() -> impl Strategy<Value = String> {
    "[a-z {}]{1,8}"
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0i64..1_000_000).prop_map(|n| n as f64),
        (0i64..400).prop_map(|n| n as f64 / 4.0)
    ]
}

/// Null, booleans, non-negative numbers and plain strings: what equality objects hold.
fn literal() -> impl Strategy<Value = Expr> {
    prop_oneof![
        Just(expr(ExprKind::Null)),
        any::<bool>().prop_map(|b| expr(ExprKind::Bool(b))),
        number().prop_map(|n| expr(ExprKind::Number(n))),
        text().prop_map(|t| expr(ExprKind::Str(vec![StrPart::Text(t)]))),
    ]
}

fn comparison() -> impl Strategy<Value = Expr> {
    let op = prop::sample::select(vec![
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
    ]);
    prop_oneof![
        4 => (op, path(), literal()).prop_map(|(op, l, r)| binary(op, l, r)),
        1 => (path(), any::<bool>()).prop_map(|(p, negated)| expr(ExprKind::IsNull { expr: Box::new(p), negated })),
        1 => path().prop_map(|p| expr(ExprKind::Call { name: ident("changed"), args: vec![CallArg { name: None, value: p }] })),
    ]
}

/// `c and c or c and c ...`: flat chains, so that no printer needs parentheses.
fn condition_expr() -> impl Strategy<Value = Expr> {
    let conjunction =
        prop::collection::vec(comparison(), 1..4).prop_map(|cs| logic(LogicOp::And, cs));
    prop::collection::vec(conjunction, 1..4).prop_map(|cs| logic(LogicOp::Or, cs))
}

fn equality_object() -> impl Strategy<Value = Expr> {
    prop::collection::btree_map(
        prop::collection::vec(name(), 1..3).prop_map(|n| n.join(".")),
        literal(),
        1..4,
    )
    .prop_map(|fields| {
        let clauses = fields
            .into_iter()
            .map(|(key, value)| {
                let idents = key.split('.').map(ident).collect();
                binary(BinaryOp::Eq, expr(ExprKind::Path(idents)), value)
            })
            .collect();
        logic(LogicOp::And, clauses)
    })
}

/// An expression that is not a literal (printed as `{{ expr }}`).
fn embedded_expr() -> impl Strategy<Value = Expr> {
    let duration = prop::sample::select(vec![
        ("90s", 90_000i64),
        ("15m", 900_000),
        ("48h", 172_800_000),
        ("3d", 259_200_000),
    ])
    .prop_map(|(text, millis)| {
        expr(ExprKind::Duration {
            millis,
            text: text.to_owned(),
        })
    });
    prop_oneof![
        3 => path(),
        1 => (path(), number()).prop_map(|(p, n)| binary(BinaryOp::Add, p, expr(ExprKind::Number(n)))),
        1 => duration,
        1 => condition_expr(),
    ]
}

/// A string with at least one text part and one or more `{{ }}` parts, normalized.
fn template() -> impl Strategy<Value = Expr> {
    (
        text(),
        embedded_expr(),
        prop::option::of((embedded_expr(), prop::option::of(text()))),
    )
        .prop_map(|(head, e1, more)| {
            let mut parts = vec![StrPart::Text(head), StrPart::Expr(e1)];
            if let Some((e2, tail)) = more {
                parts.push(StrPart::Text(" ".into()));
                parts.push(StrPart::Expr(e2));
                parts.extend(tail.map(StrPart::Text));
            }
            expr(ExprKind::Str(parts))
        })
}

fn param_value() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        literal(),
        (-1_000_000i64..0).prop_map(|n| expr(ExprKind::Number(n as f64))),
        Just(expr(ExprKind::Str(Vec::new()))),
        template_text().prop_map(|t| expr(ExprKind::Str(vec![StrPart::Text(t)]))),
        template(),
        embedded_expr(),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3)
                .prop_map(|items| expr(ExprKind::List(items))),
            prop::collection::btree_map("[a-zA-Z_-][a-zA-Z0-9_ -]{0,8}", inner, 0..3).prop_map(
                |entries| {
                    let entries = entries
                        .into_iter()
                        .map(|(k, value)| ObjectEntry {
                            key: ident(&k),
                            value,
                        })
                        .collect();
                    expr(ExprKind::Object(entries))
                }
            ),
        ]
    })
}

fn form() -> impl Strategy<Value = Expr> {
    let type_name = prop::sample::select(vec!["bool", "string", "number", "datetime", "duration"]);
    prop::collection::btree_map(name(), type_name, 0..3).prop_map(|fields| {
        let entries = fields
            .into_iter()
            .map(|(k, t)| ObjectEntry {
                key: ident(&k),
                value: expr(ExprKind::Path(vec![ident(t)])),
            })
            .collect();
        expr(ExprKind::Object(entries))
    })
}

fn action_step() -> impl Strategy<Value = Step> {
    let action = prop::sample::select(vec![
        "update_field",
        "send_email",
        "webhook",
        "plugin",
        "human_task",
        "custom_x",
    ]);
    let param_name = prop::sample::select(vec![
        "field", "value", "to", "subject", "body", "headers", "input",
    ]);
    (
        action,
        prop::collection::btree_map(param_name, param_value(), 0..4),
        form(),
        prop::option::of(condition_expr()),
        prop::option::of("[a-z][a-z0-9_]{0,6}"),
    )
        .prop_map(|(action, params, form, guard, id)| {
            let mut params: Vec<Param> = params
                .into_iter()
                .map(|(name, value)| Param {
                    name: name.to_owned(),
                    name_span: Span::default(),
                    value,
                })
                .collect();
            if action == "human_task" {
                params.push(Param {
                    name: "form".into(),
                    name_span: Span::default(),
                    value: form,
                });
            }
            let kind = StepKind::Action {
                action: action.to_owned(),
                action_span: Span::default(),
                params,
            };
            Step {
                id_explicit: id.is_some(),
                id: id.unwrap_or_default(),
                guard,
                retry: None,
                kind,
                span: Span::default(),
            }
        })
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = action_step().prop_recursive(2, 10, 3, |inner| {
        (
            condition_expr(),
            prop::collection::vec(inner.clone(), 0..3),
            prop::collection::vec(inner, 0..3),
            prop::option::of("[a-z][a-z0-9_]{0,6}"),
        )
            .prop_map(|(condition, then_steps, else_steps, id)| Step {
                id_explicit: id.is_some(),
                id: id.unwrap_or_default(),
                guard: None,
                retry: None,
                kind: StepKind::If {
                    condition,
                    then_steps,
                    else_steps,
                },
                span: Span::default(),
            })
    });
    prop::collection::vec(step, 0..4)
}

/// Gives defaulted steps the ids lowering gives them: `step_N` in document order.
fn number_steps(steps: &mut [Step], seen: &mut usize) {
    for step in steps {
        *seen += 1;
        if !step.id_explicit {
            step.id = format!("step_{seen}");
        }
        if let StepKind::If {
            then_steps,
            else_steps,
            ..
        } = &mut step.kind
        {
            number_steps(then_steps, seen);
            number_steps(else_steps, seen);
        }
    }
}

fn automation() -> impl Strategy<Value = Automation> {
    let condition = prop::option::of(prop_oneof![
        condition_expr().prop_map(|expr| Condition {
            expr,
            form: ConditionForm::Expression
        }),
        equality_object().prop_map(|expr| Condition {
            expr,
            form: ConditionForm::EqualityObject
        }),
    ]);
    let event = prop::sample::select(vec![
        "case.created",
        "opportunity.stage_changed",
        "custom.signup",
    ]);
    let layout = prop::option::of(
        (0i64..500, 0i64..500)
            .prop_map(|(x, y)| serde_json::json!({"nodes": {"step_1": {"x": x, "y": y}}})),
    );
    (
        ".{0,20}",
        prop::option::of(".{0,20}"),
        prop::sample::select(Status::ALL.to_vec()),
        prop::sample::select(vec![Environment::Live, Environment::Sandbox]),
        event,
        condition,
        steps(),
        layout,
    )
        .prop_map(
            |(name, description, status, environment, event, condition, mut steps, layout)| {
                number_steps(&mut steps, &mut 0);
                let mut a = Automation {
                    name,
                    description,
                    status,
                    environment,
                    trigger: Trigger {
                        event: event.to_owned(),
                        span: Span::default(),
                    },
                    condition,
                    steps,
                    layout,
                    span: Span::default(),
                };
                // The printer writes any conjunction of `field == literal` as an equality
                // object, so that is the form such a condition comes back with.
                let as_object = to_json(&a)["trigger"]["conditions"].is_object();
                if let Some(condition) = &mut a.condition {
                    condition.form = if as_object {
                        ConditionForm::EqualityObject
                    } else {
                        ConditionForm::Expression
                    };
                }
                a
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ir_to_json_to_ir_is_the_identity(a in automation()) {
        let (back, diagnostics) = lower_value(&to_json(&a));
        prop_assert!(diagnostics.is_empty(), "{:?}\n{}", diagnostics, to_json(&a));
        prop_assert_eq!(back.without_spans(), a.clone());

        let text = to_json_text(std::slice::from_ref(&a));
        let (from_text, _, diagnostics) = parse_json(&text);
        prop_assert!(diagnostics.is_empty(), "{:?}", diagnostics);
        prop_assert_eq!(from_text[0].without_spans(), a);
    }
}
