//! Value operations of the compiled evaluator (the generic, unspecialised paths).
//!
//! Written independently of `reference` on purpose: the differential tests compare the
//! two, so this module must never call into the reference evaluator.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::typed::BinaryOp;
use crate::value::Value;

pub(crate) static NULL: Value = Value::Null;

#[inline]
pub(crate) fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

/// `==`: kinds must agree; null equals null.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    use Value as V;
    match a {
        V::Null => matches!(b, V::Null),
        V::Bool(x) => matches!(b, V::Bool(y) if x == y),
        V::Number(x) => matches!(b, V::Number(y) if x == y),
        V::String(x) => matches!(b, V::String(y) if x.as_bytes() == y.as_bytes()),
        V::DateTime(x) => matches!(b, V::DateTime(y) if x == y),
        V::Duration(x) => matches!(b, V::Duration(y) if x == y),
        V::List(xs) => match b {
            V::List(ys) if xs.len() == ys.len() => (0..xs.len()).all(|i| same(&xs[i], &ys[i])),
            _ => false,
        },
        V::Object(xs) => match b {
            V::Object(ys) if xs.len() == ys.len() => xs.iter().all(|(k, v)| {
                ys.iter()
                    .find(|(k2, _)| k2 == k)
                    .is_some_and(|(_, v2)| same(v, v2))
            }),
            _ => false,
        },
    }
}

/// Ordering for `< <= > >=`; `None` (so every comparison is false) across kinds, for null,
/// bools, lists and objects.
pub(crate) fn order(a: &Value, b: &Value) -> Option<Ordering> {
    use Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => x.partial_cmp(y),
        (V::String(x), V::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (V::DateTime(x), V::DateTime(y)) | (V::Duration(x), V::Duration(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

pub(crate) fn compare(op: BinaryOp, a: &Value, b: &Value) -> bool {
    let Some(o) = order(a, b) else { return false };
    match op {
        BinaryOp::Lt => o.is_lt(),
        BinaryOp::Le => o.is_le(),
        BinaryOp::Gt => o.is_gt(),
        BinaryOp::Ge => o.is_ge(),
        _ => false,
    }
}

/// `x in list` (null is found when the list holds null); `s in string` is a substring test.
pub(crate) fn is_in(x: &Value, container: &Value) -> bool {
    match container {
        Value::List(items) => items.iter().any(|item| same(x, item)),
        Value::String(hay) => matches!(x, Value::String(n) if hay.contains(&**n)),
        _ => false,
    }
}

/// `a contains b`: substring for strings, membership for lists; a null operand is false.
pub(crate) fn contains(a: &Value, b: &Value) -> bool {
    if matches!(b, Value::Null) {
        return false;
    }
    match a {
        Value::String(hay) => matches!(b, Value::String(n) if hay.contains(&**n)),
        Value::List(items) => items.iter().any(|item| same(item, b)),
        _ => false,
    }
}

pub(crate) fn strings<'v>(a: &'v Value, b: &'v Value) -> Option<(&'v str, &'v str)> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some((x, y)),
        _ => None,
    }
}

fn num(n: f64) -> Value {
    if n.is_nan() {
        Value::Null
    } else {
        Value::Number(n)
    }
}

fn scaled_duration(ms: f64) -> Value {
    // Beyond ±9e18 ms an i64 cannot hold it: null rather than a saturated lie.
    if ms.is_finite() && ms.abs() < 9.0e18 {
        Value::Duration(ms.round() as i64)
    } else {
        Value::Null
    }
}

/// `+ - * /` over numbers, strings (`+` concatenates), datetimes and durations. Anything
/// else, null operands, division by zero and overflow give null.
pub(crate) fn arith(op: BinaryOp, a: &Value, b: &Value) -> Value {
    use Value as V;
    match op {
        BinaryOp::Add => match (a, b) {
            (V::Number(x), V::Number(y)) => num(x + y),
            (V::String(x), V::String(y)) => {
                let mut s = String::with_capacity(x.len() + y.len());
                s.push_str(x);
                s.push_str(y);
                V::String(Arc::from(s))
            }
            (V::DateTime(t), V::Duration(d)) | (V::Duration(d), V::DateTime(t)) => {
                t.checked_add(*d).map(V::DateTime).unwrap_or(V::Null)
            }
            (V::Duration(x), V::Duration(y)) => {
                x.checked_add(*y).map(V::Duration).unwrap_or(V::Null)
            }
            _ => V::Null,
        },
        BinaryOp::Sub => match (a, b) {
            (V::Number(x), V::Number(y)) => num(x - y),
            (V::DateTime(x), V::DateTime(y)) => {
                x.checked_sub(*y).map(V::Duration).unwrap_or(V::Null)
            }
            (V::DateTime(t), V::Duration(d)) => {
                t.checked_sub(*d).map(V::DateTime).unwrap_or(V::Null)
            }
            (V::Duration(x), V::Duration(y)) => {
                x.checked_sub(*y).map(V::Duration).unwrap_or(V::Null)
            }
            _ => V::Null,
        },
        BinaryOp::Mul => match (a, b) {
            (V::Number(x), V::Number(y)) => num(x * y),
            (V::Duration(d), V::Number(k)) | (V::Number(k), V::Duration(d)) => {
                scaled_duration(*d as f64 * k)
            }
            _ => V::Null,
        },
        BinaryOp::Div => match (a, b) {
            (_, V::Number(z)) if *z == 0.0 => V::Null,
            (_, V::Duration(0)) => V::Null,
            (V::Number(x), V::Number(y)) => num(x / y),
            (V::Duration(d), V::Number(k)) => scaled_duration(*d as f64 / k),
            (V::Duration(x), V::Duration(y)) => num(*x as f64 / *y as f64),
            _ => V::Null,
        },
        _ => V::Null,
    }
}
