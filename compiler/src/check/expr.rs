//! Checking one expression: literals, operators, templates and function calls. Paths are
//! in `paths`, lints in `lints`. Every error is pushed to `diags` and the node becomes
//! `None`; siblings are still checked so that all problems are reported at once.

use std::collections::{BTreeSet, HashSet};

use automations_grammar::ast::{
    BinaryOp, CallArg, Expr, ExprKind, LogicOp, Span, StrPart, UnaryOp,
};

use super::literal::{const_str, inner_span};
use super::types::{binary_type, compatible, is_boolish, join};
use super::{ExprScope, lints};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::schema::{EventKind, Schema};
use crate::suggest;
use crate::typed::{FieldRef, Func, Root, TExpr, TExprKind, Type};
use crate::value::Value;

pub(crate) const FUNCTIONS: [&str; 9] = [
    "changed", "has", "lower", "upper", "len", "any", "all", "now", "today",
];

pub(crate) struct ExprChecker<'a> {
    pub schema: &'a Schema,
    pub scope: &'a ExprScope,
    pub diags: Vec<Diagnostic>,
    /// Lambda parameters, innermost last.
    pub(super) locals: Vec<(String, Type)>,
    /// Step ids whose output was read (for W0305).
    pub used_steps: BTreeSet<String>,
    /// Spans of `changed()` calls folded to `false` (already reported as W0301).
    pub folded: HashSet<Span>,
}

fn texpr(kind: TExprKind, ty: Type, span: Span) -> TExpr {
    TExpr { kind, ty, span }
}

