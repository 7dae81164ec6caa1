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

use super::budget::{Budget, TooLarge, fits};
use super::context::SlotLayout;
use super::explain::Clause;
use super::ops::NULL;
use crate::typed::{LogicOp, TExpr, TExprKind};
use crate::value::Value;

mod fast;
mod fold;
mod members;
mod merge;
mod needle;
mod preds;
mod values;

use fast::{Fast, fast};
use merge::{Place, merge_equalities};

use fold::{cost, flat_items, fold};
pub(crate) use preds::pred;
pub(crate) use values::val;

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
    /// `root`'s [`Root::runner`].
    run: Run,
    /// Where each top-level clause (in evaluation order) is answered on its own, for
    /// explanations, when `root` merged some (`a == "x" or a == "y"` runs as one `in`);
    /// `None`: `root` holds them one by one.
    places: Option<Box<[Place]>>,
    /// `and` / `or` / single clause, in the order written (for explanations).
    pub(crate) shape: Shape,
    /// The clauses in written order; each names its predicate in `root`.
    pub(crate) clauses: Vec<Clause>,
}

/// The top-level clauses in evaluation order. The first three are held in fields of their
/// own, so that the runner of one clause or of a chain of two or three (the most common)
/// reads them straight, with no check of a variant or a length per evaluation; longer
/// chains are all in `rest`. Unused fields hold a clause that is never run.
struct Root {
    kind: RootKind,
    a: Fast,
    b: Fast,
    c: Fast,
    rest: Box<[Fast]>,
}

#[derive(Clone, Copy)]
enum RootKind {
    One,
    And2,
    And3,
    Or2,
    Or3,
    All,
    Any,
}

impl Root {
    fn new(shape: Shape, mut preds: Vec<Fast>) -> Root {
        let and = shape == Shape::And;
        let kind = match (shape, preds.len()) {
            (_, 1) => RootKind::One,
            (_, 2) if and => RootKind::And2,
            (_, 2) => RootKind::Or2,
            (_, 3) if and => RootKind::And3,
            (_, 3) => RootKind::Or3,
            (Shape::Or, _) => RootKind::Any,
            _ => RootKind::All,
        };
        let unused = || Fast::IsNull {
            slot: usize::MAX,
            negated: false,
        };
        let mut root = Root {
            kind,
            a: unused(),
            b: unused(),
            c: unused(),
            rest: Box::new([]),
        };
        if matches!(kind, RootKind::All | RootKind::Any) {
            root.rest = preds.into_boxed_slice();
            return root;
        }
        let mut held = preds.drain(..);
        for place in [&mut root.a, &mut root.b, &mut root.c] {
            match held.next() {
                Some(p) => *place = p,
                None => break,
            }
        }
        root
    }

    /// The `i`-th predicate in evaluation order.
    fn get(&self, i: usize) -> Option<&Fast> {
        let held = match self.kind {
            RootKind::One => 1,
            RootKind::And2 | RootKind::Or2 => 2,
            RootKind::And3 | RootKind::Or3 => 3,
            RootKind::All | RootKind::Any => return self.rest.get(i),
        };
        [&self.a, &self.b, &self.c][..held].get(i).copied()
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
        // The function for the root's shape, chosen at compile time: no dispatch here,
        // and each function saves only the registers its own clauses need.
        (self.run)(&self.root, slots)
    }

    /// The result of the top-level clause whose predicate is `i`-th in evaluation order.
    pub(crate) fn clause_holds(&self, i: usize, env: &Env) -> bool {
        let clause = match self.places.as_deref().map(|places| places.get(i)) {
            Some(Some(Place::Alone(eq))) => Some(eq),
            Some(Some(Place::At(j))) => self.root.get(*j),
            Some(None) => None,
            None => self.root.get(i),
        };
        clause.is_some_and(|p| p.holds_in(env))
    }
}

/// Answers a [`Root`] of one shape (see [`Root::runner`]).
type Run = fn(&Root, &[Value]) -> bool;

impl Root {
    /// The function answering this root; it is only ever called with this root.
    fn runner(&self) -> Run {
        let leaves = match self.kind {
            RootKind::All | RootKind::Any => self.rest.iter().all(Fast::is_leaf),
            _ => [&self.a, &self.b, &self.c].iter().all(|p| p.is_leaf()),
        };
        if leaves {
            // Clauses answered without a call: the runner saves no register.
            return match self.kind {
                RootKind::One => |r, slots| r.a.holds_leaf(slots),
                RootKind::And2 => |r, slots| r.a.holds_leaf(slots) && r.b.holds_leaf(slots),
                RootKind::And3 => |r, slots| {
                    r.a.holds_leaf(slots) && r.b.holds_leaf(slots) && r.c.holds_leaf(slots)
                },
                RootKind::Or2 => |r, slots| r.a.holds_leaf(slots) || r.b.holds_leaf(slots),
                RootKind::Or3 => |r, slots| {
                    r.a.holds_leaf(slots) || r.b.holds_leaf(slots) || r.c.holds_leaf(slots)
                },
                RootKind::All => |r, slots| r.rest.iter().all(|p| p.holds_leaf(slots)),
                RootKind::Any => |r, slots| r.rest.iter().any(|p| p.holds_leaf(slots)),
            };
        }
        match self.kind {
            RootKind::One => |r, slots| r.a.holds(slots),
            RootKind::And2 => |r, slots| r.a.holds(slots) && r.b.holds(slots),
            RootKind::And3 => |r, slots| r.a.holds(slots) && r.b.holds(slots) && r.c.holds(slots),
            RootKind::Or2 => |r, slots| r.a.holds(slots) || r.b.holds(slots),
            RootKind::Or3 => |r, slots| r.a.holds(slots) || r.b.holds(slots) || r.c.holds(slots),
            RootKind::All => |r, slots| r.rest.iter().all(|p| p.holds(slots)),
            RootKind::Any => |r, slots| r.rest.iter().any(|p| p.holds(slots)),
        }
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
    let mut compiled: Vec<Option<Fast>> = Vec::with_capacity(written.len());
    let mut clauses = Vec::with_capacity(written.len());
    for (i, c) in written.iter().enumerate() {
        compiled.push(Some(fast(c, layout)));
        clauses.push(Clause::new(c, slot_of[i], layout, source));
    }
    let preds: Vec<Fast> = order.iter().filter_map(|&i| compiled[i].take()).collect();
    let (preds, places) = match shape {
        Shape::Single => (preds, None),
        _ => {
            let merged = merge_equalities(preds, shape == Shape::Or);
            let places = merged.merged_any.then(|| merged.places.into_boxed_slice());
            (merged.items, places)
        }
    };
    let root = Root::new(shape, preds);
    CompiledCondition {
        run: root.runner(),
        places,
        root,
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
