//! Making a twin: a read-only snapshot of the real VPC through the account's ordinary client
//! (`snapshot::take`, describe calls only), loaded into a simulator started for it on a
//! loopback port, with fresh random keys and the documented rate limits on, so the
//! rehearsal's plans, counts and pacing are those the real run would meet.

use std::time::Duration;

use crate::sim::{RunningSim, ScenarioSource, SimConfig, SimHandle};
use crate::tencent::Client;

/// A simulated copy of one VPC and the client that talks to it.
pub struct Twin {
    pub client: Client,
    sim: RunningSim,
}

impl Twin {
    /// The twin's world, for tests and diagnostics.
    pub fn handle(&self) -> SimHandle {
        self.sim.handle()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    /// The snapshot failed (no such VPC, a refused describe): the cause chain, no secret.
    #[error("{0}")]
    Snapshot(String),
    #[error("cannot start the twin's simulator: {0}")]
    Simulator(String),
}

/// Snapshots `vpc_id` in `region` through `real` and starts its twin. Returns the twin and
/// what the snapshot could not capture.
pub async fn make_twin(
    real: &Client,
    region: &str,
    vpc_id: &str,
    async_delay: Duration,
) -> Result<(Twin, Vec<String>), TwinError> {
    let snapshot = crate::snapshot::take(real, region, vpc_id)
        .await
        .map_err(|e| TwinError::Snapshot(format!("{e:#}")))?;
    let config = SimConfig {
        scenario: ScenarioSource::Inline(Box::new(snapshot.scenario)),
        region: Some(region.to_owned()),
        async_delay,
        ..SimConfig::embedded()
    };
    let sim = crate::sim::spawn(config)
        .await
        .map_err(|e| TwinError::Simulator(format!("{e:#}")))?;
    let h = sim.handle();
    let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key())
        .map_err(|e| TwinError::Simulator(e.to_string()))?;
    Ok((Twin { client, sim }, snapshot.warnings))
}