impl<'a> ExprChecker<'a> {
    pub fn new(schema: &'a Schema, scope: &'a ExprScope) -> ExprChecker<'a> {
        ExprChecker {
            schema,
            scope,
            diags: Vec::new(),
            locals: Vec::new(),
            used_steps: BTreeSet::new(),
            folded: HashSet::new(),
        }
    }

    pub(super) fn error(&mut self, code: &'static str, message: impl Into<String>, span: Span) {
        self.diags.push(Diagnostic::error(code, message, span));
    }

    pub(super) fn error_suggest(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        suggestion: Option<String>,
    ) {
        let mut d = Diagnostic::error(code, message, span);
        if let Some(s) = &suggestion {
            d = d.with_note(format!("did you mean `{s}`?"));
        }
        d.suggestion = suggestion;
        self.diags.push(d);
    }

    /// An expression used as a condition: bool (or null/any), linted for constant results.
    pub fn condition(&mut self, e: &Expr) -> Option<TExpr> {
        let t = self.expr(e)?;
        if !is_boolish(&t.ty) {
            self.error(
                codes::TYPE_MISMATCH,
                format!(
                    "a condition must be bool, but this is {}",
                    t.ty.display_name()
                ),
                e.span,
            );
            return None;
        }
        self.diags.extend(lints::lint_condition(&t, &self.folded));
        Some(t)
    }

    pub fn expr(&mut self, e: &Expr) -> Option<TExpr> {
        let span = e.span;
        match &e.kind {
            ExprKind::Null => Some(texpr(TExprKind::Const(Value::Null), Type::Null, span)),
            ExprKind::Bool(b) => Some(texpr(TExprKind::Const(Value::Bool(*b)), Type::Bool, span)),
            ExprKind::Number(n) => Some(texpr(
                TExprKind::Const(Value::Number(*n)),
                Type::Number,
                span,
            )),
            ExprKind::Duration { millis, .. } => Some(texpr(
                TExprKind::Const(Value::Duration(*millis)),
                Type::Duration,
                span,
            )),
            ExprKind::Str(parts) => self.string(parts, span),
            ExprKind::Path(segs) => self.path(segs, span),
            ExprKind::List(items) => self.list(items, span),
            ExprKind::Object(entries) => {
                let mut out = Vec::new();
                let mut ok = true;
                for entry in entries {
                    match self.expr(&entry.value) {
                        Some(v) => out.push((entry.key.name.clone(), v)),
                        None => ok = false,
                    }
                }
                ok.then(|| texpr(TExprKind::Object(out), Type::Any, span))
            }
            ExprKind::Unary { op, expr } => self.unary(*op, expr, span),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, span),
            ExprKind::Logic { op, items } => self.logic(*op, items, span),
            ExprKind::IsNull { expr, negated } => {
                let inner = self.expr(expr)?;
                Some(texpr(
                    TExprKind::IsNull {
                        expr: Box::new(inner),
                        negated: *negated,
                    },
                    Type::Bool,
                    span,
                ))
            }
            ExprKind::Call { name, args } => self.call(&name.name, name.span, args, span),
            ExprKind::Lambda { .. } => {
                self.error(
                    codes::TYPE_MISMATCH,
                    "a lambda `x => ...` can only be the second argument of any() or all()",
                    span,
                );
                None
            }
            ExprKind::Paren(inner) => self.expr(inner),
        }
    }

    fn string(&mut self, parts: &[StrPart], span: Span) -> Option<TExpr> {
        if parts.iter().all(|p| matches!(p, StrPart::Text(_))) {
            let text: String = parts
                .iter()
                .map(|p| match p {
                    StrPart::Text(t) => t.as_str(),
                    StrPart::Expr(_) => "",
                })
                .collect();
            return Some(texpr(
                TExprKind::Const(Value::String(text.into())),
                Type::String,
                span,
            ));
        }
        let mut out = Vec::new();
        let mut ok = true;
        for part in parts {
            match part {
                StrPart::Text(t) => out.push(texpr(
                    TExprKind::Const(Value::String(t.as_str().into())),
                    Type::String,
                    span,
                )),
                StrPart::Expr(e) => match self.template_part(e) {
                    Some(t) => out.push(t),
                    None => ok = false,
                },
            }
        }
        ok.then(|| texpr(TExprKind::Template(out), Type::String, span))
    }

    fn template_part(&mut self, e: &Expr) -> Option<TExpr> {
        let mut inner = e;
        while let ExprKind::Paren(x) = &inner.kind {
            inner = x;
        }
        if matches!(inner.kind, ExprKind::Lambda { .. } | ExprKind::Object(_)) {
            self.error(
                codes::TEMPLATE_ERROR,
                "a template part `{{ }}` must be a value, not a lambda or an object",
                e.span,
            );
            return None;
        }
        self.expr(e)
    }

    fn list(&mut self, items: &[Expr], span: Span) -> Option<TExpr> {
        let checked: Vec<Option<TExpr>> = items.iter().map(|i| self.expr(i)).collect();
        let checked: Vec<TExpr> = checked.into_iter().collect::<Option<_>>()?;
        let types: Vec<Type> = checked.iter().map(|t| t.ty.clone()).collect();
        let Some(elem) = join(&types) else {
            self.error(
                codes::TYPE_MISMATCH,
                "list elements must all have the same type",
                span,
            );
            return None;
        };
        Some(texpr(
            TExprKind::List(checked),
            Type::List(Box::new(elem)),
            span,
        ))
    }

    fn unary(&mut self, op: UnaryOp, e: &Expr, span: Span) -> Option<TExpr> {
        let inner = self.expr(e)?;
        let ok = match op {
            UnaryOp::Not => is_boolish(&inner.ty),
            UnaryOp::Neg => matches!(
                inner.ty,
                Type::Number | Type::Duration | Type::Null | Type::Any
            ),
        };
        if !ok {
            let what = if op == UnaryOp::Not {
                "`not` needs a bool"
            } else {
                "`-` needs a number or a duration"
            };
            self.error(
                codes::TYPE_MISMATCH,
                format!("{what}, found {}", inner.ty.display_name()),
                span,
            );
            return None;
        }
        let ty = if op == UnaryOp::Not {
            Type::Bool
        } else {
            inner.ty.clone()
        };
        let kind = if op == UnaryOp::Not {
            TExprKind::Not(Box::new(inner))
        } else {
            TExprKind::Neg(Box::new(inner))
        };
        Some(texpr(kind, ty, span))
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, span: Span) -> Option<TExpr> {
        if op == BinaryOp::Matches {
            return self.matches(lhs, rhs, span);
        }
        let l = self.expr(lhs);
        let r = self.expr(rhs);
        let (l, r) = (l?, r?);
        let Some(ty) = binary_type(op, &l.ty, &r.ty) else {
            self.error(
                codes::TYPE_MISMATCH,
                format!(
                    "`{}` cannot be applied to {} and {}",
                    op.symbol(),
                    l.ty.display_name(),
                    r.ty.display_name()
                ),
                span,
            );
            return None;
        };
        match op {
            BinaryOp::Eq | BinaryOp::Ne => {
                self.picklist_value(&l.ty, &r);
                self.picklist_value(&r.ty, &l);
            }
            BinaryOp::In => self.picklist_value(&l.ty, &r),
            _ => {}
        }
        Some(texpr(
            TExprKind::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty,
            span,
        ))
    }

    /// An `and`/`or` chain: every item checked (all errors reported), each must be a
    /// bool; a parenthesized chain of the same operator is merged into this one.
    fn logic(&mut self, op: LogicOp, items: &[Expr], span: Span) -> Option<TExpr> {
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items {
            let Some(t) = self.expr(item) else {
                ok = false;
                continue;
            };
            if !is_boolish(&t.ty) {
                self.error(
                    codes::TYPE_MISMATCH,
                    format!(
                        "`{}` needs bool operands, but this is {}",
                        op.symbol(),
                        t.ty.display_name()
                    ),
                    item.span,
                );
                ok = false;
                continue;
            }
            match t.kind {
                TExprKind::Logic { op: inner, items } if inner == op => out.extend(items),
                kind => out.push(TExpr { kind, ..t }),
            }
        }
        ok.then(|| texpr(TExprKind::Logic { op, items: out }, Type::Bool, span))
    }

    fn matches(&mut self, lhs: &Expr, rhs: &Expr, span: Span) -> Option<TExpr> {
        let l = self.expr(lhs);
        let Some(pattern) = const_str(rhs) else {
            self.error(
                codes::TYPE_MISMATCH,
                "the pattern of `matches` must be a constant string",
                rhs.span,
            );
            return None;
        };
        if let Err(e) = regex::Regex::new(&pattern) {
            let d = Diagnostic::error(codes::INVALID_REGEX, "invalid regular expression", rhs.span)
                .with_note(e.to_string());
            self.diags.push(d);
            return None;
        }
        let l = l?;
        if binary_type(BinaryOp::Matches, &l.ty, &Type::String).is_none() {
            self.error(
                codes::TYPE_MISMATCH,
                format!("`matches` needs a string, found {}", l.ty.display_name()),
                span,
            );
            return None;
        }
        let r = texpr(
            TExprKind::Const(Value::String(pattern.into())),
            Type::String,
            rhs.span,
        );
        Some(texpr(
            TExprKind::Binary {
                op: BinaryOp::Matches,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            Type::Bool,
            span,
        ))
    }

    /// E0202 when `value` (a string constant, or a list of them) is not in the picklist
    /// `target`.
    pub(super) fn picklist_value(&mut self, target: &Type, value: &TExpr) {
        let Type::Picklist(allowed) = target else {
            return;
        };
        match &value.kind {
            TExprKind::Const(Value::String(s)) if !allowed.iter().any(|a| a.as_str() == &**s) => {
                let suggestion = suggest::closest(s, allowed.iter().map(String::as_str));
                self.error_suggest(
                    codes::PICKLIST_VALUE,
                    format!(
                        "\"{s}\" is not a value of this picklist (allowed: {})",
                        allowed.join(", ")
                    ),
                    inner_span(value.span),
                    suggestion,
                );
            }
            TExprKind::List(items) => {
                for item in items {
                    self.picklist_value(target, item);
                }
            }
            _ => {}
        }
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[CallArg], span: Span) -> Option<TExpr> {
        if !FUNCTIONS.contains(&name) {
            let suggestion = suggest::closest(name, FUNCTIONS);
            self.error_suggest(
                codes::UNKNOWN_FUNCTION,
                format!("unknown function `{name}`"),
                name_span,
                suggestion,
            );
            for a in args {
                self.expr(&a.value);
            }
            return None;
        }
        if name != "changed" && args.iter().any(|a| a.name.is_some()) {
            self.error(
                codes::BAD_ARGUMENTS,
                format!("`{name}()` takes no named arguments"),
                span,
            );
            return None;
        }
        match name {
            "now" | "today" => {
                self.arity(name, args, 0, span)?;
                let kind = if name == "now" {
                    TExprKind::Field(FieldRef {
                        root: Root::Now,
                        path: Vec::new(),
                    })
                } else {
                    TExprKind::Call {
                        func: Func::Today,
                        args: Vec::new(),
                    }
                };
                Some(texpr(kind, Type::DateTime, span))
            }
            "has" | "lower" | "upper" | "len" => self.unary_call(name, args, span),
            "any" | "all" => self.quantifier(name == "all", args, span),
            _ => self.changed(args, span),
        }
    }

    fn arity(&mut self, name: &str, args: &[CallArg], n: usize, span: Span) -> Option<()> {
        if args.len() == n {
            return Some(());
        }
        self.error(
            codes::BAD_ARGUMENTS,
            format!(
                "`{name}()` takes {n} argument{}, found {}",
                if n == 1 { "" } else { "s" },
                args.len()
            ),
            span,
        );
        None
    }

    fn unary_call(&mut self, name: &str, args: &[CallArg], span: Span) -> Option<TExpr> {
        self.arity(name, args, 1, span)?;
        let arg = self.expr(&args[0].value)?;
        let t = &arg.ty;
        let open = matches!(t, Type::Null | Type::Any);
        let (func, ok, ty) = match name {
            "has" => (Func::Has, true, Type::Bool),
            "lower" => (Func::Lower, t.is_stringish() || open, Type::String),
            "upper" => (Func::Upper, t.is_stringish() || open, Type::String),
            _ => (
                Func::Len,
                t.is_stringish() || open || matches!(t, Type::List(_)),
                Type::Number,
            ),
        };
        if !ok {
            let wanted = if name == "len" {
                "a string or a list"
            } else {
                "a string"
            };
            self.error(
                codes::TYPE_MISMATCH,
                format!("`{name}()` needs {wanted}, found {}", t.display_name()),
                args[0].value.span,
            );
            return None;
        }
        Some(texpr(
            TExprKind::Call {
                func,
                args: vec![arg],
            },
            ty,
            span,
        ))
    }

    fn quantifier(&mut self, all: bool, args: &[CallArg], span: Span) -> Option<TExpr> {
        let name = if all { "all" } else { "any" };
        self.arity(name, args, 2, span)?;
        let list = self.expr(&args[0].value);
        let mut lambda = &args[1].value;
        while let ExprKind::Paren(x) = &lambda.kind {
            lambda = x;
        }
        let ExprKind::Lambda { param, body } = &lambda.kind else {
            self.error(
                codes::BAD_ARGUMENTS,
                format!("the second argument of `{name}()` must be a lambda `x => ...`"),
                args[1].value.span,
            );
            return None;
        };
        let list = list?;
        let elem = match &list.ty {
            Type::List(t) => (**t).clone(),
            Type::Any => Type::Any,
            Type::Null => Type::Null,
            other => {
                self.error(
                    codes::TYPE_MISMATCH,
                    format!("`{name}()` needs a list, found {}", other.display_name()),
                    list.span,
                );
                return None;
            }
        };
        self.locals.push((param.name.clone(), elem));
        let body_t = self.expr(body);
        self.locals.pop();
        let body_t = body_t?;
        if !is_boolish(&body_t.ty) {
            self.error(
                codes::TYPE_MISMATCH,
                format!(
                    "the lambda of `{name}()` must give a bool, found {}",
                    body_t.ty.display_name()
                ),
                body.span,
            );
            return None;
        }
        Some(texpr(
            TExprKind::Quantifier {
                all,
                list: Box::new(list),
                body: Box::new(body_t),
            },
            Type::Bool,
            span,
        ))
    }

    fn changed(&mut self, args: &[CallArg], span: Span) -> Option<TExpr> {
        let Some(first) = args.first().filter(|a| a.name.is_none()) else {
            self.error(
                codes::BAD_ARGUMENTS,
                "`changed()` needs a field: changed(field[, from: v, to: v])",
                span,
            );
            return None;
        };
        let field = self.expr(&first.value);
        let mut from = None;
        let mut to = None;
        let mut ok = true;
        for arg in &args[1..] {
            let slot = match arg.name.as_ref().map(|n| n.name.as_str()) {
                Some("from") => &mut from,
                Some("to") => &mut to,
                _ => {
                    self.error(
                        codes::BAD_ARGUMENTS,
                        "`changed()` takes one field and the named arguments `from:` and `to:`",
                        arg.value.span,
                    );
                    ok = false;
                    continue;
                }
            };
            *slot = self.expr(&arg.value).map(Box::new);
            ok &= slot.is_some();
        }
        let field = field?;
        let TExprKind::Field(FieldRef {
            root: Root::Record,
            path,
        }) = &field.kind
        else {
            self.error(
                codes::BAD_ARGUMENTS,
                "`changed()` takes a field of the triggering record",
                first.value.span,
            );
            return None;
        };
        if path.len() != 1 {
            self.error(codes::BAD_ARGUMENTS, "`changed()` takes a field of the triggering record itself, not of a related record", first.value.span);
            return None;
        }
        for v in [&from, &to].into_iter().flatten() {
            if !compatible(&field.ty, &v.ty) {
                self.error(
                    codes::TYPE_MISMATCH,
                    format!(
                        "{} is compared with a field of type {}",
                        v.ty.display_name(),
                        field.ty.display_name()
                    ),
                    v.span,
                );
                ok = false;
            } else {
                self.picklist_value(&field.ty, v);
            }
        }
        if !ok {
            return None;
        }
        if self.scope.event == EventKind::Created {
            self.diags.push(
                Diagnostic::warning(
                    codes::CHANGED_ON_CREATE,
                    "`changed()` is always false on a `created` trigger",
                    span,
                )
                .with_note("there is no previous value when a record is created"),
            );
            self.folded.insert(span);
            return Some(texpr(
                TExprKind::Const(Value::Bool(false)),
                Type::Bool,
                span,
            ));
        }
        let current = FieldRef {
            root: Root::Record,
            path: path.clone(),
        };
        let previous = FieldRef {
            root: Root::Previous,
            path: path.clone(),
        };
        Some(texpr(
            TExprKind::Changed {
                current,
                previous,
                from,
                to,
            },
            Type::Bool,
            span,
        ))
    }
}
