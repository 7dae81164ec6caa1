//! Syntax errors: message, expected tokens and position.

use automations_grammar::{parse_expr, parse_file, parse_template};

#[test]
fn unclosed_paren_reports_at_end_of_input() {
    let text = "(a + b";
    let err = parse_expr(text).unwrap_err();
    assert_eq!(
        err.message,
        "expected `)` or an operator, found end of input"
    );
    assert_eq!(err.span.range(), 6..6);
    assert!(
        err.expected.contains(&"`)`".to_string()),
        "{:?}",
        err.expected
    );
    assert!(
        err.expected.contains(&"an operator".to_string()),
        "{:?}",
        err.expected
    );
}

#[test]
fn unclosed_paren_inside_a_file_reports_where_it_stops() {
    let text = "automation \"x\" {\n  when a.b\n  if (a == 1\n  do { f() }\n}\n";
    let err = parse_file(text).unwrap_err();
    let at = text.find("do {").unwrap();
    assert_eq!(err.span.start as usize, at, "{err:?}");
    assert!(
        err.expected.contains(&"`)`".to_string()),
        "{:?}",
        err.expected
    );
    assert_eq!(err.message, "expected `)` or an operator, found `do`");
}

#[test]
fn missing_operand() {
    let err = parse_expr("a ==").unwrap_err();
    assert_eq!(err.message, "expected an expression, found end of input");
    assert_eq!(err.expected, vec!["an expression".to_string()]);
    assert_eq!(err.span.range(), 4..4);
}

#[test]
fn missing_closing_brace_of_block() {
    let text = "automation \"x\" { when a.b do { f(x: 1) ";
    let err = parse_file(text).unwrap_err();
    assert_eq!(err.span.start as usize, text.len());
    assert!(
        err.expected.contains(&"`}`".to_string()),
        "{:?}",
        err.expected
    );
    assert!(
        err.expected.contains(&"a step".to_string()),
        "{:?}",
        err.expected
    );
}

#[test]
fn unknown_header_item() {
    let text = "automation \"x\" {\n  priorty high\n  do {}\n}";
    let err = parse_file(text).unwrap_err();
    assert_eq!(err.span.range(), 19..26);
    assert!(err.message.ends_with("found `priorty`"), "{}", err.message);
    for kw in [
        "`description`",
        "`status`",
        "`when`",
        "`if`",
        "`do`",
        "`layout`",
        "`environment`",
    ] {
        assert!(
            err.expected.contains(&kw.to_string()),
            "{kw} not in {:?}",
            err.expected
        );
    }
}

#[test]
fn unterminated_string_and_template() {
    let err = parse_expr("\"abc").unwrap_err();
    assert_eq!(err.span.range(), 4..4);
    assert!(
        err.expected.contains(&"`\"`".to_string()),
        "{:?}",
        err.expected
    );
    let err = parse_template("hi {{ name ").unwrap_err();
    assert!(
        err.expected.contains(&"`}}`".to_string()),
        "{:?}",
        err.expected
    );
    assert_eq!(err.span.start, 11);
}

