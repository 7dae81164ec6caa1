//! Checking a step's `retry` option into a [`RetryPolicy`]: known keys only, literal
//! values within the bounds of `crate::retry`, error classes by name. Every problem is a
//! diagnostic on the entry at fault; nothing is guessed.

use automations_grammar::ast::{Expr, ExprKind, UnaryOp};

use super::literal::{const_str, inner_span, parse_duration};
use crate::catalog::ActionKind;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::{Param, Retry};
use crate::retry::{
    DEFAULT_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS, ErrorClass, FIELDS, MAX_ATTEMPTS, MAX_BACKOFF_MS,
    MIN_BACKOFF_MS, RetryPolicy, retries_delivery,
};
use crate::suggest::did_you_mean;

/// Actions that park the run or only validate: none of their failures is transient.
fn never_transient(action: ActionKind) -> bool {
    matches!(action, ActionKind::HumanTask | ActionKind::Wait)
}

/// Reads `retry` of a step running `action` (`None` when the action is unknown: that is
/// reported elsewhere). Returns the policy only when it has no error.
pub(super) fn check_retry(
    retry: &Retry,
    action: Option<ActionKind>,
    diags: &mut Vec<Diagnostic>,
) -> Option<RetryPolicy> {
    let errors_before = diags.len();
    if let Some(action) = action.filter(|a| never_transient(*a)) {
        diags.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("a `{action}` step cannot be retried: it never fails transiently"),
                retry.span,
            )
            .with_note("retries apply to plugin calls and record writes"),
        );
    }
    let mut attempts = None;
    let mut backoff = None;
    let mut max_backoff = None;
    let mut on = None;
    for entry in &retry.entries {
        match entry.name.as_str() {
            "attempts" => attempts = read_attempts(entry, diags),
            "backoff" => backoff = read_duration(entry, diags),
            "max_backoff" => max_backoff = read_duration(entry, diags),
            "on" => on = read_classes(entry, diags),
            other => {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_DEFINITION_FIELD,
                    format!(
                        "`retry` has no `{other}`; it takes {}",
                        FIELDS.map(|f| format!("`{f}`")).join(", ")
                    ),
                    entry.name_span,
                );
                if let Some(best) = did_you_mean(other, FIELDS) {
                    d = d.with_suggestion(best);
                }
                diags.push(d);
            }
        }
    }
    let has_attempts = retry.entries.iter().any(|e| e.name == "attempts");
    if !has_attempts {
        diags.push(Diagnostic::error(
            codes::MISSING_PART,
            format!("`retry` needs `attempts` (1 to {MAX_ATTEMPTS}, the first attempt included)"),
            retry.span,
        ));
    }
    let backoff_ms = backoff.unwrap_or(DEFAULT_BACKOFF_MS);
    let max_backoff_ms = max_backoff.unwrap_or(DEFAULT_MAX_BACKOFF_MS.max(backoff_ms));
    if let (Some(b), Some(m)) = (backoff, max_backoff)
        && m < b
    {
        let at = retry
            .entries
            .iter()
            .find(|e| e.name == "max_backoff")
            .map_or(retry.span, |e| e.value.span);
        diags.push(Diagnostic::error(
            codes::INVALID_VALUE,
            format!("`max_backoff` ({m} ms) is shorter than `backoff` ({b} ms)"),
            at,
        ));
    }
    if let (Some(action), Some(classes)) = (action.filter(|a| retries_delivery(*a)), &on)
        && classes.iter().any(|c| *c != ErrorClass::Http)
    {
        let at = retry
            .entries
            .iter()
            .find(|e| e.name == "on")
            .map_or(retry.span, |e| e.value.span);
        diags.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!(
                    "a `{action}` step retries its delivery, which fails transiently only with `http`"
                ),
                at,
            )
            .with_note("the network, a timeout, 408, 429 and 5xx answers are `http`")
            .with_suggestion("[\"http\"]"),
        );
    }
    if diags.len() > errors_before {
        return None;
    }
    Some(RetryPolicy {
        attempts: attempts?,
        backoff_ms,
        max_backoff_ms,
        on: on.unwrap_or_else(|| match action.filter(|a| retries_delivery(*a)) {
            Some(_) => vec![ErrorClass::Http],
            None => ErrorClass::DEFAULT.to_vec(),
        }),
    })
}

