//! `automations fmt` keeps every comment: fixtures in `compiler/test_data/fmt/*.auto` with
//! their canonical text pinned in `*.fmt`, and a property over every `.auto` fixture and
//! example: a comment added at the end of any line, or on a line of its own after any line,
//! is in the formatted text exactly once, unchanged, the automations are the same, and
//! formatting again changes nothing.
//! Set `UPDATE_SNAPSHOTS=1` to rewrite the `.fmt` files after checking them by eye.

use std::path::{Path, PathBuf};

use automations_compiler::lower_dsl::parse_dsl;
use automations_compiler::pipeline::{SourceFile, canonical_text};
use automations_grammar::lexical;

use crate::normalize;

fn format(text: &str) -> String {
    canonical_text(&SourceFile::new("t.auto".into(), text.into(), false))
        .unwrap_or_else(|d| panic!("cannot format\n{text}\n{d:#?}"))
}

fn auto_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "auto"))
        .collect();
    paths.sort();
    paths
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

#[test]
fn fixtures_format_to_their_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let paths = auto_files(&root().join("test_data/fmt"));
    assert!(!paths.is_empty());
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let formatted = format(&text);
        assert_same_comments(&text, &formatted, &path);
        assert_eq!(
            format(&formatted),
            formatted,
            "not idempotent: {}",
            path.display()
        );
        let snap = path.with_extension("fmt");
        if update {
            std::fs::write(&snap, &formatted).unwrap();
        } else {
            let expected = std::fs::read_to_string(&snap)
                .unwrap_or_else(|_| panic!("missing snapshot {}", snap.display()));
            assert_eq!(formatted, expected, "canonical text of {}", path.display());
        }
    }
}

#[test]
fn a_comment_anywhere_survives_formatting() {
    let mut files = auto_files(&root().join("test_data/dsl"));
    files.extend(auto_files(&root().join("test_data/fmt")));
    files.extend(auto_files(&root().join("../examples")));
    let mut placed = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let (original, diags) = parse_dsl(&text);
        if !diags.is_empty() {
            continue;
        }
        let expected = normalize::automations(&original);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for i in 0..lines.len() {
            for (variant, comment) in [
                (Variant::EndOfLine, "# probe tail"),
                (Variant::OwnLine, "// probe own"),
            ] {
                let probed = insert(&lines, i, variant, comment);
                let (autos, diags) = parse_dsl(&probed);
                if !diags.is_empty() || normalize::automations(&autos) != expected {
                    continue; // the probe fell inside a string
                }
                let formatted = format(&probed);
                let at = format!("{}:{} ({variant:?})", path.display(), i + 1);
                assert_eq!(formatted.matches(comment).count(), 1, "{at}\n{formatted}");
                assert_same_comments(&probed, &formatted, Path::new(&at));
                let (again, _) = parse_dsl(&formatted);
                assert_eq!(
                    normalize::automations(&again),
                    expected,
                    "{at}\n{formatted}"
                );
                assert_eq!(
                    format(&formatted),
                    formatted,
                    "not idempotent: {at}\n{formatted}"
                );
                placed += 1;
            }
        }
    }
    assert!(placed > 200, "only {placed} probes were placed");
}

#[derive(Debug, Clone, Copy)]
enum Variant {
    EndOfLine,
    OwnLine,
}

fn insert(lines: &[&str], at: usize, variant: Variant, comment: &str) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i != at {
            out.push_str(line);
            continue;
        }
        let body = line.strip_suffix('\n').unwrap_or(line);
        match variant {
            Variant::EndOfLine => out.push_str(&format!("{body} {comment}\n")),
            Variant::OwnLine => out.push_str(&format!("{body}\n{comment}\n")),
        }
    }
    out
}

/// The comments of `formatted` are those of `source`, same texts, same order within each
/// automation's lines not guaranteed, so compared as sorted lists.
fn assert_same_comments(source: &str, formatted: &str, what: &Path) {
    let texts = |text: &str| {
        let mut found: Vec<String> = lexical::comments(text)
            .iter()
            .map(|s| text[s.range()].trim_end().to_string())
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        texts(formatted),
        texts(source),
        "comments of {}",
        what.display()
    );
}
