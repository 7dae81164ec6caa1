//! The automation log per record (see `crate::record_log`): the entry of one dispatched
//! event, built from what dispatch decided and queued in the dispatch's own transaction;
//! reading a record's log; the retention sweep.
//!
//! Cost on the hot path: nothing when the event names no record or no automation has its
//! trigger; otherwise one explanation per automation whose condition did not hold (at most
//! `AutomationLogConfig::max_explained`) and a share of two statements per transaction.
//! Explanations are computed here, at dispatch, so they carry the values the event had.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;

use super::Engine;
use crate::dispatch::{DispatchIndex, DispatchInput};
use crate::error::Result;
use crate::expr::{EvalContext, MissRecorder};
use crate::model::*;
use crate::record_log::{AutomationLogEntry, Considered, Outcome};
use crate::store::{Store, StoreTx};

/// Explaining may load related records the matching never asked for; one round per hop.
const MAX_HOP_ROUNDS: usize = 8;

/// How often the timer worker sweeps the log by age.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// Rows deleted per sweep statement, so one sweep never holds the writer for long.
const SWEEP_BATCH: u32 = 1_000;

impl<S: Store> Engine<S> {
    /// Whether `event` gets a log entry: the log is on and the event names a record.
    pub(super) fn logs_event(&self, event: &Event) -> bool {
        self.inner.config.automation_log.per_record > 0
            && event.object.is_some()
            && event.record_id.is_some()
    }

    /// Queues the log entry of `event`: `ran` (matched, loop guard included, in run order),
    /// then the automations of its trigger left out of dispatch, then those whose
    /// condition did not hold, each with its explanation.
    pub(super) async fn log_dispatch(
        &self,
        tx: &mut S::Tx,
        index: &DispatchIndex,
        event: &Event,
        ctx: &mut EvalContext,
        ran: Vec<Considered>,
    ) -> Result<()> {
        let (Some(object), Some(record_id)) = (&event.object, &event.record_id) else {
            return Ok(());
        };
        let config = &self.inner.config.automation_log;
        let ws = event.workspace_id.as_str();
        let mut automations = ran;
        let excluded = index.excluded(ws, &event.event_type);
        let excluded_listed = excluded.len().min(config.max_explained);
        for x in &excluded[..excluded_listed] {
            automations.push(Considered {
                automation_id: x.automation_id.clone(),
                name: x.name.clone(),
                version: x.version,
                outcome: Outcome::Excluded,
                dry_run: false,
                run_id: None,
                explanation: None,
                reason: Some(x.reason),
                error: None,
            });
        }
        let matched: HashSet<&str> = automations
            .iter()
            .map(|c| c.automation_id.as_str())
            .collect();
        let unmatched: Vec<u32> = index
            .keys_of(ws, &event.event_type)
            .into_iter()
            .filter(|k| {
                let e = index.entry(ws, &event.event_type, *k);
                !matched.contains(e.automation_id.as_str())
            })
            .collect();
        let listed = unmatched.len().min(config.max_explained);
        let explanations = self
            .explain_loading_related(tx, index, event, ctx, &unmatched[..listed])
            .await?;
        for (key, explanation) in unmatched[..listed].iter().zip(explanations) {
            let e = index.entry(ws, &event.event_type, *key);
            automations.push(Considered {
                automation_id: e.automation_id.clone(),
                name: e.plan.name.clone(),
                version: e.version,
                outcome: Outcome::NotMatched,
                dry_run: e.dry_run,
                run_id: None,
                explanation,
                reason: None,
                error: None,
            });
        }
        tx.queue_automation_log(
            AutomationLogEntry {
                workspace_id: ws.to_string(),
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                object: object.clone(),
                record_id: record_id.clone(),
                created_at: event.created_at,
                depth: event.depth(),
                automations,
                not_listed: (unmatched.len() - listed) + (excluded.len() - excluded_listed),
            },
            config.per_record,
        );
        Ok(())
    }

    /// The explanation of each key, loading through `tx` the related records the
    /// conditions read that matching did not load (as `match_loading_related` does).
    async fn explain_loading_related(
        &self,
        tx: &mut S::Tx,
        index: &DispatchIndex,
        event: &Event,
        ctx: &mut EvalContext,
        keys: &[u32],
    ) -> Result<Vec<Option<Value>>> {
        let mut tried: HashSet<(String, String)> = HashSet::new();
        for round in 0..=MAX_HOP_ROUNDS {
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
            let out: Vec<Option<Value>> = keys
                .iter()
                .map(|k| {
                    index
                        .explain_with(&input, *k, &recorder)
                        .and_then(|x| serde_json::to_value(x).ok())
                })
                .collect();
            let missed = recorder.missed.into_inner();
            if missed.is_empty() || round == MAX_HOP_ROUNDS {
                return Ok(out);
            }
            for (object, id) in missed {
                if let Some(r) = tx.record(&event.workspace_id, &object, &id).await? {
                    ctx.related
                        .insert((object.clone(), id.clone()), Value::Object(r.to_json()));
                }
                tried.insert((object, id));
            }
        }
        unreachable!("the last round returns")
    }

    /// A record's automation log, newest first (`GET /records/{object}/{id}/automation-log`).
    pub async fn automation_log(
        &self,
        ws: &str,
        object: &str,
        record_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<AutomationLogEntry>> {
        self.inner
            .store
            .automation_log(ws, object, record_id, limit, cursor)
            .await
    }

    /// Runs [`Self::sweep_automation_log`] when the last one (`swept`) is older than
    /// [`SWEEP_EVERY`]; a failure is logged and tried again at the next period.
    pub(super) async fn sweep_automation_log_if_due(&self, swept: &Mutex<Option<Instant>>) {
        {
            let mut last = swept.lock().expect("sweep time lock");
            if last.is_some_and(|t| t.elapsed() < SWEEP_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        match self.sweep_automation_log().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                entries = n,
                "automation log: deleted entries past retention"
            ),
            Err(e) => tracing::warn!(error = %e, "automation log sweep failed"),
        }
    }

    /// Deletes the log entries older than the retention; returns how many.
    pub async fn sweep_automation_log(&self) -> Result<u64> {
        let retention = self.inner.config.automation_log.retention;
        let before = Utc::now() - chrono::Duration::from_std(retention).unwrap_or_default();
        let mut total = 0;
        loop {
            let mut tx = self.inner.store.begin().await?;
            let n = tx.sweep_automation_log(before, SWEEP_BATCH).await?;
            tx.commit().await?;
            total += n;
            if n < SWEEP_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}
