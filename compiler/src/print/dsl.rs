//! IR to canonical `.auto` text (what `automations fmt` writes).
//!
//! Layout: header lines in a fixed order (description, status, environment when sandbox,
//! when, if, layout), then `do { ... }` with one step per line, two-space indent, and one
//! blank line between automations. Must stay parseable by `automations-grammar`.
//!
//! Comments: `print_dsl_with` writes the comments that `pipeline::comments` attached to
//! lines (leading lines above, a trailing one after); it reads a span only as the key of such
//! a comment, never to decide the layout.
//!
//! Limits: the DSL has no syntax for a guard on an `if` step (JSON has none either), so such
//! a guard is not printed; step ids, action and param names are printed as they are and
//! must be identifiers for the output to parse.

use automations_grammar::ast::{ExprKind, StrPart};

use super::attached::{Anchor, Attached};
use super::expr::{print_expr, print_json_literal, write_string};
use super::{PrintConfig, Quote};
use crate::ir::{Automation, Environment, Param, Step, StepKind};

const INDENT: &str = "  ";

/// Prints automations as one canonical `.auto` file, ending with a newline.
pub fn print_dsl(automations: &[Automation]) -> String {
    print_dsl_with(automations, &Attached::default())
}

/// Like [`print_dsl`], writing the comments `attached` to the printed lines.
pub fn print_dsl_with(automations: &[Automation], attached: &Attached) -> String {
    let blocks: Vec<String> = automations
        .iter()
        .map(|a| Printer { attached }.automation(a))
        .collect();
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

struct Printer<'a> {
    attached: &'a Attached,
}

impl Printer<'_> {
    /// Writes the comments above `anchor`'s line, then the line at `depth`, then its
    /// trailing comment.
    fn line(&self, depth: usize, text: &str, anchor: Anchor, out: &mut String) {
        self.leading(depth, anchor, out);
        out.push_str(&INDENT.repeat(depth));
        out.push_str(text);
        self.trailing(anchor, out);
        out.push('\n');
    }

    fn leading(&self, depth: usize, anchor: Anchor, out: &mut String) {
        for comment in self.attached.leading(anchor) {
            out.push_str(&INDENT.repeat(depth));
            out.push_str(comment);
            out.push('\n');
        }
    }

    fn trailing(&self, anchor: Anchor, out: &mut String) {
        if let Some(comment) = self.attached.trailing(anchor) {
            out.push(' ');
            out.push_str(comment);
        }
    }

    fn automation(&self, a: &Automation) -> String {
        let cfg = config();
        let at = a.span.start;
        let mut out = format!("automation {} {{\n", quoted(&a.name));
        if let Some(d) = &a.description {
            out.push_str(&format!("{INDENT}description {}\n", quoted(d)));
        }
        out.push_str(&format!("{INDENT}status {}\n", a.status.as_str()));
        if a.environment == Environment::Sandbox {
            out.push_str(&format!("{INDENT}environment {}\n", a.environment.as_str()));
        }
        if !a.trigger.event.is_empty() {
            let text = format!("when {}", a.trigger.event);
            self.line(1, &text, Anchor::When(at), &mut out);
        }
        if let Some(c) = &a.condition {
            let text = format!("if {}", print_expr(&c.expr, &cfg));
            self.line(1, &text, Anchor::If(at), &mut out);
        }
        if let Some(layout) = &a.layout {
            out.push_str(&format!(
                "{INDENT}layout {}\n",
                print_json_literal(layout, &cfg)
            ));
        }
        self.line(1, "do {", Anchor::Do(at), &mut out);
        self.steps(&a.steps, 2, &mut out);
        self.leading(2, Anchor::DoEnd(at), &mut out);
        out.push_str(&format!("{INDENT}}}\n}}\n"));
        out
    }

    fn steps(&self, steps: &[Step], depth: usize, out: &mut String) {
        for step in steps {
            self.leading(depth, Anchor::Step(step.span.start), out);
            out.push_str(&INDENT.repeat(depth));
            self.step(step, depth, out);
            out.push('\n');
        }
    }

    /// Writes one step starting at the current position (indent already written), without
    /// the final newline.
    fn step(&self, step: &Step, depth: usize, out: &mut String) {
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
                if let Some(retry) = &step.retry {
                    let entries: Vec<String> = retry.entries.iter().map(print_param).collect();
                    out.push_str(&format!(" retry {{ {} }}", entries.join(", ")));
                }
                self.trailing(Anchor::Step(step.span.start), out);
            }
            StepKind::If {
                condition,
                then_steps,
                else_steps,
            } => {
                let branches = Branches {
                    at: step.span.start,
                    then_steps,
                    else_steps,
                };
                self.if_step(condition, &branches, depth, out);
            }
        }
    }

    fn if_step(
        &self,
        condition: &crate::ir::Expr,
        branches: &Branches<'_>,
        depth: usize,
        out: &mut String,
    ) {
        let pad = INDENT.repeat(depth);
        out.push_str(&format!("if {} {{", print_expr(condition, &config())));
        self.trailing(Anchor::Step(branches.at), out);
        out.push('\n');
        self.steps(branches.then_steps, depth + 1, out);
        self.leading(depth + 1, Anchor::ThenEnd(branches.at), out);
        out.push_str(&pad);
        out.push('}');
        match branches.else_steps {
            [] => {}
            [single] if is_else_if(single) && self.fits_else_if(single, branches.at) => {
                out.push_str(" else ");
                self.step(single, depth, out);
            }
            _ => {
                out.push_str(" else {\n");
                self.steps(branches.else_steps, depth + 1, out);
                self.leading(depth + 1, Anchor::ElseEnd(branches.at), out);
                out.push_str(&pad);
                out.push('}');
            }
        }
    }

    /// `else if` has no line of its own for comments above the inner `if` or at the end
    /// of the `else` block: with such comments the `else` is written as a block.
    fn fits_else_if(&self, single: &Step, at: u32) -> bool {
        self.attached
            .leading(Anchor::Step(single.span.start))
            .is_empty()
            && self.attached.leading(Anchor::ElseEnd(at)).is_empty()
    }
}

/// The two branches of an `if` step that starts at offset `at`.
struct Branches<'a> {
    at: u32,
    then_steps: &'a [Step],
    else_steps: &'a [Step],
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
