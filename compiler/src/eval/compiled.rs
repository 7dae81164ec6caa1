//! The compiled evaluator: a [`TExpr`] becomes a tree of closures over a slot array.
//!
//! Fields are resolved to slot indices at compile time, constant sub-expressions are
//! folded, regexes are compiled once, hot shapes (`slot == "x"`, `slot > 5`, `slot in [..]`,
//! `slot contains "x"`) get dedicated closures that neither allocate nor clone, and
//! `and`/`or` chains are flattened and evaluated cheap clauses first. Evaluation never
//! looks a name up, never allocates on those hot shapes, and never panics.
//!
//! It must never call the reference evaluator (that one is its oracle).

use std::borrow::Cow;
use std::sync::Arc;

use super::budget::{Budget, MAX_BUILT_TEXT_BYTES, TooLarge, fits};
use super::context::{SlotLayout, changed_type, now_field, previous_exists};
use super::convert::{day_floor, render};
use super::explain::Clause;
use super::ops::{self, NULL, truthy};
use crate::typed::{BinaryOp, FieldRef, Func, LogicOp, TExpr, TExprKind, Type};
use crate::value::Value;

/// What a closure sees: the slot array and the lambda variables in scope.
#[derive(Clone, Copy)]
pub(crate) struct Env<'a> {
    pub slots: &'a [Value],
    pub locals: Option<&'a Frame<'a>>,
    /// The output cap of a capped evaluation (params); `None` for conditions.
    pub budget: Option<&'a Budget>,
}

/// One lambda variable (`x` in `any(list, x => ..)`), linked to the enclosing ones.
pub(crate) struct Frame<'a> {
    value: &'a Value,
    parent: Option<&'a Frame<'a>>,
}

impl<'a> Env<'a> {
    #[inline]
    fn slot(&self, i: usize) -> &'a Value {
        // A slot array filled for an older, shorter layout reads as null, not a panic.
        self.slots.get(i).unwrap_or(&NULL)
    }
}

pub(crate) type Pred = Box<dyn Fn(&Env) -> bool + Send + Sync>;
pub(crate) type ValFn = Box<dyn for<'a> Fn(&Env<'a>) -> Cow<'a, Value> + Send + Sync>;

/// A compiled condition: `eval` answers the question, `explain` says why.
pub struct CompiledCondition {
    /// The top-level clauses, cheapest first: the order `eval` runs them in. Each is
    /// compiled once and serves explanations too.
    root: Root,
    /// `and` / `or` / single clause, in the order written (for explanations).
    pub(crate) shape: Shape,
    /// The clauses in written order; each names its predicate in `root`.
    pub(crate) clauses: Vec<Clause>,
}

/// The top-level clauses in evaluation order; chains of two and three (the most common)
/// are held inline and run straight-line.
enum Root {
    One(Pred),
    And2(Pred, Pred),
    And3(Pred, Pred, Pred),
    Or2(Pred, Pred),
    Or3(Pred, Pred, Pred),
    All(Box<[Pred]>),
    Any(Box<[Pred]>),
}

impl Root {
    fn new(shape: Shape, mut preds: Vec<Pred>) -> Root {
        let and = shape == Shape::And;
        match (shape, preds.len()) {
            (Shape::Single, 1) => Root::One(preds.remove(0)),
            (_, 2) => {
                let (b, a) = (preds.pop().unwrap(), preds.pop().unwrap());
                if and {
                    Root::And2(a, b)
                } else {
                    Root::Or2(a, b)
                }
            }
            (_, 3) => {
                let (c, b, a) = (
                    preds.pop().unwrap(),
                    preds.pop().unwrap(),
                    preds.pop().unwrap(),
                );
                if and {
                    Root::And3(a, b, c)
                } else {
                    Root::Or3(a, b, c)
                }
            }
            (Shape::Or, _) => Root::Any(preds.into_boxed_slice()),
            _ => Root::All(preds.into_boxed_slice()),
        }
    }

