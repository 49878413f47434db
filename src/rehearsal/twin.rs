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
    /// The copied VPC's region and id (the twin keeps the real ids).
    pub region: String,
    pub vpc_id: String,
    sim: RunningSim,
}

impl Twin {
    /// A twin of `vpc_id` in an already running simulator (tests of the registry).
    #[cfg(test)]
    pub(crate) fn on(sim: RunningSim, vpc_id: &str) -> Twin {
        let h = sim.handle();
        Twin {
            client: Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key())
                .expect("a client for the test simulator"),
            region: h.region(),
            vpc_id: vpc_id.to_owned(),
            sim,
        }
    }

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
    let twin = Twin {
        client,
        region: region.to_owned(),
        vpc_id: vpc_id.to_owned(),
        sim,
    };
    Ok((twin, snapshot.warnings))
}
