//! Login throttling per client IP and per account name (GCRA via `governor`). Every attempt
//! takes a cell from both buckets; once either is empty, attempts are refused before the
//! password is even checked, with the time to wait.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::web::settings::WebSettings;

pub struct LoginThrottle {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
}

impl LoginThrottle {
    pub fn new(settings: &WebSettings) -> LoginThrottle {
        let quota = |burst: u32| {
            let burst = NonZeroU32::new(burst.max(1)).expect("at least one");
            Quota::with_period(settings.login_replenish.max(Duration::from_millis(1)))
                .expect("non-zero period")
                .allow_burst(burst)
        };
        LoginThrottle {
            by_ip: RateLimiter::keyed(quota(settings.login_attempts.saturating_mul(4))),
            by_account: RateLimiter::keyed(quota(settings.login_attempts)),
        }
    }

    /// Takes one attempt for this IP and account; `Err(wait)` when either is used up.
    pub fn attempt(&self, ip: IpAddr, account: &str) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        let account = account.trim().to_lowercase();
        let ip_result = self.by_ip.check_key(&ip);
        let account_result = self.by_account.check_key(&account);
        let waits = [ip_result.err(), account_result.err()];
        match waits
            .into_iter()
            .flatten()
            .map(|n| n.wait_time_from(now))
            .max()
        {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Forgets keys whose buckets are full again (bounded memory under a spray of names).
    pub fn retain_recent(&self) {
        self.by_ip.retain_recent();
        self.by_account.retain_recent();
    }
}
