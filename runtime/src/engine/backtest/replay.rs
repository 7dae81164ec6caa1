//! The replay of one backtest: the stored events of a range, oldest first, through one
//! version of an automation, in dry-run, each event seeing its records as they were then.
//!
//! Runs execute on a private in-memory database (a scratch engine sharing this engine's
//! schema and compiler, without plugins), seeded per event with the records the version
//! reads as the record history has them at the event's time. So nothing a backtest does
//! can reach the workspace's records, runs, outbox or the network. Plugin steps are not
//! called (a plugin may reach the network): they complete with a `null` output and are
//! counted as `plugin` effects.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use automations_compiler::catalog::ActionKind;
use automations_compiler::eval::{CompiledCondition, Explanation, SlotLayout, compile, fill_slots};
use automations_compiler::typed::Type;

use super::super::context::{event_context, plan_reference_paths, reference_id};
use super::super::{Engine, EngineConfig, EngineParts};
use crate::backtest::*;
use crate::error::{Result, RuntimeError};
use crate::expr::EvalContext;
use crate::model::*;
use crate::plan::{Op, Plan};
use crate::store::{AsOf, SqliteConfig, SqliteStore, Store, StoreTx};

/// Events read from the store per round (and per scratch transaction).
const PAGE: u32 = 500;

/// One version ready to replay.
struct Version {
    plan: Arc<Plan>,
    object: Option<String>,
    condition: Option<(SlotLayout, CompiledCondition)>,
    paths: Vec<(bool, Vec<String>)>,
    mocks: Map<String, Value>,
}

