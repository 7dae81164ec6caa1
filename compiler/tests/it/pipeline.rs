//! `pipeline`: source text to checked automations, canonical text, single conditions.

use automations_compiler::codes;
use automations_compiler::pipeline::{
    ConditionCompiler, ConditionInput, SourceFile, SourceKind, canonical_text, compile_condition,
    compile_source,
};
use automations_compiler::schema::Schema;

const DSL: &str = r#"# header
automation "a" {
  status active
  when case.created
  if priorty == "critical" and amount > 1
  do {
    assign_to_queue(queue_id: "q1")
  }
}
"#;

#[test]
fn source_kind_follows_the_flag() {
    assert_eq!(
        SourceFile::new("x".into(), String::new(), true).kind,
        SourceKind::Json
    );
    assert_eq!(
        SourceFile::new("x".into(), String::new(), false).kind,
        SourceKind::Dsl
    );
}

#[test]
fn dsl_diagnostics_are_collected_and_sorted_by_position() {
    let src = SourceFile::new("a.auto".into(), DSL.into(), false);
    let compiled = compile_source(&src, &Schema::builtin());
    assert!(compiled.has_errors());
    assert_eq!(compiled.automations.len(), 1);
    assert!(compiled.json_map.is_none());
    let codes: Vec<&str> = compiled.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        vec![codes::UNKNOWN_FIELD, codes::UNKNOWN_FIELD],
        "{compiled:#?}"
    );
    let starts: Vec<u32> = compiled.diagnostics.iter().map(|d| d.span.start).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        compiled.diagnostics[0].suggestion.as_deref(),
        Some("priority")
    );
}

#[test]
fn json_missing_trigger_is_reported_once() {
    let text =
        r#"{"name": "x", "actions": [{"type": "assign_to_queue", "params": {"queue_id": "q"}}]}"#;
    let src = SourceFile::new("x.json".into(), text.into(), true);
    let compiled = compile_source(&src, &Schema::builtin());
    let codes: Vec<&str> = compiled.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        vec![codes::MISSING_PART],
        "{:#?}",
        compiled.diagnostics
    );
    assert!(compiled.json_map.is_some());
}

#[test]
fn canonical_dsl_keeps_comments_between_automations() {
    let src = SourceFile::new("a.auto".into(), DSL.into(), false);
    let text = canonical_text(&src).expect("formats");
    assert!(text.starts_with("# header\nautomation \"a\" {\n"), "{text}");
    let again = SourceFile::new("a.auto".into(), text.clone(), false);
    assert_eq!(canonical_text(&again).unwrap(), text);
}

#[test]
fn canonical_dsl_keeps_a_comment_inside_an_automation() {
    let text = DSL.replace("status active", "status active # why");
    let formatted = canonical_text(&SourceFile::new("a.auto".into(), text, false)).unwrap();
    assert!(
        formatted.contains("  # why\n  when case.created\n"),
        "{formatted}"
    );
}

#[test]
fn canonical_json_ends_with_a_newline_and_is_stable() {
    let src = SourceFile::new("a.auto".into(), DSL.into(), false);
    let dsl = canonical_text(&src).unwrap();
    let (autos, _) = automations_compiler::lower_dsl::parse_dsl(&dsl);
    let json = format!("{}\n", automations_compiler::json::to_json_text(&autos));
    let json_src = SourceFile::new("a.json".into(), json.clone(), true);
    assert_eq!(canonical_text(&json_src).unwrap(), json);
}

#[test]
fn canonical_text_fails_on_syntax_errors_only() {
    let broken = SourceFile::new("b.auto".into(), "automation \"b\" {".into(), false);
    let err = canonical_text(&broken).unwrap_err();
    assert_eq!(err[0].code, codes::SYNTAX);
    let json = SourceFile::new("b.json".into(), "{".into(), true);
    assert_eq!(
        canonical_text(&json).unwrap_err()[0].code,
        codes::JSON_SHAPE
    );
}

