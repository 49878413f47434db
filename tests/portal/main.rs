//! In-process tests of the web portal (one test binary; modules per area).

mod basics;
mod harness;
mod security;
