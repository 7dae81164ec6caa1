//! Automations and their immutable versions; the plan cache; rebuilding the dispatch index.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::Engine;
use super::exec_plan::ExecPlan;
use crate::cycles;
use crate::dispatch::{DispatchEntry, DispatchIndex, ExcludedEntry, Slot};
use crate::error::{Result, RuntimeError};
use crate::hooks::{CompiledDefinition, Warnings};
use crate::model::*;
use crate::plan::Plan;
use crate::record_log::Excluded;
use crate::store::{Store, StoreTx};
use automations_compiler::diagnostic::Diagnostic;

impl<S: Store> Engine<S> {
    /// Compiles and stores a new automation (version 1). Returns it with the warnings.
    pub async fn create_automation(
        &self,
        ws: &str,
        definition: Value,
    ) -> Result<(Automation, Warnings)> {
        self.create_automation_by(ws, definition, &Actor::system())
            .await
    }

    /// [`Self::create_automation`], audited as made by `actor`.
    pub async fn create_automation_by(
        &self,
        ws: &str,
        definition: Value,
        actor: &Actor,
    ) -> Result<(Automation, Warnings)> {
        let compiled = self.inner.compiler.compile(ws, &definition)?;
        let now = stored_now();
        let a = new_automation(ws, &compiled, now);
        let mut tx = self.inner.store.begin().await?;
        tx.insert_automation(&a).await?;
        let change = VersionChange {
            action: AuditAction::AutomationCreate,
            actor,
            details: Map::new(),
        };
        self.commit_version(tx, a, definition, compiled, change)
            .await
    }

    /// Replaces the definition: a new immutable version. Waiting runs keep their version.
    /// An archived automation cannot be edited (Conflict).
    pub async fn update_automation(
        &self,
        ws: &str,
        id: &str,
        definition: Value,
    ) -> Result<(Automation, Warnings)> {
        self.update_automation_at(ws, id, definition, None, &Actor::system())
            .await
    }

    /// [`Self::update_automation`] when the current version is still `expected` (the
    /// caller's `If-Match`), compared inside the write transaction: of concurrent writers
    /// that saw the same version exactly one succeeds, the others get [`RuntimeError::Stale`].
    /// Audited as made by `actor`.
    pub async fn update_automation_at(
        &self,
        ws: &str,
        id: &str,
        definition: Value,
        expected: Option<i64>,
        actor: &Actor,
    ) -> Result<(Automation, Warnings)> {
        let mut definition = definition;
        // An automation's environment is set when it is made and never changes.
        keep_environment(&self.automation(ws, id).await?, &mut definition)?;
        let compiled = self.inner.compiler.compile(ws, &definition)?;
        let mut tx = self.inner.store.begin().await?;
        let mut a = current_in_tx(&mut tx, ws, id, expected).await?;
        reject_archived(&a)?;
        next_version(&mut a, &compiled, stored_now());
        tx.update_automation(&a).await?;
        let change = VersionChange {
            action: AuditAction::AutomationUpdate,
            actor,
            details: Map::new(),
        };
        self.commit_version(tx, a, definition, compiled, change)
            .await
    }

    /// The rest of create and update: the version row, the audit entry, the commit, the
    /// plan cache and index, and the warnings (the compiler's and static cycles).
    pub(super) async fn commit_version(
        &self,
        mut tx: S::Tx,
        a: Automation,
        definition: Value,
        compiled: CompiledDefinition,
        change: VersionChange<'_>,
    ) -> Result<(Automation, Warnings)> {
        let ws = a.workspace_id.clone();
        tx.insert_version(&version_row(&a, definition)).await?;
        let mut details = change.details;
        details.insert("name".into(), json!(a.name));
        details.insert("version".into(), json!(a.current_version));
        let entry = AuditEntry::new(&ws, change.actor, change.action, &a.id, details.into());
        tx.insert_audit(&entry).await?;
        tx.commit().await?;
        let plan = self
            .cache_plan(&ws, &a.id, a.current_version, compiled.plan)
            .plan
            .clone();
        self.reindex_automation(&ws, &a.id).await?;
        let warnings = Warnings {
            definition: compiled.warnings,
            workspace: self.cycle_warnings(&a, &plan).await?,
        };
        Ok((a, warnings))
    }

