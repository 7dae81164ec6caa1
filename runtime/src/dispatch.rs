//! Dispatch: which active automations an event triggers (DESIGN §5).
//!
//! [`DispatchIndex`] is keyed on (workspace, event type), then on one equality or range
//! predicate of each automation's condition, so that an event only meets the automations
//! whose indexed predicate its record satisfies (plus the few with no indexable predicate).
//! Candidates are then checked with the full condition. [`DispatchIndex::full_scan`] is the
//! oracle that evaluates every automation of the event type; both must always agree.
//!
//! The index is immutable: the engine rebuilds it off the hot path and swaps it atomically
//! (arc-swap) when automations change. Nothing here touches storage.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

use automations_compiler::typed::{BinaryOp, Root, TExpr, TExprKind, Type};
use automations_compiler::value::Value;

use automations_compiler::eval::{
    CompiledCondition, ReferenceTargets, References, SlotLayout, compile, fill_slots,
};

use crate::expr::{EvalContext, eval_bool};
use crate::plan::Plan;

/// One automation version that can be triggered.
#[derive(Debug, Clone)]
pub struct DispatchEntry {
    pub workspace_id: String,
    pub automation_id: String,
    pub version: i64,
    pub plan: Arc<Plan>,
    /// Sandbox automation of a workspace whose sandbox is on: runs in dry-run.
    pub dry_run: bool,
}

/// An equality key: the JSON value of a field, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Null,
    Bool(bool),
    Num(u64),
    Str(Arc<str>),
}

fn num_key(n: f64) -> Key {
    Key::Num(if n == 0.0 {
        0.0f64.to_bits()
    } else {
        n.to_bits()
    })
}

fn key_of_value(v: &Value) -> Option<Key> {
    Some(match v {
        Value::Null => Key::Null,
        Value::Bool(b) => Key::Bool(*b),
        Value::Number(n) => num_key(*n),
        Value::String(s) => Key::Str(s.clone()),
        _ => return None,
    })
}

fn key_of_json(j: Option<&Json>) -> Option<Key> {
    Some(match j {
        None | Some(Json::Null) => Key::Null,
        Some(Json::Bool(b)) => Key::Bool(*b),
        Some(Json::Number(n)) => num_key(n.as_f64()?),
        Some(Json::String(s)) => Key::Str(s.as_str().into()),
        Some(_) => return None,
    })
}

/// The indexable predicate chosen for one automation.
#[derive(Debug, Clone, PartialEq)]
enum Access {
    /// `field == one of keys`
    Eq {
        field: String,
        keys: Vec<Key>,
    },
    /// `field > / >= / < / <= bound` on numbers.
    Range {
        field: String,
        op: BinaryOp,
        bound: f64,
    },
    Scan,
}

fn simple_field(e: &TExpr) -> Option<&str> {
    match &e.kind {
        TExprKind::Field(fr) if fr.root == Root::Record && fr.path.len() == 1 => {
            let indexable = matches!(
                e.ty.base(),
                Type::String | Type::Number | Type::Bool | Type::Any
            );
            indexable.then(|| fr.path[0].as_str())
        }
        _ => None,
    }
}

fn constant(e: &TExpr) -> Option<&Value> {
    match &e.kind {
        TExprKind::Const(v) => Some(v),
        _ => None,
    }
}

fn conjuncts<'a>(e: &'a TExpr, out: &mut Vec<&'a TExpr>) {
    match &e.kind {
        TExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => {
            conjuncts(lhs, out);
            conjuncts(rhs, out);
        }
        _ => out.push(e),
    }
}

fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        o => o,
    }
}

