//! Integration tests of natpilot's command-line tools: `doctor` (against the simulator and an
//! independent Python TC3 verifier), `snapshot`, and `serve` as a process (start-up refusals,
//! graceful shutdown, `kill -9` in the middle of a step). One test binary for all of them, because every integration-test binary
//! links the whole crate again.

mod backup;
#[path = "../common/mod.rs"]
mod common;
mod doctor_python_verifier;
mod doctor_sim;
mod kill9;
mod process;
mod serve_credentials;
mod serve_database;
mod serve_shutdown;
mod serve_sim_settings;
mod serve_starting;
mod snapshot;
