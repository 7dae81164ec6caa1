//! The shapes of the API's JSON answers, for the OpenAPI document only.
//!
//! Handlers build their bodies from the runtime's model (`run_json`, `record_json`, ...);
//! these mirrors describe those bodies so that the runtime crate stays free of HTTP and
//! OpenAPI concerns. `tests/it/openapi.rs` checks real answers against them, so a field
//! added to a body without being added here fails a test. Never used to build a response.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::ApiDiagnostic;

/// An automation: its definition's fields (§3.1) plus what the server keeps about it.
#[derive(Serialize, ToSchema)]
pub struct AutomationDoc {
    pub id: String,
    pub name: String,
    /// The current version.
    pub version: i64,
    /// `draft`, `active`, `paused` or `archived`.
    pub status: String,
    /// `live` or `sandbox`.
    pub environment: String,
    /// The live automation a sandbox automation shadows.
    pub shadows_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The definition of the current version as API JSON.
    pub definition: Value,
    /// On create, update and status changes only: the checker's warnings and static
    /// trigger cycles with the workspace's other active automations (W0307).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<ApiDiagnostic>>,
    /// The definition's other fields (`trigger`, `actions`, `description`, ...).
    #[serde(flatten)]
    pub definition_fields: HashMap<String, Value>,
}

/// One immutable version of an automation.
#[derive(Serialize, ToSchema)]
pub struct VersionDoc {
    pub automation_id: String,
    pub version: i64,
    pub status: String,
    pub environment: String,
    pub created_at: DateTime<Utc>,
    pub definition: Value,
}

/// An effect of a step (§7): applied, or only recorded in dry-run.
#[derive(Serialize, ToSchema)]
pub struct EffectDoc {
    /// `record.update`, `record.create`, `task.create`, `notification`, `email`, `slack`,
    /// `webhook`, `human_task`.
    pub kind: String,
    pub applied: bool,
    pub id: Option<String>,
    pub detail: Value,
}

/// One step of a run (§6).
#[derive(Serialize, ToSchema)]
pub struct StepDoc {
    pub id: String,
    #[serde(rename = "type")]
    pub step_type: String,
    /// `pending`, `running`, `waiting`, `completed`, `failed` or `skipped`.
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub input: Option<Value>,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub effects: Vec<EffectDoc>,
    /// What a plugin step logged (at most 100 lines and 64 KiB per call); absent when
    /// nothing was logged.
    #[schema(required = false)]
    pub logs: Vec<StepLogDoc>,
    /// How many times the step's action ran: more than 1 when its retry policy tried it
    /// again after transient failures; 0 when its guard skipped it (and for `if` steps).
    pub attempts: i64,
    /// The error of the latest failed attempt (kept when a later attempt succeeded); while
    /// the step waits for its next attempt, the run is `waiting` and this says why.
    pub last_error: Option<String>,
}

/// A log line of a plugin step.
#[derive(Serialize, ToSchema)]
pub struct StepLogDoc {
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub level: String,
    pub message: String,
    /// The line's fields (name -> text).
    pub fields: std::collections::BTreeMap<String, String>,
}

/// The record a run is about.
#[derive(Serialize, ToSchema)]
pub struct RecordRefDoc {
    pub object: String,
    pub id: String,
}

/// A run (§6) with its steps.
#[derive(Serialize, ToSchema)]
pub struct RunDoc {
    pub id: String,
    pub automation_id: String,
    pub version: i64,
    pub event_id: String,
    pub object: Option<String>,
    pub record_id: Option<String>,
    pub record: Option<RecordRefDoc>,
    /// `queued`, `running`, `waiting`, `completed`, `failed` or `cancelled`.
    pub status: String,
    pub dry_run: bool,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub steps: Vec<StepDoc>,
}

/// A CRM record: `id`, `object`, the times, and its fields at the top level.
#[derive(Serialize, ToSchema)]
pub struct RecordDoc {
    pub id: String,
    pub object: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The record's fields, by the workspace's schema.
    #[serde(flatten)]
    pub fields: HashMap<String, Value>,
}

