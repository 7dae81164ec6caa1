//! Explanations: why a compiled condition was true or false, in terms of the clauses as
//! written (not the cheap-first order the evaluator runs them in), with the values each
//! deciding clause saw. Serializable for the API and `automations test`; `Display` for the
//! CLI. Explaining re-evaluates clauses; it must never change what `eval` answers.
//!
//! Explanations are bounded whatever the condition's size (a generated chain of 20,000
//! clauses, a 500 KB field): at most [`MAX_EXPLAINED_CLAUSES`] clauses are listed (the
//! rest are counted in `more_clauses`), a clause's text is cut at
//! [`MAX_EXPLAINED_TEXT_BYTES`], and a value it saw at [`MAX_EXPLAINED_TEXT_BYTES`] of
//! text or [`MAX_EXPLAINED_LIST_ITEMS`] items. Cut text ends with `…`.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;

use super::compiled::{CompiledCondition, Env, Shape};
use super::context::{SlotLayout, now_field, previous_exists};
use super::convert::value_to_json;
use super::print::{field_name, print};
use crate::typed::{FieldRef, Func, Span, TExpr, TExprKind};
use crate::value::Value;

/// Clauses listed by an explanation that lists every clause (`all_true`, `all_false`).
pub const MAX_EXPLAINED_CLAUSES: usize = 20;
/// Bytes of a clause's text, and of a string value it saw, in an explanation.
pub const MAX_EXPLAINED_TEXT_BYTES: usize = 1_000;
/// Items of a list value a clause saw, in an explanation.
pub const MAX_EXPLAINED_LIST_ITEMS: usize = 20;

/// One top-level clause of a condition, as explanations show it.
pub(crate) struct Clause {
    text: String,
    span: Span,
    /// Its predicate in the condition's evaluation order.
    pred: usize,
    /// (shown name, slot) of every field the clause reads.
    fields: Vec<(String, usize)>,
}

impl Clause {
    /// The clause `e`, evaluated by predicate `pred`; its text is cut from `source` when
    /// given (and not blank there), else printed from the tree.
    pub(crate) fn new(e: &TExpr, pred: usize, layout: &SlotLayout, source: Option<&str>) -> Clause {
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
        let text = match source.and_then(|s| source_text(s, e.span)) {
            Some(text) => text.to_owned(),
            None => print(e),
        };
        Clause {
            text,
            span: e.span,
            pred,
            fields,
        }
    }

    fn report(&self, slots: &[Value], result: bool) -> ClauseReport {
        ClauseReport {
            text: shorten(&self.text),
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
                    value: shorten_json(value_to_json(slots.get(*slot).unwrap_or(&Value::Null))),
                })
                .collect(),
        }
    }
}

/// The clause's text in `source`, unless blank.
fn source_text(source: &str, span: Span) -> Option<&str> {
    let text = source.get(span.range())?.trim();
    (!text.is_empty()).then_some(text)
}

/// `text`, cut at a char boundary at most [`MAX_EXPLAINED_TEXT_BYTES`] in, with `…`.
fn shorten(text: &str) -> String {
    if text.len() <= MAX_EXPLAINED_TEXT_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_EXPLAINED_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A value as an explanation shows it: long strings cut, long lists cut to their first
/// items followed by a `"… N more"` marker (only nested values are walked, and only
/// within the cut, so a huge value costs no more than its shown part).
fn shorten_json(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        J::String(s) if s.len() > MAX_EXPLAINED_TEXT_BYTES => J::String(shorten(&s)),
        J::Array(items) if items.len() > MAX_EXPLAINED_LIST_ITEMS => {
            let more = items.len() - MAX_EXPLAINED_LIST_ITEMS;
            let mut shown: Vec<J> = items
                .into_iter()
                .take(MAX_EXPLAINED_LIST_ITEMS)
                .map(shorten_json)
                .collect();
            shown.push(J::String(format!("… {more} more")));
            J::Array(shown)
        }
        J::Array(items) => J::Array(items.into_iter().map(shorten_json).collect()),
        J::Object(entries) => J::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k, shorten_json(v)))
                .collect(),
        ),
        other => other,
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
    /// The deciding clause(s), in written order; at most [`MAX_EXPLAINED_CLAUSES`].
    pub clauses: Vec<ClauseReport>,
    /// Clauses that would have been listed after `clauses` but were left out (only
    /// `all_true` and `all_false` list several); absent from the JSON when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_clauses: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Explanation {
    /// The explanation of a missing condition: true, no clauses.
    pub fn no_condition(decision: Decision) -> Explanation {
        Explanation {
            result: true,
            decision,
            clauses: Vec::new(),
            more_clauses: 0,
        }
    }
}

