//! JSON -> IR: shapes of the lowered IR, default step ids and spans into the JSON text.

use std::path::PathBuf;

use automations_compiler::ir::{Automation, ConditionForm, Status, StepKind};
use automations_compiler::json::{JsonSourceMap, lower_value, parse_json};
use automations_grammar::ast::{BinaryOp, Expr, ExprKind, LogicOp, StrPart};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/json")
}

/// Every `test_data/json/roundtrip/*.json` file with its text.
pub fn roundtrip_files() -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(data_dir().join("roundtrip"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "test data is missing");
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

pub fn lower_clean(text: &str) -> (Vec<Automation>, JsonSourceMap) {
    let (automations, map, diagnostics) = parse_json(text);
    assert!(
        diagnostics.is_empty(),
        "unexpected diagnostics: {diagnostics:#?}"
    );
    (automations, map)
}

fn load(name: &str) -> String {
    std::fs::read_to_string(data_dir().join("roundtrip").join(name)).unwrap()
}

fn params(automation: &Automation, step: usize) -> &[automations_compiler::ir::Param] {
    match &automation.walk_steps()[step].kind {
        StepKind::Action { params, .. } => params,
        other => panic!("not an action: {other:?}"),
    }
}

fn param<'a>(automation: &'a Automation, step: usize, name: &str) -> &'a Expr {
    &params(automation, step)
        .iter()
        .find(|p| p.name == name)
        .unwrap()
        .value
}

fn path_names(expr: &Expr) -> Vec<&str> {
    match &expr.kind {
        ExprKind::Path(idents) => idents.iter().map(|i| i.name.as_str()).collect(),
        other => panic!("not a path: {other:?}"),
    }
}

#[test]
fn every_test_file_lowers_without_diagnostics() {
    for (name, text) in roundtrip_files() {
        let (automations, _, diagnostics) = parse_json(&text);
        assert!(diagnostics.is_empty(), "{name}: {diagnostics:#?}");
        assert!(!automations.is_empty(), "{name}");
    }
}

#[test]
fn seed_body_lowers_to_an_equality_condition_and_default_ids() {
    let (automations, _) = lower_clean(&load("seed.json"));
    let [a] = automations.as_slice() else {
        panic!()
    };
    assert_eq!(a.name, "Auto-assign high-priority cases");
    assert_eq!(a.status, Status::Active);
    assert_eq!(a.trigger.event, "case.created");
    let condition = a.condition.as_ref().unwrap();
    assert_eq!(condition.form, ConditionForm::EqualityObject);
    let ExprKind::Binary {
        op: BinaryOp::Eq,
        lhs,
        rhs,
    } = &condition.expr.kind
    else {
        panic!()
    };
    assert_eq!(path_names(lhs), ["priority"]);
    assert_eq!(
        rhs.kind,
        ExprKind::Str(vec![StrPart::Text("critical".into())])
    );
    let ids: Vec<_> = a
        .steps
        .iter()
        .map(|s| (s.id.as_str(), s.id_explicit))
        .collect();
    assert_eq!(ids, [("step_1", false), ("step_2", false)]);
    assert_eq!(
        param(a, 1, "message").kind,
        ExprKind::Str(vec![StrPart::Text("Critical case created".into())])
    );
}

#[test]
fn status_defaults_to_draft() {
    let (a, d) = lower_value(
        &serde_json::json!({"name": "n", "trigger": {"event": "case.created"}, "actions": []}),
    );
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(a.status, Status::Draft);
    assert!(a.condition.is_none());
}

#[test]
fn equality_object_with_several_fields_is_one_flat_conjunction() {
    let (automations, _) = lower_clean(&load("wait.json"));
    let expr = &automations[0].condition.as_ref().unwrap().expr;
    let ExprKind::Logic {
        op: LogicOp::And,
        items,
    } = &expr.kind
    else {
        panic!("{expr:?}")
    };
    assert!(items.len() >= 2, "{items:?}");
    assert!(items.iter().all(|i| matches!(
        i.kind,
        ExprKind::Binary {
            op: BinaryOp::Eq,
            ..
        }
    )));
    let ExprKind::Binary {
        op: BinaryOp::Eq,
        rhs: score,
        ..
    } = &items[items.len() - 1].kind
    else {
        panic!()
    };
    assert_eq!(score.kind, ExprKind::Number(80.0));
}

#[test]
fn approval_lowers_control_steps_forms_templates_and_numbered_ids() {
    let (automations, _) = lower_clean(&load("approval.json"));
    let a = &automations[0];
    let ids: Vec<_> = a
        .walk_steps()
        .iter()
        .map(|s| (s.id.clone(), s.id_explicit))
        .collect();
    let expected = [
        ("approval", true),
        ("step_2", false),
        ("step_3", false),
        ("step_4", false),
        ("step_5", false),
    ];
    assert_eq!(ids, expected.map(|(i, e)| (i.to_string(), e)));
    assert_eq!(
        a.condition.as_ref().unwrap().form,
        ConditionForm::Expression
    );

    assert_eq!(path_names(param(a, 0, "assignee")), ["owner", "manager_id"]);
    let ExprKind::Str(parts) = &param(a, 0, "title").kind else {
        panic!()
    };
    assert!(
        matches!(&parts[..], [StrPart::Text(t), StrPart::Expr(_)] if t == "Approve discount for ")
    );
    assert!(matches!(
        param(a, 0, "timeout").kind,
        ExprKind::Duration {
            millis: 172_800_000,
            ..
        }
    ));
    let ExprKind::Object(form) = &param(a, 0, "form").kind else {
        panic!()
    };
    let form: Vec<_> = form
        .iter()
        .map(|e| (e.key.name.as_str(), path_names(&e.value)))
        .collect();
    assert_eq!(
        form,
        [("approved", vec!["bool"]), ("notes", vec!["string"])]
    );

    let StepKind::If {
        condition,
        then_steps,
        else_steps,
    } = &a.steps[1].kind
    else {
        panic!()
    };
    assert_eq!(
        path_names(condition),
        ["steps", "approval", "output", "approved"]
    );
    assert_eq!((then_steps.len(), else_steps.len()), (2, 1));
    assert!(matches!(
        param(a, 4, "due").kind,
        ExprKind::Binary {
            op: BinaryOp::Add,
            ..
        }
    ));
}