/// A human task (§6).
#[derive(Serialize, ToSchema)]
pub struct TaskDoc {
    pub id: String,
    pub run_id: String,
    pub automation_id: String,
    pub step_id: String,
    pub title: String,
    pub assignee: Option<String>,
    pub queue: Option<String>,
    /// Field name -> type name.
    pub form: Value,
    /// `open`, `completed`, `timed_out` or `cancelled`.
    pub status: String,
    pub output: Option<Value>,
    pub on_timeout: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub timeout_at: Option<DateTime<Utc>>,
    pub dry_run: bool,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// An in-app notification for a user.
#[derive(Serialize, ToSchema)]
pub struct NotificationDoc {
    pub id: String,
    pub user_id: String,
    pub message: String,
    /// The run and step that sent it (none for escalations of other origin).
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// How many notifications were marked read.
#[derive(Serialize, ToSchema)]
pub struct MarkedDoc {
    pub marked: u64,
}

/// An outbox item (§12.1).
#[derive(Serialize, ToSchema)]
pub struct OutboxItemDoc {
    pub id: String,
    /// `email`, `slack` or `webhook`.
    pub kind: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub payload: Value,
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    pub idempotency_key: String,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A plugin of the workspace (§8).
#[derive(Serialize, ToSchema)]
pub struct PluginDoc {
    pub name: String,
    pub versions: Vec<String>,
    pub latest: String,
    pub description: String,
    /// What the latest version's manifest asks for.
    pub requested: Vec<String>,
    /// What an admin granted.
    pub granted: Vec<String>,
}

/// One field of the schema: `{"type": "picklist", "values": [...]}` and so on.
#[derive(Serialize, ToSchema)]
pub struct SchemaFieldDoc {
    /// `string`, `number`, `bool`, `datetime`, `duration`, `picklist` or `reference`.
    #[serde(rename = "type")]
    pub field_type: String,
    /// Picklists: the allowed values.
    pub values: Option<Vec<String>>,
    /// References: the object referred to.
    pub object: Option<String>,
    pub deprecated: Option<bool>,
}

/// One object of the schema.
#[derive(Serialize, ToSchema)]
pub struct SchemaObjectDoc {
    pub fields: HashMap<String, SchemaFieldDoc>,
}

/// The caller's workspace schema: the built-in objects plus its custom ones.
#[derive(Serialize, ToSchema)]
pub struct SchemaDoc {
    pub objects: HashMap<String, SchemaObjectDoc>,
    /// Object -> the events it raises: created, updated, deleted, `<field>_changed`.
    pub events: HashMap<String, Vec<String>>,
    /// `custom.<name>` events known in the workspace (stored automations, recorded events).
    pub custom_events: Vec<String>,
    /// Every built-in action, in catalog order.
    pub actions: Vec<ActionDoc>,
}

/// A built-in action of the catalog (`docs/actions.md`).
#[derive(Serialize, ToSchema)]
pub struct ActionDoc {
    pub name: String,
    pub description: String,
    pub params: Vec<ActionParamDoc>,
    /// Groups of params of which at least one must be given; absent when none.
    pub one_of: Option<Vec<Vec<String>>>,
    pub output: ActionOutputDoc,
    /// Effect kinds its steps may record (`record.update`, `email`, ...).
    pub effects: Vec<String>,
}

/// One param of an action.
#[derive(Serialize, ToSchema)]
pub struct ActionParamDoc {
    pub name: String,
    /// `string`, `bool`, `number`, `duration`, `datetime`, `any`, `field_name`,
    /// `object_name`, `fields`, `map`, `form`, `recipients` or `choice`.
    #[serde(rename = "type")]
    pub param_type: String,
    pub required: bool,
    pub description: Option<String>,
    /// The allowed values of a `choice`.
    pub choices: Option<Vec<String>>,
}

/// The shape of `steps.<id>.output`.
#[derive(Serialize, ToSchema)]
pub struct ActionOutputDoc {
    /// `none`, `id`, `fields`, `form` or `any`.
    pub kind: String,
    /// For `fields`: each field's `name` and `type`.
    pub fields: Option<Vec<ActionOutputFieldDoc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionOutputFieldDoc {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: String,
}

/// A custom field as added (`POST /schema/{object}/fields`).
#[derive(Serialize, ToSchema)]
pub struct AddedFieldDoc {
    pub name: String,
    pub object: String,
    #[serde(rename = "type")]
    pub field_type: String,
    pub values: Option<Vec<String>>,
    pub deprecated: Option<bool>,
}

/// What `POST /automations/validate` reports.
#[derive(Serialize, ToSchema)]
pub struct ValidationDoc {
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<ApiDiagnostic>,
    /// The definition as API JSON, when it could be read.
    pub definition: Option<Value>,
}

/// What `POST /automations/{id}/test` reports.
#[derive(Serialize, ToSchema)]
pub struct TestReportDoc {
    pub matched: bool,
    /// Which clauses held, with the values seen.
    pub explanation: Value,
    /// The dry run; null when the conditions did not match.
    pub run: Option<RunDoc>,
}

/// What `POST /events` answers.
#[derive(Serialize, ToSchema)]
pub struct AcceptedDoc {
    pub event_id: String,
    /// True when an event with this id was accepted before (nothing new ran).
    pub duplicate: bool,
    pub run_ids: Vec<String>,
}

/// Who made an audited change.
#[derive(Serialize, ToSchema)]
pub struct ActorDoc {
    /// The token's id; null for `system` (first start) and `cli` (the command line).
    pub token_id: Option<String>,
    /// The token's name, or `system` / `cli`.
    pub name: String,
}

/// One entry of the audit log (`GET /audit`).
#[derive(Serialize, ToSchema)]
pub struct AuditEntryDoc {
    /// Increases with every entry of the server (a cursor).
    pub id: String,
    /// `automation.create`, `.update`, `.status`, `.delete`, `.promote`; `plugin.upload`,
    /// `plugin.grant`; `token.create`, `token.revoke`; `sandbox.activate`,
    /// `sandbox.deactivate`; `task.complete`; `schema.extend`.
    pub action: String,
    /// The target's kind: the part of `action` before the dot.
    pub kind: String,
    /// The target's id (a plugin's name; the workspace's id for the sandbox and the
    /// schema).
    pub target: String,
    pub actor: ActorDoc,
    /// What changed: versions, statuses, scopes, capabilities; never a secret.
    pub details: Value,
    pub created_at: String,
}

macro_rules! page_doc {
    ($name:ident, $item:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, " (§12.1).")]
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `?cursor=` for the next page; null on the last page.
            pub next_cursor: Option<String>,
        }
    };
}

page_doc!(AutomationPage, AutomationDoc, "automations");
page_doc!(VersionPage, VersionDoc, "versions");
page_doc!(RunPage, RunDoc, "runs");
page_doc!(RecordPage, RecordDoc, "records");
page_doc!(TaskPage, TaskDoc, "tasks");
page_doc!(NotificationPage, NotificationDoc, "notifications");
page_doc!(OutboxPage, OutboxItemDoc, "outbox items");
page_doc!(PluginPage, PluginDoc, "plugins");
page_doc!(AuditPage, AuditEntryDoc, "audit entries");
page_doc!(TokenPage, TokenDoc, "API tokens");
page_doc!(
    BacktestPage,
    BacktestDoc,
    "backtests (without their results)"
);

/// A backtest job (issue 23): what was asked, how far it came, and its result.
#[derive(Serialize, ToSchema)]
pub struct BacktestDoc {
    pub id: String,
    /// The automation the backtest was started on.
    pub automation_id: String,
    /// The automation whose version replayed (the sandbox copy for `"sandbox"`).
    pub target_id: String,
    pub version: i64,
    /// `from`, `to`, `limit` and `version` (`"draft"`, a number or `"sandbox"`).
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// `events_considered` and `events_matched` so far.
    #[schema(value_type = Object)]
    pub progress: serde_json::Value,
    /// Once completed: `trigger`, `events_considered`, `events_matched`, `truncated`,
    /// `last_event_at`, `runs` (by how they ended), `effects` (`groups` by kind and
    /// target, with the values written per field), `sample_runs` and
    /// `sample_non_matches` (with explanations), `elapsed_ms`. Null in lists.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// `{id}` and `{backtest_id}` of `/automations/{id}/backtests/{backtest_id}...`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(
    dead_code,
    reason = "describes path parameters for the OpenAPI document"
)]
pub struct BacktestPath {
    /// The automation's id.
    pub id: String,
    /// The backtest's id.
    pub backtest_id: String,
}

