//! The typed random expression generator of the differential test: well-typed conditions
//! and values of every kind, built deterministically from a seed.

use std::sync::Arc;

use automations_compiler::typed::{BinaryOp, Func, LogicOp, Root, TExpr, TExprKind, Type};
use automations_compiler::value::Value;

use super::{DAY, Gen, list_of, priority_type};
use crate::eval_support::*;

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Kind {
    Bool,
    Num,
    Str,
    Dt,
    Dur,
    ListStr,
    ListNum,
}

pub(super) const KINDS: [Kind; 7] = [
    Kind::Bool,
    Kind::Num,
    Kind::Str,
    Kind::Dt,
    Kind::Dur,
    Kind::ListStr,
    Kind::ListNum,
];
pub(super) const STRINGS: [&str; 12] = [
    "", "VPN", "vpn", "critical", "low", "open", "é", "ß", "Zürich", "a", "ab", "日本",
];
pub(super) const NUMBERS: [f64; 12] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    2.5,
    3.0,
    0.1,
    1e308,
    -1e308,
    1e-300,
    12_500_000.0,
    50.0,
];
const PATTERNS: [&str; 5] = ["^V", "[a-z]+$", "ü", "^$", "("];

fn konst(v: Value, t: Type) -> TExpr {
    texpr(TExprKind::Const(v), t)
}

pub(super) struct ExprGen {
    pub(super) g: Gen,
    /// Lambda variables in scope (all strings: quantifiers run over string lists).
    pub(super) locals: u32,
}

impl ExprGen {
    pub(super) fn any(&mut self, kind: Kind, depth: u32) -> TExpr {
        match kind {
            Kind::Bool => self.boolean(depth),
            Kind::Num => self.number(depth),
            Kind::Str => self.string(depth),
            Kind::Dt => self.datetime(depth),
            Kind::Dur => self.duration(depth),
            Kind::ListStr => self.list_str(depth),
            Kind::ListNum => self.list_num(depth),
        }
    }

    pub(super) fn boolean(&mut self, depth: u32) -> TExpr {
        use BinaryOp::*;
        if depth == 0 {
            return match self.g.below(4) {
                0 => b(self.g.chance(50)),
                1 => field("flag", Type::Bool),
                2 => null(),
                _ => eq(
                    field("priority", priority_type()),
                    s(self.g.pick(&["low", "critical", "high"])),
                ),
            };
        }
        let d = depth - 1;
        match self.g.below(14) {
            0 | 1 => {
                // n-ary chains, as the checker builds them (2 to 5 clauses).
                let op = if self.g.chance(50) {
                    LogicOp::And
                } else {
                    LogicOp::Or
                };
                let items = (0..2 + self.g.below(4)).map(|_| self.boolean(d)).collect();
                logic(op, items)
            }
            2 => not(self.boolean(d)),
            3 => {
                let k = self.g.pick(&KINDS);
                let op = if self.g.chance(50) { Eq } else { Ne };
                bin(op, self.any(k, d), self.any(k, d))
            }
            4 => {
                let k = self.g.pick(&[Kind::Num, Kind::Str, Kind::Dt, Kind::Dur]);
                let op = self.g.pick(&[Lt, Le, Gt, Ge]);
                bin(op, self.any(k, d), self.any(k, d))
            }
            5 => match self.g.below(2) {
                0 => bin(In, self.string(d), self.list_str(d)),
                _ => bin(In, self.number(d), self.list_num(d)),
            },
            6 => match self.g.below(2) {
                0 => bin(Contains, self.string(d), self.string(d)),
                _ => bin(Contains, self.list_str(d), self.string(d)),
            },
            7 => {
                let op = if self.g.chance(50) {
                    StartsWith
                } else {
                    EndsWith
                };
                bin(op, self.string(d), self.string(d))
            }
            8 => bin(Matches, self.string(d), s(self.g.pick(&PATTERNS))),
            9 => {
                let k = self.g.pick(&KINDS);
                is_null(self.any(k, d), self.g.chance(50))
            }
            10 => {
                let k = self.g.pick(&KINDS);
                call(Func::Has, vec![self.any(k, d)], Type::Bool)
            }
            11 => self.changed(d),
            12 => self.quantifier(d),
            _ => field("flag", Type::Bool),
        }
    }

    fn changed(&mut self, d: u32) -> TExpr {
        let (name, kind) = self.g.pick(&[
            ("priority", Kind::Str),
            ("amount", Kind::Num),
            ("due", Kind::Dt),
        ]);
        let arg = |g: &mut ExprGen| {
            if g.g.chance(40) {
                Some(g.any(kind, d.min(1)))
            } else {
                None
            }
        };
        let from = arg(self);
        let to = arg(self);
        changed(name, from, to)
    }

    fn quantifier(&mut self, d: u32) -> TExpr {
        let list = self.list_str(d);
        self.locals += 1;
        let body = self.boolean(d);
        self.locals -= 1;
        let all = self.g.chance(50);
        texpr(
            TExprKind::Quantifier {
                all,
                list: Box::new(list),
                body: Box::new(body),
            },
            Type::Bool,
        )
    }

