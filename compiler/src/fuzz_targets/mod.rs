//! The properties the fuzz targets check, as plain functions over bytes.
//!
//! `fuzz/` (its own cargo workspace, run with cargo-fuzz: `scripts/fuzz TARGET SECONDS`)
//! hands every generated input to one of these functions; the compiler's integration test
//! `fuzz_corpus` replays the committed corpora (`fuzz/corpus/<target>/`) through the SAME
//! functions, so every input the fuzzer once kept, and every crash it found, is checked
//! by `cargo test` in CI.
//!
//! A function returns normally when its properties hold and panics (with the input and
//! what differed) when one does not: a panic is how both libFuzzer and the test harness
//! see a failure. Inputs that are not UTF-8 are read lossily, so no input is wasted.
//!
//! - [`dsl`]: the `.auto` parser and the whole DSL pipeline (lower, check, render the
//!   diagnostics), and `fmt` (its canonical text is a fixed point and means the same).
//! - [`json`]: the JSON definition loader, the same way, plus JSON -> DSL -> JSON.
//! - [`condition`]: a condition checked against the built-in schema, then evaluated by
//!   the compiled evaluator and the reference evaluator on several records: any
//!   difference (value, bool, explanation) is a failure.
//! - [`template`]: a template string as a step param, rendered by both evaluators, within
//!   and without an output cap.

mod condition;
mod dsl;
mod json;
mod records;
mod template;

pub use condition::condition;
pub use dsl::dsl;
pub use json::json;
pub use template::template;

use std::sync::{Arc, OnceLock};

use crate::diagnostic::Diagnostic;
use crate::render::{FileDiagnostics, RenderConfig, render_human, render_json, render_sarif};
use crate::schema::Schema;
use crate::sourced::DiagnosticSource;

/// The names of the targets, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`.
pub const TARGETS: [&str; 4] = ["dsl", "json", "condition", "template"];

/// Runs the target called `name` on `data`; `false` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "dsl" => dsl(data),
        "json" => json(data),
        "condition" => condition(data),
        "template" => template(data),
        _ => return false,
    }
    true
}

/// The built-in schema, built once per process (building it costs more than a small input).
fn schema() -> Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| Arc::new(Schema::builtin())).clone()
}

/// `data` as text: lossily, so that every input exercises the parsers.
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The first line of `text` and the rest after it.
fn first_line(text: &str) -> (&str, &str) {
    text.split_once('\n').unwrap_or((text, ""))
}

/// Every diagnostic points inside `text` at char boundaries, can be placed (line, column,
/// JSON pointer) and rendered by every renderer without panicking.
fn diagnostics_are_placeable(text: &str, diagnostics: &[Diagnostic], is_json: bool) {
    for d in diagnostics {
        let spans = std::iter::once(d.span).chain(d.labels.iter().map(|l| l.span));
        for span in spans {
            let (start, end) = (span.start as usize, span.end as usize);
            assert!(
                start <= end && end <= text.len(),
                "diagnostic {} `{}` has span {start}..{end} outside a text of {} bytes",
                d.code,
                d.message,
                text.len()
            );
            assert!(
                text.is_char_boundary(start) && text.is_char_boundary(end),
                "diagnostic {} `{}` has span {start}..{end} inside a character",
                d.code,
                d.message
            );
        }
    }
    let source = if is_json {
        DiagnosticSource::json(text)
    } else {
        DiagnosticSource::dsl(text)
    };
    for d in diagnostics {
        let _ = source.place(d);
    }
    let files = [FileDiagnostics {
        file: "<fuzz>",
        source: text,
        diagnostics,
    }];
    let _ = render_human(&files, RenderConfig::default());
    let _ = render_json(&files);
    let _ = render_sarif(&files);
}