page_doc!(
    AutomationLogPage,
    AutomationLogEntryDoc,
    "automation log entries"
);

/// One event on a record and what dispatch decided for each automation of its trigger
/// (`GET /records/{object}/{id}/automation-log`).
#[derive(Serialize, ToSchema)]
pub struct AutomationLogEntryDoc {
    /// The event (also the cursor of the next page).
    pub event_id: String,
    /// `case.updated`, `case.priority_changed`, `custom.<name>`, ...
    pub event_type: String,
    pub object: String,
    pub record_id: String,
    pub created_at: DateTime<Utc>,
    /// Depth of the event's causation chain (0: written by a client, not an automation).
    pub depth: usize,
    /// Matched ones first (in run order), then those left out of dispatch, then those
    /// whose condition did not hold.
    pub automations: Vec<ConsideredDoc>,
    /// Automations of the trigger left out of `automations` (at most 25 excluded and 25
    /// not matched are listed; the rest are counted here).
    pub not_listed: usize,
}

/// One automation considered for an event.
#[derive(Serialize, ToSchema)]
pub struct ConsideredDoc {
    pub automation_id: String,
    pub name: String,
    /// The version dispatch used.
    pub version: i64,
    /// `matched` (a run was made), `not_matched` (see `explanation`), `excluded` (see
    /// `reason`) or `loop_detected` (the loop guard failed the run; see `error`).
    pub outcome: String,
    /// Present and true for a sandbox automation running in dry-run.
    pub dry_run: Option<bool>,
    /// The run this event made.
    pub run_id: Option<String>,
    /// Why the condition did not hold: `result`, `decision`, and the deciding `clauses`
    /// (`text`, `span`, `result`, `values` seen: `{field, value}`).
    pub explanation: Option<Value>,
    /// `draft`, `paused`, `archived` or `sandbox_off`.
    pub reason: Option<String>,
    /// The loop guard's message.
    pub error: Option<String>,
}

