//! Evaluation of typed expressions for the executor and dispatch: step params and
//! templates (rendered to JSON), guards, `if` conditions and trigger conditions.
//!
//! The semantics are the compiler's (`automations_compiler::eval`): this module only builds
//! the evaluation input (record, previous, event, step outputs, clock, related records
//! pre-loaded through the open transaction) and calls the reference evaluator. Total by
//! construction: nothing here panics or errors.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use automations_compiler::eval::{
    EvalInput, NamingConvention, ReferenceTargets, References, Resolver,
};
use automations_compiler::typed::{FieldRef, Root, TExpr, TExprKind, Type};
use automations_compiler::value::Value;

use crate::schema::SchemaView;

/// What an expression can read.
///
/// The record and its previous state are read where the event carries them
/// (`event.record`, `event.previous`) rather than copied out of it: building a context
/// costs no copy of either (a record write's event is mostly those two). Only a record the
/// event does not carry as is gets its own copy ([`Self::set_record`],
/// [`Self::record_mut`]).
#[derive(Debug, Clone)]
pub struct EvalContext {
    /// What `event.*` reads: the envelope (`id`, `type`, `object`, `record_id`) and the
    /// payload keys (`record`, `previous`, `changed` for record events).
    pub event: Json,
    /// The triggering record when it is not the event's own `record`: a custom event's
    /// live record, or the event's with the run's own writes laid over.
    pub record: Option<Json>,
    pub steps: Map<String, Json>,
    pub now_ms: i64,
    /// Related records by (object, id), loaded before evaluation.
    pub related: HashMap<(String, String), Json>,
    /// The triggering object and how its references are followed.
    pub references: References,
}

impl Default for EvalContext {
    fn default() -> Self {
        EvalContext {
            event: Json::Null,
            record: None,
            steps: Map::new(),
            now_ms: 0,
            related: HashMap::new(),
            references: References::default(),
        }
    }
}

/// Reference targets as the runtime's schema view declares them (the built-in naming
/// convention where the owning object is unknown).
pub struct SchemaTargets(pub Arc<dyn SchemaView>);

impl ReferenceTargets for SchemaTargets {
    fn target(&self, object: Option<&str>, field: &str) -> Option<String> {
        match object.and_then(|o| self.0.field_type(o, field)) {
            Some(Type::Reference(t)) => Some(t),
            Some(_) => None,
            None => NamingConvention.target(object, field),
        }
    }
}

struct Preloaded<'a>(&'a HashMap<(String, String), Json>);

impl Resolver for Preloaded<'_> {
    fn related(&self, object: &str, id: &str) -> Option<Json> {
        self.0.get(&(object.to_string(), id.to_string())).cloned()
    }
}

/// The record of an event that carries none, and the record a context starts from then.
static NO_RECORD: std::sync::LazyLock<Json> = std::sync::LazyLock::new(|| Json::Object(Map::new()));

impl EvalContext {
    /// The triggering record as a JSON object (`{}` for custom events without one).
    pub fn record(&self) -> &Json {
        self.record
            .as_ref()
            .or_else(|| self.carried("record"))
            .unwrap_or(&NO_RECORD)
    }

    /// The record before the change: `None` on `*.created` and custom events
    /// (`previous.*` is null, `changed()` false).
    pub fn previous(&self) -> Option<&Json> {
        self.carried("previous")
    }

    /// Whether the event carries its record (a record event does; a custom event does
    /// not, unless its data has a `record` object).
    pub fn carries_record(&self) -> bool {
        self.carried("record").is_some()
    }

    /// An object the event carries under `key`.
    fn carried(&self, key: &str) -> Option<&Json> {
        self.event.get(key).filter(|v| v.is_object())
    }

    /// Replaces the triggering record (the event's is kept for `event.record`).
    pub fn set_record(&mut self, record: Json) {
        self.record = Some(record);
    }

    /// The triggering record's fields to change: the first change copies the event's.
    pub fn record_mut(&mut self) -> &mut Map<String, Json> {
        let fields = match self.record.take() {
            Some(Json::Object(own)) => own,
            _ => self
                .carried("record")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default(),
        };
        let Json::Object(fields) = self.record.insert(Json::Object(fields)) else {
            unreachable!("an object was put in just now")
        };
        fields
    }

