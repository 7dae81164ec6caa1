//! Dispatch: which active automations an event triggers (DESIGN §5).
//!
//! The index itself is the compiler's [`automations_compiler::dispatch::DispatchIndex`]
//! (event type -> equality/range access paths -> compiled conditions, with a full-scan
//! oracle). This module only adds what the runtime needs around it: one compiler index
//! per workspace and event type (a segment), and the runtime's view of each automation
//! (id, version, plan, dry-run flag), addressed by the index key (a position in its
//! segment).
//!
//! The index is immutable: the engine makes a new one off the hot path and swaps it
//! atomically (arc-swap) when automations change. A change to one automation rebuilds
//! only the segments of its triggers; the rest are shared with the previous index.
//! Nothing here touches storage: related records come through the caller's [`Resolver`].

use std::collections::HashMap;
use std::sync::Arc;

use automations_compiler::dispatch::DispatchStats;
use automations_compiler::eval::{Explanation, ReferenceTargets, Resolver};

use crate::expr::EvalContext;
use crate::plan::Plan;
use crate::record_log::Excluded;

/// One automation version that can be triggered.
#[derive(Debug, Clone)]
pub struct DispatchEntry {
    pub workspace_id: String,
    pub automation_id: String,
    pub version: i64,
    pub plan: Arc<Plan>,
    /// Sandbox automation of a workspace whose sandbox is on: runs in dry-run.
    pub dry_run: bool,
}

/// What dispatch needs to know about an event: where and what, and the condition context.
pub struct DispatchInput<'a> {
    pub workspace_id: &'a str,
    pub event_type: &'a str,
    pub ctx: &'a EvalContext,
}

mod segment;

use segment::Segment;

/// An automation with a trigger that dispatch leaves out, and why (the automation log
/// reports it for the events of its trigger).
#[derive(Debug, Clone)]
pub struct ExcludedEntry {
    pub workspace_id: String,
    pub automation_id: String,
    pub name: String,
    pub version: i64,
    pub event: String,
    pub reason: Excluded,
}

/// Where one automation stands in dispatch, for [`DispatchIndex::with_automation`].
pub enum Slot {
    /// Triggered by its event.
    Dispatched(DispatchEntry),
    /// Left out, and the automation log says why.
    Excluded(ExcludedEntry),
    /// Neither (deleted, or a definition that no longer checks).
    Absent,
}

/// One workspace: a segment per event type, and per event type the automations of that
/// trigger left out of dispatch (shared between indexes like the segments).
#[derive(Clone, Default)]
struct Workspace {
    segments: HashMap<String, Arc<Segment>>,
    excluded: HashMap<String, Arc<Vec<ExcludedEntry>>>,
}

impl Workspace {
    fn is_empty(&self) -> bool {
        self.segments.is_empty() && self.excluded.is_empty()
    }

    /// Rebuilds the segments holding `automation_id` or triggered by `entry` without the
    /// old entry and with the new one.
    fn replace_dispatched(
        &mut self,
        automation_id: &str,
        entry: Option<DispatchEntry>,
        targets: &Arc<dyn ReferenceTargets>,
    ) {
        let mut touched: Vec<String> = self
            .segments
            .iter()
            .filter(|(_, seg)| seg.holds(automation_id))
            .map(|(event, _)| event.clone())
            .collect();
        if let Some(e) = &entry
            && !touched.contains(&e.plan.trigger)
        {
            touched.push(e.plan.trigger.clone());
        }
        let mut entry = entry;
        for event in touched {
            let new = entry.take_if(|e| e.plan.trigger == event);
            let next = match self.segments.get(&event) {
                Some(seg) => seg.with(automation_id, new),
                None => new.map(|e| Segment::build(event.clone(), vec![e], targets.clone())),
            };
            match next {
                Some(seg) => self.segments.insert(event, Arc::new(seg)),
                None => self.segments.remove(&event),
            };
        }
    }

    /// Drops `automation_id` from the excluded lists and adds `entry`'s.
    fn replace_excluded(&mut self, automation_id: &str, entry: Option<ExcludedEntry>) {
        let touched: Vec<String> = self
            .excluded
            .iter()
            .filter(|(_, list)| list.iter().any(|e| e.automation_id == automation_id))
            .map(|(event, _)| event.clone())
            .collect();
        for event in touched {
            let list: Vec<ExcludedEntry> = self.excluded[&event]
                .iter()
                .filter(|e| e.automation_id != automation_id)
                .cloned()
                .collect();
            if list.is_empty() {
                self.excluded.remove(&event);
            } else {
                self.excluded.insert(event, Arc::new(list));
            }
        }
        if let Some(e) = entry {
            let list = self.excluded.entry(e.event.clone()).or_default();
            let mut next = (**list).clone();
            next.push(e);
            next.sort_by(|a, b| a.automation_id.cmp(&b.automation_id));
            *list = Arc::new(next);
        }
    }
}

