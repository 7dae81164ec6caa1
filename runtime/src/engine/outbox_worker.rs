//! Delivering outbox items: claim what is due under a lease, deliver concurrently outside
//! any transaction, and record each outcome (delivered, retry with backoff, dead) as soon
//! as its delivery ends, grouping whatever outcomes are ready into one statement.
//!
//! The worker keeps claiming while deliveries are in flight (up to `OutboxConfig::batch`
//! claimed at once), at most `OutboxConfig::per_destination` of them in flight to one
//! destination; an item claimed for a busy destination waits in memory for its slot
//! (see `outbox_lanes`), and one whose destination answered `Retry-After` is put back
//! until then. So one slow receiver holds a few slots, never the worker, and one fast
//! receiver is served as fast as it answers.
//!
//! Must never hold a transaction across a delivery, nor hold finished outcomes back for
//! the rest of the batch: each delivered-but-unrecorded item is one more re-send after a
//! crash (the same idempotency key, so receivers deduplicate). A slot is given to the next
//! delivery only once the outcome of the last one is written, so a crash re-sends at most
//! `per_destination` deliveries per destination. A claimed item waits in
//! memory only until its start deadline (its lease less the request timeout), so its
//! delivery ends before another worker may claim it again.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};

use super::Engine;
use super::outbox_lanes::{LaneConfig, Lanes, Placement};
use crate::error::Result;
use crate::model::*;
use crate::outbox::DeliveryOutcome;
use crate::store::{Store, StoreTx};

/// A delivery that ended: its destination, the item, what happened and how long it took.
type Done = (String, OutboxItem, DeliveryOutcome, Duration);

/// What a delivery's end tells its lane: the destination, how long it took, and how long
/// the destination asked to be left alone (`Retry-After`).
type Ended = (String, Duration, Option<chrono::Duration>);

/// Claimed items kept in memory per destination, in delivery slots of that destination:
/// enough to keep a fast receiver busy between two claims, few enough that a backlog of
/// one destination leaves most of the claim to the others.
const QUEUE_PER_SLOT: usize = 8;

/// How long a claimed item may wait in memory: the long-running worker is bounded by the
/// item's lease; one round (tests and tools) keeps everything until it is attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    Worker,
    Once,
}

/// Deliveries in flight and the destinations' lanes.
struct Dispatcher {
    round: Round,
    inflight: JoinSet<Done>,
    lanes: Lanes,
}

impl Dispatcher {
    fn new(round: Round, config: &crate::outbox::OutboxConfig) -> Dispatcher {
        let per_destination = config.per_destination.max(1);
        Dispatcher {
            round,
            inflight: JoinSet::new(),
            lanes: Lanes::new(LaneConfig {
                per_destination,
                queue_cap: match round {
                    Round::Worker => Some(per_destination as usize * QUEUE_PER_SLOT),
                    Round::Once => None,
                },
                min_defer: config.defer / 10,
                max_defer: config.defer,
            }),
        }
    }

    /// The instant by which an item claimed now must start.
    fn start_by(&self, config: &crate::outbox::OutboxConfig, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.round {
            Round::Worker => {
                let room = config.lease.saturating_sub(config.request_timeout);
                now + chrono::Duration::from_std(room).unwrap_or_default()
            }
            Round::Once => DateTime::<Utc>::MAX_UTC,
        }
    }
}

impl<S: Store> Engine<S> {
    /// One round of delivery (tests and tools): claims what is due, delivers it within the
    /// per-destination limit, and returns when every claimed item has been attempted or
    /// put back; returns how many were attempted.
    pub async fn deliver_outbox_once(&self) -> Result<usize> {
        let mut d = Dispatcher::new(Round::Once, &self.inner.config.outbox);
        let mut n = self.fill(&mut d).await?;
        while let Some(first) = d.inflight.join_next().await {
            n += self.settle(&mut d, first).await?;
        }
        Ok(n)
    }

