//! One event type's share of the dispatch index (a [`Group`]): the shared slot layout, the
//! compiled conditions, and the access paths that turn an event into a short list of
//! candidates:
//!
//! - **equality signatures**: entries whose conjunction pins fields to constants (`==`,
//!   `in`, `is null`, `changed(f, to: c)`) are filed under the tuple of those constants;
//!   all entries pinning the same set of slots share one hash table, so a probe costs one
//!   hash of the event's values per distinct slot set, however many entries there are;
//! - **range lists**: entries with only a `>`/`>=`/`<`/`<=` bound are kept sorted by
//!   threshold; a binary search yields exactly those whose bound holds;
//! - **disjuncts**: an entry with none of those but an `or` (alone or as a conjunct) each
//!   of whose items pins fields to constants (`priority == "critical" or owner_id ==
//!   "u7"`) is filed under the pins of every item, in the same signatures; it is found
//!   when any item's constants are the event's, then decided by its whole condition;
//! - **always**: everything else (`not`, `!=`, an `or` with an unpinned item, no
//!   condition at all ...).
//!
//! Each entry sits on one access path; only a disjunct entry can be found more than once
//! for one event (under two items), and the caller drops the repeat. A candidate is
//! then decided by the conjuncts its path did not prove, compiled on their own ([`Check`]):
//! `owner_id == "u7" and subject contains "VPN"` found under `owner_id` only runs the
//! `contains`. The access paths must only ever drop an entry whose condition is certainly
//! false (see `predicates`), and only ever skip a conjunct they checked exactly.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::eval::{CompiledCondition, EvalInput, SlotLayout, compile};
use crate::typed::{LogicOp, TExpr, TExprKind, Type};
use crate::value::Value;

use super::fill::{LazySlots, TopFields};
use super::key::{FxHasher, Key, hash_probed};
use super::predicates::{Bound, Predicate, Threshold, indexable};

/// At most this many slots in one equality signature.
const MAX_SIGNATURE_WIDTH: usize = 3;
/// At most this many key tuples per entry (the product of its `in` list sizes).
const MAX_TUPLES: usize = 64;
/// At most this many items of an `or` are filed one by one (more: evaluated every time).
const MAX_DISJUNCTS: usize = 16;

/// An entry handed to [`Group::build`].
pub(crate) struct Member<K> {
    pub key: K,
    pub condition: Option<TExpr>,
}

/// An entry as the index keeps it.
pub(crate) struct Compiled<K> {
    pub key: K,
    /// The condition as given, for the reference evaluator (full scan).
    pub source: Option<TExpr>,
    /// The whole condition, for explanations (and candidates of the `always` path).
    pub condition: Option<CompiledCondition>,
    /// Every slot the condition reads.
    pub needs: Box<[u32]>,
    /// What a candidate found by the entry's access path still has to check.
    check: Check,
}

/// What is left to decide of a candidate once its access path found it.
enum Check {
    /// Nothing: the path checked every conjunct exactly (or there is no condition).
    Nothing,
    /// The whole condition: the path proved no conjunct.
    Whole,
    /// The conjuncts the path did not prove, compiled on their own (boxed: most entries
    /// have none).
    Rest(Box<Rest>),
}

/// The conjuncts a candidate's access path did not prove, and the slots they read.
struct Rest {
    condition: CompiledCondition,
    needs: Box<[u32]>,
}

/// The entries of one event type (and one record object).
pub(crate) struct Group<K> {
    pub layout: SlotLayout,
    /// The layout's fields of the record and the previous record, by name.
    pub top: TopFields,
    /// Sorted by key: entry ids order like keys.
    pub entries: Vec<Compiled<K>>,
    signatures: Vec<Signature>,
    ranges: Vec<RangeIndex>,
    /// Entries filed under the pins of each item of one of their `or`s.
    disjunct_entries: usize,
    always: Box<[u32]>,
    /// Every slot the `always` entries read: all of them are evaluated on every event,
    /// so their slots are read up front, not candidate by candidate.
    always_needs: Box<[u32]>,
}

