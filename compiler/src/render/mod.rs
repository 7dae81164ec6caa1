//! Rendering diagnostics for people and tools: `human` (codespan-reporting snippets with
//! carets, optional colour), `json` (the `automations lint --format json` object of
//! DESIGN §11) and `sarif` (SARIF 2.1.0 for code-scanning UIs).
//!
//! Renderers only format: they never decide what is an error, never print and never exit.
//! Lines and columns come from `crate::source::LineIndex` (1-based, columns in chars).

mod human;
mod json;
mod sarif;

use crate::diagnostic::Diagnostic;
use crate::source::LineIndex;

pub use human::render_human;
pub use json::{render_json, render_json_value};
pub use sarif::{render_sarif, render_sarif_value};

/// The diagnostics of one source text.
#[derive(Debug, Clone, Copy)]
pub struct FileDiagnostics<'a> {
    /// Name shown to the user and used as the SARIF artifact URI (a path or `<stdin>`).
    pub file: &'a str,
    pub source: &'a str,
    pub diagnostics: &'a [Diagnostic],
}

/// How human output looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderConfig {
    /// ANSI colours (the caller decides, e.g. when stdout is a TTY).
    pub color: bool,
}

/// 1-based start and end (end exclusive: the column just after the span) of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

pub(crate) fn region(index: &LineIndex, d: &Diagnostic) -> Region {
    let start = index.line_col(d.span.start as usize);
    let end = index.line_col(d.span.end as usize);
    Region {
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

/// Number of errors and warnings over all files.
pub fn counts(files: &[FileDiagnostics]) -> (usize, usize) {
    let all = files.iter().flat_map(|f| f.diagnostics.iter());
    all.fold((0, 0), |(e, w), d| match d.severity {
        crate::diagnostic::Severity::Error => (e + 1, w),
        crate::diagnostic::Severity::Warning => (e, w + 1),
        crate::diagnostic::Severity::Note => (e, w),
    })
}
