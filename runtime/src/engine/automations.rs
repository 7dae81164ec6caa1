//! Automations and their immutable versions; the plan cache; rebuilding the dispatch index.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use super::Engine;
use crate::dispatch::{DispatchEntry, DispatchIndex};
use crate::error::{Result, RuntimeError};
use crate::model::*;
use crate::plan::Plan;
use crate::store::{Store, StoreTx};

impl<S: Store> Engine<S> {
    /// Compiles and stores a new automation (version 1). Returns it with the warnings.
    pub async fn create_automation(
        &self,
        ws: &str,
        definition: Value,
    ) -> Result<(Automation, Vec<Value>)> {
        let compiled = self.inner.compiler.compile(ws, &definition)?;
        let now = Utc::now();
        let a = Automation {
            id: new_id("aut"),
            workspace_id: ws.to_string(),
            name: compiled.name.clone(),
            status: compiled.status,
            environment: compiled.environment,
            current_version: 1,
            shadows_id: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.inner.store.begin().await?;
        tx.insert_automation(&a).await?;
        tx.insert_version(&version_row(&a, definition)).await?;
        audit(
            &mut tx,
            ws,
            "automation.create",
            &a.id,
            json!({ "version": 1 }),
        )
        .await?;
        tx.commit().await?;
        self.cache_plan(&a.id, 1, compiled.plan);
        self.rebuild_index().await?;
        Ok((a, compiled.warnings))
    }

    /// Replaces the definition: a new immutable version. Waiting runs keep their version.
    /// An archived automation cannot be edited (Conflict).
    pub async fn update_automation(
        &self,
        ws: &str,
        id: &str,
        definition: Value,
    ) -> Result<(Automation, Vec<Value>)> {
        let compiled = self.inner.compiler.compile(ws, &definition)?;
        let mut tx = self.inner.store.begin().await?;
        let mut a = tx
            .automation(ws, id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("automation", id))?;
        if a.status == AutomationStatus::Archived {
            return Err(RuntimeError::Conflict(format!(
                "automation {id} is archived and read-only"
            )));
        }
        a.current_version += 1;
        a.name = compiled.name.clone();
        a.status = compiled.status;
        a.environment = compiled.environment;
        a.updated_at = Utc::now();
        tx.update_automation(&a).await?;
        tx.insert_version(&version_row(&a, definition)).await?;
        audit(
            &mut tx,
            ws,
            "automation.update",
            id,
            json!({ "version": a.current_version }),
        )
        .await?;
        tx.commit().await?;
        self.cache_plan(id, a.current_version, compiled.plan);
        self.rebuild_index().await?;
        Ok((a, compiled.warnings))
    }

    /// `draft`, `active`, `paused` or `archived`; leaving `archived` is a Conflict.
    pub async fn set_automation_status(
        &self,
        ws: &str,
        id: &str,
        status: AutomationStatus,
    ) -> Result<Automation> {
        let mut tx = self.inner.store.begin().await?;
        let mut a = tx
            .automation(ws, id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("automation", id))?;
        if a.status == AutomationStatus::Archived && status != AutomationStatus::Archived {
            return Err(RuntimeError::Conflict(format!(
                "automation {id} is archived and read-only"
            )));
        }
        a.status = status;
        a.updated_at = Utc::now();
        tx.update_automation(&a).await?;
        audit(
            &mut tx,
            ws,
            "automation.status",
            id,
            json!({ "status": status }),
        )
        .await?;
        tx.commit().await?;
        self.rebuild_index().await?;
        Ok(a)
    }

    pub async fn automation(&self, ws: &str, id: &str) -> Result<Automation> {
        self.inner
            .store
            .automation(ws, id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("automation", id))
    }

    pub async fn automations(&self, ws: &str) -> Result<Vec<Automation>> {
        self.inner.store.automations(Some(ws)).await
    }

    /// Every version, newest first.
    pub async fn automation_versions(&self, ws: &str, id: &str) -> Result<Vec<AutomationVersion>> {
        self.automation(ws, id).await?;
        self.inner.store.versions(ws, id).await
    }

    /// The definition JSON of the current version.
    pub async fn automation_definition(&self, ws: &str, id: &str) -> Result<AutomationVersion> {
        let a = self.automation(ws, id).await?;
        self.inner
            .store
            .version(id, a.current_version)
            .await?
            .ok_or_else(|| {
                RuntimeError::Corrupt(format!(
                    "automation {id} lacks version {}",
                    a.current_version
                ))
            })
    }

    /// Makes a sandbox automation live: a new version of the live automation it shadows, or
    /// a new live automation. Returns the live automation.
    pub async fn promote(&self, ws: &str, id: &str) -> Result<Automation> {
        let sandbox = self.automation(ws, id).await?;
        if sandbox.environment != EnvironmentKind::Sandbox {
            return Err(RuntimeError::Conflict(format!(
                "automation {id} is not a sandbox automation"
            )));
        }
        let mut def = self.automation_definition(ws, id).await?.definition;
        if let Value::Object(m) = &mut def {
            m.insert("environment".into(), json!("live"));
        }
        let live = match &sandbox.shadows_id {
            Some(live_id) => self.update_automation(ws, live_id, def).await?.0,
            None => {
                let (live, _) = self.create_automation(ws, def).await?;
                let mut tx = self.inner.store.begin().await?;
                let mut s = sandbox.clone();
                s.shadows_id = Some(live.id.clone());
                tx.update_automation(&s).await?;
                tx.commit().await?;
                live
            }
        };
        Ok(live)
    }

    /// Reloads every active automation and swaps in a fresh dispatch index.
    pub async fn rebuild_index(&self) -> Result<()> {
        let mut automations = self.inner.store.automations(None).await?;
        // Oldest first, so that an event's runs are created in the automations' order.
        automations.sort_by(|a, b| a.id.cmp(&b.id));
        let mut sandbox_on: HashMap<String, bool> = HashMap::new();
        let mut entries = Vec::new();
        for a in automations
            .into_iter()
            .filter(|a| a.status == AutomationStatus::Active)
        {
            let dry_run = a.environment == EnvironmentKind::Sandbox;
            if dry_run {
                let on = match sandbox_on.get(&a.workspace_id) {
                    Some(on) => *on,
                    None => {
                        let on = self
                            .inner
                            .store
                            .workspace(&a.workspace_id)
                            .await?
                            .is_some_and(|w| w.sandbox_active);
                        sandbox_on.insert(a.workspace_id.clone(), on);
                        on
                    }
                };
                if !on {
                    continue;
                }
            }
            let plan = self.plan(&a.id, a.current_version).await?;
            entries.push(DispatchEntry {
                workspace_id: a.workspace_id.clone(),
                automation_id: a.id.clone(),
                version: a.current_version,
                plan,
                dry_run,
            });
        }
        let schemas = self.inner.schema.clone();
        self.inner
            .index
            .store(Arc::new(DispatchIndex::build_per_workspace(
                entries,
                |ws| Arc::new(crate::expr::SchemaTargets(schemas.view(ws))),
            )));
        Ok(())
    }

    pub(crate) fn cache_plan(&self, id: &str, version: i64, plan: Plan) -> Arc<Plan> {
        let plan = Arc::new(plan);
        self.inner
            .plans
            .lock()
            .expect("plan cache lock")
            .insert((id.to_string(), version), plan.clone());
        plan
    }

    fn cached_plan(&self, id: &str, version: i64) -> Option<Arc<Plan>> {
        self.inner
            .plans
            .lock()
            .expect("plan cache lock")
            .get(&(id.to_string(), version))
            .cloned()
    }

    /// The plan of one version (cached; versions are immutable).
    pub(crate) async fn plan(&self, id: &str, version: i64) -> Result<Arc<Plan>> {
        if let Some(p) = self.cached_plan(id, version) {
            return Ok(p);
        }
        let v = self
            .inner
            .store
            .version(id, version)
            .await?
            .ok_or_else(|| RuntimeError::not_found("automation version", id))?;
        Ok(self.cache_plan(
            id,
            version,
            self.inner
                .compiler
                .compile(&v.workspace_id, &v.definition)?
                .plan,
        ))
    }

    /// Same, reading through an open write transaction.
    pub(crate) async fn plan_in_tx(
        &self,
        tx: &mut S::Tx,
        id: &str,
        version: i64,
    ) -> Result<Arc<Plan>> {
        if let Some(p) = self.cached_plan(id, version) {
            return Ok(p);
        }
        let v = tx
            .version(id, version)
            .await?
            .ok_or_else(|| RuntimeError::not_found("automation version", id))?;
        Ok(self.cache_plan(
            id,
            version,
            self.inner
                .compiler
                .compile(&v.workspace_id, &v.definition)?
                .plan,
        ))
    }
}

fn version_row(a: &Automation, definition: Value) -> AutomationVersion {
    AutomationVersion {
        workspace_id: a.workspace_id.clone(),
        automation_id: a.id.clone(),
        version: a.current_version,
        definition,
        status: a.status,
        environment: a.environment,
        created_at: a.updated_at,
    }
}

pub(crate) async fn audit<T: StoreTx>(
    tx: &mut T,
    ws: &str,
    action: &str,
    target: &str,
    details: Value,
) -> Result<()> {
    tx.insert_audit(&AuditEntry {
        workspace_id: ws.to_string(),
        actor: "api".into(),
        action: action.into(),
        target: target.into(),
        details,
        created_at: Utc::now(),
    })
    .await
}
