//! The documented per-action rate limits (reference §3.5), enforced per SecretId with a token
//! bucket on the sim clock: a burst of `limit` requests passes, then `limit` per second.
//! Exceeding it answers `RequestLimitExceeded`, which clients retry with backoff.

use std::collections::HashMap;
use std::time::Duration;

use crate::sim::error::SimError;

#[derive(Debug, Default)]
pub struct RateLimiter {
    pub enabled: bool,
    buckets: HashMap<(String, &'static str), Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Duration,
}

impl RateLimiter {
    pub fn new(enabled: bool) -> RateLimiter {
        RateLimiter {
            enabled,
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `(secret_id, action)` at sim time `now`.
    pub fn check(
        &mut self,
        secret_id: &str,
        action: &'static str,
        limit: u32,
        now: Duration,
    ) -> Result<(), SimError> {
        if !self.enabled || limit == 0 {
            return Ok(());
        }
        let capacity = f64::from(limit);
        let bucket = self
            .buckets
            .entry((secret_id.to_string(), action))
            .or_insert(Bucket {
                tokens: capacity,
                last: now,
            });
        let refill = now.saturating_sub(bucket.last).as_secs_f64() * capacity;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(SimError::new(
                "RequestLimitExceeded",
                format!(
                    "Your current request times equals to `{limit}` in a second, which exceeds \
                     the frequency limit `{limit}` for `{action}`. Please retry later."
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_limit_passes_and_the_next_request_is_refused_until_time_passes() {
        let mut limiter = RateLimiter::new(true);
        let t0 = Duration::ZERO;
        for _ in 0..2 {
            limiter.check("id", "ReturnNormalAddresses", 2, t0).unwrap();
        }
        let refused = limiter
            .check("id", "ReturnNormalAddresses", 2, t0)
            .unwrap_err();
        assert_eq!(refused.code, "RequestLimitExceeded");
        assert!(
            limiter
                .check("other", "ReturnNormalAddresses", 2, t0)
                .is_ok()
        );
        assert!(
            limiter
                .check("id", "ReturnNormalAddresses", 2, Duration::from_millis(500))
                .is_ok()
        );
    }

    #[test]
    fn a_disabled_limiter_lets_everything_through() {
        let mut limiter = RateLimiter::new(false);
        for _ in 0..100 {
            limiter
                .check("id", "ReturnNormalAddresses", 2, Duration::ZERO)
                .unwrap();
        }
    }
}
