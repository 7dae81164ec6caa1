//! The canonical expression printer: minimal parentheses, spacing, quoting.

use automations_compiler::print::{PrintConfig, Quote, print_expr};
use automations_grammar::parse_expr;

use crate::normalize;

fn canon(text: &str) -> String {
    print_expr(&parse_expr(text).unwrap(), &PrintConfig::default())
}

#[test]
fn canonical_forms() {
    let cases = [
        ("a==1", "a == 1"),
        ("((a))", "a"),
        ("(a or b) and c", "(a or b) and c"),
        ("a or (b and c)", "a or b and c"),
        ("(a + b) * c", "(a + b) * c"),
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("not (a == b)", "not a == b"),
        ("(not a) == b", "(not a) == b"),
        ("not (a and b)", "not (a and b)"),
        ("-(a + 1)", "-(a + 1)"),
        ("(a + 1) is null", "a + 1 is null"),
        ("(a and b) is not null", "(a and b) is not null"),
        ("x in [1,2.50, 3.0]", "x in [1, 2.5, 3]"),
        ("{a:1,'b c':'x'}", "{ a: 1, \"b c\": \"x\" }"),
        ("{}", "{}"),
        (
            "changed(stage,from:'A',to:'B')",
            "changed(stage, from: \"A\", to: \"B\")",
        ),
        ("any(tags,t=>t=='vip')", "any(tags, t => t == \"vip\")"),
        ("now()-created_at>7d", "now() - created_at > 7d"),
        ("'Hi {{name}}!'", "\"Hi {{ name }}!\""),
        (r#"'say "hi"\n\t\\'"#, r#""say \"hi\"\n\t\\""#),
        (r#""\{{ x }}""#, r#""\{{ x }}""#),
    ];
    for (input, expected) in cases {
        assert_eq!(canon(input), expected, "input: {input}");
    }
}

#[test]
fn single_quotes_for_json() {
    let e = parse_expr(r#"priority == "critical" and name == "it's""#).unwrap();
    let printed = print_expr(
        &e,
        &PrintConfig {
            quote: Quote::Single,
        },
    );
    assert_eq!(printed, r"priority == 'critical' and name == 'it\'s'");
    assert_eq!(
        normalize::expr(&parse_expr(&printed).unwrap()),
        normalize::expr(&e)
    );
}

#[test]
fn printing_is_idempotent_and_preserves_meaning() {
    let inputs = [
        "a or b and not c == d + e * -f is null",
        "((a or b) and (c or d)) == (e == f)",
        "a == (b == c)",
        "not not a",
        "- -a",
        "a - -b",
        "lower(x) contains 'y' and len(tags) >= 2 or any(items, i => i.qty > 0 and i.ok)",
        "'{{ a }}{{ b }}' ends_with \"{\" or x matches '^\\\\d+{{ y }}$'",
        "x is null is null",
    ];
    for input in inputs {
        let e = parse_expr(input).unwrap();
        let once = print_expr(&e, &PrintConfig::default());
        let reparsed = parse_expr(&once).unwrap_or_else(|err| panic!("{once}: {err}"));
        assert_eq!(
            normalize::expr(&reparsed),
            normalize::expr(&e),
            "{input} -> {once}"
        );
        assert_eq!(print_expr(&reparsed, &PrintConfig::default()), once);
    }
}

/// The shared conformance expressions survive print -> parse unchanged, in both quote styles.
#[test]
fn conformance_expressions_round_trip() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../grammar/test_data/conformance_exprs.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    for line in text
        .lines()
        .filter(|l| !l.starts_with("##") && !l.trim().is_empty())
    {
        let e = parse_expr(line).unwrap();
        for quote in [Quote::Double, Quote::Single] {
            let printed = print_expr(&e, &PrintConfig { quote });
            let back = parse_expr(&printed).unwrap_or_else(|err| panic!("{printed}: {err}"));
            assert_eq!(
                normalize::expr(&back),
                normalize::expr(&e),
                "{line} -> {printed}"
            );
        }
    }
}
