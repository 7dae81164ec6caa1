//! The dispatch index (DESIGN §5, §13): which active automations an event triggers.
//!
//! Entries are grouped by exact event type (`case.created`). Each event type has ONE
//! [`SlotLayout`] shared by all its conditions, built with the schema (reference hops
//! follow the schema's targets), so a record is converted once per event and only the
//! slots some probe or candidate reads are filled. Within an event type, conditions are
//! indexed on their equality predicates (`f == c`, `f in [..]`, `f is null`, a bool field,
//! `changed(f, to: c)` inside a top-level `and`), failing those on one range predicate
//! (`f > c` ..., numbers, datetimes and durations), failing those under the equality
//! predicates of each item of an `or` (`priority == "critical" or owner_id == "u7"`); the
//! rest is evaluated on every event. Index candidates are then decided by the conjuncts
//! their access path did not check exactly, compiled on their own (nothing is left when
//! it checked them all), so 10,000 active automations cost about what the few that can
//! match cost. Probes read the record's text fields borrowed, without converting them
//! (see `fill`).
//!
//! A field read in different conversion kinds (a bare `changed(f)` reads `f` untyped,
//! `f > 5` as a number) gets one slot per kind in the shared layout, so the compiled
//! conditions see exactly the values the reference evaluator sees.
//!
//! [`DispatchIndex::full_scan`] answers the same question by running the reference
//! evaluator over every entry of the event type: the test oracle. The index must never
//! drop a match; when in doubt a condition goes to the always-evaluate list.
//!
//! The index is immutable once built (`Send + Sync`): build a new one off the hot path and
//! swap it in atomically (the runtime uses arc-swap). This module must never do I/O:
//! related records come through the caller's [`Resolver`](crate::eval::Resolver).

mod fill;
mod index;
mod key;
mod predicates;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash};
use std::sync::Arc;

use crate::eval::{
    Decision, EvalInput, Explanation, ReferenceTargets, References, SlotLayout, reference,
};
use crate::schema::Schema;
use crate::typed::TExpr;

use fill::{CachingResolver, LazySlots};
use index::{Group, Member};
use key::FxHasher;

/// One active automation as dispatch sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchEntry<K> {
    /// The caller's id for the automation (returned by [`DispatchIndex::matches`]).
    /// Keys should be unique: a key given twice matches once per entry, and
    /// [`DispatchIndex::explain`] explains the first.
    pub key: K,
    /// The exact event type that triggers it, e.g. `case.created`.
    pub event: String,
    /// The triggering record's object (`case`); `None` for `custom.*` events. Reference
    /// hops in the condition are followed from this object through the schema.
    pub object: Option<String>,
    /// The checked condition (`CheckedAutomation::condition`); `None` always matches.
    pub condition: Option<TExpr>,
}

/// How the entries of an index are spread over its access paths (for logs and benches).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchStats {
    pub entries: usize,
    pub event_types: usize,
    /// Entries filed under equality constants.
    pub equality_indexed: usize,
    /// Entries filed under one range bound.
    pub range_indexed: usize,
    /// Entries filed under each item of an `or` whose items all pin fields.
    pub disjunct_indexed: usize,
    /// Entries evaluated on every event of their type (no indexable predicate).
    pub always_evaluated: usize,
    /// Distinct sets of equality slots: one hash probe each per event.
    pub equality_signatures: usize,
}

/// (event type, record object): entries sharing one are compiled together.
type GroupKey = (String, Option<String>);

/// The immutable dispatch index. `K` is the caller's automation id.
pub struct DispatchIndex<K> {
    groups: Vec<Group<K>>,
    /// Event type -> its groups (one per record object; normally exactly one). Fx-hashed:
    /// looked up on every event.
    by_event: HashMap<String, Vec<usize>, BuildHasherDefault<FxHasher>>,
    /// Key -> (group, entry) for [`DispatchIndex::explain`].
    by_key: HashMap<K, (usize, usize)>,
    len: usize,
}

impl<K: Clone + Eq + Hash + Ord> DispatchIndex<K> {
    /// Compiles and indexes `entries`. Costly (every condition is compiled): call it off
    /// the hot path when automations change, then swap the result in.
    pub fn build(entries: Vec<DispatchEntry<K>>, schema: Arc<Schema>) -> Self {
        Self::build_with_targets(entries, schema)
    }

    /// [`Self::build`] following reference hops by `targets` (the runtime's own view of
    /// the schema) instead of a compiler [`Schema`].
    pub fn build_with_targets(
        entries: Vec<DispatchEntry<K>>,
        targets: Arc<dyn ReferenceTargets>,
    ) -> Self {
        let len = entries.len();
        let mut grouped: HashMap<GroupKey, Vec<(K, Option<TExpr>)>> = HashMap::new();
        for e in entries {
            grouped
                .entry((e.event, e.object))
                .or_default()
                .push((e.key, e.condition));
        }
        let mut keys: Vec<GroupKey> = grouped.keys().cloned().collect();
        keys.sort();
        let mut index = DispatchIndex {
            groups: Vec::with_capacity(keys.len()),
            by_event: HashMap::default(),
            by_key: HashMap::with_capacity(len),
            len,
        };
        for (event, object) in keys {
            let mut members = grouped
                .remove(&(event.clone(), object.clone()))
                .unwrap_or_default();
            // Entry ids follow key order, so sorting ids sorts keys.
            members.sort_by(|a, b| a.0.cmp(&b.0));
            let references = match &object {
                Some(o) => References::new(o.clone(), targets.clone()),
                None => References::convention(None),
            };
            let members = members
                .into_iter()
                .map(|(key, condition)| Member { key, condition })
                .collect();
            let group = Group::build(SlotLayout::with_references(references), members);
            let g = index.groups.len();
            for (i, e) in group.entries.iter().enumerate() {
                index.by_key.entry(e.key.clone()).or_insert((g, i));
            }
            index.groups.push(group);
            index.by_event.entry(event).or_default().push(g);
        }
        index
    }

