//! Unit cases of the dispatch index: each access path, the null / missing / mistyped
//! corners where an index could drop a match, ordering, explanations and hops.

use std::cell::Cell;
use std::sync::Arc;

use automations_compiler::dispatch::{DispatchEntry, DispatchIndex};
use automations_compiler::eval::{Decision, EvalInput, Resolver};
use automations_compiler::typed::{BinaryOp, LogicOp, Root, TExpr, TExprKind, Type};
use automations_compiler::value::Value;
use serde_json::{Value as Json, json};

use crate::dispatch_support::schema;
use crate::eval_support::*;

fn entry(key: u32, event: &str, condition: Option<TExpr>) -> DispatchEntry<u32> {
    DispatchEntry {
        key,
        event: event.into(),
        object: event.split_once('.').map(|(o, _)| o.to_string()),
        condition,
    }
}

fn build(conditions: Vec<TExpr>) -> DispatchIndex<u32> {
    let entries = conditions
        .into_iter()
        .enumerate()
        .map(|(i, c)| entry(i as u32, "case.updated", Some(c)))
        .collect();
    DispatchIndex::build(entries, schema())
}

/// The keys matching `record` on `case.updated`, checked against the full scan.
fn hits(index: &DispatchIndex<u32>, record: Json) -> Vec<u32> {
    let input = EvalInput::record(&record, NOW_MS);
    let fast = index.matches("case.updated", &input);
    assert_eq!(
        fast,
        index.full_scan("case.updated", &input),
        "record {record}"
    );
    fast
}

fn priority() -> TExpr {
    field("priority", picklist(&["low", "medium", "high", "critical"]))
}

fn amount() -> TExpr {
    field("amount", Type::Number)
}

#[test]
fn equality_is_indexed_and_exact() {
    let index = build(vec![
        eq(priority(), s("high")),
        eq(priority(), s("low")),
        and(
            eq(priority(), s("high")),
            eq(field("status", Type::String), s("open")),
        ),
    ]);
    let stats = index.stats();
    assert_eq!(stats.equality_indexed, 3);
    assert_eq!(stats.always_evaluated, 0);
    assert_eq!(hits(&index, json!({"priority": "high"})), vec![0]);
    assert_eq!(
        hits(&index, json!({"priority": "high", "status": "open"})),
        vec![0, 2]
    );
    assert_eq!(hits(&index, json!({"priority": "HIGH"})), Vec::<u32>::new());
    assert_eq!(hits(&index, json!({})), Vec::<u32>::new());
}

#[test]
fn ranges_respect_inclusive_and_exclusive_bounds() {
    let index = build(vec![
        bin(BinaryOp::Gt, amount(), n(100.0)),
        bin(BinaryOp::Ge, amount(), n(100.0)),
        bin(BinaryOp::Lt, amount(), n(100.0)),
        bin(BinaryOp::Le, amount(), n(100.0)),
        // `100 < amount` is `amount > 100`.
        bin(BinaryOp::Lt, n(100.0), amount()),
    ]);
    assert_eq!(index.stats().range_indexed, 5);
    assert_eq!(hits(&index, json!({"amount": 100})), vec![1, 3]);
    assert_eq!(hits(&index, json!({"amount": 100.5})), vec![0, 1, 4]);
    assert_eq!(hits(&index, json!({"amount": 99.5})), vec![2, 3]);
    // A numeric string converts as a number; garbage, null and missing order with nothing.
    assert_eq!(hits(&index, json!({"amount": "100"})), vec![1, 3]);
    assert_eq!(hits(&index, json!({"amount": "abc"})), Vec::<u32>::new());
    assert_eq!(hits(&index, json!({"amount": null})), Vec::<u32>::new());
    assert_eq!(hits(&index, json!({})), Vec::<u32>::new());
}

#[test]
fn negative_zero_equals_zero() {
    let neg_zero = texpr(TExprKind::Neg(Box::new(n(0.0))), Type::Number);
    let index = build(vec![
        eq(amount(), neg_zero),
        bin(BinaryOp::Ge, amount(), n(-0.0)),
    ]);
    assert_eq!(index.stats().always_evaluated, 0);
    assert_eq!(hits(&index, json!({"amount": 0})), vec![0, 1]);
    assert_eq!(hits(&index, json!({"amount": -0.0})), vec![0, 1]);
}