/// How many entries each access path holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PathCounts {
    pub equality: usize,
    pub range: usize,
    pub disjunct: usize,
    pub always: usize,
    pub signatures: usize,
}

/// An entry's conjuncts with their indexable predicates (see `predicates::indexable`).
type Plan<'e> = Vec<(&'e TExpr, Option<Predicate>)>;

impl<K> Group<K> {
    /// Compiles `entries` (already sorted by key) over one layout and indexes them.
    pub(crate) fn build(mut layout: SlotLayout, entries: Vec<Member<K>>) -> Self {
        let mut compiled = Vec::with_capacity(entries.len());
        for m in entries {
            let (condition, needs) = match &m.condition {
                Some(expr) => {
                    let (c, needs) = compile_with_needs(expr, &mut layout);
                    (Some(c), needs)
                }
                None => (None, Box::default()),
            };
            compiled.push(Compiled {
                key: m.key,
                source: m.condition,
                condition,
                needs,
                check: Check::Nothing,
            });
        }
        let mut group = Group {
            layout,
            top: TopFields::of(&SlotLayout::new()),
            entries: Vec::new(),
            signatures: Vec::new(),
            ranges: Vec::new(),
            disjunct_entries: 0,
            always: Box::default(),
            always_needs: Box::default(),
        };
        group.index(&mut compiled);
        group.entries = compiled;
        // Last: indexing adds slots.
        group.top = TopFields::of(&group.layout);
        group
    }

    /// Puts every entry on one access path and works out what its candidates still check.
    fn index(&mut self, entries: &mut [Compiled<K>]) {
        let plans: Vec<Plan> = entries
            .iter()
            .map(|e| e.source.as_ref().map(indexable).unwrap_or_default())
            .collect();
        let cardinality = slot_cardinality(&plans, &mut self.layout);
        let mut signatures: HashMap<Box<[u32]>, usize> = HashMap::new();
        let mut always = Vec::new();
        let mut checks = Vec::with_capacity(plans.len());
        for (id, plan) in plans.iter().enumerate() {
            let pins = choose_pins(plan, &mut self.layout, &cardinality);
            let id = id as u32;
            let mut proven: Vec<usize> = Vec::new();
            if !pins.is_empty() {
                proven.extend(pins.iter().filter(|p| p.exact).map(|p| p.conjunct));
                self.file(&mut signatures, &pins, id).entries += 1;
            } else {
                let range = plan.iter().enumerate().find_map(|(i, (_, p))| match p {
                    Some(Predicate::Range { field, ty, bound }) => Some((i, field, ty, *bound)),
                    _ => None,
                });
                match range {
                    Some((conjunct, field, ty, bound)) => {
                        if bound.threshold.exact() {
                            proven.push(conjunct);
                        }
                        let slot = self.layout.slot_typed(field, ty) as u32;
                        self.range_index(slot).insert(bound, id);
                    }
                    None => match disjunct_pins(plan, &mut self.layout, &cardinality) {
                        // Nothing proven: a candidate is decided by its whole condition.
                        Some(items) => {
                            for pins in &items {
                                self.file(&mut signatures, pins, id);
                            }
                            self.disjunct_entries += 1;
                        }
                        None => always.push(id),
                    },
                }
            }
            checks.push(self.check(plan, &proven));
        }
        for (entry, check) in entries.iter_mut().zip(checks) {
            entry.check = match (&entry.condition, check) {
                (None, _) => Check::Nothing,
                (Some(_), check) => check,
            };
        }
        for r in &mut self.ranges {
            r.sort();
        }
        let mut needs: Vec<u32> = always
            .iter()
            .flat_map(|&id| entries[id as usize].needs.iter().copied())
            .collect();
        needs.sort_unstable();
        needs.dedup();
        self.always_needs = needs.into();
        self.always = always.into();
    }