    /// The `i`-th predicate in evaluation order.
    fn get(&self, i: usize) -> Option<&Pred> {
        match (self, i) {
            (Root::One(a), 0) => Some(a),
            (Root::And2(a, _) | Root::Or2(a, _), 0) => Some(a),
            (Root::And2(_, b) | Root::Or2(_, b), 1) => Some(b),
            (Root::And3(a, ..) | Root::Or3(a, ..), 0) => Some(a),
            (Root::And3(_, b, _) | Root::Or3(_, b, _), 1) => Some(b),
            (Root::And3(.., c) | Root::Or3(.., c), 2) => Some(c),
            (Root::All(preds) | Root::Any(preds), i) => preds.get(i),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    And,
    Or,
    Single,
}

impl CompiledCondition {
    /// True only when the condition holds. Never panics.
    #[inline]
    pub fn eval(&self, slots: &[Value]) -> bool {
        let env = Env {
            slots,
            locals: None,
            budget: None,
        };
        match &self.root {
            Root::One(a) => a(&env),
            Root::And2(a, b) => a(&env) && b(&env),
            Root::And3(a, b, c) => a(&env) && b(&env) && c(&env),
            Root::Or2(a, b) => a(&env) || b(&env),
            Root::Or3(a, b, c) => a(&env) || b(&env) || c(&env),
            Root::All(preds) => preds.iter().all(|p| p(&env)),
            Root::Any(preds) => preds.iter().any(|p| p(&env)),
        }
    }

    /// The result of the top-level clause whose predicate is `i`-th in evaluation order.
    pub(crate) fn clause_holds(&self, i: usize, env: &Env) -> bool {
        self.root.get(i).is_some_and(|p| p(env))
    }
}

impl std::fmt::Debug for CompiledCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledCondition")
            .field("shape", &self.shape)
            .field("clauses", &self.clauses.len())
            .finish_non_exhaustive()
    }
}

/// A compiled expression yielding a value (params, templates, guards as values).
pub struct CompiledExpr {
    f: ValFn,
}

impl CompiledExpr {
    pub fn eval_value(&self, slots: &[Value]) -> Value {
        (self.f)(&Env {
            slots,
            locals: None,
            budget: None,
        })
        .into_owned()
    }

    /// The value, or [`TooLarge`] when it would take more than `max_bytes` as JSON.
    /// Templates stop rendering as soon as their text passes the cap, so a value far over
    /// it is never built.
    pub fn eval_value_within(&self, slots: &[Value], max_bytes: usize) -> Result<Value, TooLarge> {
        let budget = Budget::new(max_bytes);
        let value = (self.f)(&Env {
            slots,
            locals: None,
            budget: Some(&budget),
        })
        .into_owned();
        if budget.exceeded() || !fits(&value, max_bytes) {
            return Err(TooLarge { max_bytes });
        }
        Ok(value)
    }
}

impl std::fmt::Debug for CompiledExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledExpr")
    }
}

/// Compiles a condition, adding the fields it reads to `layout`. Explanations print
/// each clause from the tree; [`compile_with_source`] takes their text from the source.
pub fn compile(expr: &TExpr, layout: &mut SlotLayout) -> CompiledCondition {
    compile_with_source(expr, layout, None)
}

/// [`compile`], with the clause texts of explanations cut from `source` (the text the
/// condition was parsed from; its spans index into it) instead of printed from the tree.
/// A top-level `and`/`or` clause is compiled once, for evaluation and explanation alike.
pub fn compile_with_source(
    expr: &TExpr,
    layout: &mut SlotLayout,
    source: Option<&str>,
) -> CompiledCondition {
    let folded = fold(expr);
    let (shape, written) = match &folded.kind {
        TExprKind::Logic {
            op: LogicOp::And,
            items,
        } => (Shape::And, flat_items(items, LogicOp::And)),
        TExprKind::Logic {
            op: LogicOp::Or,
            items,
        } => (Shape::Or, flat_items(items, LogicOp::Or)),
        _ => (Shape::Single, vec![&folded]),
    };
    // Evaluation order: cheapest first, stable (equal costs keep the written order).
    let mut order: Vec<usize> = (0..written.len()).collect();
    if shape != Shape::Single {
        order.sort_by_cached_key(|&i| cost(written[i]));
    }
    let mut slot_of = vec![0; written.len()];
    for (at, &i) in order.iter().enumerate() {
        slot_of[i] = at;
    }
    // Clauses are compiled in written order, so slots are added as written.
    let mut compiled: Vec<Option<Pred>> = Vec::with_capacity(written.len());
    let mut clauses = Vec::with_capacity(written.len());
    for (i, c) in written.iter().enumerate() {
        compiled.push(Some(pred(c, layout)));
        clauses.push(Clause::new(c, slot_of[i], layout, source));
    }
    let preds = order.iter().filter_map(|&i| compiled[i].take()).collect();
    CompiledCondition {
        root: Root::new(shape, preds),
        shape,
        clauses,
    }
}

/// Compiles an expression for its value.
pub fn compile_expr(expr: &TExpr, layout: &mut SlotLayout) -> CompiledExpr {
    CompiledExpr {
        f: val(&fold(expr), layout),
    }
}