impl<S: Store> Engine<S> {
    /// Replays the job's range, saving its progress after each page; `None` when it was
    /// cancelled (by `cancel`, or by another request that ended the stored job).
    pub(crate) async fn replay(
        &self,
        job: &mut Backtest,
        cancel: &AtomicBool,
    ) -> Result<Option<BacktestResult>> {
        let started = Instant::now();
        let ws = job.workspace_id.clone();
        let ws = ws.as_str();
        let req = job.request.clone();
        let plan = match &req.definition {
            // Compiled apart from the plan cache: a proposed edit is no stored version.
            Some(definition) => Arc::new(self.inner.compiler.compile(ws, definition)?.plan),
            None => self.plan(ws, &job.target_id, job.version).await?,
        };
        let version = self.prepare_version(ws, plan);
        let scratch = self
            .scratch_engine(ws, &job.target_id, (job.version, req.definition.as_ref()))
            .await?;
        let mut out = Replayed::default();
        let mut after = None;
        let mut last_at = None;
        let mut known = Known::default();
        'pages: while out.considered < u64::from(req.limit) {
            let want = PAGE.min(req.limit - out.considered as u32);
            let events = self
                .inner
                .store
                .events_between(ws, &version.plan.trigger, (req.from, req.to), after, want)
                .await?;
            let Some((seq, last)) = events.last() else {
                break;
            };
            after = Some(*seq);
            last_at = Some(last.created_at);
            let full_page = events.len() as u32 == want;
            let mut stx = scratch.inner.store.begin().await?;
            known.seeded.clear();
            for (_, event) in events {
                if cancel.load(Ordering::Acquire) {
                    return Ok(None);
                }
                self.replay_event(
                    &scratch,
                    &mut stx,
                    &mut known,
                    (&version, &job.target_id, job.version),
                    event,
                    &mut out,
                )
                .await?;
            }
            // Rolled back: the scratch database keeps nothing between pages.
            drop(stx);
            job.progress = BacktestProgress {
                events_considered: out.considered,
                events_matched: out.matched,
            };
            if !self.save_backtest(job).await? {
                return Ok(None);
            }
            if !full_page {
                break 'pages;
            }
        }
        let truncated = out.considered >= u64::from(req.limit)
            && !self
                .inner
                .store
                .events_between(ws, &version.plan.trigger, (req.from, req.to), after, 1)
                .await?
                .is_empty();
        scratch.inner.store.close().await;
        Ok(Some(BacktestResult {
            trigger: version.plan.trigger.clone(),
            events_considered: out.considered,
            events_matched: out.matched,
            truncated,
            last_event_at: last_at,
            runs: out.runs,
            effects: out.tally.finish(),
            sample_runs: out.samples,
            sample_non_matches: out.non_matches,
            elapsed_ms: started.elapsed().as_millis() as u64,
        }))
    }

    fn prepare_version(&self, ws: &str, plan: Arc<Plan>) -> Version {
        let object = plan.trigger_object().map(str::to_string);
        let condition = plan.condition.as_ref().map(|c| {
            let mut layout = SlotLayout::with_references(self.references(ws, object.as_deref()));
            let compiled = compile(c, &mut layout);
            (layout, compiled)
        });
        let paths = plan_reference_paths(&plan);
        let mocks = plan
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Action { step, .. } if step.action == ActionKind::Plugin => {
                    Some((step.id.clone(), Value::Null))
                }
                _ => None,
            })
            .collect();
        Version {
            plan,
            object,
            condition,
            paths,
            mocks,
        }
    }

    /// A private in-memory engine holding the workspace, the automation and its version
    /// (the same ids, so the shared compiler and schema answer for them).
    async fn scratch_engine(
        &self,
        ws: &str,
        id: &str,
        (version, proposed): (i64, Option<&Value>),
    ) -> Result<Engine<SqliteStore>> {
        let store = SqliteStore::open(&SqliteConfig::in_memory()).await?;
        let scratch = Engine::new(EngineParts {
            store,
            config: EngineConfig {
                output_caps: self.inner.config.output_caps,
                loop_guard: self.inner.config.loop_guard.clone(),
                // Replays are rolled back: an automation log there would be thrown away.
                automation_log: crate::record_log::AutomationLogConfig {
                    per_record: 0,
                    ..Default::default()
                },
                ..EngineConfig::default()
            },
            schema: self.inner.schema.clone(),
            compiler: self.inner.compiler.clone(),
            plugins: None,
        })
        .await?;
        let missing = || RuntimeError::not_found("automation", id);
        let workspace = self.inner.store.workspace(ws).await?.ok_or_else(missing)?;
        let automation = self
            .inner
            .store
            .automation(ws, id)
            .await?
            .ok_or_else(missing)?;
        let v = match proposed {
            Some(definition) => AutomationVersion {
                workspace_id: ws.to_string(),
                automation_id: id.to_string(),
                version,
                definition: definition.clone(),
                status: automation.status,
                environment: automation.environment,
                created_at: Utc::now(),
            },
            None => self
                .inner
                .store
                .version(ws, id, version)
                .await?
                .ok_or_else(|| RuntimeError::not_found("automation version", id))?,
        };
        let mut tx = scratch.inner.store.begin().await?;
        tx.insert_workspace(&workspace).await?;
        tx.insert_automation(&automation).await?;
        tx.insert_version(&v).await?;
        tx.commit().await?;
        Ok(scratch)
    }

    #[allow(clippy::too_many_arguments)]
    async fn replay_event(
        &self,
        scratch: &Engine<SqliteStore>,
        stx: &mut <SqliteStore as Store>::Tx,
        known: &mut Known,
        (version, target_id, number): (&Version, &str, i64),
        event: Event,
        out: &mut Replayed,
    ) -> Result<()> {
        out.considered += 1;
        let ws = event.workspace_id.clone();
        let at = event.created_at;
        let mut ctx = event_context(
            &event,
            at.timestamp_millis(),
            self.references(&ws, event.object.as_deref()),
        );
        let carried = matches!(event.payload.get("record"), Some(Value::Object(_)));
        if !carried && let (Some(o), Some(id)) = (&event.object, &event.record_id) {
            let r = self.seed_as_of(stx, known, (&ws, o, id), at).await?;
            if let Some(r) = r {
                ctx.set_record(Value::Object(r.to_json()));
            }
        }
        self.load_related_as_of(stx, known, &ws, version, at, &mut ctx)
            .await?;
        let (matched, explanation) = match &version.condition {
            None => (true, None),
            Some((layout, compiled)) => {
                let slots = ctx.with_input(|i| fill_slots(layout, i));
                if compiled.eval(&slots) {
                    let sampled = out.samples.len() < SAMPLE_RUNS;
                    (true, sampled.then(|| compiled.explain(&slots)))
                } else {
                    if out.non_matches.len() < SAMPLE_NON_MATCHES {
                        let e = compiled.explain(&slots);
                        out.non_matches.push(sample(&event, false, &e, None));
                    }
                    (false, None)
                }
            }
        };
        if !matched {
            return Ok(());
        }
        out.matched += 1;
        out.runs.total += 1;
        let explanation = explanation.unwrap_or_else(|| {
            Explanation::no_condition(automations_compiler::eval::Decision::Single)
        });
        if let Some(message) = self.loop_error(target_id, &event) {
            out.runs.failed += 1;
            out.runs.loop_detected += 1;
            if out.samples.len() < SAMPLE_RUNS {
                let mut s = sample(&event, true, &explanation, None);
                s.status = Some("failed".into());
                s.error = Some(message);
                out.samples.push(s);
            }
            return Ok(());
        }
        let run = Run {
            id: new_id("run"),
            workspace_id: ws.clone(),
            automation_id: target_id.to_string(),
            version: number,
            event_id: event.id.clone(),
            object: event.object.clone(),
            record_id: event.record_id.clone(),
            status: RunStatus::Queued,
            dry_run: true,
            pc: 0,
            state: RunState {
                mocks: version.mocks.clone(),
                skip_waits: true,
                clock_ms: Some(at.timestamp_millis()),
                ..Default::default()
            },
            error: None,
            error_code: None,
            created_at: at,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            steps: Vec::new(),
        };
        let (run, steps) = scratch.drive_detached(stx, run, event.clone()).await?;
        match run.status {
            RunStatus::Completed => out.runs.completed += 1,
            RunStatus::Waiting => out.runs.waiting += 1,
            _ => out.runs.failed += 1,
        }
        for step in &steps {
            step.effects.iter().for_each(|e| out.tally.add(e));
            if step.step_type == ActionKind::Plugin.as_str() && step.status == StepStatus::Completed
            {
                out.tally.add_plugin(&format!("step {}", step.id));
            }
        }
        if out.samples.len() < SAMPLE_RUNS {
            out.samples
                .push(sample(&event, true, &explanation, Some((&run, &steps))));
        }
        Ok(())
    }

    /// The loop guard's verdict from the event's causation chain alone (depth, and this
    /// automation re-triggering itself on the same record). The live guard's rate cap
    /// counts live runs, which a backtest does not make: it is not applied.
    fn loop_error(&self, automation_id: &str, event: &Event) -> Option<String> {
        let chain = &event.causation;
        if chain.len() > self.inner.config.loop_guard.max_depth {
            return Some(format!(
                "loop_detected: causation chain depth {} exceeds {}",
                chain.len(),
                self.inner.config.loop_guard.max_depth
            ));
        }
        let (object, record_id) = (event.object.as_deref()?, event.record_id.as_deref()?);
        chain
            .iter()
            .any(|l| {
                l.automation_id == automation_id
                    && l.object.as_deref() == Some(object)
                    && l.record_id.as_deref() == Some(record_id)
            })
            .then(|| format!("loop_detected: automation {automation_id} would re-trigger itself on {object} {record_id}"))
    }

    /// Follows every reference path of the version from the event's record, reading each
    /// related record as of `at`, into `ctx` and the scratch database.
    async fn load_related_as_of(
        &self,
        stx: &mut <SqliteStore as Store>::Tx,
        known: &mut Known,
        ws: &str,
        version: &Version,
        at: DateTime<Utc>,
        ctx: &mut EvalContext,
    ) -> Result<()> {
        let Some(object) = version.object.as_deref() else {
            return Ok(());
        };
        let schema = self.schema(ws);
        for (prev, hops) in &version.paths {
            let mut current = object.to_string();
            let mut map = if *prev {
                ctx.previous().cloned()
            } else {
                Some(ctx.record().clone())
            };
            for hop in hops {
                let Some(Type::Reference(target)) = schema.field_type(&current, hop) else {
                    break;
                };
                let Some(id) = reference_id(map.as_ref(), hop) else {
                    break;
                };
                let key = (target.clone(), id.clone());
                map = match ctx.related.get(&key) {
                    Some(m) => Some(m.clone()),
                    None => {
                        let r = self.seed_as_of(stx, known, (ws, &target, &id), at).await?;
                        let loaded = r.map(|r| Value::Object(r.to_json()));
                        if let Some(m) = &loaded {
                            ctx.related.insert(key, m.clone());
                        }
                        loaded
                    }
                };
                current = target;
                if map.is_none() {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Reads a record as of `at` (from the cache while the state it holds spans `at`)
    /// and makes the scratch database hold exactly that, writing only when it changes
    /// (the executor reads through its transaction and must see the same).
    async fn seed_as_of(
        &self,
        stx: &mut <SqliteStore as Store>::Tx,
        known: &mut Known,
        (ws, object, id): (&str, &str, &str),
        at: DateTime<Utc>,
    ) -> Result<Option<Record>> {
        let key = (object.to_string(), id.to_string());
        let state = match known.states.get(&key) {
            Some(s) if s.holds_at(at) => s.clone(),
            _ => {
                let s = self.inner.store.record_as_of(ws, object, id, at).await?;
                known.states.insert(key.clone(), s.clone());
                s
            }
        };
        let seeded = known.seeded.get(&key).cloned();
        if seeded.as_ref() != Some(&state.from) {
            match (&state.record, seeded.is_some()) {
                (Some(r), true) => stx.update_record(r).await?,
                (Some(r), false) => stx.insert_record(r).await?,
                (None, true) => {
                    stx.delete_record(ws, object, id).await?;
                }
                (None, false) => {}
            }
            if state.record.is_some() {
                known.seeded.insert(key, state.from);
            } else {
                known.seeded.remove(&key);
            }
        }
        Ok(state.record)
    }
}

/// Record states read so far (kept across pages) and what the scratch transaction holds
/// (reset with it): by (object, id), the `from` of the state written there.
#[derive(Default)]
struct Known {
    states: HashMap<(String, String), AsOf>,
    seeded: HashMap<(String, String), Option<DateTime<Utc>>>,
}

#[derive(Default)]
struct Replayed {
    considered: u64,
    matched: u64,
    runs: RunCounts,
    tally: TallyBuilder,
    samples: Vec<SampleRun>,
    non_matches: Vec<SampleRun>,
}

fn sample(
    event: &Event,
    matched: bool,
    explanation: &Explanation,
    run: Option<(&Run, &[StepRun])>,
) -> SampleRun {
    let record = match (&event.object, &event.record_id) {
        (Some(o), Some(id)) => Some(json!({"object": o, "id": id})),
        _ => None,
    };
    SampleRun {
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        event_at: event.created_at,
        record,
        matched,
        explanation: serde_json::to_value(explanation).unwrap_or(Value::Null),
        status: run.map(|(r, _)| r.status.as_str().to_string()),
        error: run.and_then(|(r, _)| r.error.clone()),
        steps: run
            .map(|(_, steps)| {
                steps
                    .iter()
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
                    .collect()
            })
            .unwrap_or_default(),
    }
}
