//! Explanations name the clause that decided a result, with the values it saw.

use automations_compiler::eval::{Decision, EvalInput, SlotLayout, compile, fill_slots};
use automations_compiler::typed::{BinaryOp::*, Span, TExpr, Type};
use serde_json::json;

use crate::eval_support::*;

fn spanned(mut e: TExpr, start: usize, end: usize) -> TExpr {
    e.span = Span::new(start, end);
    e
}

/// `priority == "critical" and status != "closed" and subject contains "VPN"`
fn vpn_condition() -> TExpr {
    let p = spanned(eq(field("priority", Type::String), s("critical")), 0, 22);
    let st = spanned(bin(Ne, field("status", Type::String), s("closed")), 27, 46);
    let sub = spanned(
        bin(Contains, field("subject", Type::String), s("VPN")),
        51,
        73,
    );
    and(and(p, st), sub)
}

const SOURCE: &str = r#"priority == "critical" and status != "closed" and subject contains "VPN""#;

#[test]
fn false_names_the_first_false_clause_as_written() {
    let mut layout = SlotLayout::new();
    let c = compile(&vpn_condition(), &mut layout);
    let r = json!({"priority": "critical", "status": "open", "subject": "Printer jam"});
    let slots = fill_slots(&layout, &EvalInput::record(&r, NOW_MS));
    let x = c.explain(&slots);
    assert!(!x.result);
    assert_eq!(x.decision, Decision::FirstFalse);
    assert_eq!(x.clauses.len(), 1);
    assert_eq!(x.clauses[0].text, r#"subject contains "VPN""#);
    assert_eq!(x.clauses[0].values[0].field, "subject");
    assert_eq!(x.clauses[0].values[0].value, json!("Printer jam"));
    assert_eq!(
        x.to_string(),
        r#"false: clause `subject contains "VPN"` was false (subject = "Printer jam")"#
    );
    let wire = serde_json::to_value(&x).unwrap();
    assert_eq!(wire["decision"], "first_false");
    assert_eq!(wire["clauses"][0]["span"], json!({"start": 51, "end": 73}));
}

#[test]
fn explanations_use_the_source_text_when_given() {
    let mut layout = SlotLayout::new();
    let c = compile(&vpn_condition(), &mut layout).with_source(SOURCE);
    // Both the first and the third clause are false: the first as written is reported,
    // although the evaluator checks the cheap equality clauses first anyway.
    let r = json!({"priority": "low", "status": "open", "subject": "Printer jam"});
    let slots = fill_slots(&layout, &EvalInput::record(&r, NOW_MS));
    let x = c.explain(&slots);
    assert_eq!(x.clauses[0].text, r#"priority == "critical""#);
    assert_eq!(
        x.to_string(),
        r#"false: clause `priority == "critical"` was false (priority = "low")"#
    );
}

#[test]
fn true_and_or_explanations() {
    let mut layout = SlotLayout::new();
    let c = compile(&vpn_condition(), &mut layout);
    let r = json!({"priority": "critical", "status": "open", "subject": "VPN down"});
    let slots = fill_slots(&layout, &EvalInput::record(&r, NOW_MS));
    let x = c.explain(&slots);
    assert!(x.result && x.decision == Decision::AllTrue && x.clauses.len() == 3);
    assert_eq!(x.to_string(), "true: all 3 clauses were true");

    let either = or(
        eq(field("priority", Type::String), s("high")),
        bin(Gt, field("amount", Type::Number), n(1000.0)),
    );
    let mut layout = SlotLayout::new();
    let c = compile(&either, &mut layout);
    let r = json!({"priority": "low", "amount": 10});
    let x = c.explain(&fill_slots(&layout, &EvalInput::record(&r, NOW_MS)));
    assert_eq!(x.decision, Decision::AllFalse);
    assert_eq!(
        x.to_string(),
        r#"false: no clause was true: `priority == "high"` (priority = "low"); `amount > 1000` (amount = 10)"#
    );
    let r = json!({"priority": "low", "amount": 5000});
    let x = c.explain(&fill_slots(&layout, &EvalInput::record(&r, NOW_MS)));
    assert!(x.result);
    assert_eq!(x.decision, Decision::FirstTrue);
    assert_eq!(x.clauses[0].text, "amount > 1000");
}

/// Equalities of one field run merged into one `in`; explanations still name the clause
/// as written that decided.
#[test]
fn merged_equalities_are_explained_clause_by_clause() {
    let stage = || field("stage", Type::String);
    let open = and(
        and(
            bin(Ne, stage(), s("Closed Won")),
            bin(Ne, stage(), s("Closed Lost")),
        ),
        bin(Gt, field("amount", Type::Number), n(10.0)),
    );
    let mut layout = SlotLayout::new();
    let c = compile(&open, &mut layout);
    let r = json!({"stage": "Closed Lost", "amount": 50});
    let x = c.explain(&fill_slots(&layout, &EvalInput::record(&r, NOW_MS)));
    assert!(!x.result);
    assert_eq!(x.decision, Decision::FirstFalse);
    assert_eq!(x.clauses[0].text, r#"stage != "Closed Lost""#);
    let r = json!({"stage": "Proposal", "amount": 50});
    let x = c.explain(&fill_slots(&layout, &EvalInput::record(&r, NOW_MS)));
    assert!(x.result && x.decision == Decision::AllTrue && x.clauses.len() == 3);

    let urgent = or(
        eq(field("priority", Type::String), s("high")),
        eq(field("priority", Type::String), s("critical")),
    );
    let mut layout = SlotLayout::new();
    let c = compile(&urgent, &mut layout);
    let r = json!({"priority": "critical"});
    let x = c.explain(&fill_slots(&layout, &EvalInput::record(&r, NOW_MS)));
    assert!(x.result);
    assert_eq!(x.decision, Decision::FirstTrue);
    assert_eq!(x.clauses[0].text, r#"priority == "critical""#);
    let r = json!({"priority": null});
    let x = c.explain(&fill_slots(&layout, &EvalInput::record(&r, NOW_MS)));
    assert_eq!(
        (x.result, x.decision, x.clauses.len()),
        (false, Decision::AllFalse, 2)
    );

    // Six texts (two lists of up to four), one repeated: the clause as written decides.
    let texts = ["a", "b", "a", "c", "d", "e"];
    let none_of = texts
        .iter()
        .map(|t| bin(Ne, field("status", Type::String), s(t)))
        .reduce(and)
        .unwrap();
    let mut layout = SlotLayout::new();
    let c = compile(&none_of, &mut layout);
    let cases = [
        ("e", Some(r#"status != "e""#)),
        ("a", Some(r#"status != "a""#)),
        ("z", None),
    ];
    for (status, first_false) in cases {
        let r = json!({ "status": status });
        let x = c.explain(&fill_slots(&layout, &EvalInput::record(&r, NOW_MS)));
        assert_eq!(x.result, first_false.is_none(), "{status}");
        match first_false {
            Some(text) => assert_eq!(x.clauses[0].text, text),
            None => assert_eq!(x.clauses.len(), 6),
        }
    }
}

#[test]
fn a_single_clause_prints_with_parentheses_where_needed() {
    let e = not(and(
        eq(field("status", Type::String), s("closed")),
        or(b(true), is_null(field("x", Type::String), true)),
    ));
    let mut layout = SlotLayout::new();
    let c = compile(&e, &mut layout);
    let r = json!({"status": "closed"});
    let x = c.explain(&fill_slots(&layout, &EvalInput::record(&r, NOW_MS)));
    assert_eq!(x.decision, Decision::Single);
    assert!(!x.result);
    assert_eq!(
        x.clauses[0].text,
        r#"not (status == "closed" and (true or x is not null))"#
    );
}

/// (condition, subject of the record, decision, clauses listed, clauses left out, how the
/// text form ends).
fn huge_cases() -> Vec<(String, String, Decision, usize, usize, &'static str)> {
    let chain = |n: usize, op: &str, joiner: &str| {
        (0..n)
            .map(|i| format!("subject {op} \"s{i}\""))
            .collect::<Vec<_>>()
            .join(joiner)
    };
    let ids: Vec<String> = (0..20_000).map(|i| format!("\"id{i}\"")).collect();
    let long = "x".repeat(5_000);
    vec![
        (
            chain(5_000, "!=", " and "),
            "x".into(),
            Decision::AllTrue,
            20,
            4_980,
            "all 5000 clauses were true",
        ),
        (
            chain(5_000, "==", " or "),
            "x".into(),
            Decision::AllFalse,
            20,
            4_980,
            "; and 4980 more",
        ),
        (
            chain(3, "==", " or "),
            "x".into(),
            Decision::AllFalse,
            3,
            0,
            r#"(subject = "x")"#,
        ),
        (
            format!("subject in [{}]", ids.join(", ")),
            long.clone(),
            Decision::Single,
            1,
            0,
            "…\")",
        ),
        (
            format!("{} and subject == \"y\"", chain(4_000, "!=", " and ")),
            long,
            Decision::FirstFalse,
            1,
            0,
            "…\")",
        ),
    ]
}

#[test]
fn explanations_of_huge_conditions_and_values_are_bounded() {
    use automations_compiler::check::{ExprScope, check_condition};
    use automations_compiler::eval::explain::{MAX_EXPLAINED_CLAUSES, MAX_EXPLAINED_TEXT_BYTES};
    use automations_compiler::schema::Schema;
    let scope = ExprScope::for_object("case", "case.updated");
    for (text, subject, decision, listed, more, ends) in huge_cases() {
        let name = &text[..40.min(text.len())];
        let expr = automations_grammar::parse_expr(&text).unwrap();
        let typed = check_condition(&expr, &scope, &Schema::builtin())
            .0
            .unwrap();
        let mut layout = SlotLayout::new();
        let c = compile(&typed, &mut layout).with_source(&text);
        let r = json!({ "subject": subject });
        let x = c.explain(&fill_slots(&layout, &EvalInput::record(&r, NOW_MS)));
        assert_eq!(x.decision, decision, "{name}");
        assert_eq!((x.clauses.len(), x.more_clauses), (listed, more), "{name}");
        assert!(x.clauses.len() <= MAX_EXPLAINED_CLAUSES);
        for clause in &x.clauses {
            // Cut text ends with `…` (3 bytes).
            assert!(clause.text.len() <= MAX_EXPLAINED_TEXT_BYTES + 3, "{name}");
            for seen in &clause.values {
                let shown = seen.value.as_str().unwrap_or_default();
                assert!(shown.len() <= MAX_EXPLAINED_TEXT_BYTES + 3, "{name}");
            }
        }
        let shown = x.to_string();
        assert!(shown.ends_with(ends), "{name}: {shown}");
        assert!(shown.len() < 30 * 2 * MAX_EXPLAINED_TEXT_BYTES, "{name}");
        let wire = serde_json::to_value(&x).unwrap();
        assert_eq!(wire.get("more_clauses").is_some(), more > 0, "{name}");
    }
}
