//! What every driver does the same way and that is not SQL: paging, the write
//! transaction's memory of records, the queue of deferred outbox rows, and the rules
//! that make a multi-row statement mean what its one-row twins mean. A driver only
//! translates these into its SQL.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::model::*;

/// The most items one page holds, and the default when a caller asks for 0.
pub const MAX_PAGE: u32 = 500;
pub const DEFAULT_PAGE: u32 = 50;

/// The limit a list query uses: `DEFAULT_PAGE` for 0, at most `MAX_PAGE`.
pub fn limit_or_default(limit: u32) -> u32 {
    if limit == 0 {
        DEFAULT_PAGE
    } else {
        limit.min(MAX_PAGE)
    }
}

/// A page from `limit + 1` fetched items: the extra one only says there is a next page,
/// whose cursor is the id of this page's last item.
pub fn page<T>(mut items: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Page<T> {
    let limit = limit.clamp(1, MAX_PAGE) as usize;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor_of)
    } else {
        None
    };
    Page { items, next_cursor }
}

/// An instant as every driver stores it: whole milliseconds (what the API shows and
/// what cursors compare).
pub fn stored_instant(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

/// The exclusive end `end` of a time range as a stored instant: rounded up to the next
/// whole millisecond when it falls inside one. An instant is stored truncated, so one
/// stamped in `end`'s millisecond (`12.279Z` for 12.2795) may be before `end`; truncating
/// `end` too would leave it out of `[start, end)` (a backtest ending "now" lost the
/// events of its last millisecond).
pub fn stored_end(end: DateTime<Utc>) -> DateTime<Utc> {
    let start = stored_instant(end);
    if start == end {
        end
    } else {
        start + TimeDelta::milliseconds(1)
    }
}

/// The (workspace, object, id) key of a record.
pub type RecordKey = (String, String, String);

pub fn record_key(ws: &str, object: &str, id: &str) -> RecordKey {
    (ws.to_string(), object.to_string(), id.to_string())
}

/// The records a write transaction has read or written. A driver may keep them because
/// its write transactions are serialised (nothing else changes a record while the
/// transaction lives); reading one again then costs no statement. `None`: known absent.
#[derive(Debug, Default)]
pub struct RecordMemory {
    known: HashMap<RecordKey, Option<Record>>,
}

impl RecordMemory {
    /// `Some(answer)` when the record is known (present or absent).
    pub fn get(&self, key: &RecordKey) -> Option<Option<Record>> {
        self.known.get(key).cloned()
    }

    /// Whether the record is known to exist.
    pub fn holds(&self, ws: &str, object: &str, id: &str) -> bool {
        matches!(self.known.get(&record_key(ws, object, id)), Some(Some(_)))
    }

    pub fn contains(&self, key: &RecordKey) -> bool {
        self.known.contains_key(key)
    }

    /// What a read found (`None`: absent).
    pub fn read(&mut self, key: RecordKey, found: Option<Record>) {
        self.known.insert(key, found);
    }

    /// A record just inserted, remembered as a read would return it (its stored
    /// instants): the runs its write starts in the same transaction read it back, and
    /// their updates are then held back as updates of a record known to exist.
    pub fn inserted(&mut self, r: &Record) {
        let stored = Record {
            created_at: stored_instant(r.created_at),
            updated_at: stored_instant(r.updated_at),
            ..r.clone()
        };
        self.known
            .insert(record_key(&r.workspace_id, &r.object, &r.id), Some(stored));
    }

    /// A record just updated (`found`: whether a row changed). It is remembered as a read
    /// would return it: its stored `created_at` (never rewritten) and stored instants;
    /// when the old row was not known, it is forgotten.
    pub fn updated(&mut self, r: &Record, found: bool) {
        let key = record_key(&r.workspace_id, &r.object, &r.id);
        if !found {
            self.known.insert(key, None);
            return;
        }
        match self.known.get(&key) {
            Some(Some(old)) => {
                let stored = Record {
                    created_at: old.created_at,
                    updated_at: stored_instant(r.updated_at),
                    ..r.clone()
                };
                self.known.insert(key, Some(stored));
            }
            _ => {
                self.known.remove(&key);
            }
        }
    }

    pub fn deleted(&mut self, ws: &str, object: &str, id: &str) {
        self.known.insert(record_key(ws, object, id), None);
    }

    /// A savepoint rolled back: what followed it is unknown now, so everything goes.
    pub fn forget_all(&mut self) {
        self.known.clear();
    }

    /// The keys of `keys` not known yet, each once.
    pub fn unknown(&self, keys: &[(&str, &str, &str)]) -> Vec<RecordKey> {
        keys.iter()
            .map(|(ws, o, id)| record_key(ws, o, id))
            .filter(|k| !self.known.contains_key(k))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect()
    }
}

/// The step rows `end_runs` writes: a (run, step id) given twice keeps its last row, as
/// successive one-row upserts would.
pub fn last_step_rows<'a>(ends: &[(&'a Run, &'a [StepRun])]) -> Vec<(&'a Run, &'a StepRun)> {
    let all: Vec<(&Run, &StepRun)> = ends
        .iter()
        .flat_map(|(r, steps)| steps.iter().map(move |s| (*r, s)))
        .collect();
    let mut last: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, (r, s)) in all.iter().enumerate() {
        last.insert((r.id.as_str(), s.id.as_str()), i);
    }
    all.iter()
        .enumerate()
        .filter(|(i, (r, s))| last.get(&(r.id.as_str(), s.id.as_str())) == Some(i))
        .map(|(_, rs)| *rs)
        .collect()
}

/// Per event, whether a multi-row insert stored it, from the (workspace, id) keys the
/// statement returned (in no particular order): the first occurrence of a key takes it.
pub fn inserted_flags(events: &[Event], mut inserted: HashSet<(String, String)>) -> Vec<bool> {
    events
        .iter()
        .map(|e| inserted.remove(&(e.workspace_id.clone(), e.id.clone())))
        .collect()
}

/// How far apart `created_at` and `seq` order of events can be: events are stamped before
/// their transaction takes the write lock, so a slower writer's events can carry an earlier
/// time than events stored before them. A range is searched this much wider, then filtered.
pub const EVENT_SKEW_MS: i64 = 60_000;

/// The first position in `[lo, hi]` whose event was created at or after `target` minus
/// [`EVENT_SKEW_MS`], by a binary search over the sequence (events have no index on their
/// time, so that writes pay for none); `hi + 1` when there is none. `first_from(seq)`
/// reads the first stored event at or after `seq` (positions may have gaps).
pub async fn first_seq_at<E, F, Fut>(
    (mut lo, hi): (i64, i64),
    target: DateTime<Utc>,
    first_from: F,
) -> Result<i64, E>
where
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = Result<Option<(i64, DateTime<Utc>)>, E>>,
{
    let target = target - chrono::Duration::milliseconds(EVENT_SKEW_MS);
    let mut hi = hi + 1;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match first_from(mid).await? {
            Some((seq, created)) if created < target => lo = seq + 1,
            _ => hi = mid,
        }
    }
    Ok(lo)
}

/// The records `entries` of the automation log touch, each once, in first-seen order
/// (the per-record cap is applied to these after a write).
pub fn touched_records(
    entries: &[crate::record_log::AutomationLogEntry],
) -> Vec<(&str, &str, &str)> {
    let mut seen = HashSet::new();
    entries
        .iter()
        .map(|e| {
            (
                e.workspace_id.as_str(),
                e.object.as_str(),
                e.record_id.as_str(),
            )
        })
        .filter(|k| seen.insert(*k))
        .collect()
}
