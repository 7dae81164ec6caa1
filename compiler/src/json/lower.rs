//! JSON definitions to IR: shapes, required parts, unknown fields and expression strings.
//!
//! Every problem becomes a [`Diagnostic`] and lowering goes on, so one request reports all
//! of its errors. Spans are byte ranges in the JSON text (through [`JsonSourceMap`]);
//! expressions inside strings are parsed by `automations-grammar` and their spans moved
//! from the string's content to the text. Nothing here knows the CRM schema or the action
//! catalogue: unknown action types are kept for the checker.

use automations_grammar::ast::{Expr, ExprKind, Ident, ObjectEntry, StrPart};
use automations_grammar::limits::{MAX_CLAUSES, MAX_DEFINITION_BYTES};
use automations_grammar::{parse_expr, parse_template};
use serde_json::{Map, Value};

use super::source_map::{JsonSourceMap, child_pointer};
use crate::catalog::{self, ParamType};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::{
    Automation, Condition, ConditionForm, Environment, Param, Retry, Span, Status, Step, StepKind,
    Trigger,
};
use crate::source::LineIndex;
use crate::suggest::did_you_mean;

mod access;

/// Fields of an automation object.
pub const AUTOMATION_FIELDS: [&str; 7] = [
    "name",
    "description",
    "status",
    "environment",
    "trigger",
    "actions",
    "layout",
];
/// Fields of `trigger`.
pub const TRIGGER_FIELDS: [&str; 2] = ["event", "conditions"];
/// Fields of an action step.
pub const ACTION_FIELDS: [&str; 5] = ["id", "type", "condition", "params", "retry"];
/// Fields of an `if` step.
pub const IF_FIELDS: [&str; 5] = ["id", "type", "condition", "then", "else"];
/// Type names a human task's form may use (as in the DSL's `form: { approved: bool }`).
pub use crate::catalog::FORM_TYPES;

/// Parses JSON text holding one automation object or an array of them.
///
/// Malformed JSON gives no automations and one `E0002` diagnostic at the fault.
pub fn parse_json(text: &str) -> (Vec<Automation>, JsonSourceMap, Vec<Diagnostic>) {
    if text.len() > MAX_DEFINITION_BYTES {
        let message = format!(
            "a definition of {} bytes is over the limit of {MAX_DEFINITION_BYTES} bytes",
            text.len()
        );
        let too_big = Diagnostic::error(codes::LIMIT_EXCEEDED, message, Span::new(0, 0));
        return (Vec::new(), JsonSourceMap::default(), vec![too_big]);
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            return (
                Vec::new(),
                JsonSourceMap::default(),
                vec![malformed_json(text, &error)],
            );
        }
    };
    let map = JsonSourceMap::scan(text);
    let mut diagnostics: Vec<Diagnostic> = map
        .duplicate_keys()
        .iter()
        .map(|(pointer, key)| {
            let token = pointer.rsplit('/').next().unwrap_or_default();
            let name = token.replace("~1", "/").replace("~0", "~");
            Diagnostic::error(
                codes::JSON_SHAPE,
                format!("duplicate key `{name}`: only its last value would be kept"),
                *key,
            )
        })
        .collect();
    let automations = match &value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let (automation, diags) = lower_at(item, &map, &child_pointer("", &i.to_string()));
                diagnostics.extend(diags);
                automation
            })
            .collect(),
        _ => {
            let (automation, diags) = lower_at(&value, &map, "");
            diagnostics.extend(diags);
            vec![automation]
        }
    };
    (automations, map, diagnostics)
}

/// Lowers one automation given as a value (no text, so every span is 0).
pub fn lower_value(value: &Value) -> (Automation, Vec<Diagnostic>) {
    lower_at(value, &JsonSourceMap::default(), "")
}

/// Lowers the automation found at `pointer` of a text described by `map`.
pub fn lower_at(
    value: &Value,
    map: &JsonSourceMap,
    pointer: &str,
) -> (Automation, Vec<Diagnostic>) {
    let mut lowerer = Lowerer {
        map,
        diagnostics: Vec::new(),
        steps_seen: 0,
    };
    let automation = lowerer.automation(value, pointer);
    (automation, lowerer.diagnostics)
}

