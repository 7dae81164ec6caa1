//! Operator precedence and associativity, pinned as dumps.

use automations_grammar::parse_expr;

use crate::dump;

fn check(input: &str, expected: &str) {
    let e = parse_expr(input).unwrap_or_else(|err| panic!("{input}: {err}"));
    assert_eq!(dump::expr(&e), expected, "input: {input}");
}

#[test]
fn arithmetic_binds_tighter_than_comparison() {
    check("a + b * c > d - 1", "(> (+ a (* b c)) (- d 1))");
    check("a - b - c", "(- (- a b) c)");
    check("a / b * c", "(* (/ a b) c)");
    check("-a * b", "(* (neg a) b)");
    check(
        "now() - created_at > 7d",
        "(> (- (call now) created_at) 7d=604800000ms)",
    );
}

#[test]
fn not_is_looser_than_comparison_and_tighter_than_and() {
    check(
        "not priority == \"low\"",
        "(not (== priority (str \"low\")))",
    );
    check("not a and b", "(and (not a) b)");
    check("a or b and c", "(or a (and b c))");
    check("a and b or c and d", "(or (and a b) (and c d))");
    check("not not a", "(not (not a))");
}

#[test]
fn is_null_is_a_comparison_level_postfix() {
    check("a is null", "(is-null a)");
    check("a.b is not null and c", "(and (is-not-null a.b) c)");
    check("a + 1 is null", "(is-null (+ a 1))");
    check("not x is null", "(not (is-null x))");
}

#[test]
fn parens_are_kept() {
    check("(a or b) and c", "(and (paren (or a b)) c)");
    check("-(1 + 2)", "(neg (paren (+ 1 2)))");
}

#[test]
fn word_operators() {
    check("x in [1, 2]", "(in x [1 2])");
    check("tags contains \"vip\"", "(contains tags (str \"vip\"))");
    check(
        "name starts_with 'A' or name ends_with 'z'",
        "(or (starts_with name (str \"A\")) (ends_with name (str \"z\")))",
    );
    check(
        "email matches '^.+@x\\\\.com$'",
        "(matches email (str \"^.+@x\\\\.com$\"))",
    );
}

#[test]
fn keywords_do_not_swallow_identifiers() {
    check("order_total > 5", "(> order_total 5)");
    check("notes contains index", "(contains notes index)");
    check("android or island", "(or android island)");
    check(
        "isolated and nullable and true_value and falsey",
        "(and isolated nullable true_value falsey)",
    );
    check("in_stock in items", "(in in_stock items)");
    check("a.not.in", "a.not.in");
}
