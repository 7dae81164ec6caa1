//! Checking an action's params against its [`ActionSpec`]: unknown (E0105), missing
//! (E0108), wrong type (E0201), field names (E0101), object names (E0102), picklist values
//! (E0202), form type names and choices (E0005). Every param becomes a [`CheckedParam`].

use std::collections::BTreeMap;

use automations_grammar::ast::{Expr, ExprKind, Span};

use super::expr::ExprChecker;
use super::literal::{const_str, inner_span, parse_datetime, parse_duration};
use super::types::compatible;
use super::{CheckedParam, FormField};
use crate::catalog::{ActionSpec, FORM_TYPES, ParamSpec, ParamType, RecordTarget};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::Param;
use crate::suggest;
use crate::typed::{TExpr, TExprKind, Type};
use crate::value::Value;

pub(super) fn check_params(
    c: &mut ExprChecker,
    spec: &ActionSpec,
    params: &[Param],
    step_span: Span,
) -> Option<BTreeMap<String, CheckedParam>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    // A param like `update_field.value` is checked against the field another param names.
    let target_field = spec
        .params
        .iter()
        .find_map(|p| p.value_of_field)
        .and_then(|field| params.iter().find(|p| p.name == field))
        .and_then(|p| const_str(&p.value).or_else(|| single_ident(&p.value)));
    let target = spec.writes.target();
    let target_object = match target {
        Some(RecordTarget::ObjectParam(name)) => params
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| const_str(&p.value)),
        Some(RecordTarget::Object(o)) => Some(o.to_string()),
        Some(RecordTarget::Trigger) | None => c.scope.object.clone(),
    }
    .filter(|o| c.schema.object(o).is_some());
    for param in params {
        let Some(pspec) = spec.param(&param.name) else {
            let suggestion = suggest::closest(&param.name, spec.params.iter().map(|p| p.name));
            c.error_suggest(
                codes::UNKNOWN_PARAM,
                format!("`{}` has no param `{}`", spec.name, param.name),
                param.name_span,
                suggestion,
            );
            // Still check the value so that its own errors are reported too.
            let _ = c.expr(&param.value);
            ok = false;
            continue;
        };
        if out.contains_key(&param.name) {
            c.error(
                codes::UNKNOWN_PARAM,
                format!("param `{}` is given twice", param.name),
                param.name_span,
            );
            ok = false;
            continue;
        }
        let ctx = ParamCtx {
            target_field: target_field.as_deref(),
            updates_trigger: target == Some(RecordTarget::Trigger),
            target_object: target_object.as_deref(),
        };
        match check_param(c, pspec, param, &ctx) {
            Some(v) => {
                out.insert(param.name.clone(), v);
            }
            None => ok = false,
        }
    }
    ok &= missing(c, spec, params, step_span);
    ok.then_some(out)
}

struct ParamCtx<'a> {
    target_field: Option<&'a str>,
    /// The action writes the triggering record (`update_field`).
    updates_trigger: bool,
    target_object: Option<&'a str>,
}

fn missing(c: &mut ExprChecker, spec: &ActionSpec, params: &[Param], span: Span) -> bool {
    let given = |n: &str| params.iter().any(|p| p.name == n);
    let mut ok = true;
    for p in spec.params.iter().filter(|p| p.required && !given(p.name)) {
        c.error(
            codes::MISSING_PARAM,
            format!("`{}` needs the param `{}`", spec.name, p.name),
            span,
        );
        ok = false;
    }
    for group in spec.one_of.iter().filter(|g| !g.iter().any(|n| given(n))) {
        let names: Vec<String> = group.iter().map(|n| format!("`{n}`")).collect();
        c.error(
            codes::MISSING_PARAM,
            format!("`{}` needs one of {}", spec.name, names.join(" or ")),
            span,
        );
        ok = false;
    }
    for (when, needed) in spec.requires.iter().filter(|(w, n)| given(w) && !given(n)) {
        c.diags.push(
            Diagnostic::error(
                codes::MISSING_PARAM,
                format!("`{}` needs the param `{needed}`", spec.name),
                span,
            )
            .with_note(format!("`{when}` is given, so `{needed}` is needed too")),
        );
        ok = false;
    }
    ok
}

fn single_ident(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Path(segs) if segs.len() == 1 => Some(segs[0].name.clone()),
        _ => None,
    }
}

fn mismatch(c: &mut ExprChecker, name: &str, wanted: &str, found: &Type, span: Span) {
    c.error(
        codes::TYPE_MISMATCH,
        format!(
            "param `{name}` expects {wanted}, found {}",
            found.display_name()
        ),
        span,
    );
}

