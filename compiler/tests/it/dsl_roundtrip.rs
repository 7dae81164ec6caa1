//! The canonical DSL printer: idempotent, and parse -> print -> parse gives the same IR
//! (modulo spans, redundant parentheses and `"{{ x }}"` params printed as `x`).
//! Cases: `compiler/test_data/dsl/*.auto`; `*.fmt` beside a case pins its canonical text.
//! Set `UPDATE_SNAPSHOTS=1` to rewrite the `.fmt` files after checking them by eye.

use std::path::Path;

use automations_compiler::ir::{
    self, Automation, Condition, ConditionForm, Environment, Param, Retry, Status, Step, StepKind,
};
use automations_compiler::lower_dsl::parse_dsl;
use automations_compiler::print::print_dsl;
use automations_grammar::ast::{
    BinaryOp, CallArg, Expr, ExprKind, Ident, LogicOp, ObjectEntry, Span, StrPart, UnaryOp,
};
use proptest::prelude::*;

use crate::normalize;

fn parse_ok(text: &str) -> Vec<Automation> {
    let (autos, diags) = parse_dsl(text);
    assert!(diags.is_empty(), "diagnostics for\n{text}\n{diags:#?}");
    autos
}

#[test]
fn test_data_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/dsl");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut checked = 0;
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "auto"))
    {
        let text = std::fs::read_to_string(path).unwrap();
        let first = parse_ok(&text);
        let printed = print_dsl(&first);
        let second = parse_ok(&printed);
        assert_eq!(
            normalize::automations(&second),
            normalize::automations(&first),
            "{}",
            path.display()
        );
        assert_eq!(
            print_dsl(&second),
            printed,
            "fmt is not idempotent for {}",
            path.display()
        );
        let snap = path.with_extension("fmt");
        if update {
            std::fs::write(&snap, &printed).unwrap();
        } else if let Ok(expected) = std::fs::read_to_string(&snap) {
            assert_eq!(printed, expected, "canonical text of {}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 3);
}

#[test]
fn design_example_prints_canonically() {
    let text = r#"
automation "Escalate big renewals" {
  if stage == "Negotiation" and (amount > 50000)
  when opportunity.stage_changed
  status active
  description "Ask a manager before discounting renewals over 50k"
  do {
    approval = human_task(assignee: owner.manager_id, title: "Approve discount for {{ name }}",
                          form: { approved: bool, notes: string }, timeout: 48h)
    if steps.approval.output.approved {
      update_field(field: "discount_approved", value: true)
    } else {
      create_task(subject: "Revisit pricing for {{ name }}", assignee: owner.id, due: now() + 3d) when amount > 0
    }
  }
}"#;
    let expected = r#"automation "Escalate big renewals" {
  description "Ask a manager before discounting renewals over 50k"
  status active
  when opportunity.stage_changed
  if stage == "Negotiation" and amount > 50000
  do {
    approval = human_task(assignee: owner.manager_id, title: "Approve discount for {{ name }}", form: { approved: bool, notes: string }, timeout: 48h)
    if steps.approval.output.approved {
      update_field(field: "discount_approved", value: true)
    } else {
      create_task(subject: "Revisit pricing for {{ name }}", assignee: owner.id, due: now() + 3d) when amount > 0
    }
  }
}
"#;
    assert_eq!(print_dsl(&parse_ok(text)), expected);
}

#[test]
fn several_automations_are_separated_by_one_blank_line() {
    let text = "automation \"a\" { when x.y do {} } automation \"b\" { environment sandbox when x.z do { f(v: \"{{ q }}\") } }";
    let expected = "automation \"a\" {\n  status draft\n  when x.y\n  do {\n  }\n}\n\nautomation \"b\" {\n  status draft\n  environment sandbox\n  when x.z\n  do {\n    f(v: q)\n  }\n}\n";
    assert_eq!(print_dsl(&parse_ok(text)), expected);
}

// ---- property: random IR -> print -> parse -> same IR ----

fn sp() -> Span {
    Span::default()
}

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: sp(),
    }
}

fn ex(kind: ExprKind) -> Expr {
    Expr { kind, span: sp() }
}

const NAMES: &[&str] = &[
    "a",
    "amount",
    "stage",
    "order_total",
    "notes",
    "index",
    "owner",
    "isx",
    "not_a",
    "nullable",
];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES).prop_map(str::to_string)
}

