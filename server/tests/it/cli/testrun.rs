//! `automations test FILE --event FILE [--record FILE] [--mock STEP=JSON]... [--format json]`
//! on the real binary: a completed dry run exits 0, a non-match or a failed run exits 1,
//! usage errors exit 2; the README's example prints what the README shows.

use serde_json::json;

use super::support::{run, temp_file, workspace_root};

const SEED: &str = "examples/auto-assign-critical-cases.auto";
const EVENT: &str = "examples/events/critical-case-created.json";

/// Synthetic dry-run ids (`dry_` + hex) differ on every run.
fn normalize(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("dry_") {
        out.push_str(&rest[..at + 4]);
        rest = &rest[at + 4..];
        let hex = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        if hex > 0 {
            out.push_str("ID");
        }
        rest = &rest[hex..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_readme_example_prints_a_completed_dry_run_with_two_steps() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let block = readme
        .split("```console\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.starts_with("$ automations test "))
        .expect("README shows `automations test` in a console block");
    let (command, expected) = block.split_once('\n').unwrap();
    let args: Vec<&str> = command
        .strip_prefix("$ automations ")
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(args[..2], ["test", SEED]);
    let r = run(&args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        normalize(&format!("{}{}", r.stdout, r.stderr)),
        normalize(expected)
    );
    assert!(
        r.stdout.contains("dry run completed: 2 step(s)"),
        "{}",
        r.stdout
    );
}

#[test]
fn json_output_is_the_api_test_answer() {
    let r = run(&["test", SEED, "--event", EVENT, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["matched"], true);
    assert_eq!(v["explanation"]["result"], true);
    let run = &v["run"];
    assert_eq!(run["status"], "completed");
    assert_eq!(run["dry_run"], true);
    assert_eq!(run["record"], json!({"object": "case", "id": "cas_demo"}));
    let steps = run["steps"].as_array().unwrap();
    let types: Vec<&str> = steps.iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["assign_to_queue", "send_notification"]);
    for step in steps {
        assert_eq!(step["status"], "completed");
        assert_eq!(step["effects"][0]["applied"], false, "{step}");
    }
    assert_eq!(steps[1]["effects"][0]["kind"], "slack");
}

#[test]
fn a_non_matching_event_explains_why_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let event = temp_file(
        &dir,
        "low.json",
        r#"{"type": "case.created", "record": {"subject": "Printer", "priority": "low"}}"#,
    );
    let r = run(&["test", SEED, "--event", &event]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.starts_with("did not match: false: "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("priority = \"low\""), "{}", r.stdout);
    let r = run(&["test", SEED, "--event", &event, "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["matched"], false);
    assert_eq!(r.json()["run"], serde_json::Value::Null);
    // `--record` replaces the event's record.
    let record = temp_file(&dir, "critical.json", r#"{"priority": "critical"}"#);
    let r = run(&["test", SEED, "--event", &event, "--record", &record]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn failed_and_waiting_runs_exit_1_and_mocks_stand_in_for_steps() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(
        &dir,
        "approve.auto",
        r#"automation "Approve" {
  status active
  when case.created
  do {
    approval = human_task(title: "Approve {{ subject }}", assignee: "usr_1", form: { ok: bool })
    if steps.approval.output.ok {
      enrich = plugin(plugin: "enricher", input: { id: id })
      update_field(field: "status", value: "open")
    }
  }
}
"#,
    );
    let event = temp_file(&dir, "e.json", r#"{"record": {"subject": "S"}}"#);
    let waiting = run(&["test", &file, "--event", &event]);
    assert_eq!(waiting.code, 1, "{}{}", waiting.stdout, waiting.stderr);
    assert!(
        waiting.stdout.contains("dry run waiting"),
        "{}",
        waiting.stdout
    );
    assert!(
        waiting.stdout.contains("--mock approval="),
        "{}",
        waiting.stdout
    );
    let approved = "approval={\"ok\": true}";
    // No plugin runner offline: the plugin step fails unless mocked.
    let failed = run(&["test", &file, "--event", &event, "--mock", approved]);
    assert_eq!(failed.code, 1, "{}{}", failed.stdout, failed.stderr);
    assert!(
        failed.stdout.contains("dry run failed"),
        "{}",
        failed.stdout
    );
    let done = run(&[
        "test",
        &file,
        "--event",
        &event,
        "--mock",
        approved,
        "--mock",
        "enrich={\"score\": 3}",
    ]);
    assert_eq!(done.code, 0, "{}{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains("dry run completed: 4 step(s)"),
        "{}",
        done.stdout
    );
}

#[test]
fn usage_errors_exit_2_and_compile_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad_json = temp_file(&dir, "bad.json", "{\"type\": ");
    let unknown_key = temp_file(&dir, "odd.json", r#"{"typ": "case.created"}"#);
    for args in [
        vec!["test", SEED, "--event", "no/such/file.json"],
        vec!["test", SEED, "--event", &bad_json],
        vec!["test", SEED, "--event", &unknown_key],
        vec!["test", SEED, "--event", EVENT, "--mock", "no-equals-sign"],
        vec!["test", SEED, "--event", EVENT, "--mock", "step_1={not json"],
        vec!["test", SEED],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.is_empty(), "{args:?}");
    }
    let typo = run(&[
        "test",
        "examples/invalid/E0101-unknown-field.auto",
        "--event",
        EVENT,
    ]);
    assert_eq!(typo.code, 1, "{}{}", typo.stdout, typo.stderr);
    assert!(typo.stderr.contains("E0101"), "{}", typo.stderr);
}
