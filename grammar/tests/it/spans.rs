//! Spans are byte offsets into the parsed text, template expressions included.

use automations_grammar::ast::{ExprKind, StepKind, StrPart};
use automations_grammar::{parse_expr, parse_file, parse_template};

#[test]
fn binary_and_path_spans() {
    let text = "  a.bc == 1";
    let e = parse_expr(text).unwrap();
    assert_eq!(&text[e.span.range()], "a.bc == 1");
    let ExprKind::Binary { lhs, .. } = &e.kind else {
        panic!("{e:?}")
    };
    let ExprKind::Path(segs) = &lhs.kind else {
        panic!()
    };
    assert_eq!(&text[segs[1].span.range()], "bc");
}

#[test]
fn template_expr_spans_point_into_the_file() {
    let text = "automation \"n\" { when x.y do { a(t: \"hi {{ name }}!\") } }";
    let f = parse_file(text).unwrap();
    let StepKind::Action { args, .. } = &f.automations[0].steps[0].kind else {
        panic!()
    };
    let ExprKind::Str(parts) = &args[0].value.kind else {
        panic!()
    };
    let StrPart::Expr(e) = &parts[1] else {
        panic!("{parts:?}")
    };
    assert_eq!(&text[e.span.range()], "name");
    assert_eq!(&text[args[0].span.range()], "t: \"hi {{ name }}!\"");
}

#[test]
fn raw_template_spans() {
    let text = "Hello {{ owner.name }}, {{x}}";
    let parts = parse_template(text).unwrap();
    assert_eq!(parts.len(), 4);
    let StrPart::Expr(e) = &parts[1] else {
        panic!()
    };
    assert_eq!(&text[e.span.range()], "owner.name");
    let StrPart::Text(t) = &parts[2] else {
        panic!()
    };
    assert_eq!(t, ", ");
}

#[test]
fn is_null_and_unary_spans() {
    let text = "not x is not null";
    let e = parse_expr(text).unwrap();
    assert_eq!(e.span.range(), 0..text.len());
    let ExprKind::Unary { expr, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(&text[expr.span.range()], "x is not null");
}

#[test]
fn step_and_automation_spans() {
    let text = "automation \"n\" {\n  when a.b\n  do {\n    s = f(x: 1) when y\n  }\n}\n";
    let f = parse_file(text).unwrap();
    let a = &f.automations[0];
    assert_eq!(&text[a.span.range()], text.trim_end());
    assert_eq!(&text[a.steps[0].span.range()], "s = f(x: 1) when y");
    assert_eq!(&text[a.trigger.as_ref().unwrap().span.range()], "a.b");
    assert_eq!(&text[a.name.span.range()], "\"n\"");
}

#[test]
fn crlf_tabs_and_byte_order_mark_are_whitespace() {
    let text = "\u{FEFF}automation \"n\" {\r\n\twhen a.b # c\r\n\tdo {\r\n\t}\r\n}\r\n";
    let f = parse_file(text).unwrap();
    assert_eq!(f.automations[0].trigger.as_ref().unwrap().name, "a.b");
}

#[test]
fn raw_templates_keep_backslashes_and_quotes() {
    let parts = parse_template(r#"C:\temp "quoted" 'x' {{ a }}"#).unwrap();
    assert_eq!(
        parts[0],
        StrPart::Text(r#"C:\temp "quoted" 'x' "#.to_string())
    );
    assert!(parse_template("").unwrap().is_empty());
    assert_eq!(
        parse_template("}} {").unwrap(),
        vec![StrPart::Text("}} {".to_string())]
    );
}