#[test]
fn nulls_and_missing_fields_match_null_constants() {
    let index = build(vec![
        bin(
            BinaryOp::In,
            priority(),
            list(vec![s("high"), null()], Type::String),
        ),
        eq(priority(), null()),
        is_null(priority(), false),
        is_null(priority(), true),
    ]);
    assert_eq!(index.stats().equality_indexed, 3);
    assert_eq!(hits(&index, json!({})), vec![0, 1, 2]);
    assert_eq!(hits(&index, json!({"priority": null})), vec![0, 1, 2]);
    assert_eq!(hits(&index, json!({"priority": "high"})), vec![0, 3]);
    assert_eq!(hits(&index, json!({"priority": "low"})), vec![3]);
}

#[test]
fn not_ne_and_an_or_with_an_unpinned_item_are_evaluated_every_time() {
    let index = build(vec![
        or(eq(priority(), s("high")), eq(priority(), s("low"))),
        not(eq(priority(), s("high"))),
        bin(BinaryOp::Ne, priority(), s("high")),
        // An `or` inside an `and` does not stop the other conjunct from being indexed.
        and(
            eq(field("status", Type::String), s("open")),
            or(eq(priority(), s("high")), eq(priority(), s("low"))),
        ),
    ]);
    let stats = index.stats();
    assert_eq!(stats.always_evaluated, 2);
    assert_eq!(stats.equality_indexed, 1);
    assert_eq!(stats.disjunct_indexed, 1);
    assert_eq!(
        hits(&index, json!({"priority": "low", "status": "open"})),
        vec![0, 1, 2, 3]
    );
    assert_eq!(hits(&index, json!({"priority": "high"})), vec![0]);
    assert_eq!(hits(&index, json!({})), vec![1, 2]);
}

#[test]
fn each_item_of_an_or_is_indexed_when_every_item_pins_a_field() {
    let status = || field("status", Type::String);
    let owner = || field("owner_id", Type::String);
    let index = build(vec![
        // Two fields, one in a nested `or`, one item a conjunction.
        or(
            or(eq(priority(), s("critical")), eq(owner(), s("u7"))),
            and(
                eq(status(), s("open")),
                bin(BinaryOp::Gt, amount(), n(100.0)),
            ),
        ),
        // The `or` as a conjunct: found under its items, decided by the whole.
        and(
            bin(BinaryOp::Ne, amount(), n(10.0)),
            or(eq(owner(), s("u7")), eq(owner(), s("u8"))),
        ),
        // One item pins nothing: the whole is evaluated every time.
        or(
            eq(priority(), s("low")),
            bin(BinaryOp::Gt, amount(), n(5.0)),
        ),
    ]);
    let stats = index.stats();
    assert_eq!(
        (
            stats.equality_indexed,
            stats.range_indexed,
            stats.disjunct_indexed,
            stats.always_evaluated
        ),
        (0, 0, 2, 1),
        "{stats:?}"
    );
    let cases: [(Json, &[u32]); 8] = [
        // Entry 0 is found under two items of its `or` at once: listed once.
        (
            json!({"priority": "critical", "owner_id": "u7", "amount": 50}),
            &[0, 1, 2],
        ),
        (json!({"owner_id": "u7", "amount": 3}), &[0, 1]),
        (json!({"owner_id": "u8", "amount": 50}), &[1, 2]),
        (json!({"owner_id": "u8", "amount": 10}), &[2]),
        (json!({"status": "open", "amount": 150}), &[0, 2]),
        (json!({"status": "open", "amount": 50}), &[2]),
        (json!({"priority": "low"}), &[2]),
        (json!({}), &[]),
    ];
    for (record, expected) in cases {
        assert_eq!(hits(&index, record), expected);
    }
}

#[test]
fn in_lists_file_every_member() {
    let index = build(vec![
        bin(
            BinaryOp::In,
            priority(),
            list(vec![s("high"), s("critical"), s("high")], Type::String),
        ),
        and(
            bin(
                BinaryOp::In,
                priority(),
                list(vec![s("low"), s("high")], Type::String),
            ),
            bin(
                BinaryOp::In,
                field("status", Type::String),
                list(vec![s("open"), s("new")], Type::String),
            ),
        ),
    ]);
    assert_eq!(index.stats().equality_indexed, 2);
    assert_eq!(hits(&index, json!({"priority": "critical"})), vec![0]);
    assert_eq!(
        hits(&index, json!({"priority": "high", "status": "new"})),
        vec![0, 1]
    );
    assert_eq!(
        hits(&index, json!({"priority": "low", "status": "closed"})),
        Vec::<u32>::new()
    );
}

