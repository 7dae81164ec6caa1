//! Syntax errors: where parsing stopped, what was expected there, in words a user reads.
//!
//! pest reports the rules it tried at the furthest position; this module turns those rule
//! names into token text (`)`, `an expression`). It must never expose pest types.

use crate::ast::Span;
use crate::parser::Rule;

/// A syntax error in DSL text, an expression or a template.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Where the error is: the unexpected token, or an empty span at the end of input.
    pub span: Span,
    /// A sentence such as "expected `)` or an operator, found end of input".
    pub message: String,
    /// The expected tokens in readable form, e.g. "`)`", "an expression".
    pub expected: Vec<String>,
    /// The opening bracket left unclosed, when the parse stopped where its closer was
    /// expected (end of input, a mismatched closer, or the next part of the file).
    pub unclosed: Option<Span>,
    /// A syntax error, or input past one of the documented [`crate::limits`].
    pub kind: ParseErrorKind,
}

/// What kind of failure a [`ParseError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseErrorKind {
    #[default]
    Syntax,
    /// The text is well formed but exceeds a size limit of [`crate::limits`].
    Limit,
}

impl ParseError {
    /// An error with a message of our own (bad escape, duplicate header item, ...).
    pub fn custom(span: Span, message: impl Into<String>) -> ParseError {
        ParseError {
            span,
            message: message.into(),
            expected: Vec::new(),
            unclosed: None,
            kind: ParseErrorKind::Syntax,
        }
    }

    /// Input past one of the documented [`crate::limits`]; `message` names the limit.
    pub fn limit(span: Span, message: impl Into<String>) -> ParseError {
        ParseError {
            kind: ParseErrorKind::Limit,
            ..ParseError::custom(span, message)
        }
    }
}

/// Converts a pest error on `text` into a [`ParseError`].
pub(crate) fn from_pest(err: pest::error::Error<Rule>, text: &str) -> ParseError {
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    match err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            expected_error(pos, &positives, text)
        }
        pest::error::ErrorVariant::CustomError { message } => {
            ParseError::custom(Span::new(pos, pos), message)
        }
    }
}

fn expected_error(pos: usize, positives: &[Rule], text: &str) -> ParseError {
    let mut expected: Vec<String> = Vec::new();
    for rule in positives {
        if let Some(token) = describe(*rule)
            && !expected.iter().any(|e| e == token)
        {
            expected.push(token.to_string());
        }
    }
    // "an operator" already covers `is null`.
    if expected.iter().any(|e| e == "an operator") {
        expected.retain(|e| e != "`is null`");
    }
    // ... and "an expression" covers names (of paths, lambdas and named arguments).
    if expected.iter().any(|e| e == "an expression") {
        expected.retain(|e| e != "a name");
    }
    // Concrete tokens first: they are what the user most likely forgot.
    expected.sort_by_key(|e| !e.starts_with('`'));
    let found = found_token(text, pos);
    let span = Span::new(pos, pos + found.map_or(0, str::len));
    let found_text = match found {
        None => "end of input".to_string(),
        Some(tok) => format!("`{tok}`"),
    };
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!(
            "expected {}, found {found_text}",
            join_alternatives(&expected)
        )
    };
    let unclosed = unclosed_opener(text, pos, found, &expected);
    ParseError {
        span,
        message,
        expected,
        unclosed,
        kind: ParseErrorKind::Syntax,
    }
}

/// The bracket left open when the parse stopped at `pos` wanting its closer. Only claimed
/// when the closer is the likely fix: at the end of input, before a different closer, or
/// where no `,` could continue a list (`f(a b)` misses a comma, not a parenthesis).
fn unclosed_opener(
    text: &str,
    pos: usize,
    found: Option<&str>,
    expected: &[String],
) -> Option<Span> {
    let (at, open) = crate::lexical::open_bracket_at(text, pos)?;
    let closer = format!("`{}`", crate::lexical::closer_of(open));
    if !expected.contains(&closer) {
        return None;
    }
    let likely = match found {
        None => true,
        Some(tok) => matches!(tok, ")" | "]" | "}") || !expected.iter().any(|e| e == "`,`"),
    };
    likely.then(|| Span::new(at, at + 1))
}

/// "a", "a or b", "a, b or c".
fn join_alternatives(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at `pos`: a word, or one character; `None` at the end of input.
fn found_token(text: &str, pos: usize) -> Option<&str> {
    let rest = text.get(pos..)?;
    let first = rest.chars().next()?;
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let len = if is_word(first) {
        rest.find(|c: char| !is_word(c)).unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    Some(&rest[..len])
}

/// The readable name of a rule pest expected, or `None` for rules users never type.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule as R;
    Some(match rule {
        R::EOI => "end of input",
        R::lparen => "`(`",
        R::rparen => "`)`",
        R::lbrace => "`{`",
        R::rbrace => "`}`",
        R::lbracket => "`[`",
        R::rbracket => "`]`",
        R::comma => "`,`",
        R::colon => "`:`",
        R::assign => "`=`",
        R::dquote => "`\"`",
        R::squote => "`'`",
        R::tmpl_close => "`}}`",
        R::kw_automation | R::automation => "`automation`",
        R::kw_description | R::description => "`description`",
        R::kw_status | R::status => "`status`",
        R::kw_environment | R::environment => "`environment`",
        R::kw_when | R::trigger | R::guard => "`when`",
        R::kw_if | R::condition | R::if_core => "`if`",
        R::kw_else | R::else_clause => "`else`",
        R::kw_layout | R::layout => "`layout`",
        R::kw_do | R::do_block => "`do`",
        R::kw_retry | R::retry_clause => "`retry`",
        R::kw_is | R::postfix | R::is_null | R::is_not_null => "`is null`",
        R::kw_not | R::op_not => "`not`",
        R::kw_null | R::null_lit => "`null`",
        R::name | R::ident | R::dsl_name | R::path | R::action_name => "a name",
        R::event_name => "an event name",
        R::string | R::dq_string | R::sq_string => "a string",
        R::block => "`{`",
        R::if_step | R::action_step | R::step_label => "a step",
        R::action_args => "`(`",
        R::named_arg => "an argument `name: value`",
        R::expr
        | R::operand
        | R::prefix
        | R::op_neg
        | R::paren
        | R::list
        | R::call
        | R::call_named_arg
        | R::lambda
        | R::number
        | R::duration
        | R::true_lit
        | R::false_lit => "an expression",
        R::object => "an object `{ ... }`",
        R::entry => "an entry `key: value`",
        R::infix => "an operator",
        _ => return None,
    })
}
