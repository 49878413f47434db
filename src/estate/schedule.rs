//! The scheduled estate scan: every `[estate] scan_interval` (first one interval after
//! start, so a restart does not rescan at once), until the portal stops. Only one process
//! scans at a time (the scanner claim); a process that finds it held skips that round.

use std::time::Duration;

use tokio::sync::watch;

use super::accounts::CloudAccounts;
use super::scan::{self, ScanError};
use crate::store::Store;

pub async fn run(
    store: Store,
    accounts: CloudAccounts,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match scan::scan_all(&store, &accounts, "schedule").await {
            Ok(scans) => tracing::info!(scans = scans.len(), "scheduled estate scan done"),
            Err(ScanError::Busy) => {
                tracing::info!("estate scan skipped: another process is scanning")
            }
            Err(e) => tracing::warn!(error = %e, "scheduled estate scan failed"),
        }
    }
}
