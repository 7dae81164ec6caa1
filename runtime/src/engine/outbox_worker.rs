//! Delivering outbox items: claim what is due under a lease, deliver concurrently outside
//! any transaction, and record each outcome (delivered, retry with backoff, dead) as soon
//! as its delivery ends, grouping whatever outcomes are ready into one small write.
//!
//! The worker keeps claiming while deliveries are in flight (up to `OutboxConfig::batch`
//! at once), at most `OutboxConfig::per_destination` of them to one destination; an item
//! claimed for a destination at its limit, or one that answered `Retry-After`, is put
//! back for later in the claim's own transaction. So one slow receiver holds a few slots,
//! never the worker.
//!
//! Must never hold a transaction across a delivery, nor hold finished outcomes back for
//! the rest of the batch: each delivered-but-unrecorded item is one more re-send after a
//! crash (the same idempotency key, so receivers deduplicate). Nothing claimed waits in
//! memory past its delivery slot in the worker (a lease could expire under it).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};

use super::Engine;
use crate::error::Result;
use crate::model::*;
use crate::outbox::DeliveryOutcome;
use crate::store::{Store, StoreTx};

/// A delivery that ended: its destination, the item and what happened.
type Done = (String, OutboxItem, DeliveryOutcome);

/// What to do with an item claimed for a destination already at its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    /// Put it back (due after `OutboxConfig::defer`): the long-running worker.
    Defer,
    /// Keep it for a slot of this round: one round that ends when all is delivered.
    Wait,
}

/// Deliveries in flight and what is known of each destination.
struct Dispatcher {
    overflow: Overflow,
    inflight: JoinSet<Done>,
    per_destination: HashMap<String, u32>,
    /// Destinations that answered `Retry-After`: nothing goes to them before this instant.
    throttled: HashMap<String, DateTime<Utc>>,
    /// [`Overflow::Wait`] only: claimed items waiting for a slot of their destination.
    waiting: Vec<(String, OutboxItem)>,
}

impl Dispatcher {
    fn new(overflow: Overflow) -> Dispatcher {
        Dispatcher {
            overflow,
            inflight: JoinSet::new(),
            per_destination: HashMap::new(),
            throttled: HashMap::new(),
            waiting: Vec::new(),
        }
    }
}

