//! What the DSL cannot spell. JSON takes any text as an action type, a step id, a param
//! name, a `retry` key or a trigger event; the DSL writes them bare, so only names it can
//! read back have a DSL form (`[A-Za-z_][A-Za-z0-9_]*`, and not a structure word in name
//! position; events are such a name followed by `.name` parts). [`dsl_blockers`] lists the
//! others as diagnostics at the name, so that printing JSON as DSL either gives text that
//! parses or a clear error, never text that does not parse.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::{Automation, Param, Span, Step, StepKind};
use crate::json::lower::is_identifier;

/// The words of the DSL's structure (`dsl_word` of the grammar): not a name in DSL position.
const STRUCTURE_WORDS: [&str; 9] = [
    "automation",
    "description",
    "status",
    "environment",
    "when",
    "if",
    "else",
    "layout",
    "do",
];

/// A name the DSL reads where a step id, an action or an event's first part stands.
fn dsl_name(text: &str) -> bool {
    is_identifier(text) && !STRUCTURE_WORDS.contains(&text)
}

/// `object.event`-style names: a DSL name, then identifiers after dots.
fn event_name(text: &str) -> bool {
    let mut parts = text.split('.');
    parts.next().is_some_and(dsl_name) && parts.all(is_identifier)
}

/// Diagnostics for every name of `a` that has no DSL form; empty when `print_dsl` writes
/// text that parses back.
pub fn dsl_blockers(a: &Automation) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if !a.trigger.event.is_empty() && !event_name(&a.trigger.event) {
        out.push(blocker(
            "the trigger event",
            &a.trigger.event,
            a.trigger.span,
        ));
    }
    steps(&a.steps, &mut out);
    out
}

fn steps(list: &[Step], out: &mut Vec<Diagnostic>) {
    for step in list {
        if step.id_explicit && !dsl_name(&step.id) {
            out.push(blocker("the step id", &step.id, step.span));
        }
        let names = |params: &[Param], what: &str, out: &mut Vec<Diagnostic>| {
            for p in params.iter().filter(|p| !is_identifier(&p.name)) {
                out.push(blocker(what, &p.name, p.name_span));
            }
        };
        if let Some(retry) = &step.retry {
            names(&retry.entries, "the `retry` key", out);
        }
        match &step.kind {
            StepKind::Action {
                action,
                action_span,
                params,
            } => {
                if !dsl_name(action) {
                    out.push(blocker("the action", action, *action_span));
                }
                names(params, "the param", out);
            }
            StepKind::If {
                then_steps,
                else_steps,
                ..
            } => {
                steps(then_steps, out);
                steps(else_steps, out);
            }
        }
    }
}

fn blocker(what: &str, name: &str, span: Span) -> Diagnostic {
    let shown: String = name.chars().take(80).collect();
    Diagnostic::error(
        codes::INVALID_VALUE,
        format!("{what} `{shown}` has no DSL form: the DSL writes it bare, so it must be an identifier (letters, digits and `_`, not starting with a digit) and not a DSL word"),
        span,
    )
    .with_note("rename it in the JSON definition to print it as DSL")
}
