//! Splitting one event type's conditions into groups that can share a slot layout.
//!
//! A [`SlotLayout`](crate::eval::SlotLayout) has one slot per field path, converted with
//! one type, while the reference evaluator converts each read with the type of the node
//! reading it. Two reads of one field convert alike unless their types differ in kind:
//! a bare `changed(f)` reads `f` untyped (`any`), `f > 5` reads it as a number, and for a
//! record holding `"x"` in `f` the two give `"x"` and null. Conditions that read a field
//! in different kinds therefore never share a layout: each group's layout reads every
//! field in one kind, and the compiled conditions see exactly what the reference sees.
//!
//! A single condition that reads one field in two kinds cannot be compiled faithfully at
//! all; it is marked for the reference evaluator. This module must never merge two reads
//! whose conversions could differ.

use std::collections::HashMap;

use crate::eval::context::changed_type;
use crate::typed::{FieldRef, TExpr, TExprKind, Type};

/// How a field's JSON value is converted (`json_to_value`): types in one class convert
/// every JSON value identically.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Any,
    Bool,
    Number,
    Text,
    DateTime,
    Duration,
    List(Box<Class>),
}

fn class(ty: &Type) -> Class {
    match ty {
        Type::Null | Type::Any => Class::Any,
        Type::Bool => Class::Bool,
        Type::Number => Class::Number,
        Type::String | Type::Picklist(_) | Type::Reference(_) => Class::Text,
        Type::DateTime => Class::DateTime,
        Type::Duration => Class::Duration,
        Type::List(t) => Class::List(Box::new(class(t))),
    }
}

/// The conversion class of every field a condition reads, or `None` when it reads some
/// field in two classes.
pub(crate) fn read_classes(e: &TExpr) -> Option<HashMap<FieldRef, Class>> {
    let mut out = HashMap::new();
    collect(e, &mut out).then_some(out)
}

fn note(f: &FieldRef, ty: &Type, out: &mut HashMap<FieldRef, Class>) -> bool {
    let c = class(ty);
    match out.get(f) {
        Some(seen) => *seen == c,
        None => {
            out.insert(f.clone(), c);
            true
        }
    }
}

fn collect(e: &TExpr, out: &mut HashMap<FieldRef, Class>) -> bool {
    match &e.kind {
        TExprKind::Field(f) => note(f, &e.ty, out),
        TExprKind::Const(_) | TExprKind::Local(_) => true,
        TExprKind::List(xs) | TExprKind::Template(xs) => xs.iter().all(|x| collect(x, out)),
        TExprKind::Call { args, .. } => args.iter().all(|x| collect(x, out)),
        TExprKind::Object(entries) => entries.iter().all(|(_, x)| collect(x, out)),
        TExprKind::Not(x) | TExprKind::Neg(x) | TExprKind::IsNull { expr: x, .. } => {
            collect(x, out)
        }
        TExprKind::Binary { lhs, rhs, .. } => collect(lhs, out) && collect(rhs, out),
        TExprKind::Changed {
            current,
            previous,
            from,
            to,
        } => {
            let ty = changed_type(from.as_deref(), to.as_deref());
            note(current, &ty, out)
                && note(previous, &ty, out)
                && [from, to].into_iter().flatten().all(|x| collect(x, out))
        }
        TExprKind::Quantifier { list, body, .. } => collect(list, out) && collect(body, out),
    }
}

/// Conditions whose reads agree in class, to be compiled over one layout.
#[derive(Default)]
pub(crate) struct Partition {
    classes: HashMap<FieldRef, Class>,
}

impl Partition {
    /// Takes `reads` in if no field is read in another class here; says whether it did.
    pub(crate) fn admit(&mut self, reads: &HashMap<FieldRef, Class>) -> bool {
        let clash = reads
            .iter()
            .any(|(f, c)| self.classes.get(f).is_some_and(|seen| seen != c));
        if clash {
            return false;
        }
        for (f, c) in reads {
            self.classes.entry(f.clone()).or_insert_with(|| c.clone());
        }
        true
    }
}
