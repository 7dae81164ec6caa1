//! Step retry policies (DESIGN §6): the `retry` option of an action step, its bounds, the
//! classes of errors it may retry, and the backoff between attempts.
//!
//! A policy is written as a step option, next to the step's guard:
//! `retry { attempts: 3, backoff: 2s, max_backoff: 1m, on: ["timeout", "http"] }` in the
//! DSL, `"retry": {"attempts": 3, "backoff": "2s", ...}` in JSON. The checker turns it into
//! a [`RetryPolicy`]; the runtime applies it. This module only describes (no clock, no
//! randomness): the runtime adds the jitter.

use std::fmt;

use crate::catalog::ActionKind;

/// The most attempts a step may make (the first one included).
pub const MAX_ATTEMPTS: u32 = 10;
/// The shortest first backoff.
pub const MIN_BACKOFF_MS: i64 = 100;
/// The longest backoff between two attempts.
pub const MAX_BACKOFF_MS: i64 = 24 * 60 * 60 * 1000;
/// The first backoff when none is written (as outbox deliveries, DESIGN §7).
pub const DEFAULT_BACKOFF_MS: i64 = 1000;
/// The cap on the backoff when none is written (as outbox deliveries, DESIGN §7).
pub const DEFAULT_MAX_BACKOFF_MS: i64 = 5 * 60 * 1000;

/// The keys of a `retry` object.
pub const FIELDS: [&str; 4] = ["attempts", "backoff", "max_backoff", "on"];

/// The errors a policy can retry: transient failures only. A step failing for another
/// reason (a bad param, a record that fails validation, a cap, a plugin that traps or runs
/// out of memory or fuel) fails its run at once, whatever its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// The plugin call ran past its time limit.
    Timeout,
    /// The plugin failed after one of its `http` requests failed on the network or was
    /// answered 408, 429 or 5xx.
    Http,
    /// A record write of the step lost a race with a concurrent one (a store whose writes
    /// can conflict reports it; SQLite's one writer serialises every write, so there it
    /// never happens).
    Conflict,
    /// The plugin returned an error of its own (its `Err`). Not retried unless named:
    /// only the plugin's author knows whether its errors are transient.
    PluginError,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 4] = [
        ErrorClass::Timeout,
        ErrorClass::Http,
        ErrorClass::Conflict,
        ErrorClass::PluginError,
    ];
    /// What a policy retries when it has no `on`.
    pub const DEFAULT: [ErrorClass; 3] =
        [ErrorClass::Timeout, ErrorClass::Http, ErrorClass::Conflict];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Timeout => "timeout",
            ErrorClass::Http => "http",
            ErrorClass::Conflict => "conflict",
            ErrorClass::PluginError => "plugin_error",
        }
    }

    pub fn parse(name: &str) -> Option<ErrorClass> {
        ErrorClass::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Every class name, for diagnostics.
    pub fn names() -> Vec<&'static str> {
        ErrorClass::ALL.iter().map(|c| c.as_str()).collect()
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `action`'s effect is a delivery through the outbox (email, Slack, webhook): its
/// step completes once the effect is queued, and its retry policy governs the delivery
/// (attempts and backoff in place of the outbox defaults of DESIGN §7). A delivery fails
/// transiently only as [`ErrorClass::Http`] (the network, a timeout, 408, 429 or 5xx).
pub fn retries_delivery(action: ActionKind) -> bool {
    matches!(
        action,
        ActionKind::SendEmail | ActionKind::SendNotification | ActionKind::Webhook
    )
}

/// A checked retry policy: within the bounds above, `on` sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1..=[`MAX_ATTEMPTS`]).
    pub attempts: u32,
    /// The wait after the first failed attempt; it doubles after each further one.
    pub backoff_ms: i64,
    /// The cap on the wait.
    pub max_backoff_ms: i64,
    pub on: Vec<ErrorClass>,
}

impl RetryPolicy {
    /// Whether an error of `class` is retried by this policy.
    pub fn retries(&self, class: ErrorClass) -> bool {
        self.on.contains(&class)
    }

    /// The wait after `failed` failed attempts (1-based) before the next one, before
    /// jitter: `backoff * 2^(failed - 1)`, capped at `max_backoff`.
    pub fn delay_ms(&self, failed: u32) -> i64 {
        let doublings = failed.saturating_sub(1).min(40);
        self.backoff_ms
            .saturating_mul(1i64 << doublings)
            .min(self.max_backoff_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_backoff_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 10,
            backoff_ms: 1000,
            max_backoff_ms: 5000,
            on: ErrorClass::DEFAULT.to_vec(),
        };
        let delays: Vec<i64> = (1..=5).map(|n| p.delay_ms(n)).collect();
        assert_eq!(delays, [1000, 2000, 4000, 5000, 5000]);
        assert_eq!(p.delay_ms(u32::MAX), 5000);
    }

    #[test]
    fn class_names_round_trip() {
        for class in ErrorClass::ALL {
            assert_eq!(ErrorClass::parse(class.as_str()), Some(class));
        }
        assert_eq!(ErrorClass::parse("validation"), None);
    }
}
