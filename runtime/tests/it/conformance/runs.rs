//! Runs and steps: insert once per (automation, event), the queue, crash recovery, the
//! loop-guard count, step upserts, lists, stats and the idle probe.

use automations_runtime::error::RuntimeError;
use automations_runtime::model::*;
use automations_runtime::store::{STEP_LATENCY_BOUNDS_MS, Store, StoreTx};
use serde_json::json;

use super::fixtures::*;

pub async fn runs_insert_once_and_update<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    let r = run("w1", "r1", "a1", "e1", 1);
    assert!(tx.insert_run(&r).await.unwrap());
    assert!(
        !tx.insert_run(&run("w1", "r2", "a1", "e1", 2))
            .await
            .unwrap(),
        "same (automation, event)"
    );
    assert!(
        tx.insert_run(&run("w2", "r3", "a1", "e1", 2))
            .await
            .unwrap(),
        "other workspace"
    );
    let mut r = tx.run("w1", "r1").await.unwrap().unwrap();
    assert!(tx.run("w2", "r1").await.unwrap().is_none());
    r.status = RunStatus::Failed;
    r.pc = 3;
    r.state.outputs.insert("s1".into(), json!({"ok": true}));
    r.state.next_seq = 4;
    r.error = Some("boom".into());
    r.error_code = Some(RunErrorCode::StepFailed);
    r.started_at = Some(at(2));
    r.finished_at = Some(at(12));
    r.duration_ms = Some(10);
    r.dry_run = true;
    tx.update_run(&r).await.unwrap();
    tx.commit().await.unwrap();
    let got = s.run("w1", "r1").await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.pc, got.dry_run),
        (RunStatus::Failed, 3, false),
        "dry_run is fixed at insert"
    );
    assert_eq!(got.state, r.state);
    assert_eq!(
        (got.error.as_deref(), got.error_code),
        (Some("boom"), Some(RunErrorCode::StepFailed))
    );
    assert_eq!(
        (got.started_at, got.finished_at, got.duration_ms),
        (Some(at(2)), Some(at(12)), Some(10))
    );
    assert_eq!(got.created_at, at(1));
    assert!(
        s.run("w2", "r1").await.unwrap().is_none(),
        "other workspace"
    );
}

pub async fn queue_and_crash_recovery<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for (id, ms, status) in [
        ("r3", 3, RunStatus::Queued),
        ("r1", 1, RunStatus::Queued),
        ("r2", 2, RunStatus::Running),
        ("r4", 4, RunStatus::Completed),
        ("r5", 1, RunStatus::Queued),
    ] {
        let mut r = run("w1", id, "a1", &format!("e_{id}"), ms);
        r.status = status;
        tx.insert_run(&r).await.unwrap();
    }
    let queued = tx.queued_runs(10).await.unwrap();
    assert_eq!(ids(&queued, |r| &r.id), ["r1", "r5", "r3"], "oldest first");
    assert_eq!(tx.queued_runs(1).await.unwrap().len(), 1);
    assert_eq!(tx.requeue_running().await.unwrap(), 1);
    assert_eq!(tx.requeue_running().await.unwrap(), 0);
    tx.commit().await.unwrap();
    assert_eq!(s.count_runs(Some(RunStatus::Queued)).await.unwrap(), 4);
    assert_eq!(s.count_runs(Some(RunStatus::Running)).await.unwrap(), 0);
    assert_eq!(s.count_runs(Some(RunStatus::Completed)).await.unwrap(), 1);
    assert_eq!(s.count_runs(None).await.unwrap(), 5);
    // A queued run that ends completed leaves the queue and joins the completed count.
    let mut tx = s.begin().await.unwrap();
    let mut r1 = tx.queued_runs(1).await.unwrap().remove(0);
    r1.status = RunStatus::Completed;
    tx.end_runs(&[(&r1, [].as_slice())]).await.unwrap();
    assert_eq!(
        ids(&tx.queued_runs(10).await.unwrap(), |r| &r.id),
        ["r5", "r2", "r3"]
    );
    tx.commit().await.unwrap();
    assert_eq!(s.count_runs(Some(RunStatus::Queued)).await.unwrap(), 3);
    assert_eq!(s.count_runs(Some(RunStatus::Completed)).await.unwrap(), 2);
}