    /// Runs `f` with the compiler's evaluation input over this context.
    pub fn with_input<T>(&self, f: impl FnOnce(&EvalInput<'_>) -> T) -> T {
        self.with_resolver(&Preloaded(&self.related), f)
    }

    /// [`Self::with_input`] with related records from `resolver`.
    pub fn with_resolver<T>(
        &self,
        resolver: &dyn Resolver,
        f: impl FnOnce(&EvalInput<'_>) -> T,
    ) -> T {
        let input = EvalInput {
            record: self.record(),
            previous: self.previous(),
            event: Some(&self.event),
            steps: Some(&self.steps),
            now_ms: self.now_ms,
            resolver,
        };
        f(&input)
    }
}

/// Serves the pre-loaded related records and notes every one asked for that is neither
/// loaded nor in `tried` (known missing), so the caller can load them and evaluate again.
pub struct MissRecorder<'a> {
    pub related: &'a HashMap<(String, String), Json>,
    pub tried: &'a HashSet<(String, String)>,
    pub missed: RefCell<Vec<(String, String)>>,
}

impl Resolver for MissRecorder<'_> {
    fn related(&self, object: &str, id: &str) -> Option<Json> {
        let key = (object.to_string(), id.to_string());
        if let Some(r) = self.related.get(&key) {
            return Some(r.clone());
        }
        if !self.tried.contains(&key) {
            let mut missed = self.missed.borrow_mut();
            if !missed.contains(&key) {
                missed.push(key);
            }
        }
        None
    }
}

/// Evaluates a condition: true only for `Bool(true)`.
pub fn eval_bool(e: &TExpr, ctx: &EvalContext) -> bool {
    ctx.with_input(|input| {
        automations_compiler::eval::reference::evaluate_bool(e, input, &ctx.references)
    })
}

pub fn eval(e: &TExpr, ctx: &EvalContext) -> Value {
    ctx.with_input(|input| {
        automations_compiler::eval::reference::evaluate(e, input, &ctx.references)
    })
}

/// Evaluates a param and renders it as JSON.
pub fn eval_json(e: &TExpr, ctx: &EvalContext) -> Json {
    to_json(&eval(e, ctx))
}

pub fn to_json(v: &Value) -> Json {
    automations_compiler::eval::convert::value_to_json(v)
}

/// Reference hops an expression needs (record and previous roots), for pre-loading.
pub fn reference_paths(e: &TExpr, out: &mut Vec<(bool, Vec<String>)>) {
    let mut add = |fr: &FieldRef| {
        let prev = match fr.root {
            Root::Record => false,
            Root::Previous => true,
            _ => return,
        };
        for n in 1..fr.path.len() {
            let p = (prev, fr.path[..n].to_vec());
            if !out.contains(&p) {
                out.push(p);
            }
        }
    };
    visit_fields(e, &mut add);
}

fn visit_fields(e: &TExpr, f: &mut dyn FnMut(&FieldRef)) {
    match &e.kind {
        TExprKind::Field(fr) => f(fr),
        TExprKind::Changed {
            current,
            previous,
            from,
            to,
        } => {
            f(current);
            f(previous);
            from.iter()
                .chain(to.iter())
                .for_each(|x| visit_fields(x, f));
        }
        TExprKind::List(xs)
        | TExprKind::Template(xs)
        | TExprKind::Call { args: xs, .. }
        | TExprKind::Logic { items: xs, .. } => xs.iter().for_each(|x| visit_fields(x, f)),
        TExprKind::Not(x) | TExprKind::Neg(x) | TExprKind::IsNull { expr: x, .. } => {
            visit_fields(x, f)
        }
        TExprKind::Binary { lhs, rhs, .. }
        | TExprKind::Quantifier {
            list: lhs,
            body: rhs,
            ..
        } => {
            visit_fields(lhs, f);
            visit_fields(rhs, f);
        }
        TExprKind::Object(kvs) => kvs.iter().for_each(|(_, x)| visit_fields(x, f)),
        TExprKind::Const(_) | TExprKind::Local(_) => {}
    }
}

/// `90s`, `15m`, `48h`, `3d` (also `500ms`, `2w`) in milliseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return None,
    };
    n.checked_mul(mult)
}