impl<S: Store> Engine<S> {
    /// One round of delivery (tests and tools): claims what is due, delivers it within the
    /// per-destination limit, and returns when every claimed item has been attempted or
    /// put back; returns how many were attempted.
    pub async fn deliver_outbox_once(&self) -> Result<usize> {
        let mut d = Dispatcher::new(Overflow::Wait);
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
    /// moment to end (the others are re-sent after their lease, with the same key).
    pub(crate) async fn outbox_worker(
        &self,
        mut stop: watch::Receiver<bool>,
        alive: &super::workers::Liveness,
    ) {
        let poll = self.inner.config.outbox.poll_interval;
        let mut d = Dispatcher::new(Overflow::Defer);
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
    }

    /// Claims due items for the free delivery slots and starts those whose destination
    /// has room; the others are put back (or kept for a slot, [`Overflow::Wait`]) in the
    /// claim's transaction. Returns how many deliveries it started.
    async fn fill(&self, d: &mut Dispatcher) -> Result<usize> {
        let config = &self.inner.config.outbox;
        let free = config
            .batch
            .saturating_sub((d.inflight.len() + d.waiting.len()) as u32);
        let now = Utc::now();
        if free == 0 || !self.inner.store.due_work(now).await?.due_outbox {
            return Ok(0);
        }
        let lease_until = now + chrono::Duration::from_std(config.lease).unwrap_or_default();
        let defer_until = now + chrono::Duration::from_std(config.defer).unwrap_or_default();
        let mut tx = self.inner.store.begin().await?;
        let items = tx.claim_outbox(now, lease_until, free).await?;
        let mut start = Vec::new();
        let mut put_back = Vec::new();
        let mut slots = d.per_destination.clone();
        for mut item in items {
            let dest = self.inner.deliverer.destination(&item);
            if let Some(until) = d.throttled.get(&dest).copied().filter(|t| *t > now) {
                item.next_attempt_at = until;
                put_back.push(item);
                continue;
            }
            let used = slots.entry(dest.clone()).or_default();
            if *used < config.per_destination {
                *used += 1;
                start.push((dest, item));
            } else if d.overflow == Overflow::Wait {
                d.waiting.push((dest, item));
            } else {
                item.next_attempt_at = defer_until;
                put_back.push(item);
            }
        }
        for item in &put_back {
            tx.update_outbox(item).await?;
        }
        tx.commit().await?;
        let n = start.len();
        for (dest, item) in start {
            self.start_delivery(d, dest, item);
        }
        Ok(n)
    }

    fn start_delivery(&self, d: &mut Dispatcher, dest: String, item: OutboxItem) {
        *d.per_destination.entry(dest.clone()).or_default() += 1;
        let engine = self.clone();
        d.inflight.spawn(async move {
            let outcome = engine.inner.deliverer.deliver(&item).await;
            (dest, item, outcome)
        });
    }

    /// Records `first` and every other outcome ready now in one write, frees their slots,
    /// and starts waiting items that now have room. Returns how many it started.
    async fn settle(
        &self,
        d: &mut Dispatcher,
        first: std::result::Result<Done, JoinError>,
    ) -> Result<usize> {
        let mut ready: Vec<Done> = first.into_iter().collect();
        while let Some(more) = d.inflight.try_join_next() {
            ready.extend(more.ok());
        }
        let now = Utc::now();
        for (dest, _, outcome) in &ready {
            if let Some(n) = d.per_destination.get_mut(dest) {
                *n = n.saturating_sub(1);
            }
            if let DeliveryOutcome::Throttled { after, .. } = outcome {
                let until = now + chrono::Duration::from_std(*after).unwrap_or_default();
                d.throttled.insert(dest.clone(), until);
            }
        }
        d.throttled.retain(|_, until| *until > now);
        if !ready.is_empty() {
            let mut tx = self.inner.store.begin().await?;
            for (_, mut item, outcome) in ready {
                self.record_outcome(&mut tx, &mut item, outcome).await?;
            }
            tx.commit().await?;
        }
        self.start_waiting(d).await
    }

    /// [`Overflow::Wait`]: starts waiting items whose destination has room; those whose
    /// destination is throttled are put back until then.
    async fn start_waiting(&self, d: &mut Dispatcher) -> Result<usize> {
        let limit = self.inner.config.outbox.per_destination;
        let now = Utc::now();
        let mut started = 0;
        let mut put_back = Vec::new();
        for (dest, mut item) in std::mem::take(&mut d.waiting) {
            if let Some(until) = d.throttled.get(&dest).copied().filter(|t| *t > now) {
                item.next_attempt_at = until;
                put_back.push(item);
            } else if d.per_destination.get(&dest).copied().unwrap_or(0) < limit {
                self.start_delivery(d, dest, item);
                started += 1;
            } else {
                d.waiting.push((dest, item));
            }
        }
        if !put_back.is_empty() {
            let mut tx = self.inner.store.begin().await?;
            for item in &put_back {
                tx.update_outbox(item).await?;
            }
            tx.commit().await?;
        }
        Ok(started)
    }

    async fn record_outcome(
        &self,
        tx: &mut S::Tx,
        item: &mut OutboxItem,
        outcome: DeliveryOutcome,
    ) -> Result<()> {
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
                tx.insert_mail(&MailboxMessage {
                    id: new_id("mail"),
                    workspace_id: item.workspace_id.clone(),
                    outbox_id: item.id.clone(),
                    to,
                    cc,
                    subject,
                    body,
                    created_at: now,
                })
                .await?;
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
        if let (Some(_), Some(run_id), Some(step_id)) = (&item.retry, &item.run_id, &item.step_id) {
            // The step keeps the latest failure also once a later try delivered.
            let last_error = item.last_error.as_deref().or(earlier_error.as_deref());
            tx.note_step_attempts(
                &item.workspace_id,
                run_id,
                step_id,
                item.attempts,
                last_error,
            )
            .await?;
        }
        tx.update_outbox(item).await
    }
}
