//! Step retries (DESIGN §6): a step whose policy names the class of its error is tried
//! again after a durable backoff (a `retry` timer), shows `attempts` and `last_error`,
//! and never applies an effect twice; other errors, and spent attempts, fail the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use automations_compiler::retry::ErrorClass;
use automations_runtime::hooks::{
    EffectRequest, PluginCall, PluginFailure, PluginFuture, PluginResult, PluginRunner,
};
use automations_runtime::model::{Run, RunStatus, StepStatus};
use automations_runtime::store::Store;

use crate::support::*;

/// A plugin that fails its first `fails` calls (counted across restarts by `calls`) with
/// `class`, then succeeds with one notification effect. A call may also ask for a
/// notification and then a write the store refuses (`partial`), to see what a failed
/// attempt leaves behind.
struct Flaky {
    fails: usize,
    class: Option<ErrorClass>,
    partial: bool,
    calls: Arc<AtomicUsize>,
}

impl PluginRunner for Flaky {
    fn run(&self, _call: PluginCall) -> PluginFuture<'_> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let notify = |user: &str| EffectRequest::Notify {
                user_id: user.into(),
                message: format!("call {n}"),
            };
            if self.partial {
                let missing = EffectRequest::UpdateRecord {
                    object: "case".into(),
                    id: "cas_missing".into(),
                    fields: Default::default(),
                };
                return Ok(PluginResult {
                    output: json!({}),
                    effects: vec![notify("u_partial"), missing],
                    logs: Vec::new(),
                });
            }
            if n <= self.fails {
                return Err(PluginFailure {
                    message: format!("attempt {n} timed out"),
                    logs: Vec::new(),
                    class: self.class,
                });
            }
            Ok(PluginResult {
                output: json!({"ok": true}),
                effects: vec![notify("u_done")],
                logs: Vec::new(),
            })
        })
    }
}

fn flaky(fails: usize, class: Option<ErrorClass>) -> (Arc<dyn PluginRunner>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let runner = Flaky {
        fails,
        class,
        partial: false,
        calls: calls.clone(),
    };
    (Arc::new(runner), calls)
}

/// A notification before the flaky step, the step with `retry`, a notification after.
fn definition(retry: Value) -> Value {
    json!({"name": "flaky", "trigger": {"event": "case.created"}, "status": "active",
    "actions": [
        {"type": "notify_user", "params": {"user_id": "u_before", "message": "before"}},
        {"id": "p", "type": "plugin", "params": {"plugin": "flaky", "input": {}}, "retry": retry},
        {"type": "notify_user", "params": {"user_id": "u_after", "message": "after {{ steps.p.output.ok }}"}}
    ]})
}