    /// `draft`, `active`, `paused` or `archived`; leaving `archived` is a Conflict.
    pub async fn set_automation_status(
        &self,
        ws: &str,
        id: &str,
        status: AutomationStatus,
    ) -> Result<Automation> {
        Ok(self.change_automation_status(ws, id, status).await?.0)
    }

    /// [`Self::set_automation_status`] with the warnings of activating it (static cycles,
    /// W0307); no warnings for other statuses.
    pub async fn change_automation_status(
        &self,
        ws: &str,
        id: &str,
        status: AutomationStatus,
    ) -> Result<(Automation, Warnings)> {
        self.change_automation_status_at(ws, id, status, None, &Actor::system())
            .await
    }

    /// [`Self::change_automation_status`] when the current version is still `expected`,
    /// compared inside the write transaction (a status change makes no version, so only
    /// edits in between make it stale). Audited as made by `actor`.
    pub async fn change_automation_status_at(
        &self,
        ws: &str,
        id: &str,
        status: AutomationStatus,
        expected: Option<i64>,
        actor: &Actor,
    ) -> Result<(Automation, Warnings)> {
        let change = StatusChange {
            status,
            expected,
            actor,
            action: AuditAction::AutomationStatus,
        };
        self.status_change(ws, id, change).await
    }

    /// `DELETE /automations/{id}`: archives it (its runs stay readable), audited as a
    /// delete made by `actor`.
    pub async fn archive_automation_at(
        &self,
        ws: &str,
        id: &str,
        expected: Option<i64>,
        actor: &Actor,
    ) -> Result<Automation> {
        let change = StatusChange {
            status: AutomationStatus::Archived,
            expected,
            actor,
            action: AuditAction::AutomationDelete,
        };
        Ok(self.status_change(ws, id, change).await?.0)
    }

    async fn status_change(
        &self,
        ws: &str,
        id: &str,
        change: StatusChange<'_>,
    ) -> Result<(Automation, Warnings)> {
        let StatusChange {
            status,
            expected,
            actor,
            action,
        } = change;
        let mut tx = self.inner.store.begin().await?;
        let mut a = current_in_tx(&mut tx, ws, id, expected).await?;
        if a.status == AutomationStatus::Archived && status != AutomationStatus::Archived {
            return Err(RuntimeError::Conflict(format!(
                "automation {id} is archived and read-only"
            )));
        }
        let details =
            json!({ "status": status, "previous": a.status, "version": a.current_version });
        a.status = status;
        a.updated_at = stored_now();
        tx.update_automation(&a).await?;
        let entry = AuditEntry::new(ws, actor, action, id, details);
        tx.insert_audit(&entry).await?;
        tx.commit().await?;
        self.reindex_automation(ws, id).await?;
        let workspace = if status == AutomationStatus::Active {
            let plan = self.plan(ws, id, a.current_version).await?;
            self.cycle_warnings(&a, &plan).await?
        } else {
            Vec::new()
        };
        Ok((
            a,
            Warnings {
                workspace,
                ..Warnings::default()
            },
        ))
    }

