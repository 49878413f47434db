//! In-process tests of the web portal (one test binary; modules per area).

mod account;
mod admin;
mod basics;
#[path = "../common/mod.rs"]
mod common;
mod event_streams;
mod exposure;
mod hardening;
mod harness;
mod proxies;
mod redirects;
mod regions;
mod route_step;
mod run_records;
mod runs;
mod security;
mod setup_link;
mod setup_link_expiry;
mod shutdown;
mod snapshots;
mod tls;
mod topology;
mod two_processes;
mod verify_step;
mod wizard;
