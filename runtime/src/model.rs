//! Row types of the runtime: what the store reads and writes and what the server serialises.
//!
//! Plain data only: no SQL and no behaviour beyond small conversions. Status enums spell
//! themselves exactly as DESIGN §6 and §12.1 do.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use automations_compiler::catalog::EffectKind;

/// Timestamps are stored as RFC 3339 text with milliseconds, so that text order is time order.
/// (`to_rfc3339_opts` writes the same text as the format string
/// `%Y-%m-%dT%H:%M:%S%.3fZ` for years 0-9999 without parsing that string on every call:
/// several timestamps are written per run.)
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Now, at the precision timestamps are stored (milliseconds): what a write answers, what
/// its events carry and what a later read gives back are then the same instant.
pub fn stored_now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(3)
}

/// Parses a stored timestamp; a malformed one reads as the epoch rather than failing a read.
pub fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $( #[serde(rename = $text)] $variant ),* }
        impl $name {
            /// Every value's text, in declaration order.
            pub const ALL: &'static [&'static str] = &[$($text),*];
            pub fn as_str(self) -> &'static str { match self { $( $name::$variant => $text ),* } }
            pub fn parse(s: &str) -> Option<Self> { match s { $( $text => Some($name::$variant), )* _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

string_enum!(
    /// Run status (DESIGN §6).
    RunStatus { Queued => "queued", Running => "running", Waiting => "waiting", Completed => "completed", Failed => "failed", Cancelled => "cancelled" }
);
string_enum!(
    /// Step status (DESIGN §6).
    StepStatus { Pending => "pending", Running => "running", Waiting => "waiting", Completed => "completed", Failed => "failed", Skipped => "skipped" }
);
string_enum!(
    /// Human task status.
    TaskStatus { Open => "open", Completed => "completed", TimedOut => "timed_out", Cancelled => "cancelled" }
);
string_enum!(
    /// Outbox item kind (§12.1).
    OutboxKind { Email => "email", Slack => "slack", Webhook => "webhook" }
);
string_enum!(
    /// Outbox item status (§12.1).
    OutboxStatus { Pending => "pending", Delivered => "delivered", Dead => "dead" }
);
string_enum!(
    /// Automation status (mirrors the IR's; stored as text).
    AutomationStatus { Draft => "draft", Active => "active", Paused => "paused", Archived => "archived" }
);
string_enum!(
    /// Automation environment.
    EnvironmentKind { Live => "live", Sandbox => "sandbox" }
);
string_enum!(
    /// Why a run failed (`error_code`): a version that no longer compiles, a failed step,
    /// the loop guard (DESIGN §5), or a human task that timed out with `on_timeout: fail`.
    RunErrorCode { PlanUnavailable => "plan_unavailable", StepFailed => "step_failed", LoopDetected => "loop_detected", TaskTimeout => "task_timeout" }
);
string_enum!(
    /// What a durable timer is for: a `wait` step, a human task's timeout, or the next
    /// attempt of a step that failed transiently (its retry policy's backoff).
    TimerKind { Wait => "wait", TaskTimeout => "task_timeout", Retry => "retry" }
);

impl RunStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub sandbox_active: bool,
    pub created_at: DateTime<Utc>,
}

/// One addition to a workspace's schema: custom objects and fields in the compiler's
/// custom-schema shape (`{"objects": {"case": {"fields": {"sla_hours": {"type": "number"}}}}}`).
/// A workspace's schema is the built-in one plus its extensions applied in `seq` order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaExtension {
    pub workspace_id: String,
    /// Assigned by the store on insert; increases with every extension.
    pub seq: i64,
    pub extension: Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// The token's own request rate limit; `None` follows the server's (`--rate-limit`).
    pub rate_limit: Option<RateLimit>,
    pub created_at: DateTime<Utc>,
    /// When it was revoked (revoked tokens authenticate nothing).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A request rate limit: a bucket of `burst` requests refilled at `per_second`, or none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimit {
    Unlimited,
    Bucket { per_second: f64, burst: f64 },
}

#[derive(Debug, Clone, Serialize)]
pub struct Automation {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub status: AutomationStatus,
    pub environment: EnvironmentKind,
    pub current_version: i64,
    /// For a sandbox automation: the live automation it shadows (promote target).
    pub shadows_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AutomationVersion {
    pub workspace_id: String,
    pub automation_id: String,
    pub version: i64,
    /// The definition as API JSON (DESIGN §3.1).
    pub definition: Value,
    pub status: AutomationStatus,
    pub environment: EnvironmentKind,
    pub created_at: DateTime<Utc>,
}

/// A CRM record. `fields` never holds `id`, `created_at` or `updated_at`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Record {
    pub workspace_id: String,
    pub object: String,
    pub id: String,
    pub fields: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Record {
    /// The record as conditions see it: fields plus `id`, `created_at`, `updated_at`.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = self.fields.clone();
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("created_at".into(), Value::String(ts(self.created_at)));
        m.insert("updated_at".into(), Value::String(ts(self.updated_at)));
        m
    }

    /// [`Self::to_json`] of a record no longer needed: its fields move into the map.
    pub fn into_json(self) -> Map<String, Value> {
        let mut m = self.fields;
        m.insert("id".into(), Value::String(self.id));
        m.insert("created_at".into(), Value::String(ts(self.created_at)));
        m.insert("updated_at".into(), Value::String(ts(self.updated_at)));
        m
    }
}

/// One link of an event's causation chain: which run of which automation wrote what.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CausationLink {
    pub event_id: String,
    pub automation_id: String,
    pub run_id: String,
    pub object: Option<String>,
    pub record_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub workspace_id: String,
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub object: Option<String>,
    pub record_id: Option<String>,
    /// Record events: `{"record": {...}, "previous": {...} | null, "changed": [..]}`;
    /// custom events: whatever the caller sent as `data`. Shared: an update's
    /// `<field>_changed` events carry its `updated` event's payload, not copies of it.
    #[serde(serialize_with = "shared_value")]
    pub payload: Arc<Value>,
    pub causation: Vec<CausationLink>,
    pub created_at: DateTime<Utc>,
}

