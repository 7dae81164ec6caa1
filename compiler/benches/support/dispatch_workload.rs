//! The dispatch workloads: active automations over five event types and the `case.updated`
//! event dispatched against them. One generator for every dispatch measurement: the
//! compiler's criterion bench and callgrind loop (`compiler/benches/dispatch*.rs`) and the
//! bench crate's `dispatch` group include this file by `#[path]`.
//!
//! Conditions are written as text and checked like the API's. Two workloads:
//!
//! - [`Workload::Selective`], the CRM as it is: most automations key on high-cardinality
//!   fields (owner, account, queue, contact, the record id, a picklist with an owner), a
//!   few percent on picklists alone, 1% are evaluated on every event (a top-level `or`, a
//!   range against `now()`). The id domains grow with the number of automations (a
//!   workspace with ten times the automations has about ten times the owners, accounts and
//!   records), so an event matches a handful of them at any size;
//! - [`Workload::Coarse`], the first workload of the bench: a fifth of the cases' conditions
//!   key on one of 4 origins only, so the event matches about 8% of its event type's
//!   automations and the cost follows the matches.

use std::sync::Arc;

use automations_compiler::check::{ExprScope, check_condition};
use automations_compiler::dispatch::{DispatchEntry, DispatchIndex};
use automations_compiler::eval::EvalInput;
use automations_compiler::schema::Schema;
use serde_json::{Value as Json, json};

/// The evaluation clock: 2024-06-01T12:34:56Z.
pub const NOW_MS: i64 = 1_717_245_296_000;
/// The event every measurement dispatches.
pub const EVENT_TYPE: &str = "case.updated";

/// The event types the automations are spread over (round robin), with their object.
pub const EVENTS: &[(&str, &str)] = &[
    ("case.created", "case"),
    ("case.updated", "case"),
    ("case.priority_changed", "case"),
    ("opportunity.updated", "opportunity"),
    ("opportunity.stage_changed", "opportunity"),
];

const PRIORITIES: &[&str] = &["low", "medium", "high", "critical"];
const STATUSES: &[&str] = &["new", "open", "pending", "escalated", "closed"];
const ORIGINS: &[&str] = &["email", "web", "phone", "chat"];
const STAGES: &[&str] = &["Prospecting", "Qualification", "Proposal", "Negotiation"];
const WORDS: &[&str] = &["VPN", "outage", "refund", "invoice", "password", "login"];

/// Which mix of conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Selective,
    Coarse,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Selective => "selective",
            Workload::Coarse => "coarse",
        }
    }
}

