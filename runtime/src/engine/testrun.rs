//! `test`: one dry-run of an automation on a given event and record, with mocked step
//! outputs, returning the run and why the condition did or did not match (DESIGN §7).
//! Reads see live data; nothing reaches records, the outbox or the network.

use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;
use serde_json::{Map, Value};

use super::context::{event_context, load_related};
use super::{Engine, EngineConfig, EngineParts};
use crate::error::{Result, RuntimeError};
use automations_compiler::eval::{Decision, Explanation, SlotLayout, compile, fill_slots};

use crate::expr::EvalContext;
use crate::expr::reference_paths;
use crate::hooks::{DefinitionCompiler, PluginRunner};
use crate::model::*;
use crate::records;
use crate::schema::{SameSchema, SchemaView};
use crate::store::{SqliteConfig, SqliteStore, Store, StoreTx};

/// The event a test runs on.
#[derive(Debug, Clone, Default)]
pub struct TestEvent {
    /// Defaults to the automation's trigger.
    pub event_type: Option<String>,
    /// The triggering record's values (with `id`; generated when absent).
    pub record: Option<Map<String, Value>>,
    /// Values before the change (`*.updated`, `*_changed`).
    pub previous: Option<Map<String, Value>>,
    /// Payload of a custom event.
    pub data: Value,
}

#[derive(Debug, Clone, Default)]
pub struct TestRequest {
    pub event: TestEvent,
    /// Step id -> output used instead of executing the step (`--mock STEP=JSON`).
    pub mocks: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub matched: bool,
    pub explanation: Explanation,
    /// The dry-run (absent when the condition did not match).
    pub run: Option<Run>,
}

impl<S: Store> Engine<S> {
    /// Dry-runs the current version of an automation (`POST /automations/{id}/test`).
    pub async fn test_automation(
        &self,
        ws: &str,
        automation_id: &str,
        req: TestRequest,
    ) -> Result<TestReport> {
        let a = self.automation(ws, automation_id).await?;
        let plan = self.plan(ws, &a.id, a.current_version).await?;
        let object = plan.trigger_object().map(str::to_string);
        let event_type = req
            .event
            .event_type
            .clone()
            .unwrap_or_else(|| plan.trigger.clone());
        let mut record = req.event.record.clone().unwrap_or_default();
        let record_id = record
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| object.as_ref().map(|_| new_id("dry")));
        if let Some(id) = &record_id {
            record.insert("id".into(), Value::String(id.clone()));
        }
        let payload = if object.is_some() {
            serde_json::json!({ "record": record, "previous": req.event.previous, "changed": [] })
        } else {
            req.event.data.clone()
        };
        let event = Event {
            workspace_id: ws.to_string(),
            id: new_id("test"),
            event_type,
            object: object.clone(),
            record_id: record_id.clone(),
            payload: payload.into(),
            causation: Vec::new(),
            created_at: Utc::now(),
        };
        let mut tx = self.inner.store.begin().await?;
        // Stored for the run's sake, never dispatched: a test triggers nothing else.
        tx.insert_event(&event).await?;
        let mut ctx = event_context(
            &event,
            Utc::now().timestamp_millis(),
            self.references(ws, object.as_deref()),
        );
        if let Some(c) = &plan.condition {
            let mut paths = Vec::new();
            reference_paths(c, &mut paths);
            load_related(
                &mut tx,
                self.schema(ws).as_ref(),
                ws,
                object.as_deref(),
                &paths,
                &mut ctx,
            )
            .await?;
        }
        let explanation = self.explain(ws, plan.condition.as_ref(), object.as_deref(), &ctx);
        let matched = explanation.result;
        if !matched {
            tx.commit().await?;
            return Ok(TestReport {
                matched: false,
                explanation,
                run: None,
            });
        }
        let run = Run {
            id: new_id("run"),
            workspace_id: ws.to_string(),
            automation_id: a.id.clone(),
            version: a.current_version,
            event_id: event.id.clone(),
            object,
            record_id,
            status: RunStatus::Queued,
            dry_run: true,
            pc: 0,
            state: RunState {
                mocks: req.mocks,
                skip_waits: true,
                ..Default::default()
            },
            error: None,
            error_code: None,
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
            duration_ms: None,
            steps: Vec::new(),
        };
        tx.insert_run(&run).await?;
        // One dry-run alone in its transaction: its plugin call is awaited in place.
        self.drive(&mut tx, run.clone(), super::exec::PluginMode::Inline)
            .await?;
        tx.commit().await?;
        let run = self.run(ws, &run.id).await?;
        Ok(TestReport {
            matched: true,
            explanation,
            run: Some(run),
        })
    }
}

impl<S: Store> Engine<S> {
    /// Why a condition holds or not, by the compiled evaluator's explanation.
    pub(crate) fn explain(
        &self,
        ws: &str,
        condition: Option<&automations_compiler::typed::TExpr>,
        object: Option<&str>,
        ctx: &EvalContext,
    ) -> Explanation {
        let Some(c) = condition else {
            return Explanation::no_condition(Decision::Single);
        };
        let mut layout = SlotLayout::with_references(self.references(ws, object));
        let compiled = compile(c, &mut layout);
        let slots = ctx.with_input(|i| fill_slots(&layout, i));
        compiled.explain(&slots)
    }
}

/// What an offline test needs besides the definition.
pub struct OfflineTest {
    pub compiler: Arc<dyn DefinitionCompiler>,
    /// The schema of the test's workspace.
    pub schema: Arc<dyn SchemaView>,
    pub plugins: Option<Arc<dyn PluginRunner>>,
    /// Records the automation may read through references: (object, fields with `id`).
    pub records: Vec<(String, Map<String, Value>)>,
}

/// `automations test FILE --event e.json`: a private in-memory database, the given records,
/// one dry-run of the definition.
pub async fn test_offline(
    env: OfflineTest,
    definition: Value,
    req: TestRequest,
) -> Result<TestReport> {
    let store = SqliteStore::open(&SqliteConfig::in_memory()).await?;
    let engine = Engine::new(EngineParts {
        store,
        config: EngineConfig::default(),
        schema: SameSchema::shared(env.schema),
        compiler: env.compiler,
        plugins: env.plugins,
    })
    .await?;
    let ws = engine.ensure_workspace("test").await?;
    let mut tx = engine.store().begin().await?;
    for (object, mut fields) in env.records {
        let id = fields
            .remove("id")
            .and_then(|v| v.as_str().map(str::to_string));
        let r = records::new_record(&ws.id, &object, id, fields, Utc::now());
        tx.insert_record(&r).await?;
    }
    tx.commit().await?;
    let (a, _) = engine.create_automation(&ws.id, definition).await?;
    let report = engine.test_automation(&ws.id, &a.id, req).await;
    engine.store().close().await;
    report.map_err(|e| match e {
        RuntimeError::NotFound { .. } => e,
        other => other,
    })
}