pub async fn runs_on_a_record_since<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for (i, ms) in [0, 10, 20, 30].iter().enumerate() {
        tx.insert_run(&run("w1", &format!("r{i}"), "a1", &format!("e{i}"), *ms))
            .await
            .unwrap();
    }
    let mut other = run("w1", "rx", "a1", "ex", 30);
    other.record_id = Some("c2".into());
    tx.insert_run(&other).await.unwrap();
    tx.insert_run(&run("w1", "ry", "a2", "ey", 30))
        .await
        .unwrap();
    assert_eq!(
        tx.count_runs_on_record("w1", "a1", "case", "c1", at(10))
            .await
            .unwrap(),
        3,
        "since is inclusive"
    );
    assert_eq!(
        tx.count_runs_on_record("w1", "a1", "case", "c1", at(31))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tx.count_runs_on_record("w1", "a1", "contact", "c1", at(0))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tx.count_runs_on_record("w2", "a1", "case", "c1", at(0))
            .await
            .unwrap(),
        0,
        "other workspace"
    );
}

pub async fn steps_upsert_and_end_runs<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    let (mut a, mut b) = (
        run("w1", "r1", "a1", "e1", 1),
        run("w1", "r2", "a1", "e2", 2),
    );
    tx.insert_run(&a).await.unwrap();
    tx.insert_run(&b).await.unwrap();
    let mut s1 = step("s1", 0, StepStatus::Running);
    tx.upsert_step("w1", "r1", &s1).await.unwrap();
    s1.status = StepStatus::Completed;
    s1.output = Some(json!({"done": [1, 2]}));
    s1.error = Some("warning".into());
    tx.upsert_step("w1", "r1", &s1).await.unwrap();
    assert!(tx.steps("w2", "r1").await.unwrap().is_empty());
    let got = tx.steps("w1", "r1").await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].status, got[0].output.clone()),
        (StepStatus::Completed, Some(json!({"done": [1, 2]})))
    );
    assert_eq!(got[0].effects, s1.effects);
    assert_eq!(got[0].logs, s1.logs);
    assert_eq!(got[0].input, s1.input);
    assert_eq!(
        (got[0].attempts, got[0].last_error.as_deref()),
        (2, Some("first try: timed out"))
    );
    // A delivery's retries note their tries on the step that queued it; another
    // workspace's step of the same ids is left alone.
    tx.note_step_attempts("w1", "r1", "s1", 3, Some("503 from the receiver"))
        .await
        .unwrap();
    tx.note_step_attempts("w2", "r1", "s1", 9, None)
        .await
        .unwrap();
    let got = tx.steps("w1", "r1").await.unwrap();
    assert_eq!(
        (got[0].attempts, got[0].last_error.as_deref()),
        (3, Some("503 from the receiver"))
    );
    assert_eq!(
        (got[0].started_at, got[0].finished_at, got[0].duration_ms),
        (s1.started_at, s1.finished_at, s1.duration_ms)
    );

    a.status = RunStatus::Completed;
    a.pc = 2;
    a.finished_at = Some(at(40));
    b.status = RunStatus::Waiting;
    b.error = Some("none".into());
    let a_steps = vec![
        step("s2", 1, StepStatus::Failed),
        step("s3", 2, StepStatus::Completed),
        step("s2", 3, StepStatus::Completed),
    ];
    let b_steps = vec![step("s1", 0, StepStatus::Waiting)];
    tx.end_runs(&[(&a, a_steps.as_slice()), (&b, b_steps.as_slice())])
        .await
        .unwrap();
    tx.end_runs(&[]).await.unwrap();
    tx.commit().await.unwrap();

    let a = s.run("w1", "r1").await.unwrap().unwrap();
    assert_eq!(
        (a.status, a.pc, a.finished_at),
        (RunStatus::Completed, 2, Some(at(40)))
    );
    let got: Vec<_> = a.steps.iter().map(|s| (s.id.as_str(), s.status)).collect();
    assert_eq!(
        got,
        [
            ("s1", StepStatus::Completed),
            ("s3", StepStatus::Completed),
            ("s2", StepStatus::Completed)
        ],
        "the later row of s2 wins; ordered by seq"
    );
    let b = s.run("w1", "r2").await.unwrap().unwrap();
    assert_eq!(
        (b.status, b.error.as_deref(), b.steps.len()),
        (RunStatus::Waiting, Some("none"), 1)
    );
}

