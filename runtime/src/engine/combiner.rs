//! Group commit for API writes: concurrent record writes and event ingestion are queued
//! and a single task executes whatever is waiting in one write transaction, each request
//! inside its own savepoint, then answers every caller. Under load one commit serves many
//! requests; alone, a request pays one commit as before.
//!
//! The task holds only a weak reference to the engine, so dropping the last `Engine` ends it.

use std::sync::Weak;

use tokio::sync::{mpsc, oneshot};

use super::ingest::Accepted;
use super::{Engine, Inner, RecordOp};
use crate::error::{Result, RuntimeError};
use crate::model::{Event, Record};
use crate::records::Cause;
use crate::store::{Store, StoreTx};

/// Requests per transaction at most.
const MAX_GROUP: usize = 256;

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
}

enum Done {
    Records(
        oneshot::Sender<Result<Vec<Option<Record>>>>,
        Result<Vec<Option<Record>>>,
    ),
    Events(
        oneshot::Sender<Result<Vec<Accepted>>>,
        Result<Vec<Accepted>>,
    ),
}

pub(crate) fn spawn<S: Store>(inner: Weak<Inner<S>>, mut rx: mpsc::UnboundedReceiver<WriteJob>) {
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            let Some(inner) = inner.upgrade() else { return };
            let engine = Engine { inner };
            engine.run_group(jobs).await;
        }
    });
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
        let mut done = Vec::with_capacity(jobs.len());
        let outcome = self.group_tx(jobs, &mut done).await;
        for d in done {
            match (d, &outcome) {
                (Done::Records(tx, r), Ok(())) => drop(tx.send(r)),
                (Done::Events(tx, r), Ok(())) => drop(tx.send(r)),
                (Done::Records(tx, _), Err(e)) => drop(tx.send(Err(copy_err(e)))),
                (Done::Events(tx, _), Err(e)) => drop(tx.send(Err(copy_err(e)))),
            }
        }
        if outcome.is_ok() {
            self.inner.wake_runs.notify_one();
        }
    }

    /// Executes every job in one transaction; `Err` when the transaction itself failed
    /// (then every caller gets the error and nothing was written).
    async fn group_tx(&self, jobs: Vec<WriteJob>, done: &mut Vec<Done>) -> Result<()> {
        let mut tx = match self.inner.store.begin().await {
            Ok(tx) => tx,
            Err(e) => {
                done.extend(jobs.into_iter().map(|j| match j {
                    WriteJob::Records { reply, .. } => Done::Records(reply, Ok(vec![])),
                    WriteJob::Events { reply, .. } => Done::Events(reply, Ok(vec![])),
                }));
                return Err(e);
            }
        };
        let mut failure = None;
        for job in jobs {
            if failure.is_some() {
                match job {
                    WriteJob::Records { reply, .. } => done.push(Done::Records(reply, Ok(vec![]))),
                    WriteJob::Events { reply, .. } => done.push(Done::Events(reply, Ok(vec![]))),
                }
                continue;
            }
            tx.savepoint().await?;
            match job {
                WriteJob::Records { ws, ops, reply } => {
                    let mut out = Vec::with_capacity(ops.len());
                    let mut res = Ok(());
                    for op in ops {
                        match self.write_in_tx(&mut tx, &ws, op, &Cause::default()).await {
                            Ok((r, _)) => out.push(r),
                            Err(e) => {
                                res = Err(e);
                                break;
                            }
                        }
                    }
                    match res {
                        Ok(()) => {
                            tx.release_savepoint().await?;
                            done.push(Done::Records(reply, Ok(out)));
                        }
                        Err(e) if fatal(&e) => {
                            failure = Some(e);
                            done.push(Done::Records(reply, Ok(vec![])));
                        }
                        Err(e) => {
                            tx.rollback_to_savepoint().await?;
                            done.push(Done::Records(reply, Err(e)));
                        }
                    }
                }
                WriteJob::Events { events, reply } => {
                    let mut out = Vec::with_capacity(events.len());
                    let mut res = Ok(());
                    for e in &events {
                        match self.accept_in_tx(&mut tx, e).await {
                            Ok(a) => out.push(a),
                            Err(e) => {
                                res = Err(e);
                                break;
                            }
                        }
                    }
                    match res {
                        Ok(()) => {
                            tx.release_savepoint().await?;
                            done.push(Done::Events(reply, Ok(out)));
                        }
                        Err(e) if fatal(&e) => {
                            failure = Some(e);
                            done.push(Done::Events(reply, Ok(vec![])));
                        }
                        Err(e) => {
                            tx.rollback_to_savepoint().await?;
                            done.push(Done::Events(reply, Err(e)));
                        }
                    }
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => tx.commit().await,
        }
    }
}
