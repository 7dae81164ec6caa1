//! Row -> model mapping for PostgreSQL. Column lists here match the SELECTs in the
//! sibling modules; keep them together. Instants are `timestamptz`, payloads `jsonb`
//! (decoded straight into `serde_json::Value`), flags `boolean`.

use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::error::{Result, RuntimeError};
use crate::model::*;

pub(super) const RUN_COLS: &str = "id, workspace_id, automation_id, version, event_id, object, record_id, status, dry_run, pc, state, error, error_code, created_at, started_at, finished_at, duration_ms";
pub(super) const STEP_COLS: &str = "step_id, seq, type, status, started_at, finished_at, duration_ms, input, output, error, effects, logs, attempts, last_error";
pub(super) const TASK_COLS: &str = "id, workspace_id, run_id, automation_id, step_id, title, assignee, queue, form, status, output, on_timeout, due_at, timeout_at, dry_run, created_at, completed_at";
pub(super) const OUTBOX_COLS: &str = "id, workspace_id, kind, status, attempts, last_error, payload, run_id, step_id, idempotency_key, next_attempt_at, created_at, delivered_at, retry";
pub(super) const AUTOMATION_COLS: &str = "id, workspace_id, name, status, environment, current_version, shadows_id, created_at, updated_at";
pub(super) const RECORD_COLS: &str = "workspace_id, object, id, fields, created_at, updated_at";
pub(super) const EVENT_COLS: &str =
    "workspace_id, id, type, object, record_id, payload, causation, created_at";

fn corrupt(what: &str, v: &str) -> RuntimeError {
    RuntimeError::Corrupt(format!("unknown {what} {v:?}"))
}

/// A JSON column read as a typed value.
fn typed<T: DeserializeOwned>(r: &PgRow, col: &str) -> Result<T> {
    Ok(serde_json::from_value(r.try_get::<Value, _>(col)?)?)
}

fn enum_col<T>(r: &PgRow, col: &str, what: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = r.try_get(col)?;
    parse(&text).ok_or_else(|| corrupt(what, &text))
}

