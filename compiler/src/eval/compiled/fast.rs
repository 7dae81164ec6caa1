//! Clauses of the hottest shapes held as data and answered by one `match`, with no call
//! through a pointer and no environment built: `field == "short text"` (and `!=`),
//! `field == number`, `field == true/false`, a bare bool field, `field < number` (any
//! comparison), a datetime field against `now()` or `now() ± duration`, `field in [..]` of
//! one to four short strings or numbers, `starts_with`/`ends_with` a constant,
//! `field is null` / `has(field)`, a bare `changed(field)`, and `not` of any of these.
//! Every other clause is a compiled closure ([`Pred`]).
//!
//! Top-level clauses and the items of nested `and`/`or` chains are compiled to [`Fast`];
//! each variant answers exactly as the closure [`super::pred`] builds for the same shape
//! (the differential tests compare both with the reference evaluator).

use std::sync::Arc;

use super::members::ShortKey;
use super::{Env, Pred, pred};
use crate::eval::context::{SlotLayout, changed_type, previous_exists};
use crate::eval::ops::{self, NULL, truthy};
use crate::typed::{BinaryOp, Func, Root, TExpr, TExprKind, Type};
use crate::value::Value;

/// Items of an inline `in` list; unused places hold an item that matches nothing.
const INLINE_ITEMS: usize = 4;

/// A clause, compiled.
pub(crate) enum Fast {
    /// `slot == "text"` of at most 16 bytes; `negate` for `!=`.
    TextEq {
        slot: usize,
        key: ShortKey,
        negate: bool,
    },
    /// `slot == n`; `negate` for `!=`.
    NumberEq { slot: usize, n: f64, negate: bool },
    /// `slot < n` (false unless the slot is a number; one variant per comparison, so
    /// that answering takes one dispatch).
    NumberLt { slot: usize, n: f64 },
    /// `slot <= n`.
    NumberLe { slot: usize, n: f64 },
    /// `slot > n`.
    NumberGt { slot: usize, n: f64 },
    /// `slot >= n`.
    NumberGe { slot: usize, n: f64 },
    /// `slot in [..]` of one to four strings of at most 16 bytes.
    TextIn {
        slot: usize,
        keys: [ShortKey; INLINE_ITEMS],
    },
    /// `slot in [..]` of one to four numbers (NaN fills the unused places: it equals
    /// nothing).
    NumberIn {
        slot: usize,
        items: [f64; INLINE_ITEMS],
    },
    /// `slot == true/false`; `negate` for `!=`.
    BoolEq { slot: usize, b: bool, negate: bool },
    /// A bool field on its own: holds when it is `true`.
    IsTrue { slot: usize },
    /// A datetime field against `now() + offset` (`now() - 90d` is an offset of -90d):
    /// false unless both are datetimes and the bound does not overflow.
    DateVsNow {
        slot: usize,
        now: usize,
        offset: i64,
        op: Cmp,
    },
    /// `slot starts_with "text"`.
    TextStarts { slot: usize, prefix: Arc<str> },
    /// `slot ends_with "text"`.
    TextEnds { slot: usize, suffix: Arc<str> },
    /// `not` of a clause of one of these shapes.
    Not(Box<Fast>),
    /// `slot is null` (`negated`: `is not null`, `has(slot)`).
    IsNull { slot: usize, negated: bool },
    /// `changed(f)` without `from:`/`to:`: a previous record exists and `f` differs.
    Changed {
        exists: usize,
        now: usize,
        before: usize,
    },
    /// Any other shape.
    Closure(Pred),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// The comparison of `op` read with the field on the left (`field_left`) or on the
    /// right (`5 < amount` is `amount > 5`); `None` for another operator.
    fn of(op: BinaryOp, field_left: bool) -> Option<Cmp> {
        use BinaryOp::*;
        Some(match (op, field_left) {
            (Lt, true) | (Gt, false) => Cmp::Lt,
            (Le, true) | (Ge, false) => Cmp::Le,
            (Gt, true) | (Lt, false) => Cmp::Gt,
            (Ge, true) | (Le, false) => Cmp::Ge,
            _ => return None,
        })
    }

    #[inline(always)]
    fn holds(self, o: std::cmp::Ordering) -> bool {
        match self {
            Cmp::Lt => o.is_lt(),
            Cmp::Le => o.is_le(),
            Cmp::Gt => o.is_gt(),
            Cmp::Ge => o.is_ge(),
        }
    }
}

