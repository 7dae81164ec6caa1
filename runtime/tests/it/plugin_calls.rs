//! Plugin calls run outside the writer transaction: a slow plugin does not hold up other
//! runs, its output and effects are applied once when it returns, and a crash while it is
//! in flight makes the call again and completes the run once.

use std::future::pending;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use automations_runtime::NewRecord;
use automations_runtime::hooks::{
    EffectRequest, PluginCall, PluginFuture, PluginResult, PluginRunner,
};
use automations_runtime::model::{Run, RunStatus, StepStatus};

use crate::support::*;

/// How a fake plugin behaves once called.
#[derive(Clone, Copy)]
enum Behaviour {
    Sleep(Duration),
    /// Never returns: the process "dies" with the call in flight.
    Hang,
}

struct FakePlugin {
    behaviour: Behaviour,
    calls: AtomicUsize,
    returned: AtomicBool,
}

impl FakePlugin {
    fn new(behaviour: Behaviour) -> Arc<FakePlugin> {
        Arc::new(FakePlugin {
            behaviour,
            calls: AtomicUsize::new(0),
            returned: AtomicBool::new(false),
        })
    }
}

impl PluginRunner for FakePlugin {
    fn run(&self, call: PluginCall) -> PluginFuture<'_> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            match self.behaviour {
                Behaviour::Sleep(d) => tokio::time::sleep(d).await,
                Behaviour::Hang => pending::<()>().await,
            }
            self.returned.store(true, Ordering::SeqCst);
            Ok(PluginResult {
                output: json!({"score": 7}),
                effects: vec![EffectRequest::Notify {
                    user_id: "u_plugin".into(),
                    message: format!("scored {}", call.input["subject"]),
                }],
                logs: Vec::new(),
            })
        })
    }
}

fn scoring_automation() -> Value {
    json!({"name": "score cases", "trigger": {"event": "case.created"},
        "actions": [{"id": "p", "type": "plugin", "params": {"plugin": "scorer", "input": {"subject": "{{ subject }}"}}},
                    {"type": "notify_user", "params": {"user_id": "u1", "message": "score {{ steps.p.output.score }}"}}],
        "status": "active"})
}

fn greeting_automation() -> Value {
    json!({"name": "greet contacts", "trigger": {"event": "contact.created"},
        "actions": [{"type": "notify_user", "params": {"user_id": "u_contact", "message": "hi {{ first_name }}"}}],
        "status": "active"})
}

async fn create(engine: &Engine, ws: &str, object: &str, fields: Value) {
    engine
        .create_record(
            ws,
            object,
            NewRecord {
                id: None,
                fields: obj(fields),
            },
        )
        .await
        .unwrap();
}

async fn runs_of(engine: &Engine, ws: &str, automation_id: &str) -> Vec<Run> {
    engine
        .runs(ws, &Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|r| r.automation_id == automation_id)
        .collect()
}

