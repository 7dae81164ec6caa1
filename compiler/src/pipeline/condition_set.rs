//! Several conditions on records of one object, compiled into one shared slot layout, so
//! that a record is converted once for all of them (a linter checking a rule book
//! against exported records, or a router choosing among many rules per record).

use std::sync::Arc;

use super::condition::{ConditionCompiler, ConditionInput, Slots, check_text};
use crate::diagnostic::Diagnostic;
use crate::eval::{self, CompiledCondition, Explanation, ReferenceTargets, References, SlotLayout};
use crate::typed::FieldRef;

/// Conditions on records of one object sharing one slot layout: [`ConditionSet::fill`]
/// converts each field any of them reads once per record, and every condition is then
/// evaluated from the same [`Slots`].
///
/// ```
/// use automations_compiler::pipeline::{ConditionCompiler, ConditionInput, ConditionSet};
/// use automations_compiler::schema::Schema;
/// use serde_json::json;
///
/// let compiler = ConditionCompiler::new(Schema::builtin());
/// let mut set = ConditionSet::new(&compiler, "case");
/// let urgent = set.add(r#"priority in ["high", "critical"]"#).unwrap();
/// let open = set.add(r#"status != "closed" and priority != "low""#).unwrap();
/// // A condition that does not check is not added: its diagnostics say why.
/// let errors = set.add(r#"priority == "urgent""#).unwrap_err();
/// assert!(errors.iter().any(|d| d.is_error()));
///
/// let record = json!({"id": "c1", "priority": "critical", "status": "open"});
/// let slots = set.fill(&ConditionInput::record(&record, 0)); // `priority` read once
/// assert!(set.eval(urgent, &slots));
/// assert!(set.eval(open, &slots));
/// assert_eq!(set.len(), 2);
/// ```
#[derive(Debug)]
pub struct ConditionSet {
    compiler: ConditionCompiler,
    object: String,
    layout: SlotLayout,
    conditions: Vec<Member>,
}

#[derive(Debug)]
struct Member {
    compiled: CompiledCondition,
    warnings: Vec<Diagnostic>,
}

impl ConditionSet {
    /// An empty set of conditions on `object` records, checked by `compiler`'s schema.
    pub fn new(compiler: &ConditionCompiler, object: &str) -> Self {
        let targets: Arc<dyn ReferenceTargets> = compiler.schema.clone();
        ConditionSet {
            compiler: compiler.clone(),
            object: object.to_owned(),
            layout: SlotLayout::with_references(References::new(object, targets)),
            conditions: Vec::new(),
        }
    }

    /// Checks and compiles `text` into the set: its index for [`ConditionSet::eval`], or
    /// its diagnostics when it has an error (nothing is added then). Slots filled before
    /// an `add` lack the fields the new condition reads: fill them again.
    pub fn add(&mut self, text: &str) -> Result<usize, Vec<Diagnostic>> {
        let (typed, warnings) = check_text(text, &self.object, &self.compiler.schema)?;
        let compiled = eval::compile_with_source(&typed, &mut self.layout, Some(text));
        self.conditions.push(Member { compiled, warnings });
        Ok(self.conditions.len() - 1)
    }

    /// Converts the fields every condition of the set reads, once per record.
    pub fn fill(&self, input: &ConditionInput) -> Slots {
        let mut slots = Slots::default();
        self.fill_into(input, &mut slots);
        slots
    }

    /// [`ConditionSet::fill`] into `slots`, reusing its allocation.
    pub fn fill_into(&self, input: &ConditionInput, slots: &mut Slots) {
        eval::fill_slots_into(&self.layout, &input.eval_input(), &mut slots.0);
    }

    /// Whether condition `index` holds on the filled record (false for an index the set
    /// does not have).
    #[inline]
    pub fn eval(&self, index: usize, slots: &Slots) -> bool {
        self.conditions
            .get(index)
            .is_some_and(|c| c.compiled.eval(&slots.0))
    }

    /// Why condition `index` holds or not; `None` for an index the set does not have.
    pub fn explain(&self, index: usize, slots: &Slots) -> Option<Explanation> {
        let member = self.conditions.get(index)?;
        Some(member.compiled.explain(&slots.0))
    }

    /// The lints of condition `index` (empty for an index the set does not have).
    pub fn warnings(&self, index: usize) -> &[Diagnostic] {
        self.conditions
            .get(index)
            .map_or(&[], |c| c.warnings.as_slice())
    }

    /// The fields the set reads, in slot order.
    pub fn fields(&self) -> &[FieldRef] {
        self.layout.fields()
    }

    /// How many conditions the set holds.
    pub fn len(&self) -> usize {
        self.conditions.len()
    }

    /// Whether the set holds no condition.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }
}
