//! Client-side rate limiting per (SecretId, action) at the documented per-action limits
//! (reference §3.5), so that walking a large VPC never provokes `RequestLimitExceeded`.
//!
//! Calls are spaced evenly rather than allowed in bursts: Tencent counts requests per second,
//! and a burst of N followed by N/s would put up to 2N in one second. Callers wait for their
//! turn; they never get an error from here.
//!
//! Each budget is a grid of slots, one every `(1 s + LATE)/limit`: a caller reserves the next
//! free slot when it asks (never one in the past) and sleeps until it. A slot is the caller's
//! however late its task is woken, up to [`LATE`]; woken later, it reserves again. So a
//! late wake-up (a timer's millisecond, a loaded machine) delays that one call, never the
//! slots after it — a limiter that counts from each call's actual time (GCRA) lost that
//! lateness on every slot of a long page walk (README, estate-scan benchmark) — and in any
//! one second at most `limit` calls get their slot: their slots lie within `1 s + LATE`.
//!
//! Two priorities share each budget (issue 13: "scans yield to runs"): a run's calls
//! ([`Priority::Foreground`]) take the next slot whenever they want one; an estate scan's
//! calls ([`Priority::Background`]) take a slot only while no foreground call of the same
//! bucket waits and none was made in the last [`YIELD_WINDOW`]. Waiting alone would not do:
//! a run whose round trip is longer than a slot is not waiting at the slot boundaries, and a
//! scan taking them would push each of the run's calls back by a slot. So a scan pauses an
//! action while a run uses it, and carries on when the run is done with it. (A scan call that
//! already holds a slot keeps it: a run's first call may wait behind the few pages a scan's
//! list has asked for ahead.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tokio's clock as time since the limiter was made, so waits follow `tokio::time` (and
/// tests can pause it).
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

impl TokioClock {
    fn now(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.start)
    }
}

/// How late after its slot a woken caller may still use it. On the estate-scan benchmark (15
/// regions' page walks on 2 cores) a 5 ms tolerance still lost a slot at the 90th percentile
/// of DescribeInstances' gaps (50 ms, two slots); 20 ms costs 2 % of the pace (the grid's step).
pub const LATE: Duration = Duration::from_millis(20);

/// Whose call it is: a run's (first) or a background survey's (when nobody else waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    #[default]
    Foreground,
    Background,
}

/// How long after a foreground call background calls of the same bucket stay paused.
pub const YIELD_WINDOW: Duration = Duration::from_secs(1);

/// One budget: its next free slot, how many foreground calls wait for it now and when the
/// last one got its slot.
struct Bucket {
    /// The clock's reading at the next slot nobody has reserved.
    next: Mutex<Duration>,
    /// The grid's step: `(1 s + LATE) / limit`.
    spacing: Duration,
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
            let slot = bucket.reserve(self.clock.now());
            tokio::time::sleep_until(self.clock.start + slot).await;
            if self.clock.now().saturating_sub(slot) > LATE {
                // Woken too late to count as that slot's call: take a later one.
                continue;
            }
            if priority == Priority::Foreground {
                let now = self.clock.now().as_micros() as u64;
                bucket
                    .last_foreground_us
                    .store(now.max(1), Ordering::SeqCst);
            }
            return;
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
                    next: Mutex::new(Duration::ZERO),
                    spacing: (Duration::from_secs(1) + LATE) / per_second.max(1),
                    waiting: AtomicUsize::new(0),
                    last_foreground_us: AtomicU64::new(0),
                    slot: Duration::from_secs(1) / per_second.max(1),
                })
            })
            .clone()
    }
}

impl Bucket {
    /// Reserves the next free slot at or after `now`; a limit of 0 is treated as 1/s.
    fn reserve(&self, now: Duration) -> Duration {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let slot = (*next).max(now);
        *next = slot + self.spacing;
        slot
    }
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
        // And it does not throttle harder than needed: 61 calls fit in 3 s plus the grid's
        // tolerance for late wake-ups (`LATE` per second).
        assert!(
            times[60] <= Duration::from_secs(3) + LATE * 3,
            "{:?}",
            times[60]
        );
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

    /// The grid: a slot used late does not move the slots after it, an idle budget starts
    /// again from now, and calls each made up to `LATE` after their slot never put more than
    /// the limit in any one second.
    #[test]
    fn a_late_call_keeps_the_next_slots_and_no_second_holds_more_than_the_limit() {
        let limiter = RateLimiter::default();
        let bucket = limiter.bucket("AKIDa", "DescribeInstances", 40);
        let ms = Duration::from_millis;
        assert_eq!(bucket.reserve(ms(0)), ms(0));
        // The first call went out 3 ms late and its page came back at once: the next slot is
        // still one step after the first slot, not after the late call.
        assert_eq!(bucket.reserve(ms(3)), bucket.spacing);
        assert_eq!(bucket.reserve(ms(4)), bucket.spacing * 2);
        // Idle for a while: no slot in the past is handed out.
        assert_eq!(bucket.reserve(ms(5_000)), ms(5_000));

        let bucket = limiter.bucket("AKIDb", "DescribeInstances", 40);
        let mut sent = Vec::new();
        for i in 0..400u32 {
            let slot = bucket.reserve(Duration::ZERO);
            // Late by 0..=LATE, varying from call to call.
            let late = LATE * (i * 7 % 11) / 10;
            sent.push(slot + late.min(LATE));
        }
        sent.sort();
        for (i, t) in sent.iter().enumerate() {
            let in_second = sent[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(
                in_second <= 40,
                "{in_second} calls in the second from {t:?}"
            );
        }
        // And no slower than needed: 400 calls in 10 s plus the grid's LATE per second.
        assert!(
            sent[399] <= Duration::from_secs(10) + LATE * 11,
            "{:?}",
            sent[399]
        );
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
