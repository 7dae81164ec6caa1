//! `automations lint` on small temp files: the acceptance cases of the linter, the JSON
//! and SARIF formats, and exit codes.

use serde_json::Value;

use super::support::{diagnostics, run, temp_file};

fn case_automation(condition: &str) -> String {
    format!(
        "automation \"t\" {{\n  when case.created\n  if {condition}\n  do {{\n    assign_to_queue(queue_id: \"q1\")\n  }}\n}}\n"
    )
}

fn opportunity_automation(condition: &str) -> String {
    format!(
        "automation \"t\" {{\n  when opportunity.updated\n  if {condition}\n  do {{\n    update_field(field: \"discount_approved\", value: true)\n  }}\n}}\n"
    )
}

/// Lints `text` (as `name`) with `--format json`; the exit code and the diagnostics.
fn lint(name: &str, text: &str) -> (i32, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_file(&dir, name, text);
    let r = run(&["lint", "--format", "json", &path]);
    (r.code, diagnostics(&r))
}

fn only<'a>(diags: &'a [Value], code: &str) -> &'a Value {
    let hits: Vec<&Value> = diags.iter().filter(|d| d["code"] == code).collect();
    assert_eq!(hits.len(), 1, "want one {code} in {diags:#?}");
    hits[0]
}

#[test]
fn misspelt_field_suggests_the_field() {
    let (code, diags) = lint("t.auto", &case_automation(r#"priorty == "critical""#));
    assert_eq!(code, 1);
    let d = only(&diags, "E0101");
    assert_eq!(d["suggestion"], "priority");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(6))
    );
    assert_eq!(d["severity"], "error");
}

#[test]
fn picklist_value_suggests_the_allowed_value() {
    let (code, diags) = lint(
        "t.auto",
        &opportunity_automation(r#"stage == "Closed Wonn""#),
    );
    assert_eq!(code, 1);
    let d = only(&diags, "E0202");
    assert_eq!(d["suggestion"], "Closed Won");
}

#[test]
fn number_compared_with_text_is_a_type_mismatch() {
    let (code, diags) = lint("t.auto", &opportunity_automation(r#"amount > "big""#));
    assert_eq!(code, 1);
    let d = only(&diags, "E0201");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(6))
    );
}

#[test]
fn unclosed_parenthesis_is_reported_at_the_parenthesis() {
    let text = case_automation(r#"priority == "high" and (status == "new" or origin == "web""#);
    let (code, diags) = lint("t.auto", &text);
    assert_eq!(code, 1);
    let d = only(&diags, "E0001");
    let column = text.lines().nth(2).unwrap().find('(').unwrap() as u64 + 1;
    assert_eq!(column, 29);
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(column)),
        "{d:#}"
    );
    assert!(d["message"].as_str().unwrap().contains("unclosed"), "{d:#}");
}

#[test]
fn unclosed_parenthesis_in_a_json_condition_is_reported_at_the_parenthesis() {
    let text = r#"{
  "name": "t",
  "trigger": { "event": "case.created", "conditions": "(priority == 'critical'" },
  "actions": [ { "type": "assign_to_queue", "params": { "queue_id": "q1" } } ]
}
"#;
    let (code, diags) = lint("t.json", text);
    assert_eq!(code, 1);
    let d = only(&diags, "E0001");
    let column = text.lines().nth(2).unwrap().find("(priority").unwrap() + 1;
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(column as u64))
    );
}

#[test]
fn json_output_has_the_documented_fields() {
    let (_, diags) = lint("t.auto", &case_automation(r#"priorty == "critical""#));
    let d = &diags[0];
    for key in [
        "file",
        "severity",
        "code",
        "message",
        "line",
        "column",
        "end_line",
        "end_column",
        "suggestion",
        "notes",
    ] {
        assert!(d.get(key).is_some(), "missing `{key}` in {d:#}");
    }
    assert!(d["notes"].is_array());
    assert!(d["file"].as_str().unwrap().ends_with("t.auto"));
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_file(&dir, "w.auto", &case_automation("changed(priority)"));
    let r = run(&["lint", "--format", "json", &path]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["warnings"], 1);
    let r = run(&["lint", "--deny-warnings", &path]);
    assert_eq!(r.code, 1);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["lint"]).code, 2);
    assert_eq!(run(&["lint", "--format", "xml", "examples/"]).code, 2);
    assert_eq!(run(&["lint", "no/such/file.auto"]).code, 2);
}

#[test]
fn human_output_shows_the_line_and_the_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_file(&dir, "t.auto", &case_automation(r#"priorty == "critical""#));
    let r = run(&["lint", &path]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("error[E0101]"), "{}", r.stderr);
    assert!(
        r.stderr.contains(r#"if priorty == "critical""#),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("`priority`"), "{}", r.stderr);
}

/// The parts of SARIF 2.1.0 that code-scanning tools require (the schema's `required`
/// properties on the objects we emit, and the value sets of `level`).
#[test]
fn sarif_output_has_the_required_structure() {
    let r = run(&["lint", "--format", "sarif", "examples/invalid/"]);
    assert_eq!(r.code, 1);
    let sarif = r.json();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif"));
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "automations");
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("rule id"))
        .collect();
    let results = runs[0]["results"].as_array().expect("results");
    assert!(results.len() >= 17, "{}", results.len());
    for result in results {
        let rule = result["ruleId"].as_str().expect("ruleId");
        assert!(rules.contains(&rule), "{rule} not among the rules");
        let level = result["level"].as_str().expect("level");
        assert!(["none", "note", "warning", "error"].contains(&level));
        assert!(result["message"]["text"].is_string());
        let location = &result["locations"][0]["physicalLocation"];
        assert!(location["artifactLocation"]["uri"].is_string());
        let region = &location["region"];
        for key in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[key].as_u64().is_some_and(|n| n >= 1), "{region:#}");
        }
        if let Some(fixes) = result.get("fixes") {
            let change = &fixes[0]["artifactChanges"][0];
            assert!(change["artifactLocation"]["uri"].is_string());
            let replacement = &change["replacements"][0];
            assert!(replacement["deletedRegion"]["startLine"].is_u64());
            assert!(replacement["insertedContent"]["text"].is_string());
        }
    }
}
