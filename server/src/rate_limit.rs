//! The per-token request rate limit: a token bucket per token, in this process's memory.
//!
//! Each token follows its own limit when it was created with one (`token create
//! --rate-limit`), else the server's (`serve --rate-limit`, `--rate-burst`; 20,000/s with
//! a burst of 60,000 by default: above what one engine on two cores accepts, so the default
//! never caps one integration below the engine's capacity; shared setups set a lower one per
//! token or by flag). A spent bucket answers 429 with `Retry-After`: the whole
//! seconds until one request is available again. Buckets are per process, so N nodes allow
//! N times the limit; that is the documented trade-off for not touching the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub use automations_runtime::model::RateLimit;

use crate::error::ApiError;

/// The server's limit when no flag is given: far above the engine's own capacity (about
/// 5,000 runs/s on two cores), a guard against a runaway client only.
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit::Bucket {
    per_second: 20_000.0,
    burst: 60_000.0,
};

/// One token bucket per token.
#[derive(Debug)]
pub struct RateLimiter {
    default: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl RateLimiter {
    /// A limiter whose tokens without a limit of their own follow `default`.
    pub fn new(default: RateLimit) -> RateLimiter {
        RateLimiter {
            default,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the token's bucket (sized by `own`, the token's limit, or
    /// the server's), or answers 429 with the delay until the next request fits.
    pub fn check(&self, token_id: &str, own: Option<RateLimit>) -> Result<(), ApiError> {
        self.check_at(token_id, own, Instant::now())
    }

    fn check_at(
        &self,
        token_id: &str,
        own: Option<RateLimit>,
        now: Instant,
    ) -> Result<(), ApiError> {
        let limit = own.unwrap_or(self.default);
        let RateLimit::Bucket { per_second, burst } = limit else {
            return Ok(());
        };
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(token_id.to_string()).or_insert(Bucket {
            tokens: burst,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / per_second.max(f64::MIN_POSITIVE);
        Err(ApiError::TooManyRequests {
            retry_after_secs: (wait.ceil() as u64).max(1),
            limit: describe(limit),
        })
    }
}

/// `5/s, burst 10`, `2/min, burst 1` or `unlimited`, for messages: the rate in the
/// largest unit of `/s`, `/min`, `/h` that counts at least one request (a `2/min` limit
/// read `0.03333333333333333/s`).
pub fn describe(limit: RateLimit) -> String {
    match limit {
        RateLimit::Unlimited => "unlimited".into(),
        RateLimit::Bucket { per_second, burst } => {
            let (count, unit) = if per_second >= 1.0 {
                (per_second, "s")
            } else if per_second * 60.0 >= 1.0 {
                (per_second * 60.0, "min")
            } else {
                (per_second * 3600.0, "h")
            };
            format!("{}/{unit}, burst {}", short(count), short(burst))
        }
    }
}

/// A number with at most two decimals, and none when it is whole; in full when two
/// decimals would round it to 0 (a rate below one an hour).
fn short(x: f64) -> String {
    let text = format!("{x:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "0" && x > 0.0 {
        return x.to_string();
    }
    text.to_string()
}

/// Parses a rate: `off` or `0` (unlimited), `N`, `N/s`, `N/min` or `N/h` (N may be a
/// decimal). `burst` defaults to three seconds' worth of requests (at least 1).
pub fn parse_rate_limit(rate: &str, burst: Option<f64>) -> Result<RateLimit, String> {
    let text = rate.trim();
    if text.eq_ignore_ascii_case("off") || text.eq_ignore_ascii_case("unlimited") {
        return no_burst(burst);
    }
    let (count, unit) = text.split_once('/').unwrap_or((text, "s"));
    let seconds = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in rate `{text}`: use N/s, N/min or N/h, or `off`"
            ));
        }
    };
    let count: f64 = count
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a rate: expected e.g. 200/s, 600/min or off"))?;
    if !count.is_finite() || count < 0.0 {
        return Err(format!("the rate `{text}` must be 0 (off) or more"));
    }
    if count == 0.0 {
        return no_burst(burst);
    }
    let per_second = count / seconds;
    let burst = match burst {
        Some(b) if !b.is_finite() || b < 1.0 => {
            return Err(format!("the burst must be at least 1 (got {b})"));
        }
        Some(b) => b,
        None => (per_second * 3.0).max(1.0),
    };
    Ok(RateLimit::Bucket { per_second, burst })
}

fn no_burst(burst: Option<f64>) -> Result<RateLimit, String> {
    match burst {
        Some(_) => Err("a burst needs a rate limit; the rate is off".into()),
        None => Ok(RateLimit::Unlimited),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_bucket_empties_and_refills() {
        let own = Some(RateLimit::Bucket {
            per_second: 1.0,
            burst: 2.0,
        });
        let limiter = RateLimiter::new(RateLimit::Unlimited);
        let t0 = Instant::now();
        assert!(limiter.check_at("a", own, t0).is_ok());
        assert!(limiter.check_at("a", own, t0).is_ok());
        match limiter.check_at("a", own, t0) {
            Err(ApiError::TooManyRequests {
                retry_after_secs, ..
            }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(
            limiter.check_at("b", own, t0).is_ok(),
            "buckets are per token"
        );
        let later = t0 + Duration::from_millis(1100);
        assert!(limiter.check_at("a", own, later).is_ok());
        for _ in 0..1000 {
            assert!(
                limiter.check_at("c", None, t0).is_ok(),
                "the default here is unlimited"
            );
        }
    }

    #[test]
    fn limits_read_in_the_unit_they_were_given() {
        for (rate, burst, text) in [
            ("2/min", None, "2/min, burst 1"),
            ("5/s", Some(10.0), "5/s, burst 10"),
            ("90/h", None, "1.5/min, burst 1"),
            ("1/h", None, "1/h, burst 1"),
            ("2.5", None, "2.5/s, burst 7.5"),
            ("0.001/h", None, "0.001/h, burst 1"),
        ] {
            let limit = parse_rate_limit(rate, burst).unwrap();
            assert_eq!(describe(limit), text, "{rate}");
        }
        assert_eq!(describe(RateLimit::Unlimited), "unlimited");
    }

    #[test]
    fn rates_parse() {
        let cases: &[(&str, Option<f64>, Result<RateLimit, &str>)] = &[
            ("off", None, Ok(RateLimit::Unlimited)),
            ("0", None, Ok(RateLimit::Unlimited)),
            ("0/s", None, Ok(RateLimit::Unlimited)),
            (
                "200/s",
                None,
                Ok(RateLimit::Bucket {
                    per_second: 200.0,
                    burst: 600.0,
                }),
            ),
            (
                "5",
                Some(10.0),
                Ok(RateLimit::Bucket {
                    per_second: 5.0,
                    burst: 10.0,
                }),
            ),
            (
                "60/min",
                None,
                Ok(RateLimit::Bucket {
                    per_second: 1.0,
                    burst: 3.0,
                }),
            ),
            (
                "36/h",
                None,
                Ok(RateLimit::Bucket {
                    per_second: 0.01,
                    burst: 1.0,
                }),
            ),
            ("off", Some(5.0), Err("a burst needs a rate limit")),
            ("5/fortnight", None, Err("unknown unit `fortnight`")),
            ("fast", None, Err("is not a rate")),
            ("-1/s", None, Err("must be 0 (off) or more")),
            ("5/s", Some(0.5), Err("the burst must be at least 1")),
        ];
        for (rate, burst, expected) in cases {
            let got = parse_rate_limit(rate, *burst);
            match (expected, &got) {
                (Ok(want), Ok(got)) => assert_eq!(want, got, "{rate}"),
                (Err(fragment), Err(message)) => {
                    assert!(message.contains(fragment), "{rate}: {message}")
                }
                _ => panic!("{rate} {burst:?}: expected {expected:?}, got {got:?}"),
            }
        }
    }
}
