//! Backtests (issue 23): what a version of an automation would have done on the stored
//! events of a time range, replayed in dry-run with each record read as it was at its
//! event. This module holds the model (request, job row, result) and the bounds; the
//! replay and the job control live in `engine::backtest`, the SQL in `store::<driver>`.
//!
//! A backtest never performs a side effect and never writes a record: its runs execute
//! in a private in-memory database, without plugin calls, and only the job row and its
//! result are written to the workspace's database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod tally;

pub use tally::{EffectGroup, EffectTally, TallyBuilder, ValueCount};

/// Events a backtest replays when the request names no limit.
pub const DEFAULT_LIMIT: u32 = 1_000;
/// The most events one backtest replays.
pub const MAX_LIMIT: u32 = 100_000;
/// Backtests queued or running at once in one workspace.
pub const MAX_ACTIVE_PER_WORKSPACE: i64 = 16;
/// Runs (and non-matches) kept with their explanations in a result.
pub const SAMPLE_RUNS: usize = 20;
pub const SAMPLE_NON_MATCHES: usize = 5;

/// Which version of the automation replays the events. On the wire and in storage:
/// `"draft"` (the current version, the latest edit), a version number, or `"sandbox"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionChoice {
    /// The automation's current version (a draft's latest edit included).
    Current,
    /// One stored version.
    Number(i64),
    /// The current version of the sandbox automation that shadows this one.
    Sandbox,
}

impl VersionChoice {
    /// `draft` (or `current`), `sandbox`, or a version number from 1.
    pub fn parse(text: &str) -> Option<VersionChoice> {
        match text {
            "draft" | "current" => Some(VersionChoice::Current),
            "sandbox" => Some(VersionChoice::Sandbox),
            n => n
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .map(VersionChoice::Number),
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            VersionChoice::Current => Value::String("draft".into()),
            VersionChoice::Number(n) => Value::from(*n),
            VersionChoice::Sandbox => Value::String("sandbox".into()),
        }
    }

    /// From its JSON form; the error says what is accepted.
    pub fn from_json(v: &Value) -> Result<VersionChoice, String> {
        let parsed = match v {
            Value::String(s) => VersionChoice::parse(s),
            Value::Number(n) => n.as_i64().filter(|n| *n >= 1).map(VersionChoice::Number),
            _ => None,
        };
        parsed.ok_or_else(|| {
            format!("`version` must be \"draft\", \"sandbox\" or a version number from 1, not {v}")
        })
    }
}

impl Serialize for VersionChoice {
    fn serialize<Ser: serde::Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for VersionChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        VersionChoice::from_json(&v).map_err(serde::de::Error::custom)
    }
}

/// What a backtest replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestRequest {
    /// Events created at or after this instant...
    pub from: DateTime<Utc>,
    /// ...and before this one.
    pub to: DateTime<Utc>,
    /// At most this many events, oldest first.
    pub limit: u32,
    pub version: VersionChoice,
    /// A definition to replay instead of a stored version (`plan --backtest`: an edit not
    /// applied yet); checked by the caller. The job's `version` is then 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BacktestStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl BacktestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BacktestStatus::Queued => "queued",
            BacktestStatus::Running => "running",
            BacktestStatus::Completed => "completed",
            BacktestStatus::Failed => "failed",
            BacktestStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<BacktestStatus> {
        Some(match s {
            "queued" => BacktestStatus::Queued,
            "running" => BacktestStatus::Running,
            "completed" => BacktestStatus::Completed,
            "failed" => BacktestStatus::Failed,
            "cancelled" => BacktestStatus::Cancelled,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, BacktestStatus::Queued | BacktestStatus::Running)
    }
}

/// How far a backtest has come.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BacktestProgress {
    pub events_considered: u64,
    pub events_matched: u64,
}

/// One backtest job, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    pub id: String,
    pub workspace_id: String,
    /// The automation the backtest was asked for.
    pub automation_id: String,
    /// The automation whose version replays (the sandbox copy's id for `sandbox`).
    pub target_id: String,
    pub version: i64,
    pub request: BacktestRequest,
    pub status: BacktestStatus,
    pub progress: BacktestProgress,
    /// Set once completed.
    pub result: Option<BacktestResult>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Runs the backtest would have made, by how they ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunCounts {
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
    /// Parked at a human task (a backtest does not wait for people).
    pub waiting: u64,
    /// Would have failed with `loop_detected` (the causation chain of the event).
    pub loop_detected: u64,
}

/// One run (or non-match) of the sample, with why its condition held or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRun {
    pub event_id: String,
    pub event_type: String,
    pub event_at: DateTime<Utc>,
    pub record: Option<Value>,
    pub matched: bool,
    /// The compiled condition's explanation (clauses and the values seen).
    pub explanation: Value,
    /// `completed`, `failed`, `waiting` (absent for a non-match).
    pub status: Option<String>,
    pub error: Option<String>,
    /// Steps with their inputs and effects (`applied: false`).
    pub steps: Vec<Value>,
}

/// What a completed backtest found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BacktestResult {
    pub trigger: String,
    pub events_considered: u64,
    pub events_matched: u64,
    /// True when `limit` events were replayed before the end of the range.
    pub truncated: bool,
    /// The `created_at` of the last event replayed (where a follow-up backtest starts).
    pub last_event_at: Option<DateTime<Utc>>,
    pub runs: RunCounts,
    pub effects: EffectTally,
    pub sample_runs: Vec<SampleRun>,
    pub sample_non_matches: Vec<SampleRun>,
    pub elapsed_ms: u64,
}