#[test]
fn bool_fields_datetimes_and_changed_to() {
    let close = field("close_date", Type::DateTime);
    let t = texpr(TExprKind::Const(Value::DateTime(NOW_MS)), Type::DateTime);
    let index = build(vec![
        field("discount_approved", Type::Bool),
        bin(BinaryOp::Gt, close, t),
        changed("priority", None, Some(s("critical"))),
    ]);
    let stats = index.stats();
    assert_eq!((stats.equality_indexed, stats.range_indexed), (2, 1));
    assert_eq!(hits(&index, json!({"discount_approved": true})), vec![0]);
    assert_eq!(
        hits(&index, json!({"discount_approved": "true"})),
        Vec::<u32>::new()
    );
    assert_eq!(
        hits(&index, json!({"close_date": "2030-01-01T00:00:00Z"})),
        vec![1]
    );
    let record = json!({"priority": "critical"});
    let before = json!({"priority": "low"});
    let input = EvalInput {
        previous: Some(&before),
        ..EvalInput::record(&record, NOW_MS)
    };
    assert_eq!(index.matches("case.updated", &input), vec![2]);
    assert_eq!(index.full_scan("case.updated", &input), vec![2]);
    // On create (no previous record) `changed` is false.
    assert_eq!(
        hits(&index, json!({"priority": "critical"})),
        Vec::<u32>::new()
    );
}

#[test]
fn event_types_are_exact_and_keys_come_sorted() {
    let entries = vec![
        entry(30, "case.created", None),
        entry(10, "case.created", Some(eq(priority(), s("high")))),
        entry(20, "case.created", None),
        entry(5, "case.updated", None),
        entry(7, "custom.ping", None),
    ];
    let index = DispatchIndex::build(entries, schema());
    assert_eq!(index.len(), 5);
    assert_eq!(
        index.event_types(),
        vec!["case.created", "case.updated", "custom.ping"]
    );
    let record = json!({"priority": "high"});
    let input = EvalInput::record(&record, NOW_MS);
    assert_eq!(index.matches("case.created", &input), vec![10, 20, 30]);
    assert_eq!(index.matches("custom.ping", &input), vec![7]);
    assert_eq!(index.matches("case.deleted", &input), Vec::<u32>::new());
    assert_eq!(index.matches("case", &input), Vec::<u32>::new());
}

#[test]
fn mixed_conversion_kinds_get_their_own_slots() {
    // `changed(amount)` reads amount untyped, `amount > 5` as a number: for "x" they
    // differ (a string vs null), so they must not share a slot (one slot per read kind).
    let index = build(vec![
        changed("amount", None, None),
        bin(BinaryOp::Gt, amount(), n(5.0)),
        // Both kinds in one condition: two slots of one layout.
        and(changed("amount", None, None), is_null(amount(), false)),
    ]);
    let record = json!({"amount": "x"});
    let before = json!({});
    let input = EvalInput {
        previous: Some(&before),
        ..EvalInput::record(&record, NOW_MS)
    };
    let got = index.matches("case.updated", &input);
    assert_eq!(got, index.full_scan("case.updated", &input));
    assert_eq!(got, vec![0, 2]);
}

fn owner() -> TExpr {
    field("owner_id", Type::String)
}

fn subject_contains(text: &str) -> TExpr {
    bin(BinaryOp::Contains, field("subject", Type::String), s(text))
}

