//! Expressions to canonical text: minimal parentheses by precedence (redundant `Paren`
//! nodes are dropped), single spaces around binary operators, `{{ expr }}` template parts.
//!
//! Must stay in sync with the precedence table of `automations-grammar` (loosest first:
//! `or`, `and`, `not`, comparisons and `is null`, `+ -`, `* /`, unary `-`).

use automations_grammar::ast::{BinaryOp, Expr, ExprKind, LogicOp, StrPart, UnaryOp};

use super::{PrintConfig, Quote};

/// Prints an expression in canonical form.
pub fn print_expr(expr: &Expr, config: &PrintConfig) -> String {
    let mut out = String::new();
    write_expr(expr, config, &mut out);
    out
}

/// Binding strength; higher binds tighter.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const COMPARE: u8 = 4;
const SUM: u8 = 5;
const PRODUCT: u8 = 6;
const NEG: u8 = 7;
const ATOM: u8 = 8;

fn binary_prec(op: BinaryOp) -> u8 {
    use BinaryOp::*;
    match op {
        Eq | Ne | Lt | Le | Gt | Ge | In | Contains | StartsWith | EndsWith | Matches => COMPARE,
        Add | Sub => SUM,
        Mul | Div => PRODUCT,
    }
}

fn logic_prec(op: LogicOp) -> u8 {
    match op {
        LogicOp::Or => OR,
        LogicOp::And => AND,
    }
}

/// The precedence of an expression as printed (parentheses are transparent).
fn prec(expr: &Expr) -> u8 {
    match &expr.kind {
        ExprKind::Binary { op, .. } => binary_prec(*op),
        ExprKind::Logic { op, .. } => logic_prec(*op),
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => NOT,
        ExprKind::Unary {
            op: UnaryOp::Neg, ..
        } => NEG,
        ExprKind::IsNull { .. } => COMPARE,
        // A lambda body extends as far right as possible: always parenthesize it as an operand.
        ExprKind::Lambda { .. } => 0,
        ExprKind::Paren(inner) => prec(inner),
        _ => ATOM,
    }
}

/// Writes `expr`, in parentheses when it binds looser than `min`.
fn write_operand(expr: &Expr, min: u8, config: &PrintConfig, out: &mut String) {
    if prec(expr) < min {
        out.push('(');
        write_expr(expr, config, out);
        out.push(')');
    } else {
        write_expr(expr, config, out);
    }
}

fn write_expr(expr: &Expr, config: &PrintConfig, out: &mut String) {
    match &expr.kind {
        ExprKind::Null => out.push_str("null"),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Number(n) => out.push_str(&format_number(*n)),
        ExprKind::Duration { text, .. } => out.push_str(text),
        ExprKind::Str(parts) => write_string(parts, config, out),
        ExprKind::Path(segs) => {
            let names: Vec<&str> = segs.iter().map(|s| s.name.as_str()).collect();
            out.push_str(&names.join("."));
        }
        ExprKind::List(items) => {
            out.push('[');
            write_separated(items, config, out, |item, config, out| {
                write_expr(item, config, out)
            });
            out.push(']');
        }
        ExprKind::Object(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{ ");
            write_separated(entries, config, out, |entry, config, out| {
                write_key(&entry.key.name, config, out);
                out.push_str(": ");
                write_expr(&entry.value, config, out);
            });
            out.push_str(" }");
        }
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr: inner,
        } => {
            out.push_str("not ");
            write_operand(inner, NOT, config, out);
        }
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr: inner,
        } => {
            out.push('-');
            write_operand(inner, NEG, config, out);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let p = binary_prec(*op);
            // Left-associative: an equal-precedence operand needs parentheses on the right only.
            write_operand(lhs, p, config, out);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_operand(rhs, p + 1, config, out);
        }
        ExprKind::Logic { op, items } => {
            // `and`/`or` are associative: an item of the same operator (only from a
            // parenthesized chain) needs no parentheses, so the canonical text is flat.
            let p = logic_prec(*op);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                    out.push_str(op.symbol());
                    out.push(' ');
                }
                write_operand(item, p, config, out);
            }
        }
        ExprKind::IsNull {
            expr: inner,
            negated,
        } => {
            write_operand(inner, COMPARE, config, out);
            out.push_str(if *negated { " is not null" } else { " is null" });
        }
        ExprKind::Call { name, args } => {
            out.push_str(&name.name);
            out.push('(');
            write_separated(args, config, out, |arg, config, out| {
                if let Some(n) = &arg.name {
                    out.push_str(&n.name);
                    out.push_str(": ");
                }
                write_expr(&arg.value, config, out);
            });
            out.push(')');
        }
        ExprKind::Lambda { param, body } => {
            out.push_str(&param.name);
            out.push_str(" => ");
            write_expr(body, config, out);
        }
        ExprKind::Paren(inner) => write_expr(inner, config, out),
    }
}

fn write_separated<T>(
    items: &[T],
    config: &PrintConfig,
    out: &mut String,
    mut write: impl FnMut(&T, &PrintConfig, &mut String),
) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write(item, config, out);
    }
}

/// Integral numbers print without `.0`.
pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn is_plain_name(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn write_key(key: &str, config: &PrintConfig, out: &mut String) {
    if is_plain_name(key) {
        out.push_str(key);
    } else {
        write_string(&[StrPart::Text(key.to_string())], config, out);
    }
}

fn quote_char(config: &PrintConfig) -> char {
    match config.quote {
        Quote::Double => '"',
        Quote::Single => '\'',
    }
}

/// Writes a string literal with escapes and `{{ expr }}` parts.
pub(crate) fn write_string(parts: &[StrPart], config: &PrintConfig, out: &mut String) {
    let quote = quote_char(config);
    out.push(quote);
    for (i, part) in parts.iter().enumerate() {
        match part {
            StrPart::Text(text) => {
                let template_follows = matches!(parts.get(i + 1), Some(StrPart::Expr(_)));
                write_escaped(text, quote, template_follows, out);
            }
            StrPart::Expr(e) => {
                out.push_str("{{ ");
                write_expr(e, config, out);
                out.push_str(" }}");
            }
        }
    }
    out.push(quote);
}

/// Escapes quotes, backslashes, control characters and any `{` that would open a template.
fn write_escaped(text: &str, quote: char, template_follows: bool, out: &mut String) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '{' if chars.peek() == Some(&'{') || (chars.peek().is_none() && template_follows) => {
                out.push_str("\\{")
            }
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// A JSON value as a literal expression (`layout` objects): `{ k: v }`, `[a, b]`.
pub fn print_json_literal(value: &serde_json::Value, config: &PrintConfig) -> String {
    let mut out = String::new();
    write_json(value, config, &mut out);
    out
}

fn write_json(value: &serde_json::Value, config: &PrintConfig, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.is_finite() => out.push_str(&format_number(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_string(&[StrPart::Text(s.clone())], config, out),
        Value::Array(items) => {
            out.push('[');
            write_separated(items, config, out, write_json);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{ ");
            let entries: Vec<(&String, &Value)> = map.iter().collect();
            write_separated(&entries, config, out, |(k, v), config, out| {
                write_key(k, config, out);
                out.push_str(": ");
                write_json(v, config, out);
            });
            out.push_str(" }");
        }
    }
}
