//! Definitions as the API receives them: JSON (DESIGN §3.1, verbatim) or `text/plain` DSL,
//! checked by the compiler into diagnostics with a JSON pointer (JSON) or line/column (DSL).
//!
//! This is the server's one seam to the compiler: it also hands the runtime its
//! [`DefinitionCompiler`] and [`SchemaView`]. It never stores anything.

use std::sync::Arc;

use automations_compiler::check::check_automation;
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::json::{JsonSourceMap, parse_json as lower_json_text, to_json};
use automations_compiler::lower_dsl::parse_dsl;
use automations_compiler::schema::Schema;
use automations_compiler::source::LineIndex;
use automations_runtime::compiler_glue::CompilerFrontend;
use automations_runtime::hooks::DefinitionCompiler;
use automations_runtime::schema::SchemaView;
use serde_json::Value;

use crate::api::extract::{BodyFormat, TextOrJson, json_error};
use crate::error::{ApiDiagnostic, ApiError};

/// The compiler hooks of the engine and the API's view of definitions.
#[derive(Clone)]
pub struct Definitions {
    schema: Arc<Schema>,
    compiler: Arc<dyn DefinitionCompiler>,
}

/// What `POST /automations/validate` reports.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The definition as API JSON, when it could be read at all.
    pub definition: Option<Value>,
    pub diagnostics: Vec<ApiDiagnostic>,
}

impl CheckReport {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == "error")
            .count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == "warning")
            .count()
    }
}

impl Definitions {
    /// Definitions checked against `schema`.
    pub fn new(schema: Schema) -> Definitions {
        let schema = Arc::new(schema);
        Definitions {
            compiler: Arc::new(CompilerFrontend::new(schema.clone())),
            schema,
        }
    }

    /// The built-in CRM schema of DESIGN §4.1.
    pub fn builtin() -> Definitions {
        Definitions::new(Schema::builtin())
    }

    pub fn compiler(&self) -> Arc<dyn DefinitionCompiler> {
        self.compiler.clone()
    }

    pub fn schema_view(&self) -> Arc<dyn SchemaView> {
        self.schema.clone()
    }

    /// The CRM schema as JSON (`GET /schema`).
    pub fn schema_json(&self) -> Value {
        self.schema.to_json()
    }

    /// Reads and checks a definition body. Malformed JSON and a body that is not an object
    /// are 400s; everything the compiler finds is in the report.
    pub fn check(&self, body: &TextOrJson) -> Result<CheckReport, ApiError> {
        match body.format {
            BodyFormat::Json => self.check_json(&body.text),
            BodyFormat::Dsl => Ok(self.check_dsl(&body.text)),
        }
    }

    fn check_json(&self, text: &str) -> Result<CheckReport, ApiError> {
        let value: Value = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        if !value.is_object() {
            return Err(ApiError::bad_request(
                "invalid_body",
                "a definition must be a JSON object",
            ));
        }
        let (automations, map, mut diagnostics) = lower_json_text(text);
        if let Some(automation) = automations.first() {
            diagnostics.extend(check_automation(automation, &self.schema).1);
        }
        let index = LineIndex::new(text);
        let diagnostics = diagnostics
            .iter()
            .map(|d| json_diagnostic(d, &map, &index))
            .collect();
        Ok(CheckReport {
            definition: Some(value),
            diagnostics,
        })
    }

    fn check_dsl(&self, text: &str) -> CheckReport {
        let (automations, mut diagnostics) = parse_dsl(text);
        let index = LineIndex::new(text);
        let mut extra = Vec::new();
        let definition = match automations.as_slice() {
            [automation] => {
                diagnostics.extend(check_automation(automation, &self.schema).1);
                Some(to_json(automation))
            }
            [] if diagnostics.iter().any(Diagnostic::is_error) => None,
            [] => {
                extra.push(ApiDiagnostic::error(
                    "E0004",
                    "the text holds no automation",
                ));
                None
            }
            _ => {
                extra.push(ApiDiagnostic::error(
                    "E0004",
                    "send one automation per request",
                ));
                None
            }
        };
        let mut diagnostics: Vec<ApiDiagnostic> = diagnostics
            .iter()
            .map(|d| dsl_diagnostic(d, &index))
            .collect();
        diagnostics.extend(extra);
        CheckReport {
            definition,
            diagnostics,
        }
    }

    /// The definition JSON to store, or 422 with every diagnostic.
    pub fn read(&self, body: &TextOrJson) -> Result<Value, ApiError> {
        let report = self.check(body)?;
        match report.definition {
            Some(definition) if report.errors() == 0 => Ok(definition),
            _ => Err(ApiError::unprocessable(
                "invalid_definition",
                format!("the definition has {} error(s)", report.errors().max(1)),
                report.diagnostics,
            )),
        }
    }
}

fn base_diagnostic(d: &Diagnostic) -> ApiDiagnostic {
    let mut out = ApiDiagnostic::error(d.code, d.message.clone());
    out.severity = d.severity.as_str().to_string();
    out.suggestion = d.suggestion.clone();
    out.notes = d.notes.clone();
    out
}

fn with_region(mut out: ApiDiagnostic, d: &Diagnostic, index: &LineIndex) -> ApiDiagnostic {
    let start = index.line_col(d.span.start as usize);
    let end = index.line_col(d.span.end as usize);
    out.line = Some(start.line);
    out.column = Some(start.column);
    out.end_line = Some(end.line);
    out.end_column = Some(end.column);
    out
}

/// JSON input: the pointer of the value at fault, and its line/column in the body.
fn json_diagnostic(d: &Diagnostic, map: &JsonSourceMap, index: &LineIndex) -> ApiDiagnostic {
    let mut out = with_region(base_diagnostic(d), d, index);
    out.pointer = Some(map.pointer_at(d.span).unwrap_or_default());
    out
}

/// DSL input: line and column.
fn dsl_diagnostic(d: &Diagnostic, index: &LineIndex) -> ApiDiagnostic {
    with_region(base_diagnostic(d), d, index)
}