/// An API token as listed (`GET /tokens`): never its secret, which is not stored.
#[derive(Serialize, ToSchema)]
pub struct TokenDoc {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// Its own rate limit (`{"bucket": {"per_second", "burst"}}` or `"unlimited"`); null:
    /// the server's.
    pub rate_limit: Option<Value>,
    pub created_at: String,
    /// When it was revoked; null while it works.
    pub revoked_at: Option<String>,
}

/// A token just created (`POST /tokens`): as listed, plus its text, answered this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub listed: TokenDoc,
    /// The bearer text; not stored (only its SHA-256), never answered again.
    #[serde(rename = "token")]
    pub text: String,
}

/// `{id}` of `/automations/{id}...` and `/tasks/{id}...`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(
    dead_code,
    reason = "describes path parameters for the OpenAPI document"
)]
pub struct IdPath {
    /// The automation's (or task's) id.
    pub id: String,
}

/// `{id}` and `{run_id}` of `/automations/{id}/runs/{run_id}...`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(
    dead_code,
    reason = "describes path parameters for the OpenAPI document"
)]
pub struct RunPath {
    /// The automation's id.
    pub id: String,
    /// The run's id.
    pub run_id: String,
}

/// `{object}` of `/records/{object}` and `/schema/{object}/fields`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(
    dead_code,
    reason = "describes path parameters for the OpenAPI document"
)]
pub struct ObjectPath {
    /// The object's name (`case`, `account`, a custom object, ...).
    pub object: String,
}

