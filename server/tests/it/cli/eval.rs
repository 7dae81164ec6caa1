//! `automations eval`: prints `true`/`false`, explains, and reports compile errors (exit 1)
//! and unusable records (exit 2).

use super::support::run;

const VPN: &str = r#"priority == "critical" and subject contains "VPN""#;

#[test]
fn true_condition_prints_true() {
    let r = run(&[
        "eval",
        "--object",
        "case",
        "--record",
        r#"{"priority":"critical","subject":"VPN down"}"#,
        VPN,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "true\n");
}

#[test]
fn false_condition_prints_false() {
    let r = run(&[
        "eval",
        "--object",
        "case",
        "--record",
        r#"{"priority":"low"}"#,
        VPN,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "false\n");
}

#[test]
fn explain_names_the_failing_clause_and_its_value() {
    let r = run(&[
        "eval",
        "--explain",
        "--object",
        "case",
        "--record",
        r#"{"priority":"low","subject":"VPN down"}"#,
        VPN,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(lines.next(), Some("false"));
    let why = lines.next().expect("an explanation");
    assert!(why.contains(r#"priority == "critical""#), "{why}");
    assert!(why.contains(r#""low""#), "{why}");
    assert!(!why.contains("subject contains"), "{why}");
}

#[test]
fn previous_record_feeds_changed() {
    let args = |previous: &'static str| {
        run(&[
            "eval",
            "--object",
            "case",
            "--record",
            r#"{"priority":"critical"}"#,
            "--previous",
            previous,
            r#"changed(priority, to: "critical")"#,
        ])
    };
    assert_eq!(args(r#"{"priority":"low"}"#).stdout, "true\n");
    assert_eq!(args(r#"{"priority":"critical"}"#).stdout, "false\n");
}

#[test]
fn compile_errors_exit_1_with_diagnostics() {
    let r = run(&[
        "eval",
        "--object",
        "case",
        "--record",
        "{}",
        r#"priorty == "critical""#,
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("E0101"), "{}", r.stderr);
    assert!(r.stderr.contains("`priority`"), "{}", r.stderr);
}

#[test]
fn unclosed_parenthesis_is_reported_at_1_1() {
    let r = run(&[
        "eval",
        "--object",
        "case",
        "--record",
        "{}",
        r#"(priority == "critical""#,
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("error[E0001]"), "{}", r.stderr);
    assert!(r.stderr.contains("<expr>:1:1"), "{}", r.stderr);
    assert!(r.stderr.contains("unclosed"), "{}", r.stderr);
}

#[test]
fn unknown_object_is_a_diagnostic_with_a_suggestion() {
    let r = run(&[
        "eval",
        "--object",
        "caes",
        "--record",
        "{}",
        r#"priority == "critical""#,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("E0102"), "{}", r.stderr);
    assert!(r.stderr.contains("`case`"), "{}", r.stderr);
}

#[test]
fn bad_record_is_a_usage_error() {
    for record in ["{not json", "[1, 2]", r#""text""#] {
        let r = run(&["eval", "--object", "case", "--record", record, "true"]);
        assert_eq!(r.code, 2, "{record}: {}", r.stderr);
        assert!(r.stderr.contains("--record"), "{}", r.stderr);
    }
    let r = run(&[
        "eval",
        "--object",
        "case",
        "--record",
        "{}",
        "--previous",
        "nope",
        "true",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn warnings_go_to_stderr_and_the_result_to_stdout() {
    let r = run(&[
        "eval",
        "--object",
        "case",
        "--record",
        r#"{"priority":"low"}"#,
        "priority == priority",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "true\n");
    assert!(r.stderr.contains("W0302"), "{}", r.stderr);
}