/// Serialises a shared value as the value itself (serde's own `Arc` support is a crate
/// feature that would rebuild every crate using serde).
fn shared_value<S: serde::Serializer>(v: &Arc<Value>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().serialize(s)
}

impl Event {
    pub fn depth(&self) -> usize {
        self.causation.len()
    }
}

/// An effect of a step (DESIGN §7): applied, or only recorded in dry-run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Effect {
    /// `record.update`, `record.create`, `notification`, `email`, `slack`, `webhook`,
    /// `human_task` (the catalog's [`EffectKind`]).
    pub kind: EffectKind,
    pub applied: bool,
    /// The id of what was written (record id, outbox id, notification id); synthetic
    /// (`dry_...`) in dry-run.
    pub id: Option<String>,
    pub detail: Value,
}

/// A log line a plugin wrote during its step (`log` interface of the plugin world).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepLog {
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub level: String,
    pub message: String,
    /// Structured fields, in the order the plugin gave them.
    #[serde(default)]
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRun {
    pub id: String,
    #[serde(rename = "type")]
    pub step_type: String,
    pub status: StepStatus,
    #[serde(skip)]
    pub seq: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub input: Option<Value>,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub effects: Vec<Effect>,
    /// What a plugin step logged (bounded by the host); absent for other steps.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<StepLog>,
    /// How many times the step's action ran (more than 1 only under a retry policy; 0 for
    /// a step skipped by its guard and for `if` steps).
    pub attempts: i64,
    /// The error of the latest failed attempt, also when a later attempt succeeded.
    pub last_error: Option<String>,
}

