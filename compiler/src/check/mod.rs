//! The type checker: gives every expression of an [`ir::Automation`] a type and a resolved
//! path against a [`Schema`], checks actions and their params against the catalog, and
//! reports every problem it finds as a [`Diagnostic`] (never stopping at the first).
//!
//! The output, [`CheckedAutomation`], is what the runtime, the server and the condition
//! compiler consume: every param is typed and every step's output fields are known.
//! This module must never evaluate records or do I/O.

mod expr;
mod lints;
mod literal;
mod params;
mod paths;
pub mod plugins;
mod retry;
mod steps;
mod types;

use std::collections::{BTreeMap, BTreeSet};

use automations_grammar::ast;

use crate::catalog::ActionKind;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir;
use crate::schema::{EventError, EventKind, Schema};
use crate::typed::{TExpr, Type};

pub use plugins::{CheckConfig, InputSchema, PluginCatalog};

/// What an expression can see: the trigger's object and event, and the steps that have
/// run before it (with their output types). Lambda locals are tracked while checking.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprScope {
    /// `None` for `custom.*` events: there is no triggering record.
    pub object: Option<String>,
    pub event: EventKind,
    /// Steps that have run before the expression is evaluated.
    pub steps: BTreeMap<String, StepOutput>,
    /// Steps of the same automation that cannot have run yet at this point (E0110).
    pub pending_steps: BTreeSet<String>,
}

impl ExprScope {
    /// The scope of a condition on `object`'s records for `event` (e.g. `case.updated`);
    /// an unknown event kind falls back to `Updated`.
    pub fn for_object(object: &str, event: &str) -> ExprScope {
        let kind = match event.rsplit_once('.').map(|(_, k)| k).unwrap_or(event) {
            "created" => EventKind::Created,
            "deleted" => EventKind::Deleted,
            k => match k.strip_suffix("_changed") {
                Some(f) => EventKind::FieldChanged(f.to_string()),
                None => EventKind::Updated,
            },
        };
        ExprScope {
            object: Some(object.to_string()),
            event: kind,
            steps: BTreeMap::new(),
            pending_steps: BTreeSet::new(),
        }
    }

    /// The scope of a `custom.<name>` event: no record, only `event.*`.
    pub fn for_custom_event(name: &str) -> ExprScope {
        ExprScope {
            object: None,
            event: EventKind::Custom(name.to_string()),
            steps: BTreeMap::new(),
            pending_steps: BTreeSet::new(),
        }
    }
}

/// The fields of a step's output (`steps.<id>.output.<field>`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepOutput {
    pub fields: BTreeMap<String, Type>,
    /// When true, fields not listed are allowed and typed `Any` (plugins, custom outputs).
    pub open: bool,
}

