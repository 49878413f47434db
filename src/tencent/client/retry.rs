//! The retry policy's numbers and its one decision: give up, retry after a delay, or stop
//! because a non-replayable create may have been applied.

use std::time::Duration;

use rand::Rng;

use crate::tencent::{Replay, TencentError};

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first one included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time (the SDK uses 1 s, 2 s, 4 s, §3.4).
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decision {
    GiveUp,
    Reconcile,
    RetryAfter(Duration),
}

impl RetryPolicy {
    pub(super) fn decide(
        &self,
        replay: Replay,
        error: &TencentError,
        attempt: u32,
        elapsed: Duration,
    ) -> Decision {
        if replay == Replay::Unsafe && error.is_ambiguous() {
            return Decision::Reconcile;
        }
        if !error.is_retryable() || attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        let delay = self.backoff(attempt);
        if elapsed + delay > self.max_elapsed {
            return Decision::GiveUp;
        }
        Decision::RetryAfter(delay)
    }

    /// "Equal jitter": half the exponential delay fixed, half random, so concurrent callers
    /// spread out but nobody retries immediately.
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let full = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = full / 2;
        let jitter_nanos = rand::rng().random_range(0..=half.as_nanos() as u64);
        half + Duration::from_nanos(jitter_nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tencent::error::NetworkPhase;

    fn api(code: &str) -> TencentError {
        TencentError::Api {
            action: "X",
            code: code.into(),
            message: String::new(),
            request_id: "r".into(),
        }
    }

    fn timeout() -> TencentError {
        TencentError::Network {
            action: "X",
            host: "h".into(),
            detail: "timed out".into(),
            timeout: true,
            phase: NetworkPhase::AfterSend,
        }
    }

    #[test]
    fn backoff_grows_and_stays_within_bounds() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let d = p.backoff(attempt);
            let full = (p.base_delay * 2u32.pow(attempt - 1)).min(p.max_delay);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn a_rate_limit_is_retried_even_for_a_create() {
        let p = RetryPolicy::default();
        let d = p.decide(
            Replay::Unsafe,
            &api("RequestLimitExceeded"),
            1,
            Duration::ZERO,
        );
        assert!(matches!(d, Decision::RetryAfter(_)));
    }

    #[test]
    fn a_timeout_is_retried_for_a_read_but_not_for_a_create() {
        let p = RetryPolicy::default();
        assert!(matches!(
            p.decide(Replay::Safe, &timeout(), 1, Duration::ZERO),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            p.decide(Replay::Unsafe, &timeout(), 1, Duration::ZERO),
            Decision::Reconcile
        );
    }

    #[test]
    fn retries_stop_at_max_attempts_and_at_max_elapsed() {
        let p = RetryPolicy::default();
        let e = api("InternalError");
        assert_eq!(
            p.decide(Replay::Safe, &e, 4, Duration::ZERO),
            Decision::GiveUp
        );
        assert_eq!(
            p.decide(Replay::Safe, &e, 1, Duration::from_secs(60)),
            Decision::GiveUp
        );
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        let p = RetryPolicy::default();
        for code in [
            "InvalidParameter",
            "AuthFailure.SignatureFailure",
            "ResourceNotFound",
        ] {
            assert_eq!(
                p.decide(Replay::Safe, &api(code), 1, Duration::ZERO),
                Decision::GiveUp
            );
        }
    }
}
