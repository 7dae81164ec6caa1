//! Renderers: human (codespan), JSON (DESIGN §11) and SARIF 2.1.0.

use automations_compiler::codes;
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::ir::Span;
use automations_compiler::render::{
    FileDiagnostics, RenderConfig, render_human, render_json_value, render_sarif_value,
};

const SOURCE: &str = "automation \"a\" {\n  if priorty == \"critical\"\n}\n";

fn diags() -> Vec<Diagnostic> {
    let start = SOURCE.find("priorty").expect("in source");
    vec![
        Diagnostic::error(
            codes::UNKNOWN_FIELD,
            "unknown field `priorty` on `case`",
            Span::new(start, start + 7),
        )
        .with_suggestion("priority"),
        Diagnostic::warning(
            codes::ALWAYS_TRUE,
            "this condition is always true",
            Span::new(0, 10),
        ),
    ]
}

#[test]
fn json_has_the_documented_shape() {
    let d = diags();
    let v = render_json_value(&[FileDiagnostics {
        file: "x.auto",
        source: SOURCE,
        diagnostics: &d,
    }]);
    assert_eq!(v["errors"], 1);
    assert_eq!(v["warnings"], 1);
    let first = &v["diagnostics"][0];
    let keys: Vec<&str> = first
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "file",
            "severity",
            "code",
            "message",
            "line",
            "column",
            "end_line",
            "end_column",
            "suggestion",
            "notes"
        ]
    );
    assert_eq!(first["line"], 2);
    assert_eq!(first["column"], 6);
    assert_eq!(first["end_line"], 2);
    assert_eq!(first["end_column"], 13);
    assert_eq!(first["suggestion"], "priority");
    assert_eq!(first["severity"], "error");
    assert!(v["diagnostics"][1]["suggestion"].is_null());
}

#[test]
fn columns_count_chars() {
    let source = "é priorty";
    let d = [Diagnostic::error(
        codes::UNKNOWN_FIELD,
        "x",
        Span::new(3, 10),
    )];
    let v = render_json_value(&[FileDiagnostics {
        file: "f",
        source,
        diagnostics: &d,
    }]);
    assert_eq!(v["diagnostics"][0]["column"], 3);
}

#[test]
fn sarif_is_2_1_0_with_rules_results_and_fixes() {
    let d = diags();
    let v = render_sarif_value(&[FileDiagnostics {
        file: "x.auto",
        source: SOURCE,
        diagnostics: &d,
    }]);
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().expect("schema").contains("sarif"));
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "automations");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(rules, ["E0101", "W0302"]);
    let r = &run["results"][0];
    assert_eq!(r["ruleId"], "E0101");
    assert_eq!(r["level"], "error");
    assert_eq!(r["message"]["text"], "unknown field `priorty` on `case`");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "x.auto");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 6);
    assert_eq!(loc["region"]["endColumn"], 13);
    assert_eq!(
        r["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
        "priority"
    );
    assert_eq!(run["results"][1]["level"], "warning");
    assert!(run["results"][1].get("fixes").is_none());
}

#[test]
fn human_shows_code_line_carets_and_help() {
    let d = diags();
    let files = [FileDiagnostics {
        file: "x.auto",
        source: SOURCE,
        diagnostics: &d,
    }];
    let plain = render_human(&files, RenderConfig { color: false });
    assert!(
        plain.contains("error[E0101]: unknown field `priorty` on `case`"),
        "{plain}"
    );
    assert!(plain.contains("x.auto:2:6"), "{plain}");
    assert!(plain.contains("^^^^^^^"), "{plain}");
    assert!(plain.contains("priority"), "{plain}");
    assert!(plain.contains("1 error, 1 warning"), "{plain}");
    assert!(!plain.contains('\u{1b}'));
    let colored = render_human(&files, RenderConfig { color: true });
    assert!(colored.contains('\u{1b}'), "colour codes expected");
}
