//! Canonical `.auto` text that keeps every comment of the author.
//!
//! The AST has no comments, so the printer alone would drop them. This module finds every
//! comment of the source and attaches it to a printed line ([`Anchor`]), as rustfmt and
//! prettier do:
//! - between automations: on its own lines before the automation it precedes (or at the
//!   end of the file);
//! - at the end of a line that prints as one line (`when`, `if`, `do {`, an action step,
//!   the `if ... {` of an `if` step): at the end of that line;
//! - on a line of its own: above the next line at the same level, or at the end of its
//!   block when nothing follows there;
//! - inside something printed on one line (a condition or an action written over several
//!   lines): above that line.
//!
//! The text of a comment never changes and no comment is dropped (a test checks both over
//! every fixture); formatting the output again gives the same bytes.

use automations_grammar::lexical;

use crate::ir::{Automation, Span, Step, StepKind};
use crate::print::{Anchor, Attached, print_dsl_with};

/// The canonical text of `automations` (lowered from `text`) with all the comments of
/// `text`.
pub fn print_keeping_comments(text: &str, automations: &[Automation]) -> String {
    let mut attached = Attached::default();
    let mut between = Vec::new();
    let mut inside: Vec<Vec<Span>> = vec![Vec::new(); automations.len()];
    for comment in lexical::comments(text) {
        match enclosing(automations, comment) {
            Some(i) => inside[i].push(comment),
            None => between.push(comment),
        }
    }
    for (automation, comments) in automations.iter().zip(&inside) {
        Placer {
            text,
            attached: &mut attached,
        }
        .automation(automation, comments);
    }
    let mut out = String::new();
    let mut pending = between.iter().peekable();
    for (i, automation) in automations.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        while let Some(c) = pending.next_if(|c| c.start < automation.span.start) {
            out.push_str(comment_text(text, *c));
            out.push('\n');
        }
        out.push_str(&print_dsl_with(std::slice::from_ref(automation), &attached));
    }
    let trailing: Vec<&str> = pending.map(|c| comment_text(text, *c)).collect();
    if !trailing.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        for c in trailing {
            out.push_str(c);
            out.push('\n');
        }
    }
    out
}

/// The index of the automation whose text holds `comment` (automations are in source
/// order, so a binary search finds it).
fn enclosing(automations: &[Automation], comment: Span) -> Option<usize> {
    let after = automations.partition_point(|a| a.span.start <= comment.start);
    let i = after.checked_sub(1)?;
    contains(automations[i].span, comment).then_some(i)
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.start <= inner.start && inner.start < outer.end
}

fn comment_text(text: &str, span: Span) -> &str {
    text.get(span.range()).unwrap_or("").trim_end()
}

/// Decides the line of each comment inside one automation.
struct Placer<'a> {
    text: &'a str,
    attached: &'a mut Attached,
}

