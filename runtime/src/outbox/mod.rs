//! The outbox: external effects (email, Slack, webhooks) written in the step's transaction
//! and delivered afterwards by a worker, with retries and a stable idempotency key.
//!
//! Delivery is at-least-once towards the network; receivers deduplicate on the key
//! (`webhook-id`, `Idempotency-Key`). An item is never enqueued twice (unique key) and never
//! lost (it is in the same transaction as the step that produced it).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

mod deliver;
mod resolve;
pub mod signing;

pub use deliver::{Deliverer, DeliveryOutcome};

/// SMTP settings; without them email goes to the local mailbox table. `Debug` leaves the
/// password out.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    /// Plain SMTP without TLS (local relays, test sinks).
    pub insecure: bool,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field(
                "password",
                &self.password.as_ref().map(|_| crate::secrets::PLACEHOLDER),
            )
            .field("from", &self.from)
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// `Debug` leaves the Slack webhook URL (a credential itself) out.
#[derive(Clone)]
pub struct OutboxConfig {
    pub smtp: Option<SmtpConfig>,
    /// Slack incoming-webhook URL (`--slack-webhook-url`); without it Slack items end `dead`.
    pub slack_webhook_url: Option<String>,
    /// Allow webhooks (and Slack) to loopback/private addresses (`--webhook-allow-private`).
    pub allow_private: bool,
    /// First retry delay; doubles per attempt (tests use milliseconds).
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    pub max_attempts: u32,
    pub request_timeout: Duration,
    /// Deliveries in flight at once (the worker claims more as they finish), and how long
    /// a claim is held before another worker may retry it.
    pub batch: u32,
    /// Deliveries in flight at once to one destination (`host:port`, or SMTP), so a slow
    /// receiver holds at most this many of the worker's slots.
    pub per_destination: u32,
    /// How long an item claimed for a destination already at its limit waits before it is
    /// claimed again (it is put back, its attempts unchanged).
    pub defer: Duration,
    pub lease: Duration,
    pub poll_interval: Duration,
    /// How destination names are looked up (the system's resolver; tests substitute one).
    pub resolver: Arc<dyn automations_net::Resolver>,
}

impl std::fmt::Debug for OutboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxConfig")
            .field("smtp", &self.smtp)
            .field(
                "slack_webhook_url",
                &self
                    .slack_webhook_url
                    .as_ref()
                    .map(|_| crate::secrets::PLACEHOLDER),
            )
            .field("allow_private", &self.allow_private)
            .field("batch", &self.batch)
            .field("per_destination", &self.per_destination)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            smtp: None,
            slack_webhook_url: None,
            allow_private: false,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(300),
            max_attempts: 8,
            request_timeout: Duration::from_secs(10),
            batch: 64,
            per_destination: 4,
            defer: Duration::from_millis(500),
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_millis(200),
            resolver: Arc::new(automations_net::SystemResolver),
        }
    }
}

impl OutboxConfig {
    /// The addresses deliveries may connect to: the shared policy of `automations-net`, or
    /// every address with `--webhook-allow-private`.
    pub fn address_policy(&self) -> automations_net::AddressPolicy {
        if self.allow_private {
            automations_net::AddressPolicy::allow_all()
        } else {
            automations_net::AddressPolicy::default()
        }
    }

    /// Delay before retry number `attempts` (1-based): base * 2^(attempts-1), capped, with
    /// jitter in [d/2, d] so that a burst of failures does not retry in lockstep.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        let d = self
            .backoff_base
            .saturating_mul(1u32 << exp)
            .min(self.backoff_cap);
        let half = d / 2;
        let jitter = rand::rng().random_range(0..=half.as_micros().max(1) as u64);
        half + Duration::from_micros(jitter)
    }

    pub fn next_attempt_at(&self, now: DateTime<Utc>, attempts: u32) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.backoff(attempts)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let c = OutboxConfig {
            backoff_base: Duration::from_secs(1),
            ..Default::default()
        };
        for attempt in 1..=12u32 {
            let full = Duration::from_secs(1u64 << (attempt - 1)).min(Duration::from_secs(300));
            let d = c.backoff(attempt);
            assert!(
                d >= full / 2 && d <= full,
                "attempt {attempt}: {d:?} vs {full:?}"
            );
        }
    }
}
