//! Client-side rate limiting per (SecretId, action) at the documented per-action limits
//! (reference §3.5), so that walking a large VPC never provokes `RequestLimitExceeded`.
//!
//! Calls are spaced evenly (GCRA with a burst of one) rather than allowed in bursts: Tencent
//! counts requests per second, and a burst of N followed by N/s would put up to 2N in one
//! second. Callers wait for their turn; they never get an error from here.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter as Gcra};

/// Governor's view of tokio's clock, so waits follow `tokio::time` (and tests can pause it).
#[derive(Debug, Clone)]
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    type Instant = Duration;
    fn now(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.start)
    }
}

type Limiter = Gcra<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

/// Shared by all clones of a `Client`.
#[derive(Default)]
pub struct RateLimiter {
    clock: TokioClock,
    limiters: Mutex<HashMap<(String, &'static str), Arc<Limiter>>>,
}

impl RateLimiter {
    /// Waits until one more `action` call under `secret_id` stays within `per_second`.
    pub async fn acquire(&self, secret_id: &str, action: &'static str, per_second: u32) {
        let limiter = self.limiter(secret_id, action, per_second);
        loop {
            match limiter.check() {
                Ok(()) => return,
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    tokio::time::sleep(wait.max(Duration::from_micros(1))).await;
                }
            }
        }
    }

    fn limiter(&self, secret_id: &str, action: &'static str, per_second: u32) -> Arc<Limiter> {
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((secret_id.to_owned(), action))
            .or_insert_with(|| {
                Arc::new(Gcra::direct_with_clock(
                    quota(per_second),
                    self.clock.clone(),
                ))
            })
            .clone()
    }
}

/// One request every `1/per_second` seconds; a limit of 0 is treated as 1/s.
fn quota(per_second: u32) -> Quota {
    let n = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(n).allow_burst(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Virtual time: the paused tokio clock advances only while every task waits.
    #[tokio::test(start_paused = true)]
    async fn holds_describe_addresses_to_twenty_calls_per_second() {
        let limiter = RateLimiter::default();
        let start = tokio::time::Instant::now();
        let mut times = Vec::new();
        for _ in 0..61 {
            limiter.acquire("AKIDa", "DescribeAddresses", 20).await;
            times.push(start.elapsed());
        }
        // In every one-second window starting at a call, at most 20 calls.
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .filter(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 20,
                "{in_window} calls within 1 s after call {i}"
            );
        }
        // And it does not throttle harder than needed: 61 calls fit in 3 s plus a little.
        assert!(times[60] <= Duration::from_millis(3_050), "{:?}", times[60]);
    }

    #[tokio::test(start_paused = true)]
    async fn different_keys_and_actions_have_separate_budgets() {
        let limiter = RateLimiter::default();
        let start = tokio::time::Instant::now();
        for id in ["AKIDa", "AKIDb"] {
            for action in ["DescribeVpcs", "DescribeSubnets"] {
                limiter.acquire(id, action, 2).await;
            }
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire("AKIDa", "DescribeVpcs", 2).await;
        assert!(start.elapsed() >= Duration::from_millis(500));
    }
}
