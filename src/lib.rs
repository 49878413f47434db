//! natpilot: move a Tencent Cloud VPC behind a NAT gateway, step by step, with undo and history.
//!
//! Data flows one way: `web` → `wizard` → (`store`, `tencent`); `sim` speaks the same wire
//! protocol as Tencent Cloud and is just another endpoint for `tencent`.

pub mod app;
pub mod approvals;
pub mod cli;
pub mod config;
pub mod doctor;
pub mod estate;
pub mod export;
pub mod kept_eips;
pub mod notify;
pub mod numbers;
pub mod rehearsal;
pub mod sim;
pub mod snapshot;
pub mod store;
pub mod telemetry;
pub mod tencent;
pub mod web;
pub mod wizard;
