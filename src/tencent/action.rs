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
    /// Whether the action may change the cloud (everything but `Describe*`; `RunCommand`
    /// runs a command on instances, so it counts). Mutating calls are fenced by the run's lease.
    const MUTATES: bool = mutates(Self::NAME);
    /// Request body; serializes to exactly the JSON the API expects (PascalCase, optional fields omitted).
    type Request: Serialize + DeserializeOwned + Send + Sync + std::fmt::Debug;
    /// The content of `Response` minus `RequestId` (the client strips and keeps it separately).
    type Response: Serialize + DeserializeOwned + Send + Sync + std::fmt::Debug;
}

/// Whether an action name is one that may change the cloud: every action but `Describe*`
/// and the two STS actions (GetCallerIdentity reads; AssumeRole hands out temporary keys and
/// changes no resource), which must not be fenced by a run lease.
pub const fn mutates(name: &str) -> bool {
    if same(name, "GetCallerIdentity") || same(name, "AssumeRole") {
        return false;
    }
    let (name, prefix) = (name.as_bytes(), b"Describe");
    if name.len() < prefix.len() {
        return true;
    }
    let mut i = 0;
    while i < prefix.len() {
        if name[i] != prefix[i] {
            return true;
        }
        i += 1;
    }
    false
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tencent::models::{tat, vpc};

    #[test]
    fn only_describe_actions_count_as_reads() {
        let flags = [
            vpc::DescribeNatGateways::MUTATES,
            vpc::CreateNatGateway::MUTATES,
            tat::RunCommand::MUTATES,
            mutates("Desc"),
            crate::tencent::models::sts::GetCallerIdentity::MUTATES,
            mutates("AssumeRoleX"),
        ];
        assert_eq!(flags, [false, true, true, true, false, true]);
    }
}
