//! Text to AST: runs the pest grammar and builds [`crate::ast`] nodes from its pairs.
//!
//! Every entry point returns a [`ParseError`] instead of panicking, whatever the input
//! (random bytes included). Meaning (names of fields, actions, events) is not checked here.

mod dsl;
mod expr;
mod fast;
mod nesting;

use pest::Parser;
use pest::iterators::Pair;

use crate::ast::{self, Span};
use crate::error::{ParseError, from_pest};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
pub(crate) struct Grammar;

use crate::limits::{MAX_DEFINITION_BYTES, MAX_EXPR_BYTES};
use nesting::{Start, check_nesting};

/// Parses a `.auto` file: one or more automations.
pub fn parse_file(text: &str) -> Result<ast::File, ParseError> {
    check_size(text, MAX_DEFINITION_BYTES, "a definition")?;
    check_nesting(text, Start::Code)?;
    match fast::file(text) {
        Some(file) => Ok(file),
        None => parse_file_pest(text),
    }
}

/// Parses `text` as exactly one expression (JSON condition strings, `automations eval`).
pub fn parse_expr(text: &str) -> Result<ast::Expr, ParseError> {
    check_size(text, MAX_EXPR_BYTES, "an expression")?;
    check_nesting(text, Start::Code)?;
    match fast::expr_only(text) {
        Some(expr) => Ok(expr),
        None => parse_expr_pest(text),
    }
}

/// The two readers of each entry point, for the differential tests: the fast path's tree
/// (`None` when it leaves the text to pest) and the pest path's answer, the reference.
/// Both expect text that passed the size and nesting checks of the public functions.
#[doc(hidden)]
pub mod reference {
    use crate::ast;
    use crate::error::ParseError;

    pub fn fast_file(text: &str) -> Option<ast::File> {
        super::fast::file(text)
    }

    pub fn pest_file(text: &str) -> Result<ast::File, ParseError> {
        super::parse_file_pest(text)
    }

    pub fn fast_expr(text: &str) -> Option<ast::Expr> {
        super::fast::expr_only(text)
    }

    pub fn pest_expr(text: &str) -> Result<ast::Expr, ParseError> {
        super::parse_expr_pest(text)
    }
}

fn parse_file_pest(text: &str) -> Result<ast::File, ParseError> {
    let file = parse_rule(Rule::file, text)?;
    dsl::build_file(file)
}

fn parse_expr_pest(text: &str) -> Result<ast::Expr, ParseError> {
    let top = parse_rule(Rule::expr_only, text)?;
    let inner = top.into_inner().find(|p| p.as_rule() == Rule::expr);
    match inner {
        Some(e) => expr::build_expr(e),
        None => Err(ParseError::custom(
            Span::new(0, text.len()),
            "expected an expression",
        )),
    }
}

/// Parses raw string content (no quotes, no escapes) with `{{ expr }}` parts, as found in
/// the string params of the JSON form. Spans are offsets into `text`.
pub fn parse_template(text: &str) -> Result<Vec<ast::StrPart>, ParseError> {
    check_size(text, MAX_EXPR_BYTES, "a template")?;
    check_nesting(text, Start::Template)?;
    let top = parse_rule(Rule::template_only, text)?;
    let mut parts = Vec::new();
    for pair in top.into_inner() {
        match pair.as_rule() {
            Rule::raw_text => parts.push(ast::StrPart::Text(pair.as_str().to_string())),
            Rule::template => parts.push(ast::StrPart::Expr(expr::build_template(pair)?)),
            _ => {}
        }
    }
    Ok(parts)
}

fn parse_rule(rule: Rule, text: &str) -> Result<Pair<'_, Rule>, ParseError> {
    let mut pairs = Grammar::parse(rule, text).map_err(|e| from_pest(e, text))?;
    pairs
        .next()
        .ok_or_else(|| ParseError::custom(Span::new(0, 0), "empty input"))
}

/// Rejects text over `max` bytes before any parsing.
fn check_size(text: &str, max: usize, what: &str) -> Result<(), ParseError> {
    if text.len() <= max {
        return Ok(());
    }
    Err(ParseError::limit(
        Span::new(0, 0),
        format!(
            "{what} of {} bytes is over the limit of {max} bytes",
            text.len()
        ),
    ))
}

/// The span of a pair, without the whitespace and comments pest lets a rule swallow after
/// its last token (a rule ending in `x*` or `x?` skips trivia before trying `x`).
pub(crate) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    Span::new(pair.as_span().start(), last_token_end(pair))
}

fn last_token_end(pair: &Pair<'_, Rule>) -> usize {
    match pair.clone().into_inner().last() {
        Some(last) => last_token_end(&last),
        None => pair.as_span().end(),
    }
}

/// The children that carry meaning (punctuation and keywords skipped).
pub(crate) fn children<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| !is_punctuation(p.as_rule()))
}

fn is_punctuation(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::lparen
            | Rule::rparen
            | Rule::lbrace
            | Rule::rbrace
            | Rule::lbracket
            | Rule::rbracket
            | Rule::comma
            | Rule::colon
            | Rule::assign
            | Rule::dquote
            | Rule::squote
            | Rule::tmpl_close
            | Rule::kw_automation
            | Rule::kw_description
            | Rule::kw_status
            | Rule::kw_environment
            | Rule::kw_when
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_layout
            | Rule::kw_do
            | Rule::kw_retry
            | Rule::EOI
    )
}

/// An internal invariant of the grammar was not met; reported, never panicked on.
pub(crate) fn shape_error(pair: &Pair<'_, Rule>) -> ParseError {
    ParseError::custom(
        span_of(pair),
        format!("internal parser error near `{}`", pair.as_str()),
    )
}
