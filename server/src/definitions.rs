//! Definitions as the API receives them: JSON (DESIGN §3.1, verbatim) or `text/plain` DSL,
//! checked by the compiler into diagnostics with a JSON pointer (JSON) or line/column (DSL).
//!
//! Every check is against the caller's workspace schema. This is the server's one seam to
//! the compiler: it also hands the runtime its [`DefinitionCompiler`] and
//! [`WorkspaceSchemas`] (both backed by [`SchemaCache`]). It never stores anything itself:
//! custom fields are stored by `SchemaCache` through the runtime's `Store`.

use std::path::Path;
use std::sync::Arc;

use automations_compiler::check::{CheckConfig, PluginCatalog, check_automation_with};
use automations_compiler::codes;
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::json::{parse_json as lower_json_text, to_json};
use automations_compiler::lower_dsl::parse_dsl;
use automations_compiler::print::{dsl_blockers, print_dsl};
use automations_compiler::schema::Schema;
use automations_compiler::sourced::{DiagnosticSource, SourcedDiagnostics};
use automations_runtime::hooks::DefinitionCompiler;
use automations_runtime::model::Actor;
use automations_runtime::schema::{SchemaView, WorkspaceSchemas};
use automations_runtime::store::Store;
use serde_json::Value;

use crate::api::extract::{BodyFormat, TextOrJson, json_error};
use crate::contain::contained;
use crate::error::{ApiDiagnostic, ApiError};
use crate::schemas::SchemaCache;

pub use crate::schemas::SchemaChangeError;

/// The compiler hooks of the engine and the API's view of definitions, per workspace.
#[derive(Clone)]
pub struct Definitions {
    schemas: Arc<SchemaCache>,
}

/// What `POST /automations/validate` reports.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The definition as API JSON, when it could be read at all.
    pub definition: Option<Value>,
    pub diagnostics: Vec<ApiDiagnostic>,
}

/// One definition in both canonical forms (`POST /automations/format`), or why the text
/// cannot be read as one.
#[derive(Debug, Clone)]
pub struct Formatted {
    /// The canonical `.auto` text (what `automations fmt` writes); None when unreadable.
    pub dsl: Option<String>,
    /// The canonical API JSON (what `compile --emit json` prints); None when unreadable.
    pub definition: Option<Value>,
    /// The syntax and shape errors that kept it from being read.
    pub diagnostics: Vec<ApiDiagnostic>,
}

/// A definition the checker accepted (no errors), with its warnings and notes.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub definition: Value,
    pub warnings: Vec<ApiDiagnostic>,
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
    /// Definitions checked against `schema` in every workspace; nothing is loaded.
    pub fn new(schema: Schema) -> Definitions {
        Definitions {
            schemas: Arc::new(SchemaCache::new(schema)),
        }
    }

    /// The built-in CRM schema of DESIGN §4.1 in every workspace.
    pub fn builtin() -> Definitions {
        Definitions::new(Schema::builtin())
    }

    /// The built-in schema plus every workspace's custom fields stored in `store`.
    pub async fn load<S: Store>(store: &S) -> Result<Definitions, SchemaChangeError> {
        Ok(Definitions {
            schemas: Arc::new(SchemaCache::load(Schema::builtin(), store).await?),
        })
    }

    /// Compiles each workspace's definitions against that workspace's schema.
    pub fn compiler(&self) -> Arc<dyn DefinitionCompiler> {
        self.schemas.clone()
    }

    /// Each workspace's schema, for the engine's record validation.
    pub fn schemas(&self) -> Arc<dyn WorkspaceSchemas> {
        self.schemas.clone()
    }

    /// The schema of workspace `ws`.
    pub fn schema_view(&self, ws: &str) -> Arc<dyn SchemaView> {
        self.schemas.get(ws)
    }

    /// The CRM schema of workspace `ws`.
    pub fn schema(&self, ws: &str) -> Arc<Schema> {
        self.schemas.get(ws)
    }

    /// Adds custom objects and fields (`{"objects": {"case": {"fields": {...}}}}`) to
    /// workspace `ws`, stores them (audited as made by `actor`), and swaps its schema.
    /// Existing fields cannot change type.
    pub async fn extend<S: Store>(
        &self,
        store: &S,
        ws: &str,
        extension: &Value,
        actor: &Actor,
    ) -> Result<Value, SchemaChangeError> {
        let schema = self.schemas.extend(store, ws, extension, actor).await?;
        Ok(schema.to_json())
    }

    /// Imports the old server-wide custom schema file into workspace `ws` once (see
    /// [`SchemaCache::import_legacy_file`]).
    pub async fn import_legacy_file<S: Store>(
        &self,
        store: &S,
        ws: &str,
        file: &Path,
    ) -> Result<bool, SchemaChangeError> {
        self.schemas.import_legacy_file(store, ws, file).await
    }

    /// Reads and checks a definition body against the schema of workspace `ws` and, when
    /// given, its plugins (unknown plugin, input against the manifest's input schema).
    /// Malformed JSON and a body that is not an object are 400s; everything the compiler
    /// finds is in the report. The body is untrusted: it is checked on a thread of its
    /// own where a failure is contained (`crate::contain`).
    pub async fn check(
        &self,
        ws: &str,
        body: &TextOrJson,
        plugins: Option<PluginCatalog>,
    ) -> Result<CheckReport, ApiError> {
        let schema = self.schemas.get(ws);
        let body = body.clone();
        contained(move || {
            let config = CheckConfig {
                plugins: plugins.as_ref(),
            };
            match body.format {
                BodyFormat::Json => check_json(&schema, &body.text, &config),
                BodyFormat::Dsl => Ok(check_dsl(&schema, &body.text, &config)),
            }
        })
        .await
    }

    /// The definition JSON to store with the checker's warnings, or 422 with every
    /// diagnostic.
    pub async fn read(
        &self,
        ws: &str,
        body: &TextOrJson,
        plugins: Option<PluginCatalog>,
    ) -> Result<Accepted, ApiError> {
        let report = self.check(ws, body, plugins).await?;
        match report.definition {
            Some(definition) if report.errors() == 0 => Ok(Accepted {
                definition,
                warnings: report.diagnostics,
            }),
            _ => Err(ApiError::unprocessable(
                "invalid_definition",
                format!("the definition has {} error(s)", report.errors().max(1)),
                report.diagnostics,
            )),
        }
    }
}

