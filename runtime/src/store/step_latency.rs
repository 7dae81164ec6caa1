//! The step latency histogram of `/metrics`, kept by this process as its transactions
//! commit ended steps, so a scrape costs the same at any history size (it was one pass
//! over every step row kept: 0.8 s at 2,000,000 steps on SQLite).
//!
//! Like any Prometheus histogram it counts what this process saw since it started: each
//! node of a shared database reports its own steps (a sum over the nodes is the whole),
//! and a restart starts from zero (`rate()` and `increase()` read that as a reset).
//!
//! A step counts when a committed transaction wrote it with a duration (it ended: done,
//! skipped or failed). A transaction notes the durations it writes ([`EndedSteps`]) and
//! adds them to the store's [`StepLatency`] only once its commit succeeded; a rollback to
//! a savepoint forgets those written since, a transaction dropped or failed forgets all.
//! A step given twice to one `end_runs` counts its last row, as the driver writes it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::{Run, StepRun};
use crate::store::shared::last_step_rows;

/// Upper bounds (milliseconds) of the buckets.
pub const STEP_LATENCY_BOUNDS_MS: [f64; 10] = [
    1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0,
];

/// Counts of ended steps by duration, shared by a store and its transactions.
#[derive(Debug, Default)]
pub struct StepLatency {
    /// Steps at most each bound long (not cumulative: summed when read).
    per_bucket: [AtomicU64; STEP_LATENCY_BOUNDS_MS.len()],
    count: AtomicU64,
    sum_ms: AtomicU64,
}

/// What the histogram holds at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepLatencySnapshot {
    pub count: u64,
    pub sum_ms: f64,
    /// Steps at most each bound of [`STEP_LATENCY_BOUNDS_MS`] long (cumulative).
    pub le: Vec<u64>,
}

