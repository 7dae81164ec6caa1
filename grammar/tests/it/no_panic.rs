//! The parsers never panic: random bytes, random token soup and truncations of valid files
//! all give `Ok` or a `ParseError` whose span lies inside the text.

use automations_grammar::{ParseError, parse_expr, parse_file, parse_template};
use proptest::prelude::*;

const VALID: &str = include_str!("../../test_data/dsl/escalate.auto");

fn span_in_bounds<T>(text: &str, r: Result<T, ParseError>) {
    if let Err(e) = r {
        assert!(
            e.span.start <= e.span.end && e.span.end as usize <= text.len(),
            "{e:?} for {text:?}"
        );
        assert!(!e.message.is_empty());
    }
}

fn all_parsers(text: &str) {
    span_in_bounds(text, parse_file(text));
    span_in_bounds(text, parse_expr(text));
    span_in_bounds(text, parse_template(text));
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
    ]);
    prop::collection::vec(tokens, 0..40).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        all_parsers(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_strings_never_panic(text in "\\PC{0,120}") {
        all_parsers(&text);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        all_parsers(&text);
    }

    #[test]
    fn truncations_of_valid_files_never_panic(cut in 0..VALID.len()) {
        if let Some(prefix) = VALID.get(..cut) {
            all_parsers(prefix);
            // A proper prefix of a single automation is never a complete file.
            if cut < VALID.trim_end().len() {
                prop_assert!(parse_file(prefix).is_err());
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse_expr(&text).is_err());
    let text = format!("{}1", "-".repeat(2_000));
    let _ = parse_expr(&text);
}

#[test]
fn nesting_at_the_limit_parses_on_a_test_thread_stack() {
    let depth = 64;
    let parens = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    assert!(parse_expr(&parens).is_ok());
    let lists = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse_expr(&lists).is_ok());
    let objects = format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth));
    assert!(parse_expr(&objects).is_ok());
    let calls = format!("{}1{}", "f(not -".repeat(depth), ")".repeat(depth));
    assert!(parse_expr(&calls).is_ok());
    // Inside a file, templates in strings in a step: the deepest path through the grammar.
    let inner = format!("{}1{}", "any(x, t => [".repeat(20), "])".repeat(20));
    let file = format!(
        "automation \"n\" {{ when a.b do {{ if a {{ if b {{ f(x: \"{{{{ {inner} }}}}\") }} }} }} }}"
    );
    assert!(parse_file(&file).is_ok(), "{:?}", parse_file(&file).err());
    let too_deep = format!("{}1{}", "(".repeat(depth + 1), ")".repeat(depth + 1));
    assert!(
        parse_expr(&too_deep)
            .unwrap_err()
            .message
            .contains("nested")
    );
}

/// Found by the `json` fuzz target: a description of 100 `(` made the canonical DSL of a
/// valid JSON automation unparseable, because the nesting scan counted brackets in text.
#[test]
fn brackets_in_text_and_comments_nest_nothing() {
    let deep = "(".repeat(100);
    let file = format!(
        "automation \"{deep}\" {{\n  description '{deep}' # {deep}\n  when case.created\n  \
         do {{ send_notification(message: \"{deep} {{{{ subject }}}} {deep}\") }}\n}}\n"
    );
    assert!(parse_file(&file).is_ok(), "{:?}", parse_file(&file).err());
    assert!(parse_template(&format!("{deep} {{{{ subject }}}} [[[[")).is_ok());
    assert!(parse_expr(&format!("subject == \"{deep}\" // {deep}")).is_ok());
    let too_deep = format!("x {{{{ {deep}1 }}}}");
    assert!(
        parse_template(&too_deep)
            .unwrap_err()
            .message
            .contains("nested")
    );
}
