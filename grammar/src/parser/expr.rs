//! Expressions: operator precedence (pest's Pratt parser), literals, strings and templates.
//!
//! Precedence, loosest first: `or`, `and`, prefix `not`, comparisons and `is [not] null`,
//! `+ -`, `* /`, prefix `-`. Must not evaluate or type anything.

use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::{Rule, children, shape_error, span_of};
use crate::ast::{BinaryOp, CallArg, Expr, ExprKind, Ident, ObjectEntry, Span, StrPart, UnaryOp};
use crate::error::ParseError;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    use Assoc::Left;
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Left))
        .op(Op::infix(Rule::op_and, Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Left)
            | Op::infix(Rule::op_ne, Left)
            | Op::infix(Rule::op_lt, Left)
            | Op::infix(Rule::op_le, Left)
            | Op::infix(Rule::op_gt, Left)
            | Op::infix(Rule::op_ge, Left)
            | Op::infix(Rule::op_in, Left)
            | Op::infix(Rule::op_contains, Left)
            | Op::infix(Rule::op_starts_with, Left)
            | Op::infix(Rule::op_ends_with, Left)
            | Op::infix(Rule::op_matches, Left)
            | Op::postfix(Rule::is_null)
            | Op::postfix(Rule::is_not_null))
        .op(Op::infix(Rule::op_add, Left) | Op::infix(Rule::op_sub, Left))
        .op(Op::infix(Rule::op_mul, Left) | Op::infix(Rule::op_div, Left))
        .op(Op::prefix(Rule::op_neg))
});

type Built = Result<Expr, ParseError>;

/// Most prefix operators accepted on one operand; the Pratt parser recurses once per prefix.
const MAX_PREFIXES: usize = 32;

/// Builds an `expr` pair.
pub(crate) fn build_expr(pair: Pair<'_, Rule>) -> Built {
    let flat = flatten(pair)?;
    PRATT
        .map_primary(build_primary)
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let op_kind = if op.as_rule() == Rule::op_not {
                UnaryOp::Not
            } else {
                UnaryOp::Neg
            };
            let span = span_of(&op).cover(rhs.span);
            Ok(Expr {
                kind: ExprKind::Unary {
                    op: op_kind,
                    expr: Box::new(rhs),
                },
                span,
            })
        })
        .map_postfix(|lhs, op| {
            let lhs = lhs?;
            let span = lhs.span.cover(span_of(&op));
            let negated = op.as_rule() == Rule::is_not_null;
            Ok(Expr {
                kind: ExprKind::IsNull {
                    expr: Box::new(lhs),
                    negated,
                },
                span,
            })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let op = binary_op(&op)?;
            let span = lhs.span.cover(rhs.span);
            Ok(Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            })
        })
        .parse(flat.into_iter())
}

/// The operand/operator sequence of an `expr`, with wrapper rules removed so that the
/// Pratt parser sees the operator rules themselves.
fn flatten(pair: Pair<'_, Rule>) -> Result<Vec<Pair<'_, Rule>>, ParseError> {
    let mut out = Vec::new();
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::operand => {
                let prefixes = part
                    .clone()
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::prefix)
                    .count();
                if prefixes > MAX_PREFIXES {
                    let msg = format!("more than {MAX_PREFIXES} prefix operators in a row");
                    return Err(ParseError::custom(span_of(&part), msg));
                }
                for piece in part.into_inner() {
                    match piece.as_rule() {
                        Rule::prefix | Rule::postfix => out.extend(piece.into_inner()),
                        _ => out.push(piece),
                    }
                }
            }
            Rule::infix => out.extend(part.into_inner()),
            _ => out.push(part),
        }
    }
    Ok(out)
}

fn binary_op(op: &Pair<'_, Rule>) -> Result<BinaryOp, ParseError> {
    Ok(match op.as_rule() {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::Le,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_in => BinaryOp::In,
        Rule::op_contains => BinaryOp::Contains,
        Rule::op_starts_with => BinaryOp::StartsWith,
        Rule::op_ends_with => BinaryOp::EndsWith,
        Rule::op_matches => BinaryOp::Matches,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        _ => return Err(shape_error(op)),
    })
}

fn build_primary(pair: Pair<'_, Rule>) -> Built {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::null_lit => ExprKind::Null,
        Rule::true_lit => ExprKind::Bool(true),
        Rule::false_lit => ExprKind::Bool(false),
        Rule::number => number(&pair)?,
        Rule::duration => duration(&pair)?,
        Rule::string => ExprKind::Str(build_string(pair)?),
        Rule::path => ExprKind::Path(path_segments(pair.as_str(), span.start)),
        Rule::paren => {
            let inner = children(pair)
                .next()
                .ok_or_else(|| ParseError::custom(span, "empty parentheses"))?;
            ExprKind::Paren(Box::new(build_expr(inner)?))
        }
        Rule::list => ExprKind::List(children(pair).map(build_expr).collect::<Result<_, _>>()?),
        Rule::object => {
            ExprKind::Object(children(pair).map(build_entry).collect::<Result<_, _>>()?)
        }
        Rule::call => build_call(pair)?,
        _ => return Err(shape_error(&pair)),
    };
    Ok(Expr { kind, span })
}

fn number(pair: &Pair<'_, Rule>) -> Result<ExprKind, ParseError> {
    pair.as_str()
        .parse::<f64>()
        .map(ExprKind::Number)
        .map_err(|_| ParseError::custom(span_of(pair), "invalid number"))
}

