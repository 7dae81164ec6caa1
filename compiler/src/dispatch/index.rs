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
//! - **always**: everything else (top-level `or`, `not`, `!=`, no condition at all ...).
//!
//! Each entry sits on exactly one access path, so candidates never repeat. A candidate is
//! then decided by its full compiled condition. The access paths must only ever drop an
//! entry whose condition is certainly false (see `predicates`).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::eval::{CompiledCondition, EvalInput, SlotLayout, compile};
use crate::typed::TExpr;
use crate::value::Value;

use super::fill::LazySlots;
use super::key::{FxHasher, Key, hash_value};
use super::predicates::{Bound, Predicate, Threshold, indexable};

/// At most this many slots in one equality signature.
const MAX_SIGNATURE_WIDTH: usize = 3;
/// At most this many key tuples per entry (the product of its `in` list sizes).
const MAX_TUPLES: usize = 64;

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
    pub condition: Option<CompiledCondition>,
    /// Every slot the condition reads.
    pub needs: Box<[u32]>,
    /// The access path alone decides the condition: every conjunct is an exact predicate
    /// the path checked, so a candidate is a match without evaluation.
    pub exact: bool,
}

/// The entries of one event type (and one record object).
pub(crate) struct Group<K> {
    pub layout: SlotLayout,
    /// Sorted by key: entry ids order like keys.
    pub entries: Vec<Compiled<K>>,
    signatures: Vec<Signature>,
    ranges: Vec<RangeIndex>,
    always: Box<[u32]>,
}

/// How many entries each access path holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PathCounts {
    pub equality: usize,
    pub range: usize,
    pub always: usize,
    pub signatures: usize,
}

impl<K> Group<K> {
    /// Compiles `entries` (already sorted by key) over one layout and indexes them.
    pub(crate) fn build(mut layout: SlotLayout, entries: Vec<Member<K>>) -> Self {
        let mut compiled = Vec::with_capacity(entries.len());
        let mut plans = Vec::with_capacity(entries.len());
        for m in entries {
            let (condition, needs, preds) = match &m.condition {
                Some(expr) => {
                    let (c, needs) = compile_with_needs(expr, &mut layout);
                    (Some(c), needs, indexable(expr))
                }
                None => (None, Box::default(), (Vec::new(), false)),
            };
            plans.push(preds);
            compiled.push(Compiled {
                key: m.key,
                source: m.condition,
                condition,
                needs,
                exact: false,
            });
        }
        let mut group = Group {
            layout,
            entries: compiled,
            signatures: Vec::new(),
            ranges: Vec::new(),
            always: Box::default(),
        };
        group.index(plans);
        group
    }

    /// Puts every entry on one access path.
    fn index(&mut self, plans: Vec<(Vec<Predicate>, bool)>) {
        let preds_only: Vec<&Vec<Predicate>> = plans.iter().map(|(p, _)| p).collect();
        let cardinality = slot_cardinality(&preds_only, &mut self.layout);
        let mut signatures: HashMap<Box<[u32]>, usize> = HashMap::new();
        let mut always = Vec::new();
        for (id, (preds, complete)) in plans.iter().enumerate() {
            let pins = choose_pins(preds, &mut self.layout, &cardinality);
            self.entries[id].exact = *complete && path_is_exact(preds, pins.len());
            let id = id as u32;
            if !pins.is_empty() {
                let slots: Box<[u32]> = pins.iter().map(|(s, _)| *s).collect();
                let at = *signatures.entry(slots.clone()).or_insert_with(|| {
                    self.signatures.push(Signature::new(slots));
                    self.signatures.len() - 1
                });
                self.signatures[at].insert(&pins, id);
                continue;
            }
            let range = preds.iter().find_map(|p| match p {
                Predicate::Range { field, ty, bound } => Some((field, ty, *bound)),
                Predicate::OneOf { .. } => None,
            });
            match range {
                Some((field, ty, bound)) => {
                    let slot = self.layout.slot_typed(field, ty) as u32;
                    self.range_index(slot).insert(bound, id);
                }
                None => always.push(id),
            }
        }
        for r in &mut self.ranges {
            r.sort();
        }
        self.always = always.into();
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
            always: self.always.len(),
            signatures: self.signatures.len(),
        }
    }

    /// Marks in `hits` (one bit per entry id) every entry whose condition holds.
    pub(crate) fn matching(&self, input: &EvalInput, slots: &mut LazySlots, hits: &mut Hits) {
        hits.reset(self.entries.len());
        let mut candidates: Vec<u32> = Vec::new();
        for sig in &self.signatures {
            sig.probe(input, slots, &mut candidates);
        }
        for r in &self.ranges {
            r.probe(input, slots, &mut candidates);
        }
        candidates.extend_from_slice(&self.always);
        for id in candidates {
            let entry = &self.entries[id as usize];
            if entry.exact {
                hits.set(id);
                continue;
            }
            let holds = match &entry.condition {
                None => true,
                Some(c) => {
                    slots.ensure_all(&entry.needs, input);
                    c.eval(slots.values())
                }
            };
            if holds {
                hits.set(id);
            }
        }
    }
}