#[test]
fn plain_duration_strings_of_wait_and_timeouts_are_durations() {
    let body = serde_json::json!({"name": "n", "trigger": {"event": "lead.created"},
        "actions": [{"type": "wait", "params": {"duration": "2d"}}, {"type": "send_email", "params": {"body": "2d"}}]});
    let (a, d) = lower_value(&body);
    assert!(d.is_empty(), "{d:?}");
    assert!(matches!(
        param(&a, 0, "duration").kind,
        ExprKind::Duration {
            millis: 172_800_000,
            ..
        }
    ));
    assert_eq!(
        param(&a, 1, "body").kind,
        ExprKind::Str(vec![StrPart::Text("2d".into())])
    );
}

#[test]
fn guards_and_layout_and_environment_are_kept() {
    let (automations, _) = lower_clean(&load("guards.json"));
    let a = &automations[0];
    assert!(a.steps.iter().all(|s| s.guard.is_some()));
    let (automations, _) = lower_clean(&load("layout.json"));
    let a = &automations[0];
    assert_eq!(a.environment.as_str(), "sandbox");
    assert_eq!(a.description.as_deref(), Some("Tried in the sandbox first"));
    assert_eq!(a.layout.as_ref().unwrap()["nodes"]["step_1"]["x"], 120);
}

#[test]
fn arrays_hold_several_automations_with_their_own_step_numbers() {
    let (automations, _) = lower_clean(&load("several.json"));
    assert_eq!(automations.len(), 2);
    assert_eq!(automations[1].status, Status::Archived);
    assert_eq!(automations[0].steps[0].id, "step_1");
    let expr = &automations[1].condition.as_ref().unwrap().expr;
    let ExprKind::Logic { items, .. } = &expr.kind else {
        panic!("{expr:?}")
    };
    let ExprKind::Binary { lhs: tier, .. } = &items[0].kind else {
        panic!()
    };
    assert_eq!(path_names(tier), ["account", "tier"]);
}

#[test]
fn spans_point_into_the_json_text() {
    let text = load("approval.json");
    let (automations, map) = lower_clean(&text);
    let a = &automations[0];
    let slice = |span: automations_compiler::ir::Span| &text[span.range()];
    assert_eq!(slice(a.trigger.span), "opportunity.stage_changed");
    let condition = &a.condition.as_ref().unwrap().expr;
    assert!(slice(condition.span).starts_with("stage == 'Negotiation'"));
    let ExprKind::Str(parts) = &param(a, 0, "title").kind else {
        panic!()
    };
    let StrPart::Expr(name) = &parts[1] else {
        panic!()
    };
    assert_eq!(slice(name.span), "name");
    assert_eq!(
        map.pointer_at(name.span).as_deref(),
        Some("/actions/0/params/title")
    );
    let title = &params(a, 0)[1];
    assert_eq!(slice(title.name_span), "title");
    let StepKind::Action { action_span, .. } = &a.steps[0].kind else {
        panic!()
    };
    assert_eq!(slice(*action_span), "human_task");
    assert!(slice(a.steps[1].span).starts_with("{\n      \"type\": \"if\""));
    let ExprKind::Object(form) = &param(a, 0, "form").kind else {
        panic!()
    };
    assert_eq!(slice(form[0].value.span), "bool");
}

#[test]
fn spans_after_escapes_still_point_at_the_expression() {
    let text = r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [
        {"type": "notify_user", "params": {"message": "say \"hi\" \u00e9 {{ subject }}"}}]}"#;
    let (automations, _) = lower_clean(text);
    let ExprKind::Str(parts) = &param(&automations[0], 0, "message").kind else {
        panic!()
    };
    let StrPart::Expr(subject) = &parts[1] else {
        panic!("{parts:?}")
    };
    assert_eq!(&text[subject.span.range()], "subject");
}

#[test]
fn lower_value_matches_parse_json_without_spans() {
    for (name, text) in roundtrip_files() {
        let (from_text, _) = lower_clean(&text);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let values = match value {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        for (value, expected) in values.iter().zip(&from_text) {
            let (lowered, diagnostics) = lower_value(value);
            assert!(diagnostics.is_empty(), "{name}");
            assert_eq!(
                lowered,
                lowered.without_spans(),
                "{name}: lower_value has no spans"
            );
            assert_eq!(lowered, expected.without_spans(), "{name}");
        }
    }
}
