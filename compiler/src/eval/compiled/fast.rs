//! Clauses of the hottest shapes held as data and answered by one `match`, with no call
//! through a pointer and no environment built: `field == "short text"` (and `!=`),
//! `field == number`, `field == true/false`, a bare bool field, `field < number` (any
//! comparison), a datetime field against `now()` or `now() ± duration`, `field in [..]` of
//! one to four short strings or numbers, `starts_with`/`ends_with` a constant,
//! `field is null` / `has(field)`, a bare `changed(field)`, `contains` a constant
//! ([`Needle`]), nested `and`/`or` chains of these, and `not` of any of these (a flag of
//! the clause where it has one). Every other clause is a compiled closure ([`Pred`]).
//!
//! Top-level clauses and the items of nested `and`/`or` chains are compiled to [`Fast`];
//! each variant answers exactly as the closure [`super::pred`] builds for the same shape
//! (the differential tests compare both with the reference evaluator).

use std::sync::Arc;

use super::members::ShortKey;
use super::merge::merge_equalities;
use super::needle::Needle;
use super::{Env, Pred, cost, flat_items, pred};
use crate::eval::context::{SlotLayout, changed_type, previous_exists};
use crate::eval::ops::{self, NULL, truthy};
use crate::typed::{BinaryOp, Func, LogicOp, Root, TExpr, TExprKind, Type};
use crate::value::Value;

/// Items of an inline `in` list; unused places hold an item that matches nothing.
pub(super) const INLINE_ITEMS: usize = 4;