// ---------------------------------------------------------------- constant folding

/// Replaces constant sub-trees by their value, computed by this evaluator itself.
fn fold(e: &TExpr) -> TExpr {
    let kind = match &e.kind {
        TExprKind::Const(_) | TExprKind::Field(_) | TExprKind::Local(_) => return e.clone(),
        TExprKind::List(items) => TExprKind::List(items.iter().map(fold).collect()),
        TExprKind::Object(entries) => {
            TExprKind::Object(entries.iter().map(|(k, v)| (k.clone(), fold(v))).collect())
        }
        TExprKind::Not(x) => TExprKind::Not(Box::new(fold(x))),
        TExprKind::Neg(x) => TExprKind::Neg(Box::new(fold(x))),
        TExprKind::Binary { op, lhs, rhs } => TExprKind::Binary {
            op: *op,
            lhs: Box::new(fold(lhs)),
            rhs: Box::new(fold(rhs)),
        },
        TExprKind::Logic { op, items } => TExprKind::Logic {
            op: *op,
            items: items.iter().map(fold).collect(),
        },
        TExprKind::IsNull { expr, negated } => TExprKind::IsNull {
            expr: Box::new(fold(expr)),
            negated: *negated,
        },
        TExprKind::Changed {
            current,
            previous,
            from,
            to,
        } => TExprKind::Changed {
            current: current.clone(),
            previous: previous.clone(),
            from: from.as_ref().map(|x| Box::new(fold(x))),
            to: to.as_ref().map(|x| Box::new(fold(x))),
        },
        TExprKind::Call { func, args } => TExprKind::Call {
            func: *func,
            args: args.iter().map(fold).collect(),
        },
        TExprKind::Quantifier { all, list, body } => TExprKind::Quantifier {
            all: *all,
            list: Box::new(fold(list)),
            body: Box::new(fold(body)),
        },
        TExprKind::Template(parts) => TExprKind::Template(parts.iter().map(fold).collect()),
    };
    let folded = TExpr {
        kind,
        ty: e.ty.clone(),
        span: e.span,
    };
    if !foldable(&folded) {
        return folded;
    }
    let value = val(&folded, &mut SlotLayout::new())(&Env {
        slots: &[],
        locals: None,
        budget: None,
    })
    .into_owned();
    TExpr {
        kind: TExprKind::Const(value),
        ty: e.ty.clone(),
        span: e.span,
    }
}

/// A node whose children are all constants and whose value does not depend on the input.
fn foldable(e: &TExpr) -> bool {
    let is_const = |x: &TExpr| matches!(x.kind, TExprKind::Const(_));
    match &e.kind {
        TExprKind::List(items) | TExprKind::Template(items) | TExprKind::Logic { items, .. } => {
            items.iter().all(is_const)
        }
        TExprKind::Object(entries) => entries.iter().all(|(_, v)| is_const(v)),
        TExprKind::Not(x) | TExprKind::Neg(x) => is_const(x),
        TExprKind::Binary { lhs, rhs, .. } => is_const(lhs) && is_const(rhs),
        TExprKind::IsNull { expr, .. } => is_const(expr),
        TExprKind::Call { func, args } => *func != Func::Today && args.iter().all(is_const),
        _ => false,
    }
}

/// The clauses of a chain, with nested chains of the same operator spliced in (the
/// checker never builds those, but a tree built by hand may hold them).
fn flat_items(items: &[TExpr], op: LogicOp) -> Vec<&TExpr> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match &item.kind {
            TExprKind::Logic { op: inner, items } if *inner == op => {
                out.extend(flat_items(items, op))
            }
            _ => out.push(item),
        }
    }
    out
}

