//! Accepting events and dispatching them: an event is stored (idempotently, by workspace +
//! id) and the runs it triggers are created in the same transaction, so an accepted event
//! is never lost and never runs an automation twice. The loop guard (DESIGN §5) decides
//! here whether a triggered run starts or fails with `loop_detected`.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use super::Engine;
use super::context::event_context;
use crate::dispatch::{DispatchEntry, DispatchIndex, DispatchInput};
use crate::error::{Result, RuntimeError};
use crate::expr::{EvalContext, MissRecorder};
use crate::model::*;
use crate::record_log::{Considered, Outcome};
use crate::store::{Store, StoreTx};

/// Reference hops are at most this deep in practice; a bound keeps a pathological chain
/// of ids from looping (the last round then evaluates with what is loaded).
const MAX_HOP_ROUNDS: usize = 8;

/// What the caller of [`Engine::accept_in_tx`] knows of the records its events are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subjects {
    /// Nothing: the loop guard counts each record's earlier runs in the store.
    Any,
    /// Each event is the creation of a record whose id this transaction generated: no
    /// earlier transaction can have started a run on it, so the runs of the loop guard's
    /// window are the ones this dispatch starts (one statement less per run).
    NewRecords,
}

/// An event from outside (`POST /api/v1/events`).
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    /// The caller's id, the idempotency key; generated when absent.
    pub id: Option<String>,
    /// `custom.<name>`.
    pub event_type: String,
    /// Optional record the event is about; its live values are what conditions see.
    pub object: Option<String>,
    pub record_id: Option<String>,
    pub data: Value,
}

/// What happened to one accepted event.
#[derive(Debug, Clone, Serialize)]
pub struct Accepted {
    pub event_id: String,
    /// True when the id was seen before: nothing new was created.
    pub duplicate: bool,
    pub run_ids: Vec<String>,
}

impl<S: Store> Engine<S> {
    /// Accepts one custom event (idempotent by id) and creates its runs.
    pub async fn ingest_event(&self, ws: &str, event: NewEvent) -> Result<Accepted> {
        Ok(self.ingest_events(ws, vec![event]).await?.remove(0))
    }

    /// Accepts a batch of custom events in one transaction (group commit).
    pub async fn ingest_events(&self, ws: &str, events: Vec<NewEvent>) -> Result<Vec<Accepted>> {
        let now = Utc::now();
        let mut rows = Vec::with_capacity(events.len());
        for e in events {
            if !e.event_type.starts_with("custom.") || e.event_type.len() <= "custom.".len() {
                return Err(RuntimeError::BadRequest(format!(
                    "event type {:?} must be custom.<name> (record events come from record writes)",
                    e.event_type
                )));
            }
            if e.object.is_some() != e.record_id.is_some() {
                return Err(RuntimeError::BadRequest(
                    "object and record_id go together".into(),
                ));
            }
            rows.push(Event {
                workspace_id: ws.to_string(),
                id: e.id.unwrap_or_else(|| new_id("evt")),
                event_type: e.event_type,
                object: e.object,
                record_id: e.record_id,
                payload: e.data,
                causation: Vec::new(),
                created_at: now,
            });
        }
        self.submit_events(rows).await
    }

    /// Stores events (one statement for all of them) and creates the runs each new one
    /// triggers, inside `tx`. An event already stored (or repeated earlier in `events`) is
    /// a duplicate and triggers nothing.
    pub(crate) async fn accept_all_in_tx(
        &self,
        tx: &mut S::Tx,
        events: &[Event],
    ) -> Result<Vec<Accepted>> {
        self.accept_in_tx(tx, events, Subjects::Any).await
    }

