//! The one effect path (DESIGN §7). Every side effect of a step — record writes, tasks,
//! notifications, email, Slack, webhooks — goes through [`Engine::apply_effect`]: applied
//! in the step's transaction (external ones as outbox rows), or in dry-run only recorded
//! with `applied: false` and a synthetic id.

use chrono::Utc;
use serde_json::{Value, json};

use super::Engine;
use crate::error::RuntimeError;
use crate::hooks::{EffectRequest, PluginFailure};
use crate::model::*;
use crate::records::Cause;
use crate::store::{Store, StoreTx};
use automations_compiler::retry::ErrorClass;

/// Who is producing effects: one step of one run.
pub(crate) struct StepScope<'a> {
    pub ws: &'a str,
    pub run_id: &'a str,
    pub automation_id: &'a str,
    pub step_id: &'a str,
    /// The triggering event's envelope (its payload is the run's context's by then).
    pub event: &'a Event,
    pub dry_run: bool,
    /// The step's retry policy when it governs the step's delivery (DESIGN §6, a `retry`
    /// on a `webhook`, `send_email` or `send_notification` step); kept on its outbox row.
    pub delivery: Option<DeliveryRetry>,
}

impl StepScope<'_> {
    /// The causation chain of events this step's writes raise.
    pub fn cause(&self) -> Cause {
        let mut chain = self.event.causation.clone();
        chain.push(CausationLink {
            event_id: self.event.id.clone(),
            automation_id: self.automation_id.to_string(),
            run_id: self.run_id.to_string(),
            object: self.event.object.clone(),
            record_id: self.event.record_id.clone(),
        });
        Cause { chain }
    }
}

/// A step-level failure (the step fails: its retry policy may try it again, else the run
/// fails) or a storage failure (the whole transaction is abandoned and retried later).
#[derive(Debug)]
pub(crate) enum StepError {
    /// A failure that would happen again (bad params, validation, caps).
    Step(String),
    /// A failure that may pass (DESIGN §6: what a retry policy can retry).
    Transient(ErrorClass, String),
    /// A failed plugin call, with the lines it logged (and its class, if transient).
    Plugin(PluginFailure),
    Fatal(RuntimeError),
}

impl From<RuntimeError> for StepError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::Database(_) | RuntimeError::Corrupt(_) | RuntimeError::Migration(_) => {
                StepError::Fatal(e)
            }
            // A write that lost a race with a concurrent one may succeed on another attempt
            // (a `Conflict` such as "already exists" would not). On SQLite, whose one
            // writer serialises every write, record writes never lose such a race.
            RuntimeError::Stale { .. } => StepError::Transient(ErrorClass::Conflict, e.to_string()),
            other => StepError::Step(other.to_string()),
        }
    }
}

fn detail(req: &EffectRequest) -> (EffectKind, Value) {
    match req {
        EffectRequest::UpdateRecord { object, id, fields } => (
            EffectKind::RecordUpdate,
            json!({"object": object, "id": id, "fields": fields}),
        ),
        EffectRequest::CreateRecord { object, fields } => (
            EffectKind::RecordCreate,
            json!({"object": object, "fields": fields}),
        ),
        EffectRequest::Notify { user_id, message } => (
            EffectKind::Notification,
            json!({"user_id": user_id, "message": message}),
        ),
        EffectRequest::Email {
            to,
            cc,
            subject,
            body,
        } => (
            EffectKind::Email,
            json!({"to": to, "cc": cc, "subject": subject, "body": body}),
        ),
        EffectRequest::Slack { text, target } => {
            (EffectKind::Slack, json!({"text": text, "target": target}))
        }
        EffectRequest::Webhook {
            url,
            method,
            headers,
            body,
            ..
        } => (
            EffectKind::Webhook,
            json!({"url": url, "method": method, "headers": headers, "body": body}),
        ),
    }
}

impl<S: Store> Engine<S> {
    /// A run's record write queued runs: the run loop must come round for them (see
    /// `combiner`, which otherwise does not wake it after a group whose runs all started).
    fn note_cascade(&self, queued: &[Run]) {
        if !queued.is_empty() {
            self.inner
                .cascade_queued
                .store(true, std::sync::atomic::Ordering::Release);
        }
    }