impl Fast {
    /// Whether the clause holds, as a top-level clause: the slots are all it reads (a
    /// closure gets an environment without lambda variables or output cap).
    #[inline(always)]
    pub(super) fn holds(&self, slots: &[Value]) -> bool {
        self.holds_with(slots, None)
    }

    /// Whether the clause holds inside `env` (an item of a nested chain, maybe inside a
    /// quantifier: a closure sees the lambda variables of `env`).
    #[inline(always)]
    pub(super) fn holds_in(&self, env: &Env) -> bool {
        self.holds_with(env.slots, Some(env))
    }

    /// [`Fast::holds_with`] as a function of its own: `Not` calls it, so that
    /// `holds_with` is not recursive and inlines into its callers.
    #[inline(never)]
    fn holds_outlined(&self, slots: &[Value], env: Option<&Env>) -> bool {
        self.holds_with(slots, env)
    }

    #[inline(always)]
    fn holds_with(&self, slots: &[Value], env: Option<&Env>) -> bool {
        // A slot array filled for an older, shorter layout reads as null, not a panic.
        let slot = |i: usize| slots.get(i).unwrap_or(&NULL);
        match self {
            Fast::TextEq {
                slot: i,
                key,
                negate,
            } => matches!(slot(*i), Value::String(s) if key.matches(s.as_bytes())) != *negate,
            Fast::NumberEq { slot: i, n, negate } => {
                matches!(slot(*i), Value::Number(x) if x == n) != *negate
            }
            Fast::NumberLt { slot: i, n } => matches!(slot(*i), Value::Number(x) if x < n),
            Fast::NumberLe { slot: i, n } => matches!(slot(*i), Value::Number(x) if x <= n),
            Fast::NumberGt { slot: i, n } => matches!(slot(*i), Value::Number(x) if x > n),
            Fast::NumberGe { slot: i, n } => matches!(slot(*i), Value::Number(x) if x >= n),
            // Unrolled: an iterator here is not inlined and costs a call and a loop.
            Fast::TextIn {
                slot: i,
                keys: [a, b, c, d],
            } => match slot(*i) {
                Value::String(s) => {
                    let s = s.as_bytes();
                    a.matches(s) || b.matches(s) || c.matches(s) || d.matches(s)
                }
                _ => false,
            },
            Fast::NumberIn {
                slot: i,
                items: [a, b, c, d],
            } => match slot(*i) {
                Value::Number(x) => x == a || x == b || x == c || x == d,
                _ => false,
            },
            Fast::IsNull { slot: i, negated } => matches!(slot(*i), Value::Null) != *negated,
            Fast::BoolEq { slot: i, b, negate } => {
                matches!(slot(*i), Value::Bool(x) if x == b) != *negate
            }
            Fast::IsTrue { slot: i } => truthy(slot(*i)),
            Fast::DateVsNow {
                slot: i,
                now,
                offset,
                op,
            } => match (slot(*i), slot(*now)) {
                (Value::DateTime(x), Value::DateTime(t)) => t
                    .checked_add(*offset)
                    .is_some_and(|bound| op.holds(x.cmp(&bound))),
                _ => false,
            },
            Fast::TextStarts { slot: i, prefix } => {
                matches!(slot(*i), Value::String(s) if s.starts_with(&**prefix))
            }
            Fast::TextEnds { slot: i, suffix } => {
                matches!(slot(*i), Value::String(s) if s.ends_with(&**suffix))
            }
            Fast::Not(inner) => !inner.holds_outlined(slots, env),
            Fast::Changed {
                exists,
                now,
                before,
            } => {
                truthy(slot(*exists))
                    && match (slot(*now), slot(*before)) {
                        (Value::String(a), Value::String(b)) => a.as_bytes() != b.as_bytes(),
                        (a, b) => !ops::same(a, b),
                    }
            }
            Fast::Closure(p) => match env {
                Some(env) => p(env),
                None => p(&Env {
                    slots,
                    locals: None,
                    budget: None,
                }),
            },
        }
    }
}

