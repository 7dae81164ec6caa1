//! The fast path: a hand-written recursive-descent parser of valid text, tried before pest.
//!
//! pest spends thousands of instructions per clause of a condition (ordered choice through
//! every kind of primary, error tracking on every rule), which made a generated condition of
//! 20,000 clauses take about a second. This parser reads the same language in one pass
//! with no backtracking and builds the same [`crate::ast`] nodes, spans included.
//!
//! It is a shortcut, not a second definition of the language: it answers `None` whenever
//! it is not sure (any syntax error, any limit of [`crate::limits`] passed, any construct it
//! does not know), and the caller then runs pest, whose answer (the tree or the diagnostic)
//! is the reference. Its one obligation is that a `Some` tree equals what the pest path
//! builds; the grammar's differential tests check that on every corpus and on random text.
//! At every choice it takes the alternative pest takes first, and it stops where pest's
//! repetitions stop, so whenever both succeed they read the same tree.

mod dsl;
mod expr;

pub(crate) use dsl::file;
pub(crate) use expr::expr_only;

use crate::ast::Span;

/// A position in the text being read; every method returns `None` rather than guess.
pub(crate) struct Cursor<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'t> Cursor<'t> {
    pub(crate) fn new(text: &'t str) -> Cursor<'t> {
        Cursor {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.bytes[self.pos..].starts_with(s.as_bytes())
    }

    /// Skips what the grammar's `WHITESPACE` and `COMMENT` rules match.
    fn skip(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(0xEF) if self.starts_with("\u{FEFF}") => self.pos += 3,
                Some(b'#') => self.skip_comment(),
                Some(b'/') if self.peek_at(1) == Some(b'/') => self.skip_comment(),
                _ => return,
            }
        }
    }

    fn skip_comment(&mut self) {
        self.pos = self.bytes[self.pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.bytes.len(), |n| self.pos + n);
    }

    /// The word (`ident_start ident_char*`) at the cursor, not consumed.
    fn word(&self) -> Option<&'t str> {
        if !is_ident_start(self.peek()?) {
            return None;
        }
        let len = self.bytes[self.pos..]
            .iter()
            .position(|&b| !is_ident_char(b))
            .unwrap_or(self.bytes.len() - self.pos);
        Some(&self.text[self.pos..self.pos + len])
    }

    /// Whether the word at the cursor is exactly `w` (a keyword rule: `w ~ !ident_char`).
    fn at_word(&self, w: &str) -> bool {
        self.word() == Some(w)
    }

    /// Consumes the word at the cursor; returns it with its span.
    fn take_word(&mut self) -> Option<(&'t str, Span)> {
        let w = self.word()?;
        let start = self.pos;
        self.pos += w.len();
        Some((w, Span::new(start, self.pos)))
    }

    /// Consumes `b` (after trivia) or fails; returns the end of the token.
    fn expect(&mut self, b: u8) -> Option<usize> {
        self.skip();
        if self.peek() != Some(b) {
            return None;
        }
        self.pos += 1;
        Some(self.pos)
    }

    /// The byte after the trivia that follows the cursor, without moving.
    fn peek_after_trivia(&mut self) -> Option<u8> {
        let saved = self.pos;
        self.skip();
        let b = self.peek();
        self.pos = saved;
        b
    }
}
