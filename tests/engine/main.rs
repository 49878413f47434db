//! The run engine against the simulator, in process: a fresh SQLite file per test and a
//! simulator on 127.0.0.1:0 with its documented rate limits on. The final world is checked
//! through the simulator itself.

mod approvals;
#[path = "../common/mod.rs"]
mod common;
mod crashes;
mod fail_closed;
mod harness;
mod keep;
mod keep_guard;
mod keep_marks;
mod keep_unmovable;
mod lease;
mod retire;
mod runs;
mod two_gateways;
