//! Per-destination bookkeeping of the outbox worker: deliveries in flight, claimed items
//! waiting in memory for a slot, `Retry-After` holds and how long a delivery takes. Pure
//! (no storage, no clock of its own) so that its rules are tested alone.
//!
//! Why items wait in memory: a destination serves at most `per_destination` deliveries at
//! once, and an item claimed beyond that used to be put back for a fixed delay, so one
//! busy destination drained at `per_destination` items per delay (8 a second by default)
//! however fast it answered. Now such an item waits in its destination's queue while its
//! lease allows, and starts the moment a slot frees. The queue is bounded, so a backlog
//! of one destination holds a bounded part of the worker's claim and the rest stays free
//! for other destinations; what does not fit is put back until the destination is likely
//! to have room again (estimated from its delivery times), never longer than `defer`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::OutboxItem;

/// Weight of the newest delivery time in a destination's running estimate.
const LATENCY_WEIGHT: f64 = 0.2;

/// How the lanes treat items beyond their destination's slots.
#[derive(Debug, Clone, Copy)]
pub(super) struct LaneConfig {
    /// Deliveries in flight to one destination at most.
    pub per_destination: u32,
    /// Claimed items kept in memory per destination at most (`None`: all of them, for a
    /// one-round delivery that ends when everything claimed was attempted).
    pub queue_cap: Option<usize>,
    /// Bounds of the delay of an item put back for lack of room.
    pub min_defer: Duration,
    pub max_defer: Duration,
}

/// A claimed item waiting for a slot; it must start by `start_by` (its lease less the
/// request timeout), else it is put back.
struct Queued {
    item: OutboxItem,
    start_by: DateTime<Utc>,
}

#[derive(Default)]
struct Lane {
    in_flight: u32,
    queue: VecDeque<Queued>,
    throttled_until: Option<DateTime<Utc>>,
    /// Running estimate of one delivery's time; `None` until one ended.
    latency: Option<Duration>,
}

impl Lane {
    fn throttled(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.throttled_until.filter(|t| *t > now)
    }

    /// How long until an item queued now would get a slot.
    fn wait_for_slot(&self, per_destination: u32) -> Duration {
        let ahead = self.queue.len() as u32 + 1;
        let rounds = ahead.div_ceil(per_destination.max(1));
        self.latency.unwrap_or_default() * rounds
    }
}

/// What became of a claimed item.
pub(super) enum Placement {
    /// A slot of its destination is taken for it: deliver it now.
    Start(OutboxItem),
    /// Kept in memory for the next free slot of its destination.
    Queued,
    /// Not kept: write it back, due again at its (updated) `next_attempt_at`.
    PutBack(OutboxItem),
}

pub(super) struct Lanes {
    config: LaneConfig,
    lanes: HashMap<String, Lane>,
    queued: usize,
    /// Destinations whose queue was full at the last claim, and when their put-back items
    /// are due again: claiming more before then only puts more back.
    full: HashSet<String>,
    quiet_until: Option<DateTime<Utc>>,
    /// Items of the last claim that started or were queued, per destination.
    placed: HashMap<String, usize>,
}

impl Lanes {
    pub fn new(config: LaneConfig) -> Lanes {
        Lanes {
            config,
            lanes: HashMap::new(),
            queued: 0,
            full: HashSet::new(),
            quiet_until: None,
            placed: HashMap::new(),
        }
    }

    /// Claimed items waiting in memory.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Whether a claim now is worth its statement: not while destinations that overflowed
    /// at the last claim are still more than half full and their put-back items not due.
    pub fn worth_claiming(&self, now: DateTime<Utc>) -> bool {
        let Some(until) = self.quiet_until else {
            return true;
        };
        if now >= until {
            return true;
        }
        let cap = self.config.queue_cap.unwrap_or(usize::MAX);
        self.full
            .iter()
            .any(|d| self.lanes.get(d).is_none_or(|l| l.queue.len() <= cap / 2))
    }

