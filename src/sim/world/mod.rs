//! The in-memory simulated cloud of one region: its resources (scenario-shaped, see
//! `types.rs`), the indexes that keep 50,000-instance VPCs fast to page, id generation, and
//! the timers of asynchronous transitions. Action semantics live in `sim::actions`; routing
//! and egress in `egress.rs`; timer effects in `transitions.rs`.

pub mod egress;
pub mod net;
pub mod runtime;
pub mod shell;
pub mod transitions;
pub mod types;
pub mod view_cache;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::sim::error::{SimError, SimResult};
use crate::sim::scenario::Scenario;
pub use runtime::{EipTask, Invocation, InvocationTask, TaskEffect, Timer, TimerKind};
pub use types::*;

/// Behaviour switches the world consults while transitions run.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Delay of every asynchronous step (NAT creation, EIP tasks, TAT phases).
    pub async_delay: Duration,
    /// Make every NAT gateway creation end in `PENDFAILURE`.
    pub nat_creation_fails: bool,
}

pub struct World {
    pub region: String,
    pub quotas: Quotas,
    pub vpcs: BTreeMap<String, Vpc>,
    pub subnets: BTreeMap<String, Subnet>,
    pub route_tables: BTreeMap<String, RouteTable>,
    instances: Vec<Instance>,
    instance_pos: HashMap<String, usize>,
    instances_by_vpc: HashMap<String, Vec<usize>>,
    pub addresses: BTreeMap<String, Address>,
    addresses_by_owner: HashMap<String, Vec<String>>,
    pub nat_gateways: BTreeMap<String, NatGateway>,
    /// SNAT rules by id (`snat-…`), of every gateway.
    pub snat_rules: BTreeMap<String, SnatRule>,
    pub domains: BTreeMap<u64, Domain>,
    pub invocations: BTreeMap<String, Invocation>,
    pub tasks: BTreeMap<u64, EipTask>,
    pub timers: Vec<Timer>,
    pub behaviour: Behaviour,
    /// Sim-clock time of the request being handled (set by `advance`).
    pub now: Duration,
    /// EIPs applied for today (DAILY_EIP_APPLY) and public IPs re-assigned today.
    pub daily_eip_applied: u64,
    pub daily_ip_assigned: u64,
    pub next_route_id: u64,
    /// AllocateAddresses `ClientToken` → its first answer (addresses, task), for idempotency.
    pub client_tokens: HashMap<String, (Vec<String>, u64)>,
    next_task_id: u64,
    next_seq: u64,
    rng: StdRng,
    /// Serialised DescribeInstances entries (`view_cache.rs`).
    view_cache: view_cache::ViewCache,
}

impl World {
    /// Builds the world from a scenario, checking every cross reference so a bad file is
    /// refused with a message naming the entity at fault.
    pub fn from_scenario(scenario: Scenario, seed: u64) -> Result<World, String> {
        scenario.validate()?;
        let mut world = World {
            region: scenario.region,
            quotas: scenario.quotas,
            vpcs: scenario
                .vpcs
                .into_iter()
                .map(|v| (v.id.clone(), v))
                .collect(),
            subnets: scenario
                .subnets
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect(),
            route_tables: BTreeMap::new(),
            instances: Vec::new(),
            instance_pos: HashMap::new(),
            instances_by_vpc: HashMap::new(),
            addresses: BTreeMap::new(),
            addresses_by_owner: HashMap::new(),
            nat_gateways: scenario
                .nat_gateways
                .into_iter()
                .map(|n| (n.id.clone(), n))
                .collect(),
            snat_rules: BTreeMap::new(),
            domains: scenario.domains.into_iter().map(|d| (d.id, d)).collect(),
            invocations: BTreeMap::new(),
            tasks: BTreeMap::new(),
            timers: Vec::new(),
            behaviour: Behaviour::default(),
            now: Duration::ZERO,
            daily_eip_applied: 0,
            daily_ip_assigned: 0,
            next_route_id: 1,
            client_tokens: HashMap::new(),
            next_task_id: 100_000,
            next_seq: 0,
            rng: StdRng::seed_from_u64(seed),
            view_cache: view_cache::ViewCache::default(),
        };
        world.next_route_id = scenario
            .route_tables
            .iter()
            .flat_map(|t| t.routes.iter().map(|r| r.id))
            .max()
            .unwrap_or(0)
            + 1;
        for mut table in scenario.route_tables {
            for route in &mut table.routes {
                world.fill_route_ids(route);
            }
            world.route_tables.insert(table.id.clone(), table);
        }
        for instance in scenario.instances {
            world.push_instance(instance);
        }
        for address in scenario.addresses {
            world.insert_address(address);
        }
        Ok(world)
    }

    /// The persistent part of the world, in scenario form (for `/_sim/state` and snapshots).
    pub fn to_scenario(&self) -> Scenario {
        Scenario {
            region: self.region.clone(),
            quotas: self.quotas.clone(),
            vpcs: self.vpcs.values().cloned().collect(),
            subnets: self.subnets.values().cloned().collect(),
            route_tables: self.route_tables.values().cloned().collect(),
            instances: self.instances.clone(),
            addresses: self.addresses.values().cloned().collect(),
            nat_gateways: self.nat_gateways.values().cloned().collect(),
            domains: self.domains.values().cloned().collect(),
        }
    }

