//! Random automations and events for the dispatch tests: conditions over case and
//! opportunity fields (equalities, `in` lists, ranges, `or`, `not`, nulls, `has`,
//! `changed`, reference hops, `event.*`), and records with missing, null and wrongly typed
//! values, from a small deterministic generator driven by proptest seeds.

use std::collections::HashMap;
use std::sync::Arc;

use automations_compiler::dispatch::DispatchEntry;
use automations_compiler::eval::Resolver;
use automations_compiler::eval::convert::format_datetime;
use automations_compiler::typed::{BinaryOp, Func, Root, TExpr, TExprKind, Type};
use automations_compiler::value::Value;
use serde_json::{Value as Json, json};

use crate::eval_support::*;

/// splitmix64: tiny and deterministic.
pub struct Gen(pub u64);

impl Gen {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Pick(&'static [&'static str]),
    Str(&'static [&'static str]),
    Num,
    Dt,
    Bool,
    /// `event.*`: untyped.
    Any,
}

#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub root: Root2,
    pub path: &'static [&'static str],
    pub kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Root2 {
    Record,
    Previous,
    Event,
}

const PRIORITIES: &[&str] = &["low", "medium", "high", "critical"];
const STATUSES: &[&str] = &["new", "open", "pending", "escalated", "closed"];
const ORIGINS: &[&str] = &["email", "web", "phone", "chat"];
const STAGES: &[&str] = &[
    "Prospecting",
    "Qualification",
    "Proposal",
    "Negotiation",
    "Closed Won",
    "Closed Lost",
];
const TIERS: &[&str] = &["bronze", "silver", "gold", "platinum"];
const SUBJECTS: &[&str] = &["VPN down", "printer", "", "vpn", "VPN"];
const OWNERS: &[&str] = &["user-1", "user-2", "user-3", "user-4", "user-5", "user-6"];
const ACCOUNTS: &[&str] = &["acc-1", "acc-2", "acc-3", "acc-4", "acc-9"];
const SOURCES: &[&str] = &["web", "api", "5"];
pub const NUMBERS: &[f64] = &[0.0, -0.0, 10.0, 50.0, 99.5, 100.0, 1000.0, -5.0, 1e9];
const DAY: i64 = 86_400_000;
pub const TIMES: &[i64] = &[NOW_MS - 30 * DAY, NOW_MS - DAY, NOW_MS, NOW_MS + 7 * DAY];

const fn spec(path: &'static [&'static str], kind: Kind) -> Spec {
    Spec {
        root: Root2::Record,
        path,
        kind,
    }
}

pub const CASE_FIELDS: &[Spec] = &[
    spec(&["priority"], Kind::Pick(PRIORITIES)),
    spec(&["status"], Kind::Pick(STATUSES)),
    spec(&["origin"], Kind::Pick(ORIGINS)),
    spec(&["subject"], Kind::Str(SUBJECTS)),
    spec(&["owner_id"], Kind::Str(OWNERS)),
    spec(&["account_id"], Kind::Str(ACCOUNTS)),
    spec(&["account_id", "tier"], Kind::Pick(TIERS)),
    spec(&["created_at"], Kind::Dt),
    Spec {
        root: Root2::Previous,
        path: &["priority"],
        kind: Kind::Pick(PRIORITIES),
    },
    Spec {
        root: Root2::Event,
        path: &["source"],
        kind: Kind::Any,
    },
];

pub const OPPORTUNITY_FIELDS: &[Spec] = &[
    spec(&["stage"], Kind::Pick(STAGES)),
    spec(&["amount"], Kind::Num),
    spec(&["probability"], Kind::Num),
    spec(&["close_date"], Kind::Dt),
    spec(&["discount_approved"], Kind::Bool),
    spec(&["owner_id"], Kind::Str(OWNERS)),
    spec(&["account_id"], Kind::Str(ACCOUNTS)),
    spec(&["account_id", "tier"], Kind::Pick(TIERS)),
    Spec {
        root: Root2::Previous,
        path: &["amount"],
        kind: Kind::Num,
    },
    Spec {
        root: Root2::Event,
        path: &["source"],
        kind: Kind::Any,
    },
];

