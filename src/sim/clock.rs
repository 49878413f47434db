//! The simulator's clock: real elapsed time plus a manual offset, or (for deterministic
//! tests) the manual offset alone. Asynchronous transitions and rate-limit buckets read it;
//! the TC3 timestamp window uses wall time instead, since clients sign with wall time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct SimClock {
    start: Instant,
    frozen: bool,
    offset_nanos: AtomicU64,
}

impl SimClock {
    pub fn new(frozen: bool) -> SimClock {
        SimClock {
            start: Instant::now(),
            frozen,
            offset_nanos: AtomicU64::new(0),
        }
    }

    pub fn now(&self) -> Duration {
        let real = if self.frozen {
            Duration::ZERO
        } else {
            self.start.elapsed()
        };
        real + Duration::from_nanos(self.offset_nanos.load(Ordering::SeqCst))
    }

    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.offset_nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}
