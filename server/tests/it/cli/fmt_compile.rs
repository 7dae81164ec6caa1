//! `automations fmt` and `automations compile`, and the DSL <-> JSON round trip over every
//! example.

use serde_json::Value;

use super::support::{examples, files, run, temp_file};

#[test]
fn examples_are_canonical() {
    let r = run(&["fmt", "--check", "examples/"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn check_lists_a_non_canonical_file_and_fmt_rewrites_it() {
    let original =
        std::fs::read_to_string(examples().join("auto-assign-critical-cases.auto")).unwrap();
    let messy = original
        .replace("  status active", "status   active")
        .replace("if priority == \"critical\"", "if (priority=='critical')");
    assert_ne!(messy, original);
    let dir = tempfile::tempdir().unwrap();
    let path = temp_file(&dir, "messy.auto", &messy);
    let r = run(&["fmt", "--check", &path]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("messy.auto"), "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        messy,
        "--check changed the file"
    );
    let r = run(&["fmt", &path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    assert_eq!(run(&["fmt", "--check", &path]).code, 0);
}

#[test]
fn fmt_keeps_comments_between_and_inside_automations() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# header\nautomation \"a\" {\n  status active\n  when case.created\n  do {\n    assign_to_queue(queue_id: \"q1\")\n  }\n}\n\n// before b\nautomation \"b\" {\n  status active\n  when case.created\n  do {\n    assign_to_queue(queue_id: \"q2\")\n  }\n}\n";
    let path = temp_file(&dir, "c.auto", text);
    assert_eq!(run(&["fmt", "--check", &path]).code, 0);
    let inner = text.replace(
        "  when case.created\n  do {\n    assign_to_queue(queue_id: \"q1\")",
        "  when   case.created # trigger\n  do {\n    # first step\n    assign_to_queue(queue_id: \"q1\")  // q1",
    );
    let path = temp_file(&dir, "inner.auto", &inner);
    let r = run(&["fmt", &path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let formatted = std::fs::read_to_string(&path).unwrap();
    assert!(
        formatted.contains(
            "  when case.created # trigger\n  do {\n    # first step\n    assign_to_queue(queue_id: \"q1\") // q1\n"
        ),
        "{formatted}"
    );
    assert_eq!(run(&["fmt", "--check", &path]).code, 0, "not idempotent");
}

#[test]
fn fmt_reports_syntax_errors() {
    let r = run(&["fmt", "--check", "examples/invalid/E0001-syntax-error.auto"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("E0001"), "{}", r.stderr);
}

#[test]
fn compile_emits_an_object_for_one_automation_and_an_array_for_several() {
    let r = run(&[
        "compile",
        "examples/auto-assign-critical-cases.auto",
        "--emit",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let one = r.json();
    assert!(one.is_object(), "{one:#}");
    assert_eq!(one["trigger"]["event"], "case.created");

    let a = std::fs::read_to_string(examples().join("auto-assign-critical-cases.auto")).unwrap();
    let b = std::fs::read_to_string(examples().join("lead-routing.auto")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = temp_file(&dir, "two.auto", &format!("{a}\n{b}"));
    let r = run(&["compile", &path, "--emit", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let many = r.json();
    assert_eq!(many.as_array().map(Vec::len), Some(2), "{many:#}");
}

#[test]
fn compile_refuses_a_definition_with_errors() {
    let r = run(&[
        "compile",
        "examples/invalid/E0101-unknown-field.auto",
        "--emit",
        "json",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("E0101"), "{}", r.stderr);
}

/// DSL -> JSON -> DSL gives the canonical DSL back; JSON -> DSL -> JSON the same JSON.
#[test]
fn every_example_round_trips_between_dsl_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let autos = files(&examples(), "auto");
    assert!(autos.len() >= 9);
    for auto in autos {
        let name = auto.file_stem().unwrap().to_str().unwrap().to_owned();
        let dsl = std::fs::read_to_string(&auto).unwrap();
        let json = run(&["compile", auto.to_str().unwrap(), "--emit", "json"]);
        assert_eq!(json.code, 0, "{name}: {}", json.stderr);
        let json_path = temp_file(&dir, &format!("{name}.json"), &json.stdout);
        let back = run(&["compile", &json_path, "--emit", "dsl"]);
        assert_eq!(back.code, 0, "{name}: {}", back.stderr);
        let back_path = temp_file(&dir, &format!("{name}.auto"), &back.stdout);
        assert_eq!(run(&["fmt", &back_path]).code, 0);
        let formatted = std::fs::read_to_string(&back_path).unwrap();
        assert_eq!(
            strip_comments(&formatted),
            strip_comments(&dsl),
            "{name}: DSL -> JSON -> DSL"
        );

        let twin = auto.with_extension("json");
        let twin_json: Value =
            serde_json::from_str(&std::fs::read_to_string(&twin).unwrap()).unwrap();
        let dsl_of_twin = run(&["compile", twin.to_str().unwrap(), "--emit", "dsl"]);
        let dsl_path = temp_file(&dir, &format!("{name}-twin.auto"), &dsl_of_twin.stdout);
        let again = run(&["compile", &dsl_path, "--emit", "json"]);
        assert_eq!(again.code, 0, "{name}: {}", again.stderr);
        assert_eq!(again.json(), twin_json, "{name}: JSON -> DSL -> JSON");
    }
}

/// The examples start with a comment line, which JSON cannot carry.
fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !(l.starts_with('#') || l.starts_with("//")))
        .collect::<Vec<_>>()
        .join("\n")
}
