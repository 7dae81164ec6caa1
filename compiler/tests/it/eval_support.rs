//! Builders for typed expressions, so evaluator tests do not need the parser and checker.

use std::sync::Arc;

use automations_compiler::eval::reference;
use automations_compiler::eval::{EvalInput, SlotLayout, compile, compile_expr, fill_slots};
use automations_compiler::typed::{
    BinaryOp, FieldRef, Func, LogicOp, Root, Span, TExpr, TExprKind, Type,
};
use automations_compiler::value::Value;

pub fn texpr(kind: TExprKind, ty: Type) -> TExpr {
    TExpr {
        kind,
        ty,
        span: Span::default(),
    }
}

pub fn field(name: &str, ty: Type) -> TExpr {
    texpr(
        TExprKind::Field(FieldRef {
            root: Root::Record,
            path: vec![name.into()],
        }),
        ty,
    )
}

pub fn path(root: Root, path: &[&str], ty: Type) -> TExpr {
    let path = path.iter().map(|s| s.to_string()).collect();
    texpr(TExprKind::Field(FieldRef { root, path }), ty)
}

pub fn now() -> TExpr {
    path(Root::Now, &[], Type::DateTime)
}

pub fn s(text: &str) -> TExpr {
    texpr(
        TExprKind::Const(Value::String(Arc::from(text))),
        Type::String,
    )
}

pub fn n(x: f64) -> TExpr {
    texpr(TExprKind::Const(Value::Number(x)), Type::Number)
}

pub fn b(x: bool) -> TExpr {
    texpr(TExprKind::Const(Value::Bool(x)), Type::Bool)
}

pub fn null() -> TExpr {
    texpr(TExprKind::Const(Value::Null), Type::Null)
}

pub fn dur(ms: i64) -> TExpr {
    texpr(TExprKind::Const(Value::Duration(ms)), Type::Duration)
}

pub fn list(items: Vec<TExpr>, elem: Type) -> TExpr {
    texpr(TExprKind::List(items), Type::List(Box::new(elem)))
}

pub fn call(func: Func, args: Vec<TExpr>, ty: Type) -> TExpr {
    texpr(TExprKind::Call { func, args }, ty)
}

pub fn not(x: TExpr) -> TExpr {
    texpr(TExprKind::Not(Box::new(x)), Type::Bool)
}

pub fn is_null(x: TExpr, negated: bool) -> TExpr {
    texpr(
        TExprKind::IsNull {
            expr: Box::new(x),
            negated,
        },
        Type::Bool,
    )
}

/// The result type of `op` over operands of these types.
pub fn result_type(op: BinaryOp, l: &Type, r: &Type) -> Type {
    use BinaryOp::*;
    match op {
        Add | Sub | Mul | Div => match (l.base(), r.base()) {
            (Type::DateTime, Type::DateTime) => Type::Duration,
            (Type::DateTime, _) | (_, Type::DateTime) => Type::DateTime,
            (Type::Duration, Type::Duration) if op == Div => Type::Number,
            (Type::Duration, _) | (_, Type::Duration) => Type::Duration,
            (Type::String, _) => Type::String,
            _ => Type::Number,
        },
        _ => Type::Bool,
    }
}

pub fn bin(op: BinaryOp, l: TExpr, r: TExpr) -> TExpr {
    let ty = result_type(op, &l.ty, &r.ty);
    texpr(
        TExprKind::Binary {
            op,
            lhs: Box::new(l),
            rhs: Box::new(r),
        },
        ty,
    )
}

pub fn logic(op: LogicOp, items: Vec<TExpr>) -> TExpr {
    texpr(TExprKind::Logic { op, items }, Type::Bool)
}

pub fn and(l: TExpr, r: TExpr) -> TExpr {
    logic(LogicOp::And, vec![l, r])
}

pub fn or(l: TExpr, r: TExpr) -> TExpr {
    logic(LogicOp::Or, vec![l, r])
}

pub fn eq(l: TExpr, r: TExpr) -> TExpr {
    bin(BinaryOp::Eq, l, r)
}

pub fn changed(name: &str, from: Option<TExpr>, to: Option<TExpr>) -> TExpr {
    let f = |root| FieldRef {
        root,
        path: vec![name.to_string()],
    };
    texpr(
        TExprKind::Changed {
            current: f(Root::Record),
            previous: f(Root::Previous),
            from: from.map(Box::new),
            to: to.map(Box::new),
        },
        Type::Bool,
    )
}

pub fn picklist(values: &[&str]) -> Type {
    Type::Picklist(
        values
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .into(),
    )
}

/// 2024-06-01T12:34:56Z
pub const NOW_MS: i64 = 1_717_245_296_000;

/// Evaluates `e` with both evaluators on `input` and returns (compiled, reference); panics
/// with a useful message when they disagree.
pub fn both(e: &TExpr, input: &EvalInput) -> bool {
    let mut layout = SlotLayout::new();
    let compiled = compile(e, &mut layout);
    let slots = fill_slots(&layout, input);
    let fast = compiled.eval(&slots);
    let slow = reference::evaluate_bool(e, input, layout.references());
    assert_eq!(
        fast, slow,
        "compiled and reference disagree on {e:#?}\nslots: {slots:?}"
    );
    fast
}

/// Evaluates `e` for its value with both evaluators and checks they agree.
pub fn both_value(e: &TExpr, input: &EvalInput) -> Value {
    let mut layout = SlotLayout::new();
    let compiled = compile_expr(e, &mut layout);
    let slots = fill_slots(&layout, input);
    let fast = compiled.eval_value(&slots);
    let slow = reference::evaluate(e, input, layout.references());
    assert_eq!(fast, slow, "compiled and reference disagree on {e:#?}");
    fast
}
