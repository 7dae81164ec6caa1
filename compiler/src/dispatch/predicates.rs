//! Which parts of a condition an index may use: the conjuncts of its top-level `and` that
//! can only be true when one field holds one of a few constants (`f == c`, `f in [..]`,
//! `f is null`, a bool field alone, `changed(f, to: c)`) or lies beyond a constant
//! (`f > c`, `f >= c`, `f < c`, `f <= c` for numbers, datetimes and durations).
//!
//! Every predicate returned here is a *necessary* condition: when the whole condition is
//! true, the predicate holds for the slot values of the event. This module must never
//! return a predicate that can be false while the condition is true (a top-level `or`, a
//! `not`, `!=`, a non-constant operand, a list or NaN constant are never indexed); the
//! index would then drop matches.

use std::collections::HashSet;

use crate::eval::context::changed_type;
use crate::typed::{BinaryOp, FieldRef, LogicOp, Root, TExpr, TExprKind, Type};
use crate::value::Value;

use super::key::Key;

/// A necessary condition on one field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Predicate {
    /// The field's value `==` one of `keys` (deduplicated; `f == c` has one key).
    OneOf {
        field: FieldRef,
        ty: Type,
        keys: Vec<Key>,
        /// The conjunct holds exactly when the predicate does (false for `changed`, which
        /// also needs the previous value to differ).
        exact: bool,
    },
    /// The field's value compares to a constant: `lower` means `f > c` / `f >= c`.
    Range {
        field: FieldRef,
        ty: Type,
        bound: Bound,
    },
}

/// `f > c` is `{ lower: true, inclusive: false }`, `f <= c` is `{ lower: false, inclusive: true }`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bound {
    pub threshold: Threshold,
    pub lower: bool,
    pub inclusive: bool,
}

/// An ordered constant. Only kinds whose order the evaluators define against slot values
/// of the same kind; never NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Threshold {
    Number(f64),
    DateTime(i64),
    Duration(i64),
    /// `now()` plus this many milliseconds (`created_at > now() - 2d`): a bound on the
    /// datetime field minus the event's clock. Unlike the others it is not exact (it
    /// holds where `now() + c` overflows and the comparison is false), so candidates are
    /// still decided by the condition.
    SinceNow(i64),
}

impl Threshold {
    /// Whether the bound holds exactly when the conjunct it comes from does.
    pub(crate) fn exact(&self) -> bool {
        !matches!(self, Threshold::SinceNow(_))
    }
}

/// The conjuncts of `condition` (the items of its top-level `and`, or itself), each with
/// its indexable predicate if it has one, in written order.
pub(crate) fn indexable(condition: &TExpr) -> Vec<(&TExpr, Option<Predicate>)> {
    let mut conjuncts = Vec::new();
    flatten_and(condition, &mut conjuncts);
    conjuncts.into_iter().map(|c| (c, predicate(c))).collect()
}

/// The conjuncts of `e`: the items of an `and` chain (flat since the checker), or `e`.
fn flatten_and<'e>(e: &'e TExpr, out: &mut Vec<&'e TExpr>) {
    match &e.kind {
        TExprKind::Logic {
            op: LogicOp::And,
            items,
        } => out.extend(items),
        _ => out.push(e),
    }
}

fn predicate(e: &TExpr) -> Option<Predicate> {
    match &e.kind {
        TExprKind::Binary { op, lhs, rhs } => binary(*op, lhs, rhs),
        // `f is null`: null equals null.
        TExprKind::IsNull {
            expr,
            negated: false,
        } => one_of(expr, vec![Key::Null]),
        // A field alone holds only when it is `true`.
        TExprKind::Field(f) => Some(Predicate::OneOf {
            field: f.clone(),
            ty: e.ty.clone(),
            keys: vec![Key::Bool(true)],
            exact: true,
        }),
        // `changed(f, to: c)` requires the current value to equal `c`.
        TExprKind::Changed {
            current, from, to, ..
        } => {
            let to = to.as_deref()?;
            let key = Key::of(&constant(to)?)?;
            Some(Predicate::OneOf {
                field: current.clone(),
                ty: changed_type(from.as_deref(), Some(to)),
                keys: vec![key],
                exact: false,
            })
        }
        _ => None,
    }
}

