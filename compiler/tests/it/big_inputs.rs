//! Big generated conditions from `test_data/big/conditions.txt` (issue: long chains
//! overflowed the stack and took cubic time). Each case is parsed and checked as an
//! expression, as the condition of a `.auto` automation and of a JSON one (the same
//! codes everywhere), then compiled and evaluated with both evaluators, which must agree.
//! Everything runs on the test thread's ordinary 2 MiB stack: nothing may recurse once per
//! clause. No timing is asserted here (see `benches/big_conditions.rs` for the growth).

use std::path::Path;

use automations_compiler::check::{ExprScope, check_automation, check_condition};
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::eval::{EvalInput, References, SlotLayout, compile, fill_slots};
use automations_compiler::json::parse_json;
use automations_compiler::lower_dsl::{parse_dsl, syntax_diagnostic};
use automations_compiler::schema::Schema;
use serde_json::json;

struct BigCase {
    name: String,
    text: String,
    expect: Vec<String>,
}

fn read_cases() -> Vec<BigCase> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/big/conditions.txt");
    let data = std::fs::read_to_string(path).expect("conditions.txt");
    data.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("##"))
        .map(|line| {
            let cols: Vec<&str> = line.split('|').map(str::trim).collect();
            let [name, count, joiner, clause, expect] = cols[..] else {
                panic!("a case needs 5 columns: {line}")
            };
            let count: usize = count.parse().expect("a count");
            let mut expect: Vec<String> = expect
                .split_whitespace()
                .filter(|c| *c != "none")
                .map(String::from)
                .collect();
            expect.sort();
            BigCase {
                name: name.to_string(),
                text: generate(count, joiner, clause),
                expect,
            }
        })
        .collect()
}

fn generate(count: usize, joiner: &str, clause: &str) -> String {
    let items = (0..count).map(|i| clause.replace("{i}", &i.to_string()));
    if joiner == "nest" {
        return format!("{}{clause}{}", "(".repeat(count), ")".repeat(count));
    }
    if let Some(field) = joiner.strip_prefix("in:") {
        return format!("{field} in [{}]", items.collect::<Vec<_>>().join(", "));
    }
    items.collect::<Vec<_>>().join(&format!(" {joiner} "))
}

fn codes(diags: &[Diagnostic]) -> Vec<String> {
    let mut out: Vec<String> = diags.iter().map(|d| d.code.to_string()).collect();
    out.sort();
    out.dedup();
    out
}

fn automation_dsl(condition: &str) -> String {
    format!(
        "automation \"big\" {{\n  status active\n  when case.updated\n  if {condition}\n  do {{\n    \
         notify_user(user_id: owner_id, message: \"hi\")\n  }}\n}}\n"
    )
}

fn automation_json(condition: &str) -> String {
    json!({
        "name": "big",
        "trigger": {"event": "case.updated", "conditions": condition},
        "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "hi"}}],
    })
    .to_string()
}

