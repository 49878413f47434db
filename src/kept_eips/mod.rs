//! Kept EIPs, to the end (issue 13 item 6): the EIPs runs left unbound (step 4's "unbind and
//! keep", the NAT gateway's EIPs a rollback kept), what they cost while idle, and when they may
//! be released.
//!
//! - `config`: `[kept_eips] soak` and `[costs]` (idle-EIP price per hour per region, with the
//!   default's source);
//! - the list itself is derived from each run's typed records by
//!   `wizard::engine::kept_list`, and released or re-bound by `wizard::engine::kept_action`
//!   (lease, cloud re-check, ledger, audit); the pages are `web::kept_eips`.

pub mod config;

pub use config::{CostsConfig, KeptEipsConfig, KeptSettings, Price, parse_soak};