/// Compiles a clause: a [`Fast`] variant for the shapes above, else a closure. Slots are
/// added to `layout` in the order [`super::pred`] adds them for the same clause.
pub(super) fn fast(e: &TExpr, layout: &mut SlotLayout) -> Fast {
    let field_slot = |x: &TExpr, layout: &mut SlotLayout| match &x.kind {
        TExprKind::Field(f) => Some(layout.slot_typed(f, &x.ty)),
        _ => None,
    };
    match &e.kind {
        TExprKind::Not(x) => {
            return match fast(x, layout) {
                Fast::Closure(p) => Fast::Closure(Box::new(move |env| !p(env))),
                // Negations with a form of their own: `!=` for `==`, `is not null`, ...
                Fast::TextEq { slot, key, negate } => Fast::TextEq {
                    slot,
                    key,
                    negate: !negate,
                },
                Fast::NumberEq { slot, n, negate } => Fast::NumberEq {
                    slot,
                    n,
                    negate: !negate,
                },
                Fast::BoolEq { slot, b, negate } => Fast::BoolEq {
                    slot,
                    b,
                    negate: !negate,
                },
                Fast::IsNull { slot, negated } => Fast::IsNull {
                    slot,
                    negated: !negated,
                },
                inner => Fast::Not(Box::new(inner)),
            };
        }
        TExprKind::Field(_) if e.ty == Type::Bool => {
            if let Some(slot) = field_slot(e, layout) {
                return Fast::IsTrue { slot };
            }
        }
        TExprKind::Binary { op, lhs, rhs } => {
            if let Some(f) = date_vs_now(*op, lhs, rhs, layout) {
                return f;
            }
            if let Some(shape) = Shape::of(*op, lhs, rhs) {
                let (field, _) = shape.operands(lhs, rhs);
                if let Some(slot) = field_slot(field, layout) {
                    return shape.at(slot);
                }
            }
        }
        TExprKind::IsNull { expr, negated } => {
            if let Some(slot) = field_slot(expr, layout) {
                return Fast::IsNull {
                    slot,
                    negated: *negated,
                };
            }
        }
        TExprKind::Call {
            func: Func::Has,
            args,
        } if args.len() == 1 => {
            if let Some(slot) = field_slot(&args[0], layout) {
                return Fast::IsNull {
                    slot,
                    negated: true,
                };
            }
        }
        TExprKind::Changed {
            current,
            previous,
            from: None,
            to: None,
        } => {
            let ty = changed_type(None, None);
            let exists = layout.slot_typed(&previous_exists(), &Type::Bool);
            let now = layout.slot_typed(current, &ty);
            let before = layout.slot_typed(previous, &ty);
            return Fast::Changed {
                exists,
                now,
                before,
            };
        }
        _ => {}
    }
    Fast::Closure(pred(e, layout))
}

/// `field < now()`, `field >= now() - 90d`, `now() + 7d > field`, ... for a datetime
/// field; slots are added in the order the closure would add them.
fn date_vs_now(op: BinaryOp, lhs: &TExpr, rhs: &TExpr, layout: &mut SlotLayout) -> Option<Fast> {
    let is_field = |x: &TExpr| {
        matches!(&x.kind, TExprKind::Field(f) if f.root != Root::Now) && x.ty == Type::DateTime
    };
    let (field, bound, field_left) = if is_field(lhs) {
        (lhs, rhs, true)
    } else if is_field(rhs) {
        (rhs, lhs, false)
    } else {
        return None;
    };
    let op = Cmp::of(op, field_left)?;
    let is_now = |x: &TExpr| matches!(&x.kind, TExprKind::Field(f) if f.root == Root::Now);
    let (now_field, offset) = match &bound.kind {
        TExprKind::Field(_) if is_now(bound) => (bound, 0),
        TExprKind::Binary {
            op: sign @ (BinaryOp::Add | BinaryOp::Sub),
            lhs: n,
            rhs: d,
        } if is_now(n) => match d.kind {
            TExprKind::Const(Value::Duration(ms)) if *sign == BinaryOp::Add => (&**n, ms),
            TExprKind::Const(Value::Duration(ms)) => (&**n, ms.checked_neg()?),
            _ => return None,
        },
        _ => return None,
    };
    let (TExprKind::Field(f), TExprKind::Field(now)) = (&field.kind, &now_field.kind) else {
        return None;
    };
    // The closure reads a bare `now()` operand in written order, and the field before
    // an arithmetic bound.
    let (slot, now) = if field_left || !matches!(bound.kind, TExprKind::Field(_)) {
        let slot = layout.slot_typed(f, &field.ty);
        (slot, layout.slot_typed(now, &now_field.ty))
    } else {
        let now = layout.slot_typed(now, &now_field.ty);
        (layout.slot_typed(f, &field.ty), now)
    };
    Some(Fast::DateVsNow {
        slot,
        now,
        offset,
        op,
    })
}