    /// Files entry `id` under `pins` in the signature of their slots (made on first use);
    /// returns that signature.
    fn file(
        &mut self,
        signatures: &mut HashMap<Box<[u32]>, usize>,
        pins: &[Pin],
        id: u32,
    ) -> &mut Signature {
        let slots: Box<[u32]> = pins.iter().map(|p| p.slot).collect();
        let at = *signatures.entry(slots.clone()).or_insert_with(|| {
            self.signatures.push(Signature::new(slots));
            self.signatures.len() - 1
        });
        let signature = &mut self.signatures[at];
        signature.insert(pins, id);
        signature
    }

    /// What is left of `plan` once the conjuncts at `proven` are known to hold.
    fn check(&mut self, plan: &Plan, proven: &[usize]) -> Check {
        let rest: Vec<TExpr> = plan
            .iter()
            .enumerate()
            .filter(|(i, _)| !proven.contains(i))
            .map(|(_, (conjunct, _))| (*conjunct).clone())
            .collect();
        if rest.is_empty() {
            return Check::Nothing;
        }
        if rest.len() == plan.len() {
            return Check::Whole;
        }
        let (condition, needs) = compile_with_needs(&conjunction(rest), &mut self.layout);
        Check::Rest(Box::new(Rest { condition, needs }))
    }

    fn range_index(&mut self, slot: u32) -> &mut RangeIndex {
        match self.ranges.iter().position(|r| r.slot == slot) {
            Some(i) => &mut self.ranges[i],
            None => {
                self.ranges.push(RangeIndex::new(slot));
                self.ranges.last_mut().unwrap_or_else(|| unreachable!())
            }
        }
    }

    pub(crate) fn counts(&self) -> PathCounts {
        PathCounts {
            equality: self.signatures.iter().map(|s| s.entries).sum(),
            range: self.ranges.iter().map(RangeIndex::len).sum(),
            disjunct: self.disjunct_entries,
            always: self.always.len(),
            signatures: self.signatures.len(),
        }
    }

    /// Appends to `found` the id of every entry whose condition holds (unordered).
    pub(crate) fn matching<'a>(
        &self,
        input: &EvalInput<'a>,
        slots: &mut LazySlots<'_, 'a>,
        found: &mut Vec<u32>,
    ) {
        for sig in &self.signatures {
            for &id in sig.probe(input, slots) {
                self.decide(id, input, slots, found);
            }
        }
        for r in &self.ranges {
            for ids in r.probe(input, slots) {
                for &id in ids {
                    self.decide(id, input, slots, found);
                }
            }
        }
        slots.ensure_all(&self.always_needs, input);
        for &id in &self.always {
            let entry = &self.entries[id as usize];
            // `always` entries are decided by their whole condition (no path proved any
            // conjunct), their slots read above.
            let holds = match &entry.condition {
                None => true,
                Some(c) => c.eval(slots.values()),
            };
            if holds {
                found.push(id);
            }
        }
    }

    /// Decides candidate `id` by what its access path left to check.
    #[inline]
    fn decide<'a>(
        &self,
        id: u32,
        input: &EvalInput<'a>,
        slots: &mut LazySlots<'_, 'a>,
        found: &mut Vec<u32>,
    ) {
        let entry = &self.entries[id as usize];
        let (condition, needs) = match (&entry.check, &entry.condition) {
            (Check::Nothing, _) | (Check::Whole, None) => {
                found.push(id);
                return;
            }
            (Check::Whole, Some(c)) => (c, &entry.needs),
            (Check::Rest(rest), _) => (&rest.condition, &rest.needs),
        };
        slots.ensure_all(needs, input);
        if condition.eval(slots.values()) {
            found.push(id);
        }
    }
}

/// The `and` of `items` (one item stands alone).
fn conjunction(mut items: Vec<TExpr>) -> TExpr {
    if items.len() == 1 {
        return items.remove(0);
    }
    let span = items[0].span;
    TExpr {
        kind: TExprKind::Logic {
            op: LogicOp::And,
            items,
        },
        ty: Type::Bool,
        span,
    }
}