    /// Delivers until nothing is due now (tests and tools).
    pub async fn deliver_outbox_until_idle(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.deliver_outbox_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// The outbox worker: claims whenever a delivery slot is free and something is due,
    /// records outcomes as they come, until `stop`; then gives deliveries in flight a
    /// moment to end (the others are re-sent after their lease, with the same key) and
    /// puts back what waited in memory.
    pub(crate) async fn outbox_worker(
        &self,
        mut stop: watch::Receiver<bool>,
        alive: &super::workers::Liveness,
    ) {
        let poll = self.inner.config.outbox.poll_interval;
        let mut d = Dispatcher::new(Round::Worker, &self.inner.config.outbox);
        let mut failing = false;
        loop {
            alive.beat();
            if *stop.borrow() {
                break;
            }
            if let Err(e) = self.fill(&mut d).await {
                tracing::warn!(worker = "outbox", error = %e, "claiming deliveries failed; retrying");
                failing = true;
            }
            let done = tokio::select! {
                // `join_next` is cancel-safe: an outcome is never lost to another branch.
                done = d.inflight.join_next(), if !d.inflight.is_empty() => done,
                _ = self.inner.wake_outbox.notified(), if !failing => None,
                _ = tokio::time::sleep(poll) => None,
                _ = stop.changed() => break,
            };
            failing = false;
            if let Some(done) = done
                && let Err(e) = self.settle(&mut d, done).await
            {
                tracing::warn!(worker = "outbox", error = %e, "recording a delivery failed; it is re-sent after its lease");
            }
        }
        let grace = self
            .inner
            .config
            .outbox
            .request_timeout
            .min(Duration::from_secs(5));
        let _ = tokio::time::timeout(grace, async {
            while let Some(done) = d.inflight.join_next().await {
                if self.settle(&mut d, done).await.is_err() {
                    return;
                }
            }
        })
        .await;
        let waiting = d.lanes.drain(Utc::now());
        if let Err(e) = self.put_back(&waiting).await {
            tracing::warn!(worker = "outbox", error = %e, "putting back waiting deliveries failed; they are sent after their lease");
        }
    }

    /// Claims due items for the free places of the claim and places each in its
    /// destination's lane: started, kept for a slot, or put back. Returns how many
    /// deliveries it started.
    ///
    /// The claim is a write of its own, committed before anything of it is placed (one
    /// round trip to SQLite's writer, not three); the rare put-back is a second write.
    /// If that one fails, the items it held wait for their lease like any claimed item
    /// whose worker stopped, and the others go ahead: their claim stands.
    async fn fill(&self, d: &mut Dispatcher) -> Result<usize> {
        let config = &self.inner.config.outbox;
        let free = config
            .batch
            .saturating_sub((d.inflight.len() + d.lanes.queued()) as u32);
        let now = Utc::now();
        if free == 0
            || !d.lanes.worth_claiming(now)
            || !self.inner.store.due_work(now).await?.due_outbox
        {
            return Ok(0);
        }
        let lease_until = now + chrono::Duration::from_std(config.lease).unwrap_or_default();
        let start_by = d.start_by(config, now);
        let want = d.lanes.claim_size(free as usize, now) as u32;
        let items = self
            .inner
            .store
            .claim_outbox_alone(now, lease_until, want)
            .await?;
        d.lanes.claiming();
        let mut start = Vec::new();
        let mut put_back = Vec::new();
        for item in items {
            let dest = self.inner.deliverer.destination(&item);
            match d.lanes.place(&dest, item, now, start_by) {
                Placement::Start(item) => start.push((dest, item)),
                Placement::Queued => {}
                Placement::PutBack(item) => put_back.push(item),
            }
        }
        let n = start.len();
        for (dest, item) in start {
            self.start_delivery(d, dest, item);
        }
        self.put_back(&put_back).await?;
        Ok(n)
    }

    /// Starts a delivery whose lane slot is taken.
    fn start_delivery(&self, d: &mut Dispatcher, dest: String, item: OutboxItem) {
        let engine = self.clone();
        d.inflight.spawn(async move {
            let started = Instant::now();
            let outcome = engine.inner.deliverer.deliver(&item).await;
            (dest, item, outcome, started.elapsed())
        });
    }

    /// Records `first` and every other outcome ready now in one write, then frees their
    /// slots and starts queued items that now have one. Returns how many it started.
    ///
    /// The write comes first: a slot goes to the next delivery only once the outcome of
    /// the one before is stored, so a destination's deliveries in flight plus those
    /// delivered but not yet recorded never exceed `per_destination`, and a crash re-sends
    /// at most that many per destination. (Starting the next ones during the write would
    /// double that bound.)
    async fn settle(
        &self,
        d: &mut Dispatcher,
        first: std::result::Result<Done, JoinError>,
    ) -> Result<usize> {
        let mut ready: Vec<Done> = first.into_iter().collect();
        while let Some(more) = d.inflight.try_join_next() {
            ready.extend(more.ok());
        }
        let mut ended = Vec::new();
        // Their claims stand whatever becomes of the write: on an error they are sent
        // again after their lease.
        let written = self
            .record_outcomes(ready, &mut d.inflight, &mut ended)
            .await;
        let now = Utc::now();
        for (dest, took, after) in ended {
            let throttled = after.map(|after| now + after);
            d.lanes.finished(&dest, took, throttled);
        }
        let (start, put_back) = d.lanes.ready(now);
        let n = start.len();
        for (dest, item) in start {
            self.start_delivery(d, dest, item);
        }
        self.put_back(&put_back).await?;
        written.map(|()| n)
    }

    /// Writes the outcomes of ended deliveries together, with those of deliveries that
    /// end while the write waits for the writer: the items' state alone when nothing goes
    /// with them (the common case: one statement, no transaction around it), else in one
    /// transaction with the mailbox copies and step attempts. `ended` gets each written
    /// delivery's destination, duration and `Retry-After`, whatever becomes of the write.
    async fn record_outcomes(
        &self,
        ready: Vec<Done>,
        inflight: &mut JoinSet<Done>,
        ended: &mut Vec<Ended>,
    ) -> Result<()> {
        let mut alone = Vec::new();
        let mut with_more = Vec::new();
        for done in ready {
            self.sort_outcome(done, ended, &mut alone, &mut with_more);
        }
        if !with_more.is_empty() || alone.is_empty() {
            with_more.extend(alone.into_iter().map(OutcomeWrite::alone));
            return self.write_in_transaction(&with_more).await;
        }
        // The wait for the writer (behind a group of API writes) is when more deliveries
        // end: taken at the last moment, they share this statement instead of the next.
        let gathered = self
            .inner
            .store
            .update_outbox_gathered(|| {
                while let Some(more) = inflight.try_join_next() {
                    if let Ok(done) = more {
                        self.sort_outcome(done, ended, &mut alone, &mut with_more);
                    }
                }
                alone
            })
            .await;
        let rest = self.write_in_transaction(&with_more).await;
        gathered.and(rest)
    }

    /// Files an ended delivery's outcome: its item alone, or with what goes with it.
    fn sort_outcome(
        &self,
        (dest, item, outcome, took): Done,
        ended: &mut Vec<Ended>,
        alone: &mut Vec<OutboxItem>,
        with_more: &mut Vec<OutcomeWrite>,
    ) {
        ended.push((dest, took, retry_after(&outcome)));
        let write = self.outcome_write(item, outcome);
        if write.mail.is_none() && write.step.is_none() {
            alone.push(write.item);
        } else {
            with_more.push(write);
        }
    }

    /// Writes outcomes with their mailbox copies and step attempts in one transaction.
    async fn write_in_transaction(&self, writes: &[OutcomeWrite]) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut tx = self.inner.store.begin().await?;
        write_outcomes(&mut tx, writes).await?;
        tx.commit().await
    }

