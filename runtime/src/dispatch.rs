//! Dispatch: which active automations an event triggers (DESIGN §5).
//!
//! The index itself is the compiler's [`automations_compiler::dispatch::DispatchIndex`]
//! (event type -> equality/range access paths -> compiled conditions, with a full-scan
//! oracle). This module only adds what the runtime needs around it: one compiler index
//! per workspace, and the runtime's view of each automation (id, version, plan, dry-run
//! flag), addressed by the index key (a position in [`DispatchIndex::entries`]).
//!
//! The index is immutable: the engine rebuilds it off the hot path and swaps it atomically
//! (arc-swap) when automations change. Nothing here touches storage: related records come
//! through the caller's [`Resolver`].

use std::collections::HashMap;
use std::sync::Arc;

use automations_compiler::dispatch::{self, DispatchStats};
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

/// The compiler's index keyed by entry position, one per workspace.
type Inner = dispatch::DispatchIndex<u32>;

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

/// The immutable dispatch index (see the module doc).
#[derive(Default)]
pub struct DispatchIndex {
    entries: Vec<DispatchEntry>,
    by_workspace: HashMap<String, Inner>,
    /// (workspace, event type) -> the automations of that trigger left out of dispatch.
    excluded: HashMap<(String, String), Vec<ExcludedEntry>>,
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
        let entries: Vec<DispatchEntry> = entries.into_iter().collect();
        let mut per_ws: HashMap<String, Vec<dispatch::DispatchEntry<u32>>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            per_ws
                .entry(e.workspace_id.clone())
                .or_default()
                .push(dispatch::DispatchEntry {
                    key: i as u32,
                    event: e.plan.trigger.clone(),
                    object: e.plan.trigger_object().map(str::to_owned),
                    condition: e.plan.condition.clone(),
                });
        }
        let by_workspace = per_ws
            .into_iter()
            .map(|(ws, es)| {
                let targets = targets_of(&ws);
                (ws, Inner::build_with_targets(es, targets))
            })
            .collect();
        DispatchIndex {
            entries,
            by_workspace,
            excluded: HashMap::new(),
        }
    }

    /// Adds the automations left out of dispatch (for the automation log only).
    pub fn with_excluded(mut self, excluded: impl IntoIterator<Item = ExcludedEntry>) -> Self {
        for e in excluded {
            self.excluded
                .entry((e.workspace_id.clone(), e.event.clone()))
                .or_default()
                .push(e);
        }
        self
    }

    /// The automations of the event type that dispatch leaves out, and why.
    pub fn excluded(&self, workspace_id: &str, event_type: &str) -> &[ExcludedEntry] {
        // A borrowed key would need a second map shape; the look-up is off the common path
        // (only when the automation log is on and the event type has exclusions).
        if self.excluded.is_empty() {
            return &[];
        }
        self.excluded
            .get(&(workspace_id.to_string(), event_type.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether an event of this type concerns any automation of the workspace, dispatched
    /// or left out (the automation log is written for those).
    pub fn considers(&self, workspace_id: &str, event_type: &str) -> bool {
        self.handles(workspace_id, event_type)
            || !self.excluded(workspace_id, event_type).is_empty()
    }

    /// Keys of every dispatched automation of the event type (matched or not).
    pub fn keys_of(&self, workspace_id: &str, event_type: &str) -> Vec<u32> {
        self.by_workspace
            .get(workspace_id)
            .map(|i| i.keys_of(event_type).copied().collect())
            .unwrap_or_default()
    }

    /// The entry of a key from [`Self::keys_of`].
    pub fn entry(&self, key: u32) -> &DispatchEntry {
        &self.entries[key as usize]
    }

    /// Why the condition of `key` does or does not hold for the event, related records
    /// from `resolver`.
    pub fn explain_with(
        &self,
        input: &DispatchInput<'_>,
        key: u32,
        resolver: &dyn Resolver,
    ) -> Option<Explanation> {
        let index = self.by_workspace.get(input.workspace_id)?;
        input
            .ctx
            .with_resolver(resolver, |i| index.explain(&key, i))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> &[DispatchEntry] {
        &self.entries
    }

    /// Whether any automation of the workspace is triggered by the event type.
    pub fn handles(&self, workspace_id: &str, event_type: &str) -> bool {
        self.by_workspace
            .get(workspace_id)
            .is_some_and(|i| i.has_event(event_type))
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
        let Some(index) = self.by_workspace.get(input.workspace_id) else {
            return Vec::new();
        };
        let keys = input
            .ctx
            .with_resolver(resolver, |i| index.matches(input.event_type, i));
        keys.into_iter()
            .map(|k| &self.entries[k as usize])
            .collect()
    }

    /// The oracle: every automation of the event type, each condition evaluated by the
    /// tree-walking reference evaluator.
    pub fn full_scan<'a>(&'a self, input: &DispatchInput<'_>) -> Vec<&'a DispatchEntry> {
        let Some(index) = self.by_workspace.get(input.workspace_id) else {
            return Vec::new();
        };
        let keys = input
            .ctx
            .with_input(|i| index.full_scan(input.event_type, i));
        keys.into_iter()
            .map(|k| &self.entries[k as usize])
            .collect()
    }

    /// How the entries are spread over the index's access paths (all workspaces).
    pub fn stats(&self) -> DispatchStats {
        let mut s = DispatchStats::default();
        for i in self.by_workspace.values() {
            let t = i.stats();
            s.entries += t.entries;
            s.event_types += t.event_types;
            s.equality_indexed += t.equality_indexed;
            s.range_indexed += t.range_indexed;
            s.always_evaluated += t.always_evaluated;
            s.equality_signatures += t.equality_signatures;
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