/// Compiles `expr` into the shared layout and lists the slots it reads. The slots are
/// learnt by compiling once more into an empty layout: that compile registers exactly the
/// fields the condition reads, whatever the shared layout held before.
fn compile_with_needs(expr: &TExpr, layout: &mut SlotLayout) -> (CompiledCondition, Box<[u32]>) {
    let mut own = SlotLayout::with_references(layout.references().clone());
    let _ = compile(expr, &mut own);
    let condition = compile(expr, layout);
    let needs = own
        .fields()
        .iter()
        .zip(own.types())
        .map(|(f, ty)| layout.slot_typed(f, ty) as u32)
        .collect();
    (condition, needs)
}

/// Distinct constants per slot over every equality predicate: a rough selectivity (a slot
/// compared with 500 different owner ids narrows more than one with 4 priorities).
fn slot_cardinality(plans: &[Plan], layout: &mut SlotLayout) -> HashMap<u32, usize> {
    let mut seen: HashSet<(u32, &Key)> = HashSet::new();
    let mut out: HashMap<u32, usize> = HashMap::new();
    for (_, p) in plans.iter().flatten() {
        if let Some(Predicate::OneOf {
            field, ty, keys, ..
        }) = p
        {
            let slot = layout.slot_typed(field, ty) as u32;
            for k in keys {
                if seen.insert((slot, k)) {
                    *out.entry(slot).or_default() += 1;
                }
            }
        }
    }
    out
}

/// One pinned slot of an entry: the keys it allows, the conjunct it comes from, and
/// whether that conjunct holds exactly when the slot holds one of the keys.
struct Pin {
    slot: u32,
    keys: Vec<Key>,
    conjunct: usize,
    exact: bool,
}

/// The slots (ascending) an entry is filed under: its most selective equality
/// predicates, one per slot, at most [`MAX_SIGNATURE_WIDTH`] and [`MAX_TUPLES`] key
/// tuples. Empty when it has none.
fn choose_pins(
    plan: &Plan,
    layout: &mut SlotLayout,
    cardinality: &HashMap<u32, usize>,
) -> Vec<Pin> {
    let mut options: Vec<Pin> = Vec::new();
    let mut seen_slots: HashSet<u32> = HashSet::new();
    for (conjunct, (_, p)) in plan.iter().enumerate() {
        if let Some(Predicate::OneOf {
            field,
            ty,
            keys,
            exact,
        }) = p
        {
            let slot = layout.slot_typed(field, ty) as u32;
            // A second predicate on the same slot is left to the evaluator.
            if seen_slots.insert(slot) {
                options.push(Pin {
                    slot,
                    keys: keys.clone(),
                    conjunct,
                    exact: *exact,
                });
            }
        }
    }
    options.sort_by_key(|p| {
        let distinct = cardinality.get(&p.slot).copied().unwrap_or(0);
        (p.keys.len(), std::cmp::Reverse(distinct), p.slot)
    });
    let mut pins: Vec<Pin> = Vec::new();
    let mut tuples = 1usize;
    for pin in options {
        if pins.len() == MAX_SIGNATURE_WIDTH {
            break;
        }
        if !pins.is_empty() && tuples.saturating_mul(pin.keys.len()) > MAX_TUPLES {
            continue;
        }
        tuples = tuples.saturating_mul(pin.keys.len());
        pins.push(pin);
    }
    pins.sort_by_key(|p| p.slot);
    pins
}

/// The pins of every item of the first `or` among the conjuncts of `plan` whose items
/// all have some (at most [`MAX_DISJUNCTS`] items); `None` when there is no such `or`.
/// When the condition holds, that `or` does, so one of its items does, and with it that
/// item's pins: the entry is found under one of them.
fn disjunct_pins(
    plan: &Plan,
    layout: &mut SlotLayout,
    cardinality: &HashMap<u32, usize>,
) -> Option<Vec<Vec<Pin>>> {
    plan.iter().find_map(|(conjunct, _)| {
        if !matches!(
            conjunct.kind,
            TExprKind::Logic {
                op: LogicOp::Or,
                ..
            }
        ) {
            return None;
        }
        let mut items = Vec::new();
        if !flatten_or(conjunct, &mut items) {
            return None;
        }
        items
            .into_iter()
            .map(|item| {
                let pins = choose_pins(&indexable(item), layout, cardinality);
                (!pins.is_empty()).then_some(pins)
            })
            .collect()
    })
}