impl CompiledCondition {
    /// Says which clause decided the result and what values it saw.
    pub fn explain(&self, slots: &[Value]) -> Explanation {
        let env = Env {
            slots,
            locals: None,
            budget: None,
        };
        let results: Vec<bool> = self
            .clauses
            .iter()
            .map(|c| self.clause_holds(c.pred, &env))
            .collect();
        let result = self.eval(slots);
        let pick = |want: bool| results.iter().position(|r| *r == want);
        let listed = results.len().min(MAX_EXPLAINED_CLAUSES);
        let (decision, chosen): (Decision, Vec<usize>) = match (self.shape, pick(false), pick(true))
        {
            (Shape::And, Some(i), _) => (Decision::FirstFalse, vec![i]),
            (Shape::And, None, _) => (Decision::AllTrue, (0..listed).collect()),
            (Shape::Or, _, Some(i)) => (Decision::FirstTrue, vec![i]),
            (Shape::Or, _, None) => (Decision::AllFalse, (0..listed).collect()),
            (Shape::Single, ..) => (Decision::Single, vec![0]),
        };
        let more_clauses = match decision {
            Decision::AllTrue | Decision::AllFalse => results.len() - listed,
            _ => 0,
        };
        let clauses = chosen
            .into_iter()
            .filter_map(|i| Some(self.clauses.get(i)?.report(slots, results[i])))
            .collect();
        Explanation {
            result,
            decision,
            clauses,
            more_clauses,
        }
    }

    /// Uses `source` (the text the condition was parsed from; spans index into it) for the
    /// clause texts in explanations, instead of text printed from the tree.
    pub fn with_source(mut self, source: &str) -> Self {
        for c in &mut self.clauses {
            if let Some(text) = source_text(source, c.span) {
                c.text = text.to_owned();
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
            (Decision::AllTrue, _) => write!(
                f,
                "all {} clauses were true",
                self.clauses.len() + self.more_clauses
            ),
            (Decision::AllFalse, _) => {
                let all: Vec<String> = self.clauses.iter().map(ToString::to_string).collect();
                write!(f, "no clause was true: {}", all.join("; "))?;
                if self.more_clauses > 0 {
                    write!(f, "; and {} more", self.more_clauses)?;
                }
                Ok(())
            }
            (_, None) => write!(f, "no clauses"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_values_are_cut_and_short_ones_kept() {
        let items: Vec<serde_json::Value> = (0..25).map(|i| json!(i)).collect();
        let cut = shorten_json(json!({"list": items, "text": "é".repeat(600), "n": 1}));
        let list = cut["list"].as_array().unwrap();
        assert_eq!(list.len(), MAX_EXPLAINED_LIST_ITEMS + 1);
        assert_eq!(list.last().unwrap(), "… 5 more");
        let text = cut["text"].as_str().unwrap();
        assert_eq!(text, format!("{}…", "é".repeat(500)));
        assert_eq!(cut["n"], 1);
        let small = json!({"list": [1, 2], "text": "short"});
        assert_eq!(shorten_json(small.clone()), small);
    }
}