/// The immutable dispatch index (see the module doc). Segments are shared between
/// successive indexes: a change to one automation rebuilds only the segments of its old
/// and new trigger ([`DispatchIndex::with_automation`]), never the others.
#[derive(Default)]
pub struct DispatchIndex {
    by_workspace: HashMap<String, Arc<Workspace>>,
}

impl DispatchIndex {
    /// Builds the index (compiles every condition); `targets` says how reference fields
    /// are followed.
    pub fn build(
        entries: impl IntoIterator<Item = DispatchEntry>,
        targets: Arc<dyn ReferenceTargets>,
    ) -> DispatchIndex {
        DispatchIndex::build_per_workspace(entries, |_| targets.clone())
    }

    /// [`DispatchIndex::build`] where each workspace follows references by its own schema
    /// (`targets_of(workspace_id)`).
    pub fn build_per_workspace(
        entries: impl IntoIterator<Item = DispatchEntry>,
        targets_of: impl Fn(&str) -> Arc<dyn ReferenceTargets>,
    ) -> DispatchIndex {
        let mut grouped: HashMap<String, HashMap<String, Vec<DispatchEntry>>> = HashMap::new();
        for e in entries {
            grouped
                .entry(e.workspace_id.clone())
                .or_default()
                .entry(e.plan.trigger.clone())
                .or_default()
                .push(e);
        }
        let by_workspace = grouped
            .into_iter()
            .map(|(ws, events)| {
                let targets = targets_of(&ws);
                let segments = events
                    .into_iter()
                    .map(|(event, es)| {
                        let segment = Segment::build(event.clone(), es, targets.clone());
                        (event, Arc::new(segment))
                    })
                    .collect();
                let workspace = Workspace {
                    segments,
                    excluded: HashMap::new(),
                };
                (ws, Arc::new(workspace))
            })
            .collect();
        DispatchIndex { by_workspace }
    }

    /// Adds the automations left out of dispatch (for the automation log only).
    pub fn with_excluded(mut self, excluded: impl IntoIterator<Item = ExcludedEntry>) -> Self {
        let mut grouped: HashMap<String, HashMap<String, Vec<ExcludedEntry>>> = HashMap::new();
        for e in excluded {
            grouped
                .entry(e.workspace_id.clone())
                .or_default()
                .entry(e.event.clone())
                .or_default()
                .push(e);
        }
        for (ws, events) in grouped {
            let workspace = Arc::make_mut(self.by_workspace.entry(ws).or_default());
            for (event, mut list) in events {
                list.sort_by(|a, b| a.automation_id.cmp(&b.automation_id));
                workspace.excluded.insert(event, Arc::new(list));
            }
        }
        self
    }

    /// This index with automation `automation_id` of `workspace_id` in its new `slot`:
    /// only the segments of its old and new trigger are rebuilt, everything else is
    /// shared. Costs in proportion to the automations on those triggers.
    pub fn with_automation(
        &self,
        workspace_id: &str,
        automation_id: &str,
        slot: Slot,
        targets: Arc<dyn ReferenceTargets>,
    ) -> DispatchIndex {
        let mut workspace: Workspace = self
            .by_workspace
            .get(workspace_id)
            .map(|w| (**w).clone())
            .unwrap_or_default();
        let (dispatched, excluded) = match slot {
            Slot::Dispatched(e) => (Some(e), None),
            Slot::Excluded(e) => (None, Some(e)),
            Slot::Absent => (None, None),
        };
        workspace.replace_dispatched(automation_id, dispatched, &targets);
        workspace.replace_excluded(automation_id, excluded);
        let mut by_workspace = self.by_workspace.clone();
        if workspace.is_empty() {
            by_workspace.remove(workspace_id);
        } else {
            by_workspace.insert(workspace_id.to_string(), Arc::new(workspace));
        }
        DispatchIndex { by_workspace }
    }

    /// The automations of the event type that dispatch leaves out, and why.
    pub fn excluded(&self, workspace_id: &str, event_type: &str) -> &[ExcludedEntry] {
        self.by_workspace
            .get(workspace_id)
            .and_then(|w| w.excluded.get(event_type))
            .map_or(&[], |l| l.as_slice())
    }

