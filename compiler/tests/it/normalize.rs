//! Comparison helpers: IR with spans zeroed and the differences the printer is allowed to
//! make removed (redundant parentheses, `"{{ x }}"` params printed as `x`, `""` parts).

use automations_compiler::ir::{Automation, Expr, Span, Step, StepKind};
use automations_grammar::ast::{ExprKind, StrPart};

pub fn automations(list: &[Automation]) -> Vec<Automation> {
    list.iter().map(automation).collect()
}

pub fn automation(a: &Automation) -> Automation {
    let mut a = a.clone();
    a.span = Span::default();
    a.trigger.span = Span::default();
    if let Some(c) = &mut a.condition {
        c.expr = expr(&c.expr);
    }
    a.steps = a.steps.iter().map(step).collect();
    a.layout = a.layout.as_ref().map(json);
    a
}

/// JSON with every number as a float, so that `10` and `10.0` compare equal.
fn json(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Value::Array(items) => Value::Array(items.iter().map(json).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
        other => other.clone(),
    }
}

fn step(s: &Step) -> Step {
    let mut s = s.clone();
    s.span = Span::default();
    s.guard = s.guard.as_ref().map(expr);
    if let Some(r) = &mut s.retry {
        r.span = Span::default();
        for p in &mut r.entries {
            p.name_span = Span::default();
            p.value = expr(&unwrap_single_template(&p.value));
        }
    }
    s.kind = match &s.kind {
        StepKind::Action { action, params, .. } => StepKind::Action {
            action: action.clone(),
            action_span: Span::default(),
            params: params
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    p.name_span = Span::default();
                    p.value = expr(&unwrap_single_template(&p.value));
                    p
                })
                .collect(),
        },
        StepKind::If {
            condition,
            then_steps,
            else_steps,
        } => StepKind::If {
            condition: expr(condition),
            then_steps: then_steps.iter().map(step).collect(),
            else_steps: else_steps.iter().map(step).collect(),
        },
    };
    s
}

fn unwrap_single_template(e: &Expr) -> Expr {
    match &e.kind {
        ExprKind::Str(parts) => match parts.as_slice() {
            [StrPart::Expr(inner)] => inner.clone(),
            _ => e.clone(),
        },
        _ => e.clone(),
    }
}

/// Zeroes spans, drops `Paren` nodes and merges nested chains of one operator.
pub fn expr(e: &Expr) -> Expr {
    use automations_grammar::ast::{CallArg, Ident, ObjectEntry};
    let ident = |i: &Ident| Ident {
        name: i.name.clone(),
        span: Span::default(),
    };
    let kind = match &e.kind {
        ExprKind::Paren(inner) => return expr(inner),
        ExprKind::Str(parts) => ExprKind::Str(
            parts
                .iter()
                .filter(|p| !matches!(p, StrPart::Text(t) if t.is_empty()))
                .map(|p| match p {
                    StrPart::Text(t) => StrPart::Text(t.clone()),
                    StrPart::Expr(x) => StrPart::Expr(expr(x)),
                })
                .collect(),
        ),
        ExprKind::Path(segs) => ExprKind::Path(segs.iter().map(ident).collect()),
        ExprKind::List(items) => ExprKind::List(items.iter().map(expr).collect()),
        ExprKind::Object(entries) => ExprKind::Object(
            entries
                .iter()
                .map(|en| ObjectEntry {
                    key: ident(&en.key),
                    value: expr(&en.value),
                })
                .collect(),
        ),
        ExprKind::Unary { op, expr: inner } => ExprKind::Unary {
            op: *op,
            expr: Box::new(expr(inner)),
        },
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: *op,
            lhs: Box::new(expr(lhs)),
            rhs: Box::new(expr(rhs)),
        },
        // The printer drops the parentheses of an item chained with the same operator,
        // which then reads back as part of the one flat chain.
        ExprKind::Logic { op, items } => {
            let mut flat = Vec::new();
            for item in items.iter().map(expr) {
                match item.kind {
                    ExprKind::Logic { op: inner, items } if inner == *op => flat.extend(items),
                    kind => flat.push(Expr {
                        kind,
                        span: Span::default(),
                    }),
                }
            }
            ExprKind::Logic {
                op: *op,
                items: flat,
            }
        }
        ExprKind::IsNull {
            expr: inner,
            negated,
        } => ExprKind::IsNull {
            expr: Box::new(expr(inner)),
            negated: *negated,
        },
        ExprKind::Call { name, args } => ExprKind::Call {
            name: ident(name),
            args: args
                .iter()
                .map(|a| CallArg {
                    name: a.name.as_ref().map(ident),
                    value: expr(&a.value),
                })
                .collect(),
        },
        ExprKind::Lambda { param, body } => ExprKind::Lambda {
            param: ident(param),
            body: Box::new(expr(body)),
        },
        other => other.clone(),
    };
    Expr {
        kind,
        span: Span::default(),
    }
}
