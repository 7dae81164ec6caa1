//! Expressions on the fast path: operands and operators read into a flat sequence (as the
//! pest path flattens its pairs), then the same precedence climbing as pest's Pratt parser.

use super::Cursor;
use crate::ast::{
    BinaryOp, CallArg, Expr, ExprKind, Ident, LogicOp, ObjectEntry, Span, StrPart, UnaryOp,
};
use crate::limits::{MAX_CLAUSES, MAX_LIST_ITEMS};
use crate::parser::expr::{
    MAX_PREFIXES, deeper, depth, duration_kind, logic, path_segments, unescape,
};

/// An expression and the depth of its tree, as the pest path measures it.
type Deep = (Expr, u32);

/// Words that cannot start a path or a call (the grammar's `keyword`).
fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "and"
            | "or"
            | "not"
            | "in"
            | "contains"
            | "starts_with"
            | "ends_with"
            | "matches"
            | "is"
            | "null"
            | "true"
            | "false"
    )
}

/// One element of the operand/operator sequence.
enum Item {
    Prefix(UnaryOp, Span),
    /// `is null` (false) or `is not null` (true).
    Postfix(bool, Span),
    Infix(Infix),
    Operand(Expr, u32),
}

#[derive(Clone, Copy)]
enum Infix {
    Logic(LogicOp),
    Binary(BinaryOp),
}

/// Binding powers as pest's `PrattParser` numbers them (its first level is 20, then +10).
fn power(item: &Item) -> u32 {
    match item {
        Item::Infix(Infix::Logic(LogicOp::Or)) => 20,
        Item::Infix(Infix::Logic(LogicOp::And)) => 30,
        Item::Prefix(UnaryOp::Not, _) => 40,
        Item::Postfix(..) => 50,
        Item::Infix(Infix::Binary(op)) => match op {
            BinaryOp::Add | BinaryOp::Sub => 60,
            BinaryOp::Mul | BinaryOp::Div => 70,
            _ => 50,
        },
        Item::Prefix(UnaryOp::Neg, _) => 80,
        Item::Operand(..) => 0,
    }
}

/// A whole text that is one expression (`expr_only`).
pub(crate) fn expr_only(text: &str) -> Option<Expr> {
    let mut c = Cursor::new(text);
    c.skip();
    let (e, _) = c.expr()?;
    c.skip();
    c.at_end().then_some(e)
}