pub(super) fn workspace(r: &PgRow) -> Result<Workspace> {
    Ok(Workspace {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        sandbox_active: r.try_get("sandbox_active")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn schema_extension(r: &PgRow) -> Result<SchemaExtension> {
    Ok(SchemaExtension {
        workspace_id: r.try_get("workspace_id")?,
        seq: r.try_get("seq")?,
        extension: r.try_get("extension")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn token(r: &PgRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        name: r.try_get("name")?,
        scopes: typed(r, "scopes")?,
        rate_limit: rate_limit(r.try_get("rate_per_second")?, r.try_get("rate_burst")?),
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// A token's limit columns: NULL is the server's limit, a rate of 0 is unlimited.
fn rate_limit(per_second: Option<f64>, burst: Option<f64>) -> Option<RateLimit> {
    match per_second? {
        rate if rate <= 0.0 => Some(RateLimit::Unlimited),
        rate => Some(RateLimit::Bucket {
            per_second: rate,
            burst: burst.unwrap_or(rate).max(1.0),
        }),
    }
}

/// The columns [`rate_limit`] reads back.
pub(super) fn rate_limit_columns(limit: Option<RateLimit>) -> (Option<f64>, Option<f64>) {
    match limit {
        None => (None, None),
        Some(RateLimit::Unlimited) => (Some(0.0), None),
        Some(RateLimit::Bucket { per_second, burst }) => (Some(per_second), Some(burst)),
    }
}

pub(super) fn automation(r: &PgRow) -> Result<Automation> {
    Ok(Automation {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        name: r.try_get("name")?,
        status: enum_col(r, "status", "status", AutomationStatus::parse)?,
        environment: enum_col(r, "environment", "environment", EnvironmentKind::parse)?,
        current_version: r.try_get("current_version")?,
        shadows_id: r.try_get("shadows_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(super) fn version(r: &PgRow) -> Result<AutomationVersion> {
    Ok(AutomationVersion {
        workspace_id: r.try_get("workspace_id")?,
        automation_id: r.try_get("automation_id")?,
        version: r.try_get("version")?,
        definition: r.try_get("definition")?,
        status: enum_col(r, "status", "status", AutomationStatus::parse)?,
        environment: enum_col(r, "environment", "environment", EnvironmentKind::parse)?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn record(r: &PgRow) -> Result<Record> {
    Ok(Record {
        workspace_id: r.try_get("workspace_id")?,
        object: r.try_get("object")?,
        id: r.try_get("id")?,
        fields: typed(r, "fields")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(super) fn event(r: &PgRow) -> Result<Event> {
    Ok(Event {
        workspace_id: r.try_get("workspace_id")?,
        id: r.try_get("id")?,
        event_type: r.try_get("type")?,
        object: r.try_get("object")?,
        record_id: r.try_get("record_id")?,
        payload: std::sync::Arc::new(r.try_get("payload")?),
        causation: typed(r, "causation")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn run(r: &PgRow) -> Result<Run> {
    Ok(Run {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        automation_id: r.try_get("automation_id")?,
        version: r.try_get("version")?,
        event_id: r.try_get("event_id")?,
        object: r.try_get("object")?,
        record_id: r.try_get("record_id")?,
        status: enum_col(r, "status", "run status", RunStatus::parse)?,
        dry_run: r.try_get("dry_run")?,
        pc: r.try_get("pc")?,
        state: typed(r, "state")?,
        error: r.try_get("error")?,
        error_code: r
            .try_get::<Option<String>, _>("error_code")?
            .map(|c| RunErrorCode::parse(&c).ok_or_else(|| corrupt("run error code", &c)))
            .transpose()?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        duration_ms: r.try_get("duration_ms")?,
        steps: Vec::new(),
    })
}

pub(super) fn step(r: &PgRow) -> Result<StepRun> {
    Ok(StepRun {
        id: r.try_get("step_id")?,
        step_type: r.try_get("type")?,
        status: enum_col(r, "status", "step status", StepStatus::parse)?,
        seq: r.try_get("seq")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        duration_ms: r.try_get("duration_ms")?,
        input: r.try_get("input")?,
        output: r.try_get("output")?,
        error: r.try_get("error")?,
        effects: typed(r, "effects")?,
        logs: typed(r, "logs")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
    })
}

pub(super) fn task(r: &PgRow) -> Result<Task> {
    Ok(Task {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        run_id: r.try_get("run_id")?,
        automation_id: r.try_get("automation_id")?,
        step_id: r.try_get("step_id")?,
        title: r.try_get("title")?,
        assignee: r.try_get("assignee")?,
        queue: r.try_get("queue")?,
        form: r.try_get("form")?,
        status: enum_col(r, "status", "task status", TaskStatus::parse)?,
        output: r.try_get("output")?,
        on_timeout: r.try_get("on_timeout")?,
        due_at: r.try_get("due_at")?,
        timeout_at: r.try_get("timeout_at")?,
        dry_run: r.try_get("dry_run")?,
        created_at: r.try_get("created_at")?,
        completed_at: r.try_get("completed_at")?,
    })
}

pub(super) fn timer(r: &PgRow) -> Result<Timer> {
    Ok(Timer {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        run_id: r.try_get("run_id")?,
        step_id: r.try_get("step_id")?,
        kind: enum_col(r, "kind", "timer kind", TimerKind::parse)?,
        fire_at: r.try_get("fire_at")?,
    })
}

pub(super) fn outbox(r: &PgRow) -> Result<OutboxItem> {
    Ok(OutboxItem {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        kind: enum_col(r, "kind", "outbox kind", OutboxKind::parse)?,
        status: enum_col(r, "status", "outbox status", OutboxStatus::parse)?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        payload: r.try_get("payload")?,
        run_id: r.try_get("run_id")?,
        step_id: r.try_get("step_id")?,
        idempotency_key: r.try_get("idempotency_key")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
        retry: r
            .try_get::<Option<Value>, _>("retry")?
            .map(serde_json::from_value)
            .transpose()?,
    })
}

pub(super) fn mail(r: &PgRow) -> Result<MailboxMessage> {
    Ok(MailboxMessage {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        outbox_id: r.try_get("outbox_id")?,
        to: typed(r, "recipients")?,
        cc: typed(r, "cc")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn notification(r: &PgRow) -> Result<Notification> {
    Ok(Notification {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        user_id: r.try_get("user_id")?,
        message: r.try_get("message")?,
        run_id: r.try_get("run_id")?,
        step_id: r.try_get("step_id")?,
        read_at: r.try_get("read_at")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn audit(r: &PgRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        actor: Actor {
            token_id: r.try_get("actor_token_id")?,
            name: r.try_get("actor")?,
        },
        action: enum_col(r, "action", "audit action", AuditAction::parse)?,
        target: r.try_get("target")?,
        details: r.try_get("details")?,
        created_at: r.try_get("created_at")?,
    })
}
