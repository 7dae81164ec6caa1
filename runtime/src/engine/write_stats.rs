//! Counters of the group-commit writer (`combiner`), for `/metrics`: how many groups and
//! requests it ran and where its time went. The writer is the one place every API write
//! waits on; the share of its time spent waiting for the database connection and
//! committing tells an operator whether the database or the engine bounds the write rate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What the group-commit writer of this process did since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WriteGroupStats {
    /// Groups of requests run (one transaction each; a group run again with savepoints
    /// after a failing request counts once, its two starts and commits in the times).
    pub groups: u64,
    /// Requests those groups served: record writes, batches and event submissions.
    pub jobs: u64,
    /// Time spent running groups, from taking the first request to answering the last.
    pub busy: Duration,
    /// Of which: starting transactions. The group's transaction is deferred: on SQLite
    /// it waits for the writer connection at its first read, or at its commit.
    pub begin: Duration,
    /// Of which: committing (the wait for the writer connection of a group that read
    /// nothing, the rows held back until the commit, then `COMMIT`).
    pub commit: Duration,
}

/// The live counters (microseconds for the times).
#[derive(Debug, Default)]
pub(crate) struct WriteCounters {
    groups: AtomicU64,
    jobs: AtomicU64,
    busy_us: AtomicU64,
    begin_us: AtomicU64,
    commit_us: AtomicU64,
}

/// Which part of a group's time a measurement is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Phase {
    Begin,
    Commit,
}

impl WriteCounters {
    pub(crate) fn group(&self, jobs: usize, took: Duration) {
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.jobs.fetch_add(jobs as u64, Ordering::Relaxed);
        self.busy_us.fetch_add(micros(took), Ordering::Relaxed);
    }

    pub(crate) fn phase(&self, phase: Phase, took: Duration) {
        let counter = match phase {
            Phase::Begin => &self.begin_us,
            Phase::Commit => &self.commit_us,
        };
        counter.fetch_add(micros(took), Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> WriteGroupStats {
        let time = |c: &AtomicU64| Duration::from_micros(c.load(Ordering::Relaxed));
        WriteGroupStats {
            groups: self.groups.load(Ordering::Relaxed),
            jobs: self.jobs.load(Ordering::Relaxed),
            busy: time(&self.busy_us),
            begin: time(&self.begin_us),
            commit: time(&self.commit_us),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_groups_jobs_and_phases() {
        let c = WriteCounters::default();
        c.group(3, Duration::from_micros(900));
        c.group(1, Duration::from_micros(100));
        c.phase(Phase::Begin, Duration::from_micros(40));
        c.phase(Phase::Commit, Duration::from_micros(300));
        c.phase(Phase::Commit, Duration::from_micros(200));
        assert_eq!(
            c.snapshot(),
            WriteGroupStats {
                groups: 2,
                jobs: 4,
                busy: Duration::from_micros(1000),
                begin: Duration::from_micros(40),
                commit: Duration::from_micros(500),
            }
        );
    }
}