    /// W0307 when `a` (with `plan`, taken as active) is on a static trigger cycle with the
    /// workspace's active live automations. Sandbox automations run in dry-run: their
    /// writes raise no events, so they are left out (and get no warning).
    async fn cycle_warnings(&self, a: &Automation, plan: &Plan) -> Result<Vec<Diagnostic>> {
        if a.environment == EnvironmentKind::Sandbox {
            return Ok(Vec::new());
        }
        let index = self.inner.index.load_full();
        let graph = LiveGraph {
            index: &index,
            ws: &a.workspace_id,
        };
        let start = cycles::Node::of(&a.id, plan);
        Ok(cycles::cycle_warning_from(start, &graph)
            .into_iter()
            .collect())
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

    /// The `custom.<name>` events known in workspace `ws` (recorded, or triggering a stored
    /// automation), sorted; at most 1,000.
    pub async fn custom_events(&self, ws: &str) -> Result<Vec<String>> {
        self.inner.store.custom_event_types(ws, 1000).await
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
            .version(ws, id, a.current_version)
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
        self.promote_at(ws, id, None, &Actor::system()).await
    }

    /// [`Self::promote`] when the sandbox automation's current version is still `expected`.
    /// Which live automation it shadows is read and written in the one write transaction,
    /// so concurrent promotes of an unshadowed sandbox make one live automation, not two.
    /// Audited (on the live automation) as made by `actor`.
    pub async fn promote_at(
        &self,
        ws: &str,
        id: &str,
        expected: Option<i64>,
        actor: &Actor,
    ) -> Result<Automation> {
        // A promote racing an edit of the sandbox compiles again (a bounded number of times).
        for _ in 0..8 {
            let sandbox = self.automation(ws, id).await?;
            if sandbox.environment != EnvironmentKind::Sandbox {
                return Err(RuntimeError::Conflict(format!(
                    "automation {id} is not a sandbox automation"
                )));
            }
            check_version(&sandbox, expected)?;
            let mut def = self.automation_definition(ws, id).await?.definition;
            if let Value::Object(m) = &mut def {
                m.insert("environment".into(), json!("live"));
            }
            let compiled = self.inner.compiler.compile(ws, &def)?;
            let mut tx = self.inner.store.begin().await?;
            let mut s = current_in_tx(&mut tx, ws, id, expected).await?;
            if s.current_version != sandbox.current_version {
                continue;
            }
            let live = match &s.shadows_id {
                Some(live_id) => {
                    let mut a = current_in_tx(&mut tx, ws, live_id, None).await?;
                    reject_archived(&a)?;
                    next_version(&mut a, &compiled, stored_now());
                    tx.update_automation(&a).await?;
                    a
                }
                None => {
                    let now = stored_now();
                    let a = new_automation(ws, &compiled, now);
                    tx.insert_automation(&a).await?;
                    s.shadows_id = Some(a.id.clone());
                    tx.update_automation(&s).await?;
                    a
                }
            };
            let mut details = Map::new();
            details.insert("sandbox_id".into(), json!(id));
            details.insert("sandbox_version".into(), json!(s.current_version));
            let change = VersionChange {
                action: AuditAction::AutomationPromote,
                actor,
                details,
            };
            return Ok(self
                .commit_version(tx, live, def, compiled, change)
                .await?
                .0);
        }
        Err(RuntimeError::Conflict(format!(
            "automation {id} kept changing while it was promoted; try again"
        )))
    }

    /// Reloads every active automation and swaps in a fresh dispatch index.
    pub async fn rebuild_index(&self) -> Result<()> {
        let _serial = self.inner.index_lock.lock().await;
        // Read first: a change committed after this read moves the version past it, so
        // the follower rebuilds again (see `follow`).
        let version = self.inner.store.dispatch_version().await?;
        let automations = self.inner.store.automations(None).await?;
        self.warm_plans(&automations).await?;
        let mut sandbox_on: HashMap<String, bool> = HashMap::new();
        let mut entries = Vec::new();
        let mut excluded = Vec::new();
        for a in automations {
            match self.slot_of(&a, &mut sandbox_on).await? {
                Slot::Dispatched(e) => entries.push(e),
                Slot::Excluded(e) => excluded.push(e),
                Slot::Absent => {}
            }
        }
        let schemas = self.inner.schema.clone();
        self.inner.index.store(Arc::new(
            DispatchIndex::build_per_workspace(entries, |ws| {
                Arc::new(crate::expr::SchemaTargets(schemas.view(ws)))
            })
            .with_excluded(excluded),
        ));
        self.inner
            .index_version
            .store(version, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Compiles the current versions of `automations` whose plans are not cached yet, when
    /// there are many (a start, a large import): read a page of definitions at a time
    /// instead of one read per automation, and compiled across the cores. A definition
    /// that fails to compile is left for [`Self::slot_of`] to report. With few missing, the
    /// per-automation path is cheaper than reading every definition.
    async fn warm_plans(&self, automations: &[Automation]) -> Result<()> {
        const BULK_FROM: usize = 64;
        // Small pages keep the definitions read but not yet compiled few (memory).
        const PAGE: u32 = 500;
        let missing = |id: &str, version: i64| self.cached_plan(id, version).is_none();
        let count = automations
            .iter()
            .filter(|a| missing(&a.id, a.current_version))
            .count();
        if count < BULK_FROM {
            return Ok(());
        }
        let mut after: Option<(String, String)> = None;
        loop {
            let key = after.as_ref().map(|(ws, id)| (ws.as_str(), id.as_str()));
            let page = self.inner.store.current_versions(key, PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = Some((last.workspace_id.clone(), last.automation_id.clone()));
            let todo = page
                .into_iter()
                .filter(|v| missing(&v.automation_id, v.version))
                .collect();
            self.compile_all(todo).await;
        }
    }

    /// Compiles and caches `versions` on as many threads as there are cores; failures are
    /// left for [`Self::slot_of`], which compiles the version again and reports them.
    async fn compile_all(&self, versions: Vec<AutomationVersion>) {
        let engine = self.clone();
        let compiled = tokio::task::spawn_blocking(move || {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let chunk = versions.len().div_ceil(threads).max(1);
            std::thread::scope(|scope| {
                for part in versions.chunks(chunk) {
                    let engine = &engine;
                    scope.spawn(move || {
                        for v in part {
                            let _ = engine.compile_version(v);
                        }
                    });
                }
            });
        });
        if let Err(e) = compiled.await {
            // Only a warm-up: `slot_of` compiles whatever is still missing.
            tracing::warn!(error = %e, "compiling plans at once failed");
        }
    }

    /// Brings the dispatch index up to date with automation `id` as stored now: only the
    /// index segments of its old and new trigger are rebuilt, so a create, update or
    /// status change costs in proportion to the automations on those triggers, not to the
    /// workspace. Serialised with every other index change, and reads the automation
    /// under that lock, so concurrent changes of one automation end with its last state.
    pub(crate) async fn reindex_automation(&self, ws: &str, id: &str) -> Result<()> {
        let _serial = self.inner.index_lock.lock().await;
        let slot = match self.inner.store.automation(ws, id).await? {
            Some(a) => self.slot_of(&a, &mut HashMap::new()).await?,
            None => Slot::Absent,
        };
        let targets: Arc<dyn automations_compiler::eval::ReferenceTargets> =
            Arc::new(crate::expr::SchemaTargets(self.inner.schema.view(ws)));
        let next = self
            .inner
            .index
            .load()
            .with_automation(ws, id, slot, targets);
        self.inner.index.store(Arc::new(next));
        Ok(())
    }

    /// Where automation `a` stands in dispatch: dispatched when active (a sandbox one only
    /// while its workspace's sandbox is on; `sandbox_on` caches that per workspace),
    /// otherwise excluded with the reason when the automation log is on, and absent when
    /// its stored definition no longer checks (logged when active).
    async fn slot_of(
        &self,
        a: &Automation,
        sandbox_on: &mut HashMap<String, bool>,
    ) -> Result<Slot> {
        let log = self.inner.config.automation_log.per_record > 0;
        if a.status != AutomationStatus::Active {
            let reason = match a.status {
                AutomationStatus::Draft => Excluded::Draft,
                AutomationStatus::Paused => Excluded::Paused,
                _ => Excluded::Archived,
            };
            return Ok(self.excluded_slot(a, reason, log).await);
        }
        let dry_run = a.environment == EnvironmentKind::Sandbox;
        if dry_run && !self.sandbox_on(&a.workspace_id, sandbox_on).await? {
            return Ok(self.excluded_slot(a, Excluded::SandboxOff, log).await);
        }
        let plan = match self.plan(&a.workspace_id, &a.id, a.current_version).await {
            Ok(plan) => plan,
            // A stored definition that no longer checks (a newer limit, a changed schema)
            // must not stop the start or the other automations: it is left out of
            // dispatch and reported.
            Err(
                RuntimeError::Definition { message, .. } | RuntimeError::CheckerFailed(message),
            ) => {
                tracing::error!(
                    workspace = %a.workspace_id,
                    automation = %a.id,
                    version = a.current_version,
                    %message,
                    "active automation no longer checks; it will not trigger until fixed"
                );
                return Ok(Slot::Absent);
            }
            Err(e) => return Err(e),
        };
        Ok(Slot::Dispatched(DispatchEntry {
            workspace_id: a.workspace_id.clone(),
            automation_id: a.id.clone(),
            version: a.current_version,
            plan,
            dry_run,
        }))
    }

    /// Whether the workspace's sandbox is on (cached per workspace in `known`).
    async fn sandbox_on(&self, ws: &str, known: &mut HashMap<String, bool>) -> Result<bool> {
        if let Some(on) = known.get(ws) {
            return Ok(*on);
        }
        let on = self
            .inner
            .store
            .workspace(ws)
            .await?
            .is_some_and(|w| w.sandbox_active);
        known.insert(ws.to_string(), on);
        Ok(on)
    }

    /// The excluded slot of `a` when the automation log is on (`log`), else absent.
    async fn excluded_slot(&self, a: &Automation, reason: Excluded, log: bool) -> Slot {
        if !log {
            return Slot::Absent;
        }
        match self.excluded_entry(a, reason).await {
            Some(e) => Slot::Excluded(e),
            None => Slot::Absent,
        }
    }

    /// An automation left out of dispatch, as the automation log names it; `None` when its
    /// definition no longer checks (it could not trigger whatever its status). Its plan is
    /// compiled once per version and cached, like an active one's.
    async fn excluded_entry(&self, a: &Automation, reason: Excluded) -> Option<ExcludedEntry> {
        let plan = self
            .plan(&a.workspace_id, &a.id, a.current_version)
            .await
            .ok()?;
        Some(ExcludedEntry {
            workspace_id: a.workspace_id.clone(),
            automation_id: a.id.clone(),
            name: plan.name.clone(),
            version: a.current_version,
            event: plan.trigger.clone(),
            reason,
        })
    }

    /// Caches a version's plan with its ops compiled (versions are immutable); references
    /// are followed by the schema of the automation's workspace.
    pub(crate) fn cache_plan(&self, ws: &str, id: &str, version: i64, plan: Plan) -> Arc<ExecPlan> {
        let plan = Arc::new(plan);
        let references = self.references(ws, plan.trigger_object());
        let exec = Arc::new(ExecPlan::new(plan, &references));
        self.inner
            .plans
            .lock()
            .expect("plan cache lock")
            .insert((id.to_string(), version), exec.clone());
        exec
    }

    fn cached_plan(&self, id: &str, version: i64) -> Option<Arc<ExecPlan>> {
        self.inner
            .plans
            .lock()
            .expect("plan cache lock")
            .get(&(id.to_string(), version))
            .cloned()
    }

    fn compile_version(&self, v: &AutomationVersion) -> Result<Arc<ExecPlan>> {
        let plan = self
            .inner
            .compiler
            .compile(&v.workspace_id, &v.definition)?
            .plan;
        Ok(self.cache_plan(&v.workspace_id, &v.automation_id, v.version, plan))
    }

    /// The plan of one version (cached; versions are immutable).
    pub(crate) async fn plan(&self, ws: &str, id: &str, version: i64) -> Result<Arc<Plan>> {
        if let Some(p) = self.cached_plan(id, version) {
            return Ok(p.plan.clone());
        }
        let v = self
            .inner
            .store
            .version(ws, id, version)
            .await?
            .ok_or_else(|| RuntimeError::not_found("automation version", id))?;
        Ok(self.compile_version(&v)?.plan.clone())
    }

    /// The executable plan of one version, reading through an open write transaction.
    pub(crate) async fn exec_plan_in_tx(
        &self,
        tx: &mut S::Tx,
        ws: &str,
        id: &str,
        version: i64,
    ) -> Result<Arc<ExecPlan>> {
        if let Some(p) = self.cached_plan(id, version) {
            return Ok(p);
        }
        let v = tx
            .version(ws, id, version)
            .await?
            .ok_or_else(|| RuntimeError::not_found("automation version", id))?;
        self.compile_version(&v)
    }

    /// Same as [`Self::plan`], reading through an open write transaction.
    pub(crate) async fn plan_in_tx(
        &self,
        tx: &mut S::Tx,
        ws: &str,
        id: &str,
        version: i64,
    ) -> Result<Arc<Plan>> {
        Ok(self
            .exec_plan_in_tx(tx, ws, id, version)
            .await?
            .plan
            .clone())
    }
}

/// The automation as the open write transaction sees it, when its version is `expected`.
pub(super) async fn current_in_tx<T: StoreTx>(
    tx: &mut T,
    ws: &str,
    id: &str,
    expected: Option<i64>,
) -> Result<Automation> {
    let a = tx
        .automation(ws, id)
        .await?
        .ok_or_else(|| RuntimeError::not_found("automation", id))?;
    check_version(&a, expected)?;
    Ok(a)
}

fn check_version(a: &Automation, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != a.current_version => Err(RuntimeError::Stale {
            expected: v,
            current: a.current_version,
        }),
        _ => Ok(()),
    }
}

/// An edit keeps the automation where it is: a definition that names no environment
/// stays in `a`'s (a definition's default is live, so without this a sandbox copy edited
/// with a whole definition would go live and perform its effects), and one that names the
/// other environment is a Conflict. A sandbox automation goes live only by promote, which
/// writes the live automation it shadows; a live one is tried out through a sandbox copy.
pub(super) fn keep_environment(a: &Automation, definition: &mut Value) -> Result<()> {
    let Value::Object(fields) = definition else {
        // Not an object: the compiler says what is wrong with it.
        return Ok(());
    };
    let named = match fields.get("environment") {
        None => {
            if a.environment == EnvironmentKind::Sandbox {
                fields.insert(
                    "environment".into(),
                    json!(EnvironmentKind::Sandbox.as_str()),
                );
            }
            return Ok(());
        }
        // Not an environment's name: the compiler says what is wrong with it.
        Some(value) => match value.as_str().and_then(EnvironmentKind::parse) {
            Some(named) => named,
            None => return Ok(()),
        },
    };
    match (a.environment, named) {
        (EnvironmentKind::Sandbox, EnvironmentKind::Live) => Err(RuntimeError::Conflict(format!(
            "automation {} is a sandbox automation: an edit cannot make it live; promote it \
             to go live (or leave `environment` out to keep it in the sandbox)",
            a.id
        ))),
        (EnvironmentKind::Live, EnvironmentKind::Sandbox) => Err(RuntimeError::Conflict(format!(
            "automation {} is live: an edit cannot move it to the sandbox; make a sandbox copy \
             of it to try a change",
            a.id
        ))),
        _ => Ok(()),
    }
}

pub(super) fn reject_archived(a: &Automation) -> Result<()> {
    if a.status == AutomationStatus::Archived {
        return Err(RuntimeError::Conflict(format!(
            "automation {} is archived and read-only",
            a.id
        )));
    }
    Ok(())
}

/// A new automation at version 1, as `compiled` describes it.
pub(super) fn new_automation(
    ws: &str,
    compiled: &CompiledDefinition,
    now: DateTime<Utc>,
) -> Automation {
    Automation {
        id: new_id("aut"),
        workspace_id: ws.to_string(),
        name: compiled.name.clone(),
        status: compiled.status,
        environment: compiled.environment,
        current_version: 1,
        shadows_id: None,
        created_at: now,
        updated_at: now,
    }
}

/// Moves `a` to its next version, with the name, status and environment of `compiled`.
pub(super) fn next_version(a: &mut Automation, compiled: &CompiledDefinition, now: DateTime<Utc>) {
    a.current_version += 1;
    a.name = compiled.name.clone();
    a.status = compiled.status;
    a.environment = compiled.environment;
    a.updated_at = now;
}

pub(super) fn version_row(a: &Automation, definition: Value) -> AutomationVersion {
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

/// How a new version is audited: the action, who, and details besides name and version.
pub(super) struct VersionChange<'a> {
    pub(super) action: AuditAction,
    pub(super) actor: &'a Actor,
    pub(super) details: Map<String, Value>,
}

/// A status change: the new status, the `If-Match` version, who, and how it is audited.
struct StatusChange<'a> {
    status: AutomationStatus,
    expected: Option<i64>,
    actor: &'a Actor,
    action: AuditAction,
}

/// The live active automations of one workspace as the cycle check reads them: the
/// dispatch index's entries, sandbox (dry-run) ones left out.
struct LiveGraph<'a> {
    index: &'a DispatchIndex,
    ws: &'a str,
}

impl cycles::Graph for LiveGraph<'_> {
    fn triggers(&self) -> Vec<&str> {
        self.index.triggers(self.ws)
    }

    fn triggered_by(&self, event: &str) -> Vec<(&str, &Plan)> {
        self.index
            .triggered_by(self.ws, event)
            .into_iter()
            .filter(|e| !e.dry_run)
            .map(|e| (e.automation_id.as_str(), &*e.plan))
            .collect()
    }
}