/// Drives the engine until the workspace's only run is finished (timers come due on their
/// own; the bound only turns a hang into a failure).
async fn finished_run(fx: &Fixture) -> Run {
    for _ in 0..600 {
        fx.engine.run_until_idle().await.unwrap();
        if let Some(run) = fx.runs().await.first()
            && run.status.is_terminal()
        {
            return fx.engine.run(&fx.ws.id, &run.id).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run did not finish: {:?}", fx.runs().await);
}

async fn notified(fx: &Fixture, user: &str) -> usize {
    fx.notifications(user).await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_failing_twice_then_succeeding_completes_with_three_attempts() {
    let (runner, calls) = flaky(2, Some(ErrorClass::Timeout));
    let fx = Fixture::with(quick_config(), Some(runner)).await;
    let retry = json!({"attempts": 3, "backoff": "100ms", "on": ["timeout"]});
    fx.engine
        .create_automation(&fx.ws.id, definition(retry))
        .await
        .unwrap();
    fx.create("case", json!({"subject": "x"})).await;
    let run = finished_run(&fx).await;
    assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
    let step = &run.steps[1];
    assert_eq!(step.status, StepStatus::Completed);
    assert_eq!(step.attempts, 3);
    assert_eq!(step.last_error.as_deref(), Some("attempt 2 timed out"));
    assert_eq!(step.error, None);
    assert_eq!(step.output, Some(json!({"ok": true})));
    assert_eq!(run.steps[0].attempts, 1);
    assert_eq!(run.steps[0].last_error, None);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // Every effect once: the step before, the successful attempt, the step after.
    assert_eq!(notified(&fx, "u_before").await, 1);
    assert_eq!(notified(&fx, "u_done").await, 1);
    assert_eq!(notified(&fx, "u_after").await, 1);
    assert_eq!(fx.notifications("u_after").await[0].message, "after true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spent_attempts_fail_the_run_with_the_last_error() {
    let (runner, calls) = flaky(10, Some(ErrorClass::Timeout));
    let fx = Fixture::with(quick_config(), Some(runner)).await;
    let retry = json!({"attempts": 3, "backoff": "100ms"});
    fx.engine
        .create_automation(&fx.ws.id, definition(retry))
        .await
        .unwrap();
    fx.create("case", json!({"subject": "x"})).await;
    let run = finished_run(&fx).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.error.as_deref(),
        Some("step p failed after 3 attempts: attempt 3 timed out")
    );
    let step = &run.steps[1];
    assert_eq!(step.status, StepStatus::Failed);
    assert_eq!(step.attempts, 3);
    assert_eq!(step.error.as_deref(), Some("attempt 3 timed out"));
    assert_eq!(step.last_error.as_deref(), Some("attempt 3 timed out"));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(notified(&fx, "u_before").await, 1);
    assert_eq!(notified(&fx, "u_done").await, 0);
    assert_eq!(notified(&fx, "u_after").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_a_policy_does_not_retry_fail_at_once() {
    // (what the plugin's failure is, what the policy names)
    let cases = [
        (Some(ErrorClass::PluginError), json!(["timeout", "http"])),
        (Some(ErrorClass::Timeout), json!(["plugin_error"])),
        // A trap, an exhausted limit, a missing plugin: never transient.
        (None, json!(["timeout", "http", "conflict", "plugin_error"])),
    ];
    for (class, on) in cases {
        let (runner, calls) = flaky(10, class);
        let fx = Fixture::with(quick_config(), Some(runner)).await;
        let retry = json!({"attempts": 5, "backoff": "100ms", "on": on});
        fx.engine
            .create_automation(&fx.ws.id, definition(retry))
            .await
            .unwrap();
        fx.create("case", json!({"subject": "x"})).await;
        let run = finished_run(&fx).await;
        assert_eq!(run.status, RunStatus::Failed, "{class:?}");
        assert_eq!(
            run.error.as_deref(),
            Some("step p failed: attempt 1 timed out")
        );
        assert_eq!(run.steps[1].attempts, 1, "{class:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{class:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_during_the_backoff_still_retries_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let runner = |calls: &Arc<AtomicUsize>| -> Arc<dyn PluginRunner> {
        Arc::new(Flaky {
            fails: 1,
            class: Some(ErrorClass::Timeout),
            partial: false,
            calls: calls.clone(),
        })
    };
    let fx = Fixture::with(quick_config(), Some(runner(&calls))).await;
    let retry = json!({"attempts": 2, "backoff": "2s"});
    fx.engine
        .create_automation(&fx.ws.id, definition(retry))
        .await
        .unwrap();
    fx.create("case", json!({"subject": "x"})).await;
    fx.engine.run_until_idle().await.unwrap();
    // Parked on its backoff: the run waits, its step shows the failed attempt.
    let parked = fx.runs().await.remove(0);
    let parked = fx.engine.run(&fx.ws.id, &parked.id).await.unwrap();
    assert_eq!(parked.status, RunStatus::Waiting);
    let step = &parked.steps[1];
    assert_eq!(step.status, StepStatus::Waiting);
    assert_eq!(step.attempts, 1);
    assert_eq!(step.last_error.as_deref(), Some("attempt 1 timed out"));
    assert_eq!(step.error, None);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The process goes away during the backoff; another one opens the same database.
    fx.engine.store().close().await;
    let engine = open_engine_with(&fx.db(), quick_config(), Some(runner(&calls))).await;
    let restarted = Fixture {
        dir: tempfile::tempdir().unwrap(),
        engine,
        ws: fx.ws.clone(),
    };
    let run = finished_run(&restarted).await;
    assert_eq!(run.id, parked.id);
    assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
    assert_eq!(run.steps[1].attempts, 2);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "retried exactly once");
    assert_eq!(notified(&restarted, "u_before").await, 1);
    assert_eq!(notified(&restarted, "u_done").await, 1);
    assert_eq!(notified(&restarted, "u_after").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_leaves_none_of_its_effects() {
    // The plugin asks for a notification, then for a write of a record that does not
    // exist: the step fails, and the notification it asked for first is not kept.
    let calls = Arc::new(AtomicUsize::new(0));
    let runner = Flaky {
        fails: 0,
        class: None,
        partial: true,
        calls: calls.clone(),
    };
    let fx = Fixture::with(quick_config(), Some(Arc::new(runner))).await;
    let retry = json!({"attempts": 3, "backoff": "100ms"});
    fx.engine
        .create_automation(&fx.ws.id, definition(retry))
        .await
        .unwrap();
    fx.create("case", json!({"subject": "x"})).await;
    let run = finished_run(&fx).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.error.as_deref().unwrap_or("").contains("cas_missing"),
        "{:?}",
        run.error
    );
    assert_eq!(notified(&fx, "u_partial").await, 0);
    assert_eq!(notified(&fx, "u_before").await, 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_run_during_its_backoff_ends_it_for_good() {
    let (runner, calls) = flaky(1, Some(ErrorClass::Timeout));
    let fx = Fixture::with(quick_config(), Some(runner)).await;
    let retry = json!({"attempts": 3, "backoff": "1s"});
    let auto = fx
        .engine
        .create_automation(&fx.ws.id, definition(retry))
        .await
        .unwrap();
    fx.create("case", json!({"subject": "x"})).await;
    fx.engine.run_until_idle().await.unwrap();
    let run = fx.runs().await.remove(0);
    assert_eq!(run.status, RunStatus::Waiting);
    let cancelled = fx
        .engine
        .cancel_run(&fx.ws.id, &auto.0.id, &run.id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert_eq!(cancelled.steps[1].status, StepStatus::Skipped);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    fx.engine.run_until_idle().await.unwrap();
    let after = fx.engine.run(&fx.ws.id, &run.id).await.unwrap();
    assert_eq!(after.status, RunStatus::Cancelled);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "no attempt after the cancel"
    );
    assert_eq!(
        fx.engine
            .store()
            .count_runs(Some(RunStatus::Queued))
            .await
            .unwrap(),
        0
    );
}
