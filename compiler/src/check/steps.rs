//! Checking steps: ids (duplicates, references to later steps), guards, `if` branches,
//! and action params against the catalog (see `params`). Tracks which steps have run at
//! each point so that `steps.<id>.output` resolves only to earlier steps.

use std::collections::{BTreeMap, BTreeSet};

use super::expr::ExprChecker;
use super::params::{self, form_fields};
use super::{CheckedStep, CheckedStepKind, ExprScope, StepOutput, lints};
use crate::catalog::{self, ActionKind, OutputSpec, OutputType, RecordTarget};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::{Param, Step, StepKind};
use crate::schema::Schema;
use crate::suggest;
use crate::typed::Type;

struct StepChecker<'a> {
    schema: &'a Schema,
    base: &'a ExprScope,
    /// Every step id of the automation with its output (first definition wins).
    all: BTreeMap<String, StepOutput>,
    diags: Vec<Diagnostic>,
    used_steps: BTreeSet<String>,
    /// human_task steps with a non-empty form: (id, span) for W0305.
    tasks_with_output: Vec<(String, crate::ir::Span)>,
}

/// Checks `steps` (the automation's `do` block) in the trigger scope `base`. `used` holds
/// steps already read by the automation condition (none in practice).
pub(super) fn check_steps(
    steps: &[Step],
    base: &ExprScope,
    schema: &Schema,
    used: BTreeSet<String>,
) -> (Vec<CheckedStep>, Vec<Diagnostic>) {
    let mut checker = StepChecker {
        schema,
        base,
        all: BTreeMap::new(),
        diags: Vec::new(),
        used_steps: used,
        tasks_with_output: Vec::new(),
    };
    checker.collect_ids(steps);
    let mut visible = base.steps.clone();
    let checked = checker.steps(steps, &mut visible);
    for (id, span) in std::mem::take(&mut checker.tasks_with_output) {
        if !checker.used_steps.contains(&id) {
            checker.diags.push(
                Diagnostic::warning(
                    codes::UNUSED_STEP_OUTPUT,
                    format!("the form answers of human task `{id}` are never used"),
                    span,
                )
                .with_note(format!("read them with `steps.{id}.output.<field>`")),
            );
        }
    }
    (checked, checker.diags)
}

/// The output field a `human_task` step has besides its form fields.
const TIMED_OUT: &str = "timed_out";

fn output_type(ty: OutputType) -> Type {
    match ty {
        OutputType::String => Type::String,
        OutputType::Bool => Type::Bool,
        OutputType::DateTime => Type::DateTime,
    }
}

/// The output a step will have, from its action and params (no diagnostics).
pub(super) fn output_of(step: &Step) -> StepOutput {
    let StepKind::Action { action, params, .. } = &step.kind else {
        return StepOutput::empty();
    };
    let Some(spec) = catalog::action(action) else {
        return StepOutput::any();
    };
    let param = |name: &str| params.iter().find(|p| p.name == name);
    match spec.output {
        OutputSpec::None => StepOutput::empty(),
        OutputSpec::Any => StepOutput::any(),
        OutputSpec::Fields { fields } => StepOutput {
            fields: fields
                .iter()
                .map(|f| (f.name.to_string(), output_type(f.ty)))
                .collect(),
            open: false,
        },
        OutputSpec::Id => {
            let object = match spec.writes.target() {
                Some(RecordTarget::Object(o)) => Some(o.to_string()),
                Some(RecordTarget::ObjectParam(name)) => {
                    param(name).and_then(|p| super::literal::const_str(&p.value))
                }
                Some(RecordTarget::Trigger) | None => None,
            };
            let ty = object.map(Type::Reference).unwrap_or(Type::String);
            StepOutput {
                fields: [("id".to_string(), ty)].into(),
                open: false,
            }
        }
        OutputSpec::Form => {
            let fields = param("form")
                .map(|p| form_fields(&p.value).0)
                .unwrap_or_default();
            let mut fields: BTreeMap<String, Type> =
                fields.into_iter().map(|f| (f.name, f.ty)).collect();
            // Set by the runtime when the task timed out and the run continued.
            fields.entry(TIMED_OUT.to_string()).or_insert(Type::Bool);
            StepOutput {
                fields,
                open: false,
            }
        }
    }
}