/// `500ms 90s 15m 48h 3d 2w`, converted to milliseconds.
fn duration(pair: &Pair<'_, Rule>) -> Result<ExprKind, ParseError> {
    let text = pair.as_str();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let unit_millis: i64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => {
            return Err(ParseError::custom(
                span_of(pair),
                format!("unknown duration unit `{unit}`"),
            ));
        }
    };
    let too_large = || ParseError::custom(span_of(pair), "duration is too large");
    let count: i64 = digits.parse().map_err(|_| too_large())?;
    let millis = count.checked_mul(unit_millis).ok_or_else(too_large)?;
    Ok(ExprKind::Duration {
        millis,
        text: text.to_string(),
    })
}

/// Splits `a.b.c` (starting at byte `start`) into spanned identifiers.
pub(crate) fn path_segments(text: &str, start: u32) -> Vec<Ident> {
    let mut out = Vec::new();
    let mut offset = start as usize;
    for seg in text.split('.') {
        out.push(Ident {
            name: seg.to_string(),
            span: Span::new(offset, offset + seg.len()),
        });
        offset += seg.len() + 1;
    }
    out
}

fn build_entry(pair: Pair<'_, Rule>) -> Result<ObjectEntry, ParseError> {
    let span = span_of(&pair);
    let mut parts = children(pair);
    let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
        return Err(ParseError::custom(span, "malformed object entry"));
    };
    let key = match key.as_rule() {
        Rule::string => plain_string(key)?,
        _ => Ident {
            name: key.as_str().to_string(),
            span: span_of(&key),
        },
    };
    Ok(ObjectEntry {
        key,
        value: build_expr(value)?,
    })
}

fn build_call(pair: Pair<'_, Rule>) -> Result<ExprKind, ParseError> {
    let span = span_of(&pair);
    let mut parts = children(pair);
    let name = parts
        .next()
        .ok_or_else(|| ParseError::custom(span, "malformed call"))?;
    let name = Ident {
        name: name.as_str().to_string(),
        span: span_of(&name),
    };
    let args = parts.map(build_call_arg).collect::<Result<_, _>>()?;
    Ok(ExprKind::Call { name, args })
}

fn build_call_arg(pair: Pair<'_, Rule>) -> Result<CallArg, ParseError> {
    match pair.as_rule() {
        Rule::expr => Ok(CallArg {
            name: None,
            value: build_expr(pair)?,
        }),
        Rule::call_named_arg => {
            let (name, value) = name_and_expr(pair)?;
            Ok(CallArg {
                name: Some(name),
                value,
            })
        }
        Rule::lambda => {
            let span = span_of(&pair);
            let (param, body) = name_and_expr(pair)?;
            let kind = ExprKind::Lambda {
                param,
                body: Box::new(body),
            };
            Ok(CallArg {
                name: None,
                value: Expr { kind, span },
            })
        }
        _ => Err(shape_error(&pair)),
    }
}

/// `name: expr` and `name => expr`.
pub(crate) fn name_and_expr(pair: Pair<'_, Rule>) -> Result<(Ident, Expr), ParseError> {
    let span = span_of(&pair);
    let mut parts = children(pair);
    let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
        return Err(ParseError::custom(span, "expected `name` and a value"));
    };
    let name = Ident {
        name: name.as_str().to_string(),
        span: span_of(&name),
    };
    Ok((name, build_expr(value)?))
}

/// Builds a `string` pair into text and template parts.
pub(crate) fn build_string(pair: Pair<'_, Rule>) -> Result<Vec<StrPart>, ParseError> {
    let span = span_of(&pair);
    let quoted = pair
        .into_inner()
        .next()
        .ok_or_else(|| ParseError::custom(span, "malformed string"))?;
    let mut parts: Vec<StrPart> = Vec::new();
    for part in quoted.into_inner() {
        match part.as_rule() {
            Rule::dq_text | Rule::sq_text => {
                let text = unescape(part.as_str(), span_of(&part).start as usize)?;
                match parts.last_mut() {
                    Some(StrPart::Text(prev)) => prev.push_str(&text),
                    _ => parts.push(StrPart::Text(text)),
                }
            }
            Rule::template => parts.push(StrPart::Expr(build_template(part)?)),
            _ => {}
        }
    }
    Ok(parts)
}

/// A string without template parts, as an identifier-like value (names, object keys).
pub(crate) fn plain_string(pair: Pair<'_, Rule>) -> Result<Ident, ParseError> {
    let span = span_of(&pair);
    let mut name = String::new();
    for part in build_string(pair)? {
        match part {
            StrPart::Text(t) => name.push_str(&t),
            StrPart::Expr(e) => {
                return Err(ParseError::custom(
                    e.span,
                    "a template `{{ ... }}` is not allowed here",
                ));
            }
        }
    }
    Ok(Ident { name, span })
}

/// Builds a `template` pair (`{{ expr }}`).
pub(crate) fn build_template(pair: Pair<'_, Rule>) -> Built {
    let span = span_of(&pair);
    let inner = children(pair).find(|p| p.as_rule() == Rule::expr);
    match inner {
        Some(e) => build_expr(e),
        None => Err(ParseError::custom(
            span,
            "expected an expression inside `{{ }}`",
        )),
    }
}

/// Resolves `\" \' \\ \n \t \r \{` in string text that starts at byte `start`.
fn unescape(raw: &str, start: usize) -> Result<String, ParseError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((j, esc)) = chars.next() else {
            return Err(ParseError::custom(
                Span::new(start + i, start + i + 1),
                "unfinished escape",
            ));
        };
        out.push(match esc {
            '"' => '"',
            '\'' => '\'',
            '\\' => '\\',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '{' => '{',
            other => {
                let span = Span::new(start + i, start + j + other.len_utf8());
                let msg =
                    format!("unknown escape `\\{other}` (use \\\" \\' \\\\ \\n \\t \\r or \\{{)");
                return Err(ParseError::custom(span, msg));
            }
        });
    }
    Ok(out)
}
