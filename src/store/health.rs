//! Whether the store answers, for `/healthz` (issue 15 "Operations"): a probe asks both pools
//! for `SELECT 1` every few seconds and keeps the outcome, so a load balancer's health check
//! costs no database round trip of its own and never queues behind the one writer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::Store;

/// How often the probe asks, and how long one answer may take before the store counts as
/// unreachable: the readers must answer within `PROBE_BUDGET`. The writer is one connection
/// that every write of this process queues for, so a long write (step 4's rows of a large
/// VPC on a loaded machine) can hold it for seconds while the store is perfectly healthy;
/// it counts as unreachable only after `WRITER_BUDGET`, so `/healthz` does not flap behind
/// ordinary work and a load balancer does not take a busy replica out.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);
pub const PROBE_BUDGET: Duration = Duration::from_secs(5);
pub const WRITER_BUDGET: Duration = Duration::from_secs(30);

/// The last probe's outcome: `None` when the store answered (or before the first probe, the
/// store having just opened and migrated), else what went wrong.
#[derive(Clone, Debug, Default)]
pub struct StoreHealth(Arc<Mutex<Option<String>>>);

impl StoreHealth {
    pub fn problem(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, problem: Option<String>) {
        let mut current = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_none() && problem.is_some() {
            tracing::error!(
                problem = problem.as_deref(),
                "the database stopped answering"
            );
        } else if current.is_some() && problem.is_none() {
            tracing::info!("the database answers again");
        }
        *current = problem;
    }
}

impl Store {
    /// One probe: `SELECT 1` through the readers and through the writer.
    pub async fn ping(&self) -> Result<(), String> {
        for (name, pool, budget) in [
            ("readers", self.readers(), PROBE_BUDGET),
            ("writer", &self.writer, WRITER_BUDGET),
        ] {
            let asked = tokio::time::timeout(
                budget,
                crate::store::sql::query_scalar::<i64>("SELECT 1").fetch_one(pool),
            )
            .await;
            match asked {
                Ok(Ok(1)) => {}
                Ok(Ok(other)) => return Err(format!("the {name} answered {other} to SELECT 1")),
                Ok(Err(e)) => return Err(format!("the {name} failed: {e}")),
                Err(_) => {
                    return Err(format!(
                        "the {name} did not answer within {} s",
                        budget.as_secs()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Probes `store` until `stop` turns true, keeping the outcome in `store.health()`.
pub async fn probe(store: Store, mut stop: watch::Receiver<bool>) {
    loop {
        store.health().set(store.ping().await.err());
        tokio::select! {
            () = tokio::time::sleep(PROBE_EVERY) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}