fn text() -> impl Strategy<Value = String> {
    "[a-z \"'\\\\{}\n\t#/é]{1,8}"
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        Just(ex(ExprKind::Null)),
        any::<bool>().prop_map(|b| ex(ExprKind::Bool(b))),
        (0u32..100_000).prop_map(|n| ex(ExprKind::Number(f64::from(n)))),
        (0u32..1000).prop_map(|n| ex(ExprKind::Number(f64::from(n) / 8.0))),
        (
            1i64..1000,
            prop::sample::select(vec![
                ("ms", 1i64),
                ("s", 1000),
                ("m", 60_000),
                ("h", 3_600_000),
                ("d", 86_400_000),
                ("w", 604_800_000)
            ])
        )
            .prop_map(|(n, (unit, ms))| ex(ExprKind::Duration {
                millis: n * ms,
                text: format!("{n}{unit}")
            })),
        prop::collection::vec(name(), 1..4)
            .prop_map(|segs| ex(ExprKind::Path(segs.iter().map(|s| ident(s)).collect()))),
        text().prop_map(|t| ex(ExprKind::Str(vec![StrPart::Text(t)]))),
    ]
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    use BinaryOp::*;
    prop::sample::select(vec![
        Eq, Ne, Lt, Le, Gt, Ge, In, Contains, StartsWith, EndsWith, Matches, Add, Sub, Mul, Div,
    ])
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (binary_op(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| ex(
                ExprKind::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r)
                }
            )),
            (any::<bool>(), prop::collection::vec(inner.clone(), 2..5)).prop_map(|(and, items)| {
                let op = if and { LogicOp::And } else { LogicOp::Or };
                ex(ExprKind::Logic { op, items })
            }),
            (any::<bool>(), inner.clone()).prop_map(|(not, e)| {
                let op = if not { UnaryOp::Not } else { UnaryOp::Neg };
                ex(ExprKind::Unary {
                    op,
                    expr: Box::new(e),
                })
            }),
            (any::<bool>(), inner.clone()).prop_map(|(negated, e)| ex(ExprKind::IsNull {
                expr: Box::new(e),
                negated
            })),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| ex(ExprKind::List(v))),
            prop::collection::vec(
                (
                    prop::sample::select(vec!["k", "in", "two words", "x-y"]),
                    inner.clone()
                ),
                0..3
            )
            .prop_map(|v| ex(ExprKind::Object(
                v.into_iter()
                    .map(|(k, value)| ObjectEntry {
                        key: ident(k),
                        value
                    })
                    .collect()
            ))),
            (
                name(),
                prop::collection::vec((prop::option::of(name()), inner.clone()), 0..3)
            )
                .prop_map(|(n, args)| {
                    let args = args
                        .into_iter()
                        .map(|(an, value)| CallArg {
                            name: an.map(|a| ident(&a)),
                            value,
                        })
                        .collect();
                    ex(ExprKind::Call {
                        name: ident(&n),
                        args,
                    })
                }),
            (name(), name(), inner.clone()).prop_map(|(list, param, body)| {
                let lambda = ex(ExprKind::Lambda {
                    param: ident(&param),
                    body: Box::new(body),
                });
                let list_arg = CallArg {
                    name: None,
                    value: ex(ExprKind::Path(vec![ident(&list)])),
                };
                ex(ExprKind::Call {
                    name: ident("any"),
                    args: vec![
                        list_arg,
                        CallArg {
                            name: None,
                            value: lambda,
                        },
                    ],
                })
            }),
            (text(), inner.clone(), prop::option::of(text())).prop_map(|(t, e, t2)| {
                let mut parts = vec![StrPart::Text(t), StrPart::Expr(e)];
                parts.extend(t2.map(StrPart::Text));
                ex(ExprKind::Str(parts))
            }),
            inner.prop_map(|e| ex(ExprKind::Paren(Box::new(e)))),
        ]
    })
}

/// A step tree before ids are assigned: (explicit id, kind).
#[derive(Debug, Clone)]
enum RawStep {
    Action {
        id: Option<String>,
        action: String,
        params: Vec<(String, Expr)>,
        guard: Option<Expr>,
        retry: Option<Vec<(String, Expr)>>,
    },
    If {
        id: Option<String>,
        condition: Expr,
        then_steps: Vec<RawStep>,
        else_steps: Vec<RawStep>,
    },
}

fn step_id() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.3,
        prop::sample::select(vec!["approval", "check", "step_9", "notify"])
            .prop_map(str::to_string),
    )
}

