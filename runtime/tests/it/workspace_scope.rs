//! The workspace invariant at the store boundary: every by-id read or write of runs,
//! steps, tasks, timers, outbox items and versions filters on the workspace, so a caller
//! holding another workspace's id reads nothing and writes nothing (0 rows), whatever the
//! layers above check first. The same calls with the owner's workspace do change the rows,
//! so each probe is known to reach its row.

use automations_runtime::model::*;
use automations_runtime::store::{SqliteConfig, SqliteStore, Store, StoreTx};
use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::{AssertSqlSafe, SqlitePool};

const OWNER: &str = "wa";
const OTHER: &str = "wb";

fn run(ws: &str) -> Run {
    Run {
        id: "run_1".into(),
        workspace_id: ws.into(),
        automation_id: "aut_1".into(),
        version: 1,
        event_id: "evt_1".into(),
        object: Some("case".into()),
        record_id: Some("cas_1".into()),
        status: RunStatus::Waiting,
        dry_run: false,
        pc: 0,
        state: RunState::default(),
        error: None,
        error_code: None,
        created_at: Utc::now(),
        started_at: Some(Utc::now()),
        finished_at: None,
        duration_ms: None,
        steps: Vec::new(),
    }
}

fn step(status: StepStatus) -> StepRun {
    StepRun {
        id: "approval".into(),
        step_type: "human_task".into(),
        status,
        seq: 0,
        started_at: Some(Utc::now()),
        finished_at: None,
        duration_ms: None,
        input: Some(json!({"title": "t"})),
        output: None,
        error: None,
        effects: Vec::new(),
        logs: Vec::new(),
        attempts: 1,
        last_error: None,
    }
}

fn outbox(ws: &str, status: OutboxStatus) -> OutboxItem {
    OutboxItem {
        id: "obx_1".into(),
        workspace_id: ws.into(),
        kind: OutboxKind::Webhook,
        status,
        attempts: 0,
        last_error: None,
        payload: json!({"url": "https://example.com/"}),
        run_id: Some("run_1".into()),
        step_id: Some("approval".into()),
        idempotency_key: "run_1:approval:0".into(),
        next_attempt_at: Utc::now(),
        created_at: Utc::now(),
        delivered_at: None,
        retry: None,
    }
}

/// One workspace's run parked on a human task with a timeout timer and an outbox item.
async fn seed(store: &SqliteStore) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_version(&AutomationVersion {
        workspace_id: OWNER.into(),
        automation_id: "aut_1".into(),
        version: 1,
        definition: json!({"name": "x"}),
        status: AutomationStatus::Active,
        environment: EnvironmentKind::Live,
        created_at: Utc::now(),
    })
    .await
    .unwrap();
    assert!(tx.insert_run(&run(OWNER)).await.unwrap());
    tx.upsert_step(OWNER, "run_1", &step(StepStatus::Waiting))
        .await
        .unwrap();
    tx.insert_task(&Task {
        id: "tsk_1".into(),
        workspace_id: OWNER.into(),
        run_id: "run_1".into(),
        automation_id: "aut_1".into(),
        step_id: "approval".into(),
        title: "Approve".into(),
        assignee: Some("usr_1".into()),
        queue: None,
        form: json!({"approved": "bool"}),
        status: TaskStatus::Open,
        output: None,
        on_timeout: None,
        due_at: None,
        timeout_at: None,
        dry_run: false,
        created_at: Utc::now(),
        completed_at: None,
    })
    .await
    .unwrap();
    for id in ["tmr_1", "tmr_2"] {
        tx.insert_timer(&Timer {
            id: id.into(),
            workspace_id: OWNER.into(),
            run_id: "run_1".into(),
            step_id: "approval".into(),
            kind: TimerKind::TaskTimeout,
            fire_at: Utc::now() + Duration::hours(1),
        })
        .await
        .unwrap();
    }
    assert!(
        tx.insert_outbox(&outbox(OWNER, OutboxStatus::Pending))
            .await
            .unwrap()
    );
    tx.queue_automation_log(
        automations_runtime::record_log::AutomationLogEntry {
            workspace_id: OWNER.into(),
            event_id: "evt_1".into(),
            event_type: "case.created".into(),
            object: "case".into(),
            record_id: "cas_1".into(),
            created_at: Utc::now(),
            depth: 0,
            automations: Vec::new(),
            not_listed: 0,
        },
        10,
    );
    tx.commit().await.unwrap();
}

/// Every row of the tables the probes write, as text (columns quoted, rows in order).
async fn fingerprint(pool: &SqlitePool) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "runs",
        "steps",
        "tasks",
        "timers",
        "outbox",
        "automation_versions",
    ] {
        let cols: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{table}')"
        )))
        .fetch_all(pool)
        .await
        .unwrap();
        let quoted: Vec<String> = cols.iter().map(|c| format!("quote({c})")).collect();
        let sql = format!(
            "SELECT {} FROM {table} ORDER BY rowid",
            quoted.join(" || ',' || ")
        );
        for row in sqlx::query_scalar::<_, String>(AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .unwrap()
        {
            out.push(format!("{table}: {row}"));
        }
    }
    out
}

