//! IR to canonical JSON (the API's answers and `compile --emit json`).
//!
//! Canonical means: a fixed key order, defaults left out where DESIGN §3.1 says they are
//! optional, literals as JSON literals and every other expression as a `{{ expr }}` string
//! printed by the canonical expression printer with single quotes (no escaping inside JSON).
//! Lowering this output gives back the same IR. Nothing here validates the automation.
//!
//! The printer builds a [`Node`] tree whose objects are lists of entries, so the key order
//! is this module's and [`to_json_text`] writes it whatever serde_json's features are.
//! [`to_json`] converts that tree into a `serde_json::Value`, whose maps keep the order
//! only with serde_json's `preserve_order` (this crate's `preserve_order` feature).

use automations_grammar::ast::{BinaryOp, Expr, ExprKind, LogicOp, StrPart};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};

use crate::catalog::{self, ParamType};
use crate::ir::{Automation, Condition, Environment, Step, StepKind};
use crate::print::{PrintConfig, Quote, print_expr};

/// A JSON value whose objects keep the order their entries were added in.
enum Node {
    /// A value taken as it is (literals, and `layout`, which the IR holds as JSON).
    Leaf(Value),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn text(text: impl Into<String>) -> Node {
        Node::Leaf(Value::String(text.into()))
    }

    /// An object of entries written by an author: a repeated key keeps its first place and
    /// its last value, as a JSON object read from text would.
    fn entries(entries: impl IntoIterator<Item = (String, Node)>) -> Node {
        let mut out: Vec<(String, Node)> = Vec::new();
        for (key, value) in entries {
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => out.push((key, value)),
            }
        }
        Node::Object(out)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Leaf(value) => value.serialize(s),
            Node::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// The canonical JSON value of one automation. Its objects keep the canonical key order
/// only with serde_json's `preserve_order`; [`to_json_text`] keeps it in any case.
pub fn to_json(automation: &Automation) -> Value {
    serde_json::to_value(automation_node(automation)).unwrap_or(Value::Null)
}

fn automation_node(automation: &Automation) -> Node {
    let mut object = vec![("name".into(), Node::text(automation.name.clone()))];
    if let Some(description) = &automation.description {
        object.push(("description".into(), Node::text(description.clone())));
    }
    object.push(("status".into(), Node::text(automation.status.as_str())));
    if automation.environment == Environment::Sandbox {
        object.push((
            "environment".into(),
            Node::text(automation.environment.as_str()),
        ));
    }
    let mut trigger = vec![("event".into(), Node::text(automation.trigger.event.clone()))];
    if let Some(condition) = &automation.condition {
        trigger.push(("conditions".into(), conditions(condition)));
    }
    object.push(("trigger".into(), Node::Object(trigger)));
    object.push(("actions".into(), steps(&automation.steps)));
    if let Some(layout) = &automation.layout {
        object.push(("layout".into(), Node::Leaf(layout.clone())));
    }
    Node::Object(object)
}

/// Pretty JSON text: an object for one automation, an array for several (or none).
/// No trailing newline. Keys in canonical order whatever serde_json's features.
pub fn to_json_text(automations: &[Automation]) -> String {
    let node = match automations {
        [one] => automation_node(one),
        many => Node::Array(many.iter().map(automation_node).collect()),
    };
    serde_json::to_string_pretty(&node).unwrap_or_default()
}

/// Canonical form: an equality object whenever the condition is a conjunction of
/// `field == literal` (however it was written), otherwise an expression string. The DSL
/// has one syntax for both, so this is what makes JSON -> DSL -> JSON return the seed's
/// `{"priority": "critical"}` unchanged.
fn conditions(condition: &Condition) -> Node {
    let mut fields = Vec::new();
    if equality_fields(&condition.expr, &mut fields) {
        return Node::Object(fields);
    }
    Node::text(expression_text(&condition.expr))
}

/// Collects `path == literal` clauses of a conjunction; false when it is anything else.
fn equality_fields(expr: &Expr, out: &mut Vec<(String, Node)>) -> bool {
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
            if out.iter().any(|(k, _)| *k == key) {
                return false;
            }
            out.push((key, Node::Leaf(literal)));
            true
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

fn steps(steps: &[Step]) -> Node {
    Node::Array(steps.iter().map(step).collect())
}

fn step(step: &Step) -> Node {
    let mut object = Vec::new();
    if step.id_explicit {
        object.push(("id".into(), Node::text(step.id.clone())));
    }
    match &step.kind {
        StepKind::Action { action, params, .. } => {
            object.push(("type".into(), Node::text(action.clone())));
            if let Some(guard) = &step.guard {
                object.push(("condition".into(), Node::text(expression_text(guard))));
            }
            let params = params.iter().map(|p| {
                let value = match catalog::param_type(action, &p.name) {
                    Some(ParamType::Form) => {
                        form(&p.value).unwrap_or_else(|| param_value(&p.value))
                    }
                    _ => param_value(&p.value),
                };
                (p.name.clone(), value)
            });
            object.push(("params".into(), Node::entries(params)));
            if let Some(retry) = &step.retry {
                object.push(("retry".into(), retry_value(retry)));
            }
        }
        StepKind::If {
            condition,
            then_steps,
            else_steps,
        } => {
            object.push(("type".into(), Node::text("if")));
            object.push(("condition".into(), Node::text(expression_text(condition))));
            object.push(("then".into(), steps(then_steps)));
            if !else_steps.is_empty() {
                object.push(("else".into(), steps(else_steps)));
            }
        }
    }
    Node::Object(object)
}

/// A param value: literals as JSON, containers recursively, the rest as `{{ expr }}` text.
/// A `retry` object: durations as their text (`"2s"`), the rest as param values.
fn retry_value(retry: &crate::ir::Retry) -> Node {
    let entries = retry.entries.iter().map(|p| {
        let value = match &p.value.kind {
            ExprKind::Duration { text, .. } => Node::text(text.clone()),
            _ => param_value(&p.value),
        };
        (p.name.clone(), value)
    });
    Node::entries(entries)
}

fn param_value(expr: &Expr) -> Node {
    match &expr.kind {
        ExprKind::Str(parts) => Node::text(template_text(parts)),
        ExprKind::List(items) => Node::Array(items.iter().map(param_value).collect()),
        ExprKind::Object(entries) => Node::entries(
            entries
                .iter()
                .map(|e| (e.key.name.clone(), param_value(&e.value))),
        ),
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {
            plain_literal(expr).map_or_else(|| Node::text(embedded(expr)), Node::Leaf)
        }
        _ => Node::text(embedded(expr)),
    }
}

/// `{ approved: bool }` -> `{"approved": "bool"}`; None when a value is not a type name.
fn form(expr: &Expr) -> Option<Node> {
    let ExprKind::Object(entries) = &expr.kind else {
        return None;
    };
    let mut fields = Vec::new();
    for entry in entries {
        let ExprKind::Path(idents) = &entry.value.kind else {
            return None;
        };
        let [type_name] = idents.as_slice() else {
            return None;
        };
        fields.push((entry.key.name.clone(), Node::text(type_name.name.clone())));
    }
    Some(Node::entries(fields))
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
