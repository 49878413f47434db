//! Integration tests of natpilot's command-line tools that talk to a cloud: `doctor` (against the
//! simulator and an independent Python TC3 verifier) and `snapshot`. One test binary for all of
//! them, because every integration-test binary links the whole crate again.

mod doctor_python_verifier;
mod doctor_sim;
mod snapshot;