/// A small deterministic generator (splitmix64).
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Self {
        Gen(seed)
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// How many distinct owners, accounts ... a workspace with `count` automations has.
struct Domains {
    users: usize,
    accounts: usize,
    queues: usize,
    contacts: usize,
    records: usize,
}

impl Domains {
    fn of(count: usize) -> Self {
        Domains {
            users: (count / 20).max(20),
            accounts: (count / 10).max(20),
            queues: (count / 200).max(5),
            contacts: (count / 5).max(20),
            records: count.max(20),
        }
    }
}

/// One selective condition for a case.
fn selective_case(g: &mut Gen, d: &Domains) -> String {
    let user = format!("user-{}", g.below(d.users));
    match g.below(100) {
        0..=29 => format!(
            r#"owner_id == "{user}" and priority == "{}""#,
            g.pick(PRIORITIES)
        ),
        30..=49 => format!(
            r#"account_id == "acc-{}" and status in ["{}", "{}"]"#,
            g.below(d.accounts),
            g.pick(STATUSES),
            g.pick(STATUSES)
        ),
        50..=61 => format!(
            r#"queue_id == "queue-{}" and priority in ["high", "critical"]"#,
            g.below(d.queues)
        ),
        62..=71 => format!(r#"id == "case-{}" and changed(status)"#, g.below(d.records)),
        72..=83 => format!(
            r#"contact_id == "contact-{}" and subject contains "{}""#,
            g.below(d.contacts),
            g.pick(WORDS)
        ),
        84..=95 => format!(
            r#"status == "{}" and owner_id == "{user}""#,
            g.pick(STATUSES)
        ),
        96..=98 => format!(
            r#"origin == "{}" and status == "{}" and priority in ["high", "critical"]"#,
            g.pick(ORIGINS),
            g.pick(STATUSES)
        ),
        _ if g.below(2) == 0 => format!(r#"priority == "critical" or owner_id == "{user}""#),
        _ => format!("created_at > now() - {}h", 1 + g.below(48)),
    }
}

/// One selective condition for an opportunity.
fn selective_opportunity(g: &mut Gen, d: &Domains) -> String {
    let user = format!("user-{}", g.below(d.users));
    match g.below(100) {
        0..=34 => format!(r#"owner_id == "{user}" and stage == "{}""#, g.pick(STAGES)),
        35..=59 => format!(
            r#"account_id == "acc-{}" and stage in ["{}", "{}"]"#,
            g.below(d.accounts),
            g.pick(STAGES),
            g.pick(STAGES)
        ),
        60..=79 => format!(
            r#"owner_id == "{user}" and amount > {}"#,
            g.below(100) * 1000
        ),
        80..=95 => format!(r#"id == "opp-{}" and changed(stage)"#, g.below(d.records)),
        96..=98 => format!(
            r#"stage == "{}" and probability >= {}"#,
            g.pick(STAGES),
            g.below(100)
        ),
        _ if g.below(2) == 0 => format!(r#"stage == "Negotiation" or owner_id == "{user}""#),
        _ => format!("close_date < now() + {}d", 1 + g.below(30)),
    }
}

/// One coarse condition (the bench's first workload).
fn coarse(g: &mut Gen, object: &str) -> String {
    let user = format!("user-{}", g.below(500));
    let account = format!("acc-{}", g.below(1000));
    let case = object == "case";
    match g.below(100) {
        0..=44 if case => format!(
            r#"owner_id == "{user}" and priority == "{}""#,
            g.pick(PRIORITIES)
        ),
        0..=44 => format!(r#"owner_id == "{user}" and stage == "{}""#, g.pick(STAGES)),
        45..=64 if case => format!(
            r#"account_id == "{account}" and status in ["{}", "{}"]"#,
            g.pick(STATUSES),
            g.pick(STATUSES)
        ),
        45..=64 => format!(
            r#"account_id == "{account}" and stage in ["{}", "{}"]"#,
            g.pick(STAGES),
            g.pick(STAGES)
        ),
        65..=84 if case => format!(
            r#"origin == "{}" and priority in ["{}", "{}"]"#,
            g.pick(ORIGINS),
            g.pick(PRIORITIES),
            g.pick(PRIORITIES)
        ),
        65..=84 => format!(
            r#"owner_id == "{user}" and amount > {}"#,
            g.below(100) * 1000
        ),
        85..=94 if case => format!(
            r#"status == "{}" and subject contains "VPN""#,
            g.pick(STATUSES)
        ),
        85..=94 => format!(
            r#"stage == "{}" and probability >= {}"#,
            g.pick(STAGES),
            g.below(100)
        ),
        95..=98 if case => format!(r#"created_at > now() - {}d"#, g.below(1000)),
        95..=98 => format!("amount > {}", g.below(1000) * 10_000),
        _ if case => format!(r#"priority == "critical" or owner_id == "{user}""#),
        _ => format!(r#"stage == "Negotiation" or owner_id == "{user}""#),
    }
}

/// The condition texts of `count` automations, with their event type and object.
pub fn texts(workload: Workload, count: usize) -> Vec<(&'static str, &'static str, String)> {
    let mut g = Gen::new(42);
    let domains = Domains::of(count);
    (0..count)
        .map(|i| {
            let (event, object) = EVENTS[i % EVENTS.len()];
            let text = match (workload, object) {
                (Workload::Coarse, _) => coarse(&mut g, object),
                (Workload::Selective, "case") => selective_case(&mut g, &domains),
                (Workload::Selective, _) => selective_opportunity(&mut g, &domains),
            };
            (event, object, text)
        })
        .collect()
}

/// `count` automations of `workload`, keyed by position, their conditions checked
/// against `schema`. An error names the condition that does not parse or check.
pub fn automations(
    workload: Workload,
    count: usize,
    schema: &Schema,
) -> Result<Vec<DispatchEntry<u32>>, String> {
    texts(workload, count)
        .into_iter()
        .enumerate()
        .map(|(i, (event, object, text))| {
            let ast = automations_compiler::grammar::parse_expr(&text)
                .map_err(|e| format!("{text}: {e:?}"))?;
            let (typed, diags) =
                check_condition(&ast, &ExprScope::for_object(object, event), schema);
            let typed = typed.ok_or_else(|| {
                let messages: Vec<&String> = diags.iter().map(|d| &d.message).collect();
                format!("{text}: {messages:?}")
            })?;
            Ok(DispatchEntry {
                key: i as u32,
                event: event.into(),
                object: Some(object.into()),
                condition: Some(typed),
            })
        })
        .collect()
}

/// The index of `count` automations of `workload` over the built-in schema.
pub fn index(workload: Workload, count: usize) -> Result<DispatchIndex<u32>, String> {
    let schema = Arc::new(Schema::builtin());
    Ok(DispatchIndex::build(
        automations(workload, count, &schema)?,
        schema,
    ))
}

/// The event's record: a case of owner 7, account 3 and queue 2, moved from `new` to
/// `open`, created three days before [`NOW_MS`].
pub fn event_record() -> Json {
    json!({
        "id": "case-1",
        "subject": "VPN down again",
        "priority": "high",
        "status": "open",
        "origin": "email",
        "owner_id": "user-7",
        "account_id": "acc-3",
        "queue_id": "queue-2",
        "contact_id": "contact-5",
        "created_at": "2024-05-29T10:00:00Z",
    })
}

/// The record before the update.
pub fn previous_record() -> Json {
    let mut previous = event_record();
    previous["status"] = json!("new");
    previous
}

/// The evaluation input of the event (no related records are read by the workloads).
pub fn event_input<'a>(record: &'a Json, previous: &'a Json) -> EvalInput<'a> {
    EvalInput {
        previous: Some(previous),
        ..EvalInput::record(record, NOW_MS)
    }
}