/// Executor progress persisted on the run: where to continue and what earlier steps output.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunState {
    #[serde(default)]
    pub outputs: Map<String, Value>,
    /// Next step sequence number (execution order of step rows).
    #[serde(default)]
    pub next_seq: i64,
    /// Mocked step outputs (offline `test`): the step is not executed, its output is this.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub mocks: Map<String, Value>,
    /// Offline `test`: `wait` steps complete at once instead of parking.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_waits: bool,
    /// When the step at `pc` started, if it is a plugin step whose call is in flight: the
    /// step row is written again when the result is back and keeps this start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_since: Option<DateTime<Utc>>,
    /// The fields this run's steps wrote to its triggering record, as stored: laid over
    /// the record of the event, so later steps see the run's own writes and nobody else's
    /// (DESIGN §5), also after the run parks and resumes.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub record_writes: Map<String, Value>,
    /// The failed attempts of the step at `pc` while it waits for its next attempt (its
    /// retry policy's backoff): how many, and the latest error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_attempts: Option<FailedAttempts>,
    /// What `now()` reads in this run's steps when it is not the clock: a backtest's runs
    /// see the time of their event. Never stored.
    #[serde(skip)]
    pub clock_ms: Option<i64>,
}

/// Failed attempts of one step, kept on the run between attempts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FailedAttempts {
    pub step_id: String,
    pub count: i64,
    pub last_error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: String,
    pub workspace_id: String,
    pub automation_id: String,
    pub version: i64,
    pub event_id: String,
    pub object: Option<String>,
    pub record_id: Option<String>,
    pub status: RunStatus,
    pub dry_run: bool,
    #[serde(skip)]
    pub pc: i64,
    #[serde(skip)]
    pub state: RunState,
    pub error: Option<String>,
    pub error_code: Option<RunErrorCode>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub steps: Vec<StepRun>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: String,
    pub workspace_id: String,
    pub run_id: String,
    pub automation_id: String,
    pub step_id: String,
    pub title: String,
    pub assignee: Option<String>,
    pub queue: Option<String>,
    /// Field name -> type name (`bool`, `string`, `number`, ...).
    pub form: Value,
    pub status: TaskStatus,
    pub output: Option<Value>,
    pub on_timeout: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub timeout_at: Option<DateTime<Utc>>,
    pub dry_run: bool,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timer {
    pub id: String,
    pub workspace_id: String,
    pub run_id: String,
    pub step_id: String,
    pub kind: TimerKind,
    pub fire_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxItem {
    pub id: String,
    pub workspace_id: String,
    pub kind: OutboxKind,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub payload: Value,
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    pub idempotency_key: String,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The retry policy of the step that queued this delivery (a `retry` on a `webhook`,
    /// `send_email` or `send_notification` step); `None`: the outbox defaults (DESIGN §7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<DeliveryRetry>,
}

/// A step's retry policy as its delivery follows it: tries in all, the first wait and its
/// cap, and whether transient failures (`http`) are retried at all.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeliveryRetry {
    pub attempts: u32,
    pub backoff_ms: i64,
    pub max_backoff_ms: i64,
    pub on_http: bool,
}

impl DeliveryRetry {
    pub fn from_policy(p: &automations_compiler::retry::RetryPolicy) -> DeliveryRetry {
        DeliveryRetry {
            attempts: p.attempts,
            backoff_ms: p.backoff_ms,
            max_backoff_ms: p.max_backoff_ms,
            on_http: p.retries(automations_compiler::retry::ErrorClass::Http),
        }
    }

    /// The wait after `failed` failed tries (1-based): the policy's doubling backoff plus
    /// up to a quarter more (jitter).
    pub fn delay(&self, failed: u32) -> chrono::Duration {
        let policy = automations_compiler::retry::RetryPolicy {
            attempts: self.attempts,
            backoff_ms: self.backoff_ms,
            max_backoff_ms: self.max_backoff_ms,
            on: Vec::new(),
        };
        let base = policy.delay_ms(failed);
        let jitter = rand::Rng::random_range(&mut rand::rng(), 0..=base / 4);
        chrono::Duration::milliseconds(base + jitter)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub message: String,
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    /// When the user marked it read; `None` while unread.
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MailboxMessage {
    pub id: String,
    pub workspace_id: String,
    pub outbox_id: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

string_enum!(
    /// What an audit entry records; the part before the dot is the kind of its target.
    AuditAction {
        AutomationCreate => "automation.create",
        AutomationUpdate => "automation.update",
        AutomationStatus => "automation.status",
        AutomationDelete => "automation.delete",
        AutomationPromote => "automation.promote",
        PluginUpload => "plugin.upload",
        PluginGrant => "plugin.grant",
        TokenCreate => "token.create",
        TokenRevoke => "token.revoke",
        SandboxActivate => "sandbox.activate",
        SandboxDeactivate => "sandbox.deactivate",
        TaskComplete => "task.complete",
        SchemaExtend => "schema.extend",
    }
);

impl AuditAction {
    /// The kind of target: `automation`, `plugin`, `token`, `sandbox`, `task` or `schema`.
    pub fn target_kind(self) -> &'static str {
        self.as_str().split('.').next().unwrap_or_default()
    }
}

/// Who made a change: an API token (its id and name, never its secret) or the system
/// (first-start bootstrap, the command line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// The token's id; `None` for the system and the command line.
    pub token_id: Option<String>,
    /// The token's name, or `system` / `cli`.
    pub name: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            token_id: None,
            name: "system".into(),
        }
    }
    pub fn cli() -> Actor {
        Actor {
            token_id: None,
            name: "cli".into(),
        }
    }
    pub fn token(id: &str, name: &str) -> Actor {
        Actor {
            token_id: Some(id.to_string()),
            name: name.to_string(),
        }
    }
}