/// `{object}` and `{id}` of `/records/{object}/{id}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(
    dead_code,
    reason = "describes path parameters for the OpenAPI document"
)]
pub struct RecordPath {
    /// The object's name.
    pub object: String,
    /// The record's id.
    pub id: String,
}

/// What `POST /automations/format` answers: the definition in both canonical forms, or
/// (both null) the syntax and shape errors that kept it from being read.
#[derive(Serialize, ToSchema)]
pub struct FormattedDoc {
    /// The canonical `.auto` text.
    pub dsl: Option<String>,
    /// The canonical API JSON.
    pub definition: Option<Value>,
    pub diagnostics: Vec<ApiDiagnostic>,
}

/// One change of `POST /automations/apply`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyChangeDoc {
    /// `create`, `update` or `archive`.
    #[schema(schema_with = crate::api::openapi::choices::apply_op)]
    pub op: String,
    /// The automation (update and archive).
    pub id: Option<String>,
    /// Its version as the caller saw it: the change is refused (409) when it moved since.
    pub version: Option<i64>,
    /// The definition as `.auto` text (create and update; or `definition`).
    pub dsl: Option<String>,
    /// The definition as API JSON (create and update; or `dsl`).
    pub definition: Option<Value>,
}

/// The body of `POST /automations/apply`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyDoc {
    pub changes: Vec<ApplyChangeDoc>,
}

/// What `POST /automations/apply` did, one item per change in the request's order.
#[derive(Serialize, ToSchema)]
pub struct AppliedSetDoc {
    pub items: Vec<AppliedDoc>,
}

/// What one applied change did.
#[derive(Serialize, ToSchema)]
pub struct AppliedDoc {
    /// `created`, `updated` or `archived`.
    pub op: String,
    pub id: String,
    pub name: String,
    pub version: i64,
    pub status: String,
}

/// `GET /automations/{id}/shadow-diff`: the events since the sandbox copy was made on which
/// the live automation and its copy did different things, newest first, and totals.
#[derive(Serialize, ToSchema)]
pub struct ShadowDiffDoc {
    pub live_id: String,
    pub sandbox_id: String,
    /// Events after this time are compared (when the copy was made; times are to the
    /// millisecond, and events of the copy's own millisecond are left out).
    pub since: DateTime<Utc>,
    pub items: Vec<EventDiffDoc>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub totals: DiffTotalsDoc,
    /// True when more than 5,000 runs of one side were made since the copy: the oldest
    /// were not compared.
    pub truncated: bool,
}

/// Counts over every compared event (not only the page).
#[derive(Serialize, ToSchema)]
pub struct DiffTotalsDoc {
    /// Events that made a run of either automation.
    pub events: usize,
    pub same: usize,
    pub differing: usize,
    pub matched_live_only: usize,
    pub matched_sandbox_only: usize,
    /// Differences of each kind.
    pub steps: usize,
    pub fields: usize,
    pub recipients: usize,
}

/// One event on which the two differ.
#[derive(Serialize, ToSchema)]
pub struct EventDiffDoc {
    pub event_id: String,
    pub object: Option<String>,
    pub record_id: Option<String>,
    /// When its first run was created.
    pub at: DateTime<Utc>,
    /// The live automation's run of the event (`run_id`, `version`, `status`); null: no match.
    pub live: Option<Value>,
    /// The sandbox copy's run of the event; null: no match.
    pub sandbox: Option<Value>,
    /// Each `{"kind": ...}`: `matched` (`live`, `sandbox` booleans), `step` (`step_id`,
    /// `taken_by` live|sandbox), `field` (`step_id`, `object`, `field`, `live`, `sandbox`
    /// values), `recipient` (`step_id`, `live`, `sandbox` lists such as `email:a@x.com`).
    pub differences: Vec<Value>,
}
