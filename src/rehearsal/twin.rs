//! Making a twin: a read-only snapshot of the real VPC through the account's ordinary client
//! (`snapshot::take`, describe calls only), loaded into a simulator started for it on a
//! loopback port, with fresh random keys and the documented rate limits on, so the
//! rehearsal's plans, counts and pacing are those the real run would meet.

use std::time::Duration;

use crate::sim::{RunningSim, ScenarioSource, SimConfig, SimHandle};
use crate::tencent::{Client, TencentError};

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
    /// The snapshot failed (no such VPC, a refused describe, throttling after retries).
    #[error("{0}")]
    Snapshot(SnapshotFailure),
    #[error("cannot start the twin's simulator: {0}")]
    Simulator(String),
}

/// Why the snapshot of the real VPC failed, as the operator must see it: the Tencent error
/// code (or natpilot's pseudo-code) and the RequestId of the answer, when there was one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFailure {
    /// The describe action that failed, when the cause names one.
    pub action: Option<String>,
    pub code: String,
    pub request_id: Option<String>,
    /// The cause chain, no secret.
    pub message: String,
}

impl SnapshotFailure {
    /// Reads the code and RequestId out of the snapshot's error chain.
    pub fn of(e: &anyhow::Error) -> SnapshotFailure {
        let message = format!("{e:#}");
        if let Some(missing) = e.downcast_ref::<crate::snapshot::NoSuchVpc>() {
            return SnapshotFailure {
                action: Some("DescribeVpcs".into()),
                code: "natpilot.VpcNotFound".into(),
                request_id: Some(missing.request_id.clone()),
                message,
            };
        }
        match e.chain().find_map(|c| c.downcast_ref::<TencentError>()) {
            Some(t) => SnapshotFailure {
                action: t.action().map(str::to_owned),
                code: t.outcome_code(),
                request_id: t.request_id().map(str::to_owned),
                message,
            },
            None => SnapshotFailure {
                action: None,
                code: "natpilot.SnapshotFailed".into(),
                request_id: None,
                message,
            },
        }
    }
}

impl std::fmt::Display for SnapshotFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(action) = &self.action {
            write!(f, " from {action}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (RequestId {id})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Snapshots `vpc_id` in `region` through `real` and starts its twin. Returns the twin and
/// what the snapshot could not capture.
/// The snapshot's progress goes to `report`.
pub async fn make_twin(
    real: &Client,
    region: &str,
    vpc_id: &str,
    async_delay: Duration,
    report: crate::snapshot::Report<'_>,
) -> Result<(Twin, Vec<String>), TwinError> {
    let snapshot = crate::snapshot::take_reporting(real, region, vpc_id, report)
        .await
        .map_err(|e| TwinError::Snapshot(SnapshotFailure::of(&e)))?;
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
