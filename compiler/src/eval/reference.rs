//! The reference evaluator: a plain tree-walking interpreter over [`TExpr`], reading values
//! straight from [`EvalInput`] (no slots, no specialisation). It is the test oracle for the
//! compiled evaluator and the definition of the semantics in code (DESIGN §4).
//!
//! It must never share operator code with `compiled`: only value conversions from
//! `convert` and field reading from `context` are common. Slow is fine here; wrong is not.

use std::sync::Arc;

use super::budget::MAX_BUILT_TEXT_BYTES;
use super::context::{EvalInput, References, changed_type, previous_exists, read_field};
use super::convert::{day_floor, render};
use crate::typed::{BinaryOp, FieldRef, Func, LogicOp, TExpr, TExprKind, Type};
use crate::value::Value;

/// Evaluates a condition: true only when the expression yields `Bool(true)`.
pub fn evaluate_bool(expr: &TExpr, input: &EvalInput, references: &References) -> bool {
    matches!(evaluate(expr, input, references), Value::Bool(true))
}

/// Evaluates any expression to a value (params, templates). Never panics.
pub fn evaluate(expr: &TExpr, input: &EvalInput, references: &References) -> Value {
    Interp {
        input,
        references,
        locals: Vec::new(),
    }
    .eval(expr)
}

struct Interp<'a, 'i> {
    input: &'a EvalInput<'i>,
    references: &'a References,
    /// Lambda variables, innermost last.
    locals: Vec<Value>,
}

impl Interp<'_, '_> {
    fn field(&self, f: &FieldRef, ty: &Type) -> Value {
        read_field(self.input, self.references, f, ty)
    }

    fn eval(&mut self, e: &TExpr) -> Value {
        match &e.kind {
            TExprKind::Const(v) => v.clone(),
            TExprKind::Field(f) => self.field(f, &e.ty),
            TExprKind::Local(i) => {
                let n = self.locals.len();
                match n.checked_sub(1 + *i as usize) {
                    Some(at) => self.locals[at].clone(),
                    None => Value::Null,
                }
            }
            TExprKind::List(items) => Value::List(items.iter().map(|i| self.eval(i)).collect()),
            TExprKind::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), self.eval(v)))
                    .collect(),
            ),
            TExprKind::Not(inner) => Value::Bool(!is_true(&self.eval(inner))),
            TExprKind::Neg(inner) => match self.eval(inner) {
                Value::Number(n) => Value::Number(-n),
                Value::Duration(d) => d.checked_neg().map_or(Value::Null, Value::Duration),
                _ => Value::Null,
            },
            TExprKind::Logic {
                op: LogicOp::And,
                items,
            } => Value::Bool(items.iter().all(|i| is_true(&self.eval(i)))),
            TExprKind::Logic {
                op: LogicOp::Or,
                items,
            } => Value::Bool(items.iter().any(|i| is_true(&self.eval(i)))),
            TExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(lhs);
                let r = self.eval(rhs);
                binary(*op, &l, &r)
            }
            TExprKind::IsNull { expr, negated } => {
                Value::Bool((self.eval(expr) == Value::Null) != *negated)
            }
            TExprKind::Changed {
                current,
                previous,
                from,
                to,
            } => Value::Bool(self.changed(current, previous, from.as_deref(), to.as_deref())),
            TExprKind::Call { func, args } => self.call(*func, args),
            TExprKind::Quantifier { all, list, body } => {
                let items = match self.eval(list) {
                    Value::List(items) => items,
                    // Null (or anything not a list) is treated as the empty list.
                    _ => Arc::from(Vec::new()),
                };
                let mut answer = *all;
                for item in items.iter() {
                    self.locals.push(item.clone());
                    let hit = is_true(&self.eval(body));
                    self.locals.pop();
                    if hit != *all {
                        answer = !*all;
                        break;
                    }
                }
                Value::Bool(answer)
            }
            TExprKind::Template(parts) => {
                let mut text = String::new();
                for p in parts {
                    render(&self.eval(p), &mut text);
                    if text.len() > MAX_BUILT_TEXT_BYTES {
                        return Value::Null;
                    }
                }
                Value::String(Arc::from(text.as_str()))
            }
        }
    }

    fn changed(
        &mut self,
        current: &FieldRef,
        previous: &FieldRef,
        from: Option<&TExpr>,
        to: Option<&TExpr>,
    ) -> bool {
        if !is_true(&self.field(&previous_exists(), &Type::Bool)) {
            return false;
        }
        let ty = changed_type(from, to);
        let now = self.field(current, &ty);
        let before = self.field(previous, &ty);
        if equal(&now, &before) {
            return false;
        }
        let from_ok = from.is_none_or(|f| equal(&before, &self.eval(f)));
        from_ok && to.is_none_or(|t| equal(&now, &self.eval(t)))
    }

    fn call(&mut self, func: Func, args: &[TExpr]) -> Value {
        if func == Func::Today {
            return Value::DateTime(day_floor(self.input.now_ms));
        }
        let arg = match args.first() {
            Some(a) => self.eval(a),
            None => Value::Null,
        };
        match (func, arg) {
            (Func::Has, v) => Value::Bool(v != Value::Null),
            (Func::Lower, Value::String(s)) => Value::String(Arc::from(s.to_lowercase().as_str())),
            (Func::Upper, Value::String(s)) => Value::String(Arc::from(s.to_uppercase().as_str())),
            (Func::Len, Value::String(s)) => Value::Number(s.chars().count() as f64),
            (Func::Len, Value::List(items)) => Value::Number(items.len() as f64),
            (Func::Len, Value::Object(entries)) => Value::Number(entries.len() as f64),
            _ => Value::Null,
        }
    }
}