/// `E0002` for text serde_json refused, at the line and column it reported.
fn malformed_json(text: &str, error: &serde_json::Error) -> Diagnostic {
    let offset = LineIndex::new(text).offset_of_byte_column(error.line(), error.column());
    let message = error.to_string();
    let message = message
        .rfind(" at line ")
        .map_or(message.as_str(), |i| &message[..i]);
    // serde_json counts bytes: the offset can fall inside a multi-byte character, and the
    // span must cover whole characters for every renderer and the API's line/column.
    let offset = text.floor_char_boundary(offset);
    let end = text[offset..]
        .chars()
        .next()
        .map_or(offset, |c| offset + c.len_utf8());
    Diagnostic::error(
        codes::JSON_SHAPE,
        format!("malformed JSON: {message}"),
        Span::new(offset, end),
    )
}

struct Lowerer<'m> {
    map: &'m JsonSourceMap,
    diagnostics: Vec<Diagnostic>,
    /// Steps met so far, for default ids `step_N`.
    steps_seen: usize,
}

impl Lowerer<'_> {
    // ----- automation and trigger ------------------------------------------------------

    fn automation(&mut self, value: &Value, pointer: &str) -> Automation {
        let span = self.value_span(pointer);
        let mut automation = Automation {
            name: String::new(),
            description: None,
            status: Status::default(),
            environment: Environment::default(),
            trigger: Trigger {
                event: String::new(),
                span: Span::default(),
            },
            condition: None,
            steps: Vec::new(),
            layout: None,
            span,
        };
        let Some(object) = self.object(value, pointer, "an automation") else {
            return automation;
        };
        self.check_fields(object, pointer, &AUTOMATION_FIELDS, "an automation");
        automation.name = self
            .required_string(object, pointer, "name")
            .unwrap_or_default();
        automation.description = self.optional_string(object, pointer, "description");
        automation.status = self.choice(
            object,
            pointer,
            "status",
            Status::parse,
            &Status::ALL.map(Status::as_str),
        );
        automation.environment = self.choice(
            object,
            pointer,
            "environment",
            Environment::parse,
            &["live", "sandbox"],
        );
        if let Some((trigger, condition)) = self.trigger(object, pointer) {
            automation.trigger = trigger;
            automation.condition = condition;
        }
        automation.steps = match self.member(object, pointer, "actions", "an automation") {
            Some((actions, at)) => self.step_list(actions, &at),
            None => Vec::new(),
        };
        automation.layout = object.get("layout").filter(|v| !v.is_null()).cloned();
        automation
    }

    fn trigger(
        &mut self,
        automation: &Map<String, Value>,
        pointer: &str,
    ) -> Option<(Trigger, Option<Condition>)> {
        let (value, at) = self.member(automation, pointer, "trigger", "an automation")?;
        let object = self.object(value, &at, "`trigger`")?;
        self.check_fields(object, &at, &TRIGGER_FIELDS, "`trigger`");
        let event = self
            .required_string(object, &at, "event")
            .unwrap_or_default();
        let trigger = Trigger {
            event,
            span: self.content_span(&child_pointer(&at, "event")),
        };
        let condition = match object.get("conditions") {
            None | Some(Value::Null) => None,
            Some(conditions) => self.conditions(conditions, &child_pointer(&at, "conditions")),
        };
        Some((trigger, condition))
    }

    /// `conditions`: an equality object or an expression string.
    fn conditions(&mut self, value: &Value, pointer: &str) -> Option<Condition> {
        match value {
            Value::String(text) => Some(Condition {
                expr: self.expression(text, pointer),
                form: ConditionForm::Expression,
            }),
            Value::Object(fields) => self.equality_object(fields, pointer).map(|expr| Condition {
                expr,
                form: ConditionForm::EqualityObject,
            }),
            _ => {
                self.shape_error(
                    pointer,
                    "`conditions` must be an object of field values or an expression string",
                );
                None
            }
        }
    }

    /// `{"a": 1, "b.c": "x"}` -> `a == 1 and b.c == "x"`.
    fn equality_object(&mut self, fields: &Map<String, Value>, pointer: &str) -> Option<Expr> {
        if fields.len() > MAX_CLAUSES {
            let span = self.value_span(pointer);
            let message = format!(
                "an equality object of {} fields is over the limit of {MAX_CLAUSES} clauses",
                fields.len()
            );
            self.diagnostics
                .push(Diagnostic::error(codes::LIMIT_EXCEEDED, message, span));
            return None;
        }
        let mut clauses = Vec::new();
        for (key, value) in fields {
            let at = child_pointer(pointer, key);
            let Some(path) = self.field_path(key, &at) else {
                continue;
            };
            let literal = match value {
                Value::Null | Value::Bool(_) | Value::Number(_) => self.literal(value, &at),
                Value::String(text) => self.plain_string(text, &at),
                _ => {
                    self.shape_error(
                        &at,
                        format!("the value of `{key}` must be a string, number, boolean or null"),
                    );
                    continue;
                }
            };
            let span = path.span.cover(literal.span);
            clauses.push(binary(
                automations_grammar::ast::BinaryOp::Eq,
                path,
                literal,
                span,
            ));
        }
        match clauses.len() {
            0 | 1 => clauses.pop(),
            _ => {
                let span = clauses[0].span.cover(clauses[clauses.len() - 1].span);
                let kind = ExprKind::Logic {
                    op: automations_grammar::ast::LogicOp::And,
                    items: clauses,
                };
                Some(Expr { kind, span })
            }
        }
    }

    /// A dotted key of an equality object as a path expression.
    fn field_path(&mut self, key: &str, pointer: &str) -> Option<Expr> {
        let key_span = self.key_span(pointer);
        let mut idents = Vec::new();
        let mut offset = 0u32;
        for segment in key.split('.') {
            if !is_identifier(segment) {
                self.diagnostics.push(Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("`{key}` is not a field path (names joined by dots)"),
                    key_span,
                ));
                return None;
            }
            let start = self.key_offset(key_span, offset);
            let end = self.key_offset(key_span, offset + segment.len() as u32);
            idents.push(Ident {
                name: segment.to_owned(),
                span: Span { start, end },
            });
            offset += segment.len() as u32 + 1;
        }
        Some(Expr {
            kind: ExprKind::Path(idents),
            span: key_span,
        })
    }

    // ----- steps -----------------------------------------------------------------------

    fn step_list(&mut self, value: &Value, pointer: &str) -> Vec<Step> {
        let Some(items) = value.as_array() else {
            self.shape_error(pointer, "expected an array of steps");
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.step(item, &child_pointer(pointer, &i.to_string())))
            .collect()
    }

    fn step(&mut self, value: &Value, pointer: &str) -> Option<Step> {
        self.steps_seen += 1;
        let default_id = format!("step_{}", self.steps_seen);
        let object = self.object(value, pointer, "a step")?;
        let action = match self.required_string(object, pointer, "type") {
            Some(action) => action,
            None => {
                self.check_fields(object, pointer, &ACTION_FIELDS, "a step");
                return None;
            }
        };
        let (id, id_explicit) = match self.optional_string(object, pointer, "id") {
            Some(id) => {
                self.check_step_id(&id, &child_pointer(pointer, "id"));
                (id, true)
            }
            None => (default_id, false),
        };
        let span = self.value_span(pointer);
        if action == "if" {
            self.check_fields(object, pointer, &IF_FIELDS, "an `if` step");
            let condition = match self.member(object, pointer, "condition", "an `if` step") {
                Some((value, at)) => self.expression_value(value, &at),
                None => null_expr(span),
            };
            let then_steps = match self.member(object, pointer, "then", "an `if` step") {
                Some((value, at)) => self.step_list(value, &at),
                None => Vec::new(),
            };
            let else_steps = match object.get("else") {
                Some(value) => self.step_list(value, &child_pointer(pointer, "else")),
                None => Vec::new(),
            };
            let kind = StepKind::If {
                condition,
                then_steps,
                else_steps,
            };
            return Some(Step {
                id,
                id_explicit,
                guard: None,
                retry: None,
                kind,
                span,
            });
        }
        self.check_fields(object, pointer, &ACTION_FIELDS, "an action step");
        let guard = object
            .get("condition")
            .filter(|v| !v.is_null())
            .map(|value| self.expression_value(value, &child_pointer(pointer, "condition")));
        let params = match object.get("params") {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => self.params(&action, value, &child_pointer(pointer, "params")),
        };
        let retry = object
            .get("retry")
            .filter(|v| !v.is_null())
            .and_then(|value| self.retry(value, &child_pointer(pointer, "retry")));
        let action_span = self.content_span(&child_pointer(pointer, "type"));
        let kind = StepKind::Action {
            action,
            action_span,
            params,
        };
        Some(Step {
            id,
            id_explicit,
            guard,
            retry,
            kind,
            span,
        })
    }

    /// A step's `retry` object: durations (`"2s"`) read as duration literals, the rest as
    /// param values; the checker judges names and values.
    fn retry(&mut self, value: &Value, pointer: &str) -> Option<Retry> {
        let object = self.object(value, pointer, "`retry`")?;
        let entries = object
            .iter()
            .map(|(name, value)| {
                let at = child_pointer(pointer, name);
                let value = match value {
                    Value::String(text) if name.contains("backoff") => {
                        self.duration_or_template(text, &at)
                    }
                    _ => self.param_value(value, &at),
                };
                Param {
                    name: name.clone(),
                    name_span: self.key_span(&at),
                    value,
                }
            })
            .collect();
        Some(Retry {
            entries,
            span: self.value_span(pointer),
        })
    }

    fn check_step_id(&mut self, id: &str, pointer: &str) {
        if !is_identifier(id) {
            self.diagnostics.push(Diagnostic::error(
                codes::INVALID_VALUE,
                format!("step id `{id}` must be a name (letters, digits and `_`, not starting with a digit)"),
                self.content_span(pointer),
            ));
        }
    }

    fn params(&mut self, action: &str, value: &Value, pointer: &str) -> Vec<Param> {
        let Some(object) = self.object(value, pointer, "`params`") else {
            return Vec::new();
        };
        object
            .iter()
            .map(|(name, value)| {
                let at = child_pointer(pointer, name);
                // Forms and durations (`"2d"`) are read by the param's catalog type.
                let value = match (catalog::param_type(action, name), value) {
                    (Some(ParamType::Form), Value::Object(fields)) => self.form(fields, &at),
                    (Some(ParamType::Duration), Value::String(text)) => {
                        self.duration_or_template(text, &at)
                    }
                    _ => self.param_value(value, &at),
                };
                Param {
                    name: name.clone(),
                    name_span: self.key_span(&at),
                    value,
                }
            })
            .collect()
    }

    // ----- values ----------------------------------------------------------------------

    /// Any JSON value as an expression: strings are templates, containers recurse.
    fn param_value(&mut self, value: &Value, pointer: &str) -> Expr {
        let span = self.value_span(pointer);
        match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => self.literal(value, pointer),
            Value::String(text) => self.template(text, pointer),
            Value::Array(items) => {
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        self.param_value(item, &child_pointer(pointer, &i.to_string()))
                    })
                    .collect();
                Expr {
                    kind: ExprKind::List(items),
                    span,
                }
            }
            Value::Object(fields) => {
                let entries = fields
                    .iter()
                    .map(|(key, value)| {
                        let at = child_pointer(pointer, key);
                        let key = Ident {
                            name: key.clone(),
                            span: self.key_span(&at),
                        };
                        ObjectEntry {
                            key,
                            value: self.param_value(value, &at),
                        }
                    })
                    .collect();
                Expr {
                    kind: ExprKind::Object(entries),
                    span,
                }
            }
        }
    }

    fn literal(&mut self, value: &Value, pointer: &str) -> Expr {
        let kind = match value {
            Value::Bool(b) => ExprKind::Bool(*b),
            Value::Number(n) => ExprKind::Number(n.as_f64().unwrap_or(f64::NAN)),
            _ => ExprKind::Null,
        };
        Expr {
            kind,
            span: self.value_span(pointer),
        }
    }

    /// A string taken literally (no templates), as in equality objects.
    fn plain_string(&mut self, text: &str, pointer: &str) -> Expr {
        let parts = if text.is_empty() {
            Vec::new()
        } else {
            vec![StrPart::Text(text.to_owned())]
        };
        Expr {
            kind: ExprKind::Str(parts),
            span: self.value_span(pointer),
        }
    }

    /// A param string: `"{{ expr }}"` alone is that expression, otherwise a string whose
    /// `{{ }}` parts are expressions.
    fn template(&mut self, text: &str, pointer: &str) -> Expr {
        let span = self.value_span(pointer);
        let parts = match parse_template(text) {
            Ok(parts) => parts,
            Err(error) => {
                self.syntax_error(error, pointer, text);
                return self.plain_string(text, pointer);
            }
        };
        let mut parts = normalize_parts(parts);
        for part in &mut parts {
            if let StrPart::Expr(expr) = part {
                self.shift_expr(expr, pointer);
            }
        }
        if let [StrPart::Expr(_)] = parts.as_slice()
            && let Some(StrPart::Expr(expr)) = parts.pop()
        {
            return expr;
        }
        Expr {
            kind: ExprKind::Str(parts),
            span,
        }
    }

    /// `"2d"` for a duration param is the duration literal; anything else a template.
    fn duration_or_template(&mut self, text: &str, pointer: &str) -> Expr {
        if let Ok(mut expr) = parse_expr(text)
            && matches!(expr.kind, ExprKind::Duration { .. })
        {
            self.shift_expr(&mut expr, pointer);
            return expr;
        }
        self.template(text, pointer)
    }

    /// A human task's form: field names to type names, as path expressions (`bool`).
    fn form(&mut self, fields: &Map<String, Value>, pointer: &str) -> Expr {
        let mut entries = Vec::new();
        for (name, value) in fields {
            let at = child_pointer(pointer, name);
            let type_name = match value.as_str() {
                Some(type_name) if FORM_TYPES.contains(&type_name) => type_name,
                other => {
                    let mut diagnostic = Diagnostic::error(
                        codes::INVALID_VALUE,
                        format!(
                            "form field `{name}` needs a type name, one of: {}",
                            FORM_TYPES.join(", ")
                        ),
                        self.content_span(&at),
                    );
                    if let Some(best) = other.and_then(|t| did_you_mean(t, FORM_TYPES)) {
                        diagnostic = diagnostic.with_suggestion(best);
                    }
                    self.diagnostics.push(diagnostic);
                    continue;
                }
            };
            let type_span = self.content_span(&at);
            let type_ident = Ident {
                name: type_name.to_owned(),
                span: type_span,
            };
            let value = Expr {
                kind: ExprKind::Path(vec![type_ident]),
                span: type_span,
            };
            entries.push(ObjectEntry {
                key: Ident {
                    name: name.clone(),
                    span: self.key_span(&at),
                },
                value,
            });
        }
        Expr {
            kind: ExprKind::Object(entries),
            span: self.value_span(pointer),
        }
    }

    /// A guard or `if` condition: must be an expression string.
    fn expression_value(&mut self, value: &Value, pointer: &str) -> Expr {
        match value.as_str() {
            Some(text) => self.expression(text, pointer),
            None => {
                self.shape_error(pointer, "a condition must be an expression string");
                null_expr(self.value_span(pointer))
            }
        }
    }

    fn expression(&mut self, text: &str, pointer: &str) -> Expr {
        match parse_expr(text) {
            Ok(mut expr) => {
                self.shift_expr(&mut expr, pointer);
                expr
            }
            Err(error) => {
                self.syntax_error(error, pointer, text);
                null_expr(self.value_span(pointer))
            }
        }
    }
}