impl Placer<'_> {
    fn automation(&mut self, a: &Automation, comments: &[Span]) {
        let at = a.span.start;
        let do_open = self.do_open(a, comments);
        let first_step = a.steps.first().map_or(a.span.end, |s| s.span.start);
        let mut body = Vec::new();
        for &c in comments {
            if c.start < do_open {
                self.header(a, c);
            } else if c.start < first_step && self.same_line(do_open, c.start) {
                self.trail(Anchor::Do(at), c);
            } else {
                body.push(c);
            }
        }
        self.block(&a.steps, Anchor::DoEnd(at), &body);
    }

    /// A comment before `do`: with the `when` or `if` line it ends or precedes.
    fn header(&mut self, a: &Automation, c: Span) {
        let at = a.span.start;
        let mut lines: Vec<(Span, Anchor)> = Vec::new();
        if !a.trigger.event.is_empty() {
            lines.push((a.trigger.span, Anchor::When(at)));
        }
        if let Some(condition) = &a.condition {
            lines.push((condition.expr.span, Anchor::If(at)));
        }
        lines.sort_by_key(|(span, _)| span.start);
        let ended = lines
            .iter()
            .find(|(span, _)| span.end <= c.start && self.same_line(span.end, c.start));
        if let Some((_, anchor)) = ended {
            return self.trail(*anchor, c);
        }
        let next = lines.iter().find(|(span, _)| c.start < span.end);
        self.lead(next.map_or(Anchor::Do(at), |(_, anchor)| *anchor), c);
    }

    /// Comments among `steps` (or inside them); what follows no step goes to `end`.
    fn block(&mut self, steps: &[Step], end: Anchor, comments: &[Span]) {
        let mut inner: Vec<(&Step, Vec<Span>)> = Vec::new();
        for &c in comments {
            if let Some(step) = steps.iter().find(|s| contains(s.span, c)) {
                match inner.iter_mut().find(|(s, _)| std::ptr::eq(*s, step)) {
                    Some((_, list)) => list.push(c),
                    None => inner.push((step, vec![c])),
                }
                continue;
            }
            let previous = steps.iter().rev().find(|s| s.span.end <= c.start);
            if let Some(p) =
                previous.filter(|p| is_action(p) && self.same_line(p.span.end, c.start))
            {
                self.trail(Anchor::Step(p.span.start), c);
            } else if let Some(next) = steps.iter().find(|s| c.start < s.span.start) {
                self.lead(Anchor::Step(next.span.start), c);
            } else {
                self.lead(end, c);
            }
        }
        for (step, comments) in inner {
            self.inside_step(step, &comments);
        }
    }

    fn inside_step(&mut self, step: &Step, comments: &[Span]) {
        let at = step.span.start;
        let StepKind::If {
            condition,
            then_steps,
            else_steps,
        } = &step.kind
        else {
            // An action prints on one line: what was inside it goes above it.
            comments
                .iter()
                .for_each(|c| self.lead(Anchor::Step(at), *c));
            return;
        };
        let else_start = else_steps.first().map(|s| s.span.start);
        let first_then = then_steps.first().map_or(u32::MAX, |s| s.span.start);
        let (mut then_part, mut else_part) = (Vec::new(), Vec::new());
        for &c in comments {
            if c.start < condition.span.end {
                self.lead(Anchor::Step(at), c);
            } else if else_start.is_some_and(|e| e <= c.start) {
                else_part.push(c);
            } else if c.start < first_then && self.same_line(condition.span.end, c.start) {
                self.trail(Anchor::Step(at), c);
            } else {
                then_part.push(c);
            }
        }
        self.block(then_steps, Anchor::ThenEnd(at), &then_part);
        self.block(else_steps, Anchor::ElseEnd(at), &else_part);
    }

    /// The offset of the `{` of the automation's `do` block: the bracket opened before the
    /// last `}` that precedes the automation's own closing `}`.
    fn do_open(&self, a: &Automation, comments: &[Span]) -> u32 {
        let bytes = self.text.as_bytes();
        let mut i = a.span.end.saturating_sub(1);
        let do_close = loop {
            if i <= a.span.start {
                return a.span.end;
            }
            i -= 1;
            if let Some(c) = comments.iter().find(|c| c.start <= i && i < c.end) {
                i = c.start;
                continue;
            }
            if !bytes[i as usize].is_ascii_whitespace() {
                break i;
            }
        };
        let own = &self.text[a.span.start as usize..];
        lexical::open_bracket_at(own, (do_close - a.span.start) as usize)
            .map_or(a.span.end, |(pos, _)| a.span.start + pos as u32)
    }

    fn same_line(&self, from: u32, to: u32) -> bool {
        self.text
            .get(from as usize..to as usize)
            .is_some_and(|between| !between.contains('\n'))
    }

    fn lead(&mut self, anchor: Anchor, c: Span) {
        self.attached.lead(anchor, comment_text(self.text, c));
    }

    fn trail(&mut self, anchor: Anchor, c: Span) {
        self.attached.trail(anchor, comment_text(self.text, c));
    }
}

fn is_action(step: &Step) -> bool {
    matches!(step.kind, StepKind::Action { .. })
}
