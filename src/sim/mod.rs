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

pub mod accounts;
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
pub mod settings;
pub mod wire;
pub mod world;

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use secrecy::{ExposeSecret, SecretString};

use crate::tencent::Service;

pub use accounts::{PRIMARY_UIN, SimAccountConfig, SimRole};
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
    /// Every account (the primary one first), their other worlds and the STS keys issued.
    accounts: accounts::Accounts,
    clock: SimClock,
    limiter: Mutex<RateLimiter>,
    faults: Mutex<Faults>,
    /// Bumped whenever a test sets the faults again: a `Slow` answer still waiting is sent
    /// at once (so a test can hold a call with a slow fault and release it, without sleeping).
    faults_set: tokio::sync::watch::Sender<u64>,
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
        let accounts = accounts::Accounts::new(
            &config.uin,
            &config.secret_id,
            &config.secret_key,
            config.roles.clone(),
            &config.accounts,
            config.seed,
        )?;
        for (extra, source) in &config.extra_regions {
            let mut s = source.load()?;
            s.region = extra.clone();
            let w = World::from_scenario(s, config.seed + 7)
                .map_err(|e| anyhow::anyhow!("invalid scenario for {extra}: {e}"))?;
            accounts.all()[0]
                .worlds
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(extra.clone(), w);
        }
        Ok(Shared {
            registry: actions::registry(),
            world: Mutex::new(world),
            accounts,
            clock: SimClock::new(config.manual_clock),
            limiter: Mutex::new(RateLimiter::new(config.rate_limit)),
            faults: Mutex::new(Faults::new(config.faults.clone())),
            faults_set: tokio::sync::watch::Sender::new(0),
            secret_id: config.secret_id.clone(),
            secret_key: config.secret_key.clone(),
            region,
            received: Mutex::new(Vec::new()),
            executed: Mutex::default(),
        })
    }

    fn secret_key_for(&self, secret_id: &str) -> Option<String> {
        if secret_id == self.secret_id {
            return Some(self.secret_key.expose_secret().to_string());
        }
        self.accounts.secret_key_for(secret_id)
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

    /// Runs `f` on the world of `caller`'s account in `region`, brought up to now; `None`
    /// when that account has no world there.
    fn with_world_of<R>(
        &self,
        caller: &accounts::Caller,
        region: &str,
        f: impl FnOnce(&mut World) -> R,
    ) -> Option<R> {
        if caller.account == 0 && (region.is_empty() || region == self.region()) {
            return Some(self.with_world(f));
        }
        let account = &self.accounts.all()[caller.account];
        let mut worlds = account.worlds.lock().unwrap_or_else(|p| p.into_inner());
        let world = match region {
            // DNSPod has no region: an account's first world holds its zones.
            "" => worlds.values_mut().next()?,
            r => worlds.get_mut(r)?,
        };
        world.advance(self.clock.now());
        Some(f(world))
    }

    /// The regions an account has worlds in, sorted (what DescribeRegions lists for it).
    fn regions_of(&self, caller: &accounts::Caller) -> Vec<String> {
        let account = &self.accounts.all()[caller.account];
        let mut regions: Vec<String> = account
            .worlds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        if caller.account == 0 {
            regions.push(self.region());
        }
        regions.sort();
        regions
    }

    fn call(
        &self,
        entry: &Entry,
        caller: &accounts::Caller,
        region: &str,
        body: &[u8],
        request_id: &str,
    ) -> Result<Vec<u8>, SimError> {
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
        if matches!(entry.service, Service::Sts | Service::Region) {
            return self.account_call(entry.name, caller, body, request_id);
        }
        self.with_world_of(caller, region, |world| entry.call(world, body, request_id))
            .unwrap_or_else(|| Err(unsupported_region(&self.regions_of(caller), region)))
    }

    /// STS and DescribeRegions: answered from the accounts, not a world.
    fn account_call(
        &self,
        action: &str,
        caller: &accounts::Caller,
        body: &[u8],
        request_id: &str,
    ) -> Result<Vec<u8>, SimError> {
        use crate::tencent::models::{regions, sts};
        let hint = std::sync::atomic::AtomicUsize::new(0);
        let now_unix = chrono::Utc::now().timestamp();
        match action {
            "AssumeRole" => {
                let req: sts::AssumeRoleRequest = dispatch::decode(body)?;
                let answer = self.accounts.assume_role(caller, &req, now_unix)?;
                dispatch::encode(&answer, request_id, &hint)
            }
            "GetCallerIdentity" => {
                let _: sts::GetCallerIdentityRequest = dispatch::decode(body)?;
                dispatch::encode(&self.accounts.identity(caller), request_id, &hint)
            }
            "DescribeRegions" => {
                let req: regions::DescribeRegionsRequest = dispatch::decode(body)?;
                if req.product.trim().is_empty() {
                    return Err(SimError::missing("Product"));
                }
                let region_set: Vec<regions::RegionInfo> = self
                    .regions_of(caller)
                    .into_iter()
                    .map(|r| regions::RegionInfo {
                        region_name: r.clone(),
                        region: r,
                        region_state: "AVAILABLE".into(),
                        ..Default::default()
                    })
                    .collect();
                let answer = regions::DescribeRegionsResponse {
                    total_count: region_set.len() as u64,
                    region_set,
                };
                dispatch::encode(&answer, request_id, &hint)
            }
            other => Err(SimError::internal(format!(
                "no account handler for {other}"
            ))),
        }
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

pub(crate) fn unsupported_region(ours: &[String], region: &str) -> SimError {
    SimError::new(
        "UnsupportedRegion",
        format!(
            "natpilot sim models region `{}` only, not `{region}`; call with region `{}` or \
             start the simulator with `--region {region}`.",
            ours.join("`, `"),
            ours.first().map(String::as_str).unwrap_or("ap-guangzhou")
        ),
    )
}
