//! `.auto` text to IR: headers, default step ids, diagnostics.

use automations_compiler::codes;
use automations_compiler::ir::{ConditionForm, Environment, Status, StepKind};
use automations_compiler::lower_dsl::parse_dsl;

#[test]
fn lowers_headers_and_defaults() {
    let text = "automation \"A\" { when case.created do { } }";
    let (autos, diags) = parse_dsl(text);
    assert!(diags.is_empty(), "{diags:?}");
    let a = &autos[0];
    assert_eq!(a.name, "A");
    assert_eq!(a.status, Status::Draft);
    assert_eq!(a.environment, Environment::Live);
    assert_eq!(a.trigger.event, "case.created");
    assert_eq!(&text[a.trigger.span.range()], "case.created");
    assert!(a.condition.is_none() && a.layout.is_none() && a.description.is_none());
}

#[test]
fn step_ids_count_every_step_in_document_order() {
    let text = r#"automation "A" {
      when case.created
      do {
        a()
        named = if x {
          b()
          if y { c() } else if z { d() }
        } else {
          e() when w
        }
        f()
      }
    }"#;
    let (autos, diags) = parse_dsl(text);
    assert!(diags.is_empty(), "{diags:?}");
    let ids: Vec<(&str, bool)> = autos[0]
        .walk_steps()
        .iter()
        .map(|s| (s.id.as_str(), s.id_explicit))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("step_1", false),
            ("named", true),
            ("step_3", false),
            ("step_4", false),
            ("step_5", false),
            ("step_6", false),
            ("step_7", false),
            ("step_8", false),
            ("step_9", false),
        ]
    );
    let steps = autos[0].walk_steps();
    assert!(matches!(steps[3].kind, StepKind::If { .. }));
    assert!(
        matches!(steps[5].kind, StepKind::If { .. }),
        "else if nests an If"
    );
    assert!(steps[6].guard.is_none());
    assert!(steps[7].guard.is_some(), "e() has its guard");
}

#[test]
fn condition_and_layout() {
    let text = r#"automation "A" {
      when case.created
      if priority == "high"
      layout { step_1: { x: 10, y: -2.5 }, "a b": [true, null, "s"] }
      do { }
    }"#;
    let (autos, diags) = parse_dsl(text);
    assert!(diags.is_empty(), "{diags:?}");
    let a = &autos[0];
    assert_eq!(
        a.condition.as_ref().unwrap().form,
        ConditionForm::Expression
    );
    let expected =
        serde_json::json!({ "step_1": { "x": 10, "y": -2.5 }, "a b": [true, null, "s"] });
    assert_eq!(a.layout.as_ref().unwrap(), &expected);
}

#[test]
fn collects_all_shape_errors() {
    let text = r#"automation "A" {
      status enabled
      environment staging
      layout { x: a + 1, y: "{{ b }}" }
      do { }
    }
    automation "B" { when case.created do {} }"#;
    let (autos, diags) = parse_dsl(text);
    assert_eq!(autos.len(), 2, "lowering continues past errors");
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        vec![
            codes::INVALID_VALUE,
            codes::INVALID_VALUE,
            codes::MISSING_PART,
            codes::INVALID_VALUE,
            codes::INVALID_VALUE
        ],
        "{diags:#?}"
    );
    assert_eq!(&text[diags[0].span.range()], "enabled");
    assert!(
        diags[0].notes[0].contains("draft, active, paused, archived"),
        "{:?}",
        diags[0].notes
    );
    assert_eq!(&text[diags[1].span.range()], "staging");
    assert!(diags[1].notes[0].contains("live, sandbox"));
    assert_eq!(autos[0].trigger.event, "");
    assert_eq!(&text[diags[3].span.range()], "a + 1");
}

#[test]
fn syntax_error_is_one_e0001_with_expected_tokens() {
    let text = "automation \"A\" { when case.created if (a == 1 do {} }";
    let (autos, diags) = parse_dsl(text);
    assert!(autos.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, codes::SYNTAX);
    // The diagnostic points at the `(` left open; a label marks where `)` was expected.
    assert_eq!(diags[0].message, "unclosed `(`: no matching `)`");
    assert_eq!(
        diags[0].span.range(),
        text.find('(').map(|i| i..i + 1).unwrap()
    );
    assert_eq!(diags[0].labels.len(), 1);
    assert_eq!(&text[diags[0].labels[0].span.range()], "do");
    assert_eq!(
        diags[0].labels[0].message,
        "expected `)` or an operator, found `do`"
    );
    assert!(diags[0].notes[0].contains("`)`"), "{:?}", diags[0].notes);
}

#[test]
fn syntax_error_without_an_open_bracket_points_where_parsing_stopped() {
    let text = "automation \"A\" { when case.created do { f(a: 1 b: 2) } }";
    let (_, diags) = parse_dsl(text);
    assert_eq!(diags.len(), 1);
    // A missing comma, not a missing `)`: reported at the unexpected token.
    assert_eq!(&text[diags[0].span.range()], "b");
    assert!(diags[0].labels.is_empty());
}
