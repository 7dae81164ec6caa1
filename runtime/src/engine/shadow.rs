//! Sandbox copies of live automations and the shadow diff (issue 23).
//!
//! A copy is a new sandbox automation with the live one's current definition that shadows
//! it (`shadows_id`), so that promoting it makes a new version of the live automation and,
//! while the workspace's sandbox is on, it receives the same live events in dry-run. The
//! diff compares the two automations' recorded runs of each event since the copy was made
//! (`crate::shadow_diff::compare`); it reads, never runs anything.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::Engine;
use super::automations::{VersionChange, new_automation, reject_archived};
use crate::error::{Result, RuntimeError};
use crate::hooks::Warnings;
use crate::model::*;
use crate::shadow_diff::{
    DiffTotals, Difference, EventDiff, MAX_RUNS_COMPARED, RunRef, ShadowDiff, compare,
};
use crate::store::{Store, StoreTx};

/// Runs read per page while scanning one side.
const SCAN_PAGE: u32 = 500;

impl<S: Store> Engine<S> {
    /// Copies live automation `id` to the sandbox: a new sandbox automation (version 1)
    /// with its current definition and status, shadowing it. Audited as a create by
    /// `actor` with `copied_from`. A sandbox or archived automation is a Conflict.
    pub async fn copy_to_sandbox_by(
        &self,
        ws: &str,
        id: &str,
        actor: &Actor,
    ) -> Result<(Automation, Warnings)> {
        let live = self.automation(ws, id).await?;
        if live.environment != EnvironmentKind::Live {
            return Err(RuntimeError::Conflict(format!(
                "automation {id} is a sandbox automation; copy its live automation instead"
            )));
        }
        reject_archived(&live)?;
        let mut definition = self.automation_definition(ws, id).await?.definition;
        if let Value::Object(m) = &mut definition {
            m.insert("environment".into(), json!("sandbox"));
            // Status changes make no version: the definition's own may be older.
            m.insert("status".into(), json!(live.status.as_str()));
        }
        let compiled = self.inner.compiler.compile(ws, &definition)?;
        let mut copy = new_automation(ws, &compiled, crate::model::stored_now());
        copy.shadows_id = Some(live.id.clone());
        let mut tx = self.inner.store.begin().await?;
        // Read again in the transaction: an archive racing the copy wins or loses whole.
        let current = tx
            .automation(ws, id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("automation", id))?;
        reject_archived(&current)?;
        tx.insert_automation(&copy).await?;
        let mut details = Map::new();
        details.insert("copied_from".into(), json!(live.id));
        details.insert("copied_version".into(), json!(live.current_version));
        let change = VersionChange {
            action: AuditAction::AutomationCreate,
            actor,
            details,
        };
        self.commit_version(tx, copy, definition, compiled, change)
            .await
    }

