//! The `Action` trait ties one Tencent Cloud API action to its service, its name and its typed
//! request/response. Both the client (to call it) and the simulator (to serve it) use it, so
//! the two cannot drift apart.

use serde::{Serialize, de::DeserializeOwned};

use super::Service;

/// How safe it is to send an action again after an *ambiguous* failure (timeout, dropped
/// connection: the request may or may not have reached Tencent Cloud).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Reads, and writes whose repetition converges to the same state.
    Safe,
    /// Creates without an idempotency token (CreateNatGateway, CreateRoutes, AllocateAddresses,
    /// RunCommand, ...): repeating may duplicate a resource, so the caller must reconcile first.
    Unsafe,
}

pub trait Action {
    const SERVICE: Service;
    /// The exact `X-TC-Action` value, e.g. `DescribeVpcs`.
    const NAME: &'static str;
    const REPLAY: Replay;
    /// Documented requests per second per account (reference §3.5).
    const RATE_LIMIT_PER_SECOND: u32;
    /// Request body; serializes to exactly the JSON the API expects (PascalCase, optional fields omitted).
    type Request: Serialize + DeserializeOwned + Send + Sync + std::fmt::Debug;
    /// The content of `Response` minus `RequestId` (the client strips and keeps it separately).
    type Response: Serialize + DeserializeOwned + Send + Sync + std::fmt::Debug;
}
