//! Lints over typed conditions: always true (W0302) / always false (W0303) for literal
//! bools, comparisons of constants, `x == x`, and contradictory equalities
//! (`priority == "low" and priority == "high"`). Only warnings; never changes the tree.

use automations_grammar::ast::{BinaryOp, Span};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::typed::{FieldRef, TExpr, TExprKind};
use crate::value::Value;

/// Warnings for `e` and its constant sub-clauses (the outermost constant node only).
/// `folded` are spans of nodes already reported elsewhere (`changed()` on create).
pub fn lint_condition(e: &TExpr, folded: &[Span]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    walk(e, folded, &mut out);
    out
}

fn walk(e: &TExpr, folded: &[Span], out: &mut Vec<Diagnostic>) {
    if let Some(v) = constant_truth(e, folded) {
        out.push(if v {
            Diagnostic::warning(codes::ALWAYS_TRUE, "this condition is always true", e.span)
        } else {
            Diagnostic::warning(
                codes::ALWAYS_FALSE,
                "this condition is always false",
                e.span,
            )
        });
        return;
    }
    match &e.kind {
        TExprKind::Not(x) => walk(x, folded, out),
        TExprKind::Binary {
            op: BinaryOp::And | BinaryOp::Or,
            lhs,
            rhs,
        } => {
            walk(lhs, folded, out);
            walk(rhs, folded, out);
        }
        _ => {}
    }
}

/// `Some(b)` when `e` is a bool that cannot depend on the record.
pub fn constant_truth(e: &TExpr, folded: &[Span]) -> Option<bool> {
    match &e.kind {
        TExprKind::Const(Value::Bool(b)) if !folded.contains(&e.span) => Some(*b),
        TExprKind::Not(x) => constant_truth(x, folded).map(|b| !b),
        TExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => {
            let (l, r) = (constant_truth(lhs, folded), constant_truth(rhs, folded));
            match (l, r) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ if contradictory(e) => Some(false),
                _ => None,
            }
        }
        TExprKind::Binary {
            op: BinaryOp::Or,
            lhs,
            rhs,
        } => match (constant_truth(lhs, folded), constant_truth(rhs, folded)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        TExprKind::Binary { op, lhs, rhs } => compare(*op, lhs, rhs),
        TExprKind::IsNull { expr, negated } => match &expr.kind {
            TExprKind::Const(v) => Some((*v == Value::Null) != *negated),
            _ => None,
        },
        _ => None,
    }
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

/// `f == a and ... and f == b` with `a != b`.
fn contradictory(e: &TExpr) -> bool {
    let mut conjuncts = Vec::new();
    flatten_and(e, &mut conjuncts);
    let mut seen: Vec<(&FieldRef, &Value)> = Vec::new();
    for c in conjuncts {
        let TExprKind::Binary {
            op: BinaryOp::Eq,
            lhs,
            rhs,
        } = &c.kind
        else {
            continue;
        };
        let pair = match (&lhs.kind, &rhs.kind) {
            (TExprKind::Field(f), TExprKind::Const(v))
            | (TExprKind::Const(v), TExprKind::Field(f)) => (f, v),
            _ => continue,
        };
        if seen.iter().any(|(f, v)| *f == pair.0 && *v != pair.1) {
            return true;
        }
        seen.push(pair);
    }
    false
}

fn flatten_and<'a>(e: &'a TExpr, out: &mut Vec<&'a TExpr>) {
    match &e.kind {
        TExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => {
            flatten_and(lhs, out);
            flatten_and(rhs, out);
        }
        _ => out.push(e),
    }
}
