//! The one call from source text to checked automations, shared by the CLI (`lint`, `fmt`,
//! `compile`, `eval`) and the server, so that every entry point reports the same
//! diagnostics for the same text.
//!
//! DSL text is parsed and lowered by [`crate::lower_dsl`], JSON by [`crate::json`]; both
//! are then checked against a [`Schema`]. This module only wires the passes together: it
//! must never print, read files or decide exit codes.

mod comments;
mod condition;
mod condition_set;

use crate::check::{CheckConfig, CheckedAutomation, check_owned_automation};
use crate::diagnostic::Diagnostic;
use crate::ir;
use crate::json::{self, JsonSourceMap};
use crate::lower_dsl;
use crate::schema::Schema;

pub use condition::{Condition, ConditionCompiler, ConditionInput, Slots, compile_condition};
pub use condition_set::ConditionSet;

/// Which front end reads a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `.auto` text.
    Dsl,
    /// The API's JSON: one automation object or an array of them.
    Json,
}

/// A definition text and the name it is reported under (a path, `<stdin>`, `<body>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    pub kind: SourceKind,
}

impl SourceFile {
    pub fn new(name: String, text: String, is_json: bool) -> SourceFile {
        let kind = if is_json {
            SourceKind::Json
        } else {
            SourceKind::Dsl
        };
        SourceFile { name, text, kind }
    }
}

/// The result of compiling one source text.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// Every automation that could be lowered, checked (runnable only without errors).
    pub automations: Vec<CheckedAutomation>,
    /// All diagnostics of every pass, sorted by position in the text.
    pub diagnostics: Vec<Diagnostic>,
    /// Where each JSON value is in the text (JSON sources only), for JSON pointers.
    pub json_map: Option<JsonSourceMap>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, lowers and checks every automation of `src` against `schema`.
pub fn compile_source(src: &SourceFile, schema: &Schema) -> Compiled {
    let (automations, mut diagnostics, json_map) = lower(src);
    let lowering_errors: Vec<ir::Span> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.span)
        .collect();
    let mut checked = Vec::with_capacity(automations.len());
    for automation in automations {
        let (c, diags) = check_owned_automation(automation, schema, &CheckConfig::default());
        // A part that failed to lower (a missing trigger, a condition that did not parse)
        // was replaced by a placeholder; what the checker says about it is noise.
        diagnostics.extend(
            diags
                .into_iter()
                .filter(|d| !is_cascade(d, &c.automation, &lowering_errors)),
        );
        checked.push(c);
    }
    sort_by_position(&mut diagnostics);
    Compiled {
        automations: checked,
        diagnostics,
        json_map,
    }
}

/// The canonical text of `src` (what `automations fmt` writes): DSL through the DSL
/// printer, JSON through the JSON printer. `Err` only when the text does not parse or
/// lower (syntax and shape errors); names and types are not checked.
pub fn canonical_text(src: &SourceFile) -> Result<String, Vec<Diagnostic>> {
    let (automations, mut diagnostics, _) = lower(src);
    if diagnostics.iter().any(Diagnostic::is_error) {
        sort_by_position(&mut diagnostics);
        return Err(diagnostics);
    }
    match src.kind {
        SourceKind::Json => Ok(format!("{}\n", json::to_json_text(&automations))),
        SourceKind::Dsl => Ok(comments::print_keeping_comments(&src.text, &automations)),
    }
}

fn lower(src: &SourceFile) -> (Vec<ir::Automation>, Vec<Diagnostic>, Option<JsonSourceMap>) {
    match src.kind {
        SourceKind::Dsl => {
            let (automations, diagnostics) = lower_dsl::parse_dsl(&src.text);
            (automations, diagnostics, None)
        }
        SourceKind::Json => {
            let (automations, map, diagnostics) = json::parse_json(&src.text);
            (automations, diagnostics, Some(map))
        }
    }
}

/// A checker diagnostic caused by an earlier lowering error: it overlaps the error's
/// span, or it is about the empty event of an automation whose trigger is missing.
fn is_cascade(d: &Diagnostic, automation: &ir::Automation, lowering_errors: &[ir::Span]) -> bool {
    let overlaps = |s: &ir::Span| {
        d.span.start < s.end.max(s.start + 1) && s.start < d.span.end.max(d.span.start + 1)
    };
    lowering_errors.iter().any(overlaps)
        || (automation.trigger.event.is_empty() && d.span == automation.trigger.span)
}

fn sort_by_position(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
}