/// Both canonical forms of one definition body, JSON or DSL. Only syntax and shape are
/// checked (as `fmt` does): names and types are `validate`'s business, so a definition
/// with a typo still shows as text. Malformed JSON is a 400; a body that does not parse
/// or lower, or holds other than one automation, answers its diagnostics (as `validate`
/// does: an editor asks while the user types, so an unreadable text is no failed request).
pub fn format(body: &TextOrJson) -> Result<Formatted, ApiError> {
    let (automations, diagnostics, source) = match body.format {
        BodyFormat::Json => {
            let value: Value = serde_json::from_str(&body.text).map_err(|e| json_error(&e))?;
            if !value.is_object() {
                return Err(ApiError::bad_request(
                    "invalid_body",
                    "a definition must be a JSON object",
                ));
            }
            let (automations, _, diagnostics) = lower_json_text(&body.text);
            (automations, diagnostics, DiagnosticSource::json(&body.text))
        }
        BodyFormat::Dsl => {
            let (automations, diagnostics) = parse_dsl(&body.text);
            (automations, diagnostics, DiagnosticSource::dsl(&body.text))
        }
    };
    let mut errors: Vec<ApiDiagnostic> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| ApiDiagnostic::from_compiler(d, &source))
        .collect();
    // Names JSON allows but the DSL cannot write (an action type `send-email`): an error
    // at the name rather than DSL text that would not parse.
    if errors.is_empty() {
        errors.extend(
            automations
                .iter()
                .flat_map(dsl_blockers)
                .map(|d| ApiDiagnostic::from_compiler(&d, &source)),
        );
    }
    if errors.is_empty() && automations.len() != 1 {
        let message = if automations.is_empty() {
            "the text holds no automation"
        } else {
            "send one automation per request"
        };
        errors.push(ApiDiagnostic::error(codes::MISSING_PART, message));
    }
    Ok(match automations.as_slice() {
        [automation] if errors.is_empty() => Formatted {
            dsl: Some(print_dsl(std::slice::from_ref(automation))),
            definition: Some(to_json(automation)),
            diagnostics: Vec::new(),
        },
        _ => Formatted {
            dsl: None,
            definition: None,
            diagnostics: errors,
        },
    })
}

fn check_json(
    schema: &Schema,
    text: &str,
    config: &CheckConfig<'_>,
) -> Result<CheckReport, ApiError> {
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "a definition must be a JSON object",
        ));
    }
    let (automations, _, mut diagnostics) = lower_json_text(text);
    if let Some(automation) = automations.first() {
        diagnostics.extend(check_automation_with(automation, schema, config).1);
    }
    let sourced = SourcedDiagnostics::new(DiagnosticSource::json(text), diagnostics);
    Ok(CheckReport {
        definition: Some(value),
        diagnostics: ApiDiagnostic::all(&sourced),
    })
}

fn check_dsl(schema: &Schema, text: &str, config: &CheckConfig<'_>) -> CheckReport {
    let (automations, mut diagnostics) = parse_dsl(text);
    let mut extra = Vec::new();
    let definition = match automations.as_slice() {
        [automation] => {
            diagnostics.extend(check_automation_with(automation, schema, config).1);
            Some(to_json(automation))
        }
        [] if diagnostics.iter().any(Diagnostic::is_error) => None,
        [] => {
            extra.push(ApiDiagnostic::error(
                codes::MISSING_PART,
                "the text holds no automation",
            ));
            None
        }
        _ => {
            extra.push(ApiDiagnostic::error(
                codes::MISSING_PART,
                "send one automation per request",
            ));
            None
        }
    };
    let sourced = SourcedDiagnostics::new(DiagnosticSource::dsl(text), diagnostics);
    let mut diagnostics = ApiDiagnostic::all(&sourced);
    diagnostics.extend(extra);
    CheckReport {
        definition,
        diagnostics,
    }
}