    /// Writes items back with their `next_attempt_at` (nothing else of them changed).
    async fn put_back(&self, items: &[OutboxItem]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut tx = self.inner.store.begin().await?;
        tx.update_outbox(items).await?;
        tx.commit().await
    }

    /// `item` with its delivery state set from `outcome`, and what is written with it:
    /// the mailbox copy of a local mail, the attempts on the step that queued it.
    fn outcome_write(&self, mut item: OutboxItem, outcome: DeliveryOutcome) -> OutcomeWrite {
        let mut mail = None;
        let config = &self.inner.config.outbox;
        let now = Utc::now();
        item.attempts += 1;
        let earlier_error = item.last_error.clone();
        // Errors are answered by `/outbox` and may quote a URL: credentials never stored.
        let outcome = match outcome {
            DeliveryOutcome::Retry(e) => DeliveryOutcome::Retry(crate::secrets::redact_text(&e)),
            DeliveryOutcome::Throttled { error, after } => DeliveryOutcome::Throttled {
                error: crate::secrets::redact_text(&error),
                after,
            },
            DeliveryOutcome::Dead(e) => DeliveryOutcome::Dead(crate::secrets::redact_text(&e)),
            other => other,
        };
        // The step's policy, when it queued the item with one, else the outbox defaults.
        let (retry_left, backoff) = match &item.retry {
            Some(r) => (
                r.on_http && item.attempts < i64::from(r.attempts),
                now + r.delay(item.attempts as u32),
            ),
            None => (
                item.attempts < i64::from(config.max_attempts),
                config.next_attempt_at(now, item.attempts as u32),
            ),
        };
        match outcome {
            DeliveryOutcome::Delivered => {
                item.status = OutboxStatus::Delivered;
                item.delivered_at = Some(now);
                item.last_error = None;
            }
            DeliveryOutcome::LocalMail {
                to,
                cc,
                subject,
                body,
            } => {
                mail = Some(MailboxMessage {
                    id: new_id("mail"),
                    workspace_id: item.workspace_id.clone(),
                    outbox_id: item.id.clone(),
                    to,
                    cc,
                    subject,
                    body,
                    created_at: now,
                });
                item.status = OutboxStatus::Delivered;
                item.delivered_at = Some(now);
            }
            DeliveryOutcome::Retry(e) if retry_left => {
                item.last_error = Some(e);
                item.next_attempt_at = backoff;
            }
            DeliveryOutcome::Throttled { error, after } if retry_left => {
                // The receiver's date wins over the backoff when it is later.
                let asked = now + chrono::Duration::from_std(after).unwrap_or_default();
                item.last_error = Some(error);
                item.next_attempt_at = backoff.max(asked);
            }
            DeliveryOutcome::Throttled { error: e, .. } | DeliveryOutcome::Retry(e) => {
                item.status = OutboxStatus::Dead;
                item.last_error = Some(match item.retry.as_ref() {
                    Some(r) if !r.on_http => {
                        format!("{e} (its step's retry policy does not name `http`)")
                    }
                    _ => format!("{e} (gave up after {} attempts)", item.attempts),
                });
            }
            DeliveryOutcome::Dead(e) => {
                item.status = OutboxStatus::Dead;
                item.last_error = Some(e);
            }
        }
        // A delivery that follows its step's retry policy shows its tries on the step too.
        let step = match (&item.retry, &item.run_id, &item.step_id) {
            (Some(_), Some(run_id), Some(step_id)) => Some(StepAttempts {
                run_id: run_id.clone(),
                step_id: step_id.clone(),
                // The step keeps the latest failure also once a later try delivered.
                last_error: item.last_error.clone().or(earlier_error),
            }),
            _ => None,
        };
        OutcomeWrite { item, mail, step }
    }
}

