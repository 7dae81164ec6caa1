//! Rows for the conformance cases: every timestamp is a whole millisecond after [`t0`]
//! (what every driver keeps), so orders and round trips are exact.

use automations_runtime::model::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Map, Value, json};

/// The base instant of every case.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

/// `t0` plus `ms` milliseconds.
pub fn at(ms: i64) -> DateTime<Utc> {
    t0() + Duration::milliseconds(ms)
}

pub fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

pub fn workspace(id: &str, name: &str) -> Workspace {
    Workspace {
        id: id.into(),
        name: name.into(),
        sandbox_active: false,
        created_at: at(0),
    }
}

pub fn automation(ws: &str, id: &str, created_ms: i64) -> Automation {
    Automation {
        id: id.into(),
        workspace_id: ws.into(),
        name: format!("automation {id}"),
        status: AutomationStatus::Active,
        environment: EnvironmentKind::Live,
        current_version: 1,
        shadows_id: None,
        created_at: at(created_ms),
        updated_at: at(created_ms),
    }
}

pub fn version(a: &Automation, v: i64, trigger: &str) -> AutomationVersion {
    AutomationVersion {
        workspace_id: a.workspace_id.clone(),
        automation_id: a.id.clone(),
        version: v,
        definition: json!({"name": a.name, "trigger": {"event": trigger}, "actions": [], "v": v}),
        status: a.status,
        environment: a.environment,
        created_at: at(v),
    }
}

pub fn record(ws: &str, object: &str, id: &str, fields: Value, created_ms: i64) -> Record {
    Record {
        workspace_id: ws.into(),
        object: object.into(),
        id: id.into(),
        fields: obj(fields),
        created_at: at(created_ms),
        updated_at: at(created_ms),
    }
}

pub fn event(ws: &str, id: &str, event_type: &str) -> Event {
    Event {
        workspace_id: ws.into(),
        id: id.into(),
        event_type: event_type.into(),
        object: Some("case".into()),
        record_id: Some(format!("rec_{id}")),
        payload: json!({"record": {"id": id, "priority": "critical", "n": 1.5, "nested": {"a": [1, "x", null]}}}).into(),
        causation: vec![CausationLink {
            event_id: "e0".into(),
            automation_id: "a0".into(),
            run_id: "r0".into(),
            object: Some("case".into()),
            record_id: None,
        }],
        created_at: at(5),
    }
}

pub fn run(ws: &str, id: &str, automation_id: &str, event_id: &str, created_ms: i64) -> Run {
    Run {
        id: id.into(),
        workspace_id: ws.into(),
        automation_id: automation_id.into(),
        version: 1,
        event_id: event_id.into(),
        object: Some("case".into()),
        record_id: Some("c1".into()),
        status: RunStatus::Queued,
        dry_run: false,
        pc: 0,
        state: RunState::default(),
        error: None,
        error_code: None,
        created_at: at(created_ms),
        started_at: None,
        finished_at: None,
        duration_ms: None,
        steps: Vec::new(),
    }
}

pub fn step(id: &str, seq: i64, status: StepStatus) -> StepRun {
    StepRun {
        id: id.into(),
        step_type: "send_notification".into(),
        status,
        seq,
        started_at: Some(at(10 + seq)),
        finished_at: Some(at(20 + seq)),
        duration_ms: Some(10 + seq),
        input: Some(json!({"seq": seq, "text": "héllo ✓"})),
        output: None,
        error: None,
        effects: vec![Effect {
            kind: EffectKind::Notification,
            applied: true,
            id: Some(format!("n_{seq}")),
            detail: json!({"user": "u1"}),
        }],
        logs: vec![StepLog {
            level: "info".into(),
            message: "line".into(),
            fields: obj(json!({"k": 1})),
        }],
        attempts: 2,
        last_error: Some("first try: timed out".into()),
    }
}

pub fn task(ws: &str, id: &str, run_id: &str, created_ms: i64) -> Task {
    Task {
        id: id.into(),
        workspace_id: ws.into(),
        run_id: run_id.into(),
        automation_id: "a1".into(),
        step_id: "approve".into(),
        title: format!("task {id}"),
        assignee: Some("u1".into()),
        queue: Some("q1".into()),
        form: json!({"approved": "bool"}),
        status: TaskStatus::Open,
        output: None,
        on_timeout: Some("fail".into()),
        due_at: Some(at(1000)),
        timeout_at: Some(at(2000)),
        dry_run: false,
        created_at: at(created_ms),
        completed_at: None,
    }
}

pub fn timer(ws: &str, id: &str, run_id: &str, fire_ms: i64) -> Timer {
    Timer {
        id: id.into(),
        workspace_id: ws.into(),
        run_id: run_id.into(),
        step_id: "wait".into(),
        kind: TimerKind::Wait,
        fire_at: at(fire_ms),
    }
}

pub fn outbox(ws: &str, id: &str, key: &str, due_ms: i64) -> OutboxItem {
    OutboxItem {
        id: id.into(),
        workspace_id: ws.into(),
        kind: OutboxKind::Slack,
        status: OutboxStatus::Pending,
        attempts: 0,
        last_error: None,
        payload: json!({"text": id, "blocks": [{"k": true}]}),
        run_id: Some("r1".into()),
        step_id: Some("s1".into()),
        idempotency_key: key.into(),
        next_attempt_at: at(due_ms),
        created_at: at(due_ms),
        delivered_at: None,
        retry: Some(DeliveryRetry {
            attempts: 4,
            backoff_ms: 1_500,
            max_backoff_ms: 60_000,
            on_http: true,
        }),
    }
}

pub fn notification(ws: &str, id: &str, user: &str, created_ms: i64) -> Notification {
    Notification {
        id: id.into(),
        workspace_id: ws.into(),
        user_id: user.into(),
        message: format!("message {id}"),
        run_id: Some("r1".into()),
        step_id: None,
        read_at: None,
        created_at: at(created_ms),
    }
}

/// The ids of a page's items, in order.
pub fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_string()).collect()
}
