//! The estate (issue 13): every Tencent Cloud account the portal works in, and (later
//! items) scans of their regions and VPCs, exposure totals and drift findings.
//!
//! - `config`: `[[accounts]]` and `[estate]`, parsed per entry so one broken entry never
//!   stops the others;
//! - `accounts`: the accounts with their clients and STS identity (uin);
//! - `scan`: read-only scans of every region of every account, stored as snapshots;
//!   `scan_ledger` writes their calls' ledger, many rows per transaction;
//! - `schedule`: the periodic scan (`[estate] scan_interval`);
//! - `drift`, `drift_scan`: what a scan finds that a completed run does not allow.

pub mod accounts;
pub mod config;
pub mod drift;
pub mod drift_scan;
pub mod scan;
mod scan_ledger;
pub mod schedule;

pub use accounts::{CloudAccount, CloudAccounts, ExtraAccount, IdentityState};
pub use config::{AccountEntry, AccountSpec, EstateConfig};