    /// [`Engine::accept_all_in_tx`] for events whose records are described by `subjects`.
    pub(crate) async fn accept_in_tx(
        &self,
        tx: &mut S::Tx,
        events: &[Event],
        subjects: Subjects,
    ) -> Result<Vec<Accepted>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let inserted = tx.insert_events(events).await?;
        let mut out = Vec::with_capacity(events.len());
        for (event, new) in events.iter().zip(inserted) {
            let run_ids = if new {
                self.dispatch_in_tx(tx, event, subjects).await?
            } else {
                Vec::new()
            };
            out.push(Accepted {
                event_id: event.id.clone(),
                duplicate: !new,
                run_ids,
            });
        }
        Ok(out)
    }

    async fn dispatch_in_tx(
        &self,
        tx: &mut S::Tx,
        event: &Event,
        subjects: Subjects,
    ) -> Result<Vec<String>> {
        let index = self.inner.index.load_full();
        let log = self.logs_event(event);
        let concerned = if log {
            index.considers(&event.workspace_id, &event.event_type)
        } else {
            index.handles(&event.workspace_id, &event.event_type)
        };
        if !concerned {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let mut ctx = event_context(
            event,
            now.timestamp_millis(),
            self.references(&event.workspace_id, event.object.as_deref()),
        );
        if event.event_type.starts_with("custom.")
            && let (Some(o), Some(id)) = (&event.object, &event.record_id)
            && let Some(r) = tx.record(&event.workspace_id, o, id).await?
        {
            ctx.record = serde_json::Value::Object(r.to_json());
        }
        let matched = self
            .match_loading_related(tx, &index, event, &mut ctx)
            .await?;
        let mut run_ids = Vec::new();
        let mut ran = Vec::new();
        // Runs this event started so far, by automation (what the rate cap counts of a
        // record no earlier transaction knew).
        let mut started_here: HashMap<String, i64> = HashMap::new();
        for entry in matched {
            let earlier = match subjects {
                Subjects::Any => None,
                Subjects::NewRecords => Some(*started_here.get(&entry.automation_id).unwrap_or(&0)),
            };
            let loop_error = self.loop_check(tx, &entry, event, earlier).await?;
            *started_here.entry(entry.automation_id.clone()).or_default() += 1;
            let run = new_run(&entry, event, loop_error);
            let inserted = tx.insert_run(&run).await?;
            if log {
                ran.push(Considered {
                    automation_id: entry.automation_id.clone(),
                    name: entry.plan.name.clone(),
                    version: entry.version,
                    outcome: if run.error.is_some() {
                        Outcome::LoopDetected
                    } else {
                        Outcome::Matched
                    },
                    dry_run: entry.dry_run,
                    run_id: inserted.then(|| run.id.clone()),
                    explanation: None,
                    reason: None,
                    error: run.error.clone(),
                });
            }
            if inserted {
                run_ids.push(run.id);
            }
        }
        if log {
            self.log_dispatch(tx, &index, event, &mut ctx, ran).await?;
        }
        Ok(run_ids)
    }

    /// Matches the event, loading the related records the candidate conditions read: the
    /// index asks only for what its candidates need, so each round notes the records it
    /// missed, loads them through `tx`, and matches again (one round per reference hop).
    async fn match_loading_related(
        &self,
        tx: &mut S::Tx,
        index: &DispatchIndex,
        event: &Event,
        ctx: &mut EvalContext,
    ) -> Result<Vec<DispatchEntry>> {
        let mut tried: HashSet<(String, String)> = HashSet::new();
        for _ in 0..MAX_HOP_ROUNDS {
            let recorder = MissRecorder {
                related: &ctx.related,
                tried: &tried,
                missed: Default::default(),
            };
            let input = DispatchInput {
                workspace_id: &event.workspace_id,
                event_type: &event.event_type,
                ctx,
            };
            let matched: Vec<DispatchEntry> = index
                .matches_with(&input, &recorder)
                .into_iter()
                .cloned()
                .collect();
            let missed = recorder.missed.into_inner();
            if missed.is_empty() {
                return Ok(matched);
            }
            for (object, id) in missed {
                if let Some(r) = tx.record(&event.workspace_id, &object, &id).await? {
                    ctx.related
                        .insert((object.clone(), id.clone()), Value::Object(r.to_json()));
                }
                tried.insert((object, id));
            }
        }
        let input = DispatchInput {
            workspace_id: &event.workspace_id,
            event_type: &event.event_type,
            ctx,
        };
        Ok(index.matches(&input).into_iter().cloned().collect())
    }

    /// `Some(message)` when starting this run would continue a loop. `earlier_on_record`:
    /// the runs of this automation on the event's record, when the caller knows them
    /// (a record created in this transaction), else they are counted in the store.
    async fn loop_check(
        &self,
        tx: &mut S::Tx,
        entry: &DispatchEntry,
        event: &Event,
        earlier_on_record: Option<i64>,
    ) -> Result<Option<String>> {
        let guard = &self.inner.config.loop_guard;
        let chain = &event.causation;
        let path = || {
            chain
                .iter()
                .map(|l| l.automation_id.as_str())
                .collect::<Vec<_>>()
                .join(" -> ")
        };
        if chain.len() > guard.max_depth {
            return Ok(Some(format!(
                "loop_detected: causation chain depth {} exceeds {} ({} -> {})",
                chain.len(),
                guard.max_depth,
                path(),
                entry.automation_id
            )));
        }
        let (Some(object), Some(record_id)) = (&event.object, &event.record_id) else {
            return Ok(None);
        };
        let same = |l: &CausationLink| {
            l.automation_id == entry.automation_id
                && l.object.as_deref() == Some(object.as_str())
                && l.record_id.as_deref() == Some(record_id.as_str())
        };
        if chain.iter().any(same) {
            return Ok(Some(format!(
                "loop_detected: automation {} would re-trigger itself on {object} {record_id} (chain: {} -> {})",
                entry.automation_id,
                path(),
                entry.automation_id
            )));
        }
        if let Some((cap, window)) = guard.rate_cap {
            let since = event.created_at - chrono::Duration::from_std(window).unwrap_or_default();
            let n = match earlier_on_record {
                Some(n) => n,
                None => {
                    tx.count_runs_on_record(
                        &event.workspace_id,
                        &entry.automation_id,
                        object,
                        record_id,
                        since,
                    )
                    .await?
                }
            };
            if n >= cap {
                return Ok(Some(format!(
                    "loop_detected: automation {} ran {n} times on {object} {record_id} within {}s (cap {cap})",
                    entry.automation_id,
                    window.as_secs()
                )));
            }
        }
        Ok(None)
    }
}

fn new_run(entry: &DispatchEntry, event: &Event, loop_error: Option<String>) -> Run {
    let now = Utc::now();
    let failed = loop_error.is_some();
    Run {
        id: new_id("run"),
        workspace_id: event.workspace_id.clone(),
        automation_id: entry.automation_id.clone(),
        version: entry.version,
        event_id: event.id.clone(),
        object: event.object.clone(),
        record_id: event.record_id.clone(),
        status: if failed {
            RunStatus::Failed
        } else {
            RunStatus::Queued
        },
        dry_run: entry.dry_run,
        pc: 0,
        state: RunState::default(),
        error: loop_error,
        error_code: failed.then_some(RunErrorCode::LoopDetected),
        created_at: now,
        started_at: failed.then_some(now),
        finished_at: failed.then_some(now),
        duration_ms: failed.then_some(0),
        steps: Vec::new(),
    }
}