async fn wait_for<F: Fn() -> bool>(what: &str, limit: Duration, cond: F) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn notification_count(engine: &Engine, ws: &str, user: &str) -> usize {
    engine.notifications(ws, Some(user)).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_plugin_does_not_hold_up_other_runs() {
    let plugin = FakePlugin::new(Behaviour::Sleep(Duration::from_millis(1500)));
    // `_dir` keeps the database's folder for the whole test.
    let Fixture {
        dir: _dir,
        engine,
        ws,
    } = Fixture::with(quick_config(), Some(plugin.clone())).await;
    let (scorer, _) = engine
        .create_automation(&ws.id, scoring_automation())
        .await
        .unwrap();
    let (greeter, _) = engine
        .create_automation(&ws.id, greeting_automation())
        .await
        .unwrap();
    let workers = engine.start();

    create(&engine, &ws.id, "case", json!({"subject": "slow"})).await;
    wait_for("the plugin call", Duration::from_secs(5), || {
        plugin.calls.load(Ordering::SeqCst) == 1
    })
    .await;
    // The call starts before its batch commits: wait for the commit.
    let start = Instant::now();
    loop {
        let scoring = runs_of(&engine, &ws.id, &scorer.id).await;
        if scoring[0].status == RunStatus::Running {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(1), "{scoring:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        !plugin.returned.load(Ordering::SeqCst),
        "parked on its call"
    );

    // Another automation's run on another event completes while the call is in flight.
    create(&engine, &ws.id, "contact", json!({"first_name": "Ada"})).await;
    let start = Instant::now();
    loop {
        let greeting = runs_of(&engine, &ws.id, &greeter.id).await;
        if greeting
            .first()
            .is_some_and(|r| r.status == RunStatus::Completed)
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{greeting:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        !plugin.returned.load(Ordering::SeqCst),
        "the other run finished only after the plugin returned"
    );
    assert_eq!(notification_count(&engine, &ws.id, "u_contact").await, 1);
    assert_eq!(notification_count(&engine, &ws.id, "u_plugin").await, 0);

    // Once it returns, its output and effects are applied exactly once.
    let start = Instant::now();
    let run = loop {
        let scoring = runs_of(&engine, &ws.id, &scorer.id).await;
        if scoring[0].status == RunStatus::Completed {
            break engine.run(&ws.id, &scoring[0].id).await.unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{scoring:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    workers.shutdown().await;
    engine.run_until_idle().await.unwrap();
    assert_eq!(plugin.calls.load(Ordering::SeqCst), 1);
    assert_eq!(run.steps.len(), 2, "{:?}", run.steps);
    assert_eq!(run.steps[0].output, Some(json!({"score": 7})));
    // The step's duration covers the call (1.5 s), not only applying its result.
    let took = run.steps[0].duration_ms.unwrap();
    assert!(took >= 1400, "plugin step took {took} ms");
    assert_eq!(run.steps[0].effects.len(), 1);
    assert!(run.steps[0].effects[0].applied);
    let plugin_notes = engine
        .notifications(&ws.id, Some("u_plugin"))
        .await
        .unwrap();
    assert_eq!(plugin_notes.len(), 1);
    assert_eq!(plugin_notes[0].message, "scored \"slow\"");
    let notes = engine.notifications(&ws.id, Some("u1")).await.unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].message, "score 7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_a_plugin_call_makes_the_call_again_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let hanging = FakePlugin::new(Behaviour::Hang);
    let first = open_engine_with(&path, quick_config(), Some(hanging.clone())).await;
    let ws = first.ensure_workspace("default").await.unwrap();
    let (scorer, _) = first
        .create_automation(&ws.id, scoring_automation())
        .await
        .unwrap();
    let workers = first.start();
    create(&first, &ws.id, "case", json!({"subject": "crash"})).await;
    wait_for("the plugin call", Duration::from_secs(5), || {
        hanging.calls.load(Ordering::SeqCst) == 1
    })
    .await;
    let start = Instant::now();
    while runs_of(&first, &ws.id, &scorer.id).await[0].status != RunStatus::Running {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "never committed as running"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The "crash": this process's workers stop and its in-memory call is lost.
    workers.shutdown().await;
    crate::support::pg::let_leases_lapse().await;

    let quick = FakePlugin::new(Behaviour::Sleep(Duration::from_millis(10)));
    let second = open_engine_with(&path, quick_config(), Some(quick.clone())).await;
    second.run_until_idle().await.unwrap();
    let runs = runs_of(&second, &ws.id, &scorer.id).await;
    assert_eq!(runs.len(), 1);
    let run = second.run(&ws.id, &runs[0].id).await.unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
    assert_eq!(
        quick.calls.load(Ordering::SeqCst),
        1,
        "the call is made again"
    );
    assert_eq!(
        notification_count(&second, &ws.id, "u_plugin").await,
        1,
        "its effects are applied once"
    );
    assert_eq!(notification_count(&second, &ws.id, "u1").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_run_waiting_for_its_plugin_call_ends_the_step_and_applies_nothing() {
    let plugin = FakePlugin::new(Behaviour::Sleep(Duration::from_millis(300)));
    // `_dir` keeps the database's folder for the whole test.
    let Fixture {
        dir: _dir,
        engine,
        ws,
    } = Fixture::with(quick_config(), Some(plugin.clone())).await;
    let (scorer, _) = engine
        .create_automation(&ws.id, scoring_automation())
        .await
        .unwrap();
    create(&engine, &ws.id, "case", json!({"subject": "cancel me"})).await;
    engine.run_queued_once().await.unwrap();
    let run_id = runs_of(&engine, &ws.id, &scorer.id).await[0].id.clone();
    assert!(!plugin.returned.load(Ordering::SeqCst), "call in flight");

    let cancelled = engine
        .cancel_run(&ws.id, &scorer.id, &run_id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert_eq!(cancelled.steps.len(), 1, "{:?}", cancelled.steps);
    assert_eq!(cancelled.steps[0].status, StepStatus::Skipped);
    assert!(cancelled.steps[0].finished_at.is_some());

    // The call returns later: the run stays cancelled and its effects are not applied.
    engine.run_until_idle().await.unwrap();
    assert!(plugin.returned.load(Ordering::SeqCst));
    let run = engine.run(&ws.id, &run_id).await.unwrap();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(run.steps.len(), 1, "{:?}", run.steps);
    assert_eq!(notification_count(&engine, &ws.id, "u_plugin").await, 0);
    assert_eq!(notification_count(&engine, &ws.id, "u1").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_never_starts_a_plugin_call_from_its_own_transaction() {
    let plugin = FakePlugin::new(Behaviour::Sleep(Duration::from_millis(1)));
    let fx = Fixture::with(quick_config(), Some(plugin.clone())).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let (scorer, _) = engine
        .create_automation(&ws.id, scoring_automation())
        .await
        .unwrap();
    // No worker runs: the write starts the runs it can.
    create(engine, &ws.id, "case", json!({"subject": "queued"})).await;
    let scoring = runs_of(engine, &ws.id, &scorer.id).await;
    assert_eq!(scoring[0].status, RunStatus::Queued);
    assert_eq!(plugin.calls.load(Ordering::SeqCst), 0);
    // The queue makes the call once and completes the run.
    engine.run_until_idle().await.unwrap();
    let scoring = runs_of(engine, &ws.id, &scorer.id).await;
    assert_eq!(scoring[0].status, RunStatus::Completed);
    assert_eq!(plugin.calls.load(Ordering::SeqCst), 1);
    assert_eq!(notification_count(engine, &ws.id, "u1").await, 1);
}