#[test]
fn candidates_check_only_what_their_access_path_did_not() {
    let index = build(vec![
        // Filed under the owner: the `contains` is left to check.
        and(eq(owner(), s("u1")), subject_contains("VPN")),
        // Filed under (owner, priority): the range is left.
        logic(
            LogicOp::And,
            vec![
                eq(owner(), s("u1")),
                eq(priority(), s("high")),
                bin(BinaryOp::Gt, amount(), n(5.0)),
            ],
        ),
        // `changed(.., to:)` pins the priority but also needs the previous value: kept.
        and(
            changed("priority", None, Some(s("critical"))),
            eq(owner(), s("u1")),
        ),
        // Filed under the range: the `contains` is left.
        and(
            bin(BinaryOp::Gt, amount(), n(100.0)),
            subject_contains("VPN"),
        ),
        // Every conjunct proven by the path: no evaluation.
        and(eq(owner(), s("u2")), eq(priority(), s("low"))),
    ]);
    let stats = index.stats();
    assert_eq!((stats.equality_indexed, stats.range_indexed), (4, 1));
    let record = |owner: &str, priority: &str, amount: f64, subject: &str| json!({"owner_id": owner, "priority": priority, "amount": amount, "subject": subject});
    assert_eq!(
        hits(&index, record("u1", "high", 6.0, "VPN down")),
        vec![0, 1]
    );
    assert_eq!(
        hits(&index, record("u1", "high", 5.0, "printer")),
        Vec::<u32>::new()
    );
    assert_eq!(hits(&index, record("u3", "low", 500.0, "VPN")), vec![3]);
    assert_eq!(
        hits(&index, record("u3", "low", 500.0, "vpn")),
        Vec::<u32>::new()
    );
    assert_eq!(hits(&index, record("u2", "low", 0.0, "")), vec![4]);
    let after = record("u1", "critical", 0.0, "");
    for (before, expected) in [("low", vec![2]), ("critical", vec![])] {
        let previous = record("u1", before, 0.0, "");
        let input = EvalInput {
            previous: Some(&previous),
            ..EvalInput::record(&after, NOW_MS)
        };
        let got = index.matches("case.updated", &input);
        assert_eq!(got, index.full_scan("case.updated", &input));
        assert_eq!(got, expected, "from {before}");
    }
}

#[test]
fn probes_read_text_fields_as_the_evaluators_do() {
    let previous_owner = path(Root::Previous, &["owner_id"], Type::String);
    let index = build(vec![
        eq(owner(), s("7")),
        is_null(owner(), false),
        eq(previous_owner, s("u1")),
        // The same field untyped and as text in one condition.
        and(changed("owner_id", None, None), eq(owner(), s("u2"))),
    ]);
    // A number read as text is its digits; a bool read as text is null; missing is null.
    assert_eq!(hits(&index, json!({"owner_id": 7})), vec![0]);
    assert_eq!(hits(&index, json!({"owner_id": true})), vec![1]);
    assert_eq!(hits(&index, json!({"owner_id": null})), vec![1]);
    assert_eq!(hits(&index, json!({})), vec![1]);
    assert_eq!(hits(&index, json!({"owner_id": "7"})), vec![0]);
    let record = json!({"owner_id": "u2"});
    let previous = json!({"owner_id": "u1"});
    let input = EvalInput {
        previous: Some(&previous),
        ..EvalInput::record(&record, NOW_MS)
    };
    let got = index.matches("case.updated", &input);
    assert_eq!(got, index.full_scan("case.updated", &input));
    assert_eq!(got, vec![2, 3]);
}

#[test]
fn narrow_records_are_scanned_and_wide_ones_looked_up_alike() {
    // Two field names read from the record and one from the previous record: a record of
    // up to four entries is found by one pass over it, a wider one field by field.
    let previous_status = path(Root::Previous, &["status"], Type::String);
    let index = build(vec![
        and(eq(owner(), s("u1")), eq(priority(), s("high"))),
        and(eq(owner(), s("u1")), eq(previous_status, s("new"))),
        is_null(priority(), false),
    ]);
    let mut narrow = json!({"owner_id": "u1", "priority": "high"});
    let mut wide = narrow.clone();
    for i in 0..20 {
        wide[format!("extra_{i}")] = json!(i);
    }
    let previous = json!({"status": "new"});
    for record in [&narrow, &wide] {
        let input = EvalInput {
            previous: Some(&previous),
            ..EvalInput::record(record, NOW_MS)
        };
        let got = index.matches("case.updated", &input);
        assert_eq!(got, index.full_scan("case.updated", &input));
        assert_eq!(got, vec![0, 1], "{record}");
    }
    narrow["priority"] = json!(null);
    wide["priority"] = json!(null);
    assert_eq!(hits(&index, narrow), vec![2]);
    assert_eq!(hits(&index, wide), vec![2]);
}

