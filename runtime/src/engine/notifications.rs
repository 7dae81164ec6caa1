//! In-app notifications (`notify_user`, `send_notification` on `in_app`, escalations):
//! a user's list, unread first, and marking them read. Marking is idempotent: a
//! notification read once keeps its first `read_at`.

use chrono::Utc;

use super::Engine;
use crate::error::{Result, RuntimeError};
use crate::model::*;
use crate::store::{Store, StoreTx};

impl<S: Store> Engine<S> {
    /// A page of notifications, unread first, then newest first.
    pub async fn notification_page(
        &self,
        ws: &str,
        filter: &NotificationFilter,
    ) -> Result<Page<Notification>> {
        self.inner.store.notification_page(ws, filter).await
    }

    /// Marks one notification read (a no-op when it already is) and returns it.
    pub async fn mark_notification_read(&self, ws: &str, id: &str) -> Result<Notification> {
        let mut tx = self.inner.store.begin().await?;
        tx.mark_notifications_read(ws, Some(id), None, Utc::now())
            .await?;
        tx.commit().await?;
        self.inner
            .store
            .notification(ws, id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("notification", id))
    }

    /// Marks every unread notification of `user_id` read; returns how many changed.
    pub async fn mark_all_notifications_read(&self, ws: &str, user_id: &str) -> Result<u64> {
        let mut tx = self.inner.store.begin().await?;
        let n = tx
            .mark_notifications_read(ws, None, Some(user_id), Utc::now())
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}
