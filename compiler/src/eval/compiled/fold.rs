//! Constant folding, chain flattening and the clause cost model of the compiled evaluator.

use super::{Env, val};
use crate::eval::context::SlotLayout;
use crate::typed::{BinaryOp, Func, LogicOp, TExpr, TExprKind};

// ---------------------------------------------------------------- constant folding

/// Replaces constant sub-trees by their value, computed by this evaluator itself.
pub(super) fn fold(e: &TExpr) -> TExpr {
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
pub(super) fn flat_items(items: &[TExpr], op: LogicOp) -> Vec<&TExpr> {
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
pub(super) fn cost(e: &TExpr) -> u32 {
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
