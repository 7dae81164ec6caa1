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
    pub kind: StepKind,
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