    /// How many of `free` places the next claim should fill. All of them, except while
    /// the destinations that overflowed at the last claim are quiet (their put-back items
    /// not due yet: a claim now comes because one of their queues drained): then the room
    /// those lanes have, what the other destinations took at the last claim, and
    /// `per_destination` more to come upon destinations not seen yet. Rows claimed beyond
    /// that would mostly be read only to be written back; once the quiet time ends, a
    /// claim takes every free place again, so items due behind a backlog are still found.
    pub fn claim_size(&self, free: usize, now: DateTime<Utc>) -> usize {
        let (Some(until), Some(cap)) = (self.quiet_until, self.config.queue_cap) else {
            return free;
        };
        if now >= until {
            return free;
        }
        let per_destination = self.config.per_destination as usize;
        let room: usize = self
            .full
            .iter()
            .map(|d| match self.lanes.get(d) {
                Some(l) => {
                    per_destination.saturating_sub(l.in_flight as usize)
                        + cap.saturating_sub(l.queue.len())
                }
                None => per_destination + cap,
            })
            .sum();
        let others: usize = self
            .placed
            .iter()
            .filter(|(d, _)| !self.full.contains(*d))
            .map(|(_, n)| n)
            .sum();
        free.min(room + others + per_destination)
    }

    /// A claim starts: forget what the previous one learnt about full queues.
    pub fn claiming(&mut self) {
        self.full.clear();
        self.quiet_until = None;
        self.placed.clear();
    }

    /// Places one claimed item of destination `dest`.
    pub fn place(
        &mut self,
        dest: &str,
        mut item: OutboxItem,
        now: DateTime<Utc>,
        start_by: DateTime<Utc>,
    ) -> Placement {
        let config = self.config;
        let lane = self.lanes.entry(dest.to_string()).or_default();
        if let Some(until) = lane.throttled(now) {
            item.next_attempt_at = until;
            return Placement::PutBack(item);
        }
        if lane.in_flight < config.per_destination && lane.queue.is_empty() {
            lane.in_flight += 1;
            count_placed(&mut self.placed, dest);
            return Placement::Start(item);
        }
        let wait = lane.wait_for_slot(config.per_destination);
        let room = config.queue_cap.is_none_or(|cap| lane.queue.len() < cap);
        if room && later(now, wait) <= start_by {
            lane.queue.push_back(Queued { item, start_by });
            self.queued += 1;
            count_placed(&mut self.placed, dest);
            return Placement::Queued;
        }
        let delay = wait.clamp(config.min_defer, config.max_defer);
        item.next_attempt_at = later(now, delay);
        self.full.insert(dest.to_string());
        self.quiet_until = Some(
            self.quiet_until
                .map_or(item.next_attempt_at, |q| q.min(item.next_attempt_at)),
        );
        Placement::PutBack(item)
    }

    /// A delivery to `dest` ended after `took`; `throttled_until` when it answered
    /// `Retry-After`.
    pub fn finished(&mut self, dest: &str, took: Duration, throttled_until: Option<DateTime<Utc>>) {
        let Some(lane) = self.lanes.get_mut(dest) else {
            return;
        };
        lane.in_flight = lane.in_flight.saturating_sub(1);
        lane.latency = Some(match lane.latency {
            None => took,
            Some(l) => l.mul_f64(1.0 - LATENCY_WEIGHT) + took.mul_f64(LATENCY_WEIGHT),
        });
        if let Some(until) = throttled_until {
            lane.throttled_until = Some(lane.throttled_until.map_or(until, |t| t.max(until)));
        }
    }

    /// Takes the slots freed since the last call: returns the queued items to start now,
    /// and those to put back (their destination answered `Retry-After`, then due when it
    /// allows; or their start deadline passed, then due now). Forgets idle destinations.
    pub fn ready(&mut self, now: DateTime<Utc>) -> (Vec<(String, OutboxItem)>, Vec<OutboxItem>) {
        let per_destination = self.config.per_destination;
        let mut start = Vec::new();
        let mut put_back = Vec::new();
        for (dest, lane) in &mut self.lanes {
            let throttled = lane.throttled(now);
            while let Some(q) = lane.queue.front() {
                if throttled.is_none() && q.start_by >= now && lane.in_flight >= per_destination {
                    break;
                }
                let Some(Queued { mut item, start_by }) = lane.queue.pop_front() else {
                    break;
                };
                self.queued -= 1;
                if let Some(until) = throttled {
                    item.next_attempt_at = until;
                    put_back.push(item);
                } else if start_by < now {
                    item.next_attempt_at = now;
                    put_back.push(item);
                } else {
                    lane.in_flight += 1;
                    start.push((dest.clone(), item));
                }
            }
        }
        // An idle destination's estimate goes too: the map stays as small as what is busy.
        self.lanes
            .retain(|_, l| l.in_flight > 0 || !l.queue.is_empty() || l.throttled(now).is_some());
        (start, put_back)
    }