/// A rough cost, to evaluate cheap and selective clauses first.
fn cost(e: &TExpr) -> u32 {
    match &e.kind {
        TExprKind::Const(_) | TExprKind::Local(_) => 0,
        TExprKind::Field(_) => 1,
        TExprKind::Binary {
            op: BinaryOp::Matches,
            lhs,
            rhs,
        } => 40 + cost(lhs) + cost(rhs),
        TExprKind::Binary {
            op: BinaryOp::Contains,
            lhs,
            rhs,
        } => 8 + cost(lhs) + cost(rhs),
        TExprKind::Binary {
            op: BinaryOp::StartsWith | BinaryOp::EndsWith,
            lhs,
            rhs,
        } => 4 + cost(lhs) + cost(rhs),
        TExprKind::Binary {
            op: BinaryOp::In,
            lhs,
            rhs,
        } => 3 + cost(lhs) + cost(rhs),
        TExprKind::Binary { lhs, rhs, .. } => 1 + cost(lhs) + cost(rhs),
        TExprKind::Logic { items, .. } => items.iter().map(|x| 1 + cost(x)).sum(),
        TExprKind::Not(x) | TExprKind::Neg(x) | TExprKind::IsNull { expr: x, .. } => 1 + cost(x),
        TExprKind::Changed { .. } => 3,
        TExprKind::Call {
            func: Func::Has,
            args,
        } => 1 + args.iter().map(cost).sum::<u32>(),
        TExprKind::Call { args, .. } => 15 + args.iter().map(cost).sum::<u32>(),
        TExprKind::List(items) | TExprKind::Template(items) => {
            10 + items.iter().map(cost).sum::<u32>()
        }
        TExprKind::Object(entries) => 10 + entries.iter().map(|(_, v)| cost(v)).sum::<u32>(),
        TExprKind::Quantifier { list, body, .. } => 30 + cost(list) + 4 * cost(body),
    }
}

// ---------------------------------------------------------------- predicates

/// Where an operand comes from, when that allows a specialised closure.
enum Operand<'e> {
    Slot(usize),
    Const(&'e Value),
    Other,
}

fn operand<'e>(e: &'e TExpr, layout: &mut SlotLayout) -> Operand<'e> {
    match &e.kind {
        TExprKind::Field(f) => Operand::Slot(layout.slot_typed(f, &e.ty)),
        TExprKind::Const(v) => Operand::Const(v),
        _ => Operand::Other,
    }
}

/// Compiles `e` to a closure returning whether it is `true`.
pub(crate) fn pred(e: &TExpr, layout: &mut SlotLayout) -> Pred {
    match &e.kind {
        TExprKind::Const(v) => {
            let b = truthy(v);
            Box::new(move |_| b)
        }
        TExprKind::Logic { op, items } => chain(items, *op, layout),
        TExprKind::Not(x) => {
            let p = pred(x, layout);
            Box::new(move |env| !p(env))
        }
        TExprKind::Binary { op, lhs, rhs } => binary_pred(*op, lhs, rhs, layout),
        TExprKind::IsNull { expr, negated } => {
            let negated = *negated;
            if let Operand::Slot(i) = operand(expr, layout) {
                return Box::new(move |env| matches!(env.slot(i), Value::Null) != negated);
            }
            let v = val(expr, layout);
            Box::new(move |env| matches!(*v(env), Value::Null) != negated)
        }
        TExprKind::Call {
            func: Func::Has,
            args,
        } if args.len() == 1 => {
            if let Operand::Slot(i) = operand(&args[0], layout) {
                return Box::new(move |env| !matches!(env.slot(i), Value::Null));
            }
            let v = val(&args[0], layout);
            Box::new(move |env| !matches!(*v(env), Value::Null))
        }
        TExprKind::Changed {
            current,
            previous,
            from,
            to,
        } => changed(current, previous, from.as_deref(), to.as_deref(), layout),
        TExprKind::Quantifier { all, list, body } => {
            let all = *all;
            let list = val(list, layout);
            let body = pred(body, layout);
            Box::new(move |env| {
                let items = list(env);
                let Value::List(items) = &*items else {
                    return all;
                };
                items.iter().all(|item| {
                    let frame = Frame {
                        value: item,
                        parent: env.locals,
                    };
                    body(&Env {
                        slots: env.slots,
                        locals: Some(&frame),
                        budget: env.budget,
                    }) == all
                }) == all
            })
        }
        _ => {
            let v = val(e, layout);
            Box::new(move |env| truthy(&v(env)))
        }
    }
}

