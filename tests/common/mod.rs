//! Helpers shared by the engine, portal and tools test binaries (each includes this file with
//! `#[path]`; a test binary cannot use another's modules). Each binary uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use natpilot::sim::SimHandle;
use natpilot::store::ledger::{ApiCall, CallState};

/// Generous for a loaded 2-core machine; every wait ends as soon as its state is seen.
pub const BUDGET: Duration = Duration::from_secs(120);

/// Polls `check` (simulator or database state) until it holds, within [`BUDGET`].
pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = tokio::time::Instant::now();
    while !check().await {
        assert!(started.elapsed() < BUDGET, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every mutating call the simulator executed has its row in `calls` (the run's ledger):
/// completed with the simulator's RequestId, or left `sent` by a process that died before the
/// answer came — never missing. Returns the actions of the rows left `sent`.
pub fn assert_every_received_call_is_ledgered(sim: &SimHandle, calls: &[ApiCall]) -> Vec<String> {
    let mut unmatched: BTreeMap<String, usize> = BTreeMap::new();
    for r in sim.received_mutations() {
        if !calls
            .iter()
            .any(|c| c.request_id.as_deref() == Some(&r.request_id))
        {
            *unmatched.entry(r.action).or_default() += 1;
        }
    }
    for (action, n) in unmatched {
        let sent = calls
            .iter()
            .filter(|c| c.action == action && c.state == CallState::Sent)
            .count();
        assert!(
            n <= sent,
            "{n} {action} call(s) reached the cloud but only {sent} ledger row(s) are left sent"
        );
    }
    calls
        .iter()
        .filter(|c| c.state == CallState::Sent)
        .map(|c| c.action.clone())
        .collect()
}