#[test]
fn datetimes_against_now_plus_a_duration_are_range_indexed() {
    const HOUR: i64 = 3_600_000;
    let created = || field("created_at", Type::DateTime);
    let since = |ms: i64| bin(BinaryOp::Add, now(), dur(ms));
    let index = build(vec![
        bin(
            BinaryOp::Gt,
            created(),
            bin(BinaryOp::Sub, now(), dur(2 * HOUR)),
        ),
        // Mirrored, inclusive: `now() - 1h <= created_at`.
        bin(BinaryOp::Le, since(-HOUR), created()),
        bin(BinaryOp::Lt, created(), since(HOUR)),
        and(
            bin(BinaryOp::Ge, created(), now()),
            eq(priority(), s("high")),
        ),
    ]);
    let stats = index.stats();
    assert_eq!((stats.equality_indexed, stats.range_indexed), (1, 3));
    assert_eq!(stats.always_evaluated, 0);
    let at = |ms: i64| {
        let text = automations_compiler::eval::convert::format_datetime(NOW_MS + ms);
        json!({"created_at": text, "priority": "high"})
    };
    assert_eq!(hits(&index, at(-3 * HOUR)), vec![2]);
    assert_eq!(hits(&index, at(-2 * HOUR)), vec![2]);
    assert_eq!(hits(&index, at(-HOUR)), vec![0, 1, 2]);
    assert_eq!(hits(&index, at(0)), vec![0, 1, 2, 3]);
    assert_eq!(hits(&index, at(HOUR)), vec![0, 1, 3]);
    assert_eq!(
        hits(&index, json!({"created_at": "soon"})),
        Vec::<u32>::new()
    );
    // A clock where `now() + 1h` overflows: the comparison is false, the index agrees.
    let record = at(0);
    let input = EvalInput::record(&record, i64::MAX - 10);
    assert_eq!(
        index.matches("case.updated", &input),
        index.full_scan("case.updated", &input)
    );
}

/// Counts resolver calls.
struct CountingAccounts(Cell<u32>);

impl Resolver for CountingAccounts {
    fn related(&self, object: &str, id: &str) -> Option<Json> {
        self.0.set(self.0.get() + 1);
        (object == "account" && id == "acc-1").then(|| json!({"tier": "gold", "industry": "tech"}))
    }
}

#[test]
fn reference_hops_follow_the_schema_and_fetch_once_per_event() {
    let tier = path(Root::Record, &["account_id", "tier"], Type::String);
    let industry = path(Root::Record, &["account_id", "industry"], Type::String);
    let index = build(vec![
        eq(tier.clone(), s("gold")),
        and(eq(tier, s("gold")), eq(industry, s("tech"))),
    ]);
    let accounts = CountingAccounts(Cell::new(0));
    let record = json!({"account_id": "acc-1"});
    let input = EvalInput {
        resolver: &accounts,
        ..EvalInput::record(&record, NOW_MS)
    };
    assert_eq!(index.matches("case.updated", &input), vec![0, 1]);
    assert_eq!(accounts.0.get(), 1, "one fetch for two hop fields");
    assert_eq!(index.full_scan("case.updated", &input), vec![0, 1]);
}

#[test]
fn explain_says_which_clause_failed() {
    let index = build(vec![and(
        eq(priority(), s("high")),
        bin(BinaryOp::Gt, amount(), n(100.0)),
    )]);
    let record = json!({"priority": "high", "amount": 50});
    let input = EvalInput::record(&record, NOW_MS);
    let why = index.explain(&0, &input).unwrap();
    assert!(!why.result);
    assert_eq!(why.decision, Decision::FirstFalse);
    assert_eq!(why.clauses.len(), 1);
    assert_eq!(why.clauses[0].values[0].field, "amount");
    assert_eq!(why.clauses[0].values[0].value, json!(50));
    assert!(index.explain(&9, &input).is_none());

    let always = DispatchIndex::build(vec![entry(1, "case.created", None)], schema());
    let why = always.explain(&1, &input).unwrap();
    assert!(why.result && why.clauses.is_empty());
}

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DispatchIndex<u32>>();
    assert_send_sync::<DispatchIndex<String>>();
    let _ = Arc::new(DispatchIndex::<String>::build(Vec::new(), schema()));
}