    /// Where live automation and sandbox copy differ, per event since the copy was made:
    /// `id` names either (a live one: its newest sandbox copy that is not archived). One
    /// page of differing events, newest first (cursor: the last event id); totals over all.
    pub async fn shadow_diff(
        &self,
        ws: &str,
        id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<ShadowDiff> {
        let (live, sandbox) = self.shadow_pair(ws, id).await?;
        let since = sandbox.created_at.max(live.created_at);
        let (live_runs, cut_l) = self.runs_since(ws, &live.id, since).await?;
        let (sandbox_runs, cut_s) = self.runs_since(ws, &sandbox.id, since).await?;
        let mut events: HashMap<String, (Option<Run>, Option<Run>)> = HashMap::new();
        for r in live_runs {
            let key = r.event_id.clone();
            events.entry(key).or_default().0 = Some(r);
        }
        for r in sandbox_runs {
            let key = r.event_id.clone();
            events.entry(key).or_default().1 = Some(r);
        }
        let mut totals = DiffTotals::default();
        let mut differing = Vec::new();
        for (event_id, (l, s)) in events {
            totals.events += 1;
            let (l, s) = match (l, s) {
                (Some(l), Some(s)) => (
                    Some(self.run_with_steps(ws, l).await?),
                    Some(self.run_with_steps(ws, s).await?),
                ),
                other => other,
            };
            let differences = compare(l.as_ref(), s.as_ref());
            if differences.is_empty() {
                totals.same += 1;
                continue;
            }
            count(&mut totals, &differences);
            let first = l.as_ref().or(s.as_ref()).expect("one side made a run");
            let at = [&l, &s]
                .iter()
                .filter_map(|r| r.as_ref().map(|r| r.created_at))
                .min()
                .unwrap_or(first.created_at);
            differing.push(EventDiff {
                event_id,
                object: first.object.clone(),
                record_id: first.record_id.clone(),
                at,
                live: l.as_ref().map(RunRef::of),
                sandbox: s.as_ref().map(RunRef::of),
                differences,
            });
        }
        differing.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.event_id.cmp(&a.event_id)));
        let start = match cursor {
            None => 0,
            Some(c) => {
                differing
                    .iter()
                    .position(|d| d.event_id == c)
                    .ok_or_else(|| RuntimeError::not_found("cursor", c))?
                    + 1
            }
        };
        let limit = limit.clamp(1, 500) as usize;
        let mut items: Vec<EventDiff> = differing.into_iter().skip(start).collect();
        let next_cursor = (items.len() > limit).then(|| items[limit - 1].event_id.clone());
        items.truncate(limit);
        Ok(ShadowDiff {
            live_id: live.id,
            sandbox_id: sandbox.id,
            since,
            items,
            next_cursor,
            totals,
            truncated: cut_l || cut_s,
        })
    }

    /// (live, sandbox copy) for `id`, which names either.
    async fn shadow_pair(&self, ws: &str, id: &str) -> Result<(Automation, Automation)> {
        let a = self.automation(ws, id).await?;
        if a.environment == EnvironmentKind::Sandbox {
            let Some(live_id) = a.shadows_id.clone() else {
                return Err(RuntimeError::Conflict(format!(
                    "sandbox automation {id} shadows no live automation: promote it once, or copy a live automation to the sandbox"
                )));
            };
            let live = self.automation(ws, &live_id).await?;
            return Ok((live, a));
        }
        // Newest first: the most recent copy is the one being tried.
        let copy = self
            .inner
            .store
            .automations(Some(ws))
            .await?
            .into_iter()
            .find(|s| {
                s.shadows_id.as_deref() == Some(id) && s.status != AutomationStatus::Archived
            })
            .ok_or_else(|| {
                RuntimeError::Conflict(format!(
                    "automation {id} has no sandbox copy: POST /api/v1/automations/{id}/sandbox-copy makes one"
                ))
            })?;
        Ok((a, copy))
    }

    /// The runs of one automation created after `since`, newest first, at most
    /// [`MAX_RUNS_COMPARED`] (true when more were left out). Times are stored to the
    /// millisecond, so a run stamped in the copy's own millisecond may come from an event
    /// accepted before the copy: those are left out rather than reported as differences.
    async fn runs_since(
        &self,
        ws: &str,
        automation_id: &str,
        since: chrono::DateTime<Utc>,
    ) -> Result<(Vec<Run>, bool)> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let filter = RunFilter {
                automation_id: Some(automation_id.to_string()),
                limit: SCAN_PAGE,
                cursor: cursor.take(),
                ..RunFilter::default()
            };
            let page = self.inner.store.runs(ws, &filter).await?;
            for run in page.items {
                if run.created_at <= since {
                    return Ok((out, false));
                }
                if out.len() == MAX_RUNS_COMPARED {
                    return Ok((out, true));
                }
                out.push(run);
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok((out, false)),
            }
        }
    }

    /// The run with its steps (lists carry none).
    async fn run_with_steps(&self, ws: &str, run: Run) -> Result<Run> {
        Ok(self.inner.store.run(ws, &run.id).await?.unwrap_or(run))
    }
}

fn count(totals: &mut DiffTotals, differences: &[Difference]) {
    totals.differing += 1;
    for d in differences {
        match d {
            Difference::Matched { live: true, .. } => totals.matched_live_only += 1,
            Difference::Matched { .. } => totals.matched_sandbox_only += 1,
            Difference::Step { .. } => totals.steps += 1,
            Difference::Field { .. } => totals.fields += 1,
            Difference::Recipient { .. } => totals.recipients += 1,
        }
    }
}