fn binary(op: automations_grammar::ast::BinaryOp, lhs: Expr, rhs: Expr, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    }
}

fn null_expr(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Null,
        span,
    }
}

/// Drops empty text parts and joins neighbouring ones, so that equal strings lower equally.
/// An embedded string literal holding a `{` (how the printer writes a brace that would
/// otherwise open a template) is folded back into the text.
fn normalize_parts(parts: Vec<StrPart>) -> Vec<StrPart> {
    let mut out: Vec<StrPart> = Vec::with_capacity(parts.len());
    for part in parts {
        let part = match part {
            StrPart::Expr(expr) => match brace_literal(&expr) {
                Some(text) => StrPart::Text(text),
                None => StrPart::Expr(expr),
            },
            text => text,
        };
        match (part, out.last_mut()) {
            (StrPart::Text(text), _) if text.is_empty() => {}
            (StrPart::Text(text), Some(StrPart::Text(previous))) => previous.push_str(&text),
            (part, _) => out.push(part),
        }
    }
    out
}

/// The text of a plain string literal that contains `{`.
fn brace_literal(expr: &Expr) -> Option<String> {
    let ExprKind::Str(parts) = &expr.kind else {
        return None;
    };
    let mut text = String::new();
    for part in parts {
        match part {
            StrPart::Text(t) => text.push_str(t),
            StrPart::Expr(_) => return None,
        }
    }
    text.contains('{').then_some(text)
}

/// `[A-Za-z_][A-Za-z0-9_]*`
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