/// One delivery's outcome as it is written: the item's new state and what goes with it.
struct OutcomeWrite {
    item: OutboxItem,
    mail: Option<MailboxMessage>,
    step: Option<StepAttempts>,
}

impl OutcomeWrite {
    /// An outcome with nothing written beside it.
    fn alone(item: OutboxItem) -> OutcomeWrite {
        OutcomeWrite {
            item,
            mail: None,
            step: None,
        }
    }
}

/// The tries of a delivery shown on the step that queued it with a retry policy.
struct StepAttempts {
    run_id: String,
    step_id: String,
    last_error: Option<String>,
}

/// Writes outcomes inside `tx`: mailbox copies and step attempts first, then every
/// item's state in one statement.
async fn write_outcomes<T: StoreTx>(tx: &mut T, writes: &[OutcomeWrite]) -> Result<()> {
    for w in writes {
        if let Some(mail) = &w.mail {
            tx.insert_mail(mail).await?;
        }
        if let Some(step) = &w.step {
            tx.note_step_attempts(
                &w.item.workspace_id,
                &step.run_id,
                &step.step_id,
                w.item.attempts,
                step.last_error.as_deref(),
            )
            .await?;
        }
    }
    let items: Vec<OutboxItem> = writes.iter().map(|w| w.item.clone()).collect();
    tx.update_outbox(&items).await
}

/// How long a throttled destination asked to be left alone (`Retry-After`).
fn retry_after(outcome: &DeliveryOutcome) -> Option<chrono::Duration> {
    match outcome {
        DeliveryOutcome::Throttled { after, .. } => {
            Some(chrono::Duration::from_std(*after).unwrap_or_default())
        }
        _ => None,
    }
}