/// A clause, compiled. The variants answered without a call come first, those that call
/// a function (from `TextStarts` on) last ([`Fast::holds_with`] tells them apart).
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
    /// `slot in [..]` of one to four strings of at most 16 bytes; `negate` for
    /// `not (slot in [..])`.
    TextIn {
        slot: usize,
        keys: [ShortKey; INLINE_ITEMS],
        negate: bool,
    },
    /// `slot in [..]` of one to four numbers (NaN fills the unused places: it equals
    /// nothing); `negate` for `not (..)`.
    NumberIn {
        slot: usize,
        items: [f64; INLINE_ITEMS],
        negate: bool,
    },
    /// `slot == true/false`; `negate` for `!=`.
    BoolEq { slot: usize, b: bool, negate: bool },
    /// A bool field on its own: holds when it is `true` (`negate`: `not field`, which
    /// holds on `false` and null).
    IsTrue { slot: usize, negate: bool },
    /// A datetime field against `now() + offset` (`now() - 90d` is an offset of -90d):
    /// false unless both are datetimes and the bound does not overflow; `negate` for
    /// `not (..)`.
    DateVsNow {
        slot: usize,
        now: usize,
        offset: i64,
        op: Cmp,
        negate: bool,
    },
    /// `slot starts_with "text"` of at most 16 bytes, compared as words (no call to a
    /// byte comparison); `negate` for `not (..)`.
    ShortStarts {
        slot: usize,
        key: ShortKey,
        negate: bool,
    },
    /// `slot ends_with "text"` of at most 16 bytes.
    ShortEnds {
        slot: usize,
        key: ShortKey,
        negate: bool,
    },
    /// `slot is null` (`negated`: `is not null`, `has(slot)`).
    IsNull { slot: usize, negated: bool },
    /// `slot starts_with "text"`, a longer text.
    TextStarts {
        slot: usize,
        prefix: Arc<str>,
        negate: bool,
    },
    /// `slot ends_with "text"`, a longer text.
    TextEnds {
        slot: usize,
        suffix: Arc<str>,
        negate: bool,
    },
    /// `slot contains "text"` (a substring of a text, an item of a list).
    Contains { slot: usize, needle: Box<Needle> },
    /// A nested `and` chain (two or more items, cheapest first).
    All(Box<[Fast]>),
    /// A nested `or` chain.
    Any(Box<[Fast]>),
    /// A nested `and` chain of clauses that [`Fast::is_leaf`]: answered by a function
    /// that calls nothing and saves no register.
    AllLeaves(Box<[Fast]>),
    /// A nested `or` chain of such clauses.
    AnyLeaves(Box<[Fast]>),
    /// `not` of a clause of one of these shapes.
    Not(Box<Fast>),
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
        // The calling variants are declared last: telling them apart is one comparison,
        // then each group has a match of its own.
        match self {
            Fast::TextStarts { .. }
            | Fast::TextEnds { .. }
            | Fast::Contains { .. }
            | Fast::All(_)
            | Fast::Any(_)
            | Fast::AllLeaves(_)
            | Fast::AnyLeaves(_)
            | Fast::Not(_)
            | Fast::Changed { .. }
            | Fast::Closure(_) => self.holds_calling(slots, env),
            _ => self.holds_leaf(slots),
        }
    }

    /// Whether this clause is answered without a call ([`Fast::leaf`]).
    pub(super) fn is_leaf(&self) -> bool {
        self.leaf(&[]).is_some()
    }

    /// [`Fast::holds`] of a clause that [`Fast::is_leaf`]: a chain of those runs in a
    /// function that calls nothing, so it saves no register (false for any other clause).
    #[inline(always)]
    pub(super) fn holds_leaf(&self, slots: &[Value]) -> bool {
        self.leaf(slots).unwrap_or(false)
    }

    /// The answer of a clause answered without a call; `None` for the others.
    #[inline(always)]
    fn leaf(&self, slots: &[Value]) -> Option<bool> {
        // A slot array filled for an older, shorter layout reads as null, not a panic;
        // the arms match on the `Option` (a branch, no load of a null to compare).
        let get = |i: usize| slots.get(i);
        Some(match self {
            Fast::TextEq {
                slot: i,
                key,
                negate,
            } => matches!(get(*i), Some(Value::String(s)) if key.matches(s.as_bytes())) != *negate,
            Fast::NumberEq { slot: i, n, negate } => {
                matches!(get(*i), Some(Value::Number(x)) if x == n) != *negate
            }
            Fast::NumberLt { slot: i, n } => matches!(get(*i), Some(Value::Number(x)) if x < n),
            Fast::NumberLe { slot: i, n } => matches!(get(*i), Some(Value::Number(x)) if x <= n),
            Fast::NumberGt { slot: i, n } => matches!(get(*i), Some(Value::Number(x)) if x > n),
            Fast::NumberGe { slot: i, n } => matches!(get(*i), Some(Value::Number(x)) if x >= n),
            // Unrolled: an iterator here is not inlined and costs a call and a loop.
            Fast::TextIn {
                slot: i,
                keys: [a, b, c, d],
                negate,
            } => {
                (match get(*i) {
                    Some(Value::String(s)) => {
                        let s = s.as_bytes();
                        a.matches(s) || b.matches(s) || c.matches(s) || d.matches(s)
                    }
                    _ => false,
                }) != *negate
            }
            Fast::NumberIn {
                slot: i,
                items: [a, b, c, d],
                negate,
            } => {
                (match get(*i) {
                    Some(Value::Number(x)) => x == a || x == b || x == c || x == d,
                    _ => false,
                }) != *negate
            }
            Fast::IsNull { slot: i, negated } => {
                matches!(get(*i), None | Some(Value::Null)) != *negated
            }
            Fast::BoolEq { slot: i, b, negate } => {
                matches!(get(*i), Some(Value::Bool(x)) if x == b) != *negate
            }
            Fast::IsTrue { slot: i, negate } => {
                matches!(get(*i), Some(Value::Bool(true))) != *negate
            }
            Fast::DateVsNow {
                slot: i,
                now,
                offset,
                op,
                negate,
            } => {
                (match (get(*i), get(*now)) {
                    (Some(Value::DateTime(x)), Some(Value::DateTime(t))) => t
                        .checked_add(*offset)
                        .is_some_and(|bound| op.holds(x.cmp(&bound))),
                    _ => false,
                }) != *negate
            }
            Fast::ShortStarts {
                slot: i,
                key,
                negate,
            } => matches!(get(*i), Some(Value::String(s)) if key.starts(s.as_bytes())) != *negate,
            Fast::ShortEnds {
                slot: i,
                key,
                negate,
            } => matches!(get(*i), Some(Value::String(s)) if key.ends(s.as_bytes())) != *negate,
            _ => return None,
        })
    }

    /// The clauses that call a function: long texts, searches, nested chains, closures.
    #[inline(always)]
    fn holds_calling(&self, slots: &[Value], env: Option<&Env>) -> bool {
        let get = |i: usize| slots.get(i);
        match self {
            Fast::TextStarts {
                slot: i,
                prefix,
                negate,
            } => matches!(get(*i), Some(Value::String(s)) if s.starts_with(&**prefix)) != *negate,
            Fast::TextEnds {
                slot: i,
                suffix,
                negate,
            } => matches!(get(*i), Some(Value::String(s)) if s.ends_with(&**suffix)) != *negate,
            Fast::Contains { slot: i, needle } => needle.holds(get(*i).unwrap_or(&NULL)),
            Fast::All(items) => all(items, slots, env),
            Fast::Any(items) => any(items, slots, env),
            Fast::AllLeaves(items) => all_leaves(items, slots),
            Fast::AnyLeaves(items) => any_leaves(items, slots),
            Fast::Not(inner) => !inner.holds_outlined(slots, env),
            Fast::Changed {
                exists,
                now,
                before,
            } => {
                let slot = |i: usize| get(i).unwrap_or(&NULL);
                truthy(slot(*exists))
                    && match (slot(*now), slot(*before)) {
                        (Value::String(a), Value::String(b)) => a.as_bytes() != b.as_bytes(),
                        (a, b) => !ops::same(a, b),
                    }
            }
            Fast::Closure(p) => call(p, slots, env),
            // Answered by `leaf`.
            _ => false,
        }
    }
}

