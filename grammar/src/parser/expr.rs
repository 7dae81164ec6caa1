//! Expressions: operator precedence (pest's Pratt parser), literals, strings and templates.
//!
//! Precedence, loosest first: `or`, `and`, prefix `not`, comparisons and `is [not] null`,
//! `+ -`, `* /`, prefix `-`. Must not evaluate or type anything.

use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::{Rule, children, shape_error, span_of};
use crate::ast::{
    BinaryOp, CallArg, Expr, ExprKind, Ident, LogicOp, ObjectEntry, Span, StrPart, UnaryOp,
};
use crate::error::ParseError;
use crate::limits::{MAX_CLAUSES, MAX_EXPR_DEPTH, MAX_LIST_ITEMS};

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
/// An expression with the depth of its tree (a leaf is 1).
type Deep = Result<(Expr, u32), ParseError>;

/// Most prefix operators accepted on one operand; the Pratt parser recurses once per prefix.
pub(crate) const MAX_PREFIXES: usize = 32;

/// Builds an `expr` pair.
pub(crate) fn build_expr(pair: Pair<'_, Rule>) -> Built {
    build_deep(pair).map(|(e, _)| e)
}

/// Builds an `expr` pair and measures its depth, failing as soon as the tree would pass
/// [`MAX_EXPR_DEPTH`]: a long chain of a left-associative operator nests one level per
/// operand, and a tree that deep would overflow the stack of the recursive passes (or of
/// its own drop). `and`/`or` chains become one flat [`ExprKind::Logic`] node instead.
fn build_deep(pair: Pair<'_, Rule>) -> Deep {
    let flat = flatten(pair)?;
    PRATT
        .map_primary(|p| {
            let (e, d) = build_primary(p)?;
            deeper(e, d)
        })
        .map_prefix(|op, rhs| {
            let (rhs, d) = rhs?;
            let op_kind = if op.as_rule() == Rule::op_not {
                UnaryOp::Not
            } else {
                UnaryOp::Neg
            };
            let span = span_of(&op).cover(rhs.span);
            let kind = ExprKind::Unary {
                op: op_kind,
                expr: Box::new(rhs),
            };
            deeper(Expr { kind, span }, d + 1)
        })
        .map_postfix(|lhs, op| {
            let (lhs, d) = lhs?;
            let span = lhs.span.cover(span_of(&op));
            let negated = op.as_rule() == Rule::is_not_null;
            let kind = ExprKind::IsNull {
                expr: Box::new(lhs),
                negated,
            };
            deeper(Expr { kind, span }, d + 1)
        })
        .map_infix(|lhs, op, rhs| {
            let ((lhs, ld), (rhs, rd)) = (lhs?, rhs?);
            match op.as_rule() {
                Rule::op_and => Ok(logic(LogicOp::And, lhs, ld, rhs, rd)),
                Rule::op_or => Ok(logic(LogicOp::Or, lhs, ld, rhs, rd)),
                _ => {
                    let op = binary_op(&op)?;
                    let span = lhs.span.cover(rhs.span);
                    let kind = ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    };
                    deeper(Expr { kind, span }, ld.max(rd) + 1)
                }
            }
        })
        .parse(flat.into_iter())
}

/// `lhs op rhs` for `and`/`or`: appended to `lhs` when it is already a chain of `op`
/// (the Pratt parser folds to the left), so a chain of n clauses is built in O(n).
pub(crate) fn logic(op: LogicOp, lhs: Expr, ld: u32, rhs: Expr, rd: u32) -> (Expr, u32) {
    let span = lhs.span.cover(rhs.span);
    match lhs.kind {
        ExprKind::Logic { op: o, mut items } if o == op => {
            items.push(rhs);
            let kind = ExprKind::Logic { op, items };
            (Expr { kind, span }, ld.max(rd + 1))
        }
        kind => {
            let lhs = Expr {
                kind,
                span: lhs.span,
            };
            let kind = ExprKind::Logic {
                op,
                items: vec![lhs, rhs],
            };
            (Expr { kind, span }, ld.max(rd) + 1)
        }
    }
}

/// `e` at depth `d`, or the limit error.
pub(crate) fn deeper(e: Expr, d: u32) -> Deep {
    if d > MAX_EXPR_DEPTH {
        return Err(ParseError::limit(
            e.span,
            format!(
                "expression nested more than {MAX_EXPR_DEPTH} levels deep \
                 (split it, or use `in [...]` or `and`/`or` lists)"
            ),
        ));
    }
    Ok((e, d))
}

