//! Backtest jobs (issue 23): start (validated, bounded, queued), run in the background one
//! or two at a time with their progress saved, cancel, read back. The replay itself is in
//! `replay`; what a backtest is and its bounds are in `crate::backtest`.
//!
//! Invariant: a backtest writes nothing but its own row. Its runs execute in a private
//! in-memory database (see `replay`), never through this engine's store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;

use super::Engine;
use crate::backtest::*;
use crate::error::{Result, RuntimeError};
use crate::model::*;
use crate::store::{Store, StoreTx};

mod replay;

/// The backtests this process runs: a cancel flag per unfinished job, and the permits
/// that bound how many replay at once.
pub(crate) struct Jobs {
    flags: Mutex<HashMap<String, Arc<AtomicBool>>>,
    running: tokio::sync::Semaphore,
    /// Serialises the check of the per-workspace bound with the insert it allows.
    start: tokio::sync::Mutex<()>,
}

impl Jobs {
    pub(crate) fn new(concurrency: usize) -> Jobs {
        Jobs {
            flags: Mutex::new(HashMap::new()),
            running: tokio::sync::Semaphore::new(concurrency.max(1)),
            start: tokio::sync::Mutex::new(()),
        }
    }

    fn flag(&self, id: &str) -> Arc<AtomicBool> {
        let mut flags = self.flags.lock().expect("backtest flags lock");
        flags.entry(id.to_string()).or_default().clone()
    }

    fn forget(&self, id: &str) {
        self.flags.lock().expect("backtest flags lock").remove(id);
    }

    fn cancel(&self, id: &str) {
        if let Some(f) = self.flags.lock().expect("backtest flags lock").get(id) {
            f.store(true, Ordering::Release);
        }
    }
}