impl StepLatency {
    fn observe(&self, duration_ms: i64) {
        // A clock stepped back can give a negative duration: it counts as zero.
        let ms = duration_ms.max(0);
        if let Some(i) = STEP_LATENCY_BOUNDS_MS.iter().position(|b| ms as f64 <= *b) {
            self.per_bucket[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ms.fetch_add(ms as u64, Ordering::Relaxed);
    }

    /// The counts now. Read while steps are added, the fields may be a step apart.
    pub fn snapshot(&self) -> StepLatencySnapshot {
        let le = self
            .per_bucket
            .iter()
            .scan(0, |total, n| {
                *total += n.load(Ordering::Relaxed);
                Some(*total)
            })
            .collect();
        StepLatencySnapshot {
            count: self.count.load(Ordering::Relaxed),
            sum_ms: self.sum_ms.load(Ordering::Relaxed) as f64,
            le,
        }
    }
}

/// The durations of the ended steps one transaction wrote, until it commits into the
/// store's histogram.
#[derive(Debug)]
pub struct EndedSteps {
    into: Arc<StepLatency>,
    durations: Vec<i64>,
    /// How many were noted when each open savepoint was taken, innermost last (a retried
    /// step's savepoint can open inside a request's).
    savepoints: Vec<usize>,
}

impl EndedSteps {
    pub fn new(into: Arc<StepLatency>) -> EndedSteps {
        EndedSteps {
            into,
            durations: Vec::new(),
            savepoints: Vec::new(),
        }
    }

    /// A step row written alone (`upsert_step`).
    pub fn step(&mut self, s: &StepRun) {
        self.durations.extend(s.duration_ms);
    }

    /// The step rows of `end_runs`: the last row of each (run, step id), the rows the
    /// drivers store.
    pub fn ends(&mut self, ends: &[(&Run, &[StepRun])]) {
        self.durations.extend(
            last_step_rows(ends)
                .iter()
                .filter_map(|(_, s)| s.duration_ms),
        );
    }

    pub fn savepoint(&mut self) {
        self.savepoints.push(self.durations.len());
    }

    /// The innermost savepoint is released: what was noted since stays.
    pub fn release_savepoint(&mut self) {
        self.savepoints.pop();
    }

    /// Rolled back to the innermost savepoint and released (`StoreTx`'s rollback does
    /// both): what was noted since is forgotten.
    pub fn rollback_to_savepoint(&mut self) {
        if let Some(mark) = self.savepoints.pop() {
            self.durations.truncate(mark);
        }
    }

    /// The transaction committed: its steps count.
    pub fn committed(self) {
        for ms in self.durations {
            self.into.observe(ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RunStatus, StepStatus};

    fn step(id: &str, duration_ms: Option<i64>) -> StepRun {
        StepRun {
            id: id.into(),
            step_type: "slack".into(),
            status: StepStatus::Completed,
            seq: 0,
            started_at: None,
            finished_at: None,
            duration_ms,
            input: None,
            output: None,
            error: None,
            effects: Vec::new(),
            logs: Vec::new(),
            attempts: 0,
            last_error: None,
        }
    }

    #[test]
    fn buckets_are_cumulative_and_bounds_inclusive() {
        let h = StepLatency::default();
        for ms in [0, 1, 2, 5, 6, 5000, 5001, -3] {
            h.observe(ms);
        }
        let s = h.snapshot();
        assert_eq!(s.count, 8);
        assert_eq!(s.sum_ms, (1 + 2 + 5 + 6 + 5000 + 5001) as f64);
        assert_eq!(s.le, [3, 5, 6, 6, 6, 6, 6, 6, 6, 7]);
    }

    #[test]
    fn only_a_commit_counts_and_a_savepoint_rollback_forgets_its_part() {
        let h = Arc::new(StepLatency::default());
        let mut tx = EndedSteps::new(h.clone());
        tx.step(&step("a", Some(1)));
        tx.step(&step("running", None));
        tx.savepoint();
        tx.step(&step("b", Some(2)));
        tx.rollback_to_savepoint();
        tx.savepoint();
        tx.step(&step("c", Some(3)));
        tx.release_savepoint();
        drop(tx);
        assert_eq!(
            h.snapshot().count,
            0,
            "a dropped transaction counts nothing"
        );
        let mut tx = EndedSteps::new(h.clone());
        tx.step(&step("a", Some(1)));
        tx.savepoint();
        tx.step(&step("b", Some(2)));
        tx.rollback_to_savepoint();
        tx.savepoint();
        tx.step(&step("c", Some(3)));
        tx.savepoint();
        tx.step(&step("d", Some(4)));
        tx.rollback_to_savepoint();
        tx.release_savepoint();
        tx.savepoint();
        tx.step(&step("e", Some(5)));
        tx.savepoint();
        tx.step(&step("f", Some(6)));
        tx.release_savepoint();
        tx.rollback_to_savepoint();
        tx.committed();
        let s = h.snapshot();
        assert_eq!(
            (s.count, s.sum_ms),
            (2, 4.0),
            "a and c: d undone inside c's savepoint, f released into e's, undone with it"
        );
    }

    fn run(id: &str) -> Run {
        Run {
            id: id.into(),
            workspace_id: "ws".into(),
            automation_id: "a".into(),
            version: 1,
            event_id: "e".into(),
            object: None,
            record_id: None,
            status: RunStatus::Completed,
            dry_run: false,
            pc: 0,
            state: Default::default(),
            error: None,
            error_code: None,
            created_at: chrono::Utc::now(),
            started_at: None,
            finished_at: None,
            duration_ms: None,
            steps: Vec::new(),
        }
    }

    #[test]
    fn a_step_given_twice_counts_its_last_row() {
        for n in [3, 40] {
            let mut steps: Vec<StepRun> = (0..n).map(|i| step(&format!("s{i}"), Some(1))).collect();
            steps.push(step("s0", Some(7)));
            steps.push(step("s1", None));
            let (first, second) = (run("r1"), run("r2"));
            let h = Arc::new(StepLatency::default());
            let mut tx = EndedSteps::new(h.clone());
            tx.ends(&[(&first, steps.as_slice()), (&second, &steps[..1])]);
            tx.committed();
            let s = h.snapshot();
            assert_eq!(
                s.count, n as u64,
                "{n} steps: s1 ended not, s0 once, and once more in another run"
            );
            assert_eq!(s.sum_ms, (n - 2 + 7 + 1) as f64, "{n} steps");
        }
    }
}
