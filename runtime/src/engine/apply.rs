//! Several automation changes in one transaction: all of them or none (`automations
//! apply`, `POST /automations/apply`).
//!
//! Every definition is compiled before the transaction opens, so an invalid one refuses
//! the whole set without a write; each update and archive is conditional on the version
//! the caller saw (a stale one refuses the whole set too). Plans are cached and the
//! dispatch index rebuilt once, after the commit.

use serde_json::{Map, Value, json};

use super::Engine;
use super::automations::{
    current_in_tx, keep_environment, new_automation, next_version, reject_archived, version_row,
};
use crate::error::Result;
use crate::hooks::CompiledDefinition;
use crate::model::*;
use crate::plan::Plan;
use crate::store::{Store, StoreTx};

/// One change of a set applied together.
#[derive(Debug, Clone)]
pub enum AutomationChange {
    Create {
        definition: Value,
    },
    /// A new version of `id` when its version is still `expected` (any when `None`).
    Update {
        id: String,
        expected: Option<i64>,
        definition: Value,
    },
    /// Archives `id` when its version is still `expected` (any when `None`).
    Archive {
        id: String,
        expected: Option<i64>,
    },
}

/// What one change did: `created`, `updated` or `archived`, and the automation after it.
#[derive(Debug, Clone)]
pub struct AppliedChange {
    pub op: &'static str,
    pub automation: Automation,
}

/// A change with its definition compiled.
enum Prepared {
    Create {
        definition: Value,
        compiled: CompiledDefinition,
    },
    Update {
        id: String,
        expected: Option<i64>,
        definition: Value,
        compiled: CompiledDefinition,
    },
    Archive {
        id: String,
        expected: Option<i64>,
    },
}

impl<S: Store> Engine<S> {
    /// Applies `changes` in order in one transaction, audited as made by `actor`.
    pub async fn apply_changes(
        &self,
        ws: &str,
        changes: Vec<AutomationChange>,
        actor: &Actor,
    ) -> Result<Vec<AppliedChange>> {
        let mut prepared = Vec::with_capacity(changes.len());
        for change in changes {
            prepared.push(self.prepare(ws, change).await?);
        }
        let mut tx = self.inner.store.begin().await?;
        let mut written = Vec::with_capacity(prepared.len());
        for change in prepared {
            written.push(write_change(&mut tx, ws, change, actor).await?);
        }
        tx.commit().await?;
        let mut applied = Vec::with_capacity(written.len());
        for (done, plan) in written {
            if let Some(plan) = plan {
                let a = &done.automation;
                self.cache_plan(ws, &a.id, a.current_version, plan);
            }
            applied.push(done);
        }
        self.rebuild_index().await?;
        Ok(applied)
    }

    async fn prepare(&self, ws: &str, change: AutomationChange) -> Result<Prepared> {
        let compile = |definition: &Value| self.inner.compiler.compile(ws, definition);
        Ok(match change {
            AutomationChange::Create { definition } => Prepared::Create {
                compiled: compile(&definition)?,
                definition,
            },
            AutomationChange::Update {
                id,
                expected,
                mut definition,
            } => {
                keep_environment(&self.automation(ws, &id).await?, &mut definition)?;
                Prepared::Update {
                    compiled: compile(&definition)?,
                    id,
                    expected,
                    definition,
                }
            }
            AutomationChange::Archive { id, expected } => Prepared::Archive { id, expected },
        })
    }
}

/// Writes one change; answers it with the plan to cache once committed.
async fn write_change<T: StoreTx>(
    tx: &mut T,
    ws: &str,
    change: Prepared,
    actor: &Actor,
) -> Result<(AppliedChange, Option<Plan>)> {
    let now = crate::model::stored_now();
    let (op, action, a, plan) = match change {
        Prepared::Create {
            definition,
            compiled,
        } => {
            let a = new_automation(ws, &compiled, now);
            tx.insert_automation(&a).await?;
            tx.insert_version(&version_row(&a, definition)).await?;
            (
                "created",
                AuditAction::AutomationCreate,
                a,
                Some(compiled.plan),
            )
        }
        Prepared::Update {
            id,
            expected,
            definition,
            compiled,
        } => {
            let mut a = current_in_tx(tx, ws, &id, expected).await?;
            reject_archived(&a)?;
            next_version(&mut a, &compiled, now);
            tx.update_automation(&a).await?;
            tx.insert_version(&version_row(&a, definition)).await?;
            (
                "updated",
                AuditAction::AutomationUpdate,
                a,
                Some(compiled.plan),
            )
        }
        Prepared::Archive { id, expected } => {
            let mut a = current_in_tx(tx, ws, &id, expected).await?;
            a.status = AutomationStatus::Archived;
            a.updated_at = now;
            tx.update_automation(&a).await?;
            ("archived", AuditAction::AutomationDelete, a, None)
        }
    };
    let mut details = Map::new();
    details.insert("name".into(), json!(a.name));
    details.insert("version".into(), json!(a.current_version));
    details.insert("via".into(), json!("apply"));
    let entry = AuditEntry::new(ws, actor, action, &a.id, details.into());
    tx.insert_audit(&entry).await?;
    Ok((AppliedChange { op, automation: a }, plan))
}
