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
use automations_compiler::eval::{ReferenceTargets, Resolver};

use crate::expr::EvalContext;
use crate::plan::Plan;

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

/// The immutable dispatch index (see the module doc).
#[derive(Default)]
pub struct DispatchIndex {
    entries: Vec<DispatchEntry>,
    by_workspace: HashMap<String, Inner>,
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
        }
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
