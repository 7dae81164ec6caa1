//! Row -> model mapping for SQLite. Column lists here match the SELECTs in the sibling
//! modules; keep them together.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

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

/// A JSON value's text for a column. `serde_json::to_string` writes straight into a byte
/// buffer, where `Value`'s `Display` (what `.to_string()` calls) hands every token to a
/// formatter: the payloads, inputs and outputs a run writes cost about half as much this
/// way. A `Value` always serialises (its keys are strings): the default is never taken.
pub(super) fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn corrupt(what: &str, v: &str) -> RuntimeError {
    RuntimeError::Corrupt(format!("unknown {what} {v:?}"))
}

fn json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    Ok(serde_json::from_str(s)?)
}

fn opt_json(s: Option<String>) -> Result<Option<serde_json::Value>> {
    s.map(|s| json(&s)).transpose()
}

fn opt_ts(s: Option<String>) -> Option<chrono::DateTime<chrono::Utc>> {
    s.map(|s| parse_ts(&s))
}

pub(super) fn workspace(r: &SqliteRow) -> Result<Workspace> {
    Ok(Workspace {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        sandbox_active: r.try_get::<i64, _>("sandbox_active")? != 0,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
    })
}

pub(super) fn schema_extension(r: &SqliteRow) -> Result<SchemaExtension> {
    Ok(SchemaExtension {
        workspace_id: r.try_get("workspace_id")?,
        seq: r.try_get("seq")?,
        extension: json(&r.try_get::<String, _>("extension")?)?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
    })
}

pub(super) fn token(r: &SqliteRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        name: r.try_get("name")?,
        scopes: json(&r.try_get::<String, _>("scopes")?)?,
        rate_limit: rate_limit(r.try_get("rate_per_second")?, r.try_get("rate_burst")?),
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
        revoked_at: opt_ts(r.try_get("revoked_at")?),
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

pub(super) fn automation(r: &SqliteRow) -> Result<Automation> {
    let status: String = r.try_get("status")?;
    let env: String = r.try_get("environment")?;
    Ok(Automation {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        name: r.try_get("name")?,
        status: AutomationStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        environment: EnvironmentKind::parse(&env).ok_or_else(|| corrupt("environment", &env))?,
        current_version: r.try_get("current_version")?,
        shadows_id: r.try_get("shadows_id")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
        updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?),
    })
}

pub(super) fn version(r: &SqliteRow) -> Result<AutomationVersion> {
    let status: String = r.try_get("status")?;
    let env: String = r.try_get("environment")?;
    Ok(AutomationVersion {
        workspace_id: r.try_get("workspace_id")?,
        automation_id: r.try_get("automation_id")?,
        version: r.try_get("version")?,
        definition: json(&r.try_get::<String, _>("definition")?)?,
        status: AutomationStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        environment: EnvironmentKind::parse(&env).ok_or_else(|| corrupt("environment", &env))?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
    })
}

pub(super) fn record(r: &SqliteRow) -> Result<Record> {
    Ok(Record {
        workspace_id: r.try_get("workspace_id")?,
        object: r.try_get("object")?,
        id: r.try_get("id")?,
        fields: json(&r.try_get::<String, _>("fields")?)?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
        updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?),
    })
}

pub(super) fn event(r: &SqliteRow) -> Result<Event> {
    Ok(Event {
        workspace_id: r.try_get("workspace_id")?,
        id: r.try_get("id")?,
        event_type: r.try_get("type")?,
        object: r.try_get("object")?,
        record_id: r.try_get("record_id")?,
        payload: std::sync::Arc::new(json(&r.try_get::<String, _>("payload")?)?),
        causation: json(&r.try_get::<String, _>("causation")?)?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
    })
}

pub(super) fn run(r: &SqliteRow) -> Result<Run> {
    let status: String = r.try_get("status")?;
    Ok(Run {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        automation_id: r.try_get("automation_id")?,
        version: r.try_get("version")?,
        event_id: r.try_get("event_id")?,
        object: r.try_get("object")?,
        record_id: r.try_get("record_id")?,
        status: RunStatus::parse(&status).ok_or_else(|| corrupt("run status", &status))?,
        dry_run: r.try_get::<i64, _>("dry_run")? != 0,
        pc: r.try_get("pc")?,
        state: json(&r.try_get::<String, _>("state")?)?,
        error: r.try_get("error")?,
        error_code: r
            .try_get::<Option<String>, _>("error_code")?
            .map(|c| RunErrorCode::parse(&c).ok_or_else(|| corrupt("run error code", &c)))
            .transpose()?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
        started_at: opt_ts(r.try_get("started_at")?),
        finished_at: opt_ts(r.try_get("finished_at")?),
        duration_ms: r.try_get("duration_ms")?,
        steps: Vec::new(),
    })
}