fn raw_steps() -> impl Strategy<Value = Vec<RawStep>> {
    let action = (
        step_id(),
        prop::sample::select(vec![
            "update_field",
            "send_email",
            "human_task",
            "wait",
            "iffy",
        ]),
        prop::collection::vec((name(), expr()), 0..3),
        prop::option::weighted(0.3, expr()),
        prop::option::weighted(0.3, prop::collection::vec((name(), expr()), 0..3)),
    )
        .prop_map(|(id, action, params, guard, retry)| RawStep::Action {
            id,
            action: action.to_string(),
            params,
            guard,
            retry,
        });
    let step = action.prop_recursive(3, 12, 3, |inner| {
        (
            step_id(),
            expr(),
            prop::collection::vec(inner.clone(), 0..3),
            prop::collection::vec(inner, 0..3),
        )
            .prop_map(|(id, condition, then_steps, else_steps)| RawStep::If {
                id,
                condition,
                then_steps,
                else_steps,
            })
    });
    prop::collection::vec(step, 0..4)
}

fn assign_ids(raw: &[RawStep], counter: &mut usize) -> Vec<Step> {
    raw.iter()
        .map(|r| {
            *counter += 1;
            let default_id = format!("step_{counter}");
            let param = |(n, v): &(String, Expr)| Param {
                name: n.clone(),
                name_span: sp(),
                value: v.clone(),
            };
            let (id, guard, retry, kind) = match r {
                RawStep::Action {
                    id,
                    action,
                    params,
                    guard,
                    retry,
                } => {
                    let params = params.iter().map(param).collect();
                    let retry = retry.as_ref().map(|entries| Retry {
                        entries: entries.iter().map(param).collect(),
                        span: sp(),
                    });
                    (
                        id,
                        guard.clone(),
                        retry,
                        StepKind::Action {
                            action: action.clone(),
                            action_span: sp(),
                            params,
                        },
                    )
                }
                RawStep::If {
                    id,
                    condition,
                    then_steps,
                    else_steps,
                } => {
                    let then_steps = assign_ids(then_steps, counter);
                    let else_steps = assign_ids(else_steps, counter);
                    (
                        id,
                        None,
                        None,
                        StepKind::If {
                            condition: condition.clone(),
                            then_steps,
                            else_steps,
                        },
                    )
                }
            };
            Step {
                id: id.clone().unwrap_or(default_id),
                id_explicit: id.is_some(),
                guard,
                retry,
                kind,
                span: sp(),
            }
        })
        .collect()
}

fn layout() -> impl Strategy<Value = Option<serde_json::Value>> {
    prop::option::of(
        prop::collection::btree_map("[a-z_ ]{1,6}", (-50i32..50, any::<bool>()), 0..3).prop_map(|m| {
            let map = m
                .into_iter()
                .map(|(k, (n, b))| (k, serde_json::json!({ "x": n, "y": f64::from(n) / 4.0, "b": b, "s": "t\"" })))
                .collect();
            serde_json::Value::Object(map)
        }),
    )
}

fn automation() -> impl Strategy<Value = Automation> {
    (
        "[A-Za-z \"\\\\{]{1,12}",
        prop::option::of("[a-z \"\n{]{0,12}"),
        prop::sample::select(Status::ALL.to_vec()),
        any::<bool>(),
        prop::sample::select(vec![
            "case.created",
            "opportunity.stage_changed",
            "custom.signup",
        ]),
        prop::option::of(expr()),
        raw_steps(),
        layout(),
    )
        .prop_map(
            |(name, description, status, sandbox, event, condition, steps, layout)| {
                let mut counter = 0;
                Automation {
                    name,
                    description,
                    status,
                    environment: if sandbox {
                        Environment::Sandbox
                    } else {
                        Environment::Live
                    },
                    trigger: ir::Trigger {
                        event: event.to_string(),
                        span: sp(),
                    },
                    condition: condition.map(|expr| Condition {
                        expr,
                        form: ConditionForm::Expression,
                    }),
                    steps: assign_ids(&steps, &mut counter),
                    layout,
                    span: sp(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_ir_round_trips(autos in prop::collection::vec(automation(), 1..3)) {
        let printed = print_dsl(&autos);
        let (reparsed, diags) = parse_dsl(&printed);
        prop_assert!(diags.is_empty(), "{printed}\n{diags:#?}");
        prop_assert_eq!(normalize::automations(&reparsed), normalize::automations(&autos), "{}", printed);
        prop_assert_eq!(print_dsl(&reparsed), printed);
    }
}
