//! Delivering outbox items: claim a batch under a lease, deliver concurrently outside any
//! transaction, record the outcomes (delivered, retry with backoff, dead) in one write.

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
        let mut set = JoinSet::new();
        for item in items {
            let engine = self.clone();
            set.spawn(async move {
                let outcome = engine.inner.deliverer.deliver(&item).await;
                (item, outcome)
            });
        }
        let mut results = Vec::with_capacity(set.len());
        while let Some(r) = set.join_next().await {
            if let Ok(pair) = r {
                results.push(pair);
            }
        }
        let n = results.len();
        let mut tx = self.inner.store.begin().await?;
        for (mut item, outcome) in results {
            self.record_outcome(&mut tx, &mut item, outcome).await?;
        }
        tx.commit().await?;
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
