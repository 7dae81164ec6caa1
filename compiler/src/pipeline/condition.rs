//! One condition on its own, as `automations eval` and embedders take it: parsed, checked
//! for a record of a given object (as on `<object>.updated`), compiled once, then
//! evaluated or explained any number of times.
//!
//! The compiled form reads a record through a slot array: [`Condition::fill`] converts
//! the fields the condition reads (and only those) once per record, and
//! [`Condition::eval_slots`] / [`Condition::explain_slots`] answer from those slots
//! without touching the JSON again. [`ConditionCompiler`] shares one schema between every
//! condition it compiles (no copy per condition).

use std::sync::Arc;

use crate::check::{ExprScope, check_condition};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::eval::{
    self, CompiledCondition, EvalInput, Explanation, NoResolver, ReferenceTargets, References,
    Resolver, SlotLayout,
};
use crate::ir::Span;
use crate::lower_dsl::syntax_diagnostic_in;
use crate::schema::{FieldType, Schema};
use crate::typed::{FieldRef, TExpr};
use crate::value::Value;

/// A checked, compiled condition with the slot layout its records are read through.
///
/// ```
/// use automations_compiler::pipeline::{ConditionCompiler, ConditionInput};
/// use automations_compiler::schema::Schema;
/// use serde_json::json;
///
/// let compiler = ConditionCompiler::new(Schema::builtin());
/// let condition = compiler
///     .compile(r#"changed(status) and status == "escalated""#, "case")
///     .unwrap();
/// let record = json!({"id": "c1", "status": "escalated"});
/// let previous = json!({"id": "c1", "status": "open"});
/// let input = ConditionInput {
///     previous: Some(&previous),
///     ..ConditionInput::record(&record, 0)
/// };
/// let slots = condition.fill(&input); // the fields it reads, converted once
/// assert!(condition.eval_slots(&slots)); // any number of times, no conversion
/// assert_eq!(
///     condition.explain_slots(&slots).to_string(),
///     "true: all 2 clauses were true"
/// );
/// // On create there is no previous record: `changed()` is false.
/// let created = condition.fill(&ConditionInput::record(&record, 0));
/// assert!(!condition.eval_slots(&created));
/// ```
#[derive(Debug)]
pub struct Condition {
    compiled: CompiledCondition,
    layout: SlotLayout,
    warnings: Vec<Diagnostic>,
}

/// What a condition is evaluated on.
#[derive(Clone, Copy)]
pub struct ConditionInput<'a> {
    /// The record (a JSON object).
    pub record: &'a serde_json::Value,
    /// The record before the change, for `previous.*` and `changed()`.
    pub previous: Option<&'a serde_json::Value>,
    /// The clock for `now()` and `today()`, milliseconds since the epoch.
    pub now_ms: i64,
    /// Where related records come from (`account.tier` on a case reads the account the
    /// case's `account_id` names); [`NoResolver`], which knows none (every hop is null),
    /// unless set.
    pub resolver: &'a dyn Resolver,
}

impl<'a> ConditionInput<'a> {
    /// A record on its own: no previous record (so `changed()` is false), no related
    /// records, clock at `now_ms`.
    pub fn record(record: &'a serde_json::Value, now_ms: i64) -> Self {
        ConditionInput {
            record,
            previous: None,
            now_ms,
            resolver: &NoResolver,
        }
    }

    /// The same input with `previous` as the record before the change.
    pub fn with_previous(self, previous: &'a serde_json::Value) -> Self {
        ConditionInput {
            previous: Some(previous),
            ..self
        }
    }

    /// The same input reading related records through `resolver`.
    pub fn with_resolver(self, resolver: &'a dyn Resolver) -> Self {
        ConditionInput { resolver, ..self }
    }

    /// The evaluator's input for this one.
    pub(super) fn eval_input(&self) -> EvalInput<'a> {
        EvalInput {
            previous: self.previous,
            resolver: self.resolver,
            ..EvalInput::record(self.record, self.now_ms)
        }
    }
}

impl std::fmt::Debug for ConditionInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConditionInput")
            .field("record", &self.record)
            .field("previous", &self.previous)
            .field("now_ms", &self.now_ms)
            .finish_non_exhaustive()
    }
}

/// The values one record holds in the fields a [`Condition`] reads, converted once
/// ([`Condition::fill`]) and read by every evaluation of that condition on that record.
/// Only meaningful for the condition that filled it (another one reads other slots).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slots(pub(super) Vec<Value>);

impl Slots {
    /// The converted values, in slot order (see [`Condition::fields`]).
    pub fn values(&self) -> &[Value] {
        &self.0
    }
}

impl Condition {
    /// True only when the condition holds. Related records (`account.tier`) are read
    /// through the input's resolver (none by default: null). Converts the record each call: to evaluate one
    /// record several times, [`Condition::fill`] once and use [`Condition::eval_slots`].
    pub fn eval(&self, input: &ConditionInput) -> bool {
        self.eval_slots(&self.fill(input))
    }

    /// The result and the clause that decided it, with the values it saw.
    pub fn explain(&self, input: &ConditionInput) -> Explanation {
        self.explain_slots(&self.fill(input))
    }

    /// Converts the fields this condition reads from `input`, once per record.
    pub fn fill(&self, input: &ConditionInput) -> Slots {
        let mut slots = Slots::default();
        self.fill_into(input, &mut slots);
        slots
    }

