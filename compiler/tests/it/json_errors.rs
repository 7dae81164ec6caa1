//! Bad JSON definitions: each problem gives its code, JSON pointer and line/column, and
//! lowering goes on to report the others.

use automations_compiler::codes;
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::json::parse_json;
use automations_compiler::source::{LineCol, LineIndex};

/// One diagnostic as the API and CLI show it.
#[derive(Debug, PartialEq)]
struct Shown {
    code: &'static str,
    pointer: Option<String>,
    at: LineCol,
    suggestion: Option<String>,
}

fn diagnose(text: &str) -> Vec<Shown> {
    let (_, map, diagnostics) = parse_json(text);
    let index = LineIndex::new(text);
    diagnostics
        .iter()
        .map(|d: &Diagnostic| Shown {
            code: d.code,
            pointer: map.pointer_at(d.span),
            at: index.line_col(d.span.start as usize),
            suggestion: d.suggestion.clone(),
        })
        .collect()
}

fn only(text: &str) -> Shown {
    let mut shown = diagnose(text);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    shown.remove(0)
}

fn at(line: usize, column: usize) -> LineCol {
    LineCol { line, column }
}

const VALID_TAIL: &str = r#""trigger": {"event": "case.created"}, "actions": []"#;

#[test]
fn malformed_json_reports_line_and_column() {
    let text = "{\n  \"name\": \"x\",\n  \"trigger\": }\n";
    let shown = only(text);
    assert_eq!(shown.code, codes::JSON_SHAPE);
    assert_eq!(shown.at, at(3, 14));
    let (automations, _, diagnostics) = parse_json(text);
    assert!(automations.is_empty());
    assert!(
        diagnostics[0].message.starts_with("malformed JSON"),
        "{}",
        diagnostics[0].message
    );
}

/// Found by the `json` fuzz target: serde_json reports a byte column, and the span used to
/// end one byte later, inside a multi-byte character.
#[test]
fn malformed_json_at_a_multibyte_character_spans_the_whole_character() {
    for bad in ["\u{fffd}", "é", "日", "🦀"] {
        let text = format!("{{\"name\": {bad}case}}");
        let (_, _, diagnostics) = parse_json(&text);
        let span = diagnostics[0].span;
        let (start, end) = (span.start as usize, span.end as usize);
        assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
        assert_eq!(&text[start..end], bad, "{text}");
    }
}

#[test]
fn truncated_json_points_at_the_end() {
    let text = "{\"name\": \"x\"";
    let shown = only(text);
    assert_eq!(shown.code, codes::JSON_SHAPE);
    assert_eq!(shown.at.line, 1);
}

#[test]
fn wrong_shapes_are_e0002_at_their_pointer() {
    let cases = [
        (
            r#"{"name": 5, "trigger": {"event": "case.created"}, "actions": []}"#,
            "/name",
        ),
        (
            r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": {}}"#,
            "/actions",
        ),
        (
            r#"{"name": "n", "trigger": "case.created", "actions": []}"#,
            "/trigger",
        ),
        (
            r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [{"type": "wait", "params": [1]}]}"#,
            "/actions/0/params",
        ),
        (
            r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [7]}"#,
            "/actions/0",
        ),
        (
            r#"{"name": "n", "trigger": {"event": "case.created", "conditions": 3}, "actions": []}"#,
            "/trigger/conditions",
        ),
        (
            r#"{"name": "n", "trigger": {"event": "case.created", "conditions": {"tags": [1]}}, "actions": []}"#,
            "/trigger/conditions/tags",
        ),
        (
            r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [{"type": "if", "condition": true, "then": []}]}"#,
            "/actions/0/condition",
        ),
        ("[1]", "/0"),
    ];
    for (text, pointer) in cases {
        let shown = only(text);
        assert_eq!(shown.code, codes::JSON_SHAPE, "{text}");
        assert_eq!(shown.pointer.as_deref(), Some(pointer), "{text}");
    }
}

