//! Group commit for API writes: concurrent record writes and event ingestion are queued
//! and a single task executes whatever is waiting in one write transaction, then answers
//! every caller. Under load one commit serves many requests; alone, a request pays one
//! commit as before.
//!
//! A group first runs without savepoints (two statements less per request, and per item
//! of a batch): when every request succeeds, that is the commit. When one fails with an
//! error of its own (a validation error, a conflict), the transaction is rolled back and
//! the group runs again with each request in its own savepoint, so the failing one is
//! undone alone. Nothing is answered before the commit, so the first attempt leaves no
//! trace; a failing request costs its group a second pass, never a wrong answer (a request
//! alone in its group is answered its error at once: the rollback was its savepoint).
//!
//! A group that succeeded also starts the runs its writes queued before it commits
//! (`Engine::start_in_write`): one transaction stores the writes, their runs' steps and
//! their outbox items. A group redone with savepoints leaves its runs to the queue.
//!
//! The task holds only a weak reference to the engine, so dropping the last `Engine` ends it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::ingest::Accepted;
use super::workers::{AliveGuard, Liveness};
use super::write_stats::{Phase, WriteGroupStats};
use super::{Engine, Inner, RecordOp};
use crate::error::{Result, RuntimeError};
use crate::model::{Event, Record, Run};
use crate::records::Cause;
use crate::store::{Store, StoreTx};

/// Requests per transaction at most.
const MAX_GROUP: usize = 256;
/// How often the idle writer reports its heartbeat.
const BEAT: std::time::Duration = std::time::Duration::from_millis(500);

pub(crate) enum WriteJob {
    Records {
        ws: String,
        ops: Vec<RecordOp>,
        reply: oneshot::Sender<Result<Vec<Option<Record>>>>,
    },
    Events {
        events: Vec<Event>,
        reply: oneshot::Sender<Result<Vec<Accepted>>>,
    },
    /// A batch whose writes stand alone: each in its own savepoint, each with its result.
    RecordsEach {
        ws: String,
        ops: Vec<RecordOp>,
        reply: oneshot::Sender<Result<Vec<Result<Option<Record>>>>>,
    },
}

/// Answers one caller once the group's fate is known: its own result if the transaction
/// committed, else the transaction's error.
type Answer = Box<dyn FnOnce(&Result<()>) + Send>;

fn answer<T: Send + 'static>(reply: oneshot::Sender<Result<T>>, result: Result<T>) -> Answer {
    Box::new(move |group: &Result<()>| {
        let _ = reply.send(match group {
            Ok(()) => result,
            Err(e) => Err(copy_err(e)),
        });
    })
}

/// What a job of an optimistic group wrote, before it is answered.
enum JobResult {
    Records(Vec<Option<Record>>),
    Events(Vec<Accepted>),
}

impl WriteJob {
    /// The answer of a job of a group run without savepoints (every job succeeded).
    fn answered(self, result: JobResult) -> Answer {
        match (self, result) {
            (WriteJob::Records { reply, .. }, JobResult::Records(r)) => answer(reply, Ok(r)),
            (WriteJob::RecordsEach { reply, .. }, JobResult::Records(r)) => {
                answer(reply, Ok(r.into_iter().map(Ok).collect()))
            }
            (WriteJob::Events { reply, .. }, JobResult::Events(a)) => answer(reply, Ok(a)),
            (job, _) => job.abandoned(),
        }
    }

    /// The answer of a job that failed on its own with `e`.
    fn failed(self, e: RuntimeError) -> Answer {
        match self {
            WriteJob::Records { reply, .. } => answer(reply, Err(e)),
            WriteJob::Events { reply, .. } => answer(reply, Err(e)),
            WriteJob::RecordsEach { reply, .. } => answer(reply, Err(e)),
        }
    }

    /// The answer of a job that never ran because the group failed (replaced by the
    /// group's error when answered).
    fn abandoned(self) -> Answer {
        fn not_run<T>() -> Result<T> {
            Err(RuntimeError::Corrupt("group commit abandoned".into()))
        }
        match self {
            WriteJob::Records { reply, .. } => answer(reply, not_run()),
            WriteJob::Events { reply, .. } => answer(reply, not_run()),
            WriteJob::RecordsEach { reply, .. } => answer(reply, not_run()),
        }
    }
}

