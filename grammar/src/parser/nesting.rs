//! The bracket-nesting bound, checked by one scan of the text before pest recurses into it.
//!
//! Only what pest parses recursively counts: brackets in code (a `.auto` file, an
//! expression, the inside of a `{{ }}` template) and template openings. Brackets in the
//! text of a string literal, in the raw text of a JSON param template, or in a comment are
//! characters like any other: a description such as `"(((..."` nests nothing.

use crate::ast::Span;
use crate::error::ParseError;
use crate::limits::MAX_NESTING;

/// Where a text starts: code (files and expressions) or raw template text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    Code,
    Template,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Bracket,
    /// `{{ ... }}`: counts as two brackets (the grammar's path through a template is
    /// deeper than through a parenthesis).
    Template,
    Quote(u8),
}

impl Frame {
    fn weight(self) -> usize {
        match self {
            Frame::Bracket => 1,
            Frame::Template => 2,
            Frame::Quote(_) => 0,
        }
    }
}

/// Rejects nesting deeper than [`MAX_NESTING`], at the opening that passes it.
pub(crate) fn check_nesting(text: &str, start: Start) -> Result<(), ParseError> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        let mut opened = None;
        match stack.last().copied() {
            Some(Frame::Quote(q)) => match b {
                b'\\' => i += 1,
                b'{' if next == Some(b'{') => opened = Some(Frame::Template),
                _ if b == q => {
                    stack.pop();
                }
                _ => {}
            },
            None if start == Start::Template => {
                if b == b'{' && next == Some(b'{') {
                    opened = Some(Frame::Template);
                }
            }
            top => match b {
                b'#' => i = skip_comment(bytes, i),
                b'/' if next == Some(b'/') => i = skip_comment(bytes, i),
                b'"' | b'\'' => stack.push(Frame::Quote(b)),
                b'}' if next == Some(b'}') && top == Some(Frame::Template) => {
                    stack.pop();
                    depth -= Frame::Template.weight();
                    i += 1;
                }
                b'(' | b'[' | b'{' => opened = Some(Frame::Bracket),
                b')' | b']' | b'}' if top == Some(Frame::Bracket) => {
                    stack.pop();
                    depth -= Frame::Bracket.weight();
                }
                _ => {}
            },
        }
        if let Some(frame) = opened {
            depth += frame.weight();
            if depth > MAX_NESTING {
                return Err(ParseError::custom(
                    Span::new(i, i + 1),
                    format!("brackets nested more than {MAX_NESTING} deep"),
                ));
            }
            stack.push(frame);
            if frame == Frame::Template {
                i += 1;
            }
        }
        i += 1;
    }
    Ok(())
}

/// The index of the line break ending the comment that starts at `i` (or the end).
fn skip_comment(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| i + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_code_brackets_and_templates_count() {
        let deep = "(".repeat(MAX_NESTING + 1);
        let cases = [
            (format!("{deep}1"), Start::Code, false),
            (format!("\"{deep}\""), Start::Code, true),
            (format!("'{deep}' == x"), Start::Code, true),
            (format!("x # {deep}\n"), Start::Code, true),
            (format!("x // {deep}\n"), Start::Code, true),
            (deep.clone(), Start::Template, true),
            (format!("\"{deep}\" {{{{ x }}}}"), Start::Template, true),
            (format!("{{{{ {deep} }}}}"), Start::Template, false),
            (format!("\"{{{{ {deep} }}}}\""), Start::Code, false),
            (format!("\"\\\" {deep}\""), Start::Code, true),
            ("{{ \"".repeat(MAX_NESTING / 2), Start::Template, true),
            ("{{ \"".repeat(MAX_NESTING / 2 + 1), Start::Template, false),
            (
                format!("{}x{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING)),
                Start::Code,
                true,
            ),
        ];
        for (text, start, ok) in cases {
            assert_eq!(check_nesting(&text, start).is_ok(), ok, "{text}");
        }
    }
}
