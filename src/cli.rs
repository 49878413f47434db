//! Command-line interface: `natpilot [serve|sim|doctor|snapshot|user]`.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "natpilot",
    version,
    about = "Move a Tencent Cloud VPC behind a NAT gateway, step by step."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web portal (the default).
    Serve,
    /// Run the simulated Tencent Cloud alone.
    Sim,
    /// Check configuration and credentials with read-only calls.
    Doctor,
    /// Write a scenario file describing one VPC.
    Snapshot,
    /// Manage portal users.
    User,
}