pub(crate) fn spawn<S: Store>(
    inner: Weak<Inner<S>>,
    mut rx: mpsc::UnboundedReceiver<WriteJob>,
    alive: Arc<Liveness>,
) {
    tokio::spawn(async move {
        let _alive = AliveGuard::new(&alive);
        loop {
            alive.beat();
            // Idle, it still beats every `BEAT` (a stuck group is what stops the beat).
            let first = match tokio::time::timeout(BEAT, rx.recv()).await {
                Ok(Some(first)) => first,
                Ok(None) => return,
                Err(_) => {
                    if inner.strong_count() == 0 {
                        return;
                    }
                    continue;
                }
            };
            let mut jobs = vec![first];
            while jobs.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            let Some(inner) = inner.upgrade() else { return };
            let engine = Engine { inner };
            let started = Instant::now();
            let n = jobs.len();
            engine.run_group(jobs).await;
            engine.inner.write_counters.group(n, started.elapsed());
        }
    });
}

/// Runs a group's writes queued, each with its event, for [`Engine::start_in_write`].
type Queued = Vec<(Run, Event)>;

fn pair_with_events(queued: &mut Queued, runs: Vec<Run>, events: &[Event]) {
    for run in runs {
        if let Some(event) = events.iter().find(|e| e.id == run.event_id) {
            queued.push((run, event.clone()));
        }
    }
}

/// [`pair_with_events`] with events the caller is done with: each moves to the last of
/// its runs (copied only for the runs before it), instead of being copied for every run.
fn pair_with_own_events(queued: &mut Queued, runs: Vec<Run>, events: Vec<Event>) {
    let later: Vec<bool> = (0..runs.len())
        .map(|i| runs[i + 1..].iter().any(|r| r.event_id == runs[i].event_id))
        .collect();
    let mut events: Vec<Option<Event>> = events.into_iter().map(Some).collect();
    for (run, later) in runs.into_iter().zip(later) {
        let Some(slot) = events
            .iter_mut()
            .find(|e| e.as_ref().is_some_and(|e| e.id == run.event_id))
        else {
            continue;
        };
        let event = if later { slot.clone() } else { slot.take() };
        queued.extend(event.map(|e| (run, e)));
    }
}

/// The runs a group queued: how many it started, how many it left to the queue.
struct Started {
    ran: usize,
    left: usize,
}

/// How the optimistic transaction of a group ended.
enum Attempt {
    /// Committed: each job's result, and what became of the runs it queued.
    Committed(Vec<JobResult>, Started),
    /// A job failed with an error of its own: rolled back, nothing written.
    JobFailed(RuntimeError),
    /// Starting the queued runs failed: rolled back, nothing written; the group goes
    /// again with savepoints, its runs left to the queue.
    StartFailed(RuntimeError),
}

fn fatal(e: &RuntimeError) -> bool {
    matches!(
        e,
        RuntimeError::Database(_) | RuntimeError::Corrupt(_) | RuntimeError::Migration(_)
    )
}

fn copy_err(e: &RuntimeError) -> RuntimeError {
    RuntimeError::Corrupt(format!("group commit failed: {e}"))
}

impl<S: Store> Engine<S> {
    pub(crate) async fn submit_records(
        &self,
        ws: &str,
        ops: Vec<RecordOp>,
    ) -> Result<Vec<Option<Record>>> {
        let (reply, rx) = oneshot::channel();
        self.send(WriteJob::Records {
            ws: ws.to_string(),
            ops,
            reply,
        })?;
        rx.await
            .map_err(|_| RuntimeError::Corrupt("writer stopped".into()))?
    }

    pub(crate) async fn submit_records_each(
        &self,
        ws: &str,
        ops: Vec<RecordOp>,
    ) -> Result<Vec<Result<Option<Record>>>> {
        let (reply, rx) = oneshot::channel();
        self.send(WriteJob::RecordsEach {
            ws: ws.to_string(),
            ops,
            reply,
        })?;
        rx.await
            .map_err(|_| RuntimeError::Corrupt("writer stopped".into()))?
    }

    pub(crate) async fn submit_events(&self, events: Vec<Event>) -> Result<Vec<Accepted>> {
        let (reply, rx) = oneshot::channel();
        self.send(WriteJob::Events { events, reply })?;
        rx.await
            .map_err(|_| RuntimeError::Corrupt("writer stopped".into()))?
    }

    fn send(&self, job: WriteJob) -> Result<()> {
        self.inner
            .writes
            .send(job)
            .map_err(|_| RuntimeError::Corrupt("writer stopped".into()))
    }

