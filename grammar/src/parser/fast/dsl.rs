//! `.auto` files on the fast path: automations, header items and steps, as the grammar's
//! `file` rule reads them and `parser::dsl` builds them.

use super::Cursor;
use crate::ast::{Automation, Expr, ExprKind, File, Ident, NamedArg, Span, Step, StepKind, StrLit};

/// Words of the DSL structure (the grammar's `dsl_word`).
fn is_dsl_word(w: &str) -> bool {
    matches!(
        w,
        "automation"
            | "description"
            | "status"
            | "environment"
            | "when"
            | "if"
            | "else"
            | "layout"
            | "do"
    )
}

/// A whole `.auto` file: one or more automations.
pub(crate) fn file(text: &str) -> Option<File> {
    let mut c = Cursor::new(text);
    let mut automations = Vec::new();
    loop {
        c.skip();
        if c.at_end() && !automations.is_empty() {
            return Some(File { automations });
        }
        automations.push(c.automation()?);
    }
}

impl Cursor<'_> {
    fn keyword(&mut self, w: &str) -> Option<()> {
        self.skip();
        self.at_word(w).then(|| self.pos += w.len())
    }

    /// A `dsl_name`: any word but the structure words.
    fn dsl_name(&mut self) -> Option<Ident> {
        self.skip();
        let w = self.word()?;
        if is_dsl_word(w) {
            return None;
        }
        let (name, span) = self.take_word()?;
        Some(Ident {
            name: name.to_string(),
            span,
        })
    }

    fn str_lit(&mut self) -> Option<StrLit> {
        self.skip();
        if !matches!(self.peek()?, b'"' | b'\'') {
            return None;
        }
        let id = self.plain_string()?;
        Some(StrLit {
            value: id.name,
            span: id.span,
        })
    }

    fn automation(&mut self) -> Option<Automation> {
        let start = self.pos;
        self.keyword("automation")?;
        let name = self.str_lit()?;
        self.expect(b'{')?;
        let mut auto = Automation {
            name,
            description: None,
            status: None,
            environment: None,
            trigger: None,
            condition: None,
            layout: None,
            steps: Vec::new(),
            span: Span::default(),
        };
        loop {
            self.skip();
            let w = self.word()?;
            if w == "do" {
                break;
            }
            self.pos += w.len();
            // A repeated header item is an error of the pest path.
            match w {
                "description" if auto.description.is_none() => {
                    auto.description = Some(self.str_lit()?);
                }
                "status" if auto.status.is_none() => auto.status = Some(self.dsl_name()?),
                "environment" if auto.environment.is_none() => {
                    auto.environment = Some(self.dsl_name()?);
                }
                "when" if auto.trigger.is_none() => auto.trigger = Some(self.event_name()?),
                "if" if auto.condition.is_none() => {
                    self.skip();
                    auto.condition = Some(self.expr()?.0);
                }
                "layout" if auto.layout.is_none() => {
                    self.skip();
                    if self.peek() != Some(b'{') {
                        return None;
                    }
                    let start = self.pos;
                    let entries = self.object()?;
                    let span = Span::new(start, self.pos);
                    auto.layout = Some(Expr {
                        kind: ExprKind::Object(entries),
                        span,
                    });
                }
                _ => return None,
            }
        }
        self.keyword("do")?;
        auto.steps = self.block()?;
        let end = self.expect(b'}')?;
        auto.span = Span::new(start, end);
        Some(auto)
    }

    /// `event_name`: a `dsl_name` and `.name` segments, with no trivia inside.
    fn event_name(&mut self) -> Option<Ident> {
        let first = self.dsl_name()?;
        let start = first.span.start as usize;
        while self.peek() == Some(b'.') && self.peek_at(1).is_some_and(super::is_ident_start) {
            self.pos += 1;
            self.take_word()?;
        }
        let name = self.text[start..self.pos].to_string();
        Some(Ident {
            name,
            span: Span::new(start, self.pos),
        })
    }

    /// `{ step* }`.
    fn block(&mut self) -> Option<Vec<Step>> {
        self.expect(b'{')?;
        let mut steps = Vec::new();
        loop {
            self.skip();
            if self.peek()? == b'}' {
                self.pos += 1;
                return Some(steps);
            }
            steps.push(self.step()?);
        }
    }

    /// `[label =] if ...` or `[label =] action(args) [when guard]`.
    fn step(&mut self) -> Option<Step> {
        let start = self.pos;
        let id = self.label()?;
        self.skip();
        if self.at_word("if") {
            return self.if_core(id, start);
        }
        let action = self.dsl_name()?;
        self.expect(b'(')?;
        let mut args = Vec::new();
        self.skip();
        if self.peek() != Some(b')') {
            loop {
                self.skip();
                let (name, name_span) = self.take_word()?;
                self.expect(b':')?;
                self.skip();
                let (value, _) = self.expr()?;
                let span = name_span.cover(value.span);
                let name = Ident {
                    name: name.to_string(),
                    span: name_span,
                };
                args.push(NamedArg { name, value, span });
                self.skip();
                if self.peek() != Some(b',') {
                    break;
                }
                self.pos += 1;
                self.skip();
                if self.peek() == Some(b')') {
                    break;
                }
            }
        }
        let mut end = self.expect(b')')?;
        let saved = self.pos;
        self.skip();
        let guard = if self.at_word("when") {
            self.pos += 4;
            self.skip();
            let (guard, _) = self.expr()?;
            end = guard.span.end as usize;
            Some(guard)
        } else {
            self.pos = saved;
            None
        };
        let retry = self.retry_clause();
        if let Some(r) = &retry {
            end = r.span.end as usize;
        }
        let kind = StepKind::Action {
            id,
            action,
            args,
            guard,
            retry,
        };
        Some(Step {
            kind,
            span: Span::new(start, end),
        })
    }

    /// An optional `retry { ... }` after a step. `retry` not followed by `{` is not one (it
    /// may name the next step), as in the grammar; a malformed object gives up (pest reports).
    fn retry_clause(&mut self) -> Option<Expr> {
        let saved = self.pos;
        self.skip();
        if self.at_word("retry") {
            self.pos += "retry".len();
            self.skip();
            if self.peek() == Some(b'{') {
                let open = self.pos;
                if let Some(entries) = self.object() {
                    return Some(Expr {
                        kind: ExprKind::Object(entries),
                        span: Span::new(open, self.pos),
                    });
                }
            }
        }
        self.pos = saved;
        None
    }

    /// An optional `name =` before a step (`Some(None)` when there is none).
    fn label(&mut self) -> Option<Option<Ident>> {
        let saved = self.pos;
        let Some(w) = self.word().filter(|w| !is_dsl_word(w)) else {
            return Some(None);
        };
        let span = Span::new(self.pos, self.pos + w.len());
        self.pos += w.len();
        self.skip();
        if self.peek() == Some(b'=') {
            self.pos += 1;
            self.skip();
            if !matches!(self.peek(), Some(b'=' | b'>')) {
                return Some(Some(Ident {
                    name: w.to_string(),
                    span,
                }));
            }
            // `name = =` or `name =>`: not a label, and not a step pest reads either.
            return None;
        }
        self.pos = saved;
        Some(None)
    }

    /// `if cond { ... } [else (if ... | { ... })]`, the cursor on `if`; the step spans from
    /// `start`.
    fn if_core(&mut self, id: Option<Ident>, start: usize) -> Option<Step> {
        self.pos += 2;
        self.skip();
        let (condition, _) = self.expr()?;
        let then_steps = self.block()?;
        let mut end = self.pos;
        let saved = self.pos;
        self.skip();
        let (else_steps, has_else) = if self.at_word("else") {
            self.pos += 4;
            self.skip();
            let steps = if self.at_word("if") {
                let nested_start = self.pos;
                vec![self.if_core(None, nested_start)?]
            } else {
                self.block()?
            };
            end = self.pos;
            (steps, true)
        } else {
            self.pos = saved;
            (Vec::new(), false)
        };
        let kind = StepKind::If {
            id,
            condition,
            then_steps,
            else_steps,
            has_else,
        };
        Some(Step {
            kind,
            span: Span::new(start, end),
        })
    }
}