/// An `and`/`or` chain (flat since the checker), cheapest clauses first, short-circuiting.
fn chain(items: &[TExpr], op: LogicOp, layout: &mut SlotLayout) -> Pred {
    let mut clauses = flat_items(items, op);
    // Stable, and each cost computed once: equal-cost clauses keep their written order.
    clauses.sort_by_cached_key(|c| cost(c));
    let mut preds: Vec<Pred> = clauses.into_iter().map(|c| pred(c, layout)).collect();
    // Short chains get straight-line closures: no loop, no slice bounds.
    match (op == LogicOp::And, preds.len()) {
        (and, 2) => {
            let (b, a) = (preds.pop().unwrap(), preds.pop().unwrap());
            if and {
                Box::new(move |env| a(env) && b(env))
            } else {
                Box::new(move |env| a(env) || b(env))
            }
        }
        (and, 3) => {
            let (c, b, a) = (
                preds.pop().unwrap(),
                preds.pop().unwrap(),
                preds.pop().unwrap(),
            );
            if and {
                Box::new(move |env| a(env) && b(env) && c(env))
            } else {
                Box::new(move |env| a(env) || b(env) || c(env))
            }
        }
        (_, 0 | 1) => match preds.pop() {
            Some(only) => only,
            None => Box::new(move |_| op == LogicOp::And),
        },
        (true, _) => {
            let preds = preds.into_boxed_slice();
            Box::new(move |env| preds.iter().all(|p| p(env)))
        }
        (false, _) => {
            let preds = preds.into_boxed_slice();
            Box::new(move |env| preds.iter().any(|p| p(env)))
        }
    }
}

fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

fn binary_pred(op: BinaryOp, lhs: &TExpr, rhs: &TExpr, layout: &mut SlotLayout) -> Pred {
    use BinaryOp::*;
    let (l, r) = (operand(lhs, layout), operand(rhs, layout));
    match (op, l, r) {
        (Eq | Ne, Operand::Slot(i), Operand::Const(c))
        | (Eq | Ne, Operand::Const(c), Operand::Slot(i)) => slot_equals(i, c, op == Ne),
        (Lt | Le | Gt | Ge, Operand::Slot(i), Operand::Const(Value::Number(c))) => {
            slot_vs_number(i, op, *c)
        }
        (Lt | Le | Gt | Ge, Operand::Const(Value::Number(c)), Operand::Slot(i)) => {
            slot_vs_number(i, flip(op), *c)
        }
        (In, Operand::Slot(i), Operand::Const(Value::List(items))) => slot_in(i, items),
        (In, Operand::Other, Operand::Const(Value::List(items))) => {
            let members = Members::new(items);
            let x = val(lhs, layout);
            Box::new(move |env| members.contains(&x(env)))
        }
        (Contains, Operand::Slot(i), Operand::Const(Value::String(n))) => {
            // The substring searcher is built once here, not per evaluation (measured:
            // ~30 instructions per call fewer than `str::contains` with a run-time needle).
            let finder = memchr::memmem::Finder::new(n.as_bytes()).into_owned();
            let needle = Value::String(n.clone());
            Box::new(move |env| match env.slot(i) {
                Value::String(s) => finder.find(s.as_bytes()).is_some(),
                Value::List(items) => items.iter().any(|x| ops::same(x, &needle)),
                _ => false,
            })
        }
        (StartsWith, Operand::Slot(i), Operand::Const(Value::String(n))) => {
            let n = n.clone();
            Box::new(move |env| matches!(env.slot(i), Value::String(s) if s.starts_with(&*n)))
        }
        (EndsWith, Operand::Slot(i), Operand::Const(Value::String(n))) => {
            let n = n.clone();
            Box::new(move |env| matches!(env.slot(i), Value::String(s) if s.ends_with(&*n)))
        }
        (Matches, _, Operand::Const(pattern)) => {
            let re = match pattern {
                Value::String(p) => regex::RegexBuilder::new(p).size_limit(1 << 20).build().ok(),
                _ => None,
            };
            let Some(re) = re else {
                return Box::new(|_| false);
            };
            let subject = val(lhs, layout);
            Box::new(move |env| matches!(&*subject(env), Value::String(s) if re.is_match(s)))
        }
        _ => {
            let (a, b) = (val(lhs, layout), val(rhs, layout));
            Box::new(move |env| generic_binary_bool(op, &a(env), &b(env)))
        }
    }
}

fn slot_equals(i: usize, c: &Value, negate: bool) -> Pred {
    match c {
        Value::String(c) if c.len() <= 16 => {
            // Short constants live inside the closure as two words: no pointer to follow
            // and no memcmp call on the hottest shape of all.
            let key = ShortKey::of(c.as_bytes());
            Box::new(move |env| {
                matches!(env.slot(i), Value::String(s) if key.matches(s.as_bytes())) != negate
            })
        }
        Value::String(c) => {
            let c = c.clone();
            Box::new(move |env| {
                matches!(env.slot(i), Value::String(s) if s.as_bytes() == c.as_bytes()) != negate
            })
        }
        Value::Number(c) => {
            let c = *c;
            Box::new(move |env| matches!(env.slot(i), Value::Number(n) if *n == c) != negate)
        }
        Value::Bool(c) => {
            let c = *c;
            Box::new(move |env| matches!(env.slot(i), Value::Bool(b) if *b == c) != negate)
        }
        Value::Null => Box::new(move |env| matches!(env.slot(i), Value::Null) != negate),
        other => {
            let c = other.clone();
            Box::new(move |env| ops::same(env.slot(i), &c) != negate)
        }
    }
}