/// A bit per entry id: setting bits and reading them back in order sorts the matches
/// (ids follow key order) without a comparison sort.
#[derive(Default)]
pub(crate) struct Hits {
    words: Vec<u64>,
}

impl Hits {
    fn reset(&mut self, entries: usize) {
        self.words.clear();
        self.words.resize(entries.div_ceil(64), 0);
    }

    #[inline]
    fn set(&mut self, id: u32) {
        self.words[id as usize / 64] |= 1 << (id % 64);
    }

    /// The ids set, ascending.
    pub(crate) fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &bits)| {
            let mut bits = bits;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                Some(w as u32 * 64 + b)
            })
        })
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

/// Whether the access path an entry gets checks every one of its predicates exactly:
/// all equality predicates pinned (`pinned` of them) and no range, or a single range.
fn path_is_exact(preds: &[Predicate], pinned: usize) -> bool {
    let all_exact = preds.iter().all(|p| match p {
        Predicate::OneOf { exact, .. } => *exact,
        Predicate::Range { .. } => true,
    });
    let ranges = preds
        .iter()
        .filter(|p| matches!(p, Predicate::Range { .. }))
        .count();
    all_exact
        && !preds.is_empty()
        && ((ranges == 0 && pinned == preds.len()) || (pinned == 0 && preds.len() == 1))
}

