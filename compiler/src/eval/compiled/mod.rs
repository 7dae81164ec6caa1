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
mod preds;
mod values;

use fast::{Fast, fast};

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
    /// `and` / `or` / single clause, in the order written (for explanations).
    pub(crate) shape: Shape,
    /// The clauses in written order; each names its predicate in `root`.
    pub(crate) clauses: Vec<Clause>,
}

/// The top-level clauses in evaluation order; chains of two and three (the most common)
/// are held inline and run straight-line.
enum Root {
    One(Fast),
    And2(Fast, Fast),
    And3(Fast, Fast, Fast),
    Or2(Fast, Fast),
    Or3(Fast, Fast, Fast),
    All(Box<[Fast]>),
    Any(Box<[Fast]>),
}

impl Root {
    fn new(shape: Shape, mut preds: Vec<Fast>) -> Root {
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
    fn get(&self, i: usize) -> Option<&Fast> {
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
        // The function for the root's shape, chosen at compile time: no dispatch here,
        // and each function saves only the registers its own clauses need.
        (self.run)(&self.root, slots)
    }

    /// The result of the top-level clause whose predicate is `i`-th in evaluation order.
    pub(crate) fn clause_holds(&self, i: usize, env: &Env) -> bool {
        self.root.get(i).is_some_and(|p| p.holds_in(env))
    }
}

/// Answers a [`Root`] of one shape (see [`Root::runner`]).
type Run = fn(&Root, &[Value]) -> bool;

impl Root {
    /// The function answering this root; it is only ever called with this root.
    fn runner(&self) -> Run {
        match self {
            Root::One(_) => |r, slots| matches!(r, Root::One(a) if a.holds(slots)),
            Root::And2(..) => |r, slots| match r {
                Root::And2(a, b) => a.holds(slots) && b.holds(slots),
                _ => false,
            },
            Root::And3(..) => |r, slots| match r {
                Root::And3(a, b, c) => a.holds(slots) && b.holds(slots) && c.holds(slots),
                _ => false,
            },
            Root::Or2(..) => |r, slots| match r {
                Root::Or2(a, b) => a.holds(slots) || b.holds(slots),
                _ => false,
            },
            Root::Or3(..) => |r, slots| match r {
                Root::Or3(a, b, c) => a.holds(slots) || b.holds(slots) || c.holds(slots),
                _ => false,
            },
            Root::All(_) => |r, slots| match r {
                Root::All(preds) => preds.iter().all(|p| p.holds(slots)),
                _ => false,
            },
            Root::Any(_) => |r, slots| match r {
                Root::Any(preds) => preds.iter().any(|p| p.holds(slots)),
                _ => false,
            },
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
    let preds = order.iter().filter_map(|&i| compiled[i].take()).collect();
    let root = Root::new(shape, preds);
    CompiledCondition {
        run: root.runner(),
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