/// The items of `e`'s `or`, nested `or`s included; false past [`MAX_DISJUNCTS`].
fn flatten_or<'e>(e: &'e TExpr, out: &mut Vec<&'e TExpr>) -> bool {
    match &e.kind {
        TExprKind::Logic {
            op: LogicOp::Or,
            items,
        } => items.iter().all(|item| flatten_or(item, out)),
        _ => {
            out.push(e);
            out.len() <= MAX_DISJUNCTS
        }
    }
}

// ---------------------------------------------------------------- equality signatures

/// Entries pinning the same slots, by the tuple of constants they pin them to.
struct Signature {
    slots: Box<[u32]>,
    /// Hash of the key tuple -> the tuples with that hash (collisions are compared).
    buckets: HashMap<u64, Vec<Bucket>, BuildHasherDefault<PassThrough>>,
    entries: usize,
}

struct Bucket {
    keys: Box<[Key]>,
    ids: Vec<u32>,
}

impl Signature {
    fn new(slots: Box<[u32]>) -> Self {
        Signature {
            slots,
            buckets: HashMap::default(),
            entries: 0,
        }
    }

    /// Files entry `id` under every tuple of its pinned keys (`pins` is in slot order).
    /// `entries` counts the entries filed here by their conjunction (the caller's count:
    /// a disjunct entry is counted apart).
    fn insert(&mut self, pins: &[Pin], id: u32) {
        let mut tuple: Vec<Key> = Vec::with_capacity(pins.len());
        self.insert_tuples(pins, &mut tuple, id);
    }

    fn insert_tuples(&mut self, rest: &[Pin], tuple: &mut Vec<Key>, id: u32) {
        let Some((pin, rest)) = rest.split_first() else {
            let mut h = FxHasher::default();
            tuple.iter().for_each(|k| k.hash_into(&mut h));
            let chain = self.buckets.entry(h.finish()).or_default();
            match chain.iter_mut().find(|b| *b.keys == **tuple) {
                Some(b) => b.ids.push(id),
                None => chain.push(Bucket {
                    keys: tuple.clone().into(),
                    ids: vec![id],
                }),
            }
            return;
        };
        for k in &pin.keys {
            tuple.push(k.clone());
            self.insert_tuples(rest, tuple, id);
            tuple.pop();
        }
    }

    /// The entries filed under the event's values of the signature's slots (at most one
    /// tuple of keys matches: distinct tuples never equal the same values).
    #[inline]
    fn probe<'a>(&self, input: &EvalInput<'a>, slots: &mut LazySlots<'_, 'a>) -> &[u32] {
        let mut h = FxHasher::default();
        for &s in &self.slots {
            slots.prepare(s as usize, input);
            hash_probed(&slots.probed(s as usize), &mut h);
        }
        let Some(chain) = self.buckets.get(&h.finish()) else {
            return &[];
        };
        chain
            .iter()
            .find(|b| {
                b.keys
                    .iter()
                    .zip(&self.slots)
                    .all(|(k, &s)| k.matches_probed(&slots.probed(s as usize)))
            })
            .map_or(&[], |b| &b.ids)
    }
}

/// The bucket map's keys are already Fx hashes: pass them through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

// ---------------------------------------------------------------- range lists

/// The range-indexed entries on one slot, per kind of threshold.
struct RangeIndex {
    slot: u32,
    numbers: Bounds<f64>,
    datetimes: Bounds<i64>,
    durations: Bounds<i64>,
    /// Bounds on the slot's datetime minus the event's clock (wide: never overflows).
    since_now: Bounds<i128>,
}

