//! Typed, resolved expressions: what the checker produces and the evaluators consume.
//!
//! Every path is resolved to a [`FieldRef`] (where a value comes from) and every node has a
//! [`Type`]. Nothing here can fail at evaluation time: the checker rejects what cannot be
//! typed, so both evaluators are total (see DESIGN §4: no evaluation ever errors).

use std::sync::Arc;

pub use automations_grammar::ast::{BinaryOp, LogicOp, Span};

use crate::value::Value;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// The type of the literal `null`; compatible with every type.
    Null,
    Bool,
    Number,
    String,
    /// A string with a closed value set (a picklist field).
    Picklist(Arc<[String]>),
    /// The id of a record of `object` (a string at run time).
    Reference(String),
    DateTime,
    Duration,
    List(Box<Type>),
    /// A JSON object whose shape is not known (custom event payloads, plugin output
    /// without a schema). Paths into it are `Any`.
    Any,
}

impl Type {
    /// The run-time representation: picklists and references are strings.
    pub fn base(&self) -> Type {
        match self {
            Type::Picklist(_) | Type::Reference(_) => Type::String,
            other => other.clone(),
        }
    }
    pub fn is_stringish(&self) -> bool {
        matches!(self, Type::String | Type::Picklist(_) | Type::Reference(_))
    }
    /// Name shown in diagnostics: `string`, `number`, `list<string>`, ...
    pub fn display_name(&self) -> String {
        match self {
            Type::Null => "null".into(),
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::Picklist(_) => "picklist".into(),
            Type::Reference(o) => format!("reference to {o}"),
            Type::DateTime => "datetime".into(),
            Type::Duration => "duration".into(),
            Type::List(t) => format!("list<{}>", t.display_name()),
            Type::Any => "any".into(),
        }
    }
}

/// Where a value is read from at evaluation time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Root {
    /// The triggering record (after the change).
    Record,
    /// The triggering record before the change (`previous.*`; all null on create).
    Previous,
    /// The event envelope and payload (`event.*`).
    Event,
    /// `steps.<id>.output.*`
    StepOutput(String),
    /// The evaluation clock (`now()`), filled once per evaluation context.
    Now,
}

/// A resolved path. `path` walks from the root: on records, a reference hop is written as
/// the reference field (`account_id`) followed by the field on the related record, so
/// `account.tier` on a case is `Record, ["account_id", "tier"]` and the context follows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldRef {
    pub root: Root,
    pub path: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TExpr {
    pub kind: TExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TExprKind {
    Const(Value),
    Field(FieldRef),
    /// The variable bound by the innermost enclosing lambda with this index (de Bruijn style:
    /// 0 is the innermost).
    Local(u32),
    List(Vec<TExpr>),
    Not(Box<TExpr>),
    Neg(Box<TExpr>),
    Binary {
        op: BinaryOp,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
    },
    /// An `and`/`or` chain, flat: at least two items, none of them a chain of the same
    /// operator (the checker merges parenthesized ones), in the order written.
    Logic {
        op: LogicOp,
        items: Vec<TExpr>,
    },
    IsNull {
        expr: Box<TExpr>,
        negated: bool,
    },
    /// `changed(f)` / `changed(f, from: a, to: b)`: `current` and `previous` are the same
    /// field on `Record` and `Previous`.
    Changed {
        current: FieldRef,
        previous: FieldRef,
        from: Option<Box<TExpr>>,
        to: Option<Box<TExpr>>,
    },
    Call {
        func: Func,
        args: Vec<TExpr>,
    },
    /// `any(list, x => body)` / `all(list, x => body)`; `body` sees the element as `Local(0)`.
    Quantifier {
        all: bool,
        list: Box<TExpr>,
        body: Box<TExpr>,
    },
    /// A string with `{{ }}` parts, concatenated (values rendered as text).
    Template(Vec<TExpr>),
    /// An object literal in params (`fields`, `headers`, plugin `input`), keys as written.
    Object(Vec<(String, TExpr)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    /// `has(f)`: f holds a non-null value.
    Has,
    Lower,
    Upper,
    /// Length of a string or a list.
    Len,
    /// `today()`: the evaluation day at 00:00 UTC. (`now()` is a `Field` with root `Now`.)
    Today,
}
