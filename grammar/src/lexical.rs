//! A light lexical scan of `.auto` and expression text: where comments are, and which
//! brackets are still open at a position. Strings (with their `{{ }}` templates) are
//! skipped as the grammar reads them, so a `#` or `(` inside a string counts for nothing.
//!
//! Used where the parse tree cannot help: comments are not in the AST (the formatter
//! keeps them from here) and a failed parse has no tree (syntax errors name the bracket
//! left open). It never validates anything and never panics.

use crate::ast::Span;

/// Byte spans of every comment (`# ...` or `// ...`, up to the end of the line, without
/// the line break), in order.
pub fn comments(text: &str) -> Vec<Span> {
    let mut scan = Scan::default();
    scan.run(text, text.len());
    scan.comments
}

/// The innermost bracket (`(`, `[` or `{`) opened before `pos` and not closed by then,
/// with its offset; `None` when every bracket is closed or `pos` is inside a string.
pub fn open_bracket_at(text: &str, pos: usize) -> Option<(usize, char)> {
    let mut scan = Scan::default();
    scan.run(text, pos.min(text.len()));
    if scan.modes.last().is_some_and(|m| matches!(m, Mode::Str(_))) {
        return None;
    }
    scan.brackets.last().copied()
}

/// The closing bracket of an opening one.
pub fn closer_of(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Inside a string quoted by this char.
    Str(char),
    /// Inside `{{ ... }}` of a string.
    Template,
}

#[derive(Default)]
struct Scan {
    /// Nested strings and templates; empty at top level.
    modes: Vec<Mode>,
    /// Open brackets outside strings (templates included), innermost last.
    brackets: Vec<(usize, char)>,
    comments: Vec<Span>,
}

impl Scan {
    fn run(&mut self, text: &str, end: usize) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < end {
            let c = bytes[i];
            let next = bytes.get(i + 1).copied();
            i += match self.modes.last().copied() {
                Some(Mode::Str(q)) => self.in_string(c, next, q),
                _ => self.in_code(text, i, c, next),
            };
        }
    }

    /// Reads at a byte of a string; returns how many bytes were consumed.
    fn in_string(&mut self, c: u8, next: Option<u8>, quote: char) -> usize {
        match (c, next) {
            (b'\\', Some(_)) => 2,
            (b'{', Some(b'{')) => {
                self.modes.push(Mode::Template);
                2
            }
            _ if c as char == quote => {
                self.modes.pop();
                1
            }
            _ => 1,
        }
    }

    /// Reads at a byte of code (top level or a template).
    fn in_code(&mut self, text: &str, i: usize, c: u8, next: Option<u8>) -> usize {
        let in_template = self.modes.last() == Some(&Mode::Template);
        match (c, next) {
            (b'}', Some(b'}')) if in_template => {
                self.modes.pop();
                2
            }
            (b'"' | b'\'', _) => {
                self.modes.push(Mode::Str(c as char));
                1
            }
            (b'#', _) | (b'/', Some(b'/')) if !in_template => {
                let len = text[i..].find('\n').unwrap_or(text.len() - i);
                self.comments.push(Span::new(i, i + len));
                len
            }
            (b'(' | b'[' | b'{', _) => {
                self.brackets.push((i, c as char));
                1
            }
            (b')' | b']' | b'}', _) => {
                self.brackets.pop();
                1
            }
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_outside_strings() {
        let text = "a # one\n\"x # not\" // two\n'//' b";
        let found: Vec<&str> = comments(text).iter().map(|s| &text[s.range()]).collect();
        assert_eq!(found, vec!["# one", "// two"]);
    }

    #[test]
    fn innermost_open_bracket() {
        let text = "f(a, [1, 2], \"(\" , x";
        assert_eq!(open_bracket_at(text, text.len()), Some((1, '(')));
        assert_eq!(open_bracket_at("(a)", 3), None);
        assert_eq!(open_bracket_at("\"{{ (a }}\" (", 12), Some((11, '(')));
        assert_eq!(open_bracket_at("\"abc", 4), None);
    }
}