/// A string of at most 16 bytes as (length, two words). Two strings of equal length up
/// to 16 bytes are equal exactly when their words are: the words cover every byte
/// (overlapping when shorter than 16), see [`ShortKey::words`].
#[derive(Clone, Copy)]
struct ShortKey {
    len: usize,
    words: (u64, u64),
}

impl ShortKey {
    fn of(bytes: &[u8]) -> ShortKey {
        ShortKey {
            len: bytes.len(),
            words: ShortKey::words(bytes),
        }
    }

    /// For `n` in 8..=16: first and last 8 bytes; 4..8: first and last 4; 1..4: first,
    /// middle and last byte (which is every byte). Only meaningful for `n <= 16`.
    #[inline(always)]
    fn words(b: &[u8]) -> (u64, u64) {
        let n = b.len();
        if n >= 8 {
            let lo = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
            let hi = u64::from_le_bytes(b[n - 8..].try_into().unwrap_or([0; 8]));
            (lo, hi)
        } else if n >= 4 {
            let lo = u32::from_le_bytes(b[..4].try_into().unwrap_or([0; 4]));
            let hi = u32::from_le_bytes(b[n - 4..].try_into().unwrap_or([0; 4]));
            (lo as u64, hi as u64)
        } else if n > 0 {
            (
                b[0] as u64 | (b[n / 2] as u64) << 8 | (b[n - 1] as u64) << 16,
                0,
            )
        } else {
            (0, 0)
        }
    }

    #[inline(always)]
    fn matches(&self, s: &[u8]) -> bool {
        s.len() == self.len && ShortKey::words(s) == self.words
    }
}

fn slot_vs_number(i: usize, op: BinaryOp, c: f64) -> Pred {
    match op {
        BinaryOp::Lt => Box::new(move |env| matches!(env.slot(i), Value::Number(n) if *n < c)),
        BinaryOp::Le => Box::new(move |env| matches!(env.slot(i), Value::Number(n) if *n <= c)),
        BinaryOp::Gt => Box::new(move |env| matches!(env.slot(i), Value::Number(n) if *n > c)),
        _ => Box::new(move |env| matches!(env.slot(i), Value::Number(n) if *n >= c)),
    }
}

/// `slot in [consts]`, looked up in a [`Members`] set.
fn slot_in(i: usize, items: &Arc<[Value]>) -> Pred {
    let members = Members::new(items);
    Box::new(move |env| members.contains(env.slot(i)))
}

/// The constant items of an `in` list, as a set: strings and numbers sorted for a binary
/// search (a list of thousands of ids costs a few comparisons, not a scan); short lists
/// of one kind scanned by that kind's equality; mixed lists scanned with `==`'s rules.
enum Members {
    Strings(Box<[Arc<str>]>),
    Numbers(Box<[f64]>),
    /// A short list of strings of at most 16 bytes each: compared as [`ShortKey`]s (no
    /// pointer to follow, no generic `==`).
    ShortStrings(Box<[ShortKey]>),
    /// A short list of strings, some longer: compared as bytes.
    FewStrings(Box<[Arc<str>]>),
    /// A short list of numbers: compared with `==`.
    FewNumbers(Box<[f64]>),
    Scan(Arc<[Value]>),
}

/// Lists up to this long are scanned; longer ones searched.
const SHORT_LIST: usize = 4;

impl Members {
    fn new(items: &Arc<[Value]>) -> Members {
        if items.len() <= SHORT_LIST {
            return Members::short(items);
        }
        let strings: Option<Vec<Arc<str>>> = items
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        if let Some(mut set) = strings {
            set.sort();
            set.dedup();
            return Members::Strings(set.into_boxed_slice());
        }
        // NaN equals nothing under `==`, so it is left out of the set.
        let numbers: Option<Vec<f64>> = items
            .iter()
            .map(|v| match v {
                Value::Number(n) => Some(*n),
                _ => None,
            })
            .collect();
        if let Some(mut set) = numbers {
            set.retain(|n| !n.is_nan());
            set.sort_by(f64::total_cmp);
            return Members::Numbers(set.into_boxed_slice());
        }
        Members::Scan(items.clone())
    }

