//! Diagnostics together with the text they point into, so that they can travel (through the
//! runtime's hooks and errors, to the server) and still be placed by whoever shows them:
//! line and column for DSL text, line, column and a JSON pointer for JSON text.
//!
//! This is data and lookup only; each output format has its one renderer elsewhere
//! (`crate::render` for the CLI, the server's API diagnostic for HTTP).

use crate::diagnostic::Diagnostic;
use crate::ir::Span;
use crate::json::JsonSourceMap;
use crate::source::LineIndex;

/// The text a definition's diagnostics point into.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum DiagnosticSource {
    /// No text: diagnostics about several automations (static cycles, W0307).
    #[default]
    None,
    Dsl(LineIndex),
    Json {
        index: LineIndex,
        map: JsonSourceMap,
    },
}

/// Where a diagnostic sits in its source (lines and columns 1-based, end exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// RFC 6901 pointer of the innermost JSON value holding the span (JSON only).
    pub pointer: Option<String>,
}

impl DiagnosticSource {
    pub fn dsl(text: &str) -> DiagnosticSource {
        DiagnosticSource::Dsl(LineIndex::new(text))
    }

    pub fn json(text: &str) -> DiagnosticSource {
        DiagnosticSource::Json {
            index: LineIndex::new(text),
            map: JsonSourceMap::scan(text),
        }
    }

    /// The place of `d` in this source; `None` without a source.
    pub fn place(&self, d: &Diagnostic) -> Option<Place> {
        self.place_span(d.span)
    }

    /// The place of any span of this source (a diagnostic's, a label's).
    pub fn place_span(&self, span: Span) -> Option<Place> {
        let index = match self {
            DiagnosticSource::None => return None,
            DiagnosticSource::Dsl(index) | DiagnosticSource::Json { index, .. } => index,
        };
        let start = index.line_col(span.start as usize);
        let end = index.line_col(span.end as usize);
        let pointer = match self {
            DiagnosticSource::Json { map, .. } => Some(map.pointer_at(span).unwrap_or_default()),
            _ => None,
        };
        Some(Place {
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            pointer,
        })
    }
}

/// Diagnostics and the source they point into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourcedDiagnostics {
    pub source: DiagnosticSource,
    pub diagnostics: Vec<Diagnostic>,
}

impl SourcedDiagnostics {
    pub fn new(source: DiagnosticSource, diagnostics: Vec<Diagnostic>) -> SourcedDiagnostics {
        SourcedDiagnostics {
            source,
            diagnostics,
        }
    }

    /// Diagnostics with no source text.
    pub fn unplaced(diagnostics: Vec<Diagnostic>) -> SourcedDiagnostics {
        SourcedDiagnostics::new(DiagnosticSource::None, diagnostics)
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Each diagnostic with its source, to be placed.
    pub fn iter(&self) -> impl Iterator<Item = (&Diagnostic, &DiagnosticSource)> {
        self.diagnostics.iter().map(|d| (d, &self.source))
    }
}
