//! The automation log per record (issue 23): for each event on a record, the automations
//! that event was considered for and why each ran or did not (its failing clause with the
//! values seen, a status that excluded it, the loop guard).
//!
//! Plain data and its settings only. The engine builds an entry while it dispatches the
//! event (`engine::ingest`) and the store writes it in that same transaction, so the log
//! says what dispatch decided with the values it saw, never a later re-evaluation. It must
//! never grow without bound: a cap per record is kept at each write and a retention sweep
//! deletes by age.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How much of the log is kept and how much each entry says.
#[derive(Debug, Clone)]
pub struct AutomationLogConfig {
    /// Entries kept per record (the newest); 0 turns the log off (nothing is written).
    pub per_record: u32,
    /// Entries older than this are deleted by the sweep.
    pub retention: Duration,
    /// Automations whose condition did not hold that are listed (with explanation) per
    /// entry, and likewise automations excluded by their status; the others of the event
    /// type are counted in `not_listed`, so an entry stays small whatever their number.
    pub max_explained: usize,
}

impl Default for AutomationLogConfig {
    fn default() -> Self {
        AutomationLogConfig {
            per_record: 100,
            retention: Duration::from_secs(30 * 24 * 3600),
            max_explained: 25,
        }
    }
}

/// One event on one record and what dispatch decided for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AutomationLogEntry {
    #[serde(skip)]
    pub workspace_id: String,
    pub event_id: String,
    pub event_type: String,
    pub object: String,
    pub record_id: String,
    /// When the event was accepted (and dispatched).
    pub created_at: DateTime<Utc>,
    /// Depth of the event's causation chain (0: written by a client).
    pub depth: usize,
    /// Matched first (in run creation order), then excluded, then not matched.
    pub automations: Vec<Considered>,
    /// Automations of the event type left out of `automations`: excluded ones and ones
    /// whose condition did not hold, over `AutomationLogConfig::max_explained` of each.
    pub not_listed: usize,
}

/// One automation considered for an event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Considered {
    pub automation_id: String,
    pub name: String,
    pub version: i64,
    pub outcome: Outcome,
    /// Sandbox automation running in dry-run.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dry_run: bool,
    /// The run this event made (`matched`, `loop_detected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Why the condition did not hold: the deciding clause with the values it saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<serde_json::Value>,
    /// What excluded it (`excluded`): its status, or the sandbox being off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Excluded>,
    /// The loop guard's message (`loop_detected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Why an automation did or did not run on an event.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The condition held and a run was created.
    Matched,
    /// The condition did not hold (`explanation` says which clause, with what values).
    NotMatched,
    /// Not dispatched at all (`reason`).
    Excluded,
    /// The condition held but the loop guard failed the run (`error`).
    LoopDetected,
}

/// What kept an automation with this trigger out of dispatch.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Excluded {
    Draft,
    Paused,
    Archived,
    /// A sandbox automation while the workspace's sandbox is off.
    SandboxOff,
}

/// The stored part of an entry (everything but its key columns), as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredEntries {
    pub depth: usize,
    pub automations: Vec<Considered>,
    pub not_listed: usize,
}

/// The stored part of an entry, as written (borrowed: no copy on the hot path).
#[derive(Serialize)]
struct StoredRef<'a> {
    depth: usize,
    automations: &'a [Considered],
    not_listed: usize,
}

impl AutomationLogEntry {
    /// The JSON kept in the `entries` column.
    pub fn stored_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&StoredRef {
            depth: self.depth,
            automations: &self.automations,
            not_listed: self.not_listed,
        })
    }
}
