//! Typed request/response bodies for every Tencent Cloud action natpilot calls, one marker type
//! per action implementing `Action` (and `PagedAction` for list actions). The client sends
//! them and the simulator serves them, so both sides share one definition.
//!
//! Wire rules these types keep (reference §4): PascalCase field names with Tencent's odd
//! casings renamed explicitly; request types reject unknown fields (so the simulator can answer
//! `UnknownParameter`) and list every documented parameter; response types accept unknown
//! fields, default missing ones, and write nullable fields as `null`; `Response` types hold the
//! content of `Response` without `RequestId`.

mod common;
pub mod cvm;
pub mod dnspod;
pub mod regions;
pub mod sts;
pub mod tat;
pub mod vpc;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod wire_tests;

pub use common::{Filter, Tag, U64Num, U64Str};