/// A binary clause between a field and a constant that has a [`Fast`] form, before its
/// slot is known.
enum Shape {
    BoolEq(bool, bool),
    TextStarts(Arc<str>),
    TextEnds(Arc<str>),
    TextEq(ShortKey, bool),
    NumberEq(f64, bool),
    NumberCmp(Cmp, f64),
    TextIn([ShortKey; INLINE_ITEMS]),
    NumberIn([f64; INLINE_ITEMS]),
}

impl Shape {
    /// The fast form of `lhs op rhs`, if it has one (the field on either side of `==`,
    /// `!=` and comparisons; on the left of `in`).
    fn of(op: BinaryOp, lhs: &TExpr, rhs: &TExpr) -> Option<Shape> {
        use BinaryOp::*;
        let (c, field_left) = match (&lhs.kind, &rhs.kind) {
            (TExprKind::Field(_), TExprKind::Const(c)) => (c, true),
            (TExprKind::Const(c), TExprKind::Field(_)) => (c, false),
            _ => return None,
        };
        Some(match (op, c) {
            (Eq | Ne, Value::Bool(b)) => Shape::BoolEq(*b, op == Ne),
            (StartsWith, Value::String(p)) if field_left => Shape::TextStarts(p.clone()),
            (EndsWith, Value::String(p)) if field_left => Shape::TextEnds(p.clone()),
            (Eq | Ne, Value::String(s)) if s.len() <= 16 => {
                Shape::TextEq(ShortKey::of(s.as_bytes()), op == Ne)
            }
            (Eq | Ne, Value::Number(n)) => Shape::NumberEq(*n, op == Ne),
            (Lt | Le | Gt | Ge, Value::Number(n)) => Shape::NumberCmp(Cmp::of(op, field_left)?, *n),
            (In, Value::List(items)) if field_left => Shape::inline_list(items)?,
            _ => return None,
        })
    }

    /// One to four strings of at most 16 bytes, or one to four numbers.
    fn inline_list(items: &[Value]) -> Option<Shape> {
        if items.is_empty() || items.len() > INLINE_ITEMS {
            return None;
        }
        if items
            .iter()
            .all(|v| matches!(v, Value::String(s) if s.len() <= 16))
        {
            let mut keys = [ShortKey::NONE; INLINE_ITEMS];
            for (key, item) in keys.iter_mut().zip(items) {
                if let Value::String(s) = item {
                    *key = ShortKey::of(s.as_bytes());
                }
            }
            return Some(Shape::TextIn(keys));
        }
        if items.iter().all(|v| matches!(v, Value::Number(_))) {
            let mut numbers = [f64::NAN; INLINE_ITEMS];
            for (n, item) in numbers.iter_mut().zip(items) {
                if let Value::Number(x) = item {
                    *n = *x;
                }
            }
            return Some(Shape::NumberIn(numbers));
        }
        None
    }

    /// (the field, the constant) of the clause.
    fn operands<'e>(&self, lhs: &'e TExpr, rhs: &'e TExpr) -> (&'e TExpr, &'e TExpr) {
        match lhs.kind {
            TExprKind::Field(_) => (lhs, rhs),
            _ => (rhs, lhs),
        }
    }

    fn at(self, slot: usize) -> Fast {
        match self {
            Shape::BoolEq(b, negate) => Fast::BoolEq { slot, b, negate },
            Shape::TextStarts(prefix) => Fast::TextStarts { slot, prefix },
            Shape::TextEnds(suffix) => Fast::TextEnds { slot, suffix },
            Shape::TextEq(key, negate) => Fast::TextEq { slot, key, negate },
            Shape::NumberEq(n, negate) => Fast::NumberEq { slot, n, negate },
            Shape::NumberCmp(Cmp::Lt, n) => Fast::NumberLt { slot, n },
            Shape::NumberCmp(Cmp::Le, n) => Fast::NumberLe { slot, n },
            Shape::NumberCmp(Cmp::Gt, n) => Fast::NumberGt { slot, n },
            Shape::NumberCmp(Cmp::Ge, n) => Fast::NumberGe { slot, n },
            Shape::TextIn(keys) => Fast::TextIn { slot, keys },
            Shape::NumberIn(items) => Fast::NumberIn { slot, items },
        }
    }
}
