//! The one intermediate representation of an automation.
//!
//! Both front ends (`.auto` text and API JSON) lower to this; the checker, printers, runtime
//! and UI work from it. It is not the wire format: JSON in and out goes through
//! `crate::json`. Expressions stay as the parser's spanned AST here; `crate::check` gives
//! them types and resolves their paths into `crate::typed`.

pub use automations_grammar::ast::{Expr, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct Automation {
    pub name: String,
    pub description: Option<String>,
    pub status: Status,
    pub environment: Environment,
    /// Event type, e.g. `case.created`, `opportunity.stage_changed`, `custom.signup`.
    pub trigger: Trigger,
    pub condition: Option<Condition>,
    pub steps: Vec<Step>,
    /// Builder node positions; stored and printed, never interpreted.
    pub layout: Option<serde_json::Value>,
    /// The whole definition in its source.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub event: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub expr: Expr,
    /// Whether the JSON form was an equality object (`{"priority":"critical"}`) or a string.
    pub form: ConditionForm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConditionForm {
    /// `{"field": literal, ...}` in JSON; in the DSL it is `a == x and b == y`.
    EqualityObject,
    #[default]
    Expression,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Status {
    #[default]
    Draft,
    Active,
    Paused,
    Archived,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Active,
        Status::Paused,
        Status::Archived,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Archived => "archived",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Environment {
    #[default]
    Live,
    Sandbox,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Sandbox => "sandbox",
        }
    }
    pub fn parse(s: &str) -> Option<Environment> {
        match s {
            "live" => Some(Environment::Live),
            "sandbox" => Some(Environment::Sandbox),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Explicit or defaulted (`step_1`, `step_2`, ... numbered in document order over all
    /// steps, nested ones included).
    pub id: String,
    /// False when `id` was defaulted; printers then leave it out.
    pub id_explicit: bool,
    /// Per-step guard (`"condition"` in JSON, `when <expr>` in the DSL).
    pub guard: Option<Expr>,
    /// Per-step retry policy as written (`"retry"` in JSON, `retry { ... }` in the DSL);
    /// action steps only. The checker reads it into a `retry::RetryPolicy`.
    pub retry: Option<Retry>,
    pub kind: StepKind,
    pub span: Span,
}

/// A `retry` option as written: its entries (`attempts`, `backoff`, `max_backoff`, `on`)
/// in written order, each an expression the checker requires to be a literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub entries: Vec<Param>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// Every built-in action (`update_field`, `human_task`, `wait`, `plugin`, ...) and
    /// unknown ones (reported by the checker, kept so that all errors are collected).
    Action {
        action: String,
        action_span: Span,
        params: Vec<Param>,
    },
    If {
        condition: Expr,
        then_steps: Vec<Step>,
        else_steps: Vec<Step>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub name_span: Span,
    /// Literals, templates, object/list literals and expressions alike. A human task's
    /// `form` is an object whose values are type names (`{ approved: bool }`).
    pub value: Expr,
}

impl Automation {
    /// Every step, depth first in document order.
    pub fn walk_steps(&self) -> Vec<&Step> {
        fn go<'a>(steps: &'a [Step], out: &mut Vec<&'a Step>) {
            for s in steps {
                out.push(s);
                if let StepKind::If {
                    then_steps,
                    else_steps,
                    ..
                } = &s.kind
                {
                    go(then_steps, out);
                    go(else_steps, out);
                }
            }
        }
        let mut out = Vec::new();
        go(&self.steps, &mut out);
        out
    }
}

// ---------------------------------------------------------------------------------------
// Span utilities (added by the JSON front end: it shifts expression spans into the JSON
// text, and tests compare automations from different sources ignoring where they came from).

/// Applies `f` to every span inside `expr` (its own, its identifiers', its sub-expressions').
pub fn map_expr_spans(expr: &mut Expr, f: &mut dyn FnMut(Span) -> Span) {
    use automations_grammar::ast::{ExprKind, StrPart};
    expr.span = f(expr.span);
    match &mut expr.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Duration { .. } => {}
        ExprKind::Str(parts) => {
            for part in parts {
                if let StrPart::Expr(inner) = part {
                    map_expr_spans(inner, f);
                }
            }
        }
        ExprKind::Path(idents) => {
            for ident in idents {
                ident.span = f(ident.span);
            }
        }
        ExprKind::List(items) | ExprKind::Logic { items, .. } => {
            items.iter_mut().for_each(|item| map_expr_spans(item, f))
        }
        ExprKind::Object(entries) => {
            for entry in entries {
                entry.key.span = f(entry.key.span);
                map_expr_spans(&mut entry.value, f);
            }
        }
        ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } | ExprKind::Paren(expr) => {
            map_expr_spans(expr, f)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            map_expr_spans(lhs, f);
            map_expr_spans(rhs, f);
        }
        ExprKind::Call { name, args } => {
            name.span = f(name.span);
            for arg in args {
                if let Some(arg_name) = &mut arg.name {
                    arg_name.span = f(arg_name.span);
                }
                map_expr_spans(&mut arg.value, f);
            }
        }
        ExprKind::Lambda { param, body } => {
            param.span = f(param.span);
            map_expr_spans(body, f);
        }
    }
}

impl Step {
    fn map_spans(&mut self, f: &mut dyn FnMut(Span) -> Span) {
        self.span = f(self.span);
        if let Some(guard) = &mut self.guard {
            map_expr_spans(guard, f);
        }
        if let Some(retry) = &mut self.retry {
            retry.span = f(retry.span);
            for entry in &mut retry.entries {
                entry.name_span = f(entry.name_span);
                map_expr_spans(&mut entry.value, f);
            }
        }
        match &mut self.kind {
            StepKind::Action {
                action_span,
                params,
                ..
            } => {
                *action_span = f(*action_span);
                for param in params {
                    param.name_span = f(param.name_span);
                    map_expr_spans(&mut param.value, f);
                }
            }
            StepKind::If {
                condition,
                then_steps,
                else_steps,
            } => {
                map_expr_spans(condition, f);
                then_steps
                    .iter_mut()
                    .chain(else_steps.iter_mut())
                    .for_each(|s| s.map_spans(f));
            }
        }
    }
}

impl Automation {
    /// Applies `f` to every span of the automation (trigger, condition, steps, params).
    pub fn map_spans(&mut self, f: &mut dyn FnMut(Span) -> Span) {
        self.span = f(self.span);
        self.trigger.span = f(self.trigger.span);
        if let Some(condition) = &mut self.condition {
            map_expr_spans(&mut condition.expr, f);
        }
        self.steps.iter_mut().for_each(|s| s.map_spans(f));
    }

    /// A copy with every span zeroed: compares automations regardless of their source.
    pub fn without_spans(&self) -> Automation {
        let mut copy = self.clone();
        copy.map_spans(&mut |_| Span::default());
        copy
    }
}
