//! In-process tests of the web portal (one test binary; modules per area).

mod account;
mod admin;
mod api;
mod approvals;
mod basics;
mod campaigns;
#[path = "../common/mod.rs"]
mod common;
mod estate_accounts;
mod estate_drift;
mod estate_trend;
mod event_streams;
mod exposure;
mod exposure_scale;
mod hardening;
mod harness;
mod keep_egress;
mod kept_eips;
mod new_run_page;
#[cfg(feature = "oidc-tests")]
mod oidc;
mod protection_rules;
mod provision_step;
mod proxies;
mod redirects;
mod regions;
mod route_scale;
mod route_step;
mod run_page_scale;
mod run_page_words;
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
mod verify_edits;
mod verify_large;
mod verify_step;
mod verify_stored;
mod webhooks;
mod wizard;
