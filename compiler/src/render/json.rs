//! The JSON diagnostics format of `automations lint --format json` (DESIGN §11):
//! `{"diagnostics":[{file,severity,code,message,line,column,end_line,end_column,suggestion,notes}],"errors":N,"warnings":N}`.
//! Field names and meanings are stable: scripts rely on them.

use serde_json::{Value, json};

use super::{FileDiagnostics, counts, region};
use crate::source::LineIndex;

pub fn render_json_value(files: &[FileDiagnostics]) -> Value {
    let mut diagnostics = Vec::new();
    for f in files {
        let index = LineIndex::new(f.source);
        for d in f.diagnostics {
            let r = region(&index, d);
            diagnostics.push(json!({
                "file": f.file,
                "severity": d.severity.as_str(),
                "code": d.code,
                "message": d.message,
                "line": r.line,
                "column": r.column,
                "end_line": r.end_line,
                "end_column": r.end_column,
                "suggestion": d.suggestion,
                "notes": d.notes,
            }));
        }
    }
    let (errors, warnings) = counts(files);
    json!({ "diagnostics": diagnostics, "errors": errors, "warnings": warnings })
}

/// The JSON object as one line of text.
pub fn render_json(files: &[FileDiagnostics]) -> String {
    render_json_value(files).to_string()
}
