//! The shadow diff (issue 23): where a live automation and its sandbox copy (which shadows
//! it and receives the same live events in dry-run) did different things, event by event.
//!
//! Plain data and the comparison of two runs of one event; the engine reads the runs
//! (`engine::shadow`). The comparison never reads storage and never runs anything: it
//! compares what the two runs recorded (steps taken, fields written, message recipients).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::model::{EffectKind, Run, RunStatus, StepRun, StepStatus};

/// The diff of one live automation and its sandbox copy.
#[derive(Debug, Clone, Serialize)]
pub struct ShadowDiff {
    pub live_id: String,
    pub sandbox_id: String,
    /// Events from this time on are compared (when the sandbox copy was made).
    pub since: DateTime<Utc>,
    /// The events where the two differ, newest first (one page).
    pub items: Vec<EventDiff>,
    pub next_cursor: Option<String>,
    /// Over every compared event, not only this page.
    pub totals: DiffTotals,
    /// More runs than [`MAX_RUNS_COMPARED`] per side since the copy: the oldest are left out.
    pub truncated: bool,
}

/// Runs read per side: the diff is a diagnostic of recent behaviour, bounded in cost.
pub const MAX_RUNS_COMPARED: usize = 5_000;

/// Counts over the compared events.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DiffTotals {
    /// Events that made a run of either automation.
    pub events: usize,
    pub same: usize,
    pub differing: usize,
    pub matched_live_only: usize,
    pub matched_sandbox_only: usize,
    /// Differences of each kind, over all events.
    pub steps: usize,
    pub fields: usize,
    pub recipients: usize,
}

/// One event on which the two differ.
#[derive(Debug, Clone, Serialize)]
pub struct EventDiff {
    pub event_id: String,
    pub object: Option<String>,
    pub record_id: Option<String>,
    /// When the first of its runs was created.
    pub at: DateTime<Utc>,
    pub live: Option<RunRef>,
    pub sandbox: Option<RunRef>,
    pub differences: Vec<Difference>,
}

/// One side's run of an event.
#[derive(Debug, Clone, Serialize)]
pub struct RunRef {
    pub run_id: String,
    pub version: i64,
    pub status: RunStatus,
}

impl RunRef {
    pub fn of(run: &Run) -> RunRef {
        RunRef {
            run_id: run.id.clone(),
            version: run.version,
            status: run.status,
        }
    }
}

/// Which of the two.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Live,
    Sandbox,
}

/// One way two runs of an event differ.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// One matched the event (made a run), the other did not.
    Matched { live: bool, sandbox: bool },
    /// A step taken (run, not skipped) by one only.
    Step { step_id: String, taken_by: Side },
    /// A field written by a step of both with another value (null: not written by it).
    Field {
        step_id: String,
        object: String,
        field: String,
        live: Value,
        sandbox: Value,
    },
    /// A message of a step of both sent to other recipients (email to and cc, in-app
    /// user, Slack target, webhook URL, human task assignee or queue), in effect order.
    Recipient {
        step_id: String,
        live: Vec<String>,
        sandbox: Vec<String>,
    },
}

/// How two runs of one event differ (`None`: that side made no run).
pub fn compare(live: Option<&Run>, sandbox: Option<&Run>) -> Vec<Difference> {
    let (l, s) = match (live, sandbox) {
        (Some(l), Some(s)) => (l, s),
        (l, s) => {
            return vec![Difference::Matched {
                live: l.is_some(),
                sandbox: s.is_some(),
            }];
        }
    };
    let taken_l = taken(&l.steps);
    let taken_s = taken(&s.steps);
    let mut out = Vec::new();
    for id in taken_l.keys() {
        if !taken_s.contains_key(id) {
            out.push(Difference::Step {
                step_id: id.to_string(),
                taken_by: Side::Live,
            });
        }
    }
    for id in taken_s.keys() {
        if !taken_l.contains_key(id) {
            out.push(Difference::Step {
                step_id: id.to_string(),
                taken_by: Side::Sandbox,
            });
        }
    }
    for (id, step_l) in &taken_l {
        let Some(step_s) = taken_s.get(id) else {
            continue;
        };
        let (fl, fs) = (writes(step_l), writes(step_s));
        let keys: BTreeSet<&(String, String)> = fl.keys().chain(fs.keys()).collect();
        for key in keys {
            let (vl, vs) = (fl.get(key), fs.get(key));
            if vl != vs {
                out.push(Difference::Field {
                    step_id: id.to_string(),
                    object: key.0.clone(),
                    field: key.1.clone(),
                    live: vl.cloned().unwrap_or(Value::Null),
                    sandbox: vs.cloned().unwrap_or(Value::Null),
                });
            }
        }
        let (rl, rs) = (recipients(step_l), recipients(step_s));
        if rl != rs {
            out.push(Difference::Recipient {
                step_id: id.to_string(),
                live: rl,
                sandbox: rs,
            });
        }
    }
    out
}

/// Steps that ran (not skipped by a guard or branch, not still pending), by id.
fn taken(steps: &[StepRun]) -> BTreeMap<&str, &StepRun> {
    steps
        .iter()
        .filter(|s| !matches!(s.status, StepStatus::Skipped | StepStatus::Pending))
        .map(|s| (s.id.as_str(), s))
        .collect()
}

/// (object, field) -> value of every record write of a step (the last write wins).
fn writes(step: &StepRun) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for e in &step.effects {
        if !matches!(e.kind, EffectKind::RecordUpdate | EffectKind::RecordCreate) {
            continue;
        }
        let object = e.detail["object"].as_str().unwrap_or_default().to_string();
        if let Some(fields) = e.detail["fields"].as_object() {
            for (field, value) in fields {
                out.insert((object.clone(), field.clone()), value.clone());
            }
        }
    }
    out
}

/// The recipients of a step's messages, `kind:recipient`, in effect order.
fn recipients(step: &StepRun) -> Vec<String> {
    let mut out = Vec::new();
    for e in &step.effects {
        let d = &e.detail;
        let mut add = |label: &str, v: &Value| match v {
            Value::Null => {}
            Value::String(s) => out.push(format!("{label}:{s}")),
            Value::Array(items) => {
                for item in items {
                    out.push(format!(
                        "{label}:{}",
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_owned)
                    ));
                }
            }
            other => out.push(format!("{label}:{other}")),
        };
        match e.kind {
            EffectKind::Email => {
                add("email", &d["to"]);
                add("cc", &d["cc"]);
            }
            EffectKind::Notification => add("user", &d["user_id"]),
            EffectKind::Slack => add("slack", &d["target"]),
            EffectKind::Webhook => add("webhook", &d["url"]),
            EffectKind::HumanTask => {
                add("task", &d["assignee"]);
                add("queue", &d["queue"]);
            }
            EffectKind::RecordUpdate | EffectKind::RecordCreate => {}
        }
    }
    out
}
