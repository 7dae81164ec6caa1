//! Evaluation of typed expressions for the executor and dispatch: step params and
//! templates (rendered to JSON), guards, `if` conditions and trigger conditions.
//!
//! Total by construction (DESIGN §4): no evaluation panics or errors; what does not fit
//! yields `null` or `false`. Values come from an [`EvalContext`] built once per run step or
//! per event; related records reached through references are pre-loaded into it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use automations_compiler::typed::{BinaryOp, FieldRef, Func, Root, TExpr, TExprKind, Type};
use automations_compiler::value::Value;

/// What an expression can read.
#[derive(Debug, Clone, Default)]
pub struct EvalContext {
    pub record: Map<String, Json>,
    /// `None` on `*.created` and custom events: `previous.*` is null, `changed()` false.
    pub previous: Option<Map<String, Json>>,
    pub event: Json,
    pub steps: Map<String, Json>,
    pub now_ms: i64,
    /// Related records keyed by (root is previous, reference path), e.g. `["account_id"]`
    /// or `["owner_id", "manager_id"]`.
    pub related: HashMap<(bool, Vec<String>), Map<String, Json>>,
}

impl EvalContext {
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.now_ms).unwrap_or_default()
    }
}

/// Reference hops an expression needs (record and previous roots), for pre-loading.
pub fn reference_paths(e: &TExpr, out: &mut Vec<(bool, Vec<String>)>) {
    let mut add = |fr: &FieldRef| {
        let prev = match fr.root {
            Root::Record => false,
            Root::Previous => true,
            _ => return,
        };
        for n in 1..fr.path.len() {
            let p = (prev, fr.path[..n].to_vec());
            if !out.contains(&p) {
                out.push(p);
            }
        }
    };
    visit_fields(e, &mut add);
}

fn visit_fields(e: &TExpr, f: &mut dyn FnMut(&FieldRef)) {
    match &e.kind {
        TExprKind::Field(fr) => f(fr),
        TExprKind::Changed {
            current,
            previous,
            from,
            to,
        } => {
            f(current);
            f(previous);
            from.iter()
                .chain(to.iter())
                .for_each(|x| visit_fields(x, f));
        }
        TExprKind::List(xs) | TExprKind::Template(xs) | TExprKind::Call { args: xs, .. } => {
            xs.iter().for_each(|x| visit_fields(x, f))
        }
        TExprKind::Not(x) | TExprKind::Neg(x) | TExprKind::IsNull { expr: x, .. } => {
            visit_fields(x, f)
        }
        TExprKind::Binary { lhs, rhs, .. }
        | TExprKind::Quantifier {
            list: lhs,
            body: rhs,
            ..
        } => {
            visit_fields(lhs, f);
            visit_fields(rhs, f);
        }
        TExprKind::Object(kvs) => kvs.iter().for_each(|(_, x)| visit_fields(x, f)),
        TExprKind::Const(_) | TExprKind::Local(_) => {}
    }
}

/// Evaluates a condition: true only for `Bool(true)`.
pub fn eval_bool(e: &TExpr, ctx: &EvalContext) -> bool {
    matches!(eval(e, ctx), Value::Bool(true))
}

pub fn eval(e: &TExpr, ctx: &EvalContext) -> Value {
    Evaluator {
        ctx,
        locals: Vec::new(),
    }
    .eval(e)
}

/// Evaluates a param and renders it as JSON (datetimes as RFC 3339, durations in ms).
pub fn eval_json(e: &TExpr, ctx: &EvalContext) -> Json {
    to_json(&eval(e, ctx))
}

struct Evaluator<'a> {
    ctx: &'a EvalContext,
    locals: Vec<Value>,
}

