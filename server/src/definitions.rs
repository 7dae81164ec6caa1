//! Definitions as the API receives them: JSON (DESIGN §3.1, verbatim) or `text/plain` DSL,
//! checked by the compiler into diagnostics with a JSON pointer (JSON) or line/column (DSL).
//!
//! This is the server's one seam to the compiler: it also hands the runtime its
//! [`DefinitionCompiler`] and [`SchemaView`]. It never stores anything.

use std::sync::Arc;

use automations_runtime::hooks::DefinitionCompiler;
use automations_runtime::schema::SchemaView;
use serde_json::Value;

use crate::api::extract::{BodyFormat, TextOrJson, json_error};
use crate::error::{ApiDiagnostic, ApiError};

/// The compiler hooks of the engine and the API's view of definitions.
#[derive(Clone)]
pub struct Definitions {
    compiler: Arc<dyn DefinitionCompiler>,
    schema: Arc<dyn SchemaView>,
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
    pub fn new(compiler: Arc<dyn DefinitionCompiler>, schema: Arc<dyn SchemaView>) -> Definitions {
        Definitions { compiler, schema }
    }

    pub fn compiler(&self) -> Arc<dyn DefinitionCompiler> {
        self.compiler.clone()
    }

    pub fn schema_view(&self) -> Arc<dyn SchemaView> {
        self.schema.clone()
    }

    /// Reads and checks a definition body. Malformed JSON is a 400; a definition that
    /// cannot be read or has errors is reported in the diagnostics.
    pub fn check(&self, body: &TextOrJson) -> Result<CheckReport, ApiError> {
        let definition = match body.format {
            BodyFormat::Json => {
                serde_json::from_str::<Value>(&body.text).map_err(|e| json_error(&e))?
            }
            BodyFormat::Dsl => {
                return Ok(CheckReport {
                    definition: None,
                    diagnostics: vec![ApiDiagnostic::error(
                        "E0001",
                        "DSL definitions are not supported by this build",
                    )],
                });
            }
        };
        if !definition.is_object() {
            return Err(ApiError::bad_request(
                "invalid_body",
                "a definition must be a JSON object",
            ));
        }
        let diagnostics = match self.compiler.compile(&definition) {
            Ok(compiled) => compiled
                .warnings
                .iter()
                .map(crate::error::diagnostic_from_json)
                .collect(),
            Err(err) => match ApiError::from(err) {
                ApiError::Unprocessable {
                    diagnostics,
                    message,
                    ..
                } if diagnostics.is_empty() => {
                    vec![ApiDiagnostic::error("E0002", message)]
                }
                ApiError::Unprocessable { diagnostics, .. } => diagnostics,
                other => return Err(other),
            },
        };
        Ok(CheckReport {
            definition: Some(definition),
            diagnostics,
        })
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

    /// The CRM schema as JSON (`GET /schema`).
    pub fn schema_json(&self) -> Value {
        Value::Object(Default::default())
    }
}

/// Stands in until the compiler's front end is wired: every definition is refused.
struct Unavailable;

impl DefinitionCompiler for Unavailable {
    fn compile(
        &self,
        _definition: &Value,
    ) -> Result<automations_runtime::hooks::CompiledDefinition, automations_runtime::RuntimeError>
    {
        Err(automations_runtime::RuntimeError::Definition {
            message: "the definition compiler is not available in this build".into(),
            diagnostics: Value::Array(Vec::new()),
        })
    }
}

impl Definitions {
    /// The built-in CRM schema and the compiler.
    pub fn builtin() -> Definitions {
        Definitions::new(
            Arc::new(Unavailable),
            Arc::new(automations_runtime::schema::SimpleSchema::default()),
        )
    }
}
