//! Definitions as the API receives them: JSON (DESIGN §3.1, verbatim) or `text/plain` DSL,
//! checked by the compiler into diagnostics with a JSON pointer (JSON) or line/column (DSL).
//!
//! This is the server's one seam to the compiler: it also hands the runtime its
//! [`DefinitionCompiler`] and [`SchemaView`]. It never stores anything.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use automations_compiler::check::{CheckConfig, PluginCatalog, check_automation_with};
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::json::{JsonSourceMap, parse_json as lower_json_text, to_json};
use automations_compiler::lower_dsl::parse_dsl;
use automations_compiler::schema::{Schema, SchemaError};
use automations_compiler::source::LineIndex;
use automations_runtime::compiler_glue::CompilerFrontend;
use automations_runtime::hooks::{CompiledDefinition, DefinitionCompiler};
use automations_runtime::schema::SchemaView;
use serde_json::Value;

use crate::api::extract::{BodyFormat, TextOrJson, json_error};
use crate::error::{ApiDiagnostic, ApiError};

/// The compiler hooks of the engine and the API's view of definitions.
#[derive(Clone)]
pub struct Definitions {
    live: Arc<LiveSchema>,
}

/// The current schema (built-in plus custom fields), swapped whole when fields are added,
/// and where its custom part is kept across restarts.
struct LiveSchema {
    current: RwLock<Arc<Schema>>,
    /// The custom part in the shape of `Schema::extend_from_json_str`, accumulated.
    custom: Mutex<Value>,
    file: Option<PathBuf>,
}

impl LiveSchema {
    fn get(&self) -> Arc<Schema> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl SchemaView for LiveSchema {
    fn has_object(&self, object: &str) -> bool {
        SchemaView::has_object(self.get().as_ref(), object)
    }
    fn field_type(&self, object: &str, field: &str) -> Option<automations_compiler::typed::Type> {
        SchemaView::field_type(self.get().as_ref(), object, field)
    }
}

impl DefinitionCompiler for LiveSchema {
    fn compile(&self, definition: &Value) -> automations_runtime::Result<CompiledDefinition> {
        CompilerFrontend::new(self.get()).compile(definition)
    }
}

/// Why custom fields could not be added.
#[derive(Debug, thiserror::Error)]
pub enum SchemaChangeError {
    #[error("{0}")]
    Invalid(#[from] SchemaError),
    #[error("cannot save the custom schema: {0}")]
    Io(#[from] std::io::Error),
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
    /// Definitions checked against `schema`; custom fields are not saved.
    pub fn new(schema: Schema) -> Definitions {
        let live = LiveSchema {
            current: RwLock::new(Arc::new(schema)),
            custom: Mutex::new(serde_json::json!({"objects": {}})),
            file: None,
        };
        Definitions {
            live: Arc::new(live),
        }
    }

    /// The built-in CRM schema of DESIGN §4.1.
    pub fn builtin() -> Definitions {
        Definitions::new(Schema::builtin())
    }

    /// The built-in schema plus the custom fields saved in `file` (created on first add).
    pub fn with_custom_file(file: PathBuf) -> Result<Definitions, SchemaChangeError> {
        let mut schema = Schema::builtin();
        let custom = match std::fs::read_to_string(&file) {
            Ok(text) => {
                schema.extend_from_json_str(&text)?;
                serde_json::from_str(&text).map_err(|e| SchemaError::Json(e.to_string()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                serde_json::json!({"objects": {}})
            }
            Err(e) => return Err(e.into()),
        };
        let live = LiveSchema {
            current: RwLock::new(Arc::new(schema)),
            custom: Mutex::new(custom),
            file: Some(file),
        };
        Ok(Definitions {
            live: Arc::new(live),
        })
    }

    pub fn compiler(&self) -> Arc<dyn DefinitionCompiler> {
        self.live.clone()
    }

    pub fn schema_view(&self) -> Arc<dyn SchemaView> {
        self.live.clone()
    }

    /// The CRM schema as JSON (`GET /schema`).
    pub fn schema_json(&self) -> Value {
        self.live.get().to_json()
    }

    /// Adds custom objects and fields (`{"objects": {"case": {"fields": {...}}}}`), saves
    /// them, and swaps the schema in. Existing fields cannot change type.
    pub fn extend(&self, extension: &Value) -> Result<Value, SchemaChangeError> {
        let mut custom = self.live.custom.lock().unwrap_or_else(|p| p.into_inner());
        let mut schema = (*self.live.get()).clone();
        schema.extend_from_json_str(&extension.to_string())?;
        let mut merged = custom.clone();
        merge_objects(&mut merged, extension);
        if let Some(file) = &self.live.file {
            let tmp = file.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&merged).unwrap_or_default())?;
            std::fs::rename(&tmp, file)?;
        }
        *custom = merged;
        *self.live.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(schema);
        Ok(self.schema_json())
    }

    /// Reads and checks a definition body. Malformed JSON and a body that is not an object
    /// are 400s; everything the compiler finds is in the report.
    pub fn check(&self, body: &TextOrJson) -> Result<CheckReport, ApiError> {
        self.check_with(body, None)
    }

    /// [`Self::check`] with the workspace's plugins: `plugin` steps are checked against
    /// them (unknown plugin, input against the manifest's input schema).
    pub fn check_with(
        &self,
        body: &TextOrJson,
        plugins: Option<&PluginCatalog>,
    ) -> Result<CheckReport, ApiError> {
        let config = CheckConfig { plugins };
        match body.format {
            BodyFormat::Json => self.check_json(&body.text, &config),
            BodyFormat::Dsl => Ok(self.check_dsl(&body.text, &config)),
        }
    }

    fn check_json(&self, text: &str, config: &CheckConfig<'_>) -> Result<CheckReport, ApiError> {
        let value: Value = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        if !value.is_object() {
            return Err(ApiError::bad_request(
                "invalid_body",
                "a definition must be a JSON object",
            ));
        }
        let (automations, map, mut diagnostics) = lower_json_text(text);
        if let Some(automation) = automations.first() {
            diagnostics.extend(check_automation_with(automation, &self.live.get(), config).1);
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

    fn check_dsl(&self, text: &str, config: &CheckConfig<'_>) -> CheckReport {
        let (automations, mut diagnostics) = parse_dsl(text);
        let index = LineIndex::new(text);
        let mut extra = Vec::new();
        let definition = match automations.as_slice() {
            [automation] => {
                diagnostics.extend(check_automation_with(automation, &self.live.get(), config).1);
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
        self.read_with(body, None)
    }

    /// [`Self::read`] with the workspace's plugins (see [`Self::check_with`]).
    pub fn read_with(
        &self,
        body: &TextOrJson,
        plugins: Option<&PluginCatalog>,
    ) -> Result<Value, ApiError> {
        let report = self.check_with(body, plugins)?;
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

/// Adds every object and field of `extension` to `into` (both in the custom-schema shape).
fn merge_objects(into: &mut Value, extension: &Value) {
    let Some(objects) = extension.get("objects").and_then(Value::as_object) else {
        return;
    };
    let target = into
        .as_object_mut()
        .and_then(|m| m.get_mut("objects"))
        .and_then(Value::as_object_mut);
    let Some(target) = target else { return };
    for (name, object) in objects {
        let entry = target
            .entry(name.clone())
            .or_insert_with(|| serde_json::json!({"fields": {}}));
        let fields = object
            .get("fields")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(existing) = entry.get_mut("fields").and_then(Value::as_object_mut) {
            existing.extend(fields);
        }
    }
}