    /// A list of at most [`SHORT_LIST`] items, by the kind its items share.
    fn short(items: &Arc<[Value]>) -> Members {
        let strings: Option<Vec<Arc<str>>> = items
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        if let Some(strings) = strings {
            if strings.iter().all(|s| s.len() <= 16) {
                let keys = strings.iter().map(|s| ShortKey::of(s.as_bytes())).collect();
                return Members::ShortStrings(keys);
            }
            return Members::FewStrings(strings.into_boxed_slice());
        }
        let numbers: Option<Box<[f64]>> = items
            .iter()
            .map(|v| match v {
                Value::Number(n) => Some(*n),
                _ => None,
            })
            .collect();
        match numbers {
            Some(numbers) => Members::FewNumbers(numbers),
            None => Members::Scan(items.clone()),
        }
    }

    #[inline]
    fn contains(&self, x: &Value) -> bool {
        match (self, x) {
            (Members::Strings(set), Value::String(s)) => {
                set.binary_search_by(|m| (**m).cmp(&**s)).is_ok()
            }
            (Members::Numbers(set), Value::Number(n)) => {
                // -0.0 == 0.0 under `==`, but total_cmp orders them apart: look both up.
                let n = if *n == 0.0 { 0.0 } else { *n };
                let found = |k: f64| set.binary_search_by(|m| m.total_cmp(&k)).is_ok();
                found(n) || (n == 0.0 && found(-0.0))
            }
            (Members::ShortStrings(keys), Value::String(s)) => {
                keys.iter().any(|k| k.matches(s.as_bytes()))
            }
            (Members::FewStrings(set), Value::String(s)) => {
                set.iter().any(|m| m.as_bytes() == s.as_bytes())
            }
            (Members::FewNumbers(set), Value::Number(n)) => set.iter().any(|m| m == n),
            (Members::Scan(items), x) => items.iter().any(|item| ops::same(x, item)),
            _ => false,
        }
    }
}

fn generic_binary_bool(op: BinaryOp, a: &Value, b: &Value) -> bool {
    use BinaryOp::*;
    match op {
        Eq => ops::same(a, b),
        Ne => !ops::same(a, b),
        Lt | Le | Gt | Ge => ops::compare(op, a, b),
        In => ops::is_in(a, b),
        Contains => ops::contains(a, b),
        StartsWith => ops::strings(a, b).is_some_and(|(s, p)| s.starts_with(p)),
        EndsWith => ops::strings(a, b).is_some_and(|(s, p)| s.ends_with(p)),
        // A pattern known only at run time is compiled per evaluation (rare: the checker
        // asks for a literal pattern); an invalid one never matches.
        Matches => ops::strings(a, b).is_some_and(|(s, p)| {
            regex::RegexBuilder::new(p)
                .size_limit(1 << 20)
                .build()
                .is_ok_and(|re| re.is_match(s))
        }),
        Add | Sub | Mul | Div => truthy(&ops::arith(op, a, b)),
    }
}

fn changed(
    current: &FieldRef,
    previous: &FieldRef,
    from: Option<&TExpr>,
    to: Option<&TExpr>,
    layout: &mut SlotLayout,
) -> Pred {
    let ty = changed_type(from, to);
    let exists = layout.slot_typed(&previous_exists(), &Type::Bool);
    let now = layout.slot_typed(current, &ty);
    let before = layout.slot_typed(previous, &ty);
    let from = from.map(|f| val(f, layout));
    let to = to.map(|t| val(t, layout));
    Box::new(move |env| {
        let (n, b) = (env.slot(now), env.slot(before));
        truthy(env.slot(exists))
            && !ops::same(n, b)
            && from.as_ref().is_none_or(|f| ops::same(b, &f(env)))
            && to.as_ref().is_none_or(|t| ops::same(n, &t(env)))
    })
}

// ---------------------------------------------------------------- values