#[test]
fn condition_evaluates_and_explains() {
    let schema = Schema::builtin();
    let c = compile_condition(
        r#"priority == "critical" and subject contains "VPN""#,
        "case",
        &schema,
    )
    .expect("compiles");
    let record = serde_json::json!({"priority": "critical", "subject": "VPN down"});
    let input = ConditionInput::record(&record, 0);
    assert!(c.eval(&input));
    let low = serde_json::json!({"priority": "low", "subject": "VPN down"});
    let x = c.explain(&ConditionInput {
        record: &low,
        ..input
    });
    assert!(!x.result);
    assert!(
        x.to_string()
            .contains(r#"`priority == "critical"` was false"#),
        "{x}"
    );
}

#[test]
fn condition_errors_are_diagnostics() {
    let schema = Schema::builtin();
    let err = compile_condition("true", "caes", &schema).unwrap_err();
    assert_eq!(err[0].code, codes::UNKNOWN_OBJECT);
    assert_eq!(err[0].suggestion.as_deref(), Some("case"));

    let err = compile_condition(r#"(priority == "critical""#, "case", &schema).unwrap_err();
    assert_eq!(err[0].code, codes::SYNTAX);
    assert_eq!(err[0].span.range(), 0..1);
    assert!(err[0].message.contains("unclosed"), "{}", err[0].message);

    let err = compile_condition(r#"amount > "big""#, "opportunity", &schema).unwrap_err();
    assert!(
        err.iter().any(|d| d.code == codes::TYPE_MISMATCH),
        "{err:#?}"
    );
}

/// The library path: compile once, fill a record's slots once, evaluate and explain from
/// them; the answers are those of the one-call `eval`/`explain`, for every record.
#[test]
fn a_condition_compiled_once_answers_from_slots_filled_once() {
    let compiler = ConditionCompiler::new(Schema::builtin());
    let text =
        r#"priority in ["high", "critical"] and (changed(status) or account.tier == "gold")"#;
    let c = compiler.compile(text, "case").expect("compiles");
    let one_call = compile_condition(text, "case", &Schema::builtin()).expect("compiles");
    let records = [
        serde_json::json!({"priority": "high", "status": "open"}),
        serde_json::json!({"priority": "critical", "status": "new"}),
        serde_json::json!({"priority": "low", "status": "open"}),
        serde_json::json!({"priority": 3, "status": null}),
    ];
    let previous = serde_json::json!({"status": "new"});
    let mut reused = Default::default();
    for record in &records {
        for previous in [None, Some(&previous)] {
            let input = ConditionInput {
                previous,
                ..ConditionInput::record(record, 0)
            };
            let slots = c.fill(&input);
            c.fill_into(&input, &mut reused);
            assert_eq!(slots, reused);
            assert_eq!(
                c.eval_slots(&slots),
                c.eval(&input),
                "{record} {previous:?}"
            );
            assert_eq!(c.eval_slots(&slots), one_call.eval(&input));
            assert_eq!(c.explain_slots(&slots), one_call.explain(&input));
        }
    }
    // Only the fields the condition reads are converted: `priority`, the related tier, the
    // previous record's existence (``), the status now and before.
    let fields: Vec<String> = c.fields().iter().map(|f| f.path.join(".")).collect();
    assert_eq!(
        fields,
        ["priority", "account_id.tier", "", "status", "status"]
    );
    assert_eq!(
        c.fill(&ConditionInput::record(&records[0], 0))
            .values()
            .len(),
        5
    );
}

/// A condition with an error never compiles, and the checker gives no tree for it.
#[test]
fn a_condition_with_an_error_gives_diagnostics_and_no_tree() {
    use automations_compiler::check::{ExprScope, check_condition};
    let compiler = ConditionCompiler::new(Schema::builtin());
    for text in [
        r#"priority == "urgent""#,
        "subjet == 'x'",
        "amount > 'x' or true",
    ] {
        let err = compiler.compile(text, "case").unwrap_err();
        assert!(err.iter().any(|d| d.is_error()), "{text}: {err:?}");
        let expr = automations_compiler::grammar::parse_expr(text).unwrap();
        let scope = ExprScope::for_object("case", "case.updated");
        let (typed, diags) = check_condition(&expr, &scope, compiler.schema());
        assert!(typed.is_none(), "{text}");
        assert_eq!(diags, err);
    }
    // Warnings alone still compile.
    let c = compiler
        .compile("subject == subject", "case")
        .expect("compiles");
    assert!(!c.warnings().is_empty());
}

/// Conditions compiled into one set share its slots: a field several of them read is
/// converted once, and each answers as the same condition compiled on its own.
#[test]
fn a_condition_set_fills_once_and_answers_as_each_condition_alone() {
    use automations_compiler::pipeline::ConditionSet;
    let compiler = ConditionCompiler::new(Schema::builtin());
    let texts = [
        r#"priority in ["high", "critical"]"#,
        r#"priority != "low" and changed(status)"#,
        r#"status == "escalated" or subject contains "outage""#,
    ];
    let mut set = ConditionSet::new(&compiler, "case");
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(set.add(text), Ok(i));
    }
    let err = set.add("subjet == 'x'").unwrap_err();
    assert_eq!(err[0].code, codes::UNKNOWN_FIELD);
    assert_eq!(set.len(), texts.len());
    // `priority` is read by two conditions, once as text: one slot.
    let priority = set
        .fields()
        .iter()
        .filter(|f| f.path == ["priority"])
        .count();
    assert_eq!(priority, 1);
    let alone: Vec<_> = texts
        .iter()
        .map(|t| compiler.compile(t, "case").unwrap())
        .collect();
    let previous = serde_json::json!({"status": "open"});
    for record in [
        serde_json::json!({"priority": "high", "status": "escalated", "subject": "x"}),
        serde_json::json!({"priority": "low", "status": "open", "subject": "Mail outage"}),
        serde_json::json!({"priority": null}),
    ] {
        for previous in [None, Some(&previous)] {
            let input = ConditionInput {
                previous,
                ..ConditionInput::record(&record, 0)
            };
            let slots = set.fill(&input);
            for (i, c) in alone.iter().enumerate() {
                assert_eq!(
                    set.eval(i, &slots),
                    c.eval(&input),
                    "{} on {record}",
                    texts[i]
                );
                assert_eq!(set.explain(i, &slots), Some(c.explain(&input)));
            }
        }
    }
    assert!(!set.eval(99, &set.fill(&ConditionInput::record(&previous, 0))));
    assert_eq!(set.explain(99, &Default::default()), None);
    // An unknown object: every condition is refused with E0102.
    let mut none = ConditionSet::new(&compiler, "casee");
    assert_eq!(none.add("true").unwrap_err()[0].code, codes::UNKNOWN_OBJECT);
    assert!(none.is_empty());
}

/// The canonical JSON text lists keys in the printer's order whether or not serde_json's
/// `preserve_order` is on (the compiler's tests run without it unless the feature is
/// asked for; the workspace's server turns it on).
#[test]
fn canonical_json_text_has_its_own_key_order() {
    let dsl = r#"automation "a" {
  description "d"
  status active
  when case.created
  if priority == "critical" and status == "new"
  do {
    update_record(fields: { status: "open", priority: "high" })
  }
}
"#;
    let (autos, diags) = automations_compiler::lower_dsl::parse_dsl(dsl);
    assert!(diags.is_empty(), "{diags:?}");
    let text = automations_compiler::json::to_json_text(&autos);
    let at = |key: &str| text.find(key).unwrap_or_else(|| panic!("{key} in {text}"));
    let keys = [
        "\"name\"",
        "\"description\"",
        "\"status\": \"active\"",
        "\"trigger\"",
        "\"event\"",
        "\"conditions\"",
        "\"priority\": \"critical\"",
        "\"status\": \"new\"",
        "\"actions\"",
        "\"type\"",
        "\"params\"",
        "\"status\": \"open\"",
        "\"priority\": \"high\"",
    ];
    for pair in keys.windows(2) {
        assert!(
            at(pair[0]) < at(pair[1]),
            "{} before {} in {text}",
            pair[0],
            pair[1]
        );
    }
}

/// Related records reach a condition through the input's resolver, fetched once per fill;
/// without one every hop is null.
#[test]
fn related_records_come_from_the_input_resolver() {
    use automations_compiler::eval::Resolver;
    use std::cell::Cell;
    struct Accounts(Cell<usize>);
    impl Resolver for Accounts {
        fn related(&self, object: &str, id: &str) -> Option<serde_json::Value> {
            self.0.set(self.0.get() + 1);
            (object == "account" && id == "a1")
                .then(|| serde_json::json!({"id": "a1", "tier": "gold", "annual_revenue": 5e6}))
        }
    }
    let compiler = ConditionCompiler::new(Schema::builtin());
    let c = compiler
        .compile(
            r#"account.tier == "gold" and account.annual_revenue > 1000000"#,
            "case",
        )
        .unwrap();
    let record = serde_json::json!({"id": "c1", "account_id": "a1"});
    let accounts = Accounts(Cell::new(0));
    let input = ConditionInput::record(&record, 0).with_resolver(&accounts);
    let slots = c.fill(&input);
    assert!(c.eval_slots(&slots));
    assert_eq!(accounts.0.get(), 1, "one fetch for both fields");
    assert!(!c.eval(&ConditionInput::record(&record, 0)));
    let other = serde_json::json!({"id": "c2", "account_id": "a2"});
    assert!(!c.eval(&ConditionInput::record(&other, 0).with_resolver(&accounts)));
    // `with_previous` feeds `changed()`.
    let changed = compiler.compile("changed(account_id)", "case").unwrap();
    let before = serde_json::json!({"id": "c1", "account_id": "a0"});
    assert!(changed.eval(&ConditionInput::record(&record, 0).with_previous(&before)));
}
