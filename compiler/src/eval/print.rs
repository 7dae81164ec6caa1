//! Prints typed expressions back as condition-language text, for explanations when the
//! original source text is not at hand. Display only: it must never be parsed back as a
//! definition (reference hops print as `account.tier`, lambda variables as `x`, `x1`, ..).

use crate::typed::{BinaryOp, FieldRef, Func, LogicOp, Root, TExpr, TExprKind};
use crate::value::Value;

use super::convert::{format_datetime, format_duration};

/// The name a field is shown under: `priority`, `account.tier`, `previous.status`,
/// `event.kind`, `steps.approval.output.approved`, `now()`.
pub fn field_name(f: &FieldRef) -> String {
    let record_path = || {
        let n = f.path.len();
        f.path
            .iter()
            .enumerate()
            .map(|(i, seg)| match seg.strip_suffix("_id") {
                Some(hop) if i + 1 < n => hop.to_owned(),
                _ => seg.clone(),
            })
            .collect::<Vec<_>>()
            .join(".")
    };
    match &f.root {
        Root::Record => record_path(),
        Root::Previous if f.path.is_empty() => "previous".into(),
        Root::Previous => format!("previous.{}", record_path()),
        Root::Event => format!("event.{}", f.path.join(".")),
        Root::StepOutput(id) if f.path.is_empty() => format!("steps.{id}.output"),
        Root::StepOutput(id) => format!("steps.{id}.output.{}", f.path.join(".")),
        Root::Now => "now()".into(),
    }
}

/// Prints a value as a literal: strings double-quoted, durations `2d`.
pub fn literal(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::Value::String(s.to_string()).to_string(),
        Value::DateTime(ms) => format!("\"{}\"", format_datetime(*ms)),
        Value::Duration(ms) => format_duration(*ms),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(entries) => format!(
            "{{ {} }}",
            entries
                .iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Prints an expression with the parentheses its precedence needs.
pub fn print(e: &TExpr) -> String {
    let mut out = String::new();
    Printer {
        depth: 0,
        out: &mut out,
    }
    .expr(e, 0);
    out
}

fn logic_precedence(op: LogicOp) -> u8 {
    match op {
        LogicOp::Or => 1,
        LogicOp::And => 2,
    }
}

fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Add | BinaryOp::Sub => 5,
        BinaryOp::Mul | BinaryOp::Div => 6,
        _ => 4,
    }
}

struct Printer<'o> {
    /// Lambdas enclosing the current node.
    depth: u32,
    out: &'o mut String,
}

impl Printer<'_> {
    fn var(&mut self, binder: u32) {
        if binder == 0 {
            self.out.push('x');
        } else {
            self.out.push_str(&format!("x{binder}"));
        }
    }

    fn expr(&mut self, e: &TExpr, min: u8) {
        let own = match &e.kind {
            TExprKind::Binary { op, .. } => precedence(*op),
            TExprKind::Logic { op, .. } => logic_precedence(*op),
            TExprKind::Not(_) => 3,
            TExprKind::IsNull { .. } => 4,
            _ => 9,
        };
        let paren = own < min;
        if paren {
            self.out.push('(');
        }
        self.inner(e, own);
        if paren {
            self.out.push(')');
        }
    }

    fn inner(&mut self, e: &TExpr, own: u8) {
        match &e.kind {
            TExprKind::Const(v) => self.out.push_str(&literal(v)),
            TExprKind::Field(f) => self.out.push_str(&field_name(f)),
            TExprKind::Local(i) => self.var(self.depth.saturating_sub(1 + i)),
            TExprKind::List(items) => {
                self.out.push('[');
                self.list(items);
                self.out.push(']');
            }
            TExprKind::Object(entries) => {
                self.out.push_str("{ ");
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.out.push_str(k);
                    self.out.push_str(": ");
                    self.expr(v, 0);
                }
                self.out.push_str(" }");
            }
            TExprKind::Not(x) => {
                self.out.push_str("not ");
                self.expr(x, 3);
            }
            TExprKind::Neg(x) => {
                self.out.push('-');
                self.expr(x, 9);
            }
            TExprKind::Binary { op, lhs, rhs } => {
                // Left-associative: an equal-precedence operand on the right needs parentheses.
                self.expr(lhs, own);
                self.out.push_str(&format!(" {} ", op.symbol()));
                self.expr(rhs, own + 1);
            }
            TExprKind::Logic { op, items } => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                        self.out.push_str(op.symbol());
                        self.out.push(' ');
                    }
                    // An item of the same operator was merged by the checker; a nested
                    // chain of it (built by hand) prints in parentheses.
                    self.expr(item, own + 1);
                }
            }
            TExprKind::IsNull { expr, negated } => {
                self.expr(expr, 5);
                self.out
                    .push_str(if *negated { " is not null" } else { " is null" });
            }
            TExprKind::Changed {
                current, from, to, ..
            } => {
                self.out.push_str("changed(");
                self.out.push_str(&field_name(current));
                for (name, arg) in [("from", from), ("to", to)] {
                    if let Some(a) = arg {
                        self.out.push_str(&format!(", {name}: "));
                        self.expr(a, 0);
                    }
                }
                self.out.push(')');
            }
            TExprKind::Call { func, args } => {
                let name = match func {
                    Func::Has => "has",
                    Func::Lower => "lower",
                    Func::Upper => "upper",
                    Func::Len => "len",
                    Func::Today => "today",
                };
                self.out.push_str(name);
                self.out.push('(');
                self.list(args);
                self.out.push(')');
            }
            TExprKind::Quantifier { all, list, body } => {
                self.out.push_str(if *all { "all(" } else { "any(" });
                self.expr(list, 0);
                self.out.push_str(", ");
                self.var(self.depth);
                self.out.push_str(" => ");
                self.depth += 1;
                self.expr(body, 0);
                self.depth -= 1;
                self.out.push(')');
            }
            TExprKind::Template(parts) => {
                self.out.push('"');
                for p in parts {
                    match &p.kind {
                        TExprKind::Const(Value::String(s)) => self.out.push_str(s),
                        _ => {
                            self.out.push_str("{{ ");
                            self.expr(p, 0);
                            self.out.push_str(" }}");
                        }
                    }
                }
                self.out.push('"');
            }
        }
    }

    fn list(&mut self, items: &[TExpr]) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expr(item, 0);
        }
    }
}
