//! Login throttling per client IP and per account name (GCRA). Every attempt takes a cell from
//! both buckets; once either is empty, attempts are refused before the password is even
//! checked, with the time to wait. The buckets live in the store (`store::login_buckets`), so
//! every replica on a database counts the same attempts: N replicas allow what one does.

use std::{net::IpAddr, time::Duration};

use crate::store::{
    Store,
    login_buckets::{self, Quota},
    types::now_millis,
};
use crate::web::settings::WebSettings;

pub struct LoginThrottle {
    by_ip: Quota,
    by_account: Quota,
}

impl LoginThrottle {
    pub fn new(settings: &WebSettings) -> LoginThrottle {
        let period_ms = i64::try_from(settings.login_replenish.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let burst = i64::from(settings.login_attempts.max(1));
        LoginThrottle {
            // One address may try a few names (a shared office NAT), one name fewer times.
            by_ip: Quota {
                period_ms,
                burst: burst.saturating_mul(4),
            },
            by_account: Quota { period_ms, burst },
        }
    }

    /// Takes one attempt for this IP and account; `Ok(Err(wait))` when either is used up.
    /// A store that does not answer is an error: no attempt is let through uncounted.
    pub async fn attempt(
        &self,
        store: &Store,
        ip: IpAddr,
        account: &str,
    ) -> sqlx::Result<Result<(), Duration>> {
        let now = now_millis();
        let account = account.trim().to_lowercase();
        let (ip_bucket, name_bucket) = (format!("ip:{ip}"), format!("name:{account}"));
        let by_ip = login_buckets::take(store.writer(), &ip_bucket, self.by_ip, now).await?;
        let by_account =
            login_buckets::take(store.writer(), &name_bucket, self.by_account, now).await?;
        match by_ip.into_iter().chain(by_account).max() {
            Some(wait_ms) => Ok(Err(Duration::from_millis(wait_ms.unsigned_abs()))),
            None => Ok(Ok(())),
        }
    }

    /// Forgets buckets that are full again (bounded size under a spray of names).
    pub async fn retain_recent(&self, store: &Store) -> sqlx::Result<u64> {
        login_buckets::delete_full(store.writer(), now_millis()).await
    }
}
