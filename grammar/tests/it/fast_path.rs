//! The fast path against the pest path (the reference): wherever the fast path gives a
//! tree, pest gives the same tree, spans included; and on every valid text of the corpora
//! (grammar cases, conformance conditions, every `.auto` file of the repository, generated
//! big conditions) the fast path does give one, so valid input never pays for pest.

use std::path::{Path, PathBuf};

use automations_grammar::reference::{fast_expr, fast_file, pest_expr, pest_file};
use automations_grammar::{parse_expr, parse_file};
use proptest::prelude::*;

/// Whether the public entry point gets past its size and nesting checks (the readers
/// compared here run after them).
fn expr_checks_pass(text: &str) -> bool {
    parse_expr(text).map_or_else(|e| !e.message.contains("nested more than"), |_| true)
}

fn file_checks_pass(text: &str) -> bool {
    parse_file(text).map_or_else(|e| !e.message.contains("nested more than"), |_| true)
}

/// Compares the readers on `text`; returns whether pest accepted it.
fn agree_expr(text: &str) -> Result<bool, String> {
    if !expr_checks_pass(text) {
        return Ok(false);
    }
    let reference = pest_expr(text);
    match (fast_expr(text), &reference) {
        (Some(fast), Ok(tree)) if &fast == tree => Ok(true),
        (Some(fast), _) => Err(format!(
            "{text:?}: the fast path read {fast:?}, pest {reference:?}"
        )),
        (None, _) => Ok(reference.is_ok()),
    }
}

fn agree_file(text: &str) -> Result<bool, String> {
    if !file_checks_pass(text) {
        return Ok(false);
    }
    let reference = pest_file(text);
    match (fast_file(text), &reference) {
        (Some(fast), Ok(tree)) if &fast == tree => Ok(true),
        (Some(fast), _) => Err(format!(
            "{text:?}: the fast path read {fast:?}, pest {reference:?}"
        )),
        (None, _) => Ok(reference.is_ok()),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every expression input of the grammar's case files.
fn corpus_exprs() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut out = Vec::new();
    for name in ["exprs.txt", "conformance_exprs.txt"] {
        let data = std::fs::read_to_string(dir.join(name)).unwrap();
        out.extend(
            data.lines()
                .filter(|l| !l.trim().is_empty())
                .filter(|l| !l.starts_with("##") && !l.starts_with("=>") && !l.starts_with("!!"))
                .map(String::from),
        );
    }
    assert!(out.len() > 80, "too few expressions: {}", out.len());
    out
}

/// Every `.auto` file under the repository (examples, test data of every crate).
fn corpus_files() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules"
            {
                walk(&path, out);
            } else if name.ends_with(".auto") {
                out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&workspace_root(), &mut out);
    assert!(out.len() > 20, "too few .auto files: {}", out.len());
    out
}