fn is_true(v: &Value) -> bool {
    *v == Value::Bool(true)
}

/// Value equality: null equals only null; values of different kinds are never equal.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::DateTime(x), Value::DateTime(y)) => x == y,
        (Value::Duration(x), Value::Duration(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && equal(v, v2)))
        }
        _ => false,
    }
}

fn binary(op: BinaryOp, l: &Value, r: &Value) -> Value {
    use BinaryOp::*;
    use std::cmp::Ordering::*;
    match op {
        Eq => Value::Bool(equal(l, r)),
        Ne => Value::Bool(!equal(l, r)),
        Lt | Le | Gt | Ge => {
            let ord = match (l, r) {
                (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
                (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                (Value::DateTime(a), Value::DateTime(b)) => Some(a.cmp(b)),
                (Value::Duration(a), Value::Duration(b)) => Some(a.cmp(b)),
                _ => None,
            };
            Value::Bool(matches!(
                (op, ord),
                (Lt, Some(Less))
                    | (Le, Some(Less | Equal))
                    | (Gt, Some(Greater))
                    | (Ge, Some(Greater | Equal))
            ))
        }
        In => Value::Bool(match (l, r) {
            (x, Value::List(items)) => items.iter().any(|i| equal(x, i)),
            (Value::String(needle), Value::String(hay)) => hay.contains(&**needle),
            _ => false,
        }),
        Contains => Value::Bool(match (l, r) {
            (_, Value::Null) => false,
            (Value::String(hay), Value::String(needle)) => hay.contains(&**needle),
            (Value::List(items), x) => items.iter().any(|i| equal(i, x)),
            _ => false,
        }),
        StartsWith => Value::Bool(match (l, r) {
            (Value::String(s), Value::String(p)) => s.starts_with(&**p),
            _ => false,
        }),
        EndsWith => Value::Bool(match (l, r) {
            (Value::String(s), Value::String(p)) => s.ends_with(&**p),
            _ => false,
        }),
        Matches => Value::Bool(match (l, r) {
            (Value::String(s), Value::String(p)) => regex::RegexBuilder::new(p)
                .size_limit(1 << 20)
                .build()
                .is_ok_and(|re| re.is_match(s)),
            _ => false,
        }),
        Add | Sub | Mul | Div => arithmetic(op, l, r),
    }
}

fn arithmetic(op: BinaryOp, l: &Value, r: &Value) -> Value {
    use BinaryOp::*;
    let number = |n: f64| {
        if n.is_nan() {
            Value::Null
        } else {
            Value::Number(n)
        }
    };
    let ms = |n: f64| {
        if n.is_finite() && n.abs() < 9.0e18 {
            Value::Duration(n.round() as i64)
        } else {
            Value::Null
        }
    };
    let opt = |v: Option<i64>, wrap: fn(i64) -> Value| v.map_or(Value::Null, wrap);
    match (op, l, r) {
        (Div, Value::Number(_), Value::Number(b)) if *b == 0.0 => Value::Null,
        (Add, Value::Number(a), Value::Number(b)) => number(a + b),
        (Sub, Value::Number(a), Value::Number(b)) => number(a - b),
        (Mul, Value::Number(a), Value::Number(b)) => number(a * b),
        (Div, Value::Number(a), Value::Number(b)) => number(a / b),
        (Add, Value::String(a), Value::String(b)) if a.len() + b.len() > MAX_BUILT_TEXT_BYTES => {
            Value::Null
        }
        (Add, Value::String(a), Value::String(b)) => {
            Value::String(Arc::from(format!("{a}{b}").as_str()))
        }
        (Sub, Value::DateTime(a), Value::DateTime(b)) => opt(a.checked_sub(*b), Value::Duration),
        (Add, Value::DateTime(a), Value::Duration(b)) => opt(a.checked_add(*b), Value::DateTime),
        (Add, Value::Duration(a), Value::DateTime(b)) => opt(a.checked_add(*b), Value::DateTime),
        (Sub, Value::DateTime(a), Value::Duration(b)) => opt(a.checked_sub(*b), Value::DateTime),
        (Add, Value::Duration(a), Value::Duration(b)) => opt(a.checked_add(*b), Value::Duration),
        (Sub, Value::Duration(a), Value::Duration(b)) => opt(a.checked_sub(*b), Value::Duration),
        (Mul, Value::Duration(a), Value::Number(b))
        | (Mul, Value::Number(b), Value::Duration(a)) => ms(*a as f64 * b),
        (Div, Value::Duration(_), Value::Number(b)) if *b == 0.0 => Value::Null,
        (Div, Value::Duration(a), Value::Number(b)) => ms(*a as f64 / b),
        (Div, Value::Duration(_), Value::Duration(0)) => Value::Null,
        (Div, Value::Duration(a), Value::Duration(b)) => number(*a as f64 / *b as f64),
        _ => Value::Null,
    }
}