/// Ending many runs at once (more rows than one statement carries).
pub async fn end_runs_in_bulk<S: Store>(s: &S) {
    let mut runs: Vec<Run> = (0..600)
        .map(|i| run("w1", &format!("r{i}"), "a1", &format!("e{i}"), i))
        .collect();
    let mut tx = s.begin().await.unwrap();
    for r in &runs {
        tx.insert_run(r).await.unwrap();
    }
    let steps = vec![
        step("s1", 0, StepStatus::Completed),
        step("s2", 1, StepStatus::Completed),
    ];
    for r in &mut runs {
        r.status = RunStatus::Completed;
    }
    let ends: Vec<(&Run, &[StepRun])> = runs.iter().map(|r| (r, steps.as_slice())).collect();
    tx.end_runs(&ends).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.count_runs(Some(RunStatus::Completed)).await.unwrap(), 600);
    assert_eq!(s.run("w1", "r599").await.unwrap().unwrap().steps.len(), 2);
}

pub async fn runs_list_and_page<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for i in 0..6 {
        let mut r = run(
            "w1",
            &format!("r{i}"),
            if i < 4 { "a1" } else { "a2" },
            &format!("e{i}"),
            i / 2,
        );
        r.status = if i % 2 == 0 {
            RunStatus::Completed
        } else {
            RunStatus::Failed
        };
        r.dry_run = i == 5;
        tx.insert_run(&r).await.unwrap();
    }
    tx.insert_run(&run("w2", "x1", "a1", "e1", 0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let page = |f: RunFilter| async move { s.runs("w1", &f).await };
    let all = page(RunFilter::default()).await.unwrap();
    assert_eq!(
        ids(&all.items, |r| &r.id),
        ["r5", "r4", "r3", "r2", "r1", "r0"],
        "newest first, then id"
    );
    assert!(all.items.iter().all(|r| r.steps.is_empty()));
    let f = RunFilter {
        automation_id: Some("a1".into()),
        limit: 2,
        ..Default::default()
    };
    let p1 = page(f.clone()).await.unwrap();
    assert_eq!(ids(&p1.items, |r| &r.id), ["r3", "r2"]);
    let p2 = page(RunFilter {
        cursor: p1.next_cursor,
        ..f.clone()
    })
    .await
    .unwrap();
    assert_eq!(ids(&p2.items, |r| &r.id), ["r1", "r0"]);
    assert!(p2.next_cursor.is_none());
    let failed = page(RunFilter {
        status: Some(RunStatus::Failed),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&failed.items, |r| &r.id), ["r5", "r3", "r1"]);
    let dry = page(RunFilter {
        dry_run: Some(true),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&dry.items, |r| &r.id), ["r5"]);
    let live = page(RunFilter {
        dry_run: Some(false),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(live.items.len(), 5);
    match page(RunFilter {
        cursor: Some("x1".into()),
        ..Default::default()
    })
    .await
    {
        Err(RuntimeError::NotFound { what: "cursor", .. }) => {}
        other => panic!("another workspace's run is no cursor: {other:?}"),
    }
    let by_event = s.runs_for_event("w1", "e3").await.unwrap();
    assert_eq!(ids(&by_event, |r| &r.id), ["r3"]);
    assert!(s.runs_for_event("w2", "e3").await.unwrap().is_empty());
}

pub async fn stats_and_due_work<S: Store>(s: &S) {
    assert_eq!(
        s.due_work(at(0)).await.unwrap(),
        Default::default(),
        "empty store: nothing due"
    );
    let empty = s.stats().await.unwrap();
    assert_eq!(
        (empty.step_latency.count, empty.step_latency.sum_ms),
        (0, 0.0),
        "empty store: no steps"
    );
    assert_eq!(empty.step_latency.le, [0; STEP_LATENCY_BOUNDS_MS.len()]);
    let mut tx = s.begin().await.unwrap();
    let mut r = run("w1", "r1", "a1", "e1", 0);
    tx.insert_run(&r).await.unwrap();
    r.status = RunStatus::Completed;
    let steps = [
        step("s1", 0, StepStatus::Completed),
        step("s2", 5, StepStatus::Completed),
    ];
    let mut unfinished = step("s3", 6, StepStatus::Running);
    unfinished.duration_ms = None;
    let steps = [steps[0].clone(), steps[1].clone(), unfinished];
    tx.end_runs(&[(&r, steps.as_slice())]).await.unwrap();
    tx.insert_run(&run("w1", "r2", "a1", "e2", 0))
        .await
        .unwrap();
    tx.queue_outbox(&outbox("w1", "o1", "k1", 100))
        .await
        .unwrap();
    let mut delivered = outbox("w1", "o2", "k2", 0);
    delivered.status = OutboxStatus::Delivered;
    tx.queue_outbox(&delivered).await.unwrap();
    tx.insert_timer(&timer("w1", "t1", "r2", 50)).await.unwrap();
    tx.commit().await.unwrap();

    let stats = s.stats().await.unwrap();
    assert_eq!(
        stats.runs_by_status,
        [("completed".to_string(), 1), ("queued".to_string(), 1)]
    );
    assert_eq!(
        (stats.step_latency.count, stats.step_latency.sum_ms),
        (2, 25.0),
        "durations 10 and 15"
    );
    // Bounds 1, 5, 10, 25, ... ms.
    assert_eq!(stats.step_latency.le, [0, 0, 1, 2, 2, 2, 2, 2, 2, 2]);
    assert_eq!(stats.outbox_backlog, [("slack".to_string(), 1)]);

    let due = s.due_work(at(10)).await.unwrap();
    assert!(due.queued_runs && !due.due_timers && !due.due_outbox);
    let due = s.due_work(at(100)).await.unwrap();
    assert!(due.queued_runs && due.due_timers && due.due_outbox);
}

/// The step latency histogram counts what committed transactions ended: a dropped
/// transaction or a savepoint rolled back counts nothing, a step given twice to one
/// `end_runs` counts its last row, a step written alone counts too.
pub async fn step_latency_counts_committed_steps<S: Store>(s: &S) {
    let ended = |id: &str, ms: i64| {
        let mut st = step(id, 0, StepStatus::Completed);
        st.duration_ms = Some(ms);
        st
    };
    let count = || async { s.stats().await.unwrap().step_latency };
    let mut r = run("w1", "r1", "a1", "e1", 0);
    let mut tx = s.begin().await.unwrap();
    tx.insert_run(&r).await.unwrap();
    tx.end_runs(&[(&r, [ended("lost", 3000)].as_slice())])
        .await
        .unwrap();
    drop(tx);
    assert_eq!(
        count().await.count,
        0,
        "a dropped transaction counts nothing"
    );

    let mut tx = s.begin().await.unwrap();
    tx.insert_run(&r).await.unwrap();
    tx.savepoint().await.unwrap();
    tx.end_runs(&[(&r, [ended("undone", 3000)].as_slice())])
        .await
        .unwrap();
    tx.rollback_to_savepoint().await.unwrap();
    tx.savepoint().await.unwrap();
    r.status = RunStatus::Completed;
    let twice = [ended("s1", 4000), ended("s2", 2), ended("s1", 7)];
    tx.end_runs(&[(&r, twice.as_slice())]).await.unwrap();
    tx.release_savepoint().await.unwrap();
    tx.upsert_step("w1", "r1", &ended("alone", 60))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let h = count().await;
    assert_eq!(
        (h.count, h.sum_ms),
        (3, 69.0),
        "s1 once (its last row, 7 ms), s2 and the step written alone: {h:?}"
    );
    assert_eq!(h.le, [0, 1, 2, 2, 2, 3, 3, 3, 3, 3]);
    let mut stored = s.run("w1", "r1").await.unwrap().unwrap().steps;
    stored.sort_by(|a, b| a.id.cmp(&b.id));
    let durations: Vec<_> = stored
        .iter()
        .map(|st| (st.id.as_str(), st.duration_ms))
        .collect();
    assert_eq!(
        durations,
        [("alone", Some(60)), ("s1", Some(7)), ("s2", Some(2))],
        "the histogram counts the rows stored"
    );
}