/// Compiles `e` to a closure returning its value (borrowed from the slots when possible).
pub(crate) fn val(e: &TExpr, layout: &mut SlotLayout) -> ValFn {
    match &e.kind {
        TExprKind::Const(v) => {
            let v = v.clone();
            Box::new(move |_| Cow::Owned(v.clone()))
        }
        TExprKind::Field(f) => {
            let i = layout.slot_typed(f, &e.ty);
            Box::new(move |env| Cow::Borrowed(env.slot(i)))
        }
        TExprKind::Local(depth) => {
            let depth = *depth;
            Box::new(move |env| {
                let mut frame = env.locals;
                for _ in 0..depth {
                    frame = frame.and_then(|f| f.parent);
                }
                Cow::Borrowed(frame.map_or(&NULL, |f| f.value))
            })
        }
        TExprKind::List(items) => {
            let items: Vec<ValFn> = items.iter().map(|x| val(x, layout)).collect();
            Box::new(move |env| {
                Cow::Owned(Value::List(
                    items.iter().map(|f| f(env).into_owned()).collect(),
                ))
            })
        }
        TExprKind::Object(entries) => {
            let entries: Vec<(Arc<str>, ValFn)> = entries
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), val(v, layout)))
                .collect();
            Box::new(move |env| {
                Cow::Owned(Value::Object(
                    entries
                        .iter()
                        .map(|(k, f)| (k.clone(), f(env).into_owned()))
                        .collect(),
                ))
            })
        }
        TExprKind::Neg(x) => {
            let x = val(x, layout);
            Box::new(move |env| {
                Cow::Owned(match &*x(env) {
                    Value::Number(n) => Value::Number(-n),
                    Value::Duration(d) => d.checked_neg().map_or(Value::Null, Value::Duration),
                    _ => Value::Null,
                })
            })
        }
        TExprKind::Binary {
            op: op @ (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div),
            lhs,
            rhs,
        } => {
            let op = *op;
            let (a, b) = (val(lhs, layout), val(rhs, layout));
            Box::new(move |env| {
                let (a, b) = (a(env), b(env));
                // `string + string` builds text: it is checked against a param's cap, or
                // the condition cap, before it is built.
                if let (Value::String(x), Value::String(y)) = (&*a, &*b)
                    && text_over(env, x.len() + y.len())
                {
                    return Cow::Borrowed(&NULL);
                }
                Cow::Owned(ops::arith(op, &a, &b))
            })
        }
        TExprKind::Call { func, args } => call(*func, args, layout),
        TExprKind::Template(parts) => {
            let parts: Vec<ValFn> = parts.iter().map(|x| val(x, layout)).collect();
            Box::new(move |env| {
                let mut text = String::new();
                for p in &parts {
                    render(&p(env), &mut text);
                    // Checked per part: past the cap, stop before rendering the rest.
                    if text_over(env, text.len()) {
                        return Cow::Borrowed(&NULL);
                    }
                }
                if let Some(b) = env.budget {
                    b.spend(text.len());
                }
                Cow::Owned(Value::String(Arc::from(text)))
            })
        }
        TExprKind::Not(_)
        | TExprKind::Binary { .. }
        | TExprKind::Logic { .. }
        | TExprKind::IsNull { .. }
        | TExprKind::Changed { .. }
        | TExprKind::Quantifier { .. } => {
            let p = pred(e, layout);
            Box::new(move |env| Cow::Owned(Value::Bool(p(env))))
        }
    }
}

/// Whether a built text of `len` bytes passes the cap that applies: the param's budget
/// (which records that it was passed), else [`MAX_BUILT_TEXT_BYTES`].
#[inline]
fn text_over(env: &Env, len: usize) -> bool {
    match env.budget {
        Some(budget) => budget.over(len),
        None => len > MAX_BUILT_TEXT_BYTES,
    }
}

fn call(func: Func, args: &[TExpr], layout: &mut SlotLayout) -> ValFn {
    if func == Func::Today {
        let now = layout.slot_typed(&now_field(), &Type::DateTime);
        return Box::new(move |env| {
            Cow::Owned(match env.slot(now) {
                Value::DateTime(ms) => Value::DateTime(day_floor(*ms)),
                _ => Value::Null,
            })
        });
    }
    let arg: ValFn = match args.first() {
        Some(a) => val(a, layout),
        None => Box::new(|_| Cow::Borrowed(&NULL)),
    };
    match func {
        Func::Has => {
            Box::new(move |env| Cow::Owned(Value::Bool(!matches!(*arg(env), Value::Null))))
        }
        Func::Lower | Func::Upper => Box::new(move |env| {
            Cow::Owned(match &*arg(env) {
                Value::String(s) if func == Func::Lower => {
                    Value::String(Arc::from(s.to_lowercase()))
                }
                Value::String(s) => Value::String(Arc::from(s.to_uppercase())),
                _ => Value::Null,
            })
        }),
        Func::Len => Box::new(move |env| {
            Cow::Owned(match &*arg(env) {
                Value::String(s) => Value::Number(s.chars().count() as f64),
                Value::List(xs) => Value::Number(xs.len() as f64),
                Value::Object(xs) => Value::Number(xs.len() as f64),
                _ => Value::Null,
            })
        }),
        Func::Today => Box::new(|_| Cow::Borrowed(&NULL)),
    }
}