impl StepOutput {
    /// A step without output fields.
    pub fn empty() -> StepOutput {
        StepOutput::default()
    }
    /// An output of unknown shape: every field is `Any`.
    pub fn any() -> StepOutput {
        StepOutput {
            fields: BTreeMap::new(),
            open: true,
        }
    }
    pub fn field_type(&self, name: &str) -> Option<Type> {
        match self.fields.get(name) {
            Some(t) => Some(t.clone()),
            None if self.open => Some(Type::Any),
            None => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAutomation {
    pub automation: ir::Automation,
    /// The triggering object; `None` for custom events (and for unknown events).
    pub object: Option<String>,
    pub event: EventKind,
    pub condition: Option<TExpr>,
    pub steps: Vec<CheckedStep>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckedStep {
    pub id: String,
    pub guard: Option<TExpr>,
    /// The step's retry policy (action steps only; `None`: a failure fails the run).
    pub retry: Option<crate::retry::RetryPolicy>,
    pub kind: CheckedStepKind,
    pub output: StepOutput,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CheckedStepKind {
    Action {
        action: ActionKind,
        params: BTreeMap<String, CheckedParam>,
    },
    If {
        condition: TExpr,
        then_steps: Vec<CheckedStep>,
        else_steps: Vec<CheckedStep>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum CheckedParam {
    Expr(TExpr),
    /// A human task's form: field names and their types.
    Form(Vec<FormField>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FormField {
    pub name: String,
    pub ty: Type,
}

/// Checks a whole automation. Always returns a `CheckedAutomation` (with what could be
/// typed) so that callers can show partial results; it is runnable only when no
/// diagnostic is an error.
pub fn check_automation(
    a: &ir::Automation,
    schema: &Schema,
) -> (CheckedAutomation, Vec<Diagnostic>) {
    check_automation_with(a, schema, &CheckConfig::default())
}

/// [`check_automation`] with a configuration: with a plugin catalog, `plugin` steps are
/// checked against it (unknown plugin, input against the manifest's input schema).
pub fn check_automation_with(
    a: &ir::Automation,
    schema: &Schema,
    config: &CheckConfig<'_>,
) -> (CheckedAutomation, Vec<Diagnostic>) {
    check_owned_automation(a.clone(), schema, config)
}

/// [`check_automation_with`] of an automation the caller no longer needs: it is moved
/// into the result instead of copied.
pub fn check_owned_automation(
    a: ir::Automation,
    schema: &Schema,
    config: &CheckConfig<'_>,
) -> (CheckedAutomation, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let (object, event) = resolve_trigger(&a.trigger, schema, &mut diags);
    let scope = ExprScope {
        object: object.clone(),
        event: event.clone(),
        steps: BTreeMap::new(),
        // The condition runs before every step.
        pending_steps: a.walk_steps().iter().map(|s| s.id.clone()).collect(),
    };
    let mut used_steps = BTreeSet::new();
    let condition = a.condition.as_ref().and_then(|c| {
        let mut checker = expr::ExprChecker::new(schema, &scope);
        let t = checker.condition(&c.expr);
        used_steps.extend(checker.used_steps.iter().cloned());
        diags.append(&mut checker.diags);
        t
    });
    let (steps, mut step_diags) = steps::check_steps(&a.steps, &scope, schema, used_steps);
    diags.append(&mut step_diags);
    if let Some(catalog) = config.plugins {
        plugins::check_plugin_steps(&steps, catalog, &mut diags);
    }
    let checked = CheckedAutomation {
        automation: a,
        object,
        event,
        condition,
        steps,
    };
    (checked, diags)
}

/// Checks one condition. The result is `Some` only when it typed as a condition (bool,
/// null or any) with no error diagnostic, so a `Some` is always safe to compile; lints
/// (always true/false, `changed()` on create) come as warnings.
pub fn check_condition(
    expr: &ast::Expr,
    scope: &ExprScope,
    schema: &Schema,
) -> (Option<TExpr>, Vec<Diagnostic>) {
    let mut checker = expr::ExprChecker::new(schema, scope);
    let t = checker.condition(expr);
    let t = t.filter(|_| !checker.diags.iter().any(Diagnostic::is_error));
    (t, checker.diags)
}

/// Checks any expression (params, templates) without requiring a bool.
pub fn check_expr(
    expr: &ast::Expr,
    scope: &ExprScope,
    schema: &Schema,
) -> (Option<TExpr>, Vec<Diagnostic>) {
    let mut checker = expr::ExprChecker::new(schema, scope);
    let t = checker.expr(expr);
    (t, checker.diags)
}

fn resolve_trigger(
    trigger: &ir::Trigger,
    schema: &Schema,
    diags: &mut Vec<Diagnostic>,
) -> (Option<String>, EventKind) {
    match schema.parse_event(&trigger.event) {
        Ok(found) => found,
        Err(EventError::UnknownObject { object, suggestion }) => {
            let mut d = Diagnostic::error(
                codes::UNKNOWN_OBJECT,
                format!("unknown object `{object}` in event `{}`", trigger.event),
                trigger.span,
            );
            if let Some(s) = &suggestion {
                d = d.with_note(format!("did you mean `{s}`?"));
            }
            d.suggestion = suggestion;
            diags.push(d);
            (None, EventKind::Custom(trigger.event.clone()))
        }
        Err(EventError::UnknownEvent { suggestion }) => {
            let mut d = Diagnostic::error(
                codes::UNKNOWN_EVENT,
                format!("unknown event `{}`", trigger.event),
                trigger.span,
            )
            .with_note("events are <object>.created|updated|deleted, <object>.<field>_changed, custom.<name>");
            if let Some(s) = &suggestion {
                d = d.with_note(format!("did you mean `{s}`?"));
            }
            d.suggestion = suggestion;
            diags.push(d);
            // Keep checking field paths against the object when the object part is right.
            let object = trigger
                .event
                .split_once('.')
                .map(|(o, _)| o.to_string())
                .filter(|o| schema.object(o).is_some());
            (object, EventKind::Updated)
        }
    }
}