fn access_of_clause(c: &TExpr) -> Option<Access> {
    let TExprKind::Binary { op, lhs, rhs } = &c.kind else {
        return None;
    };
    let (field, value, op) = match (simple_field(lhs), simple_field(rhs)) {
        (Some(f), _) => (f, rhs.as_ref(), *op),
        (None, Some(f)) => (f, lhs.as_ref(), flip(*op)),
        _ => return None,
    };
    match op {
        BinaryOp::Eq => Some(Access::Eq {
            field: field.into(),
            keys: vec![key_of_value(constant(value)?)?],
        }),
        BinaryOp::In if std::ptr::eq(value, rhs.as_ref()) => {
            let keys = match &value.kind {
                TExprKind::List(items) => items
                    .iter()
                    .map(|i| constant(i).and_then(key_of_value))
                    .collect::<Option<Vec<_>>>()?,
                TExprKind::Const(Value::List(items)) => {
                    items.iter().map(key_of_value).collect::<Option<Vec<_>>>()?
                }
                _ => return None,
            };
            Some(Access::Eq {
                field: field.into(),
                keys,
            })
        }
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => match constant(value)? {
            Value::Number(n) if n.is_finite() => Some(Access::Range {
                field: field.into(),
                op,
                bound: *n,
            }),
            _ => None,
        },
        _ => None,
    }
}

/// Picks the most selective indexable clause: an equality first, then a range.
fn choose_access(condition: Option<&TExpr>) -> Access {
    let Some(c) = condition else {
        return Access::Scan;
    };
    let mut cs = Vec::new();
    conjuncts(c, &mut cs);
    let accesses: Vec<Access> = cs.into_iter().filter_map(access_of_clause).collect();
    accesses
        .iter()
        .find(|a| matches!(a, Access::Eq { .. }))
        .or_else(|| accesses.first())
        .cloned()
        .unwrap_or(Access::Scan)
}

/// Numeric range predicates of one field, sorted by bound for binary search.
#[derive(Debug, Default)]
struct RangeIndex {
    /// `x > b` / `x >= b`: (bound, inclusive, entry)
    lower: Vec<(f64, bool, u32)>,
    /// `x < b` / `x <= b`
    upper: Vec<(f64, bool, u32)>,
}

impl RangeIndex {
    fn collect(&self, x: f64, out: &mut Vec<u32>) {
        // Lower bounds admit x when b < x (or b <= x inclusive): a prefix of the sorted list.
        let end = self.lower.partition_point(|(b, _, _)| *b <= x);
        out.extend(
            self.lower[..end]
                .iter()
                .filter(|(b, inc, _)| *b < x || *inc)
                .map(|(_, _, i)| *i),
        );
        let start = self.upper.partition_point(|(b, _, _)| *b < x);
        out.extend(
            self.upper[start..]
                .iter()
                .filter(|(b, inc, _)| *b > x || *inc)
                .map(|(_, _, i)| *i),
        );
    }
}

#[derive(Default)]
struct Bucket {
    entries: Vec<DispatchEntry>,
    /// One slot layout for every condition of the bucket: an event fills it once.
    layout: SlotLayout,
    /// Compiled conditions, parallel to `entries` (`None`: always true).
    compiled: Vec<Option<CompiledCondition>>,
    eq: HashMap<String, HashMap<Key, Vec<u32>>>,
    range: HashMap<String, RangeIndex>,
    scan: Vec<u32>,
}

/// The immutable dispatch index (see the module doc).
#[derive(Default)]
pub struct DispatchIndex {
    buckets: HashMap<(String, String), Bucket>,
}

/// What dispatch needs to know about an event: where and what, and the condition context.
pub struct DispatchInput<'a> {
    pub workspace_id: &'a str,
    pub event_type: &'a str,
    pub ctx: &'a EvalContext,
}