fn binary(op: BinaryOp, lhs: &TExpr, rhs: &TExpr) -> Option<Predicate> {
    use BinaryOp::*;
    match op {
        Eq => {
            let (field, c) = field_and_constant(lhs, rhs)?;
            one_of(field, vec![Key::of(&c)?])
        }
        In => {
            // Only a constant list on the right: `s in "text"` is a substring test.
            let Value::List(items) = constant(rhs)? else {
                return None;
            };
            let mut keys: Vec<Key> = Vec::with_capacity(items.len());
            let mut seen: HashSet<Key> = HashSet::with_capacity(items.len());
            for item in items.iter() {
                let k = Key::of(item)?;
                if seen.insert(k.clone()) {
                    keys.push(k);
                }
            }
            one_of(lhs, keys)
        }
        Lt | Le | Gt | Ge => {
            if let Some(p) = since_now(op, lhs, rhs) {
                return Some(p);
            }
            // `c < f` is `f > c`.
            let (field, c, op) = match (&lhs.kind, constant(rhs)) {
                (TExprKind::Field(_), Some(c)) => (lhs, c, op),
                _ => (rhs, constant(lhs)?, mirror(op)),
            };
            let TExprKind::Field(f) = &field.kind else {
                return None;
            };
            let threshold = match c {
                Value::Number(n) if !n.is_nan() => Threshold::Number(n),
                Value::DateTime(t) => Threshold::DateTime(t),
                Value::Duration(d) => Threshold::Duration(d),
                _ => return None,
            };
            Some(Predicate::Range {
                field: f.clone(),
                ty: field.ty.clone(),
                bound: Bound {
                    threshold,
                    lower: matches!(op, Gt | Ge),
                    inclusive: matches!(op, Ge | Le),
                },
            })
        }
        _ => None,
    }
}

/// `f > now() + c` (`now() - c`, `now()`, mirrored) for a datetime field `f`.
fn since_now(op: BinaryOp, lhs: &TExpr, rhs: &TExpr) -> Option<Predicate> {
    let (field, offset, op) = match now_offset(rhs) {
        Some(c) => (lhs, c, op),
        None => (rhs, now_offset(lhs)?, mirror(op)),
    };
    let TExprKind::Field(f) = &field.kind else {
        return None;
    };
    // Only a datetime read compares as an instant (anything else is null or another kind
    // and satisfies no ordering with a datetime).
    if f.root == Root::Now || field.ty != Type::DateTime {
        return None;
    }
    Some(Predicate::Range {
        field: f.clone(),
        ty: field.ty.clone(),
        bound: Bound {
            threshold: Threshold::SinceNow(offset),
            lower: matches!(op, BinaryOp::Gt | BinaryOp::Ge),
            inclusive: matches!(op, BinaryOp::Ge | BinaryOp::Le),
        },
    })
}

/// `c` of `now()`, `now() + c`, `c + now()` or `now() - c` with `c` a duration constant.
fn now_offset(e: &TExpr) -> Option<i64> {
    let is_now = |e: &TExpr| matches!(&e.kind, TExprKind::Field(f) if f.root == Root::Now && f.path.is_empty());
    let duration = |e: &TExpr| match constant(e)? {
        Value::Duration(d) => Some(d),
        _ => None,
    };
    match &e.kind {
        _ if is_now(e) => Some(0),
        TExprKind::Binary {
            op: BinaryOp::Add,
            lhs,
            rhs,
        } if is_now(lhs) => duration(rhs),
        TExprKind::Binary {
            op: BinaryOp::Add,
            lhs,
            rhs,
        } if is_now(rhs) => duration(lhs),
        TExprKind::Binary {
            op: BinaryOp::Sub,
            lhs,
            rhs,
        } if is_now(lhs) => duration(rhs)?.checked_neg(),
        _ => None,
    }
}

fn one_of(field: &TExpr, keys: Vec<Key>) -> Option<Predicate> {
    let TExprKind::Field(f) = &field.kind else {
        return None;
    };
    if keys.is_empty() {
        // `f in []` is never true; leave it to the evaluator rather than index nothing.
        return None;
    }
    Some(Predicate::OneOf {
        field: f.clone(),
        ty: field.ty.clone(),
        keys,
        exact: true,
    })
}

/// `(field, constant)` from `field op constant` or `constant op field`.
fn field_and_constant<'e>(lhs: &'e TExpr, rhs: &'e TExpr) -> Option<(&'e TExpr, Value)> {
    match (&lhs.kind, &rhs.kind) {
        (TExprKind::Field(_), _) => Some((lhs, constant(rhs)?)),
        (_, TExprKind::Field(_)) => Some((rhs, constant(lhs)?)),
        _ => None,
    }
}

fn mirror(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

/// The value of a constant operand: a literal, a negated number or duration literal, or a
/// list of such. Anything else (fields, calls, arithmetic) is not a constant here.
fn constant(e: &TExpr) -> Option<Value> {
    match &e.kind {
        TExprKind::Const(v) => Some(v.clone()),
        TExprKind::Neg(inner) => match constant(inner)? {
            Value::Number(n) => Some(Value::Number(-n)),
            Value::Duration(d) => Some(Value::Duration(d.checked_neg()?)),
            _ => None,
        },
        TExprKind::List(items) => Some(Value::List(
            items
                .iter()
                .map(constant)
                .collect::<Option<Vec<_>>>()?
                .into(),
        )),
        _ => None,
    }
}
