//! Type rules of the condition language (DESIGN §4): compatibility and the result type of
//! each operator. Pure functions; diagnostics are the caller's business.

use automations_grammar::ast::BinaryOp;

use crate::typed::Type;

/// `==`/`!=` and list membership accept these pairs. `null` and `any` go with everything;
/// picklists and references are strings.
pub fn compatible(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Null, _) | (_, Type::Null) | (Type::Any, _) | (_, Type::Any) => true,
        (Type::List(x), Type::List(y)) => compatible(x, y),
        _ => a.base() == b.base(),
    }
}

/// Whether a value of type `t` can be used where a bool is needed.
pub fn is_boolish(t: &Type) -> bool {
    matches!(t, Type::Bool | Type::Null | Type::Any)
}

fn is_stringish_or_open(t: &Type) -> bool {
    t.is_stringish() || matches!(t, Type::Null | Type::Any)
}

fn orderable(t: &Type) -> bool {
    matches!(
        t.base(),
        Type::Number | Type::String | Type::DateTime | Type::Duration
    )
}

/// The result type of `l op r`, or `None` when the operator does not apply. `matches` is
/// handled by the checker (its right side must be a constant pattern).
pub fn binary_type(op: BinaryOp, l: &Type, r: &Type) -> Option<Type> {
    use BinaryOp::*;
    match op {
        Eq | Ne => compatible(l, r).then_some(Type::Bool),
        Lt | Le | Gt | Ge => ordering(l, r).then_some(Type::Bool),
        In => membership(l, r).then_some(Type::Bool),
        Contains => contains(l, r).then_some(Type::Bool),
        StartsWith | EndsWith | Matches => {
            (is_stringish_or_open(l) && is_stringish_or_open(r)).then_some(Type::Bool)
        }
        Add | Sub | Mul | Div => arithmetic(op, l, r),
    }
}

fn ordering(l: &Type, r: &Type) -> bool {
    match (l, r) {
        (Type::Any, _) | (_, Type::Any) => true,
        (Type::Null, Type::Null) => true,
        (Type::Null, t) | (t, Type::Null) => orderable(t),
        _ => orderable(l) && l.base() == r.base(),
    }
}

fn membership(l: &Type, r: &Type) -> bool {
    match r {
        Type::List(elem) => compatible(l, elem),
        Type::Any | Type::Null => true,
        _ => false,
    }
}

fn contains(l: &Type, r: &Type) -> bool {
    match l {
        Type::List(elem) => compatible(elem, r),
        Type::Any | Type::Null => true,
        t if t.is_stringish() => is_stringish_or_open(r),
        _ => false,
    }
}

fn arithmetic(op: BinaryOp, l: &Type, r: &Type) -> Option<Type> {
    use Type::{Any, DateTime, Duration, Null, Number};
    match (l, r) {
        (Any, _) | (_, Any) => return Some(Any),
        (Null, Null) => return Some(Null),
        _ => {}
    }
    let additive = matches!(op, BinaryOp::Add | BinaryOp::Sub);
    let add = op == BinaryOp::Add;
    match (l, r) {
        (Number | Null, Number) | (Number, Null) => Some(Number),
        _ if !additive => None,
        (DateTime, Duration | Null) => Some(DateTime),
        (Duration | Null, DateTime) if add => Some(DateTime),
        (DateTime | Null, DateTime) => Some(Duration),
        (Duration, Duration | Null) | (Null, Duration) => Some(Duration),
        _ => None,
    }
}

/// The element type of a list literal: the first non-null element's type, picklists and
/// references widened to string; `None` when elements are incompatible.
pub fn join(types: &[Type]) -> Option<Type> {
    let mut acc = Type::Null;
    for t in types {
        if !compatible(&acc, t) {
            return None;
        }
        if acc == Type::Null {
            acc = t.base();
        }
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use BinaryOp::*;

    #[test]
    fn date_arithmetic() {
        assert_eq!(
            binary_type(Sub, &Type::DateTime, &Type::DateTime),
            Some(Type::Duration)
        );
        assert_eq!(
            binary_type(Add, &Type::DateTime, &Type::Duration),
            Some(Type::DateTime)
        );
        assert_eq!(
            binary_type(Add, &Type::Duration, &Type::DateTime),
            Some(Type::DateTime)
        );
        assert_eq!(binary_type(Sub, &Type::Duration, &Type::DateTime), None);
        assert_eq!(binary_type(Mul, &Type::DateTime, &Type::Number), None);
        assert_eq!(
            binary_type(Gt, &Type::Duration, &Type::Duration),
            Some(Type::Bool)
        );
    }

    #[test]
    fn comparisons() {
        assert_eq!(binary_type(Gt, &Type::Number, &Type::String), None);
        assert_eq!(
            binary_type(Eq, &Type::Reference("user".into()), &Type::Null),
            Some(Type::Bool)
        );
        assert_eq!(
            binary_type(In, &Type::String, &Type::List(Box::new(Type::String))),
            Some(Type::Bool)
        );
        assert_eq!(
            binary_type(In, &Type::Number, &Type::List(Box::new(Type::String))),
            None
        );
        assert_eq!(
            binary_type(Contains, &Type::List(Box::new(Type::Number)), &Type::Number),
            Some(Type::Bool)
        );
    }
}