pub const CUSTOM_FIELDS: &[Spec] = &[
    Spec {
        root: Root2::Event,
        path: &["source"],
        kind: Kind::Any,
    },
    Spec {
        root: Root2::Event,
        path: &["amount"],
        kind: Kind::Any,
    },
];

/// (event type, object, fields its conditions read)
pub const EVENTS: &[(&str, Option<&str>, &[Spec])] = &[
    ("case.created", Some("case"), CASE_FIELDS),
    ("case.updated", Some("case"), CASE_FIELDS),
    (
        "opportunity.updated",
        Some("opportunity"),
        OPPORTUNITY_FIELDS,
    ),
    (
        "opportunity.stage_changed",
        Some("opportunity"),
        OPPORTUNITY_FIELDS,
    ),
    ("custom.ping", None, CUSTOM_FIELDS),
];

/// An event type no automation listens to.
pub const SILENT_EVENT: &str = "case.deleted";

fn ty(kind: Kind) -> Type {
    match kind {
        Kind::Pick(values) => picklist(values),
        Kind::Str(_) => Type::String,
        Kind::Num => Type::Number,
        Kind::Dt => Type::DateTime,
        Kind::Bool => Type::Bool,
        Kind::Any => Type::Any,
    }
}

pub fn field_expr(f: &Spec) -> TExpr {
    let root = match f.root {
        Root2::Record => Root::Record,
        Root2::Previous => Root::Previous,
        Root2::Event => Root::Event,
    };
    path(root, f.path, ty(f.kind))
}

fn datetime(ms: i64) -> TExpr {
    texpr(TExprKind::Const(Value::DateTime(ms)), Type::DateTime)
}

/// A constant a condition might compare `f` with.
fn constant(g: &mut Gen, kind: Kind) -> TExpr {
    if g.chance(5) {
        return null();
    }
    match kind {
        Kind::Pick(values) | Kind::Str(values) => s(g.pick(values)),
        Kind::Num => {
            let x = g.pick(NUMBERS);
            if g.chance(15) {
                // `-5` as the checker may write it: a negation of a literal.
                texpr(TExprKind::Neg(Box::new(n(-x))), Type::Number)
            } else {
                n(x)
            }
        }
        Kind::Dt => datetime(g.pick(TIMES)),
        Kind::Bool => b(g.chance(50)),
        Kind::Any => {
            if g.chance(50) {
                s(g.pick(SOURCES))
            } else {
                n(g.pick(NUMBERS))
            }
        }
    }
}

fn ordered(kind: Kind) -> bool {
    matches!(kind, Kind::Num | Kind::Dt | Kind::Any)
}

/// One comparison-ish clause over a random field.
fn atom(g: &mut Gen, fields: &[Spec]) -> TExpr {
    let f = g.pick(fields);
    let fe = field_expr(&f);
    let c = constant(g, f.kind);
    match g.below(12) {
        0..=2 => {
            if g.chance(20) {
                eq(c, fe)
            } else {
                eq(fe, c)
            }
        }
        3 => bin(BinaryOp::Ne, fe, c),
        4 | 5 => {
            let items = (0..g.below(4)).map(|_| constant(g, f.kind)).collect();
            bin(BinaryOp::In, fe, list(items, ty(f.kind)))
        }
        6 | 7 if ordered(f.kind) => {
            let op = g.pick(&[BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge]);
            if g.chance(25) {
                bin(op, c, fe)
            } else {
                bin(op, fe, c)
            }
        }
        8 => is_null(fe, g.chance(50)),
        9 => call(Func::Has, vec![fe], Type::Bool),
        10 if f.root == Root2::Record && f.path.len() == 1 => {
            let to = if g.chance(70) { Some(c) } else { None };
            changed(f.path[0], None, to)
        }
        11 if matches!(f.kind, Kind::Bool) => fe,
        11 if matches!(f.kind, Kind::Str(_)) => bin(BinaryOp::Contains, fe, s("VPN")),
        _ => eq(fe, c),
    }
}