    /// Adds an instance, as a CVM created after the scenario loaded (tests of drift create
    /// one with a public IP the way a console user would).
    pub fn push_instance(&mut self, instance: Instance) {
        let pos = self.instances.len();
        self.instance_pos.insert(instance.id.clone(), pos);
        self.instances_by_vpc
            .entry(instance.vpc_id.clone())
            .or_default()
            .push(pos);
        self.instances.push(instance);
    }

    /// Gives a route loaded from a file (or sent by a caller) its `RouteId`/`RouteItemId`.
    pub fn fill_route_ids(&mut self, route: &mut Route) {
        if route.id == 0 {
            route.id = self.next_route_id;
            self.next_route_id += 1;
        }
        if route.item_id.is_empty() {
            route.item_id = self.new_id("rti");
        }
    }

    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// Positions (into `instances()`) of the instances of one VPC, in load order.
    pub fn instance_positions_in_vpc(&self, vpc_id: &str) -> &[usize] {
        self.instances_by_vpc
            .get(vpc_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instance_pos.get(id).map(|&p| &self.instances[p])
    }

    /// Where an instance stands in `instances()`.
    pub fn instance_position(&self, id: &str) -> Option<usize> {
        self.instance_pos.get(id).copied()
    }

    pub fn instance_mut(&mut self, id: &str) -> Option<&mut Instance> {
        self.instance_pos.get(id).map(|&p| &mut self.instances[p])
    }

    pub fn vpc(&self, id: &str) -> SimResult<&Vpc> {
        self.vpcs
            .get(id)
            .ok_or_else(|| SimError::not_found("VPC", id))
    }

    /// Addresses bound to a CVM or NAT gateway id.
    pub fn addresses_of(&self, owner: &str) -> impl Iterator<Item = &Address> {
        self.addresses_by_owner
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|id| self.addresses.get(id))
    }

    pub fn insert_address(&mut self, address: Address) {
        if let Some(owner) = &address.instance_id {
            self.addresses_by_owner
                .entry(owner.clone())
                .or_default()
                .push(address.id.clone());
        }
        self.addresses.insert(address.id.clone(), address);
    }

    pub fn remove_address(&mut self, id: &str) -> Option<Address> {
        self.set_binding(id, None);
        self.addresses.remove(id)
    }

    /// Binds (`Some(owner)`) or unbinds an address, keeping the owner index in step.
    pub fn set_binding(&mut self, id: &str, owner: Option<&str>) {
        let Some(address) = self.addresses.get_mut(id) else {
            return;
        };
        if let Some(old) = address.instance_id.take()
            && let Some(list) = self.addresses_by_owner.get_mut(&old)
        {
            list.retain(|a| a != id);
        }
        if let Some(owner) = owner {
            address.instance_id = Some(owner.to_string());
            self.addresses_by_owner
                .entry(owner.to_string())
                .or_default()
                .push(id.to_string());
        }
    }

    /// The public IPs an instance answers on: its ordinary IP and any bound EIP.
    pub fn public_ips(&self, instance: &Instance) -> Vec<String> {
        let mut ips: Vec<String> = instance.public_ip.iter().cloned().collect();
        ips.extend(
            self.addresses_of(&instance.id)
                .filter(|a| matches!(a.status, AddressStatus::Bind | AddressStatus::Unbinding))
                .map(|a| a.ip.clone()),
        );
        ips
    }

    /// A fresh id such as `nat-3kd8x0qa` (8 lower-case letters/digits, as Tencent prints them).
    pub fn new_id(&mut self, prefix: &str) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let suffix: String = (0..8)
            .map(|_| CHARS[self.rng.random_range(0..CHARS.len())] as char)
            .collect();
        format!("{prefix}-{suffix}")
    }

    /// A fresh public IP not used by any EIP or instance.
    pub fn new_public_ip(&mut self) -> String {
        let used: HashSet<&str> = self
            .addresses
            .values()
            .map(|a| a.ip.as_str())
            .chain(self.instances.iter().filter_map(|i| i.public_ip.as_deref()))
            .collect();
        loop {
            let candidate = format!(
                "43.{}.{}.{}",
                self.rng.random_range(128..160),
                self.rng.random_range(0..256),
                self.rng.random_range(1..255)
            );
            if !used.contains(candidate.as_str()) {
                return candidate;
            }
        }
    }

    pub fn new_task_id(&mut self) -> u64 {
        self.next_task_id += 1;
        self.next_task_id
    }

    /// A value in `0..n` from the world's seeded generator (deterministic per seed).
    pub fn random_below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }

    /// Arms a timer `async_delay` after now.
    pub fn schedule(&mut self, kind: TimerKind) {
        self.next_seq += 1;
        self.timers.push(Timer {
            due: self.now + self.behaviour.async_delay,
            seq: self.next_seq,
            kind,
        });
    }

    /// Every EIP counted against TOTAL_EIP_QUOTA (existing plus those a pending NAT will get).
    pub fn eip_count(&self) -> u64 {
        let pending: u64 = self.nat_gateways.values().map(|n| n.pending_new_eips).sum();
        self.addresses.len() as u64 + pending
    }
}