/// A nested `and` chain, out of line (the clause match stays free of recursion).
#[inline(never)]
fn all(items: &[Fast], slots: &[Value], env: Option<&Env>) -> bool {
    // Chains of two (the most common) run straight-line: no loop to set up.
    match items {
        [a, b] => a.holds_with(slots, env) && b.holds_with(slots, env),
        _ => items.iter().all(|f| f.holds_with(slots, env)),
    }
}

/// A nested `or` chain.
#[inline(never)]
fn any(items: &[Fast], slots: &[Value], env: Option<&Env>) -> bool {
    match items {
        [a, b] => a.holds_with(slots, env) || b.holds_with(slots, env),
        _ => items.iter().any(|f| f.holds_with(slots, env)),
    }
}

/// A nested `and` chain of leaves ([`Fast::AllLeaves`]).
#[inline(never)]
fn all_leaves(items: &[Fast], slots: &[Value]) -> bool {
    match items {
        [a, b] => a.holds_leaf(slots) && b.holds_leaf(slots),
        _ => items.iter().all(|f| f.holds_leaf(slots)),
    }
}

/// A nested `or` chain of leaves ([`Fast::AnyLeaves`]).
#[inline(never)]
fn any_leaves(items: &[Fast], slots: &[Value]) -> bool {
    match items {
        [a, b] => a.holds_leaf(slots) || b.holds_leaf(slots),
        _ => items.iter().any(|f| f.holds_leaf(slots)),
    }
}

/// A closure clause, called out of line: the [`Fast`] match stays a leaf function that
/// saves no register and builds no environment on the hot shapes.
#[inline(never)]
fn call(p: &Pred, slots: &[Value], env: Option<&Env>) -> bool {
    match env {
        Some(env) => p(env),
        None => p(&Env {
            slots,
            locals: None,
            budget: None,
        }),
    }
}

