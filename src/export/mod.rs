//! Turning a run's results into artefacts for other tools: Terraform for teams that keep
//! infrastructure as code, and the topology picture. Pure functions over plain data; the
//! caller (web) fetches that data from the store.

pub mod terraform;
pub mod topology;