impl StepChecker<'_> {
    fn collect_ids(&mut self, steps: &[Step]) {
        for step in steps {
            if self.all.contains_key(&step.id) {
                self.diags.push(Diagnostic::error(
                    codes::DUPLICATE_STEP_ID,
                    format!("step id `{}` is used more than once", step.id),
                    step.span,
                ));
            } else {
                self.all.insert(step.id.clone(), output_of(step));
            }
            if let StepKind::If {
                then_steps,
                else_steps,
                ..
            } = &step.kind
            {
                self.collect_ids(then_steps);
                self.collect_ids(else_steps);
            }
        }
    }

    fn scope(&self, visible: &BTreeMap<String, StepOutput>) -> ExprScope {
        let pending = self
            .all
            .keys()
            .filter(|id| !visible.contains_key(*id))
            .cloned()
            .collect();
        ExprScope {
            object: self.base.object.clone(),
            event: self.base.event.clone(),
            steps: visible.clone(),
            pending_steps: pending,
        }
    }

    /// Runs `f` with an expression checker over `scope`, keeping its diagnostics.
    fn with_checker<T>(&mut self, scope: &ExprScope, f: impl FnOnce(&mut ExprChecker) -> T) -> T {
        let mut checker = ExprChecker::new(self.schema, scope);
        let out = f(&mut checker);
        self.used_steps.extend(checker.used_steps);
        self.diags.append(&mut checker.diags);
        out
    }

    fn steps(
        &mut self,
        steps: &[Step],
        visible: &mut BTreeMap<String, StepOutput>,
    ) -> Vec<CheckedStep> {
        let mut out = Vec::new();
        for step in steps {
            if let Some(c) = self.step(step, visible) {
                out.push(c);
            }
            let output = self.all.get(&step.id).cloned().unwrap_or_default();
            visible.insert(step.id.clone(), output);
        }
        out
    }

    fn step(
        &mut self,
        step: &Step,
        visible: &mut BTreeMap<String, StepOutput>,
    ) -> Option<CheckedStep> {
        let scope = self.scope(visible);
        let guard = step
            .guard
            .as_ref()
            .map(|g| self.with_checker(&scope, |c| c.condition(g)));
        let output = self.all.get(&step.id).cloned().unwrap_or_default();
        // Checked before the action so that its diagnostics are collected whatever else
        // is wrong with the step.
        let retry = step.retry.as_ref().map(|r| {
            let action = match &step.kind {
                StepKind::Action { action, .. } => ActionKind::parse(action),
                StepKind::If { .. } => None,
            };
            super::retry::check_retry(r, action, &mut self.diags)
        });
        let kind = match &step.kind {
            StepKind::Action {
                action,
                action_span,
                params,
            } => self.action(step, action, *action_span, params, &scope)?,
            StepKind::If {
                condition,
                then_steps,
                else_steps,
            } => {
                let cond = self.with_checker(&scope, |c| c.condition(condition));
                if let Some(c) = &cond {
                    self.unreachable(c, else_steps.is_empty());
                }
                let mut then_visible = visible.clone();
                let then_checked = self.steps(then_steps, &mut then_visible);
                let mut else_visible = visible.clone();
                let else_checked = self.steps(else_steps, &mut else_visible);
                // After the `if`, a branch's steps may or may not have run: their outputs
                // are readable (null when the branch was not taken).
                visible.extend(then_visible);
                visible.extend(else_visible);
                CheckedStepKind::If {
                    condition: cond?,
                    then_steps: then_checked,
                    else_steps: else_checked,
                }
            }
        };
        let retry = match retry {
            Some(r) => Some(r?),
            None => None,
        };
        let guard = match guard {
            Some(g) => Some(g?),
            None => None,
        };
        Some(CheckedStep {
            id: step.id.clone(),
            guard,
            retry,
            kind,
            output,
        })
    }

    fn unreachable(&mut self, cond: &crate::typed::TExpr, no_else: bool) {
        let Some(v) = lints::constant_truth(cond, &Default::default()) else {
            return;
        };
        let message = match (v, no_else) {
            (true, true) => "this `if` condition is always true".to_string(),
            (true, false) => {
                "this `if` condition is always true: the `else` branch never runs".to_string()
            }
            (false, _) => {
                "this `if` condition is always false: its `then` branch never runs".to_string()
            }
        };
        // W0304 replaces the always-true/false lint on the same condition.
        self.diags.retain(|d| {
            !(d.span == cond.span && matches!(d.code, codes::ALWAYS_TRUE | codes::ALWAYS_FALSE))
        });
        self.diags.push(Diagnostic::warning(
            codes::UNREACHABLE_BRANCH,
            message,
            cond.span,
        ));
    }

    fn action(
        &mut self,
        step: &Step,
        action: &str,
        action_span: crate::ir::Span,
        params: &[Param],
        scope: &ExprScope,
    ) -> Option<CheckedStepKind> {
        let Some(spec) = catalog::action(action) else {
            let suggestion = suggest::closest(action, ActionKind::names());
            let mut d = Diagnostic::error(
                codes::UNKNOWN_ACTION,
                format!("unknown action `{action}`"),
                action_span,
            );
            if let Some(s) = &suggestion {
                d = d.with_note(format!("did you mean `{s}`?"));
            }
            d.suggestion = suggestion;
            self.diags.push(d);
            // Still check the param expressions so that their errors are reported too.
            self.with_checker(scope, |c| {
                params.iter().for_each(|p| drop(c.expr(&p.value)))
            });
            return None;
        };
        if spec.output == OutputSpec::Form
            && self
                .all
                .get(&step.id)
                .is_some_and(|o| o.fields.keys().any(|k| k != TIMED_OUT))
        {
            self.tasks_with_output.push((step.id.clone(), step.span));
        }
        let checked =
            self.with_checker(scope, |c| params::check_params(c, spec, params, step.span));
        Some(CheckedStepKind::Action {
            action: spec.kind,
            params: checked?,
        })
    }
}