/// Runs every by-id write as workspace `ws`; returns what the compare-and-set ones said.
async fn write_as(store: &SqliteStore, ws: &str) -> Vec<(&'static str, bool)> {
    let mut tx = store.begin().await.unwrap();
    let mut failed = run(ws);
    failed.status = RunStatus::Failed;
    failed.error = Some("overwritten".into());
    tx.update_run(&failed).await.unwrap();
    let mut ended = step(StepStatus::Failed);
    ended.error = Some("overwritten".into());
    tx.upsert_step(ws, "run_1", &ended).await.unwrap();
    let mut cancelled = run(ws);
    cancelled.status = RunStatus::Cancelled;
    tx.end_runs(&[(&cancelled, std::slice::from_ref(&ended))])
        .await
        .unwrap();
    tx.reassign_task(ws, "tsk_1", Some("usr_evil"), None)
        .await
        .unwrap();
    let moved = tx
        .transition_task(
            ws,
            "tsk_1",
            TaskStatus::Open,
            TaskStatus::Completed,
            Some(&json!({"approved": true})),
            Utc::now(),
        )
        .await
        .unwrap();
    let closed = tx.close_timer(ws, "tmr_1", "fired").await.unwrap();
    tx.cancel_timers_for_run(ws, "run_1").await.unwrap();
    tx.update_outbox(&[outbox(ws, OutboxStatus::Dead)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    vec![("transition_task", moved), ("close_timer", closed)]
}

/// Every by-id read as workspace `ws`: whether each found the owner's row.
async fn read_as(store: &SqliteStore, ws: &str) -> Vec<(&'static str, bool)> {
    let since = Utc::now() - Duration::hours(1);
    let mut tx = store.begin().await.unwrap();
    let found = vec![
        ("tx.run", tx.run(ws, "run_1").await.unwrap().is_some()),
        ("tx.task", tx.task(ws, "tsk_1").await.unwrap().is_some()),
        (
            "tx.open_task_for_run",
            tx.open_task_for_run(ws, "run_1").await.unwrap().is_some(),
        ),
        ("tx.steps", !tx.steps(ws, "run_1").await.unwrap().is_empty()),
        (
            "tx.version",
            tx.version(ws, "aut_1", 1).await.unwrap().is_some(),
        ),
        (
            "tx.count_runs_on_record",
            tx.count_runs_on_record(ws, "aut_1", "case", "cas_1", since)
                .await
                .unwrap()
                > 0,
        ),
    ];
    drop(tx);
    let mut found = found;
    let read = store.run(ws, "run_1").await.unwrap();
    found.push(("store.run", read.is_some()));
    found.push((
        "store.version",
        store.version(ws, "aut_1", 1).await.unwrap().is_some(),
    ));
    found.push((
        "store.task",
        store.task(ws, "tsk_1").await.unwrap().is_some(),
    ));
    found.push((
        "store.automation_log",
        !store
            .automation_log(ws, "case", "cas_1", 50, None)
            .await
            .unwrap()
            .items
            .is_empty(),
    ));
    // A cursor naming another workspace's entry names nothing.
    found.push((
        "store.automation_log cursor",
        store
            .automation_log(ws, "case", "cas_1", 50, Some("evt_1"))
            .await
            .is_ok(),
    ));
    found
}

#[tokio::test]
async fn by_id_calls_with_another_workspace_read_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scope.db");
    let store = SqliteStore::open(&SqliteConfig::file(&path)).await.unwrap();
    seed(&store).await;
    let raw = SqlitePool::connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .unwrap();
    let before = fingerprint(&raw).await;

    for (what, found) in read_as(&store, OTHER).await {
        assert!(!found, "{what} as another workspace found the owner's row");
    }
    for (what, changed) in write_as(&store, OTHER).await {
        assert!(!changed, "{what} as another workspace reported a change");
    }
    assert_eq!(
        fingerprint(&raw).await,
        before,
        "writes by id as another workspace touched the owner's rows"
    );

    // The same calls as the owner reach every row: the probes above could fail.
    for (what, found) in read_as(&store, OWNER).await {
        assert!(found, "{what} as the owner found nothing");
    }
    for (what, changed) in write_as(&store, OWNER).await {
        assert!(changed, "{what} as the owner changed nothing");
    }
    let after = fingerprint(&raw).await;
    for table in ["runs", "steps", "tasks", "timers", "outbox"] {
        let rows = |f: &[String]| -> Vec<String> {
            f.iter()
                .filter(|r| r.starts_with(&format!("{table}: ")))
                .cloned()
                .collect()
        };
        assert_ne!(
            rows(&after),
            rows(&before),
            "the owner's writes left {table} unchanged"
        );
    }
    let timers: Vec<(String, String)> = sqlx::query_as("SELECT id, status FROM timers ORDER BY id")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert_eq!(
        timers,
        [("tmr_1", "fired"), ("tmr_2", "cancelled")].map(|(i, s)| (i.into(), s.into()))
    );
    let task = store.task(OWNER, "tsk_1").await.unwrap().unwrap();
    assert_eq!(task.assignee.as_deref(), Some("usr_evil"));
    assert_eq!(task.status, TaskStatus::Completed);
    let run = store.run(OWNER, "run_1").await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(run.steps[0].error.as_deref(), Some("overwritten"));
    raw.close().await;
}
