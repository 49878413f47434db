//! A simulated Tencent Cloud: an axum router speaking the real wire protocol (TC3 signatures,
//! the `{"Response": …}` envelope, documented error codes and rate limits) over an in-memory
//! world of VPCs, subnets, route tables, CVMs, EIPs, NAT gateways, TAT agents and DNSPod
//! zones, with asynchronous state transitions and seeded fault injection.
//!
//! In-process use (tests, the portal's embedded cloud):
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sim = natpilot::sim::spawn(natpilot::sim::SimConfig::embedded()).await?;
//! println!("{} {}", sim.endpoint(), sim.secret_id());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//! Must not depend on the wizard, the store or the web layer.

pub mod actions;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod faults;
mod handle;
pub mod ratelimit;
pub mod scenario;
pub mod wire;
pub mod world;

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use secrecy::{ExposeSecret, SecretString};

pub use config::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, FaultConfig, FaultKind, SimConfig};
pub use error::SimError;
pub use handle::{RunningSim, SimHandle, spawn};
pub use scenario::{Scenario, ScenarioSource};
pub use world::World;

use clock::SimClock;
use dispatch::{Entry, Registry};
use faults::Faults;
use ratelimit::RateLimiter;

/// State shared by every connection of one simulator.
pub struct Shared {
    registry: Registry,
    world: Mutex<World>,
    clock: SimClock,
    limiter: Mutex<RateLimiter>,
    faults: Mutex<Faults>,
    secret_id: String,
    secret_key: SecretString,
    region: RwLock<String>,
    /// Every mutating call the world executed, in order (tests compare it with the ledger).
    received: Mutex<Vec<Received>>,
    /// How many calls of each action the world executed (tests count reads with it).
    executed: Mutex<HashMap<&'static str, u64>>,
}

/// A mutating call the simulator executed: its action and the RequestId it answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub action: String,
    pub request_id: String,
}

impl Shared {
    fn new(config: &SimConfig) -> anyhow::Result<Shared> {
        let mut scenario = config.scenario.load()?;
        if let Some(region) = &config.region {
            scenario.region = region.clone();
        }
        let mut world = World::from_scenario(scenario, config.seed)
            .map_err(|e| anyhow::anyhow!("invalid scenario: {e}"))?;
        world.behaviour.async_delay = config.async_delay;
        world.behaviour.nat_creation_fails = config.nat_creation_fails;
        let region = RwLock::new(world.region.clone());
        Ok(Shared {
            registry: actions::registry(),
            world: Mutex::new(world),
            clock: SimClock::new(config.manual_clock),
            limiter: Mutex::new(RateLimiter::new(config.rate_limit)),
            faults: Mutex::new(Faults::new(config.faults.clone())),
            secret_id: config.secret_id.clone(),
            secret_key: config.secret_key.clone(),
            region,
            received: Mutex::new(Vec::new()),
            executed: Mutex::default(),
        })
    }

    fn secret_key_for(&self, secret_id: &str) -> Option<String> {
        (secret_id == self.secret_id).then(|| self.secret_key.expose_secret().to_string())
    }

    fn region(&self) -> String {
        self.region.read().expect("region lock").clone()
    }

    /// Runs `f` on the world brought up to the current sim time.
    fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = self.world.lock().expect("world lock");
        world.advance(self.clock.now());
        f(&mut world)
    }

    fn call(&self, entry: &Entry, body: &[u8], request_id: &str) -> Result<Vec<u8>, SimError> {
        *(self.executed.lock().unwrap_or_else(|p| p.into_inner()))
            .entry(entry.name)
            .or_default() += 1;
        if crate::tencent::action::mutates(entry.name) {
            let mut received = self.received.lock().unwrap_or_else(|p| p.into_inner());
            received.push(Received {
                action: entry.name.to_owned(),
                request_id: request_id.to_owned(),
            });
        }
        self.with_world(|world| entry.call(world, body, request_id))
    }

    fn state_json(&self) -> serde_json::Value {
        self.with_world(|world| {
            serde_json::json!({
                "scenario": world.to_scenario(),
                "invocations": world.invocations.values().collect::<Vec<_>>(),
                "tasks": world.tasks.values().collect::<Vec<_>>(),
                "clock_ms": world.now.as_millis() as u64,
            })
        })
    }
}
