//! What a run sees (DESIGN §5): the triggering record as its event left it, plus its own
//! earlier steps' writes; never writes made by others after the event, even when those
//! writes race the run or the run parks and resumes later.

use std::time::Duration;

use serde_json::{Value, json};

use automations_runtime::model::{AutomationStatus, RunStatus};
use automations_runtime::store::Store;

use crate::support::{Fixture, obj};

const WRITES: usize = 32;
const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];

/// On every priority change: write the subject from the priority, then report the change
/// and the subject the run itself wrote.
fn reporter(extra: Vec<Value>) -> Value {
    let mut actions = vec![json!({"id": "mark", "type": "update_field",
               "params": {"field": "subject", "value": "saw {{ priority }}"}})];
    actions.extend(extra);
    actions.push(json!({"id": "report", "type": "notify_user", "params": {
        "user_id": "watcher",
        "message": "{{ previous.priority }} -> {{ priority }} / {{ subject }}"
    }}));
    json!({
        "name": "Report priority changes",
        "trigger": {"event": "case.priority_changed"},
        "actions": actions,
        "status": "active"
    })
}

/// Every run's report against the event that started it; `expected_runs` when known.
async fn check_reports(f: &Fixture, expected_runs: Option<usize>) {
    let mut runs = Vec::new();
    let mut cursor = None;
    loop {
        let page = f
            .engine
            .runs(
                &f.ws.id,
                &automations_runtime::model::RunFilter {
                    cursor: cursor.clone(),
                    limit: 500,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        runs.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    match expected_runs {
        Some(n) => assert_eq!(runs.len(), n),
        // The race must have made several changes for the check to mean anything.
        None => assert!(runs.len() >= 2, "only {} runs", runs.len()),
    }
    let mut mismatches = Vec::new();
    for run in runs {
        assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
        let run = f.engine.run(&f.ws.id, &run.id).await.unwrap();
        let event = f
            .engine
            .store()
            .event(&f.ws.id, &run.event_id)
            .await
            .unwrap()
            .unwrap();
        let before = event.payload["previous"]["priority"].as_str().unwrap();
        let after = event.payload["record"]["priority"].as_str().unwrap();
        let report = run.steps.iter().find(|s| s.id == "report").unwrap();
        let message = report.input.as_ref().unwrap()["message"].clone();
        let wanted = format!("{before} -> {after} / saw {after}");
        if message != json!(wanted) {
            mismatches.push(format!("{message} (event said {wanted})"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "runs mixed in later writes: {mismatches:#?}"
    );
}

fn priority(i: usize) -> Value {
    json!({ "priority": PRIORITIES[i % PRIORITIES.len()] })
}

#[tokio::test]
async fn runs_after_later_writes_still_see_their_event() {
    let f = Fixture::new().await;
    f.engine
        .create_automation(&f.ws.id, reporter(Vec::new()))
        .await
        .unwrap();
    let case = f
        .create("case", json!({"subject": "s", "priority": "low"}))
        .await;
    // Every write commits before any run starts: each run comes after all of them.
    for i in 1..=WRITES {
        f.engine
            .update_record(&f.ws.id, "case", &case.id, obj(priority(i)))
            .await
            .unwrap();
    }
    f.engine.run_until_idle().await.unwrap();
    check_reports(&f, Some(WRITES)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_racing_running_workers_do_not_leak_into_runs() {
    let f = Fixture::new().await;
    f.engine
        .create_automation(&f.ws.id, reporter(Vec::new()))
        .await
        .unwrap();
    let case = f
        .create("case", json!({"subject": "s", "priority": "low"}))
        .await;
    let workers = f.engine.start();
    let mut writers = Vec::new();
    for i in 1..=WRITES {
        let engine = f.engine.clone();
        let (ws, id) = (f.ws.id.clone(), case.id.clone());
        writers.push(tokio::spawn(async move {
            engine
                .update_record(&ws, "case", &id, obj(priority(i)))
                .await
                .unwrap();
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    f.engine.run_until_idle().await.unwrap();
    workers.shutdown().await;
    // Concurrent writes of the value a case already holds raise no change event, so the
    // number of runs is whatever the race made.
    check_reports(&f, None).await;
}

/// A run that parks on a timer resumes after later writes and still reports its own event
/// and its own earlier write.
#[tokio::test]
async fn a_resumed_run_keeps_its_event_and_own_writes() {
    let f = Fixture::new().await;
    let wait = json!({"id": "pause", "type": "wait", "params": {"duration": "1s"}});
    f.engine
        .create_automation(&f.ws.id, reporter(vec![wait]))
        .await
        .unwrap();
    let case = f
        .create("case", json!({"subject": "s", "priority": "low"}))
        .await;
    f.engine
        .update_record(&f.ws.id, "case", &case.id, obj(priority(2)))
        .await
        .unwrap();
    f.engine.run_until_idle().await.unwrap();
    // While the run waits, someone else changes the subject and the priority; the
    // reporter is paused so that only the first run reports.
    let id = f.engine.automations(&f.ws.id).await.unwrap()[0].id.clone();
    f.engine
        .set_automation_status(&f.ws.id, &id, AutomationStatus::Paused)
        .await
        .unwrap();
    f.engine
        .update_record(
            &f.ws.id,
            "case",
            &case.id,
            obj(json!({"subject": "someone else", "priority": "critical"})),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    f.engine.run_until_idle().await.unwrap();
    check_reports(&f, Some(1)).await;
}