#[test]
fn the_fast_path_reads_every_valid_case_expression_as_pest_does() {
    let mut failures = Vec::new();
    for text in corpus_exprs() {
        match agree_expr(&text) {
            Err(e) => failures.push(e),
            Ok(true) if fast_expr(&text).is_none() => {
                failures.push(format!("{text:?}: valid, but left to pest"));
            }
            Ok(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_fast_path_reads_every_valid_auto_file_as_pest_does() {
    let mut failures = Vec::new();
    for (path, text) in corpus_files() {
        match agree_file(&text) {
            Err(e) => failures.push(format!("{}: {e}", path.display())),
            Ok(true) if fast_file(&text).is_none() => {
                failures.push(format!("{}: valid, but left to pest", path.display()));
            }
            Ok(_) => {}
        }
        // Every cut of a file, and every expression-looking line, agree too.
        for cut in (0..text.len())
            .step_by(7)
            .filter(|c| text.is_char_boundary(*c))
        {
            failures.extend(agree_file(&text[..cut]).err());
        }
        for line in text.lines() {
            failures.extend(agree_expr(line.trim()).err());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_fast_path_reads_big_generated_conditions() {
    let chain = |n: usize, joiner: &str, clause: &dyn Fn(usize) -> String| {
        (0..n).map(clause).collect::<Vec<_>>().join(joiner)
    };
    let cases = [
        chain(2_000, " and ", &|i| {
            format!("(priority == \"high\" or subject != \"s{i}\")")
        }),
        chain(2_000, " or ", &|i| {
            format!("subject == 's{i}' and x.y is not null")
        }),
        format!(
            "subject in [{}]",
            chain(2_000, ", ", &|i| format!("\"id{i}\""))
        ),
        format!("{}x{}", "(".repeat(60), ")".repeat(60)),
    ];
    for text in cases {
        assert_eq!(agree_expr(&text), Ok(true), "{}", &text[..80]);
        assert!(fast_expr(&text).is_some(), "{}", &text[..80]);
    }
}

/// Valid expressions of every construct, with random trivia between tokens.
fn valid_expr() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "null",
        "true",
        "false",
        "0",
        "42",
        "3.25",
        "15m",
        "500ms",
        "2w",
        "\"a\"",
        "'b'",
        "\"x{{ y }}z\"",
        "'\\n\\''",
        "\"\"",
        "a",
        "a.b",
        "a.in",
        "nullable",
        "notes",
        "f()",
        "f(1, x: 2, y => y > 1,)",
        "[]",
        "[1, 2,]",
        "{}",
        "{a: 1, 'b': [2]}",
        "x is null",
        "x is not null",
        "-1",
        "not a",
        "not not a",
        "- -1",
    ])
    .prop_map(String::from);
    leaf.prop_recursive(4, 32, 3, |inner| {
        let op = prop::sample::select(vec![
            "and",
            "or",
            "==",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "in",
            "contains",
            "starts_with",
            "ends_with",
            "matches",
            "+",
            "-",
            "*",
            "/",
        ]);
        let gap = prop::sample::select(vec![" ", "  ", "\n", " # c\n ", " // c\n", "\t"]);
        prop_oneof![
            (inner.clone(), op, inner.clone(), gap.clone())
                .prop_map(|(l, op, r, g)| format!("{l}{g}{op}{g}{r}")),
            (inner.clone(), gap.clone()).prop_map(|(e, g)| format!("({g}{e}{g})")),
            (inner.clone(), gap.clone()).prop_map(|(e, g)| format!("not{g}{e}")),
            (inner.clone(), gap.clone()).prop_map(|(e, g)| format!("-{g}{e}")),
            (inner.clone(), gap.clone()).prop_map(|(e, g)| format!("{e}{g}is{g}not{g}null")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("f({a}, k: {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("\"t{{{{ {a} }}}}u{{{{{b}}}}}\"")),
        ]
    })
}

fn token_soup() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "automation",
        "\"n\"",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "do",
        "if",
        "else",
        "when",
        "a",
        "b.c",
        "=",
        "==",
        "and",
        "or",
        "not",
        "is",
        "null",
        ",",
        ":",
        "=>",
        "'s{{",
        "}}",
        "3d",
        "1.5",
        "-",
        "+",
        "\"",
        "'",
        "#",
        "\n",
        " ",
        "in",
        "f(",
        "x:",
        "layout",
        "status",
        "\\",
        "5ms",
        "x",
        "1",
        "{{",
        "/",
        "//",
    ]);
    prop::collection::vec(tokens, 0..40).prop_map(|v| v.join(""))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn generated_valid_expressions_agree_and_take_the_fast_path(text in valid_expr()) {
        let agreed = agree_expr(&text);
        prop_assert!(agreed.is_ok(), "{}", agreed.unwrap_err());
        if agreed == Ok(true) {
            prop_assert!(fast_expr(&text).is_some(), "{text:?} left to pest");
        }
    }

    #[test]
    fn token_soup_agrees(text in token_soup()) {
        let e = agree_expr(&text);
        prop_assert!(e.is_ok(), "{}", e.unwrap_err());
        let f = agree_file(&text);
        prop_assert!(f.is_ok(), "{}", f.unwrap_err());
    }

    #[test]
    fn generated_automations_agree(cond in valid_expr(), guard in valid_expr()) {
        let text = format!(
            "automation \"n\" {{\n  when case.updated\n  if {cond}\n  do {{\n    \
             s = notify(a: {guard}, b: \"x\") when {cond}\n    if {guard} {{ g() }} \
             else if a {{ }} else {{ h(k: 1,) }}\n  }}\n}}\n"
        );
        let agreed = agree_file(&text);
        prop_assert!(agreed.is_ok(), "{}", agreed.unwrap_err());
        if agreed == Ok(true) {
            prop_assert!(fast_file(&text).is_some(), "{text:?} left to pest");
        }
    }
}
