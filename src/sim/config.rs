//! `SimConfig`: everything a simulator starts with. Fault, rate-limit, async and failure knobs
//! can also be changed at runtime through `SimHandle`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;
use secrecy::SecretString;

use crate::sim::accounts::{PRIMARY_UIN, SimAccountConfig, SimRole};
use crate::sim::scenario::ScenarioSource;

/// The default credentials of `natpilot sim`, printed at start; tests and the conformance
/// scripts use them unless they pass their own.
pub const DEFAULT_SECRET_ID: &str = "AKIDNATPILOTSIM0000000000000000000000";
pub const DEFAULT_SECRET_KEY: &str = "natpilotSimSecretKey000000000000";

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free port (tests, embedded mode).
    pub listen: SocketAddr,
    pub secret_id: String,
    pub secret_key: SecretString,
    /// Overrides the scenario's region.
    pub region: Option<String>,
    pub scenario: ScenarioSource,
    /// Length of every asynchronous step (NAT PENDING → AVAILABLE, EIP tasks, TAT phases).
    pub async_delay: Duration,
    /// Make every NAT gateway creation end in `PENDFAILURE`.
    pub nat_creation_fails: bool,
    pub faults: FaultConfig,
    /// Enforce the documented per-action rate limits (reference §3.5).
    pub rate_limit: bool,
    /// Freeze the sim clock: time only moves through `SimHandle::advance` (deterministic tests).
    pub manual_clock: bool,
    /// Seeds generated ids and IPs.
    pub seed: u64,
    /// The primary account's uin (what GetCallerIdentity answers for its keys).
    pub uin: String,
    /// CAM roles of the primary account other accounts may assume.
    pub roles: Vec<SimRole>,
    /// More regions of the primary account, each its own world (the scenario's region stays
    /// the first).
    pub extra_regions: Vec<(String, ScenarioSource)>,
    /// More accounts, each with its own keys and worlds.
    pub accounts: Vec<SimAccountConfig>,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            secret_id: DEFAULT_SECRET_ID.into(),
            secret_key: DEFAULT_SECRET_KEY.into(),
            region: None,
            scenario: ScenarioSource::Tutorial,
            async_delay: Duration::from_secs(2),
            nat_creation_fails: false,
            faults: FaultConfig::default(),
            rate_limit: true,
            manual_clock: false,
            seed: 1,
            uin: PRIMARY_UIN.into(),
            roles: Vec::new(),
            extra_regions: Vec::new(),
            accounts: Vec::new(),
        }
    }
}

impl SimConfig {
    /// The portal's embedded cloud: tutorial scenario on a free loopback port with keys that
    /// are new at every boot (issue 3 item 7).
    pub fn embedded() -> SimConfig {
        let mut rng = rand::rng();
        let mut random = |prefix: &str, len: usize| -> String {
            const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            let tail: String = (0..len)
                .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
                .collect();
            format!("{prefix}{tail}")
        };
        SimConfig {
            secret_id: random("AKIDsim", 29),
            secret_key: random("", 32).into(),
            ..SimConfig::default()
        }
    }

    /// A configuration for tests: a frozen clock (async steps complete when the test calls
    /// `SimHandle::advance` past `async_delay`) and no rate limit.
    pub fn for_tests() -> SimConfig {
        SimConfig {
            manual_clock: true,
            rate_limit: false,
            ..SimConfig::default()
        }
    }
}

/// Kinds of injected faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `InternalError` in the normal envelope; the action does not run.
    InternalError,
    /// `RequestLimitExceeded`; the action does not run.
    RequestLimitExceeded,
    /// The action runs, the answer comes `slow_delay` late (or as soon as the faults are set
    /// again, `SimHandle::set_faults`).
    Slow,
    /// The action runs, then the connection is cut mid-answer: the ambiguous failure a
    /// client must reconcile after (did the create happen?).
    Drop,
}

impl FaultKind {
    pub const ALL: [FaultKind; 4] = [
        FaultKind::InternalError,
        FaultKind::RequestLimitExceeded,
        FaultKind::Slow,
        FaultKind::Drop,
    ];
}

/// Seeded fault injection: each authenticated request draws once from a generator seeded
/// with `seed`, so the same request sequence meets the same faults.
#[derive(Debug, Clone)]
pub struct FaultConfig {
    /// Probability (0..=1) that a request meets a fault.
    pub rate: f64,
    /// Per-action probability, overriding `rate` (key: `X-TC-Action`, e.g. `CreateNatGateway`).
    pub per_action: HashMap<String, f64>,
    /// Which faults to draw from (uniformly).
    pub kinds: Vec<FaultKind>,
    pub slow_delay: Duration,
    pub seed: u64,
}

impl Default for FaultConfig {
    fn default() -> FaultConfig {
        FaultConfig {
            rate: 0.0,
            per_action: HashMap::new(),
            kinds: FaultKind::ALL.to_vec(),
            slow_delay: Duration::from_secs(3),
            seed: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn every_embedded_boot_gets_fresh_keys_on_a_loopback_port() {
        let (a, b) = (SimConfig::embedded(), SimConfig::embedded());
        assert_ne!(a.secret_id, b.secret_id);
        assert_ne!(a.secret_key.expose_secret(), b.secret_key.expose_secret());
        assert_ne!(a.secret_key.expose_secret(), DEFAULT_SECRET_KEY);
        assert!(a.listen.ip().is_loopback() && a.listen.port() == 0);
        assert_eq!(a.scenario, ScenarioSource::Tutorial);
    }
}