impl Evaluator<'_> {
    fn eval(&mut self, e: &TExpr) -> Value {
        match &e.kind {
            TExprKind::Const(v) => v.clone(),
            TExprKind::Field(fr) => self.field(fr, &e.ty),
            TExprKind::Local(i) => self
                .locals
                .len()
                .checked_sub(1 + *i as usize)
                .map(|k| self.locals[k].clone())
                .unwrap_or(Value::Null),
            TExprKind::List(xs) => {
                Value::List(xs.iter().map(|x| self.eval(x)).collect::<Vec<_>>().into())
            }
            TExprKind::Not(x) => Value::Bool(!matches!(self.eval(x), Value::Bool(true))),
            TExprKind::Neg(x) => match self.eval(x) {
                Value::Number(n) => Value::Number(-n),
                Value::Duration(d) => Value::Duration(-d),
                _ => Value::Null,
            },
            TExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs),
            TExprKind::IsNull { expr, negated } => {
                Value::Bool(matches!(self.eval(expr), Value::Null) != *negated)
            }
            TExprKind::Changed {
                current,
                previous,
                from,
                to,
            } => self.changed(current, previous, from, to, &e.ty),
            TExprKind::Call { func, args } => self.call(*func, args),
            TExprKind::Quantifier { all, list, body } => {
                let Value::List(items) = self.eval(list) else {
                    return Value::Bool(*all);
                };
                for item in items.iter() {
                    self.locals.push(item.clone());
                    let b = matches!(self.eval(body), Value::Bool(true));
                    self.locals.pop();
                    if b != *all {
                        return Value::Bool(!*all);
                    }
                }
                Value::Bool(*all)
            }
            TExprKind::Template(parts) => {
                let mut s = String::new();
                for p in parts {
                    render_text(&self.eval(p), &mut s);
                }
                Value::String(s.into())
            }
            TExprKind::Object(kvs) => Value::Object(
                kvs.iter()
                    .map(|(k, x)| (Arc::<str>::from(k.as_str()), self.eval(x)))
                    .collect::<Vec<_>>()
                    .into(),
            ),
        }
    }

    fn field(&self, fr: &FieldRef, ty: &Type) -> Value {
        let json = match &fr.root {
            Root::Now => return Value::DateTime(self.ctx.now_ms),
            Root::Record => self.record_path(false, &fr.path),
            Root::Previous => {
                if self.ctx.previous.is_none() {
                    return Value::Null;
                }
                self.record_path(true, &fr.path)
            }
            Root::Event => walk(&self.ctx.event, &fr.path),
            Root::StepOutput(id) => self.ctx.steps.get(id).and_then(|o| walk(o, &fr.path)),
        };
        json.map(|j| from_json(j, ty)).unwrap_or(Value::Null)
    }

    fn record_path(&self, previous: bool, path: &[String]) -> Option<&Json> {
        let (last, hops) = path.split_last()?;
        let map = if hops.is_empty() {
            if previous {
                self.ctx.previous.as_ref()?
            } else {
                &self.ctx.record
            }
        } else {
            self.ctx.related.get(&(previous, hops.to_vec()))?
        };
        map.get(last)
    }

    fn changed(
        &mut self,
        cur: &FieldRef,
        prev: &FieldRef,
        from: &Option<Box<TExpr>>,
        to: &Option<Box<TExpr>>,
        _ty: &Type,
    ) -> Value {
        if self.ctx.previous.is_none() {
            return Value::Bool(false);
        }
        let c = self
            .record_path(false, &cur.path)
            .cloned()
            .unwrap_or(Json::Null);
        let p = self
            .record_path(true, &prev.path)
            .cloned()
            .unwrap_or(Json::Null);
        if c == p {
            return Value::Bool(false);
        }
        let ty = from
            .as_ref()
            .or(to.as_ref())
            .map(|x| x.ty.clone())
            .unwrap_or(Type::Any);
        if let Some(f) = from
            && !values_eq(&from_json(&p, &ty), &self.eval(f))
        {
            return Value::Bool(false);
        }
        if let Some(t) = to
            && !values_eq(&from_json(&c, &ty), &self.eval(t))
        {
            return Value::Bool(false);
        }
        Value::Bool(true)
    }

    fn call(&mut self, func: Func, args: &[TExpr]) -> Value {
        let arg = |s: &mut Self| args.first().map(|a| s.eval(a)).unwrap_or(Value::Null);
        match func {
            Func::Has => Value::Bool(!matches!(arg(self), Value::Null)),
            Func::Lower => match arg(self) {
                Value::String(s) => Value::String(s.to_lowercase().into()),
                _ => Value::Null,
            },
            Func::Upper => match arg(self) {
                Value::String(s) => Value::String(s.to_uppercase().into()),
                _ => Value::Null,
            },
            Func::Len => match arg(self) {
                Value::String(s) => Value::Number(s.chars().count() as f64),
                Value::List(l) => Value::Number(l.len() as f64),
                _ => Value::Null,
            },
            Func::Today => {
                Value::DateTime(self.ctx.now_ms - self.ctx.now_ms.rem_euclid(86_400_000))
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, lhs: &TExpr, rhs: &TExpr) -> Value {
        match op {
            BinaryOp::And => {
                return Value::Bool(
                    matches!(self.eval(lhs), Value::Bool(true))
                        && matches!(self.eval(rhs), Value::Bool(true)),
                );
            }
            BinaryOp::Or => {
                return Value::Bool(
                    matches!(self.eval(lhs), Value::Bool(true))
                        || matches!(self.eval(rhs), Value::Bool(true)),
                );
            }
            _ => {}
        }
        let (a, b) = (self.eval(lhs), self.eval(rhs));
        binary_values(op, &a, &b)
    }
}

/// A binary operator on two evaluated operands (not `and`/`or`).
pub fn binary_values(op: BinaryOp, a: &Value, b: &Value) -> Value {
    use Value::*;
    match op {
        BinaryOp::Eq => Bool(values_eq(a, b)),
        BinaryOp::Ne => Bool(!values_eq(a, b)),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let Some(ord) = compare(a, b) else {
                return Bool(false);
            };
            Bool(match op {
                BinaryOp::Lt => ord.is_lt(),
                BinaryOp::Le => ord.is_le(),
                BinaryOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        BinaryOp::In => match b {
            List(items) => Bool(items.iter().any(|x| values_eq(a, x))),
            String(s) => Bool(matches!(a, String(x) if s.contains(&**x))),
            _ => Bool(false),
        },
        BinaryOp::Contains => match (a, b) {
            (String(s), String(x)) => Bool(s.contains(&**x)),
            (List(items), x) => Bool(items.iter().any(|i| values_eq(i, x))),
            _ => Bool(false),
        },
        BinaryOp::StartsWith => {
            Bool(matches!((a, b), (String(s), String(x)) if s.starts_with(&**x)))
        }
        BinaryOp::EndsWith => Bool(matches!((a, b), (String(s), String(x)) if s.ends_with(&**x))),
        BinaryOp::Matches => match (a, b) {
            (String(s), String(p)) => Bool(regex_matches(p, s)),
            _ => Bool(false),
        },
        BinaryOp::Add => match (a, b) {
            (Number(x), Number(y)) => Number(x + y),
            (String(x), String(y)) => String(format!("{x}{y}").into()),
            (DateTime(t), Duration(d)) | (Duration(d), DateTime(t)) => DateTime(t + d),
            (Duration(x), Duration(y)) => Duration(x + y),
            _ => Null,
        },
        BinaryOp::Sub => match (a, b) {
            (Number(x), Number(y)) => Number(x - y),
            (DateTime(t), Duration(d)) => DateTime(t - d),
            (DateTime(x), DateTime(y)) => Duration(x - y),
            (Duration(x), Duration(y)) => Duration(x - y),
            _ => Null,
        },
        BinaryOp::Mul => match (a, b) {
            (Number(x), Number(y)) => Number(x * y),
            (Duration(d), Number(n)) | (Number(n), Duration(d)) => Duration((*d as f64 * n) as i64),
            _ => Null,
        },
        BinaryOp::Div => match (a, b) {
            (Number(_), Number(y)) if *y == 0.0 => Null,
            (Number(x), Number(y)) => Number(x / y),
            (Duration(d), Number(n)) if *n != 0.0 => Duration((*d as f64 / n) as i64),
            _ => Null,
        },
        BinaryOp::And | BinaryOp::Or => Null,
    }
}

fn regex_matches(pattern: &str, s: &str) -> bool {
    use std::cell::RefCell;
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 1024 {
            c.clear();
        }
        c.entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(pattern).ok())
            .as_ref()
            .is_some_and(|r| r.is_match(s))
    })
}

