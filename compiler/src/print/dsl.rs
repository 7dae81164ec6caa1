//! IR to canonical `.auto` text (what `automations fmt` writes).
//!
//! Layout: header lines in a fixed order (description, status, environment when sandbox,
//! when, if, layout), then `do { ... }` with one step per line, two-space indent, and one
//! blank line between automations. Must stay parseable by `automations-grammar`.
//!
//! Limits: the DSL has no syntax for a guard on an `if` step (JSON has none either), so such
//! a guard is not printed; step ids, action and param names are printed as they are and
//! must be identifiers for the output to parse.

use automations_grammar::ast::{ExprKind, StrPart};

use super::expr::{print_expr, print_json_literal, write_string};
use super::{PrintConfig, Quote};
use crate::ir::{Automation, Environment, Param, Step, StepKind};

const INDENT: &str = "  ";

/// Prints automations as one canonical `.auto` file, ending with a newline.
pub fn print_dsl(automations: &[Automation]) -> String {
    let blocks: Vec<String> = automations.iter().map(print_automation).collect();
    blocks.join("\n")
}

fn config() -> PrintConfig {
    PrintConfig {
        quote: Quote::Double,
    }
}

fn quoted(text: &str) -> String {
    let mut out = String::new();
    write_string(&[StrPart::Text(text.to_string())], &config(), &mut out);
    out
}

fn print_automation(a: &Automation) -> String {
    let cfg = config();
    let mut out = format!("automation {} {{\n", quoted(&a.name));
    if let Some(d) = &a.description {
        out.push_str(&format!("{INDENT}description {}\n", quoted(d)));
    }
    out.push_str(&format!("{INDENT}status {}\n", a.status.as_str()));
    if a.environment == Environment::Sandbox {
        out.push_str(&format!("{INDENT}environment {}\n", a.environment.as_str()));
    }
    if !a.trigger.event.is_empty() {
        out.push_str(&format!("{INDENT}when {}\n", a.trigger.event));
    }
    if let Some(c) = &a.condition {
        out.push_str(&format!("{INDENT}if {}\n", print_expr(&c.expr, &cfg)));
    }
    if let Some(layout) = &a.layout {
        out.push_str(&format!(
            "{INDENT}layout {}\n",
            print_json_literal(layout, &cfg)
        ));
    }
    out.push_str(&format!("{INDENT}do {{\n"));
    write_steps(&a.steps, 2, &mut out);
    out.push_str(&format!("{INDENT}}}\n}}\n"));
    out
}

fn write_steps(steps: &[Step], depth: usize, out: &mut String) {
    for step in steps {
        out.push_str(&INDENT.repeat(depth));
        write_step(step, depth, out);
        out.push('\n');
    }
}

/// Writes one step starting at the current position (indent already written), without the
/// final newline.
fn write_step(step: &Step, depth: usize, out: &mut String) {
    let cfg = config();
    if step.id_explicit {
        out.push_str(&step.id);
        out.push_str(" = ");
    }
    match &step.kind {
        StepKind::Action { action, params, .. } => {
            out.push_str(action);
            out.push('(');
            let args: Vec<String> = params.iter().map(print_param).collect();
            out.push_str(&args.join(", "));
            out.push(')');
            if let Some(g) = &step.guard {
                out.push_str(" when ");
                out.push_str(&print_expr(g, &cfg));
            }
        }
        StepKind::If {
            condition,
            then_steps,
            else_steps,
        } => {
            write_if(condition, then_steps, else_steps, depth, out);
        }
    }
}

fn write_if(
    condition: &crate::ir::Expr,
    then_steps: &[Step],
    else_steps: &[Step],
    depth: usize,
    out: &mut String,
) {
    let pad = INDENT.repeat(depth);
    out.push_str(&format!("if {} {{\n", print_expr(condition, &config())));
    write_steps(then_steps, depth + 1, out);
    out.push_str(&pad);
    out.push('}');
    match else_steps {
        [] => {}
        [single] if is_else_if(single) => {
            out.push_str(" else ");
            write_step(single, depth, out);
        }
        _ => {
            out.push_str(" else {\n");
            write_steps(else_steps, depth + 1, out);
            out.push_str(&pad);
            out.push('}');
        }
    }
}

/// An `else` holding only an unnamed, unguarded `if` prints as `else if`.
fn is_else_if(step: &Step) -> bool {
    matches!(step.kind, StepKind::If { .. }) && !step.id_explicit && step.guard.is_none()
}

/// `name: value`; a string that is exactly one `{{ expr }}` prints as the bare expression,
/// so that the DSL and the JSON forms converge.
fn print_param(p: &Param) -> String {
    let value = match &p.value.kind {
        ExprKind::Str(parts) => match parts.as_slice() {
            [StrPart::Expr(inner)] => inner,
            _ => &p.value,
        },
        _ => &p.value,
    };
    format!("{}: {}", p.name, print_expr(value, &config()))
}