impl Fast {
    /// `not` of this clause: the same variant with its `negate` flipped where it has
    /// one (no call per evaluation), else [`Fast::Not`] of it.
    fn negated(self) -> Fast {
        match self {
            Fast::TextIn { slot, keys, negate } => Fast::TextIn {
                slot,
                keys,
                negate: !negate,
            },
            Fast::NumberIn {
                slot,
                items,
                negate,
            } => Fast::NumberIn {
                slot,
                items,
                negate: !negate,
            },
            Fast::IsTrue { slot, negate } => Fast::IsTrue {
                slot,
                negate: !negate,
            },
            Fast::DateVsNow {
                slot,
                now,
                offset,
                op,
                negate,
            } => Fast::DateVsNow {
                slot,
                now,
                offset,
                op,
                negate: !negate,
            },
            Fast::ShortStarts { slot, key, negate } => Fast::ShortStarts {
                slot,
                key,
                negate: !negate,
            },
            Fast::ShortEnds { slot, key, negate } => Fast::ShortEnds {
                slot,
                key,
                negate: !negate,
            },
            Fast::TextStarts {
                slot,
                prefix,
                negate,
            } => Fast::TextStarts {
                slot,
                prefix,
                negate: !negate,
            },
            Fast::TextEnds {
                slot,
                suffix,
                negate,
            } => Fast::TextEnds {
                slot,
                suffix,
                negate: !negate,
            },
            Fast::Contains { slot, needle } => Fast::Contains {
                slot,
                needle: Box::new(needle.negated()),
            },
            Fast::Not(inner) => *inner,
            inner => Fast::Not(Box::new(inner)),
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
                inner => inner.negated(),
            };
        }
        TExprKind::Logic { op, items } => return chain(*op, items, layout),
        TExprKind::Field(_) if e.ty == Type::Bool => {
            if let Some(slot) = field_slot(e, layout) {
                return Fast::IsTrue {
                    slot,
                    negate: false,
                };
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

/// A nested `and`/`or` chain: its items compiled in the order [`super::pred`] compiles
/// them (cheapest first, stable), equalities of one text field merged into one `in`
/// ([`merge_equalities`]).
fn chain(op: LogicOp, items: &[TExpr], layout: &mut SlotLayout) -> Fast {
    let mut clauses = flat_items(items, op);
    clauses.sort_by_cached_key(|c| cost(c));
    let compiled = clauses.into_iter().map(|c| fast(c, layout)).collect();
    let mut items = merge_equalities(compiled, op == LogicOp::Or).items;
    match items.len() {
        0 | 1 => {
            let and = op == LogicOp::And;
            // An empty chain (never built by the checker): `and` holds, `or` does not.
            items
                .pop()
                .unwrap_or_else(|| Fast::Closure(Box::new(move |_| and)))
        }
        _ => {
            let leaves = items.iter().all(Fast::is_leaf);
            let items = items.into_boxed_slice();
            match (op == LogicOp::And, leaves) {
                (true, true) => Fast::AllLeaves(items),
                (true, false) => Fast::All(items),
                (false, true) => Fast::AnyLeaves(items),
                (false, false) => Fast::Any(items),
            }
        }
    }
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
        negate: false,
    })
}

/// A binary clause between a field and a constant that has a [`Fast`] form, before its
/// slot is known.
enum Shape {
    BoolEq(bool, bool),
    TextStarts(Arc<str>),
    TextEnds(Arc<str>),
    Contains(Arc<str>),
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
            (Contains, Value::String(p)) if field_left => Shape::Contains(p.clone()),
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
            Shape::TextStarts(prefix) if prefix.len() <= 16 => Fast::ShortStarts {
                slot,
                key: ShortKey::of(prefix.as_bytes()),
                negate: false,
            },
            Shape::TextEnds(suffix) if suffix.len() <= 16 => Fast::ShortEnds {
                slot,
                key: ShortKey::of(suffix.as_bytes()),
                negate: false,
            },
            Shape::TextStarts(prefix) => Fast::TextStarts {
                slot,
                prefix,
                negate: false,
            },
            Shape::TextEnds(suffix) => Fast::TextEnds {
                slot,
                suffix,
                negate: false,
            },
            Shape::TextEq(key, negate) => Fast::TextEq { slot, key, negate },
            Shape::NumberEq(n, negate) => Fast::NumberEq { slot, n, negate },
            Shape::NumberCmp(Cmp::Lt, n) => Fast::NumberLt { slot, n },
            Shape::NumberCmp(Cmp::Le, n) => Fast::NumberLe { slot, n },
            Shape::NumberCmp(Cmp::Gt, n) => Fast::NumberGt { slot, n },
            Shape::NumberCmp(Cmp::Ge, n) => Fast::NumberGe { slot, n },
            Shape::Contains(text) => Fast::Contains {
                slot,
                needle: Box::new(Needle::new(&text)),
            },
            Shape::TextIn(keys) => Fast::TextIn {
                slot,
                keys,
                negate: false,
            },
            Shape::NumberIn(items) => Fast::NumberIn {
                slot,
                items,
                negate: false,
            },
        }
    }
}