    /// Applies (or in dry-run records) effect number `n` of a step. Returns the effect and,
    /// for writes, the id written.
    pub(crate) async fn apply_effect(
        &self,
        tx: &mut S::Tx,
        scope: &StepScope<'_>,
        n: usize,
        req: EffectRequest,
    ) -> Result<Effect, StepError> {
        let (kind, mut detail) = detail(&req);
        if scope.dry_run {
            // Validate writes as the live path would, so a dry-run fails where live would.
            match &req {
                EffectRequest::UpdateRecord { object, fields, .. }
                | EffectRequest::CreateRecord { object, fields } => {
                    crate::records::validate_fields(
                        self.schema(scope.ws).as_ref(),
                        object,
                        fields,
                    )?;
                }
                _ => {}
            }
            return Ok(Effect {
                kind,
                applied: false,
                id: Some(new_id("dry")),
                detail,
            });
        }
        let id = match req {
            EffectRequest::UpdateRecord { object, id, fields } => {
                let op = super::RecordOp::Update {
                    object,
                    id: id.clone(),
                    fields,
                };
                let written = self.write_in_tx(tx, scope.ws, op, &scope.cause()).await?;
                self.note_cascade(&written.queued);
                id
            }
            EffectRequest::CreateRecord { object, fields } => {
                let op = super::RecordOp::Create {
                    object,
                    record: super::NewRecord { id: None, fields },
                };
                let written = self.write_in_tx(tx, scope.ws, op, &scope.cause()).await?;
                self.note_cascade(&written.queued);
                let id = written.record.map(|r| r.id).unwrap_or_default();
                detail["id"] = json!(id);
                id
            }
            EffectRequest::Notify { user_id, message } => {
                let n = Notification {
                    id: new_id("ntf"),
                    workspace_id: scope.ws.to_string(),
                    user_id,
                    message,
                    run_id: Some(scope.run_id.to_string()),
                    step_id: Some(scope.step_id.to_string()),
                    read_at: None,
                    created_at: Utc::now(),
                };
                tx.insert_notification(&n).await.map_err(StepError::Fatal)?;
                n.id
            }
            EffectRequest::Email {
                to,
                cc,
                subject,
                body,
            } => {
                let payload = json!({"to": to, "cc": cc, "subject": subject, "body": body});
                self.enqueue(tx, scope, n, OutboxKind::Email, payload)
                    .await?
            }
            EffectRequest::Slack { text, target } => {
                let payload = json!({"text": text, "target": target});
                self.enqueue(tx, scope, n, OutboxKind::Slack, payload)
                    .await?
            }
            EffectRequest::Webhook {
                url,
                method,
                headers,
                body,
                secret,
            } => {
                let payload = json!({"url": url, "method": method, "headers": headers, "body": body, "secret": secret});
                self.enqueue(tx, scope, n, OutboxKind::Webhook, payload)
                    .await?
            }
        };
        Ok(Effect {
            kind,
            applied: true,
            id: Some(id),
            detail,
        })
    }

    /// Writes an outbox row keyed `{run}:{step}:{n}`: a re-executed step (retry, crash
    /// recovery) finds its key taken and enqueues nothing new.
    async fn enqueue(
        &self,
        tx: &mut S::Tx,
        scope: &StepScope<'_>,
        n: usize,
        kind: OutboxKind,
        payload: Value,
    ) -> Result<String, StepError> {
        let now = Utc::now();
        let item = OutboxItem {
            id: new_id("obx"),
            workspace_id: scope.ws.to_string(),
            kind,
            status: OutboxStatus::Pending,
            attempts: 0,
            last_error: None,
            payload,
            run_id: Some(scope.run_id.to_string()),
            step_id: Some(scope.step_id.to_string()),
            idempotency_key: format!("{}:{}:{n}", scope.run_id, scope.step_id),
            next_attempt_at: now,
            created_at: now,
            delivered_at: None,
            retry: scope.delivery.clone(),
        };
        // Deferred to one statement for the batch: nothing in the transaction reads it.
        tx.queue_outbox(&item).await.map_err(StepError::Fatal)?;
        Ok(item.id)
    }
}