/// A clause: usually an atom, sometimes negated or an `or` of atoms.
fn clause(g: &mut Gen, fields: &[Spec]) -> TExpr {
    match g.below(10) {
        0 => not(atom(g, fields)),
        1 => or(atom(g, fields), atom(g, fields)),
        _ => atom(g, fields),
    }
}

/// A random condition: mostly a conjunction, sometimes a top-level `or` or `not`.
pub fn condition(g: &mut Gen, fields: &[Spec]) -> Option<TExpr> {
    let shape = g.below(20);
    if shape == 0 {
        return None;
    }
    let mut e = clause(g, fields);
    let extra = g.below(4);
    for _ in 0..extra {
        let next = clause(g, fields);
        e = if shape <= 2 {
            or(e, next)
        } else {
            and(e, next)
        };
    }
    if shape == 3 {
        e = not(e);
    }
    Some(e)
}

/// `count` random automations keyed 0.., on random event types.
pub fn automations(g: &mut Gen, count: u32) -> Vec<DispatchEntry<u32>> {
    (0..count)
        .map(|key| {
            let (event, object, fields) = g.pick(EVENTS);
            DispatchEntry {
                key,
                event: event.to_string(),
                object: object.map(str::to_string),
                condition: condition(g, fields),
            }
        })
        .collect()
}

/// A field value: usually from the pool, sometimes missing (`None`), null or mistyped.
fn value(g: &mut Gen, kind: Kind) -> Option<Json> {
    match g.below(100) {
        0..=11 => return None,
        12..=19 => return Some(Json::Null),
        20..=25 => return Some(g.pick(&[json!(5), json!("100"), json!(true), json!("x")])),
        _ => {}
    }
    Some(match kind {
        Kind::Pick(values) | Kind::Str(values) => json!(g.pick(values)),
        Kind::Num => json!(g.pick(NUMBERS)),
        Kind::Dt => json!(format_datetime(g.pick(TIMES))),
        Kind::Bool => json!(g.chance(50)),
        Kind::Any => g.pick(&[json!("web"), json!("api"), json!(5), json!(100.0)]),
    })
}

/// A record with the single-segment record fields of `fields`.
pub fn record(g: &mut Gen, fields: &[Spec]) -> Json {
    let mut map = serde_json::Map::new();
    for f in fields {
        if f.root == Root2::Record
            && f.path.len() == 1
            && let Some(v) = value(g, f.kind)
        {
            map.insert(f.path[0].to_string(), v);
        }
    }
    Json::Object(map)
}

pub fn event_payload(g: &mut Gen) -> Json {
    let mut map = serde_json::Map::new();
    for name in ["source", "amount"] {
        if let Some(v) = value(g, Kind::Any) {
            map.insert(name.to_string(), v);
        }
    }
    Json::Object(map)
}

/// Accounts for `account.tier` hops: some with a tier, one without, one mistyped.
pub struct Accounts(pub HashMap<String, Json>);

impl Accounts {
    pub fn new() -> Self {
        let mut m = HashMap::new();
        m.insert("acc-1".into(), json!({"tier": "gold"}));
        m.insert("acc-2".into(), json!({"tier": "silver"}));
        m.insert("acc-3".into(), json!({}));
        m.insert("acc-4".into(), json!({"tier": 7}));
        Accounts(m)
    }
}

impl Resolver for Accounts {
    fn related(&self, object: &str, id: &str) -> Option<Json> {
        if object != "account" {
            return None;
        }
        self.0.get(id).cloned()
    }
}

pub fn schema() -> Arc<automations_compiler::schema::Schema> {
    Arc::new(automations_compiler::schema::Schema::builtin())
}