/// Distinct constants per slot over every equality predicate: a rough selectivity (a slot
/// compared with 500 different owner ids narrows more than one with 4 priorities).
fn slot_cardinality(plans: &[&Vec<Predicate>], layout: &mut SlotLayout) -> HashMap<u32, usize> {
    let mut seen: HashSet<(u32, &Key)> = HashSet::new();
    let mut out: HashMap<u32, usize> = HashMap::new();
    for p in plans.iter().copied().flatten() {
        if let Predicate::OneOf {
            field, ty, keys, ..
        } = p
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

/// The slots (ascending) and allowed keys an entry is filed under: its most selective
/// equality predicates, one per slot, at most [`MAX_SIGNATURE_WIDTH`] and
/// [`MAX_TUPLES`] key tuples. Empty when it has none.
fn choose_pins(
    preds: &[Predicate],
    layout: &mut SlotLayout,
    cardinality: &HashMap<u32, usize>,
) -> Vec<(u32, Vec<Key>)> {
    let mut options: Vec<(u32, &Vec<Key>)> = Vec::new();
    let mut seen_slots: HashSet<u32> = HashSet::new();
    for p in preds {
        if let Predicate::OneOf {
            field, ty, keys, ..
        } = p
        {
            let slot = layout.slot_typed(field, ty) as u32;
            // A second predicate on the same slot is left to the evaluator.
            if seen_slots.insert(slot) {
                options.push((slot, keys));
            }
        }
    }
    options.sort_by_key(|(slot, keys)| {
        let distinct = cardinality.get(slot).copied().unwrap_or(0);
        (keys.len(), std::cmp::Reverse(distinct), *slot)
    });
    let mut pins: Vec<(u32, Vec<Key>)> = Vec::new();
    let mut tuples = 1usize;
    for (slot, keys) in options {
        if pins.len() == MAX_SIGNATURE_WIDTH {
            break;
        }
        if !pins.is_empty() && tuples.saturating_mul(keys.len()) > MAX_TUPLES {
            continue;
        }
        tuples = tuples.saturating_mul(keys.len());
        pins.push((slot, keys.clone()));
    }
    pins.sort_by_key(|(slot, _)| *slot);
    pins
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
    fn insert(&mut self, pins: &[(u32, Vec<Key>)], id: u32) {
        self.entries += 1;
        let mut tuple: Vec<Key> = Vec::with_capacity(pins.len());
        self.insert_tuples(pins, &mut tuple, id);
    }

    fn insert_tuples(&mut self, rest: &[(u32, Vec<Key>)], tuple: &mut Vec<Key>, id: u32) {
        let Some(((_, keys), rest)) = rest.split_first() else {
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
        for k in keys {
            tuple.push(k.clone());
            self.insert_tuples(rest, tuple, id);
            tuple.pop();
        }
    }

    /// Appends the entries filed under the event's values of the signature's slots.
    #[inline]
    fn probe(&self, input: &EvalInput, slots: &mut LazySlots, out: &mut Vec<u32>) {
        let mut h = FxHasher::default();
        for &s in &self.slots {
            slots.ensure(s as usize, input);
            hash_value(slots.get(s as usize), &mut h);
        }
        let Some(chain) = self.buckets.get(&h.finish()) else {
            return;
        };
        for b in chain {
            let hit = b
                .keys
                .iter()
                .zip(&self.slots)
                .all(|(k, &s)| k.matches(slots.get(s as usize)));
            if hit {
                out.extend_from_slice(&b.ids);
            }
        }
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
}

impl RangeIndex {
    fn new(slot: u32) -> Self {
        RangeIndex {
            slot,
            numbers: Bounds::default(),
            datetimes: Bounds::default(),
            durations: Bounds::default(),
        }
    }

    fn insert(&mut self, bound: Bound, id: u32) {
        match bound.threshold {
            Threshold::Number(c) => self.numbers.insert(c, bound, id),
            Threshold::DateTime(c) => self.datetimes.insert(c, bound, id),
            Threshold::Duration(c) => self.durations.insert(c, bound, id),
        }
    }

    fn sort(&mut self) {
        self.numbers.sort();
        self.datetimes.sort();
        self.durations.sort();
    }

    fn len(&self) -> usize {
        self.numbers.len() + self.datetimes.len() + self.durations.len()
    }

    /// Appends the entries whose bound holds for the event's value. A value of another
    /// kind (null, a string ...) satisfies no ordering comparison, so it yields none.
    #[inline]
    fn probe(&self, input: &EvalInput, slots: &mut LazySlots, out: &mut Vec<u32>) {
        slots.ensure(self.slot as usize, input);
        match slots.get(self.slot as usize) {
            Value::Number(v) => self.numbers.holding(*v, out),
            Value::DateTime(v) => self.datetimes.holding(*v, out),
            Value::Duration(v) => self.durations.holding(*v, out),
            _ => {}
        }
    }
}

/// Lower bounds (`f > c`, `f >= c`) ascending and upper bounds (`f < c`, `f <= c`)
/// descending, inclusive ones first among equal thresholds: the bounds that hold for a
/// value are a prefix of each list.
struct Bounds<T> {
    lower: Vec<(T, bool, u32)>,
    upper: Vec<(T, bool, u32)>,
}

impl<T> Default for Bounds<T> {
    fn default() -> Self {
        Bounds {
            lower: Vec::new(),
            upper: Vec::new(),
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
    }

    fn len(&self) -> usize {
        self.lower.len() + self.upper.len()
    }

    #[inline]
    fn holding(&self, v: T, out: &mut Vec<u32>) {
        // `f > c` holds when c < v, `f >= c` also when c == v. A NaN value holds nothing.
        let n = self
            .lower
            .partition_point(|(c, incl, _)| *c < v || (*incl && *c == v));
        out.extend(self.lower[..n].iter().map(|e| e.2));
        let n = self
            .upper
            .partition_point(|(c, incl, _)| *c > v || (*incl && *c == v));
        out.extend(self.upper[..n].iter().map(|e| e.2));
    }
}