impl RangeIndex {
    fn new(slot: u32) -> Self {
        RangeIndex {
            slot,
            numbers: Bounds::default(),
            datetimes: Bounds::default(),
            durations: Bounds::default(),
            since_now: Bounds::default(),
        }
    }

    fn insert(&mut self, bound: Bound, id: u32) {
        match bound.threshold {
            Threshold::Number(c) => self.numbers.insert(c, bound, id),
            Threshold::DateTime(c) => self.datetimes.insert(c, bound, id),
            Threshold::Duration(c) => self.durations.insert(c, bound, id),
            Threshold::SinceNow(c) => self.since_now.insert(c as i128, bound, id),
        }
    }

    fn sort(&mut self) {
        self.numbers.sort();
        self.datetimes.sort();
        self.durations.sort();
        self.since_now.sort();
    }

    fn len(&self) -> usize {
        self.numbers.len() + self.datetimes.len() + self.durations.len() + self.since_now.len()
    }

    /// The entries whose bound holds for the event's value. A value of another kind
    /// (null, a string ...) satisfies no ordering comparison, so it yields none.
    #[inline]
    fn probe<'a>(&self, input: &EvalInput<'a>, slots: &mut LazySlots<'_, 'a>) -> [&[u32]; 4] {
        slots.ensure(self.slot as usize, input);
        match slots.get(self.slot as usize) {
            Value::Number(v) => with_none(self.numbers.holding(*v)),
            Value::DateTime(v) => {
                let [a, b] = self.datetimes.holding(*v);
                let [c, d] = self.since_now.holding(*v as i128 - input.now_ms as i128);
                [a, b, c, d]
            }
            Value::Duration(v) => with_none(self.durations.holding(*v)),
            _ => [&[]; 4],
        }
    }
}

fn with_none([a, b]: [&[u32]; 2]) -> [&[u32]; 4] {
    [a, b, &[], &[]]
}

/// Lower bounds (`f > c`, `f >= c`) ascending and upper bounds (`f < c`, `f <= c`)
/// descending, inclusive ones first among equal thresholds: the bounds that hold for a
/// value are a prefix of each list. The ids are kept apart, in the same order, so that a
/// probe hands out a slice of them.
struct Bounds<T> {
    lower: Vec<(T, bool, u32)>,
    upper: Vec<(T, bool, u32)>,
    lower_ids: Box<[u32]>,
    upper_ids: Box<[u32]>,
}

impl<T> Default for Bounds<T> {
    fn default() -> Self {
        Bounds {
            lower: Vec::new(),
            upper: Vec::new(),
            lower_ids: Box::default(),
            upper_ids: Box::default(),
        }
    }
}

impl<T: PartialOrd + Copy> Bounds<T> {
    fn insert(&mut self, c: T, bound: Bound, id: u32) {
        let list = if bound.lower {
            &mut self.lower
        } else {
            &mut self.upper
        };
        list.push((c, bound.inclusive, id));
    }

    fn sort(&mut self) {
        // Thresholds are never NaN, so the order is total.
        let order = |a: &T, b: &T| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
        self.lower
            .sort_by(|a, b| order(&a.0, &b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        self.upper
            .sort_by(|a, b| order(&b.0, &a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        self.lower_ids = self.lower.iter().map(|e| e.2).collect();
        self.upper_ids = self.upper.iter().map(|e| e.2).collect();
    }

    fn len(&self) -> usize {
        self.lower.len() + self.upper.len()
    }

    #[inline]
    fn holding(&self, v: T) -> [&[u32]; 2] {
        // `f > c` holds when c < v, `f >= c` also when c == v. A NaN value holds nothing.
        let lower = self
            .lower
            .partition_point(|(c, incl, _)| *c < v || (*incl && *c == v));
        let upper = self
            .upper
            .partition_point(|(c, incl, _)| *c > v || (*incl && *c == v));
        [&self.lower_ids[..lower], &self.upper_ids[..upper]]
    }
}