fn invalid(entry: &Param, message: String) -> Diagnostic {
    Diagnostic::error(codes::INVALID_VALUE, message, entry.value.span)
}

fn unparen(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Paren(inner) => unparen(inner),
        _ => e,
    }
}

fn read_attempts(entry: &Param, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    let range = format!("a whole number from 1 to {MAX_ATTEMPTS}");
    match unparen(&entry.value).kind {
        ExprKind::Number(n) if n.fract() == 0.0 && (1.0..=MAX_ATTEMPTS as f64).contains(&n) => {
            Some(n as u32)
        }
        ExprKind::Number(n) => {
            diags.push(invalid(
                entry,
                format!("`attempts` is {n}; it must be {range}"),
            ));
            None
        }
        _ => {
            diags.push(invalid(
                entry,
                format!("`attempts` must be {range} (a literal)"),
            ));
            None
        }
    }
}

fn read_duration(entry: &Param, diags: &mut Vec<Diagnostic>) -> Option<i64> {
    let name = &entry.name;
    let bounds = format!("between {MIN_BACKOFF_MS}ms and 24h");
    let ms = match &unparen(&entry.value).kind {
        ExprKind::Duration { millis, .. } => Some(*millis),
        // `-1s` in the DSL.
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
        } => match &unparen(expr).kind {
            ExprKind::Duration { millis, .. } => Some(-millis),
            _ => None,
        },
        ExprKind::Number(n) => {
            diags.push(invalid(
                entry,
                format!("`{name}` is the number {n}; it needs a unit, such as `500ms`, `2s` or `1m`, {bounds}"),
            ));
            return None;
        }
        // `"-1s"` in JSON.
        _ => const_str(&entry.value).and_then(|t| match t.trim().strip_prefix('-') {
            Some(rest) => parse_duration(rest).map(|ms| -ms),
            None => parse_duration(&t),
        }),
    };
    match ms {
        Some(ms) if (MIN_BACKOFF_MS..=MAX_BACKOFF_MS).contains(&ms) => Some(ms),
        Some(ms) if ms < 0 => {
            diags.push(invalid(
                entry,
                format!("`{name}` is negative ({ms} ms); it must be {bounds}"),
            ));
            None
        }
        Some(ms) => {
            diags.push(invalid(
                entry,
                format!("`{name}` is {ms} ms; it must be {bounds}"),
            ));
            None
        }
        None => {
            diags.push(invalid(
                entry,
                format!("`{name}` must be a duration such as `500ms`, `2s` or `1m`, {bounds}"),
            ));
            None
        }
    }
}

fn read_classes(entry: &Param, diags: &mut Vec<Diagnostic>) -> Option<Vec<ErrorClass>> {
    let names = ErrorClass::names();
    let known = names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let ExprKind::List(items) = &unparen(&entry.value).kind else {
        diags.push(invalid(
            entry,
            format!("`on` must be a list of error classes, from: {known}"),
        ));
        return None;
    };
    if items.is_empty() {
        diags.push(
            invalid(
                entry,
                "`on` names no error class: nothing would be retried".into(),
            )
            .with_note(format!("name some of {known}, or drop `retry`")),
        );
        return None;
    }
    let mut classes = Vec::new();
    let mut ok = true;
    for item in items {
        let text = const_str(item);
        match text.as_deref().and_then(ErrorClass::parse) {
            Some(class) => classes.push(class),
            None => {
                ok = false;
                let shown = text.unwrap_or_else(|| "this".into());
                // A string's contents (the suggestion replaces the text only).
                let span = match item.kind {
                    ExprKind::Str(_) => inner_span(item.span),
                    _ => item.span,
                };
                let mut d = Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("`{shown}` is not an error class a step can retry; use {known}"),
                    span,
                )
                .with_note("validation errors, caps, traps and exhausted limits are never retried");
                if let Some(best) = did_you_mean(&shown, names.iter().copied()) {
                    d = d.with_suggestion(best);
                }
                diags.push(d);
            }
        }
    }
    classes.sort();
    classes.dedup();
    ok.then_some(classes)
}