    /// [`Condition::fill`] into `slots`, reusing its allocation (for loops over records).
    pub fn fill_into(&self, input: &ConditionInput, slots: &mut Slots) {
        eval::fill_slots_into(&self.layout, &input.eval_input(), &mut slots.0);
    }

    /// The answer on a record filled by [`Condition::fill`]: no conversion, no
    /// allocation on the common shapes (`f == "x"`, `f > 5`, `f in [...]`).
    #[inline]
    pub fn eval_slots(&self, slots: &Slots) -> bool {
        self.compiled.eval(&slots.0)
    }

    /// [`Condition::explain`] on a record filled by [`Condition::fill`].
    pub fn explain_slots(&self, slots: &Slots) -> Explanation {
        self.compiled.explain(&slots.0)
    }

    /// The fields the condition reads, in slot order (a field read as two kinds, e.g.
    /// `changed(f)` and `f > 5`, appears twice).
    pub fn fields(&self) -> &[FieldRef] {
        self.layout.fields()
    }

    /// Lints found while checking (always true/false, ...); spans index into the text.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}

/// Compiles conditions against one schema, which it shares (an `Arc`) with every
/// condition it compiles instead of copying it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ConditionCompiler {
    pub(super) schema: Arc<Schema>,
}

impl ConditionCompiler {
    /// A compiler for conditions over `schema` (e.g. [`Schema::builtin`]).
    pub fn new(schema: impl Into<Arc<Schema>>) -> Self {
        ConditionCompiler {
            schema: schema.into(),
        }
    }

    /// The schema conditions are checked against.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// [`compile_condition`] against this compiler's schema.
    ///
    /// A condition with an error is an `Err` with every diagnostic; render them as the
    /// CLI does with [`crate::render`]:
    ///
    /// ```
    /// use automations_compiler::pipeline::ConditionCompiler;
    /// use automations_compiler::render::{FileDiagnostics, RenderConfig, render_human};
    /// use automations_compiler::schema::Schema;
    ///
    /// let compiler = ConditionCompiler::new(Schema::builtin());
    /// let text = r#"priority == "urgent""#;
    /// let diagnostics = compiler.compile(text, "case").unwrap_err();
    /// let files = [FileDiagnostics { file: "<condition>", source: text, diagnostics: &diagnostics }];
    /// let report = render_human(&files, RenderConfig::default());
    /// assert!(report.contains("urgent"), "{report}");
    /// ```
    pub fn compile(&self, text: &str, object: &str) -> Result<Condition, Vec<Diagnostic>> {
        let targets: Arc<dyn ReferenceTargets> = self.schema.clone();
        compile_with(text, object, &self.schema, targets)
    }
}

/// Parses `text`, checks it as a condition on `object` records (scope of
/// `<object>.updated`, so `previous` and `changed()` are allowed) and compiles it.
/// `Ok` only without errors (warnings are in [`Condition::warnings`]); diagnostic spans
/// index into `text`; an unknown object is `E0102` with a suggestion. The schema is not
/// copied: only its reference fields are (to follow `account.tier`); a
/// [`ConditionCompiler`] does not even copy those.
pub fn compile_condition(
    text: &str,
    object: &str,
    schema: &Schema,
) -> Result<Condition, Vec<Diagnostic>> {
    compile_with(text, object, schema, Arc::new(ReferenceFields::of(schema)))
}

fn compile_with(
    text: &str,
    object: &str,
    schema: &Schema,
    targets: Arc<dyn ReferenceTargets>,
) -> Result<Condition, Vec<Diagnostic>> {
    let (typed, warnings) = check_text(text, object, schema)?;
    let mut layout = SlotLayout::with_references(References::new(object, targets));
    let compiled = eval::compile_with_source(&typed, &mut layout, Some(text));
    Ok(Condition {
        compiled,
        layout,
        warnings,
    })
}

/// Parses and checks `text` as a condition on `object` records: the typed tree and its
/// warnings, or every diagnostic when there is an error.
pub(super) fn check_text(
    text: &str,
    object: &str,
    schema: &Schema,
) -> Result<(TExpr, Vec<Diagnostic>), Vec<Diagnostic>> {
    if schema.object(object).is_none() {
        return Err(vec![unknown_object(object, schema)]);
    }
    let expr = automations_grammar::parse_expr(text)
        .map_err(|err| vec![syntax_diagnostic_in(&err, text)])?;
    let scope = ExprScope::for_object(object, &format!("{object}.updated"));
    let (typed, diagnostics) = check_condition(&expr, &scope, schema);
    match typed {
        Some(typed) => Ok((typed, diagnostics)),
        None => Err(diagnostics),
    }
}

/// The reference fields of a schema (`case.account_id` -> `account`), followed as the
/// schema itself follows them: a small copy instead of the whole schema.
#[derive(Debug)]
struct ReferenceFields(std::collections::HashMap<(String, String), String>);

impl ReferenceFields {
    fn of(schema: &Schema) -> Self {
        let mut map = std::collections::HashMap::new();
        for (object, def) in &schema.objects {
            for (field, f) in &def.fields {
                if let FieldType::Reference { object: target } = &f.ty {
                    map.insert((object.clone(), field.clone()), target.clone());
                }
            }
        }
        ReferenceFields(map)
    }
}

impl ReferenceTargets for ReferenceFields {
    fn target(&self, object: Option<&str>, field: &str) -> Option<String> {
        let Some(object) = object else {
            return eval::NamingConvention.target(None, field);
        };
        self.0.get(&(object.to_owned(), field.to_owned())).cloned()
    }
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
