//! Delivering outbox items: claim a batch under a lease, deliver concurrently outside any
//! transaction, and record each outcome (delivered, retry with backoff, dead) as soon as
//! its delivery ends, grouping whatever outcomes are ready into one small write.
//!
//! Must never hold a transaction across a delivery, nor hold finished outcomes back for
//! the rest of the batch: each delivered-but-unrecorded item is one more re-send after a
//! crash (the same idempotency key, so receivers deduplicate).

use chrono::Utc;
use tokio::task::JoinSet;

use super::Engine;
use crate::error::Result;
use crate::model::*;
use crate::outbox::DeliveryOutcome;
use crate::store::{Store, StoreTx};

impl<S: Store> Engine<S> {
    /// One round of delivery; returns how many items were attempted.
    pub async fn deliver_outbox_once(&self) -> Result<usize> {
        let config = &self.inner.config.outbox;
        let now = Utc::now();
        if !self.inner.store.due_work(now).await?.due_outbox {
            return Ok(0);
        }
        let lease_until = now + chrono::Duration::from_std(config.lease).unwrap_or_default();
        let mut tx = self.inner.store.begin().await?;
        let items = tx.claim_outbox(now, lease_until, config.batch).await?;
        tx.commit().await?;
        if items.is_empty() {
            return Ok(0);
        }
        let n = items.len();
        let mut set = JoinSet::new();
        for item in items {
            let engine = self.clone();
            set.spawn(async move {
                let outcome = engine.inner.deliverer.deliver(&item).await;
                (item, outcome)
            });
        }
        // Record outcomes as they come in, never waiting for the slowest delivery of the
        // batch: a crash then re-sends only deliveries whose exchange was in flight (or
        // whose outcome was in its small write), not every item already delivered.
        while let Some(first) = set.join_next().await {
            let mut ready = Vec::new();
            ready.extend(first.ok());
            while let Some(more) = set.try_join_next() {
                ready.extend(more.ok());
            }
            if ready.is_empty() {
                continue;
            }
            let mut tx = self.inner.store.begin().await?;
            for (mut item, outcome) in ready {
                self.record_outcome(&mut tx, &mut item, outcome).await?;
            }
            tx.commit().await?;
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

    async fn record_outcome(
        &self,
        tx: &mut S::Tx,
        item: &mut OutboxItem,
        outcome: DeliveryOutcome,
    ) -> Result<()> {
        let config = &self.inner.config.outbox;
        let now = Utc::now();
        item.attempts += 1;
        // Errors are answered by `/outbox` and may quote a URL: credentials never stored.
        let outcome = match outcome {
            DeliveryOutcome::Retry(e) => DeliveryOutcome::Retry(crate::secrets::redact_text(&e)),
            DeliveryOutcome::Dead(e) => DeliveryOutcome::Dead(crate::secrets::redact_text(&e)),
            other => other,
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
            DeliveryOutcome::Retry(e) if item.attempts < i64::from(config.max_attempts) => {
                item.last_error = Some(e);
                item.next_attempt_at = config.next_attempt_at(now, item.attempts as u32);
            }
            DeliveryOutcome::Retry(e) => {
                item.status = OutboxStatus::Dead;
                item.last_error = Some(format!("{e} (gave up after {} attempts)", item.attempts));
            }
            DeliveryOutcome::Dead(e) => {
                item.status = OutboxStatus::Dead;
                item.last_error = Some(e);
            }
        }
        tx.update_outbox(item).await
    }
}