    fn number(&mut self, depth: u32) -> TExpr {
        use BinaryOp::*;
        if depth == 0 || self.g.chance(30) {
            return match self.g.below(5) {
                0 | 1 => n(self.g.pick(&NUMBERS)),
                2 => field("amount", Type::Number),
                3 => field(self.g.pick(&["probability", "nothing"]), Type::Number),
                _ => path(Root::Previous, &["amount"], Type::Number),
            };
        }
        let d = depth - 1;
        match self.g.below(5) {
            0 | 1 => bin(
                self.g.pick(&[Add, Sub, Mul, Div]),
                self.number(d),
                self.number(d),
            ),
            2 => texpr(TExprKind::Neg(Box::new(self.number(d))), Type::Number),
            3 => call(Func::Len, vec![self.string(d)], Type::Number),
            _ => call(Func::Len, vec![self.list_str(d)], Type::Number),
        }
    }

    fn string(&mut self, depth: u32) -> TExpr {
        if self.locals > 0 && self.g.chance(35) {
            let i = self.g.below(self.locals as usize) as u32;
            return texpr(TExprKind::Local(i), Type::String);
        }
        if depth == 0 || self.g.chance(30) {
            return match self.g.below(6) {
                0 | 1 => s(self.g.pick(&STRINGS)),
                2 => field(self.g.pick(&["subject", "description"]), Type::String),
                3 => field("priority", priority_type()),
                4 => path(Root::Event, &["kind"], Type::Any),
                _ => path(Root::Previous, &["priority"], priority_type()),
            };
        }
        let d = depth - 1;
        match self.g.below(4) {
            0 => call(
                self.g.pick(&[Func::Lower, Func::Upper]),
                vec![self.string(d)],
                Type::String,
            ),
            1 => bin(BinaryOp::Add, self.string(d), self.string(d)),
            2 => {
                let parts = (0..1 + self.g.below(3))
                    .map(|_| {
                        let k = self.g.pick(&KINDS);
                        self.any(k, d)
                    })
                    .collect();
                texpr(TExprKind::Template(parts), Type::String)
            }
            _ => s(self.g.pick(&STRINGS)),
        }
    }

    fn datetime(&mut self, depth: u32) -> TExpr {
        use BinaryOp::*;
        if depth == 0 || self.g.chance(30) {
            return match self.g.below(5) {
                0 => konst(Value::DateTime(random_ms(&mut self.g)), Type::DateTime),
                1 => field(self.g.pick(&["due", "close_date"]), Type::DateTime),
                2 => now(),
                3 => call(Func::Today, vec![], Type::DateTime),
                _ => konst(Value::Null, Type::Null),
            };
        }
        let d = depth - 1;
        let op = if self.g.chance(50) { Add } else { Sub };
        bin(op, self.datetime(d), self.duration(d))
    }

    fn duration(&mut self, depth: u32) -> TExpr {
        use BinaryOp::*;
        if depth == 0 || self.g.chance(30) {
            return match self.g.below(3) {
                0 => dur(self.g.pick(&[0, 1_000, DAY, 7 * DAY, -DAY, i64::MAX / 2])),
                1 => field("sla", Type::Duration),
                _ => konst(Value::Null, Type::Null),
            };
        }
        let d = depth - 1;
        match self.g.below(4) {
            0 => bin(Sub, self.datetime(d), self.datetime(d)),
            1 => bin(self.g.pick(&[Add, Sub]), self.duration(d), self.duration(d)),
            2 => bin(self.g.pick(&[Mul, Div]), self.duration(d), self.number(d)),
            _ => texpr(TExprKind::Neg(Box::new(self.duration(d))), Type::Duration),
        }
    }

    fn list_str(&mut self, depth: u32) -> TExpr {
        match self.g.below(4) {
            0 => field("tags", list_of(Type::String)),
            1 if depth > 0 => {
                let items = (0..self.g.below(7))
                    .map(|_| self.string(depth - 1))
                    .collect();
                list(items, Type::String)
            }
            2 => {
                let items: Vec<Value> = (0..self.g.below(7))
                    .map(|_| Value::String(Arc::from(self.g.pick(&STRINGS))))
                    .collect();
                konst(Value::List(items.into()), list_of(Type::String))
            }
            _ => field(self.g.pick(&["tags", "no_tags"]), list_of(Type::String)),
        }
    }

    fn list_num(&mut self, depth: u32) -> TExpr {
        match self.g.below(3) {
            0 => field("scores", list_of(Type::Number)),
            1 if depth > 0 => {
                let items = (0..self.g.below(4))
                    .map(|_| self.number(depth - 1))
                    .collect();
                list(items, Type::Number)
            }
            _ => list(vec![n(1.0), null(), n(12_500_000.0)], Type::Number),
        }
    }
}

pub(super) fn random_ms(g: &mut Gen) -> i64 {
    NOW_MS + (g.below(20 * 365) as i64 - 10 * 365) * DAY + g.below(DAY as usize) as i64
}
