//! Lints over typed conditions: always true (W0302) / always false (W0303) for literal
//! bools, comparisons of constants, `x == x`, and contradictory equalities
//! (`priority == "low" and priority == "high"`). Only warnings; never changes the tree.

use std::collections::{HashMap, HashSet};

use automations_grammar::ast::{BinaryOp, LogicOp, Span};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::typed::{FieldRef, TExpr, TExprKind};
use crate::value::Value;

/// Warnings for `e` and its constant sub-clauses (the outermost constant node only).
/// `folded` are spans of nodes already reported elsewhere (`changed()` on create).
///
/// One bottom-up pass: each node's constant truth is computed once from its children's,
/// so a chain of n clauses costs O(n), not a re-walk per level.
pub fn lint_condition(e: &TExpr, folded: &HashSet<Span>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    lint(e, folded, &mut out);
    out
}

/// The constant truth of `e`, pushing a warning for it when it has one (after dropping
/// the warnings of its sub-clauses, which it covers).
fn lint(e: &TExpr, folded: &HashSet<Span>, out: &mut Vec<Diagnostic>) -> Option<bool> {
    let mark = out.len();
    let truth = match &e.kind {
        TExprKind::Not(x) => lint(x, folded, out).map(|b| !b),
        TExprKind::Logic { op, items } => {
            let truths: Vec<Option<bool>> = items.iter().map(|i| lint(i, folded, out)).collect();
            logic_truth(*op, &truths, items)
        }
        _ => constant_truth(e, folded),
    };
    let v = truth?;
    out.truncate(mark);
    out.push(if v {
        Diagnostic::warning(codes::ALWAYS_TRUE, "this condition is always true", e.span)
    } else {
        Diagnostic::warning(
            codes::ALWAYS_FALSE,
            "this condition is always false",
            e.span,
        )
    });
    Some(v)
}

/// `Some(b)` when `e` is a bool that cannot depend on the record.
pub fn constant_truth(e: &TExpr, folded: &HashSet<Span>) -> Option<bool> {
    match &e.kind {
        TExprKind::Const(Value::Bool(b)) if !folded.contains(&e.span) => Some(*b),
        TExprKind::Not(x) => constant_truth(x, folded).map(|b| !b),
        TExprKind::Logic { op, items } => {
            let truths: Vec<Option<bool>> =
                items.iter().map(|i| constant_truth(i, folded)).collect();
            logic_truth(*op, &truths, items)
        }
        TExprKind::Binary { op, lhs, rhs } => compare(*op, lhs, rhs),
        TExprKind::IsNull { expr, negated } => match &expr.kind {
            TExprKind::Const(v) => Some((*v == Value::Null) != *negated),
            _ => None,
        },
        _ => None,
    }
}

/// The truth of a chain from its items' truths (`None`: depends on the record).
fn logic_truth(op: LogicOp, truths: &[Option<bool>], items: &[TExpr]) -> Option<bool> {
    let (absorbing, neutral) = match op {
        LogicOp::And => (false, true),
        LogicOp::Or => (true, false),
    };
    if truths.contains(&Some(absorbing)) {
        return Some(absorbing);
    }
    if truths.iter().all(|t| *t == Some(neutral)) {
        return Some(neutral);
    }
    (op == LogicOp::And && contradictory(items)).then_some(false)
}

fn compare(op: BinaryOp, lhs: &TExpr, rhs: &TExpr) -> Option<bool> {
    use BinaryOp::*;
    if let (TExprKind::Field(a), TExprKind::Field(b)) = (&lhs.kind, &rhs.kind)
        && a == b
    {
        // Null equals null as a value, so `x == x` holds even when x is missing.
        return match op {
            Eq => Some(true),
            Ne => Some(false),
            _ => None,
        };
    }
    let (TExprKind::Const(a), TExprKind::Const(b)) = (&lhs.kind, &rhs.kind) else {
        return None;
    };
    match op {
        Eq => Some(a == b),
        Ne => Some(a != b),
        Lt | Le | Gt | Ge => {
            let ord = match (a, b) {
                (Value::Number(x), Value::Number(y)) => x.partial_cmp(y)?,
                (Value::String(x), Value::String(y)) => x.cmp(y),
                (Value::Duration(x), Value::Duration(y))
                | (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
                _ => return None,
            };
            Some(match op {
                Lt => ord.is_lt(),
                Le => ord.is_le(),
                Gt => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        _ => None,
    }
}

/// `f == a and ... and f == b` with `a != b`: one pass, remembering the first value
/// compared with each field.
fn contradictory(conjuncts: &[TExpr]) -> bool {
    let mut seen: HashMap<&FieldRef, &Value> = HashMap::new();
    for c in conjuncts {
        let TExprKind::Binary {
            op: BinaryOp::Eq,
            lhs,
            rhs,
        } = &c.kind
        else {
            continue;
        };
        let (f, v) = match (&lhs.kind, &rhs.kind) {
            (TExprKind::Field(f), TExprKind::Const(v))
            | (TExprKind::Const(v), TExprKind::Field(f)) => (f, v),
            _ => continue,
        };
        match seen.get(f) {
            Some(first) if *first != v => return true,
            Some(_) => {}
            None => {
                seen.insert(f, v);
            }
        }
    }
    false
}