pub(super) fn step(r: &SqliteRow) -> Result<StepRun> {
    let status: String = r.try_get("status")?;
    Ok(StepRun {
        id: r.try_get("step_id")?,
        step_type: r.try_get("type")?,
        status: StepStatus::parse(&status).ok_or_else(|| corrupt("step status", &status))?,
        seq: r.try_get("seq")?,
        started_at: opt_ts(r.try_get("started_at")?),
        finished_at: opt_ts(r.try_get("finished_at")?),
        duration_ms: r.try_get("duration_ms")?,
        input: opt_json(r.try_get("input")?)?,
        output: opt_json(r.try_get("output")?)?,
        error: r.try_get("error")?,
        effects: json(&r.try_get::<String, _>("effects")?)?,
        logs: json(&r.try_get::<String, _>("logs")?)?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
    })
}

pub(super) fn task(r: &SqliteRow) -> Result<Task> {
    let status: String = r.try_get("status")?;
    Ok(Task {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        run_id: r.try_get("run_id")?,
        automation_id: r.try_get("automation_id")?,
        step_id: r.try_get("step_id")?,
        title: r.try_get("title")?,
        assignee: r.try_get("assignee")?,
        queue: r.try_get("queue")?,
        form: json(&r.try_get::<String, _>("form")?)?,
        status: TaskStatus::parse(&status).ok_or_else(|| corrupt("task status", &status))?,
        output: opt_json(r.try_get("output")?)?,
        on_timeout: r.try_get("on_timeout")?,
        due_at: opt_ts(r.try_get("due_at")?),
        timeout_at: opt_ts(r.try_get("timeout_at")?),
        dry_run: r.try_get::<i64, _>("dry_run")? != 0,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
        completed_at: opt_ts(r.try_get("completed_at")?),
    })
}

pub(super) fn timer(r: &SqliteRow) -> Result<Timer> {
    let kind: String = r.try_get("kind")?;
    Ok(Timer {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        run_id: r.try_get("run_id")?,
        step_id: r.try_get("step_id")?,
        kind: TimerKind::parse(&kind).ok_or_else(|| corrupt("timer kind", &kind))?,
        fire_at: parse_ts(&r.try_get::<String, _>("fire_at")?),
    })
}

pub(super) fn outbox(r: &SqliteRow) -> Result<OutboxItem> {
    let kind: String = r.try_get("kind")?;
    let status: String = r.try_get("status")?;
    Ok(OutboxItem {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        kind: OutboxKind::parse(&kind).ok_or_else(|| corrupt("outbox kind", &kind))?,
        status: OutboxStatus::parse(&status).ok_or_else(|| corrupt("outbox status", &status))?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        payload: json(&r.try_get::<String, _>("payload")?)?,
        run_id: r.try_get("run_id")?,
        step_id: r.try_get("step_id")?,
        idempotency_key: r.try_get("idempotency_key")?,
        next_attempt_at: parse_ts(&r.try_get::<String, _>("next_attempt_at")?),
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
        delivered_at: opt_ts(r.try_get("delivered_at")?),
        retry: r
            .try_get::<Option<String>, _>("retry")?
            .map(|text| serde_json::from_str(&text))
            .transpose()?,
    })
}

pub(super) fn mail(r: &SqliteRow) -> Result<MailboxMessage> {
    Ok(MailboxMessage {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        outbox_id: r.try_get("outbox_id")?,
        to: json(&r.try_get::<String, _>("recipients")?)?,
        cc: json(&r.try_get::<String, _>("cc")?)?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
    })
}

pub(super) fn notification(r: &SqliteRow) -> Result<Notification> {
    Ok(Notification {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        user_id: r.try_get("user_id")?,
        message: r.try_get("message")?,
        run_id: r.try_get("run_id")?,
        step_id: r.try_get("step_id")?,
        read_at: opt_ts(r.try_get("read_at")?),
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
    })
}

pub(super) fn audit(r: &SqliteRow) -> Result<AuditEntry> {
    let action: String = r.try_get("action")?;
    Ok(AuditEntry {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        actor: Actor {
            token_id: r.try_get("actor_token_id")?,
            name: r.try_get("actor")?,
        },
        action: AuditAction::parse(&action).ok_or_else(|| corrupt("audit action", &action))?,
        target: r.try_get("target")?,
        details: json(&r.try_get::<String, _>("details")?)?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?),
    })
}

/// An outbox item's retry policy as its column holds it (JSON text, or NULL).
pub(super) fn retry_text(o: &OutboxItem) -> Result<Option<String>> {
    Ok(o.retry.as_ref().map(serde_json::to_string).transpose()?)
}
