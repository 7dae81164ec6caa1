//! `examples/`: the valid ones lint clean, every file of `examples/invalid/` yields the
//! diagnostic it is named after, where its `# expect:` line says.

use serde_json::Value;

use super::support::{diagnostics, examples, files, run};

#[test]
fn valid_examples_lint_clean() {
    let r = run(&["lint", "examples/"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["lint", "--format", "json", "examples/"]);
    let out = r.json();
    assert_eq!(out["errors"], 0, "{out:#}");
    assert_eq!(out["warnings"], 0, "{out:#}");
}

#[test]
fn every_valid_example_has_a_json_twin_that_lints_clean() {
    for auto in files(&examples(), "auto") {
        let json = auto.with_extension("json");
        assert!(json.exists(), "no JSON twin for {}", auto.display());
        let r = run(&["lint", "--format", "json", json.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}: {}", json.display(), r.stdout);
    }
}

#[test]
fn invalid_examples_fail() {
    let r = run(&["lint", "examples/invalid/"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// What a file of `examples/invalid/` must yield.
#[derive(Debug)]
struct Expect {
    code: String,
    line: u64,
    column: u64,
    suggestion: Option<String>,
}

/// `# expect: CODE at L:C [suggestion S]`
fn parse_expect(first_line: &str) -> Expect {
    let rest = first_line
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("no `# expect:` line: {first_line}"));
    let (code, rest) = rest.split_once(" at ").expect("`CODE at L:C`");
    let (position, suggestion) = match rest.split_once(" suggestion ") {
        Some((p, s)) => (p, Some(s.trim().to_owned())),
        None => (rest.trim(), None),
    };
    let (line, column) = position.split_once(':').expect("`L:C`");
    Expect {
        code: code.to_owned(),
        line: line.parse().expect("line"),
        column: column.parse().expect("column"),
        suggestion,
    }
}

/// JSON has no comments: the expectations of the JSON files are kept here.
fn json_expectations(name: &str) -> Expect {
    let (code, line, column, suggestion) = match name {
        "E0002-malformed.json" => ("E0002", 4, 3, None),
        "E0003-unknown-field.json" => ("E0003", 4, 4, Some("trigger")),
        other => panic!("no expectation written for {other}"),
    };
    Expect {
        code: code.into(),
        line,
        column,
        suggestion: suggestion.map(Into::into),
    }
}

fn check_file(path: &std::path::Path, expect: &Expect) {
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with(&expect.code),
        "{name} is not named after {}",
        expect.code
    );
    let r = run(&["lint", "--format", "json", path.to_str().unwrap()]);
    let expected_exit = if expect.code.starts_with('E') { 1 } else { 0 };
    assert_eq!(r.code, expected_exit, "{name}: {}", r.stdout);
    let found = diagnostics(&r);
    let hit = found.iter().find(|d| {
        d["code"] == expect.code.as_str()
            && d["line"] == expect.line
            && d["column"] == expect.column
    });
    let Some(hit) = hit else {
        panic!("{name}: no {expect:?} in {found:#?}");
    };
    let suggestion = hit["suggestion"].as_str().map(str::to_owned);
    assert_eq!(suggestion, expect.suggestion, "{name}: {hit:#}");
}

#[test]
fn each_invalid_file_yields_its_diagnostic_where_it_says() {
    let dir = examples().join("invalid");
    let autos = files(&dir, "auto");
    assert!(autos.len() >= 15, "{autos:?}");
    for path in &autos {
        let text = std::fs::read_to_string(path).unwrap();
        check_file(path, &parse_expect(text.lines().next().unwrap_or("")));
    }
    let jsons = files(&dir, "json");
    assert_eq!(jsons.len(), 2, "{jsons:?}");
    for path in &jsons {
        check_file(
            path,
            &json_expectations(path.file_name().unwrap().to_str().unwrap()),
        );
    }
}

#[test]
fn every_invalid_file_is_reported_when_linting_the_folder() {
    let r = run(&["lint", "--format", "json", "examples/invalid/"]);
    let found = diagnostics(&r);
    let dir = examples().join("invalid");
    for path in files(&dir, "auto").iter().chain(&files(&dir, "json")) {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            found
                .iter()
                .any(|d| d["file"].as_str().is_some_and(|f| f.ends_with(name))),
            "{name} not reported"
        );
    }
    let out: Value = r.json();
    assert!(out["errors"].as_u64().unwrap() >= 13, "{out:#}");
}