/// One entry of the append-only audit log, written in the transaction of its change.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Assigned by the store in insertion order (ignored on insert).
    pub id: i64,
    pub workspace_id: String,
    pub actor: Actor,
    pub action: AuditAction,
    /// The id (or, for plugins, the name) of what changed.
    pub target: String,
    /// What changed: versions, statuses, scopes, capabilities (never a secret).
    pub details: Value,
    pub created_at: DateTime<Utc>,
}

impl AuditEntry {
    pub fn new(ws: &str, actor: &Actor, action: AuditAction, target: &str, details: Value) -> Self {
        AuditEntry {
            id: 0,
            workspace_id: ws.to_string(),
            actor: actor.clone(),
            action,
            target: target.to_string(),
            details,
            created_at: Utc::now(),
        }
    }
}

/// `GET /audit`: newest first; the cursor is the id of the last entry of the previous page.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Target kind (`automation`, `plugin`, `token`, `sandbox`, `task`).
    pub kind: Option<String>,
    pub action: Option<AuditAction>,
    /// The target's id (or plugin name).
    pub target: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// Filters for listing runs; newest first, cursor is the last run id of the previous page.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub automation_id: Option<String>,
    pub status: Option<RunStatus>,
    pub dry_run: Option<bool>,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub kind: Option<OutboxKind>,
    pub status: Option<OutboxStatus>,
    pub run_id: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// `GET /notifications`: unread first, then newest first.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    pub user_id: Option<String>,
    /// `Some(true)`: unread only; `Some(false)`: read only.
    pub unread: Option<bool>,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub assignee: Option<String>,
    pub queue: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// One page of a list (§12.1): `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod ts_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn stored_timestamps_keep_their_text() {
        let samples = [
            Utc.timestamp_millis_opt(0).unwrap(),
            Utc.timestamp_millis_opt(1_764_900_000_417).unwrap(),
            Utc.timestamp_nanos(1_764_900_000_999_999_999),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc::now(),
        ];
        for t in samples {
            let text = ts(t);
            assert_eq!(text, t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
            assert_eq!(parse_ts(&text).timestamp_millis(), t.timestamp_millis());
        }
    }
}
