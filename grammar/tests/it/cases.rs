//! Data-driven cases from `grammar/test_data`:
//! - `exprs.txt`: an expression line followed by `=> <dump>` (or `!! <error message>`);
//! - `dsl/*.auto`: whole files, each with a `.ast` snapshot of its dump beside it.
//!
//! Set `UPDATE_SNAPSHOTS=1` to (re)write the `.ast` snapshots after checking them by eye.

use std::path::{Path, PathBuf};

use automations_grammar::{parse_expr, parse_file};

use crate::dump;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

#[test]
fn expression_cases() {
    let text = std::fs::read_to_string(data_dir().join("exprs.txt")).unwrap();
    let mut input: Option<&str> = None;
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with("##") {
            continue;
        }
        if let Some(expected) = line.strip_prefix("=> ") {
            let src = input.take().expect("`=>` without an input line");
            match parse_expr(src) {
                Ok(e) if dump::expr(&e) == expected => {}
                Ok(e) => failures.push(format!(
                    "{src}\n  expected {expected}\n  got      {}",
                    dump::expr(&e)
                )),
                Err(err) => {
                    failures.push(format!("{src}\n  expected {expected}\n  error    {err}"))
                }
            }
            checked += 1;
        } else if let Some(expected) = line.strip_prefix("!! ") {
            let src = input.take().expect("`!!` without an input line");
            match parse_expr(src) {
                Err(err) if err.message == expected => {}
                Err(err) => failures.push(format!(
                    "{src}\n  expected error {expected}\n  got error      {}",
                    err.message
                )),
                Ok(e) => failures.push(format!(
                    "{src}\n  expected error {expected}\n  parsed {}",
                    dump::expr(&e)
                )),
            }
            checked += 1;
        } else {
            assert!(input.is_none(), "input line without expectation: {input:?}");
            input = Some(line);
        }
    }
    assert!(checked > 20, "too few cases read");
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn dsl_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(data_dir().join("dsl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "auto"))
    {
        let text = std::fs::read_to_string(path).unwrap();
        let actual = match parse_file(&text) {
            Ok(f) => dump::file(&f),
            Err(e) => format!("error at {}..{}: {}\n", e.span.start, e.span.end, e.message),
        };
        let snap = path.with_extension("ast");
        let expected = std::fs::read_to_string(&snap).unwrap_or_default();
        if update {
            std::fs::write(&snap, &actual).unwrap();
        } else if expected != actual {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            ));
        }
        checked += 1;
    }
    assert!(checked >= 3, "too few .auto cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every expression of the shared conformance cases parses.
#[test]
fn conformance_expressions_parse() {
    let text = std::fs::read_to_string(data_dir().join("conformance_exprs.txt")).unwrap();
    let exprs: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("##") && !l.trim().is_empty())
        .collect();
    assert!(exprs.len() >= 40);
    let failures: Vec<String> = exprs
        .iter()
        .filter_map(|e| parse_expr(e).err().map(|err| format!("{e}: {err}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