fn check_param(
    c: &mut ExprChecker,
    spec: &ParamSpec,
    param: &Param,
    ctx: &ParamCtx,
) -> Option<CheckedParam> {
    let e = &param.value;
    let name = param.name.as_str();
    let typed = match spec.ty {
        ParamType::Form => {
            let (fields, diags) = form_fields(e);
            let bad = !diags.is_empty();
            c.diags.extend(diags);
            return (!bad).then_some(CheckedParam::Form(fields));
        }
        ParamType::FieldName => return field_name(c, e, ctx.target_object).map(CheckedParam::Expr),
        ParamType::ObjectName => return object_name(c, e).map(CheckedParam::Expr),
        ParamType::Fields if ctx.target_object.is_none() && ctx.updates_trigger => {
            c.error(
                codes::UNKNOWN_FIELD,
                "this trigger has no record to update",
                e.span,
            );
            return None;
        }
        ParamType::Fields => return fields_map(c, e, ctx.target_object).map(CheckedParam::Expr),
        ParamType::Any if spec.value_of_field.is_some() => {
            let v = c.expr(e)?;
            match ctx
                .target_field
                .and_then(|f| Some((f, field_type(c, ctx.target_object?, f)?)))
            {
                Some((f, ty)) => fit(c, v, &ty, f)?,
                None => v,
            }
        }
        ParamType::Duration | ParamType::DateTime | ParamType::Bool | ParamType::Number => {
            let target = match spec.ty {
                ParamType::Duration => Type::Duration,
                ParamType::DateTime => Type::DateTime,
                ParamType::Bool => Type::Bool,
                _ => Type::Number,
            };
            let v = c.expr(e)?;
            fit(c, v, &target, name)?
        }
        ParamType::String | ParamType::Choice => {
            let v = c.expr(e)?;
            if !compatible(&v.ty, &Type::String) {
                mismatch(c, name, "a string", &v.ty, e.span);
                return None;
            }
            if spec.ty == ParamType::Choice {
                choice(c, spec, &v)?;
            }
            v
        }
        ParamType::Recipients => {
            let v = c.expr(e)?;
            let list_of_strings = Type::List(Box::new(Type::String));
            if !compatible(&v.ty, &Type::String) && !compatible(&v.ty, &list_of_strings) {
                mismatch(c, name, "a string or a list of strings", &v.ty, e.span);
                return None;
            }
            v
        }
        ParamType::Map => {
            let v = c.expr(e)?;
            if !matches!(v.kind, TExprKind::Object(_)) && v.ty != Type::Any {
                mismatch(c, name, "an object `{ key: value }`", &v.ty, e.span);
                return None;
            }
            v
        }
        ParamType::Any => c.expr(e)?,
    };
    Some(CheckedParam::Expr(typed))
}

fn choice(c: &mut ExprChecker, spec: &ParamSpec, v: &TExpr) -> Option<()> {
    let TExprKind::Const(Value::String(s)) = &v.kind else {
        return Some(());
    };
    if spec.choices.contains(&&**s) {
        return Some(());
    }
    let suggestion = suggest::closest(s, spec.choices.iter().copied());
    c.error_suggest(
        codes::INVALID_VALUE,
        format!(
            "`{}` must be one of {}, found \"{s}\"",
            spec.name,
            spec.choices.join(", ")
        ),
        inner_span(v.span),
        suggestion,
    );
    None
}

fn field_type(c: &ExprChecker, object: &str, field: &str) -> Option<Type> {
    c.schema.field(object, field).map(|f| f.ty.to_type())
}

/// Whether `v` can be stored in / passed as `target`; string literals are read as
/// durations and datetimes where those are expected.
fn fit(c: &mut ExprChecker, v: TExpr, target: &Type, what: &str) -> Option<TExpr> {
    if let TExprKind::Const(Value::String(s)) = &v.kind {
        let converted = match target {
            Type::Duration => Some(parse_duration(s).map(Value::Duration)),
            Type::DateTime => Some(parse_datetime(s).map(Value::DateTime)),
            _ => None,
        };
        match converted {
            Some(Some(value)) => {
                return Some(TExpr {
                    kind: TExprKind::Const(value),
                    ty: target.clone(),
                    span: v.span,
                });
            }
            Some(None) => {
                let example = if *target == Type::Duration {
                    "a duration like \"2d\""
                } else {
                    "an RFC 3339 datetime"
                };
                c.error(
                    codes::TYPE_MISMATCH,
                    format!("`{what}` expects {example}, found \"{s}\""),
                    v.span,
                );
                return None;
            }
            None => {}
        }
    }
    if !compatible(&v.ty, target) {
        c.error(
            codes::TYPE_MISMATCH,
            format!(
                "`{what}` expects {}, found {}",
                target.display_name(),
                v.ty.display_name()
            ),
            v.span,
        );
        return None;
    }
    let before = c.diags.len();
    c.picklist_value(target, &v);
    (c.diags.len() == before).then_some(v)
}

