//! The bridge to automations-compiler: API JSON -> IR -> checked automation -> [`Plan`],
//! and the compiler's [`Schema`] as the runtime's [`SchemaView`].
//!
//! Only translation lives here; the runtime's behaviour never depends on how the compiler
//! spells things beyond the checked types.

use std::sync::Arc;

use serde_json::Value;

use automations_compiler::check::{
    CheckedAutomation, CheckedParam, CheckedStep, CheckedStepKind, check_automation,
};
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::json::{lower_value, parse_json};
use automations_compiler::schema::Schema;
use automations_compiler::sourced::{DiagnosticSource, SourcedDiagnostics};
use automations_compiler::typed::Type;

use crate::error::{Result, RuntimeError};
use crate::hooks::{CompiledDefinition, DefinitionCompiler};
use crate::model::{AutomationStatus, EnvironmentKind};
use crate::plan::{ActionStep, ParamExpr, Plan, PlanStep};
use crate::schema::SchemaView;

impl SchemaView for Schema {
    fn has_object(&self, object: &str) -> bool {
        self.object(object).is_some()
    }
    fn field_type(&self, object: &str, field: &str) -> Option<Type> {
        self.object(object)?;
        match field {
            "id" => Some(Type::String),
            "created_at" | "updated_at" => Some(Type::DateTime),
            _ => Some(self.field(object, field)?.ty.to_type()),
        }
    }
}

/// Compiles API JSON with the real front end and checker against one schema, whatever the
/// workspace (offline tools, tests; the server compiles against each workspace's own).
pub struct CompilerFrontend {
    pub schema: Arc<Schema>,
}

impl CompilerFrontend {
    pub fn new(schema: Arc<Schema>) -> CompilerFrontend {
        CompilerFrontend { schema }
    }
}

fn fail(diagnostics: SourcedDiagnostics) -> RuntimeError {
    let message = diagnostics
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect::<Vec<_>>()
        .join("; ");
    RuntimeError::Definition {
        message,
        diagnostics: Box::new(diagnostics),
    }
}

/// Lowers and checks a definition value: its automation and every diagnostic.
fn lower_and_check(definition: &Value, schema: &Schema) -> (CheckedAutomation, Vec<Diagnostic>) {
    let (automation, mut diags) = lower_value(definition);
    let (checked, check_diags) = check_automation(&automation, schema);
    diags.extend(check_diags);
    (checked, diags)
}

/// The diagnostics of a definition again, lowered from its JSON text this time, so that
/// their spans point into that text (a value has no positions). Only paid for when there
/// is something to report.
fn placed(definition: &Value, schema: &Schema) -> SourcedDiagnostics {
    let text = serde_json::to_string_pretty(definition).unwrap_or_default();
    let (automations, _, mut diags) = parse_json(&text);
    if let Some(automation) = automations.first() {
        diags.extend(check_automation(automation, schema).1);
    }
    SourcedDiagnostics::new(DiagnosticSource::json(&text), diags)
}

impl DefinitionCompiler for CompilerFrontend {
    fn compile(&self, _ws: &str, definition: &Value) -> Result<CompiledDefinition> {
        let (checked, diags) = lower_and_check(definition, &self.schema);
        let warnings = if diags.is_empty() {
            SourcedDiagnostics::default()
        } else {
            placed(definition, &self.schema)
        };
        if diags.iter().any(Diagnostic::is_error) {
            return Err(fail(warnings));
        }
        Ok(CompiledDefinition {
            name: checked.automation.name.clone(),
            status: AutomationStatus::parse(checked.automation.status.as_str())
                .unwrap_or(AutomationStatus::Draft),
            environment: EnvironmentKind::parse(checked.automation.environment.as_str())
                .unwrap_or(EnvironmentKind::Live),
            warnings,
            plan: plan_of(&checked),
        })
    }
}

/// The runtime plan of a checked automation.
pub fn plan_of(checked: &CheckedAutomation) -> Plan {
    Plan::new(
        checked.automation.name.clone(),
        checked.automation.trigger.event.clone(),
        checked.condition.clone(),
        checked.steps.iter().map(plan_step).collect(),
    )
}

fn plan_step(s: &CheckedStep) -> PlanStep {
    match &s.kind {
        CheckedStepKind::Action { action, params } => PlanStep::Action(ActionStep {
            id: s.id.clone(),
            action: *action,
            guard: s.guard.clone(),
            retry: s.retry.clone(),
            params: params
                .iter()
                .map(|(name, p)| {
                    let p = match p {
                        CheckedParam::Expr(e) => ParamExpr::Expr(e.clone()),
                        CheckedParam::Form(fields) => ParamExpr::Form(
                            fields
                                .iter()
                                .map(|f| (f.name.clone(), f.ty.display_name()))
                                .collect(),
                        ),
                    };
                    (name.clone(), p)
                })
                .collect(),
        }),
        CheckedStepKind::If {
            condition,
            then_steps,
            else_steps,
        } => PlanStep::If {
            id: s.id.clone(),
            guard: s.guard.clone(),
            condition: condition.clone(),
            then_steps: then_steps.iter().map(plan_step).collect(),
            else_steps: else_steps.iter().map(plan_step).collect(),
        },
    }
}
