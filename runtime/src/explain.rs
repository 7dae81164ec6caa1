//! Why a condition did or did not match: each top-level clause with its result and the
//! values it read. Shown by `GET /runs/...` and `automations test`.

use serde::Serialize;
use serde_json::{Map, Value as Json};

use automations_compiler::typed::{FieldRef, Root, TExpr, TExprKind};

use crate::expr::{EvalContext, eval, eval_bool, to_json};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Clause {
    pub expr: String,
    pub result: bool,
    /// Path -> value seen, for every field the clause reads.
    pub values: Map<String, Json>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Explanation {
    pub matched: bool,
    pub clauses: Vec<Clause>,
}

/// Explains `condition` (absent = always true) on `ctx`.
pub fn explain(condition: Option<&TExpr>, ctx: &EvalContext) -> Explanation {
    let Some(c) = condition else {
        return Explanation {
            matched: true,
            clauses: Vec::new(),
        };
    };
    let mut parts = Vec::new();
    conjuncts(c, &mut parts);
    let clauses = parts
        .into_iter()
        .map(|p| {
            let mut values = Map::new();
            collect_fields(p, &mut |fr| {
                let e = TExpr {
                    kind: TExprKind::Field(fr.clone()),
                    ty: automations_compiler::typed::Type::Any,
                    span: p.span,
                };
                values.insert(path_text(fr), to_json(&eval(&e, ctx)));
            });
            Clause {
                expr: render(p),
                result: eval_bool(p, ctx),
                values,
            }
        })
        .collect();
    Explanation {
        matched: eval_bool(c, ctx),
        clauses,
    }
}

fn conjuncts<'a>(e: &'a TExpr, out: &mut Vec<&'a TExpr>) {
    match &e.kind {
        TExprKind::Binary {
            op: automations_compiler::typed::BinaryOp::And,
            lhs,
            rhs,
        } => {
            conjuncts(lhs, out);
            conjuncts(rhs, out);
        }
        _ => out.push(e),
    }
}

fn collect_fields(e: &TExpr, f: &mut dyn FnMut(&FieldRef)) {
    match &e.kind {
        TExprKind::Field(fr) => f(fr),
        TExprKind::Changed {
            current, previous, ..
        } => {
            f(current);
            f(previous);
        }
        TExprKind::List(xs) | TExprKind::Template(xs) | TExprKind::Call { args: xs, .. } => {
            xs.iter().for_each(|x| collect_fields(x, f))
        }
        TExprKind::Not(x) | TExprKind::Neg(x) | TExprKind::IsNull { expr: x, .. } => {
            collect_fields(x, f)
        }
        TExprKind::Binary { lhs, rhs, .. }
        | TExprKind::Quantifier {
            list: lhs,
            body: rhs,
            ..
        } => {
            collect_fields(lhs, f);
            collect_fields(rhs, f);
        }
        TExprKind::Object(kvs) => kvs.iter().for_each(|(_, x)| collect_fields(x, f)),
        TExprKind::Const(_) | TExprKind::Local(_) => {}
    }
}

/// `account_id.tier` is shown as written by users: `account.tier`.
pub fn path_text(fr: &FieldRef) -> String {
    let (n, last) = (fr.path.len(), fr.path.len().saturating_sub(1));
    let segs: Vec<String> = fr
        .path
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let hop = i < last && matches!(fr.root, Root::Record | Root::Previous);
            if hop {
                s.strip_suffix("_id").unwrap_or(s).to_string()
            } else {
                s.clone()
            }
        })
        .collect();
    let body = segs.join(".");
    match &fr.root {
        Root::Record => body,
        Root::Previous => format!("previous.{body}"),
        Root::Event => format!("event.{body}"),
        Root::StepOutput(id) if n == 0 => format!("steps.{id}.output"),
        Root::StepOutput(id) => format!("steps.{id}.output.{body}"),
        Root::Now => "now()".into(),
    }
}

/// A readable rendering of a typed expression (not necessarily the source text).
pub fn render(e: &TExpr) -> String {
    match &e.kind {
        TExprKind::Const(v) => to_json(v).to_string(),
        TExprKind::Field(fr) => path_text(fr),
        TExprKind::Local(i) => format!("x{i}"),
        TExprKind::List(xs) => {
            format!("[{}]", xs.iter().map(render).collect::<Vec<_>>().join(", "))
        }
        TExprKind::Not(x) => format!("not {}", render(x)),
        TExprKind::Neg(x) => format!("-{}", render(x)),
        TExprKind::Binary { op, lhs, rhs } => {
            format!("{} {} {}", render(lhs), op.symbol(), render(rhs))
        }
        TExprKind::IsNull { expr, negated } => format!(
            "{} is {}null",
            render(expr),
            if *negated { "not " } else { "" }
        ),
        TExprKind::Changed { current, .. } => format!("changed({})", path_text(current)),
        TExprKind::Call { func, args } => {
            format!(
                "{}({})",
                format!("{func:?}").to_lowercase(),
                args.iter().map(render).collect::<Vec<_>>().join(", ")
            )
        }
        TExprKind::Quantifier { all, list, body } => {
            format!(
                "{}({}, x0 => {})",
                if *all { "all" } else { "any" },
                render(list),
                render(body)
            )
        }
        TExprKind::Template(parts) => {
            format!("\"{}\"", parts.iter().map(render).collect::<String>())
        }
        TExprKind::Object(kvs) => {
            format!(
                "{{{}}}",
                kvs.iter()
                    .map(|(k, v)| format!("{k}: {}", render(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}