    async fn run_group(&self, jobs: Vec<WriteJob>) {
        let jobs = match self.optimistic(jobs).await {
            Ok(queue_has_work) => {
                if queue_has_work {
                    self.inner.wake_runs.notify_one();
                }
                return;
            }
            Err(jobs) => jobs,
        };
        let mut done = Vec::with_capacity(jobs.len());
        let outcome = self.group_tx(jobs, &mut done).await;
        for answer in done {
            answer(&outcome);
        }
        if outcome.is_ok() {
            self.inner.wake_runs.notify_one();
        }
    }

    /// Executes every job in one transaction without savepoints and answers them all once
    /// it committed (or all with its error, when the transaction itself failed; or a lone
    /// job with its own error). Gives the jobs back, unanswered and with nothing written,
    /// when one of several failed on its own or their runs could not start. `Ok(true)`
    /// when the queue may have work from this group: runs it did not start, or the
    /// cascades of those it did (else waking the run loop would cost it a read for nothing).
    async fn optimistic(&self, jobs: Vec<WriteJob>) -> std::result::Result<bool, Vec<WriteJob>> {
        let mut done = Vec::with_capacity(jobs.len());
        let mut queue_has_work = true;
        let outcome = match self.optimistic_tx(&jobs).await {
            Ok(Attempt::Committed(results, started)) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    done.push(job.answered(result));
                }
                if started.ran > 0 {
                    self.inner.wake_outbox.notify_one();
                }
                // Taken after the commit: a cascade flagged during this group's
                // transaction is committed by now.
                let cascaded = self.inner.cascade_queued.swap(false, Ordering::AcqRel);
                queue_has_work = started.left > 0 || cascaded;
                Ok(())
            }
            // Alone, the rolled-back transaction was the job's savepoint: its answer is its
            // error (a batch with results per item still needs its savepoints).
            Ok(Attempt::JobFailed(e))
                if jobs.len() == 1 && !matches!(jobs[0], WriteJob::RecordsEach { .. }) =>
            {
                if let Some(job) = jobs.into_iter().next() {
                    done.push(job.failed(e));
                }
                Ok(())
            }
            Ok(Attempt::JobFailed(_)) => return Err(jobs),
            Ok(Attempt::StartFailed(e)) => {
                tracing::warn!(error = %e, "starting runs with their write failed; left to the queue");
                return Err(jobs);
            }
            Err(e) => {
                done.extend(jobs.into_iter().map(WriteJob::abandoned));
                Err(e)
            }
        };
        for answer in done {
            answer(&outcome);
        }
        Ok(queue_has_work)
    }

    /// The transaction of [`Engine::optimistic`]; `Err` when storage failed.
    async fn optimistic_tx(&self, jobs: &[WriteJob]) -> Result<Attempt> {
        let mut tx = self.begin_group().await?;
        let mut results = Vec::with_capacity(jobs.len());
        let mut queued = Vec::new();
        for job in jobs {
            let result = match job {
                WriteJob::Records { ws, ops, .. } | WriteJob::RecordsEach { ws, ops, .. } => self
                    .records_job(&mut tx, ws, ops.clone(), &mut queued)
                    .await
                    .map(JobResult::Records),
                WriteJob::Events { events, .. } => self
                    .events_job(&mut tx, events, &mut queued)
                    .await
                    .map(JobResult::Events),
            };
            match result {
                Ok(r) => results.push(r),
                Err(e) if fatal(&e) => return Err(e),
                // Dropping the transaction rolls it back.
                Err(e) => return Ok(Attempt::JobFailed(e)),
            }
        }
        let started = if self.inner.config.start_runs_in_write {
            let all = queued.len();
            match self.start_in_write(&mut tx, queued).await {
                Ok(ran) => Started {
                    ran,
                    left: all - ran,
                },
                Err(e) => return Ok(Attempt::StartFailed(e)),
            }
        } else {
            Started {
                ran: 0,
                left: queued.len(),
            }
        };
        self.commit_group(tx).await?;
        Ok(Attempt::Committed(results, started))
    }

    /// Executes every job in one transaction, each in its own savepoint; `Err` when the
    /// transaction itself failed (then every caller gets the error and nothing was written).
    async fn group_tx(&self, jobs: Vec<WriteJob>, done: &mut Vec<Answer>) -> Result<()> {
        let mut tx = match self.begin_group().await {
            Ok(tx) => tx,
            Err(e) => {
                done.extend(jobs.into_iter().map(WriteJob::abandoned));
                return Err(e);
            }
        };
        let mut failure = None;
        for job in jobs {
            if failure.is_some() {
                done.push(job.abandoned());
                continue;
            }
            if let WriteJob::RecordsEach { ws, ops, reply } = job {
                let results = self.each_job(&mut tx, &ws, ops, &mut failure).await?;
                done.push(answer(reply, Ok(results)));
                continue;
            }
            tx.savepoint().await?;
            let answered = match job {
                WriteJob::Records { ws, ops, reply } => {
                    let result = self.records_job(&mut tx, &ws, ops, &mut Vec::new()).await;
                    answer(reply, settle(&mut tx, result, &mut failure).await?)
                }
                WriteJob::Events { events, reply } => {
                    let result = self.events_job(&mut tx, &events, &mut Vec::new()).await;
                    answer(reply, settle(&mut tx, result, &mut failure).await?)
                }
                WriteJob::RecordsEach { .. } => unreachable!("answered above"),
            };
            done.push(answered);
        }
        match failure {
            Some(e) => Err(e),
            None => self.commit_group(tx).await,
        }
    }

    /// Starts a group's transaction, counting the time (`/metrics`). It is deferred: on
    /// SQLite a group that reads nothing (record creates) takes the writer connection at
    /// its commit, so its wait for the connection counts there, and the connection serves
    /// the other writers while the group is worked out.
    async fn begin_group(&self) -> Result<S::Tx> {
        let started = Instant::now();
        let tx = self.inner.store.begin_deferred().await;
        let counters = &self.inner.write_counters;
        counters.phase(Phase::Begin, started.elapsed());
        tx
    }

    /// Commits a group's transaction, counting the time (`/metrics`).
    async fn commit_group(&self, tx: S::Tx) -> Result<()> {
        let started = Instant::now();
        let committed = tx.commit().await;
        let counters = &self.inner.write_counters;
        counters.phase(Phase::Commit, started.elapsed());
        committed
    }

    /// What the group-commit writer of this process did since it started (`/metrics`).
    pub fn write_group_stats(&self) -> WriteGroupStats {
        self.inner.write_counters.snapshot()
    }

    /// Applies a job's writes; the runs their events queued go to `queued` with their events.
    async fn records_job(
        &self,
        tx: &mut S::Tx,
        ws: &str,
        ops: Vec<RecordOp>,
        queued: &mut Queued,
    ) -> Result<Vec<Option<Record>>> {
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let written = self.write_in_tx(tx, ws, op, &Cause::default()).await?;
            pair_with_own_events(queued, written.queued, written.events);
            out.push(written.record);
        }
        Ok(out)
    }

    /// Each write of a batch in its own savepoint: a write that fails is rolled back alone
    /// and answered with its error; the others are kept. A storage failure stops the batch
    /// (and the group) at that write.
    async fn each_job(
        &self,
        tx: &mut S::Tx,
        ws: &str,
        ops: Vec<RecordOp>,
        failure: &mut Option<RuntimeError>,
    ) -> Result<Vec<Result<Option<Record>>>> {
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            if let Some(e) = failure.as_ref() {
                out.push(Err(copy_err(e)));
                continue;
            }
            tx.savepoint().await?;
            let result = self
                .write_in_tx(tx, ws, op, &Cause::default())
                .await
                .map(|written| written.record);
            out.push(settle(tx, result, failure).await?);
        }
        Ok(out)
    }

    async fn events_job(
        &self,
        tx: &mut S::Tx,
        events: &[Event],
        queued: &mut Queued,
    ) -> Result<Vec<Accepted>> {
        let mut accepted = self.accept_all_in_tx(tx, events).await?;
        for a in &mut accepted {
            pair_with_events(queued, std::mem::take(&mut a.queued), events);
        }
        Ok(accepted)
    }
}

/// Ends a job's savepoint by its result: kept, rolled back (the caller gets its error and
/// the others go on), or — on a storage failure — the whole group is abandoned.
async fn settle<T, X: StoreTx>(
    tx: &mut X,
    result: Result<T>,
    failure: &mut Option<RuntimeError>,
) -> Result<Result<T>> {
    match result {
        Ok(v) => {
            tx.release_savepoint().await?;
            Ok(Ok(v))
        }
        Err(e) if fatal(&e) => {
            let placeholder = Err(copy_err(&e));
            *failure = Some(e);
            Ok(placeholder)
        }
        Err(e) => {
            tx.rollback_to_savepoint().await?;
            Ok(Err(e))
        }
    }
}
