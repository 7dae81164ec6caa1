//! Compiling expressions to closures yielding values (params, templates, operands).

use std::borrow::Cow;
use std::sync::Arc;

use super::{Env, ValFn, pred};
use crate::eval::budget::MAX_BUILT_TEXT_BYTES;
use crate::eval::context::{SlotLayout, now_field};
use crate::eval::convert::{day_floor, render};
use crate::eval::ops::{self, NULL};
use crate::typed::{BinaryOp, Func, TExpr, TExprKind, Type};
use crate::value::Value;

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