#[test]
fn unknown_fields_at_every_level_suggest_the_known_one() {
    let cases = [
        (format!(r#"{{"name": "n", "stauts": "active", {VALID_TAIL}}}"#), "/stauts", Some("status")),
        (
            r#"{"name": "n", "trigger": {"evnt": "case.created", "event": "case.created"}, "actions": []}"#.into(),
            "/trigger/evnt",
            Some("event"),
        ),
        (
            r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [{"type": "wait", "parms": {}}]}"#.into(),
            "/actions/0/parms",
            Some("params"),
        ),
        (
            r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [{"type": "if", "condition": "true", "then": [], "els": []}]}"#.into(),
            "/actions/0/els",
            Some("else"),
        ),
        (format!(r#"{{"name": "n", "colour": "red", {VALID_TAIL}}}"#), "/colour", None),
    ];
    for (text, pointer, suggestion) in cases {
        let shown = only(&text);
        assert_eq!(shown.code, codes::UNKNOWN_DEFINITION_FIELD, "{text}");
        assert_eq!(shown.pointer.as_deref(), Some(pointer), "{text}");
        assert_eq!(shown.suggestion.as_deref(), suggestion, "{text}");
    }
}

#[test]
fn unknown_field_spans_the_key_on_its_line() {
    let text = "{\n  \"name\": \"n\",\n  \"trigerr\": {\"event\": \"case.created\"},\n  \"actions\": []\n}";
    let shown = diagnose(text);
    let unknown = shown
        .iter()
        .find(|s| s.code == codes::UNKNOWN_DEFINITION_FIELD)
        .unwrap();
    assert_eq!(unknown.at, at(3, 4));
    assert_eq!(unknown.suggestion.as_deref(), Some("trigger"));
    // The misspelt trigger also means the trigger is missing.
    assert!(shown.iter().any(|s| s.code == codes::MISSING_PART));
}

#[test]
fn missing_parts_are_e0004() {
    let cases = [
        r#"{"trigger": {"event": "case.created"}, "actions": []}"#,
        r#"{"name": "n", "actions": []}"#,
        r#"{"name": "n", "trigger": {}, "actions": []}"#,
        r#"{"name": "n", "trigger": {"event": "case.created"}}"#,
        r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [{"params": {}}]}"#,
        r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [{"type": "if", "then": []}]}"#,
    ];
    for text in cases {
        let shown = only(text);
        assert_eq!(shown.code, codes::MISSING_PART, "{text}");
    }
    let shown = only(r#"{"name": "n", "trigger": {}, "actions": []}"#);
    assert_eq!(shown.pointer.as_deref(), Some("/trigger"));
}

#[test]
fn bad_status_environment_form_types_and_ids_are_e0005() {
    let cases = [
        (format!(r#"{{"name": "n", "status": "actve", {VALID_TAIL}}}"#), "/status", Some("active")),
        (format!(r#"{{"name": "n", "environment": "prod", {VALID_TAIL}}}"#), "/environment", None),
        (
            r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [{"type": "human_task", "params": {"form": {"ok": "boool"}}}]}"#.into(),
            "/actions/0/params/form/ok",
            Some("bool"),
        ),
        (
            r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [{"id": "two words", "type": "wait", "params": {}}]}"#.into(),
            "/actions/0/id",
            None,
        ),
    ];
    for (text, pointer, suggestion) in cases {
        let shown = only(&text);
        assert_eq!(shown.code, codes::INVALID_VALUE, "{text}");
        assert_eq!(shown.pointer.as_deref(), Some(pointer), "{text}");
        assert_eq!(shown.suggestion.as_deref(), suggestion, "{text}");
    }
}

#[test]
fn expression_syntax_errors_point_inside_the_string() {
    let text = "{\"name\": \"n\",\n \"trigger\": {\"event\": \"case.created\", \"conditions\": \"priority == and x\"},\n \"actions\": []}";
    let shown = only(text);
    assert_eq!(shown.code, codes::SYNTAX);
    assert_eq!(shown.pointer.as_deref(), Some("/trigger/conditions"));
    // `and` at column 63 of line 2 is where an operand was expected.
    let column = text.lines().nth(1).unwrap().find("and x").unwrap() + 1;
    assert_eq!(shown.at, at(2, column));
}

#[test]
fn template_and_guard_errors_are_e0001_with_their_pointers() {
    let text = r#"{"name": "n", "trigger": {"event": "case.created"}, "actions": [
        {"type": "send_email", "condition": "priority ==", "params": {"subject": "Hi {{ name + }}", "body": "ok"}}]}"#;
    let shown = diagnose(text);
    let codes_and_pointers: Vec<_> = shown
        .iter()
        .map(|s| (s.code, s.pointer.as_deref()))
        .collect();
    assert_eq!(
        codes_and_pointers,
        [
            (codes::SYNTAX, Some("/actions/0/condition")),
            (codes::SYNTAX, Some("/actions/0/params/subject"))
        ]
    );
}

#[test]
fn all_errors_are_collected() {
    let text = r#"{"nme": "n", "status": "on", "trigger": {"event": 1, "conditions": "a =="},
        "actions": [{"type": "wait", "params": 3}, {"tipe": "x"}]}"#;
    let found: Vec<_> = diagnose(text).into_iter().map(|s| s.code).collect();
    for code in [
        codes::UNKNOWN_DEFINITION_FIELD,
        codes::MISSING_PART,
        codes::INVALID_VALUE,
        codes::JSON_SHAPE,
        codes::SYNTAX,
    ] {
        assert!(found.contains(&code), "{code} missing from {found:?}");
    }
    assert!(found.len() >= 7, "{found:?}");
}

/// `test_data/json/invalid/NAME.json` gives exactly the diagnostics of `NAME.expected`.
#[test]
fn invalid_test_files_give_the_expected_diagnostics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/json/invalid");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let actual: String = diagnose(&text)
            .iter()
            .map(|s| {
                let pointer = match s.pointer.as_deref() {
                    None => "-".to_owned(),
                    Some("") => "\"\"".to_owned(),
                    Some(p) => p.to_owned(),
                };
                let suggestion = s
                    .suggestion
                    .as_deref()
                    .map(|x| format!(" {x}"))
                    .unwrap_or_default();
                format!(
                    "{} {pointer} {}:{}{suggestion}\n",
                    s.code, s.at.line, s.at.column
                )
            })
            .collect();
        let expected_path = path.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        assert_eq!(actual, expected, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 5);
}

#[test]
fn duplicate_keys_are_reported_not_dropped() {
    let text = "{\"name\": \"a\",\n \"name\": \"b\", \"trigger\": {\"event\": \"case.created\"}, \"actions\": []}";
    let shown = only(text);
    assert_eq!(shown.code, codes::JSON_SHAPE);
    assert_eq!(shown.pointer.as_deref(), Some("/name"));
    assert_eq!(shown.at, at(2, 3));
}
