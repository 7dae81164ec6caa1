//! Explanations: why a compiled condition was true or false, in terms of the clauses as
//! written (not the cheap-first order the evaluator runs them in), with the values each
//! deciding clause saw. Serializable for the API and `automations test`; `Display` for the
//! CLI. Explaining re-evaluates clauses; it must never change what `eval` answers.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;

use super::compiled::{CompiledCondition, Env, Pred, Shape};
use super::context::{SlotLayout, now_field, previous_exists};
use super::convert::value_to_json;
use super::print::{field_name, print};
use crate::typed::{FieldRef, Func, Span, TExpr, TExprKind};
use crate::value::Value;

/// One top-level clause of a condition, compiled on its own for explaining.
pub(crate) struct Clause {
    text: String,
    span: Span,
    pred: Pred,
    /// (shown name, slot) of every field the clause reads.
    fields: Vec<(String, usize)>,
}

impl Clause {
    pub(crate) fn new(e: &TExpr, pred: Pred, layout: &mut SlotLayout) -> Clause {
        let mut refs = Vec::new();
        collect_fields(e, &mut refs);
        let exists = previous_exists();
        let mut names = HashSet::new();
        let mut fields: Vec<(String, usize)> = Vec::new();
        for f in refs.into_iter().filter(|f| *f != exists) {
            let name = field_name(&f);
            if !names.insert(name.clone()) {
                continue;
            }
            // Every field was given a slot when the clause was compiled.
            if let Some(slot) = layout.get(&f) {
                fields.push((name, slot));
            }
        }
        Clause {
            text: print(e),
            span: e.span,
            pred,
            fields,
        }
    }

    fn report(&self, slots: &[Value], result: bool) -> ClauseReport {
        ClauseReport {
            text: self.text.clone(),
            span: SpanJson {
                start: self.span.start,
                end: self.span.end,
            },
            result,
            values: self
                .fields
                .iter()
                .map(|(name, slot)| SeenValue {
                    field: name.clone(),
                    value: value_to_json(slots.get(*slot).unwrap_or(&Value::Null)),
                })
                .collect(),
        }
    }
}

fn collect_fields(e: &TExpr, out: &mut Vec<FieldRef>) {
    match &e.kind {
        TExprKind::Field(f) => out.push(f.clone()),
        TExprKind::Const(_) | TExprKind::Local(_) => {}
        TExprKind::List(xs) | TExprKind::Template(xs) => {
            xs.iter().for_each(|x| collect_fields(x, out))
        }
        TExprKind::Call {
            func: Func::Today, ..
        } => out.push(now_field()),
        TExprKind::Call { args, .. } => args.iter().for_each(|x| collect_fields(x, out)),
        TExprKind::Object(entries) => entries.iter().for_each(|(_, x)| collect_fields(x, out)),
        TExprKind::Not(x) | TExprKind::Neg(x) | TExprKind::IsNull { expr: x, .. } => {
            collect_fields(x, out)
        }
        TExprKind::Binary { lhs, rhs, .. } => {
            collect_fields(lhs, out);
            collect_fields(rhs, out);
        }
        TExprKind::Logic { items, .. } => items.iter().for_each(|x| collect_fields(x, out)),
        TExprKind::Changed {
            current,
            previous,
            from,
            to,
        } => {
            out.push(current.clone());
            out.push(previous.clone());
            for x in [from, to].into_iter().flatten() {
                collect_fields(x, out);
            }
        }
        TExprKind::Quantifier { list, body, .. } => {
            collect_fields(list, out);
            collect_fields(body, out);
        }
    }
}

/// A byte range into the condition's source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpanJson {
    pub start: u32,
    pub end: u32,
}

/// A field a clause read, and the value it held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeenValue {
    pub field: String,
    pub value: serde_json::Value,
}

/// One clause's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClauseReport {
    /// The clause as written (source text when attached, else printed from the tree).
    pub text: String,
    pub span: SpanJson,
    pub result: bool,
    pub values: Vec<SeenValue>,
}

/// How the result was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// `and`: every clause was true (all are listed).
    AllTrue,
    /// `and`: the first false clause (as written) decided it.
    FirstFalse,
    /// `or`: the first true clause decided it.
    FirstTrue,
    /// `or`: no clause was true (all are listed).
    AllFalse,
    /// Not an `and`/`or` chain: the whole condition is the one clause.
    Single,
}

/// Why a condition was true or false.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub result: bool,
    pub decision: Decision,
    /// The deciding clause(s), in written order.
    pub clauses: Vec<ClauseReport>,
}

impl CompiledCondition {
    /// Says which clause decided the result and what values it saw.
    pub fn explain(&self, slots: &[Value]) -> Explanation {
        let env = Env {
            slots,
            locals: None,
            budget: None,
        };
        let results: Vec<bool> = self.clauses.iter().map(|c| (c.pred)(&env)).collect();
        let result = self.eval(slots);
        let pick = |want: bool| results.iter().position(|r| *r == want);
        let (decision, chosen): (Decision, Vec<usize>) = match (self.shape, pick(false), pick(true))
        {
            (Shape::And, Some(i), _) => (Decision::FirstFalse, vec![i]),
            (Shape::And, None, _) => (Decision::AllTrue, (0..results.len()).collect()),
            (Shape::Or, _, Some(i)) => (Decision::FirstTrue, vec![i]),
            (Shape::Or, _, None) => (Decision::AllFalse, (0..results.len()).collect()),
            (Shape::Single, ..) => (Decision::Single, vec![0]),
        };
        let clauses = chosen
            .into_iter()
            .filter_map(|i| Some(self.clauses.get(i)?.report(slots, results[i])))
            .collect();
        Explanation {
            result,
            decision,
            clauses,
        }
    }

    /// Uses `source` (the text the condition was parsed from; spans index into it) for the
    /// clause texts in explanations, instead of text printed from the tree.
    pub fn with_source(mut self, source: &str) -> Self {
        for c in &mut self.clauses {
            if let Some(text) = source.get(c.span.range())
                && !text.trim().is_empty()
            {
                c.text = text.trim().to_owned();
            }
        }
        self
    }
}

impl ClauseReport {
    /// ` (field = value, ...)`, or nothing when the clause read no field.
    fn seen(&self) -> String {
        if self.values.is_empty() {
            return String::new();
        }
        let seen: Vec<String> = self
            .values
            .iter()
            .map(|v| format!("{} = {}", v.field, v.value))
            .collect();
        format!(" ({})", seen.join(", "))
    }
}

impl fmt::Display for ClauseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`{}", self.text, self.seen())
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.result)?;
        match (self.decision, self.clauses.first()) {
            (Decision::FirstFalse, Some(c)) => {
                write!(f, "clause `{}` was false{}", c.text, c.seen())
            }
            (Decision::FirstTrue, Some(c)) => write!(f, "clause `{}` was true{}", c.text, c.seen()),
            (Decision::Single, Some(c)) => {
                write!(f, "`{}` was {}{}", c.text, self.result, c.seen())
            }
            (Decision::AllTrue, _) => write!(f, "all {} clauses were true", self.clauses.len()),
            (Decision::AllFalse, _) => {
                let all: Vec<String> = self.clauses.iter().map(ToString::to_string).collect();
                write!(f, "no clause was true: {}", all.join("; "))
            }
            (_, None) => write!(f, "no clauses"),
        }
    }
}
