//! Compiling expressions to predicates: the specialised shapes (`slot == const`,
//! `slot > n`, `slot in [..]`, `slot contains "x"`, ...) and the generic fallback.

use super::fast::{Fast, fast};
use super::members::{Members, ShortKey, slot_in};
use super::{Env, Frame, Pred, cost, flat_items, val};
use crate::eval::context::{SlotLayout, changed_type, previous_exists};
use crate::eval::ops::{self, truthy};
use crate::typed::{BinaryOp, FieldRef, Func, LogicOp, TExpr, TExprKind, Type};
use crate::value::Value;

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
    // Items of the hot shapes are answered inline by the chain's closure (no call each).
    let mut preds: Vec<Fast> = clauses.into_iter().map(|c| fast(c, layout)).collect();
    // Short chains get straight-line closures: no loop, no slice bounds.
    match (op == LogicOp::And, preds.len()) {
        (and, 2) => {
            let (b, a) = (preds.pop().unwrap(), preds.pop().unwrap());
            if and {
                Box::new(move |env| a.holds_in(env) && b.holds_in(env))
            } else {
                Box::new(move |env| a.holds_in(env) || b.holds_in(env))
            }
        }
        (and, 3) => {
            let (c, b, a) = (
                preds.pop().unwrap(),
                preds.pop().unwrap(),
                preds.pop().unwrap(),
            );
            if and {
                Box::new(move |env| a.holds_in(env) && b.holds_in(env) && c.holds_in(env))
            } else {
                Box::new(move |env| a.holds_in(env) || b.holds_in(env) || c.holds_in(env))
            }
        }
        (_, 0 | 1) => match preds.pop() {
            Some(Fast::Closure(only)) => only,
            Some(only) => Box::new(move |env| only.holds_in(env)),
            None => Box::new(move |_| op == LogicOp::And),
        },
        (true, _) => {
            let preds = preds.into_boxed_slice();
            Box::new(move |env| preds.iter().all(|p| p.holds_in(env)))
        }
        (false, _) => {
            let preds = preds.into_boxed_slice();
            Box::new(move |env| preds.iter().any(|p| p.holds_in(env)))
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

fn slot_vs_number(i: usize, op: BinaryOp, c: f64) -> Pred {
    match op {
        BinaryOp::Lt => Box::new(move |env| matches!(env.slot(i), Value::Number(n) if *n < c)),
        BinaryOp::Le => Box::new(move |env| matches!(env.slot(i), Value::Number(n) if *n <= c)),
        BinaryOp::Gt => Box::new(move |env| matches!(env.slot(i), Value::Number(n) if *n > c)),
        _ => Box::new(move |env| matches!(env.slot(i), Value::Number(n) if *n >= c)),
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