    /// Everything still queued, due now (the worker stops: another may take it at once).
    pub fn drain(&mut self, now: DateTime<Utc>) -> Vec<OutboxItem> {
        self.queued = 0;
        let mut out = Vec::new();
        for lane in self.lanes.values_mut() {
            out.extend(lane.queue.drain(..).map(|q| {
                let mut item = q.item;
                item.next_attempt_at = now;
                item
            }));
        }
        out
    }
}

/// One more item of the current claim placed for `dest` (the name is copied only the
/// first time).
fn count_placed(placed: &mut HashMap<String, usize>, dest: &str) {
    match placed.get_mut(dest) {
        Some(n) => *n += 1,
        None => {
            placed.insert(dest.to_string(), 1);
        }
    }
}

/// `now + d`, at most the latest time there is.
fn later(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OutboxKind, OutboxStatus};

    fn item(id: &str, now: DateTime<Utc>) -> OutboxItem {
        OutboxItem {
            id: id.into(),
            workspace_id: "ws".into(),
            kind: OutboxKind::Webhook,
            status: OutboxStatus::Pending,
            attempts: 0,
            last_error: None,
            payload: serde_json::json!({}),
            run_id: None,
            step_id: None,
            idempotency_key: id.into(),
            next_attempt_at: now,
            created_at: now,
            delivered_at: None,
            retry: None,
        }
    }

    fn lanes(cap: Option<usize>) -> Lanes {
        Lanes::new(LaneConfig {
            per_destination: 2,
            queue_cap: cap,
            min_defer: Duration::from_millis(50),
            max_defer: Duration::from_millis(500),
        })
    }

    fn kind(p: &Placement) -> &'static str {
        match p {
            Placement::Start(_) => "start",
            Placement::Queued => "queued",
            Placement::PutBack(_) => "put back",
        }
    }

    #[test]
    fn slots_then_queue_then_put_back_within_bounds() {
        let now = Utc::now();
        let by = now + chrono::Duration::seconds(30);
        let mut l = lanes(Some(3));
        let placed: Vec<_> = (0..7)
            .map(|i| kind(&l.place("a", item(&i.to_string(), now), now, by)))
            .collect();
        assert_eq!(
            placed,
            [
                "start", "start", "queued", "queued", "queued", "put back", "put back"
            ]
        );
        assert_eq!(l.queued(), 3);
        // Another destination still starts at once.
        assert_eq!(kind(&l.place("b", item("b", now), now, by)), "start");
        match l.place("a", item("x", now), now, by) {
            Placement::PutBack(i) => {
                let delay = (i.next_attempt_at - now).to_std().unwrap();
                assert!(delay >= Duration::from_millis(50) && delay <= Duration::from_millis(500));
            }
            other => panic!("expected a put back, got {}", kind(&other)),
        }
        assert!(!l.worth_claiming(now), "the full queue is still full");
    }

    #[test]
    fn a_freed_slot_starts_the_oldest_queued_item() {
        let now = Utc::now();
        let by = now + chrono::Duration::seconds(30);
        let mut l = lanes(Some(8));
        for i in 0..5 {
            l.place("a", item(&format!("i{i}"), now), now, by);
        }
        assert_eq!(l.ready(now).0.len(), 0, "no slot freed yet");
        l.finished("a", Duration::from_millis(3), None);
        let (start, put_back) = l.ready(now);
        assert!(put_back.is_empty());
        assert_eq!(start.len(), 1);
        assert_eq!(start[0].1.id, "i2", "first in, first out");
        assert_eq!(l.queued(), 2);
    }

    #[test]
    fn a_queued_item_past_its_deadline_is_put_back_due_now() {
        let now = Utc::now();
        let mut l = lanes(Some(8));
        let soon = now + chrono::Duration::milliseconds(10);
        for i in 0..3 {
            l.place("a", item(&format!("i{i}"), now), now, soon);
        }
        let later = now + chrono::Duration::seconds(1);
        let (start, put_back) = l.ready(later);
        assert!(start.is_empty(), "both slots are still busy");
        assert_eq!(put_back.len(), 1);
        assert_eq!(put_back[0].next_attempt_at, later);
        assert_eq!(l.queued(), 0);
    }

    #[test]
    fn retry_after_puts_back_the_destinations_queue_until_then() {
        let now = Utc::now();
        let by = now + chrono::Duration::seconds(30);
        let mut l = lanes(Some(8));
        for i in 0..4 {
            l.place("a", item(&format!("i{i}"), now), now, by);
        }
        let until = now + chrono::Duration::seconds(2);
        l.finished("a", Duration::from_millis(1), Some(until));
        let (start, put_back) = l.ready(now);
        assert!(start.is_empty());
        assert_eq!(put_back.len(), 2);
        assert!(put_back.iter().all(|i| i.next_attempt_at == until));
        match l.place("a", item("late", now), now, by) {
            Placement::PutBack(i) => assert_eq!(i.next_attempt_at, until),
            other => panic!("expected a put back, got {}", kind(&other)),
        }
    }

    #[test]
    fn a_slow_destination_does_not_queue_what_its_lease_cannot_wait_for() {
        let now = Utc::now();
        let by = now + chrono::Duration::seconds(30);
        let mut l = lanes(Some(100));
        l.place("slow", item("a", now), now, by);
        l.place("slow", item("b", now), now, by);
        l.finished("slow", Duration::from_secs(25), None);
        l.ready(now);
        l.place("slow", item("c", now), now, by);
        // Two ahead in the queue at 25 s a round: starting would take past the deadline.
        let placed: Vec<_> = (0..4)
            .map(|i| kind(&l.place("slow", item(&format!("q{i}"), now), now, by)))
            .collect();
        assert_eq!(placed, ["queued", "queued", "put back", "put back"]);
    }

    #[test]
    fn unbounded_lanes_keep_everything_and_drain_due_now() {
        let now = Utc::now();
        let far = now + chrono::Duration::days(1);
        let mut l = lanes(None);
        let placed: Vec<_> = (0..50)
            .map(|i| kind(&l.place("a", item(&i.to_string(), now), now, far)))
            .collect();
        assert_eq!(placed.iter().filter(|p| **p == "queued").count(), 48);
        let later = now + chrono::Duration::seconds(5);
        let drained = l.drain(later);
        assert_eq!(drained.len(), 48);
        assert!(drained.iter().all(|i| i.next_attempt_at == later));
        assert_eq!(l.queued(), 0);
    }

    #[test]
    fn claiming_resumes_when_a_full_queue_is_half_empty() {
        let now = Utc::now();
        let by = now + chrono::Duration::seconds(30);
        let mut l = lanes(Some(4));
        for i in 0..7 {
            l.place("a", item(&i.to_string(), now), now, by);
        }
        assert!(!l.worth_claiming(now));
        for _ in 0..2 {
            l.finished("a", Duration::from_millis(1), None);
        }
        l.ready(now);
        assert!(l.worth_claiming(now), "2 of 4 queued left");
        l.claiming();
        assert!(l.worth_claiming(now));
    }

    #[test]
    fn a_claim_after_an_overflow_takes_what_the_lanes_have_room_for() {
        let now = Utc::now();
        let by = now + chrono::Duration::seconds(30);
        let mut l = lanes(Some(4));
        assert_eq!(l.claim_size(60, now), 60, "nothing overflowed yet");
        l.claiming();
        // "a": 2 start, 4 queued, 3 put back; "b": 1 starts.
        for i in 0..9 {
            l.place("a", item(&format!("a{i}"), now), now, by);
        }
        l.place("b", item("b0", now), now, by);
        for _ in 0..2 {
            l.finished("a", Duration::from_millis(1), None);
        }
        l.ready(now);
        // "a" has 2 in flight and 2 queued: room for 2; "b" took 1; 2 more to look further.
        assert_eq!(l.claim_size(60, now), 2 + 1 + 2);
        assert_eq!(l.claim_size(3, now), 3, "never more than the free places");
        let due = now + chrono::Duration::seconds(1);
        assert_eq!(
            l.claim_size(60, due),
            60,
            "the put-back items are due: claim it all"
        );
        l.claiming();
        assert_eq!(l.claim_size(60, now), 60, "a claim without overflow");
    }
}