fn field_name(c: &mut ExprChecker, e: &Expr, object: Option<&str>) -> Option<TExpr> {
    let (name, span) = match (const_str(e), single_ident(e)) {
        (Some(s), _) => (s, inner_span(e.span)),
        (None, Some(s)) => (s, e.span),
        _ => {
            c.error(
                codes::TYPE_MISMATCH,
                "`field` must name a field, e.g. \"status\"",
                e.span,
            );
            return None;
        }
    };
    let Some(object) = object else {
        c.error(
            codes::UNKNOWN_FIELD,
            "this trigger has no record to update",
            e.span,
        );
        return None;
    };
    let def = c.schema.object(object)?;
    if !def.fields.contains_key(&name) {
        let suggestion = suggest::closest(&name, def.fields.keys().map(String::as_str));
        c.error_suggest(
            codes::UNKNOWN_FIELD,
            format!("unknown field `{name}` on `{object}`"),
            span,
            suggestion,
        );
        return None;
    }
    warn_deprecated(c, object, &name, span);
    Some(TExpr {
        kind: TExprKind::Const(Value::String(name.into())),
        ty: Type::String,
        span: e.span,
    })
}

fn object_name(c: &mut ExprChecker, e: &Expr) -> Option<TExpr> {
    let Some(name) = const_str(e) else {
        c.error(
            codes::TYPE_MISMATCH,
            "`object` must be a constant object name, e.g. \"task\"",
            e.span,
        );
        return None;
    };
    if c.schema.object(&name).is_none() {
        let names: Vec<String> = c.schema.object_names().map(String::from).collect();
        let suggestion = suggest::closest(&name, names.iter().map(String::as_str));
        c.error_suggest(
            codes::UNKNOWN_OBJECT,
            format!("unknown object `{name}`"),
            inner_span(e.span),
            suggestion,
        );
        return None;
    }
    Some(TExpr {
        kind: TExprKind::Const(Value::String(name.into())),
        ty: Type::String,
        span: e.span,
    })
}

fn warn_deprecated(c: &mut ExprChecker, object: &str, field: &str, span: Span) {
    if c.schema.field(object, field).is_some_and(|f| f.deprecated) {
        c.diags.push(Diagnostic::warning(
            codes::DEPRECATED_FIELD,
            format!("`{object}.{field}` is deprecated"),
            span,
        ));
    }
}

fn fields_map(c: &mut ExprChecker, e: &Expr, object: Option<&str>) -> Option<TExpr> {
    let ExprKind::Object(entries) = &e.kind else {
        c.error(
            codes::TYPE_MISMATCH,
            "`fields` must be an object `{ field: value, ... }`",
            e.span,
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for entry in entries {
        let value = c.expr(&entry.value);
        let Some(object) = object else {
            ok &= value.is_some();
            continue;
        };
        let Some(ty) = field_type(c, object, &entry.key.name) else {
            let names: Vec<String> = c
                .schema
                .object(object)
                .map(|d| d.fields.keys().cloned().collect())
                .unwrap_or_default();
            let suggestion = suggest::closest(&entry.key.name, names.iter().map(String::as_str));
            c.error_suggest(
                codes::UNKNOWN_FIELD,
                format!("unknown field `{}` on `{object}`", entry.key.name),
                entry.key.span,
                suggestion,
            );
            ok = false;
            continue;
        };
        warn_deprecated(c, object, &entry.key.name, entry.key.span);
        match value.and_then(|v| fit(c, v, &ty, &entry.key.name)) {
            Some(v) => out.push((entry.key.name.clone(), v)),
            None => ok = false,
        }
    }
    ok.then_some(TExpr {
        kind: TExprKind::Object(out),
        ty: Type::Any,
        span: e.span,
    })
}

/// A form `{ approved: bool, notes: string }`: its fields, and E0005 for unknown type names.
pub(super) fn form_fields(e: &Expr) -> (Vec<FormField>, Vec<Diagnostic>) {
    let mut fields = Vec::new();
    let mut diags = Vec::new();
    let ExprKind::Object(entries) = &e.kind else {
        diags.push(Diagnostic::error(
            codes::TYPE_MISMATCH,
            "`form` must be an object `{ name: type, ... }`",
            e.span,
        ));
        return (fields, diags);
    };
    for entry in entries {
        let (type_name, span) = match (single_ident(&entry.value), const_str(&entry.value)) {
            (Some(n), _) => (n, entry.value.span),
            (None, Some(s)) => (s, inner_span(entry.value.span)),
            _ => (String::new(), entry.value.span),
        };
        let ty = match type_name.as_str() {
            "bool" => Type::Bool,
            "string" => Type::String,
            "number" => Type::Number,
            "datetime" => Type::DateTime,
            "duration" => Type::Duration,
            _ => {
                let mut d = Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!(
                        "unknown form type `{type_name}` (use one of {})",
                        FORM_TYPES.join(", ")
                    ),
                    span,
                );
                d.suggestion = suggest::closest(&type_name, FORM_TYPES);
                diags.push(d);
                continue;
            }
        };
        fields.push(FormField {
            name: entry.key.name.clone(),
            ty,
        });
    }
    (fields, diags)
}