impl Cursor<'_> {
    /// An `expr`: `operand (infix operand)*`, then precedence.
    pub(super) fn expr(&mut self) -> Option<Deep> {
        let mut items = Vec::new();
        let mut clauses = 1usize;
        self.operand(&mut items)?;
        while let Some(op) = self.infix() {
            if let Infix::Logic(_) = op {
                clauses += 1;
                if clauses > MAX_CLAUSES {
                    return None;
                }
            }
            items.push(Item::Infix(op));
            self.operand(&mut items)?;
        }
        let mut seq = Sequence {
            items: items.into_iter().map(Some).collect(),
            next: 0,
        };
        seq.climb(0)
    }

    /// `prefix* primary postfix*`, pushed onto `items`.
    fn operand(&mut self, items: &mut Vec<Item>) -> Option<()> {
        let mut prefixes = 0;
        loop {
            self.skip();
            let start = self.pos;
            let op = if self.at_word("not") {
                self.pos += 3;
                UnaryOp::Not
            } else if self.peek() == Some(b'-') {
                self.pos += 1;
                UnaryOp::Neg
            } else {
                break;
            };
            prefixes += 1;
            if prefixes > MAX_PREFIXES {
                return None;
            }
            items.push(Item::Prefix(op, Span::new(start, self.pos)));
        }
        let (e, d) = self.primary()?;
        items.push(Item::Operand(e, d));
        loop {
            let saved = self.pos;
            self.skip();
            if !self.at_word("is") {
                self.pos = saved;
                return Some(());
            }
            let start = self.pos;
            self.pos += 2;
            self.skip();
            let negated = self.at_word("not");
            if negated {
                self.pos += 3;
                self.skip();
            }
            if !self.at_word("null") {
                return None;
            }
            self.pos += 4;
            items.push(Item::Postfix(negated, Span::new(start, self.pos)));
        }
    }

    /// The operator after trivia, consumed; `None` (cursor unmoved) when there is none.
    fn infix(&mut self) -> Option<Infix> {
        let saved = self.pos;
        self.skip();
        let symbol = |s: &str| self.starts_with(s).then_some(s.len());
        let (op, len) = if let Some(n) = symbol("==") {
            (Infix::Binary(BinaryOp::Eq), n)
        } else if let Some(n) = symbol("!=") {
            (Infix::Binary(BinaryOp::Ne), n)
        } else if let Some(n) = symbol("<=") {
            (Infix::Binary(BinaryOp::Le), n)
        } else if let Some(n) = symbol(">=") {
            (Infix::Binary(BinaryOp::Ge), n)
        } else {
            let single = match self.peek() {
                Some(b'<') => Some(BinaryOp::Lt),
                Some(b'>') => Some(BinaryOp::Gt),
                Some(b'+') => Some(BinaryOp::Add),
                Some(b'-') => Some(BinaryOp::Sub),
                Some(b'*') => Some(BinaryOp::Mul),
                Some(b'/') => Some(BinaryOp::Div),
                _ => None,
            };
            match (single, self.word()) {
                (Some(op), _) => (Infix::Binary(op), 1),
                (None, Some(w)) => {
                    let op = match w {
                        "and" => Infix::Logic(LogicOp::And),
                        "or" => Infix::Logic(LogicOp::Or),
                        "in" => Infix::Binary(BinaryOp::In),
                        "contains" => Infix::Binary(BinaryOp::Contains),
                        "starts_with" => Infix::Binary(BinaryOp::StartsWith),
                        "ends_with" => Infix::Binary(BinaryOp::EndsWith),
                        "matches" => Infix::Binary(BinaryOp::Matches),
                        _ => {
                            self.pos = saved;
                            return None;
                        }
                    };
                    (op, w.len())
                }
                (None, None) => {
                    self.pos = saved;
                    return None;
                }
            }
        };
        self.pos += len;
        Some(op)
    }

    /// One primary, in pest's order of alternatives, with its depth checked.
    fn primary(&mut self) -> Option<Deep> {
        let start = self.pos;
        let (e, d) = match self.peek()? {
            b'(' => {
                self.pos += 1;
                self.skip();
                let (inner, d) = self.expr()?;
                let end = self.expect(b')')?;
                let kind = ExprKind::Paren(Box::new(inner));
                (
                    Expr {
                        kind,
                        span: Span::new(start, end),
                    },
                    d + 1,
                )
            }
            b'[' => self.list()?,
            b'{' => self.with_depth(|c| c.object().map(ExprKind::Object))?,
            b'"' | b'\'' => self.with_depth(|c| c.string().map(ExprKind::Str))?,
            b'0'..=b'9' => self.number()?,
            _ => self.word_primary()?,
        };
        deeper(e, d).ok()
    }

    /// A primary built by `build`, spanning from the cursor to where `build` stops; its
    /// depth measured afterwards (as the pest path does for strings, objects and calls).
    fn with_depth(&mut self, build: impl FnOnce(&mut Self) -> Option<ExprKind>) -> Option<Deep> {
        let start = self.pos;
        let kind = build(self)?;
        let e = Expr {
            kind,
            span: Span::new(start, self.pos),
        };
        let d = depth(&e);
        Some((e, d))
    }

    /// `[a, b, ...]`.
    fn list(&mut self) -> Option<Deep> {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        let mut d = 0;
        self.skip();
        if self.peek() != Some(b']') {
            loop {
                if items.len() == MAX_LIST_ITEMS {
                    return None;
                }
                let (item, item_depth) = self.expr()?;
                d = d.max(item_depth);
                items.push(item);
                self.skip();
                if self.peek() != Some(b',') {
                    break;
                }
                self.pos += 1;
                self.skip();
                if self.peek() == Some(b']') {
                    break;
                }
            }
        }
        let end = self.expect(b']')?;
        let kind = ExprKind::List(items);
        Some((
            Expr {
                kind,
                span: Span::new(start, end),
            },
            d + 1,
        ))
    }

    /// `{ key: value, ... }` (keys are names or plain strings); the cursor is on `{`.
    pub(super) fn object(&mut self) -> Option<Vec<ObjectEntry>> {
        self.pos += 1;
        let mut entries = Vec::new();
        self.skip();
        if self.peek() != Some(b'}') {
            loop {
                let key = match self.peek()? {
                    b'"' | b'\'' => self.plain_string()?,
                    _ => {
                        let (name, span) = self.take_word()?;
                        Ident {
                            name: name.to_string(),
                            span,
                        }
                    }
                };
                self.expect(b':')?;
                self.skip();
                let (value, _) = self.expr()?;
                entries.push(ObjectEntry { key, value });
                self.skip();
                if self.peek() != Some(b',') {
                    break;
                }
                self.pos += 1;
                self.skip();
                if self.peek() == Some(b'}') {
                    break;
                }
            }
        }
        self.expect(b'}')?;
        Some(entries)
    }

    /// `duration` (digits, a unit, no name character after it), else `number`.
    fn number(&mut self) -> Option<Deep> {
        let start = self.pos;
        let digits = self.bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(self.bytes.len() - start);
        self.pos += digits;
        let unit = if self.starts_with("ms") {
            2
        } else if matches!(self.peek(), Some(b's' | b'm' | b'h' | b'd' | b'w')) {
            1
        } else {
            0
        };
        let after_unit = self.peek_at(unit).is_some_and(super::is_ident_char);
        let kind = if unit > 0 && !after_unit {
            self.pos += unit;
            duration_kind(&self.text[start..self.pos]).ok()?
        } else {
            if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
                while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            ExprKind::Number(self.text[start..self.pos].parse::<f64>().ok()?)
        };
        Some((
            Expr {
                kind,
                span: Span::new(start, self.pos),
            },
            1,
        ))
    }

    /// `null`, `true`, `false`, a call or a path.
    fn word_primary(&mut self) -> Option<Deep> {
        let (w, span) = self.take_word()?;
        let kind = match w {
            "null" => ExprKind::Null,
            "true" => ExprKind::Bool(true),
            "false" => ExprKind::Bool(false),
            _ if is_keyword(w) => return None,
            _ if self.peek_after_trivia() == Some(b'(') => {
                let name = Ident {
                    name: w.to_string(),
                    span,
                };
                self.expect(b'(')?;
                let args = self.call_args()?;
                let e = Expr {
                    kind: ExprKind::Call { name, args },
                    span: Span::new(span.start as usize, self.pos),
                };
                let d = depth(&e);
                return Some((e, d));
            }
            _ => {
                while self.peek() == Some(b'.')
                    && self.peek_at(1).is_some_and(super::is_ident_start)
                {
                    self.pos += 1;
                    self.take_word()?;
                }
                let text = &self.text[span.start as usize..self.pos];
                ExprKind::Path(path_segments(text, span.start))
            }
        };
        let span = Span::new(span.start as usize, self.pos);
        Some((Expr { kind, span }, 1))
    }

    /// The arguments of a call after its `(`, through the `)`.
    fn call_args(&mut self) -> Option<Vec<CallArg>> {
        let mut args = Vec::new();
        self.skip();
        if self.peek() != Some(b')') {
            loop {
                args.push(self.call_arg()?);
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
        self.expect(b')')?;
        Some(args)
    }

    /// `name => body` | `name: value` | `value`, in that order.
    fn call_arg(&mut self) -> Option<CallArg> {
        let saved = self.pos;
        if let Some((name, span)) = self.take_word() {
            self.skip();
            let param = Ident {
                name: name.to_string(),
                span,
            };
            if self.starts_with("=>") {
                self.pos += 2;
                self.skip();
                let (body, _) = self.expr()?;
                let span = span.cover(body.span);
                let kind = ExprKind::Lambda {
                    param,
                    body: Box::new(body),
                };
                return Some(CallArg {
                    name: None,
                    value: Expr { kind, span },
                });
            }
            if self.peek() == Some(b':') {
                self.pos += 1;
                self.skip();
                let (value, _) = self.expr()?;
                return Some(CallArg {
                    name: Some(param),
                    value,
                });
            }
            self.pos = saved;
        }
        let (value, _) = self.expr()?;
        Some(CallArg { name: None, value })
    }

    /// A quoted string without templates, as a name (object keys, automation names).
    pub(super) fn plain_string(&mut self) -> Option<Ident> {
        let start = self.pos;
        let mut name = String::new();
        for part in self.string()? {
            match part {
                StrPart::Text(t) => name.push_str(&t),
                StrPart::Expr(_) => return None,
            }
        }
        Some(Ident {
            name,
            span: Span::new(start, self.pos),
        })
    }

    /// A quoted string (the cursor is on its quote) into text and template parts.
    pub(super) fn string(&mut self) -> Option<Vec<StrPart>> {
        let quote = self.peek()?;
        self.pos += 1;
        let mut parts: Vec<StrPart> = Vec::new();
        let mut run = self.pos;
        loop {
            let b = self.peek()?;
            let at_template = b == b'{' && self.peek_at(1) == Some(b'{');
            if b == quote || at_template {
                if self.pos > run {
                    let text = unescape(&self.text[run..self.pos], run).ok()?;
                    match parts.last_mut() {
                        Some(StrPart::Text(prev)) => prev.push_str(&text),
                        _ => parts.push(StrPart::Text(text)),
                    }
                }
                if b == quote {
                    self.pos += 1;
                    return Some(parts);
                }
                self.pos += 2;
                self.skip();
                let (e, _) = self.expr()?;
                self.skip();
                if !self.starts_with("}}") {
                    return None;
                }
                self.pos += 2;
                parts.push(StrPart::Expr(e));
                run = self.pos;
            } else if b == b'\\' {
                // An escape takes one character; only ASCII ones are valid.
                if !self.peek_at(1)?.is_ascii() {
                    return None;
                }
                self.pos += 2;
            } else {
                self.pos += 1;
            }
        }
    }
}

/// The flat sequence of one `expr`, consumed by precedence climbing.
struct Sequence {
    items: Vec<Option<Item>>,
    next: usize,
}

impl Sequence {
    fn take(&mut self) -> Option<Item> {
        let item = self.items.get_mut(self.next)?.take();
        self.next += 1;
        item
    }

    fn peek_power(&self) -> u32 {
        match self.items.get(self.next) {
            Some(Some(item)) => power(item),
            _ => 0,
        }
    }

    /// pest's `expr(rbp)`: a prefix or primary, then operators binding tighter than `rbp`.
    fn climb(&mut self, rbp: u32) -> Option<Deep> {
        let mut lhs = match self.take()? {
            Item::Operand(e, d) => (e, d),
            Item::Prefix(op, span) => {
                let (rhs, d) = self.climb(power(&Item::Prefix(op, span)) - 1)?;
                let span = span.cover(rhs.span);
                let kind = ExprKind::Unary {
                    op,
                    expr: Box::new(rhs),
                };
                deeper(Expr { kind, span }, d + 1).ok()?
            }
            _ => return None,
        };
        while rbp < self.peek_power() {
            lhs = match self.take()? {
                Item::Postfix(negated, span) => {
                    let (e, d) = lhs;
                    let span = e.span.cover(span);
                    let kind = ExprKind::IsNull {
                        expr: Box::new(e),
                        negated,
                    };
                    deeper(Expr { kind, span }, d + 1).ok()?
                }
                Item::Infix(op) => {
                    let (rhs, rd) = self.climb(power(&Item::Infix(op)))?;
                    let (lhs, ld) = lhs;
                    match op {
                        Infix::Logic(op) => logic(op, lhs, ld, rhs, rd),
                        Infix::Binary(op) => {
                            let span = lhs.span.cover(rhs.span);
                            let kind = ExprKind::Binary {
                                op,
                                lhs: Box::new(lhs),
                                rhs: Box::new(rhs),
                            };
                            deeper(Expr { kind, span }, ld.max(rd) + 1).ok()?
                        }
                    }
                }
                _ => return None,
            };
        }
        Some(lhs)
    }
}
