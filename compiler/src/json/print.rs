//! IR to canonical JSON (the API's answers and `compile --emit json`).
//!
//! Canonical means: a fixed key order, defaults left out where DESIGN §3.1 says they are
//! optional, literals as JSON literals and every other expression as a `{{ expr }}` string
//! printed by the canonical expression printer with single quotes (no escaping inside JSON).
//! Lowering this output gives back the same IR. Nothing here validates the automation.

use automations_grammar::ast::{BinaryOp, Expr, ExprKind, LogicOp, StrPart};
use serde_json::{Map, Number, Value};

use crate::catalog::{self, ParamType};
use crate::ir::{Automation, Condition, Environment, Step, StepKind};
use crate::print::{PrintConfig, Quote, print_expr};

/// The canonical JSON value of one automation.
pub fn to_json(automation: &Automation) -> Value {
    let mut object = Map::new();
    object.insert("name".into(), automation.name.clone().into());
    if let Some(description) = &automation.description {
        object.insert("description".into(), description.clone().into());
    }
    object.insert("status".into(), automation.status.as_str().into());
    if automation.environment == Environment::Sandbox {
        object.insert("environment".into(), automation.environment.as_str().into());
    }
    let mut trigger = Map::new();
    trigger.insert("event".into(), automation.trigger.event.clone().into());
    if let Some(condition) = &automation.condition {
        trigger.insert("conditions".into(), conditions(condition));
    }
    object.insert("trigger".into(), Value::Object(trigger));
    object.insert("actions".into(), steps(&automation.steps));
    if let Some(layout) = &automation.layout {
        object.insert("layout".into(), layout.clone());
    }
    Value::Object(object)
}

/// Pretty JSON text: an object for one automation, an array for several (or none).
/// No trailing newline.
pub fn to_json_text(automations: &[Automation]) -> String {
    let value = match automations {
        [one] => to_json(one),
        many => Value::Array(many.iter().map(to_json).collect()),
    };
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// Canonical form: an equality object whenever the condition is a conjunction of
/// `field == literal` (however it was written), otherwise an expression string. The DSL
/// has one syntax for both, so this is what makes JSON -> DSL -> JSON return the seed's
/// `{"priority": "critical"}` unchanged.
fn conditions(condition: &Condition) -> Value {
    let mut fields = Map::new();
    if equality_fields(&condition.expr, &mut fields) {
        return Value::Object(fields);
    }
    Value::String(expression_text(&condition.expr))
}

/// Collects `path == literal` clauses of a conjunction; false when it is anything else.
fn equality_fields(expr: &Expr, out: &mut Map<String, Value>) -> bool {
    match &expr.kind {
        ExprKind::Logic {
            op: LogicOp::And,
            items,
        } => items.iter().all(|item| equality_fields(item, out)),
        ExprKind::Binary {
            op: BinaryOp::Eq,
            lhs,
            rhs,
        } => {
            let ExprKind::Path(idents) = &lhs.kind else {
                return false;
            };
            let Some(literal) = plain_literal(rhs) else {
                return false;
            };
            let key = idents
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(".");
            // A repeated field cannot be an object key without losing a clause.
            out.insert(key, literal).is_none()
        }
        _ => false,
    }
}

/// Null, booleans, numbers and strings without templates as JSON literals.
fn plain_literal(expr: &Expr) -> Option<Value> {
    match &expr.kind {
        ExprKind::Null => Some(Value::Null),
        ExprKind::Bool(b) => Some(Value::Bool(*b)),
        ExprKind::Number(n) => number(*n),
        ExprKind::Str(parts) => {
            let mut text = String::new();
            for part in parts {
                match part {
                    StrPart::Text(t) => text.push_str(t),
                    StrPart::Expr(_) => return None,
                }
            }
            Some(Value::String(text))
        }
        _ => None,
    }
}

/// Integral numbers as JSON integers (`50000`, not `50000.0`).
fn number(n: f64) -> Option<Value> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer below is exact
    if n.fract() == 0.0 && n.abs() < EXACT {
        return Some(Value::Number(Number::from(n as i64)));
    }
    Number::from_f64(n).map(Value::Number)
}