/// Equality as the condition language defines it: nulls compare as values, numbers by value.
pub fn values_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| values_eq(a, b))
        }
        _ => a == b,
    }
}

pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) | (Value::Duration(x), Value::Duration(y)) => {
            Some(x.cmp(y))
        }
        _ => None,
    }
}

fn walk<'a>(mut v: &'a Json, path: &[String]) -> Option<&'a Json> {
    for p in path {
        v = match v {
            Json::Object(m) => m.get(p)?,
            Json::Array(a) => a.get(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// JSON into a language value, guided by the static type (datetimes and durations are text
/// in records).
pub fn from_json(j: &Json, ty: &Type) -> Value {
    match (j, ty) {
        (Json::Null, _) => Value::Null,
        (Json::String(s), Type::DateTime) => DateTime::parse_from_rfc3339(s)
            .map(|t| Value::DateTime(t.timestamp_millis()))
            .unwrap_or(Value::Null),
        (Json::String(s), Type::Duration) => parse_duration(s)
            .map(Value::Duration)
            .unwrap_or(Value::Null),
        (Json::Number(n), Type::Duration) => n.as_i64().map(Value::Duration).unwrap_or(Value::Null),
        (Json::Bool(b), _) => Value::Bool(*b),
        (Json::Number(n), _) => n.as_f64().map(Value::Number).unwrap_or(Value::Null),
        (Json::String(s), _) => Value::String(s.as_str().into()),
        (Json::Array(items), t) => {
            let inner = match t {
                Type::List(i) => (**i).clone(),
                _ => Type::Any,
            };
            Value::List(
                items
                    .iter()
                    .map(|x| from_json(x, &inner))
                    .collect::<Vec<_>>()
                    .into(),
            )
        }
        (Json::Object(m), _) => Value::Object(
            m.iter()
                .map(|(k, v)| (Arc::<str>::from(k.as_str()), from_json(v, &Type::Any)))
                .collect::<Vec<_>>()
                .into(),
        ),
    }
}

pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => number_json(*n),
        Value::String(s) => Json::String(s.to_string()),
        Value::DateTime(ms) => Json::String(
            DateTime::from_timestamp_millis(*ms)
                .map(crate::model::ts)
                .unwrap_or_default(),
        ),
        Value::Duration(ms) => Json::from(*ms),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Object(kvs) => Json::Object(
            kvs.iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect(),
        ),
    }
}

fn number_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

/// Text of a value inside a template: strings as-is, whole numbers without `.0`, null empty.
pub fn render_text(v: &Value, out: &mut String) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        other => match to_json(other) {
            Json::String(s) => out.push_str(&s),
            j => out.push_str(&j.to_string()),
        },
    }
}

/// `90s`, `15m`, `48h`, `3d` (also `500ms`, `2w`) in milliseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return None,
    };
    n.checked_mul(mult)
}
