//! Canonical `.auto` text that keeps the author's comments.
//!
//! The AST has no comments, so the printer alone would drop them. Comments between
//! automations (a file header, a note above an automation, a trailer) are kept on their own
//! lines before the automation they precede. A comment inside an automation has no place
//! the printer could keep it yet: rather than delete it, formatting that file fails with a
//! diagnostic. This module must never drop text silently.

use automations_grammar::lexical;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::{Automation, Span};
use crate::print::print_dsl;

/// The canonical text of `automations` (lowered from `text`), with the comments of `text`
/// that sit between automations.
pub fn print_keeping_comments(
    text: &str,
    automations: &[Automation],
) -> Result<String, Vec<Diagnostic>> {
    let comments = lexical::comments(text);
    let inside: Vec<Diagnostic> = comments
        .iter()
        .filter(|c| automations.iter().any(|a| contains(a.span, **c)))
        .map(|c| inner_comment(*c))
        .collect();
    if !inside.is_empty() {
        return Err(inside);
    }
    let mut out = String::new();
    let mut pending = comments.iter().peekable();
    for (i, automation) in automations.iter().enumerate() {
        let mut leading = String::new();
        while let Some(c) = pending.next_if(|c| c.start < automation.span.start) {
            leading.push_str(comment_text(text, *c));
            leading.push('\n');
        }
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&leading);
        out.push_str(&print_dsl(std::slice::from_ref(automation)));
    }
    let trailing: Vec<&str> = pending.map(|c| comment_text(text, *c)).collect();
    if !trailing.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        for c in trailing {
            out.push_str(c);
            out.push('\n');
        }
    }
    Ok(out)
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.start <= inner.start && inner.start < outer.end
}

fn comment_text(text: &str, span: Span) -> &str {
    text.get(span.range()).unwrap_or("").trim_end()
}

fn inner_comment(span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::SYNTAX,
        "cannot format: a comment inside an automation would be lost",
        span,
    )
    .with_note(
        "the formatter keeps comments only between automations; move this one above `automation`",
    )
}
