//! One condition on its own, as `automations eval` takes it: parsed, checked for a record
//! of a given object (as on `<object>.updated`), compiled, then evaluated or explained.

use std::sync::Arc;

use crate::check::{ExprScope, check_condition};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::eval::{self, CompiledCondition, EvalInput, Explanation, References, SlotLayout};
use crate::ir::Span;
use crate::lower_dsl::syntax_diagnostic_in;
use crate::schema::Schema;

/// A checked, compiled condition with the slot layout its records are read through.
#[derive(Debug)]
pub struct Condition {
    compiled: CompiledCondition,
    layout: SlotLayout,
    warnings: Vec<Diagnostic>,
}

/// What a condition is evaluated on.
#[derive(Debug, Clone, Copy)]
pub struct ConditionInput<'a> {
    /// The record (a JSON object).
    pub record: &'a serde_json::Value,
    /// The record before the change, for `previous.*` and `changed()`.
    pub previous: Option<&'a serde_json::Value>,
    /// The clock for `now()` and `today()`, milliseconds since the epoch.
    pub now_ms: i64,
}

impl Condition {
    /// True only when the condition holds. Related records (`account.tier`) read as null:
    /// there is no record store here.
    pub fn eval(&self, input: &ConditionInput) -> bool {
        self.compiled.eval(&self.slots(input))
    }

    /// The result and the clause that decided it, with the values it saw.
    pub fn explain(&self, input: &ConditionInput) -> Explanation {
        self.compiled.explain(&self.slots(input))
    }

    /// Lints found while checking (always true/false, ...); spans index into the text.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    fn slots(&self, input: &ConditionInput) -> Vec<crate::value::Value> {
        let eval_input = EvalInput {
            previous: input.previous,
            ..EvalInput::record(input.record, input.now_ms)
        };
        eval::fill_slots(&self.layout, &eval_input)
    }
}

/// Parses `text`, checks it as a condition on `object` records (scope of
/// `<object>.updated`, so `previous` and `changed()` are allowed) and compiles it.
/// Diagnostic spans index into `text`; an unknown object is `E0102` with a suggestion.
pub fn compile_condition(
    text: &str,
    object: &str,
    schema: &Schema,
) -> Result<Condition, Vec<Diagnostic>> {
    if schema.object(object).is_none() {
        return Err(vec![unknown_object(object, schema)]);
    }
    let expr = automations_grammar::parse_expr(text)
        .map_err(|err| vec![syntax_diagnostic_in(&err, text)])?;
    let scope = ExprScope::for_object(object, &format!("{object}.updated"));
    let (typed, diagnostics) = check_condition(&expr, &scope, schema);
    let typed = match typed {
        Some(typed) if !diagnostics.iter().any(Diagnostic::is_error) => typed,
        _ => return Err(diagnostics),
    };
    let references = References::from_schema(object, Arc::new(schema.clone()));
    let mut layout = SlotLayout::with_references(references);
    let compiled = eval::compile(&typed, &mut layout).with_source(text);
    Ok(Condition {
        compiled,
        layout,
        warnings: diagnostics,
    })
}

fn unknown_object(object: &str, schema: &Schema) -> Diagnostic {
    let known: Vec<&str> = schema.object_names().collect();
    let mut d = Diagnostic::error(
        codes::UNKNOWN_OBJECT,
        format!("unknown object `{object}`"),
        Span::new(0, 0),
    )
    .with_note(format!("known objects: {}", known.join(", ")));
    d.suggestion = crate::suggest::did_you_mean(object, known.iter().copied()).map(str::to_owned);
    match d.suggestion.clone() {
        // A note, not a replacement of the expression: the object comes from `--object`.
        Some(s) => d.with_note(format!("did you mean `{s}`?")),
        None => d,
    }
}