#[test]
fn big_conditions_check_the_same_everywhere_and_evaluate() {
    let schema = Schema::builtin();
    let scope = ExprScope::for_object("case", "case.updated");
    let cases = read_cases();
    assert!(cases.len() >= 20, "too few cases read");
    let mut failures = Vec::new();
    let record = json!({"id": "c1", "subject": "s7", "priority": "high", "owner_id": "u1"});
    for case in &cases {
        // As an expression (`automations eval`, conditions of the API's JSON).
        let typed = match automations_grammar::parse_expr(&case.text) {
            Ok(expr) => {
                let (typed, diags) = check_condition(&expr, &scope, &schema);
                if codes(&diags) != case.expect {
                    failures.push(format!(
                        "{}: expression gave {:?}",
                        case.name,
                        codes(&diags)
                    ));
                }
                typed
            }
            Err(e) => {
                let got = codes(&[syntax_diagnostic(&e)]);
                if got != case.expect {
                    failures.push(format!("{}: expression gave {got:?} ({e})", case.name));
                }
                None
            }
        };
        // Inside a `.auto` file and a JSON definition.
        let (automations, mut diags) = parse_dsl(&automation_dsl(&case.text));
        for a in &automations {
            diags.extend(check_automation(a, &schema).1);
        }
        if codes(&diags) != case.expect {
            failures.push(format!("{}: .auto gave {:?}", case.name, codes(&diags)));
        }
        let (automations, _, mut diags) = parse_json(&automation_json(&case.text));
        for a in &automations {
            diags.extend(check_automation(a, &schema).1);
        }
        if codes(&diags) != case.expect {
            failures.push(format!("{}: JSON gave {:?}", case.name, codes(&diags)));
        }
        // Compiled and reference evaluators agree, explanation included.
        if let Some(t) = typed {
            let mut layout = SlotLayout::new();
            let compiled = compile(&t, &mut layout);
            let input = EvalInput::record(&record, 0);
            let slots = fill_slots(&layout, &input);
            let oracle = automations_compiler::eval::reference::evaluate_bool(
                &t,
                &input,
                &References::default(),
            );
            if compiled.eval(&slots) != oracle || compiled.explain(&slots).result != oracle {
                failures.push(format!("{}: the evaluators disagree", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_chain_of_ids_is_looked_up_whatever_its_length() {
    let ids: Vec<String> = (0..20_000).map(|i| format!("\"id{i}\"")).collect();
    let text = format!("subject in [{}]", ids.join(", "));
    let expr = automations_grammar::parse_expr(&text).unwrap();
    let scope = ExprScope::for_object("case", "case.updated");
    let (typed, diags) = check_condition(&expr, &scope, &Schema::builtin());
    assert!(diags.is_empty(), "{diags:?}");
    let mut layout = SlotLayout::new();
    let compiled = compile(&typed.unwrap(), &mut layout);
    for (subject, want) in [
        ("id0", true),
        ("id19999", true),
        ("id20000", false),
        ("", false),
    ] {
        let record = json!({ "subject": subject });
        let slots = fill_slots(&layout, &EvalInput::record(&record, 0));
        assert_eq!(compiled.eval(&slots), want, "{subject}");
    }
}

#[test]
fn the_deepest_expression_within_the_limits_runs_on_a_test_thread_stack() {
    // 250 additions nest 250 levels: just under `MAX_EXPR_DEPTH`, in a debug build, on
    // the test thread's 2 MiB stack, through every recursive pass.
    let text = format!("len(subject){} > 0", " + 1".repeat(250));
    let expr = automations_grammar::parse_expr(&text).expect("within the depth limit");
    let printed = automations_compiler::print::print_expr(&expr, &Default::default());
    assert_eq!(printed, text);
    let scope = ExprScope::for_object("case", "case.updated");
    let (typed, diags) = check_condition(&expr, &scope, &Schema::builtin());
    assert!(diags.is_empty(), "{diags:?}");
    let typed = typed.unwrap();
    let mut layout = SlotLayout::new();
    let compiled = compile(&typed, &mut layout);
    let record = json!({"subject": "abc"});
    let input = EvalInput::record(&record, 0);
    let slots = fill_slots(&layout, &input);
    assert!(compiled.eval(&slots));
    assert!(compiled.explain(&slots).result);
    assert!(automations_compiler::eval::reference::evaluate_bool(
        &typed,
        &input,
        &References::default()
    ));
}

/// (condition, bytes of the record's subject, what both evaluators answer). A string
/// built by a template in a condition is null past `MAX_BUILT_TEXT_BYTES`, checked as it
/// is rendered (`+` on strings does not check, but both evaluators cap it the same way
/// should it ever): 2,000 parts over a 500 KB field would otherwise render 1 GB.
fn built_text_cases() -> Vec<(String, usize, bool)> {
    let template = |n: usize| format!("len(\"{}\") > 0", "{{ subject }}".repeat(n));
    vec![
        (template(2), 500_000, true),
        (template(3), 500_000, false),
        (template(3), 300_000, true),
        (template(2_000), 500_000, false),
        (template(2_000), 0, false),
        (template(2_000), 1, true),
        (
            format!("lower(\"{}\") == \"x\"", "{{ subject }}".repeat(2_000)),
            600_000,
            false,
        ),
        (
            format!(
                "{} > 0",
                "len(\"{{ subject }}{{ subject }}\") + ".repeat(200) + "0"
            ),
            600_000,
            false,
        ),
        (
            format!(
                "{} > 0",
                "len(\"{{ subject }}{{ subject }}\") + ".repeat(200) + "0"
            ),
            400_000,
            true,
        ),
    ]
}

#[test]
fn text_built_in_a_condition_is_capped_the_same_by_both_evaluators() {
    let schema = Schema::builtin();
    let scope = ExprScope::for_object("case", "case.updated");
    for (text, bytes, want) in built_text_cases() {
        let name = format!("{} ({bytes} bytes)", &text[..text.len().min(60)]);
        let expr = automations_grammar::parse_expr(&text).expect("parses");
        let (typed, diags) = check_condition(&expr, &scope, &schema);
        let typed = typed.unwrap_or_else(|| panic!("{name}: {diags:?}"));
        let record = json!({ "subject": "é".repeat(bytes / 2) + &"x".repeat(bytes % 2) });
        let input = EvalInput::record(&record, 0);
        let mut layout = SlotLayout::new();
        let compiled = compile(&typed, &mut layout);
        let slots = fill_slots(&layout, &input);
        assert_eq!(compiled.eval(&slots), want, "{name}: compiled");
        let oracle = automations_compiler::eval::reference::evaluate_bool(
            &typed,
            &input,
            &References::default(),
        );
        assert_eq!(oracle, want, "{name}: reference");
    }
}