impl<S: Store> Engine<S> {
    /// Starts a backtest in the background and answers its queued job at once.
    pub async fn start_backtest(
        &self,
        ws: &str,
        automation_id: &str,
        req: BacktestRequest,
    ) -> Result<Backtest> {
        let (job, mut running) = self.new_backtest(ws, automation_id, req).await?;
        let engine = self.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.run_backtest_job(&mut running).await {
                tracing::warn!(backtest = %running.id, error = %e, "backtest job failed");
            }
        });
        Ok(job)
    }

    /// Runs a backtest to its end in the caller's task (the CLI) and answers the ended job.
    pub async fn run_backtest(
        &self,
        ws: &str,
        automation_id: &str,
        req: BacktestRequest,
    ) -> Result<Backtest> {
        let (_, mut job) = self.new_backtest(ws, automation_id, req).await?;
        self.run_backtest_job(&mut job).await?;
        self.backtest(ws, automation_id, &job.id).await
    }

    pub async fn backtest(&self, ws: &str, automation_id: &str, id: &str) -> Result<Backtest> {
        self.inner
            .store
            .backtest(ws, id)
            .await?
            .filter(|b| b.automation_id == automation_id)
            .ok_or_else(|| RuntimeError::not_found("backtest", id))
    }

    /// Backtests of an automation, newest first, without their results.
    pub async fn backtests(
        &self,
        ws: &str,
        automation_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Backtest>> {
        self.automation(ws, automation_id).await?;
        self.inner
            .store
            .backtests(ws, automation_id, limit, cursor)
            .await
    }

    /// Cancels a queued or running backtest (a cancelled one is answered as it is); a
    /// completed or failed one is a conflict.
    pub async fn cancel_backtest(
        &self,
        ws: &str,
        automation_id: &str,
        id: &str,
    ) -> Result<Backtest> {
        let mut b = self.backtest(ws, automation_id, id).await?;
        self.inner.backtests.cancel(id);
        if !b.status.is_finished() {
            b.status = BacktestStatus::Cancelled;
            b.finished_at = Some(Utc::now());
            self.save_backtest(&b).await?;
        }
        let b = self.backtest(ws, automation_id, id).await?;
        match b.status {
            BacktestStatus::Cancelled => Ok(b),
            other => Err(RuntimeError::Conflict(format!(
                "backtest {id} already ended ({}); only a queued or running backtest can be cancelled",
                other.as_str()
            ))),
        }
    }

    /// Validates a request, resolves its version and stores the queued job. Answers the
    /// job as stored and answered (a proposed definition's secrets redacted: they never
    /// reach the `backtests` table) and the job to run (with them, in memory only).
    async fn new_backtest(
        &self,
        ws: &str,
        automation_id: &str,
        req: BacktestRequest,
    ) -> Result<(Backtest, Backtest)> {
        self.check_backtest_request(&req)?;
        let a = self.automation(ws, automation_id).await?;
        let (target_id, version) = match &req.version {
            _ if req.definition.is_some() => (a.id.clone(), 0),
            VersionChoice::Current => (a.id.clone(), a.current_version),
            VersionChoice::Number(n) => {
                self.inner
                    .store
                    .version(ws, &a.id, *n)
                    .await?
                    .ok_or_else(|| RuntimeError::not_found("automation version", n.to_string()))?;
                (a.id.clone(), *n)
            }
            VersionChoice::Sandbox => {
                let copy = self
                    .inner
                    .store
                    .automations(Some(ws))
                    .await?
                    .into_iter()
                    .find(|s| {
                        s.shadows_id.as_deref() == Some(a.id.as_str())
                            && s.environment == EnvironmentKind::Sandbox
                            && s.status != AutomationStatus::Archived
                    })
                    .ok_or_else(|| {
                        RuntimeError::Conflict(format!(
                            "automation {} has no sandbox copy to backtest",
                            a.id
                        ))
                    })?;
                (copy.id, copy.current_version)
            }
        };
        let now = crate::model::stored_now();
        let job = Backtest {
            id: new_id("bkt"),
            workspace_id: ws.to_string(),
            automation_id: a.id.clone(),
            target_id,
            version,
            request: req,
            status: BacktestStatus::Queued,
            progress: BacktestProgress::default(),
            result: None,
            error: None,
            created_at: now,
            started_at: None,
            finished_at: None,
        };
        let _one = self.inner.backtests.start.lock().await;
        let active = self.inner.store.count_active_backtests(ws).await?;
        if active >= MAX_ACTIVE_PER_WORKSPACE {
            return Err(RuntimeError::Conflict(format!(
                "{active} backtests are already queued or running in this workspace (at most {MAX_ACTIVE_PER_WORKSPACE}); wait for one to end or cancel one"
            )));
        }
        let mut stored = job.clone();
        if let Some(definition) = &mut stored.request.definition {
            crate::secrets::redact_definition(definition);
        }
        let mut tx = self.inner.store.begin().await?;
        tx.insert_backtest(&stored).await?;
        tx.commit().await?;
        self.inner.backtests.flag(&job.id);
        Ok((stored, job))
    }

    /// The bounds of a request: a limit within [`MAX_LIMIT`], a range that is not empty
    /// and starts inside the kept record history.
    fn check_backtest_request(&self, req: &BacktestRequest) -> Result<()> {
        if req.limit == 0 || req.limit > MAX_LIMIT {
            return Err(RuntimeError::BadRequest(format!(
                "limit {} is out of bounds: a backtest replays 1 to {MAX_LIMIT} events",
                req.limit
            )));
        }
        if req.from >= req.to {
            return Err(RuntimeError::BadRequest(format!(
                "the range is empty: from ({}) must be before to ({})",
                ts(req.from),
                ts(req.to)
            )));
        }
        let kept = self.inner.config.record_history;
        let earliest = Utc::now() - chrono::Duration::from_std(kept).unwrap_or_default();
        if req.from < earliest {
            return Err(RuntimeError::BadRequest(format!(
                "from ({}) is before the kept record history: records are kept {} days (serve --record-history-days), so the earliest start is {}",
                ts(req.from),
                kept.as_secs() / 86_400,
                ts(earliest)
            )));
        }
        Ok(())
    }

    /// Runs a stored queued job: waits for a permit, replays, saves the outcome.
    async fn run_backtest_job(&self, job: &mut Backtest) -> Result<()> {
        let flag = self.inner.backtests.flag(&job.id);
        let outcome = self.run_backtest_job_inner(job, &flag).await;
        self.inner.backtests.forget(&job.id);
        outcome
    }

    async fn run_backtest_job_inner(&self, job: &mut Backtest, flag: &AtomicBool) -> Result<()> {
        let _permit = self
            .inner
            .backtests
            .running
            .acquire()
            .await
            .map_err(|_| RuntimeError::Corrupt("backtest permits closed".into()))?;
        if flag.load(Ordering::Acquire) {
            return Ok(());
        }
        job.status = BacktestStatus::Running;
        job.started_at = Some(Utc::now());
        if !self.save_backtest(job).await? {
            return Ok(());
        }
        let outcome = self.replay(job, flag).await;
        job.finished_at = Some(Utc::now());
        match outcome {
            Ok(Some(result)) => {
                job.status = BacktestStatus::Completed;
                job.result = Some(result);
            }
            Ok(None) => job.status = BacktestStatus::Cancelled,
            Err(e @ RuntimeError::Database(_)) => {
                job.status = BacktestStatus::Failed;
                job.error = Some("the database failed during the backtest".into());
                tracing::warn!(backtest = %job.id, error = %e, "backtest failed");
            }
            Err(e) => {
                job.status = BacktestStatus::Failed;
                job.error = Some(e.to_string());
            }
        }
        self.save_backtest(job).await?;
        Ok(())
    }

    /// Writes the job row while it is unfinished; false when it had already ended (a
    /// cancel from another request).
    pub(crate) async fn save_backtest(&self, job: &Backtest) -> Result<bool> {
        let mut tx = self.inner.store.begin().await?;
        let written = tx.update_backtest(job).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Start-up (`serve`, before the workers): backtests left queued or running by a
    /// previous process end as failed.
    pub async fn interrupt_backtests(&self) -> Result<u64> {
        let mut tx = self.inner.store.begin().await?;
        let n = tx.interrupt_backtests(Utc::now()).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Deletes record history older than the retention (`EngineConfig::record_history`),
    /// keeping each record's state at the cutoff; in batches, each its own transaction.
    pub async fn prune_record_history(&self) -> Result<u64> {
        const BATCH: u32 = 5_000;
        let kept = chrono::Duration::from_std(self.inner.config.record_history).unwrap_or_default();
        let cutoff = Utc::now() - kept;
        let mut total = 0;
        loop {
            let mut tx = self.inner.store.begin().await?;
            let n = tx.prune_record_history(cutoff, BATCH).await?;
            tx.commit().await?;
            total += n;
            if n < u64::from(BATCH) {
                return Ok(total);
            }
        }
    }

    /// [`Self::prune_record_history`] at most once an hour (called by the timer worker).
    pub(crate) async fn prune_record_history_if_due(&self) -> Result<()> {
        let now = Utc::now().timestamp_millis();
        let next = &self.inner.next_prune_ms;
        if now < next.load(Ordering::Acquire) {
            return Ok(());
        }
        next.store(now + 3_600_000, Ordering::Release);
        let n = self.prune_record_history().await?;
        if n > 0 {
            tracing::info!(rows = n, "pruned record history past its retention");
        }
        Ok(())
    }
}
