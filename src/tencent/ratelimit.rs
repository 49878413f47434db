//! Client-side rate limiting per (SecretId, action) at the documented per-action limits
//! (reference §3.5), so that walking a large VPC never provokes `RequestLimitExceeded`.
//!
//! Calls are spaced evenly (GCRA with a burst of one) rather than allowed in bursts: Tencent
//! counts requests per second, and a burst of N followed by N/s would put up to 2N in one
//! second. Callers wait for their turn; they never get an error from here.
//!
//! Two priorities share each budget (issue 13: "scans yield to runs"): a run's calls
//! ([`Priority::Foreground`]) take the next slot whenever they want one; an estate scan's
//! calls ([`Priority::Background`]) take a slot only while no foreground call of the same
//! bucket waits and none was made in the last [`YIELD_WINDOW`]. Waiting alone would not do:
//! a run whose round trip is longer than a slot is not waiting at the slot boundaries, and a
//! scan taking them would push each of the run's calls back by a slot. So a scan pauses an
//! action while a run uses it, and carries on when the run is done with it.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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

/// Whose call it is: a run's (first) or a background survey's (when nobody else waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    #[default]
    Foreground,
    Background,
}

/// How long after a foreground call background calls of the same bucket stay paused.
pub const YIELD_WINDOW: Duration = Duration::from_secs(1);

/// One budget: its GCRA state, how many foreground calls wait for it now and when the last
/// one got its slot.
struct Bucket {
    gcra: Limiter,
    waiting: AtomicUsize,
    /// The clock's reading (µs) at the last foreground slot; 0 for none yet.
    last_foreground_us: AtomicU64,
    /// One slot's length: how long a background call steps back while others wait.
    slot: Duration,
}

/// Counts a foreground caller as waiting for as long as it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Shared by all clones of a `Client`.
#[derive(Default)]
pub struct RateLimiter {
    clock: TokioClock,
    limiters: Mutex<HashMap<(String, &'static str), Arc<Bucket>>>,
}

impl RateLimiter {
    /// Waits until one more `action` call under `secret_id` stays within `per_second`.
    pub async fn acquire(&self, secret_id: &str, action: &'static str, per_second: u32) {
        self.acquire_as(secret_id, action, per_second, Priority::Foreground)
            .await;
    }

    /// [`RateLimiter::acquire`] at `priority`: a background call also waits while any
    /// foreground call of the same bucket waits.
    pub async fn acquire_as(
        &self,
        secret_id: &str,
        action: &'static str,
        per_second: u32,
        priority: Priority,
    ) {
        let bucket = self.bucket(secret_id, action, per_second);
        let _waiting = (priority == Priority::Foreground).then(|| {
            bucket.waiting.fetch_add(1, Ordering::SeqCst);
            Waiting(&bucket.waiting)
        });
        loop {
            if priority == Priority::Background && self.foreground_busy(&bucket) {
                tokio::time::sleep(bucket.slot).await;
                continue;
            }
            match bucket.gcra.check() {
                Ok(()) => {
                    if priority == Priority::Foreground {
                        let now = self.clock.now().as_micros() as u64;
                        bucket
                            .last_foreground_us
                            .store(now.max(1), Ordering::SeqCst);
                    }
                    return;
                }
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    tokio::time::sleep(wait.max(Duration::from_micros(1))).await;
                }
            }
        }
    }

    /// Whether a foreground call waits for `bucket` or had a slot within the yield window.
    fn foreground_busy(&self, bucket: &Bucket) -> bool {
        if bucket.waiting.load(Ordering::SeqCst) > 0 {
            return true;
        }
        let last = bucket.last_foreground_us.load(Ordering::SeqCst);
        last != 0 && self.clock.now().saturating_sub(Duration::from_micros(last)) < YIELD_WINDOW
    }

    fn bucket(&self, secret_id: &str, action: &'static str, per_second: u32) -> Arc<Bucket> {
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((secret_id.to_owned(), action))
            .or_insert_with(|| {
                Arc::new(Bucket {
                    gcra: Gcra::direct_with_clock(quota(per_second), self.clock.clone()),
                    waiting: AtomicUsize::new(0),
                    last_foreground_us: AtomicU64::new(0),
                    slot: Duration::from_secs(1) / per_second.max(1),
                })
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

    /// A run's calls keep their pace while a scan calls the same action with the same keys:
    /// the scan pauses while the run uses the action (each call with a round trip longer than
    /// a slot, so the run is not waiting at the slot boundaries), then finishes.
    #[tokio::test(start_paused = true)]
    async fn background_calls_yield_to_a_run_using_the_same_budget() {
        let limiter = Arc::new(RateLimiter::default());
        let start = tokio::time::Instant::now();
        let scan = tokio::spawn({
            let limiter = limiter.clone();
            async move {
                let mut times = Vec::new();
                for _ in 0..30 {
                    limiter
                        .acquire_as("AKIDa", "DescribeInstances", 10, Priority::Background)
                        .await;
                    times.push(start.elapsed());
                }
                times
            }
        });
        // The scan is under way (it took the first slots) when the run starts calling.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut run = Vec::new();
        for _ in 0..20 {
            limiter.acquire("AKIDa", "DescribeInstances", 10).await;
            run.push(start.elapsed());
            // The call's round trip: longer than a slot (100 ms at 10/s).
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        // Alone, the run's calls are 150 ms apart (its round trips); the scan changes none
        // of them but the first, which may wait for the slot the scan had just taken.
        let gaps: Vec<Duration> = run.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter().all(|g| *g == Duration::from_millis(150)),
            "the run's calls were pushed back: {gaps:?}"
        );
        let scan = scan.await.unwrap();
        let during = scan
            .iter()
            .filter(|t| **t > run[0] && **t <= *run.last().unwrap())
            .count();
        assert_eq!(during, 0, "scan calls while the run was calling: {scan:?}");
        // Afterwards it goes on, once the run has left the action alone for the window.
        let resumed = scan.iter().find(|t| **t > *run.last().unwrap()).unwrap();
        assert!(
            *resumed >= *run.last().unwrap() + YIELD_WINDOW,
            "{resumed:?}"
        );
        assert_eq!(scan.len(), 30);
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