    /// Every entry of `event_type` whose condition holds for `input`, sorted by key.
    /// Uses the index: only candidates the index cannot rule out are evaluated.
    pub fn matches(&self, event_type: &str, input: &EvalInput) -> Vec<K> {
        let Some(groups) = self.by_event.get(event_type) else {
            return Vec::new();
        };
        let resolver = CachingResolver::new(input.resolver);
        let input = EvalInput {
            resolver: &resolver,
            ..*input
        };
        // Room for the handful of matches a selective event has, without regrowing.
        let mut found: Vec<u32> = Vec::with_capacity(32);
        let mut out: Vec<K> = Vec::new();
        for &g in groups {
            let group = &self.groups[g];
            let mut slots = LazySlots::new(&group.layout, &group.top);
            found.clear();
            group.matching(&input, &mut slots, &mut found);
            // Entry ids order like keys; candidates come per access path, unordered.
            sort_ids(&mut found, group.entries.len());
            out.extend(found.iter().map(|&i| group.entries[i as usize].key.clone()));
        }
        if groups.len() > 1 {
            out.sort();
        }
        out
    }

    /// The test oracle: every entry of `event_type` checked with the reference evaluator
    /// (no index, no slots), sorted by key. Slow by design; must equal [`Self::matches`].
    pub fn full_scan(&self, event_type: &str, input: &EvalInput) -> Vec<K> {
        let Some(groups) = self.by_event.get(event_type) else {
            return Vec::new();
        };
        let mut out: Vec<K> = Vec::new();
        for &g in groups {
            let group = &self.groups[g];
            let references = group.layout.references();
            for e in &group.entries {
                let holds = match &e.source {
                    None => true,
                    Some(expr) => reference::evaluate_bool(expr, input, references),
                };
                if holds {
                    out.push(e.key.clone());
                }
            }
        }
        out.sort();
        out
    }

    /// Why the condition of `key` does or does not hold for `input` (run history,
    /// `automations test`). An entry without a condition explains as true with no
    /// clauses. `None` when the key is not in the index.
    pub fn explain(&self, key: &K, input: &EvalInput) -> Option<Explanation> {
        let &(g, i) = self.by_key.get(key)?;
        let group = &self.groups[g];
        let entry = &group.entries[i];
        let Some(condition) = &entry.condition else {
            return Some(Explanation::no_condition(Decision::AllTrue));
        };
        let resolver = CachingResolver::new(input.resolver);
        let input = EvalInput {
            resolver: &resolver,
            ..*input
        };
        let mut slots = LazySlots::new(&group.layout, &group.top);
        slots.ensure_all(&entry.needs, &input);
        Some(condition.explain(slots.values()))
    }

    /// Every key of `event_type`, in key order within each record object (the automation
    /// log lists those whose condition did not hold).
    pub fn keys_of(&self, event_type: &str) -> impl Iterator<Item = &K> + '_ {
        self.by_event
            .get(event_type)
            .into_iter()
            .flatten()
            .flat_map(|&g| self.groups[g].entries.iter().map(|e| &e.key))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether any entry is triggered by `event_type`.
    pub fn has_event(&self, event_type: &str) -> bool {
        self.by_event.contains_key(event_type)
    }

    /// The event types that have at least one entry, sorted.
    pub fn event_types(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.by_event.keys().map(String::as_str).collect();
        out.sort();
        out
    }

    /// How the entries are spread over the access paths.
    pub fn stats(&self) -> DispatchStats {
        let mut s = DispatchStats {
            entries: self.len,
            event_types: self.by_event.len(),
            ..DispatchStats::default()
        };
        for g in &self.groups {
            let c = g.counts();
            s.equality_indexed += c.equality;
            s.range_indexed += c.range;
            s.disjunct_indexed += c.disjunct;
            s.always_evaluated += c.always;
            s.equality_signatures += c.signatures;
        }
        s
    }
}

/// Sorts entry ids below `entries` and drops repeats (a disjunct entry found under two
/// items of its `or`): a comparison sort (about `n log n`) for the few matches of a
/// selective event, one bit per entry when that is cheaper (about the matches plus
/// `entries / 64` words).
fn sort_ids(ids: &mut Vec<u32>, entries: usize) {
    let n = ids.len();
    if n <= 32 || n * n.ilog2() as usize <= entries / 64 {
        ids.sort_unstable();
        ids.dedup();
        return;
    }
    let mut words = vec![0u64; entries.div_ceil(64)];
    for &id in ids.iter() {
        words[id as usize / 64] |= 1 << (id % 64);
    }
    ids.clear();
    for (w, &bits) in words.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            ids.push(w as u32 * 64 + bits.trailing_zeros());
            bits &= bits - 1;
        }
    }
}

impl<K> std::fmt::Debug for DispatchIndex<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DispatchIndex")
            .field("len", &self.len)
            .field("event_types", &self.by_event.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::sort_ids;

    #[test]
    fn ids_come_out_sorted_by_either_way() {
        for count in [0, 5, 32, 33, 200, 1_000] {
            // Distinct ids below 1,000 in a scrambled order (7 is coprime with 1,000).
            let mut ids: Vec<u32> = (0..count).map(|i| (i * 7 + 3) % 1_000).collect();
            let mut expected = ids.clone();
            expected.sort_unstable();
            sort_ids(&mut ids, 1_000);
            assert_eq!(ids, expected, "{count} ids");
        }
    }
}