#[test]
fn bad_escape_is_reported_on_the_escape() {
    let err = parse_expr(r#""a\qb""#).unwrap_err();
    assert_eq!(err.span.range(), 2..4);
    assert!(err.message.contains("unknown escape"), "{}", err.message);
}

#[test]
fn duplicate_header_item() {
    let text = "automation \"x\" { status active when a.b status paused do {} }";
    let err = parse_file(text).unwrap_err();
    assert_eq!(&text[err.span.range()], "status paused");
    assert!(
        err.message.contains("`status` is given more than once"),
        "{}",
        err.message
    );
}

#[test]
fn templates_not_allowed_in_names() {
    let err = parse_file("automation \"a {{ b }}\" { do {} }").unwrap_err();
    assert!(err.message.contains("not allowed"), "{}", err.message);
}

#[test]
fn missing_argument_colon() {
    let text = "automation \"x\" { do { f(a 1) } }";
    let err = parse_file(text).unwrap_err();
    assert_eq!(err.span.start as usize, text.find("1)").unwrap());
    assert!(
        err.expected.contains(&"`:`".to_string()),
        "{:?}",
        err.expected
    );
}

#[test]
fn empty_file_and_empty_expression() {
    let err = parse_file("  # nothing\n").unwrap_err();
    assert_eq!(err.expected, vec!["`automation`".to_string()]);
    let err = parse_expr("").unwrap_err();
    assert_eq!(err.message, "expected an expression, found end of input");
}

#[test]
fn huge_duration_is_an_error() {
    let err = parse_expr("99999999999999999999d").unwrap_err();
    assert!(err.message.contains("too large"), "{}", err.message);
}

#[test]
fn dsl_error_messages() {
    let cases = [
        (
            "automation \"x\" { when do {} }",
            "expected an event name, found `do`",
            "do",
        ),
        (
            "automation \"x\" { status do {} }",
            "expected a name, found `do`",
            "do",
        ),
        ("automation x { }", "expected a string, found `x`", "x"),
        (
            "automation \"x\" { layout 5 do {} }",
            "expected `{`, found `5`",
            "5",
        ),
        (
            "automation \"x\" { when a.b do { if a { } else } }",
            "expected `{` or `if`, found `}`",
            "}",
        ),
        (
            "automation \"x\" { when a.b do { f(x: ) } }",
            "expected an expression, found `)`",
            ")",
        ),
        (
            "automation \"x\" { when a.b do { f() when } }",
            "expected an expression, found `}`",
            "}",
        ),
        (
            "automation \"x\" { when a.b do { f(x: 1) g } }",
            "expected `(` or `=`, found `}`",
            "}",
        ),
        (
            "automation \"x\" { when a.b do {} } junk",
            "expected `automation` or end of input, found `junk`",
            "junk",
        ),
        (
            "automation \"x\" { when a.b }",
            "expected `description`, `status`, `environment`, `when`, `if`, `layout` or `do`, found `}`",
            "}",
        ),
    ];
    for (text, message, found) in cases {
        let err = parse_file(text).unwrap_err();
        assert_eq!(err.message, message, "{text}");
        assert_eq!(&text[err.span.range()], found, "{text}");
    }
}

#[test]
fn expression_error_messages() {
    let cases = [
        ("a is", "expected `not` or `null`, found end of input"),
        ("a is not", "expected `null`, found end of input"),
        ("x in", "expected an expression, found end of input"),
        ("f(a b)", "expected `)`, `,` or an operator, found `b`"),
        ("{a: 1 b: 2}", "expected `}`, `,` or an operator, found `b`"),
        ("a @ b", "expected end of input or an operator, found `@`"),
        ("'abc", "expected `'`, found end of input"),
        ("\"{{ }}\"", "expected an expression, found `}`"),
    ];
    for (text, message) in cases {
        assert_eq!(parse_expr(text).unwrap_err().message, message, "{text}");
    }
}

#[test]
fn unclosed_bracket_is_named_when_its_closer_is_the_fix() {
    let cases: [(&str, Option<usize>); 6] = [
        ("(a + b", Some(0)),
        ("x and (a == 1 or [1, 2", Some(17)),
        ("f(a, (b)", Some(1)),
        ("(a]", Some(0)),
        // a missing comma between arguments is not a missing `)`
        ("f(a b)", None),
        // nothing is open
        ("a ==", None),
    ];
    for (text, open) in cases {
        let err = parse_expr(text).unwrap_err();
        assert_eq!(
            err.unclosed.map(|s| s.start as usize),
            open,
            "{text}: {err:?}"
        );
    }
    let text = "automation \"x\" {\n  when a.b\n  if (a == 1\n  do { f() }\n}\n";
    let err = parse_file(text).unwrap_err();
    let open = text.find('(').unwrap();
    assert_eq!(
        err.unclosed.map(|s| s.range()),
        Some(open..open + 1),
        "{err:?}"
    );
}
