//! SARIF 2.1.0 output: one run of the `automations` tool, a rule per diagnostic code that
//! occurs, a result per diagnostic, and a fix when the diagnostic has a suggestion.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{FileDiagnostics, region};
use crate::codes;
use crate::diagnostic::Severity;
use crate::source::LineIndex;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A short description of each code, for `rules[]`.
fn describe(code: &str) -> &'static str {
    match code {
        codes::SYNTAX => "Syntax error",
        codes::JSON_SHAPE => "Malformed JSON or wrong JSON shape",
        codes::UNKNOWN_DEFINITION_FIELD => "Unknown field in the definition",
        codes::MISSING_PART => "Missing part of the definition",
        codes::INVALID_VALUE => "Invalid value",
        codes::LIMIT_EXCEEDED => "Size limit exceeded",
        codes::UNKNOWN_FIELD => "Unknown field",
        codes::UNKNOWN_OBJECT => "Unknown object",
        codes::UNKNOWN_EVENT => "Unknown event",
        codes::UNKNOWN_ACTION => "Unknown action",
        codes::UNKNOWN_PARAM => "Unknown param",
        codes::UNKNOWN_STEP => "Unknown step",
        codes::DUPLICATE_STEP_ID => "Duplicate step id",
        codes::MISSING_PARAM => "Missing required param",
        codes::UNKNOWN_FUNCTION => "Unknown function",
        codes::STEP_NOT_YET_RUN => "Step referenced before it runs",
        codes::TYPE_MISMATCH => "Type mismatch",
        codes::PICKLIST_VALUE => "Value not in the picklist",
        codes::TEMPLATE_ERROR => "Template error",
        codes::BAD_ARGUMENTS => "Bad function arguments",
        codes::INVALID_REGEX => "Invalid regular expression",
        codes::CHANGED_ON_CREATE => "changed() on a created trigger",
        codes::ALWAYS_TRUE => "Condition always true",
        codes::ALWAYS_FALSE => "Condition always false",
        codes::UNREACHABLE_BRANCH => "Unreachable branch",
        codes::UNUSED_STEP_OUTPUT => "Unused step output",
        codes::DEPRECATED_FIELD => "Deprecated field",
        codes::STATIC_CYCLE => "Automations trigger each other in a cycle",
        codes::UNKNOWN_PLUGIN => "Unknown plugin or plugin version",
        codes::UNKNOWN_PLUGIN_INPUT => "Plugin input property not in the manifest",
        codes::MISSING_PLUGIN_INPUT => "Required plugin input property missing",
        _ => "Diagnostic",
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

pub fn render_sarif_value(files: &[FileDiagnostics]) -> Value {
    let used: BTreeSet<&str> = files
        .iter()
        .flat_map(|f| f.diagnostics.iter().map(|d| d.code))
        .collect();
    let rules: Vec<Value> = used
        .iter()
        .map(|code| json!({ "id": code, "shortDescription": { "text": describe(code) } }))
        .collect();
    let mut results = Vec::new();
    for f in files {
        let index = LineIndex::new(f.source);
        for d in f.diagnostics {
            let r = region(&index, d);
            let sarif_region = json!({
                "startLine": r.line,
                "startColumn": r.column,
                "endLine": r.end_line,
                "endColumn": r.end_column,
            });
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": { "text": d.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file },
                        "region": sarif_region.clone(),
                    }
                }],
            });
            if let Some(s) = &d.suggestion {
                result["fixes"] = json!([{
                    "description": { "text": format!("replace with `{s}`") },
                    "artifactChanges": [{
                        "artifactLocation": { "uri": f.file },
                        "replacements": [{ "deletedRegion": sarif_region, "insertedContent": { "text": s } }],
                    }],
                }]);
            }
            results.push(result);
        }
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "automations",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

pub fn render_sarif(files: &[FileDiagnostics]) -> String {
    serde_json::to_string_pretty(&render_sarif_value(files)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    /// Every stable code declared in `codes.rs` has its own rule description.
    #[test]
    fn every_code_is_described() {
        let source = include_str!("../codes.rs");
        let declared: Vec<&str> = source
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub const "))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        assert!(declared.len() > 20, "{declared:?}");
        for code in declared {
            assert_ne!(
                super::describe(code),
                "Diagnostic",
                "{code} has no description"
            );
        }
    }
}
