//! In-process tests of the web portal (one test binary; modules per area).

mod admin;
mod basics;
mod exposure;
mod harness;
mod route_step;
mod run_records;
mod runs;
mod security;
mod shutdown;
mod tls;
mod topology;
mod verify_step;
mod wizard;
