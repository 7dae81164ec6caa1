//! Span arithmetic and member access for the JSON lowering: where a pointer's value, key
//! or string content is in the text, and the shape/missing/unknown-field diagnostics.
//!
//! Split from `lower.rs` to keep files small; it never builds IR nodes itself.

use automations_grammar::ParseError;
use automations_grammar::ast::Expr;
use serde_json::{Map, Value};

use super::Lowerer;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Span};
use crate::json::source_map::child_pointer;
use crate::suggest::did_you_mean;

impl Lowerer<'_> {
    // ----- spans -----------------------------------------------------------------------

    /// Moves spans relative to the decoded string at `pointer` into the text.
    pub(super) fn shift_expr(&self, expr: &mut Expr, pointer: &str) {
        let to_text = self.map.string_offsets(pointer);
        ir::map_expr_spans(expr, &mut |span| match &to_text {
            Some(to_text) => Span {
                start: to_text(span.start),
                end: to_text(span.end),
            },
            None => Span::default(),
        });
    }

    pub(super) fn string_span(&self, pointer: &str, span: Span) -> Span {
        let start = self.map.string_offset(pointer, span.start).unwrap_or(0);
        let end = self.map.string_offset(pointer, span.end).unwrap_or(0);
        Span { start, end }
    }

    pub(super) fn value_span(&self, pointer: &str) -> Span {
        self.map.value_span(pointer).unwrap_or_default()
    }

    /// The member name's span, or the value's for array items and the root.
    pub(super) fn key_span(&self, pointer: &str) -> Span {
        self.map
            .key_span(pointer)
            .unwrap_or_else(|| self.value_span(pointer))
    }

    /// A string value without its quotes (other values whole).
    pub(super) fn content_span(&self, pointer: &str) -> Span {
        let span = self.value_span(pointer);
        match self.map.string_offset(pointer, 0) {
            Some(start) if span.end > span.start => Span {
                start,
                end: span.end - 1,
            },
            _ => span,
        }
    }

    /// Offset `within` a key, through escapes when the key has none (keys are rarely escaped).
    pub(super) fn key_offset(&self, key_span: Span, within: u32) -> u32 {
        if key_span == Span::default() {
            0
        } else {
            (key_span.start + within).min(key_span.end)
        }
    }

    // ----- object access and diagnostics -----------------------------------------------

    pub(super) fn object<'v>(
        &mut self,
        value: &'v Value,
        pointer: &str,
        what: &str,
    ) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.shape_error(
                pointer,
                format!("{what} must be a JSON object, found {}", kind_of(value)),
            );
        }
        object
    }

    /// A required member; `E0004` when absent.
    pub(super) fn member<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        pointer: &str,
        name: &str,
        what: &str,
    ) -> Option<(&'v Value, String)> {
        match object.get(name) {
            Some(value) => Some((value, child_pointer(pointer, name))),
            None => {
                let span = self.value_span(pointer);
                let at = Span {
                    start: span.start,
                    end: span.start + u32::from(span.end > span.start),
                };
                self.diagnostics.push(Diagnostic::error(
                    codes::MISSING_PART,
                    format!("{what} needs `{name}`"),
                    at,
                ));
                None
            }
        }
    }

    pub(super) fn required_string(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        name: &str,
    ) -> Option<String> {
        let what = match name {
            "event" => "`trigger`",
            "type" => "a step",
            _ => "an automation",
        };
        let (value, at) = self.member(object, pointer, name, what)?;
        self.string_value(value, &at, name)
    }

    pub(super) fn optional_string(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        name: &str,
    ) -> Option<String> {
        match object.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => self.string_value(value, &child_pointer(pointer, name), name),
        }
    }

    pub(super) fn string_value(
        &mut self,
        value: &Value,
        pointer: &str,
        name: &str,
    ) -> Option<String> {
        match value {
            Value::String(text) => Some(text.clone()),
            other => {
                self.shape_error(
                    pointer,
                    format!("`{name}` must be a string, found {}", kind_of(other)),
                );
                None
            }
        }
    }

    /// An optional member with a closed set of values (`status`, `environment`).
    pub(super) fn choice<T: Default>(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        allowed: &[&str],
    ) -> T {
        let Some(text) = self.optional_string(object, pointer, name) else {
            return T::default();
        };
        if let Some(value) = parse(&text) {
            return value;
        }
        let mut diagnostic = Diagnostic::error(
            codes::INVALID_VALUE,
            format!(
                "`{text}` is not a valid {name}; expected one of: {}",
                allowed.join(", ")
            ),
            self.content_span(&child_pointer(pointer, name)),
        );
        if let Some(best) = did_you_mean(&text, allowed.iter().copied()) {
            diagnostic = diagnostic.with_suggestion(best);
        }
        self.diagnostics.push(diagnostic);
        T::default()
    }

    /// `E0003` for each member not in `known`, with a did-you-mean when one is close.
    pub(super) fn check_fields(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        known: &[&str],
        what: &str,
    ) {
        for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
            let mut diagnostic = Diagnostic::error(
                codes::UNKNOWN_DEFINITION_FIELD,
                format!("unknown field `{key}` in {what}"),
                self.key_span(&child_pointer(pointer, key)),
            )
            .with_note(format!("known fields: {}", known.join(", ")));
            if let Some(best) = did_you_mean(key, known.iter().copied()) {
                diagnostic = diagnostic.with_suggestion(best);
            }
            self.diagnostics.push(diagnostic);
        }
    }

    pub(super) fn shape_error(&mut self, pointer: &str, message: impl Into<String>) {
        let span = self.value_span(pointer);
        self.diagnostics
            .push(Diagnostic::error(codes::JSON_SHAPE, message, span));
    }

    /// `text` is the decoded string content the error's spans index into.
    pub(super) fn syntax_error(&mut self, error: ParseError, pointer: &str, text: &str) {
        let mut diagnostic = crate::lower_dsl::syntax_diagnostic_in(&error, text);
        diagnostic.span = self.string_span(pointer, diagnostic.span);
        for label in &mut diagnostic.labels {
            label.span = self.string_span(pointer, label.span);
        }
        self.diagnostics.push(diagnostic);
    }
}

pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