/// The operand/operator sequence of an `expr`, with wrapper rules removed so that the
/// Pratt parser sees the operator rules themselves.
fn flatten(pair: Pair<'_, Rule>) -> Result<Vec<Pair<'_, Rule>>, ParseError> {
    let span = span_of(&pair);
    let mut out = Vec::new();
    // Clauses are what `and`/`or` join; other operators nest, and the depth limit
    // bounds how many of them one clause holds.
    let mut clauses = 1usize;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::infix => {
                let logic = part
                    .clone()
                    .into_inner()
                    .any(|op| matches!(op.as_rule(), Rule::op_and | Rule::op_or));
                if logic {
                    clauses += 1;
                    if clauses > MAX_CLAUSES {
                        let msg = format!(
                            "more than {MAX_CLAUSES} clauses joined by `and`/`or` in one expression"
                        );
                        return Err(ParseError::limit(span, msg));
                    }
                }
                out.extend(part.into_inner());
            }
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
            _ => out.push(part),
        }
    }
    Ok(out)
}

fn binary_op(op: &Pair<'_, Rule>) -> Result<BinaryOp, ParseError> {
    Ok(match op.as_rule() {
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

fn build_primary(pair: Pair<'_, Rule>) -> Deep {
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
            let (inner, d) = build_deep(inner)?;
            return Ok((
                Expr {
                    kind: ExprKind::Paren(Box::new(inner)),
                    span,
                },
                d + 1,
            ));
        }
        Rule::list => return build_list(pair),
        Rule::object => {
            ExprKind::Object(children(pair).map(build_entry).collect::<Result<_, _>>()?)
        }
        Rule::call => build_call(pair)?,
        _ => return Err(shape_error(&pair)),
    };
    let e = Expr { kind, span };
    let d = depth(&e);
    Ok((e, d))
}

/// `[a, b, ...]`, at most [`MAX_LIST_ITEMS`] items.
fn build_list(pair: Pair<'_, Rule>) -> Deep {
    let span = span_of(&pair);
    let mut items = Vec::new();
    let mut d = 0;
    for item in children(pair) {
        if items.len() == MAX_LIST_ITEMS {
            let msg = format!("a list of more than {MAX_LIST_ITEMS} items");
            return Err(ParseError::limit(span, msg));
        }
        let (item, item_depth) = build_deep(item)?;
        d = d.max(item_depth);
        items.push(item);
    }
    let kind = ExprKind::List(items);
    Ok((Expr { kind, span }, d + 1))
}

/// The depth of a tree whose sub-expressions were built (and so depth-checked) by
/// [`build_deep`]: the recursion is bounded by [`MAX_EXPR_DEPTH`].
pub(crate) fn depth(e: &Expr) -> u32 {
    let below = match &e.kind {
        ExprKind::Null
        | ExprKind::Bool(_)
        | ExprKind::Number(_)
        | ExprKind::Duration { .. }
        | ExprKind::Path(_) => 0,
        ExprKind::Str(parts) => parts
            .iter()
            .map(|p| match p {
                StrPart::Text(_) => 0,
                StrPart::Expr(x) => depth(x),
            })
            .max()
            .unwrap_or(0),
        ExprKind::List(items) | ExprKind::Logic { items, .. } => {
            items.iter().map(depth).max().unwrap_or(0)
        }
        ExprKind::Object(entries) => entries.iter().map(|x| depth(&x.value)).max().unwrap_or(0),
        ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } | ExprKind::Paren(expr) => {
            depth(expr)
        }
        ExprKind::Binary { lhs, rhs, .. } => depth(lhs).max(depth(rhs)),
        ExprKind::Call { args, .. } => args.iter().map(|a| depth(&a.value)).max().unwrap_or(0),
        ExprKind::Lambda { body, .. } => depth(body),
    };
    below + 1
}

fn number(pair: &Pair<'_, Rule>) -> Result<ExprKind, ParseError> {
    pair.as_str()
        .parse::<f64>()
        .map(ExprKind::Number)
        .map_err(|_| ParseError::custom(span_of(pair), "invalid number"))
}

/// `500ms 90s 15m 48h 3d 2w`, converted to milliseconds.
fn duration(pair: &Pair<'_, Rule>) -> Result<ExprKind, ParseError> {
    duration_kind(pair.as_str()).map_err(|msg| ParseError::custom(span_of(pair), msg))
}

/// The duration literal `text` (digits and a unit), or what is wrong with it.
pub(crate) fn duration_kind(text: &str) -> Result<ExprKind, String> {
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
        _ => return Err(format!("unknown duration unit `{unit}`")),
    };
    let too_large = || "duration is too large".to_string();
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
pub(crate) fn unescape(raw: &str, start: usize) -> Result<String, ParseError> {
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
