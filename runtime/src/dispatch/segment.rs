//! One segment of the dispatch index: the automations of one workspace triggered by one
//! event type.
//!
//! A segment is a large compiled *base* plus a small compiled *delta* of the automations
//! changed since the base was built, and the ids of base entries those changes replaced
//! or removed. A change rebuilds only the delta (its size is bounded by
//! [`Segment::delta_limit`], about the square root of the base), so creating, editing or
//! pausing one automation costs in proportion to that bound, not to every automation of
//! the trigger. When the delta outgrows its bound the segment is compacted into a new
//! base: an O(n) build once every about √n changes. Dispatch asks both parts and merges
//! their answers in automation-id order, so the runs of an event are created in the
//! automations' creation order whichever part holds them.

use std::collections::HashSet;
use std::sync::Arc;

use automations_compiler::dispatch::{self, DispatchStats};
use automations_compiler::eval::{EvalInput, Explanation, ReferenceTargets};

use super::DispatchEntry;

/// The compiler's index keyed by entry position.
type Inner = dispatch::DispatchIndex<u32>;

/// Entries ordered by automation id with their compiled index (keys are positions).
struct Part {
    entries: Vec<DispatchEntry>,
    index: Inner,
}

impl Part {
    fn build(mut entries: Vec<DispatchEntry>, targets: Arc<dyn ReferenceTargets>) -> Part {
        entries.sort_by(|a, b| a.automation_id.cmp(&b.automation_id));
        let keyed = entries
            .iter()
            .enumerate()
            .map(|(i, e)| dispatch::DispatchEntry {
                key: i as u32,
                event: e.plan.trigger.clone(),
                object: e.plan.trigger_object().map(str::to_owned),
                condition: e.plan.condition.clone(),
            })
            .collect();
        let index = Inner::build_with_targets(keyed, targets);
        Part { entries, index }
    }

    fn empty(targets: Arc<dyn ReferenceTargets>) -> Part {
        Part::build(Vec::new(), targets)
    }
}

/// See the module doc. Keys address base entries as their position and delta entries as
/// the base's length plus their position.
pub(super) struct Segment {
    event: String,
    base: Arc<Part>,
    delta: Arc<Part>,
    /// Automation ids of base entries that no longer stand (replaced or removed).
    removed: Arc<HashSet<String>>,
    targets: Arc<dyn ReferenceTargets>,
}

impl Segment {
    pub(super) fn build(
        event: String,
        entries: Vec<DispatchEntry>,
        targets: Arc<dyn ReferenceTargets>,
    ) -> Segment {
        Segment {
            event,
            base: Arc::new(Part::build(entries, targets.clone())),
            delta: Arc::new(Part::empty(targets.clone())),
            removed: Arc::default(),
            targets,
        }
    }

    /// The delta may hold this many entries before the segment is compacted.
    fn delta_limit(&self) -> usize {
        (self.base.entries.len() as f64).sqrt().ceil().max(16.0) as usize
    }

    /// Whether automation `id` stands in this segment.
    pub(super) fn holds(&self, id: &str) -> bool {
        self.delta.entries.iter().any(|e| e.automation_id == id)
            || (!self.removed.contains(id)
                && self.base.entries.iter().any(|e| e.automation_id == id))
    }

    /// This segment with automation `id` replaced by `entry` (removed when `None`);
    /// `None` when nothing is left.
    pub(super) fn with(&self, id: &str, entry: Option<DispatchEntry>) -> Option<Segment> {
        let mut delta: Vec<DispatchEntry> = self
            .delta
            .entries
            .iter()
            .filter(|e| e.automation_id != id)
            .cloned()
            .collect();
        delta.extend(entry);
        let mut removed = self.removed.clone();
        if self.base.entries.iter().any(|e| e.automation_id == id) {
            Arc::make_mut(&mut removed).insert(id.to_string());
        }
        if delta.len() > self.delta_limit() || removed.len() > self.delta_limit() {
            let mut all: Vec<DispatchEntry> = self
                .base
                .entries
                .iter()
                .filter(|e| !removed.contains(&e.automation_id))
                .cloned()
                .collect();
            all.extend(delta);
            return (!all.is_empty())
                .then(|| Segment::build(self.event.clone(), all, self.targets.clone()));
        }
        let segment = Segment {
            event: self.event.clone(),
            base: self.base.clone(),
            delta: Arc::new(Part::build(delta, self.targets.clone())),
            removed,
            targets: self.targets.clone(),
        };
        (segment.len() > 0).then_some(segment)
    }

    pub(super) fn len(&self) -> usize {
        self.base.entries.len() - self.removed.len() + self.delta.entries.len()
    }

    /// Every standing entry, base first.
    pub(super) fn entries(&self) -> impl Iterator<Item = &DispatchEntry> + '_ {
        self.keys().map(|k| self.entry(k))
    }

    /// Every standing key, base first.
    pub(super) fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        let base = self.base.entries.len() as u32;
        let standing = (0..base).filter(|k| !self.removed.contains(&self.entry(*k).automation_id));
        standing.chain(base..base + self.delta.entries.len() as u32)
    }

    /// The entry of a key.
    pub(super) fn entry(&self, key: u32) -> &DispatchEntry {
        let base = self.base.entries.len();
        match (key as usize).checked_sub(base) {
            None => &self.base.entries[key as usize],
            Some(i) => &self.delta.entries[i],
        }
    }

    /// The standing entries whose condition holds, in automation-id order; `scan` asks
    /// the reference evaluator instead of the index (the oracle).
    pub(super) fn matches(&self, input: &EvalInput, scan: bool) -> Vec<&DispatchEntry> {
        let ask = |part: &Part| {
            if scan {
                part.index.full_scan(&self.event, input)
            } else {
                part.index.matches(&self.event, input)
            }
        };
        let mut out: Vec<&DispatchEntry> = ask(&self.base)
            .into_iter()
            .map(|k| &self.base.entries[k as usize])
            .filter(|e| !self.removed.contains(&e.automation_id))
            .collect();
        let delta = ask(&self.delta);
        if !delta.is_empty() {
            out.extend(delta.into_iter().map(|k| &self.delta.entries[k as usize]));
            out.sort_by(|a, b| a.automation_id.cmp(&b.automation_id));
        }
        out
    }

    /// Why the condition of `key` does or does not hold.
    pub(super) fn explain(&self, key: u32, input: &EvalInput) -> Option<Explanation> {
        let base = self.base.entries.len() as u32;
        match key.checked_sub(base) {
            None => self.base.index.explain(&key, input),
            Some(i) => self.delta.index.explain(&i, input),
        }
    }

    pub(super) fn add_stats(&self, s: &mut DispatchStats) {
        s.event_types += 1;
        for part in [&self.base, &self.delta] {
            let t = part.index.stats();
            s.entries += t.entries;
            s.equality_indexed += t.equality_indexed;
            s.range_indexed += t.range_indexed;
            s.disjunct_indexed += t.disjunct_indexed;
            s.always_evaluated += t.always_evaluated;
            s.equality_signatures += t.equality_signatures;
        }
    }
}
