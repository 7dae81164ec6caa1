//! Path resolution: `priority`, `record.x`, `previous.x`, `event.x`, `steps.<id>.output.x`,
//! reference hops (`account.tier` -> `["account_id", "tier"]`) and lambda locals.
//!
//! Produces [`FieldRef`]s for the evaluators; never looks at record values.

use automations_grammar::ast::{Ident, Span};

use super::expr::ExprChecker;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::schema::FieldType;
use crate::suggest;
use crate::typed::{FieldRef, Root, TExpr, TExprKind, Type};

/// Known fields of the event envelope; anything else under `event.` is `Any`.
const EVENT_FIELDS: [(&str, Type); 3] = [
    ("id", Type::String),
    ("type", Type::String),
    ("occurred_at", Type::DateTime),
];

fn field(root: Root, path: Vec<String>, ty: Type, span: Span) -> TExpr {
    TExpr {
        kind: TExprKind::Field(FieldRef { root, path }),
        ty,
        span,
    }
}

impl ExprChecker<'_> {
    pub(super) fn path(&mut self, segs: &[Ident], span: Span) -> Option<TExpr> {
        let first = segs.first()?;
        if let Some(pos) = self.locals.iter().rposition(|(n, _)| *n == first.name) {
            if segs.len() > 1 {
                self.error(
                    codes::TYPE_MISMATCH,
                    format!("`{}` is a list element; it has no fields", first.name),
                    segs[1].span,
                );
                return None;
            }
            let index = (self.locals.len() - 1 - pos) as u32;
            let ty = self.locals[pos].1.clone();
            return Some(TExpr {
                kind: TExprKind::Local(index),
                ty,
                span,
            });
        }
        match first.name.as_str() {
            "record" => self.record_path(Root::Record, first, &segs[1..], span),
            "previous" => self.record_path(Root::Previous, first, &segs[1..], span),
            "event" => Some(self.event_path(&segs[1..], span)),
            "steps" => self.step_path(first, &segs[1..], span),
            _ => self.record_path(Root::Record, first, segs, span),
        }
    }

    fn record_path(
        &mut self,
        root: Root,
        head: &Ident,
        segs: &[Ident],
        span: Span,
    ) -> Option<TExpr> {
        let Some(mut object) = self.scope.object.clone() else {
            self.error(
                codes::UNKNOWN_FIELD,
                format!(
                    "`{}`: this trigger has no record; read the event with `event.<field>`",
                    head.name
                ),
                head.span,
            );
            return None;
        };
        if segs.is_empty() {
            self.error(
                codes::UNKNOWN_FIELD,
                format!("`{}` needs a field: `{}.<field>`", head.name, head.name),
                head.span,
            );
            return None;
        }
        if self.schema.object(&object).is_none() {
            let names: Vec<&str> = self.schema.object_names().collect();
            let suggestion = suggest::closest(&object, names);
            self.error_suggest(
                codes::UNKNOWN_OBJECT,
                format!("unknown object `{object}`"),
                head.span,
                suggestion,
            );
            return None;
        }
        let mut path = Vec::new();
        for (i, seg) in segs.iter().enumerate() {
            let last = i + 1 == segs.len();
            let def = self.schema.object(&object)?;
            let (name, fdef) = if let Some(f) = def.fields.get(&seg.name) {
                (seg.name.clone(), f.clone())
            } else if let Some(f) = def
                .fields
                .get(&format!("{}_id", seg.name))
                .filter(|f| matches!(f.ty, FieldType::Reference { .. }))
            {
                (format!("{}_id", seg.name), f.clone())
            } else {
                self.unknown_field(&object, seg);
                return None;
            };
            if fdef.deprecated {
                self.diags.push(Diagnostic::warning(
                    codes::DEPRECATED_FIELD,
                    format!("`{object}.{name}` is deprecated"),
                    seg.span,
                ));
            }
            path.push(name.clone());
            if last {
                return Some(field(root, path, fdef.ty.to_type(), span));
            }
            match fdef.ty {
                FieldType::Reference { object: target } => object = target,
                other => {
                    self.error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "`{name}` is a {} field; it has no field `{}`",
                            other.to_type().display_name(),
                            segs[i + 1].name
                        ),
                        segs[i + 1].span,
                    );
                    return None;
                }
            }
        }
        None
    }

    fn unknown_field(&mut self, object: &str, seg: &Ident) {
        let Some(def) = self.schema.object(object) else {
            return;
        };
        let mut candidates: Vec<String> = def.fields.keys().cloned().collect();
        for (name, f) in &def.fields {
            if let (FieldType::Reference { .. }, Some(hop)) = (&f.ty, name.strip_suffix("_id")) {
                candidates.push(hop.to_string());
            }
        }
        let suggestion = crate::suggest::closest(&seg.name, candidates.iter().map(String::as_str));
        self.error_suggest(
            codes::UNKNOWN_FIELD,
            format!("unknown field `{}` on `{object}`", seg.name),
            seg.span,
            suggestion,
        );
    }

    fn event_path(&mut self, segs: &[Ident], span: Span) -> TExpr {
        let path: Vec<String> = segs.iter().map(|s| s.name.clone()).collect();
        let ty = match path.as_slice() {
            [one] => EVENT_FIELDS
                .iter()
                .find(|(n, _)| n == one)
                .map(|(_, t)| t.clone())
                .unwrap_or(Type::Any),
            _ => Type::Any,
        };
        field(Root::Event, path, ty, span)
    }

    fn step_path(&mut self, head: &Ident, segs: &[Ident], span: Span) -> Option<TExpr> {
        let Some(id) = segs.first() else {
            self.error(
                codes::UNKNOWN_STEP,
                "expected `steps.<id>.output.<field>`",
                head.span,
            );
            return None;
        };
        let Some(output) = self.scope.steps.get(&id.name).cloned() else {
            if self.scope.pending_steps.contains(&id.name) {
                self.error(
                    codes::STEP_NOT_YET_RUN,
                    format!(
                        "step `{}` has not run at this point (it runs later or in another branch)",
                        id.name
                    ),
                    id.span,
                );
            } else {
                let ids = self
                    .scope
                    .steps
                    .keys()
                    .chain(self.scope.pending_steps.iter());
                let suggestion = crate::suggest::closest(&id.name, ids.map(String::as_str));
                self.error_suggest(
                    codes::UNKNOWN_STEP,
                    format!("unknown step `{}`", id.name),
                    id.span,
                    suggestion,
                );
            }
            return None;
        };
        self.used_steps.insert(id.name.clone());
        let root = Root::StepOutput(id.name.clone());
        match segs.get(1) {
            None => return Some(field(root, Vec::new(), Type::Any, span)),
            Some(o) if o.name == "output" => {}
            Some(o) => {
                self.error_suggest(
                    codes::UNKNOWN_FIELD,
                    format!(
                        "unknown part `{}` of a step; step values are under `output`",
                        o.name
                    ),
                    o.span,
                    Some("output".into()),
                );
                return None;
            }
        }
        let Some(out_field) = segs.get(2) else {
            return Some(field(root, Vec::new(), Type::Any, span));
        };
        let Some(ty) = output.field_type(&out_field.name) else {
            let suggestion =
                crate::suggest::closest(&out_field.name, output.fields.keys().map(String::as_str));
            self.error_suggest(
                codes::UNKNOWN_FIELD,
                format!(
                    "step `{}` has no output field `{}`",
                    id.name, out_field.name
                ),
                out_field.span,
                suggestion,
            );
            return None;
        };
        let rest = &segs[3..];
        if !rest.is_empty() && ty != Type::Any {
            self.error(
                codes::TYPE_MISMATCH,
                format!(
                    "`{}` is {}; it has no field `{}`",
                    out_field.name,
                    ty.display_name(),
                    rest[0].name
                ),
                rest[0].span,
            );
            return None;
        }
        let path = segs[2..].iter().map(|s| s.name.clone()).collect();
        Some(field(root, path, ty, span))
    }
}