    /// Whether an event of this type concerns any automation of the workspace, dispatched
    /// or left out (the automation log is written for those).
    pub fn considers(&self, workspace_id: &str, event_type: &str) -> bool {
        self.handles(workspace_id, event_type)
            || !self.excluded(workspace_id, event_type).is_empty()
    }

    /// Keys of every dispatched automation of the event type (matched or not), for
    /// [`Self::entry`] and [`Self::explain_with`] with the same workspace and event type.
    pub fn keys_of(&self, workspace_id: &str, event_type: &str) -> Vec<u32> {
        self.segment(workspace_id, event_type)
            .map(|s| s.keys().collect())
            .unwrap_or_default()
    }

    /// The entry of a key from [`Self::keys_of`] (same workspace and event type).
    pub fn entry(&self, workspace_id: &str, event_type: &str, key: u32) -> &DispatchEntry {
        let segment = self.segment(workspace_id, event_type);
        segment.expect("a key of keys_of").entry(key)
    }

    /// Why the condition of `key` does or does not hold for the event, related records
    /// from `resolver`.
    pub fn explain_with(
        &self,
        input: &DispatchInput<'_>,
        key: u32,
        resolver: &dyn Resolver,
    ) -> Option<Explanation> {
        let seg = self.segment(input.workspace_id, input.event_type)?;
        input.ctx.with_resolver(resolver, |i| seg.explain(key, i))
    }

    pub fn len(&self) -> usize {
        self.segments().map(Segment::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn segments(&self) -> impl Iterator<Item = &Segment> + '_ {
        self.by_workspace
            .values()
            .flat_map(|w| w.segments.values().map(|s| &**s))
    }

    /// Every entry (by workspace and trigger, in no particular order between those).
    pub fn entries(&self) -> impl Iterator<Item = &DispatchEntry> + '_ {
        self.segments().flat_map(Segment::entries)
    }

    /// The entries of `workspace_id` triggered by `event_type`.
    pub fn triggered_by(&self, workspace_id: &str, event_type: &str) -> Vec<&DispatchEntry> {
        self.segment(workspace_id, event_type)
            .map(|s| s.entries().collect())
            .unwrap_or_default()
    }

    /// The event types some automation of `workspace_id` is triggered by.
    pub fn triggers(&self, workspace_id: &str) -> Vec<&str> {
        self.by_workspace
            .get(workspace_id)
            .map(|w| w.segments.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn segment(&self, workspace_id: &str, event_type: &str) -> Option<&Segment> {
        self.by_workspace
            .get(workspace_id)?
            .segments
            .get(event_type)
            .map(|s| &**s)
    }

    /// Whether any automation of the workspace is triggered by the event type.
    pub fn handles(&self, workspace_id: &str, event_type: &str) -> bool {
        self.segment(workspace_id, event_type).is_some()
    }

    /// The automations the event triggers, related records read from the context's
    /// pre-loaded ones.
    pub fn matches<'a>(&'a self, input: &DispatchInput<'_>) -> Vec<&'a DispatchEntry> {
        input
            .ctx
            .with_input(|i| self.matches_with(input, &EvalInputResolver(i.resolver)))
    }

    /// [`Self::matches`] with related records from `resolver` (the engine records which
    /// ones the candidates ask for, loads them, and asks again).
    pub fn matches_with<'a>(
        &'a self,
        input: &DispatchInput<'_>,
        resolver: &dyn Resolver,
    ) -> Vec<&'a DispatchEntry> {
        let Some(seg) = self.segment(input.workspace_id, input.event_type) else {
            return Vec::new();
        };
        input.ctx.with_resolver(resolver, |i| seg.matches(i, false))
    }

    /// The oracle: every automation of the event type, each condition evaluated by the
    /// tree-walking reference evaluator.
    pub fn full_scan<'a>(&'a self, input: &DispatchInput<'_>) -> Vec<&'a DispatchEntry> {
        let Some(seg) = self.segment(input.workspace_id, input.event_type) else {
            return Vec::new();
        };
        input.ctx.with_input(|i| seg.matches(i, true))
    }

    /// How the entries are spread over the index's access paths (all workspaces).
    pub fn stats(&self) -> DispatchStats {
        let mut s = DispatchStats::default();
        for seg in self.segments() {
            seg.add_stats(&mut s);
        }
        s
    }
}

/// Borrows a resolver from an evaluation input (lifetimes only).
struct EvalInputResolver<'a>(&'a dyn Resolver);

impl Resolver for EvalInputResolver<'_> {
    fn related(&self, object: &str, id: &str) -> Option<serde_json::Value> {
        self.0.related(object, id)
    }
}