impl DispatchIndex {
    /// Builds the index; `targets` says how reference fields are followed.
    pub fn build(
        entries: impl IntoIterator<Item = DispatchEntry>,
        targets: Arc<dyn ReferenceTargets>,
    ) -> DispatchIndex {
        let mut buckets: HashMap<(String, String), Bucket> = HashMap::new();
        for e in entries {
            let key = (e.workspace_id.clone(), e.plan.trigger.clone());
            let b = buckets.entry(key).or_insert_with(|| {
                let references = match e.plan.trigger_object() {
                    Some(o) => References::new(o, targets.clone()),
                    None => References::convention(None),
                };
                Bucket {
                    layout: SlotLayout::with_references(references),
                    ..Default::default()
                }
            });
            let i = b.entries.len() as u32;
            let compiled = e.plan.condition.as_ref().map(|c| compile(c, &mut b.layout));
            b.compiled.push(compiled);
            match choose_access(e.plan.condition.as_ref()) {
                Access::Eq { field, keys } => {
                    let m = b.eq.entry(field).or_default();
                    for k in keys {
                        let list = m.entry(k).or_default();
                        if list.last() != Some(&i) {
                            list.push(i);
                        }
                    }
                }
                Access::Range { field, op, bound } => {
                    let r = b.range.entry(field).or_default();
                    match op {
                        BinaryOp::Gt => r.lower.push((bound, false, i)),
                        BinaryOp::Ge => r.lower.push((bound, true, i)),
                        BinaryOp::Lt => r.upper.push((bound, false, i)),
                        _ => r.upper.push((bound, true, i)),
                    }
                }
                Access::Scan => b.scan.push(i),
            }
            b.entries.push(e);
        }
        for b in buckets.values_mut() {
            for r in b.range.values_mut() {
                r.lower.sort_by(|a, b| a.0.total_cmp(&b.0));
                r.upper.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
        }
        DispatchIndex { buckets }
    }

    pub fn len(&self) -> usize {
        self.buckets.values().map(|b| b.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every automation of the event type, unfiltered (callers pre-load references for them).
    pub fn all_for(&self, workspace_id: &str, event_type: &str) -> &[DispatchEntry] {
        self.buckets
            .get(&(workspace_id.to_string(), event_type.to_string()))
            .map(|b| b.entries.as_slice())
            .unwrap_or(&[])
    }

    /// Candidates whose indexed predicate the record satisfies (a superset of the matches).
    pub fn candidates<'a>(&'a self, input: &DispatchInput<'_>) -> Vec<&'a DispatchEntry> {
        let Some(b) = self.bucket(input) else {
            return Vec::new();
        };
        Self::candidate_ids(b, input)
            .into_iter()
            .map(|i| &b.entries[i as usize])
            .collect()
    }

    fn bucket(&self, input: &DispatchInput<'_>) -> Option<&Bucket> {
        self.buckets
            .get(&(input.workspace_id.to_string(), input.event_type.to_string()))
    }

    fn candidate_ids(b: &Bucket, input: &DispatchInput<'_>) -> Vec<u32> {
        let mut ids: Vec<u32> = b.scan.clone();
        for (field, m) in &b.eq {
            if let Some(list) = key_of_json(input.ctx.record.get(field)).and_then(|k| m.get(&k)) {
                ids.extend_from_slice(list);
            }
        }
        for (field, r) in &b.range {
            if let Some(x) = input.ctx.record.get(field).and_then(Json::as_f64) {
                r.collect(x, &mut ids);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The automations the event triggers: the index narrows, the compiled conditions
    /// decide over one slot array filled once for the event.
    pub fn matches<'a>(&'a self, input: &DispatchInput<'_>) -> Vec<&'a DispatchEntry> {
        let Some(b) = self.bucket(input) else {
            return Vec::new();
        };
        let ids = Self::candidate_ids(b, input);
        if ids.is_empty() {
            return Vec::new();
        }
        let slots = input.ctx.with_input(|i| fill_slots(&b.layout, i));
        ids.into_iter()
            .filter(|&i| {
                b.compiled[i as usize]
                    .as_ref()
                    .is_none_or(|c| c.eval(&slots))
            })
            .map(|i| &b.entries[i as usize])
            .collect()
    }

    /// The oracle: every automation of the event type, each condition evaluated by the
    /// tree-walking reference evaluator.
    pub fn full_scan<'a>(&'a self, input: &DispatchInput<'_>) -> Vec<&'a DispatchEntry> {
        self.all_for(input.workspace_id, input.event_type)
            .iter()
            .filter(|e| condition_holds(e, input.ctx))
            .collect()
    }
}

fn condition_holds(e: &DispatchEntry, ctx: &EvalContext) -> bool {
    e.plan.condition.as_ref().is_none_or(|c| eval_bool(c, ctx))
}