fn steps(steps: &[Step]) -> Value {
    Value::Array(steps.iter().map(step).collect())
}

fn step(step: &Step) -> Value {
    let mut object = Map::new();
    if step.id_explicit {
        object.insert("id".into(), step.id.clone().into());
    }
    match &step.kind {
        StepKind::Action { action, params, .. } => {
            object.insert("type".into(), action.clone().into());
            if let Some(guard) = &step.guard {
                object.insert("condition".into(), expression_text(guard).into());
            }
            let params = params
                .iter()
                .map(|p| {
                    let value = match catalog::param_type(action, &p.name) {
                        Some(ParamType::Form) => {
                            form(&p.value).unwrap_or_else(|| param_value(&p.value))
                        }
                        _ => param_value(&p.value),
                    };
                    (p.name.clone(), value)
                })
                .collect();
            object.insert("params".into(), Value::Object(params));
            if let Some(retry) = &step.retry {
                object.insert("retry".into(), retry_value(retry));
            }
        }
        StepKind::If {
            condition,
            then_steps,
            else_steps,
        } => {
            object.insert("type".into(), "if".into());
            object.insert("condition".into(), expression_text(condition).into());
            object.insert("then".into(), steps(then_steps));
            if !else_steps.is_empty() {
                object.insert("else".into(), steps(else_steps));
            }
        }
    }
    Value::Object(object)
}

/// A param value: literals as JSON, containers recursively, the rest as `{{ expr }}` text.
/// A `retry` object: durations as their text (`"2s"`), the rest as param values.
fn retry_value(retry: &crate::ir::Retry) -> Value {
    let entries = retry.entries.iter().map(|p| {
        let value = match &p.value.kind {
            ExprKind::Duration { text, .. } => Value::String(text.clone()),
            _ => param_value(&p.value),
        };
        (p.name.clone(), value)
    });
    Value::Object(entries.collect())
}

fn param_value(expr: &Expr) -> Value {
    match &expr.kind {
        ExprKind::Str(parts) => Value::String(template_text(parts)),
        ExprKind::List(items) => Value::Array(items.iter().map(param_value).collect()),
        ExprKind::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|e| (e.key.name.clone(), param_value(&e.value)))
                .collect(),
        ),
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {
            plain_literal(expr).unwrap_or_else(|| Value::String(embedded(expr)))
        }
        _ => Value::String(embedded(expr)),
    }
}

/// `{ approved: bool }` -> `{"approved": "bool"}`; None when a value is not a type name.
fn form(expr: &Expr) -> Option<Value> {
    let ExprKind::Object(entries) = &expr.kind else {
        return None;
    };
    let mut fields = Map::new();
    for entry in entries {
        let ExprKind::Path(idents) = &entry.value.kind else {
            return None;
        };
        let [type_name] = idents.as_slice() else {
            return None;
        };
        fields.insert(entry.key.name.clone(), type_name.name.clone().into());
    }
    Some(Value::Object(fields))
}

fn template_text(parts: &[StrPart]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        match part {
            StrPart::Text(text) => {
                let before_expr = matches!(parts.get(i + 1), Some(StrPart::Expr(_)));
                push_escaped_text(text, before_expr, &mut out);
            }
            StrPart::Expr(expr) => out.push_str(&embedded(expr)),
        }
    }
    out
}

/// JSON strings have no escape for a literal `{{`: a `{` that would open a template (one
/// followed by `{`, or ending text right before a `{{ expr }}`) is written as the
/// expression `{{ '\{' }}`, which lowering folds back into the text.
fn push_escaped_text(text: &str, before_expr: bool, out: &mut String) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let opens = c == '{' && chars.peek().map_or(before_expr, |next| *next == '{');
        if opens {
            out.push_str(BRACE_EXPR);
        } else {
            out.push(c);
        }
    }
}

/// A template part holding a literal `{`.
const BRACE_EXPR: &str = "{{ '\\{' }}";

fn embedded(expr: &Expr) -> String {
    format!("{{{{ {} }}}}", expression_text(expr))
}

fn expression_text(expr: &Expr) -> String {
    print_expr(
        expr,
        &PrintConfig {
            quote: Quote::Single,
        },
    )
}
