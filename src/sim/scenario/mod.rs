//! Scenarios: the starting state of the simulated cloud. Built in (`tutorial`, `large`,
//! `conflict`) or loaded from a JSON/TOML file in the format `docs/scenario-format.md`
//! documents (the same format `natpilot snapshot` writes).

mod conflict;
pub(crate) mod large;
mod tutorial;
pub use tutorial::many_kept;

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::sim::world::net::{Cidr, parse_ip};
use crate::sim::world::types::*;

pub const DEFAULT_REGION: &str = "ap-guangzhou";

fn default_region() -> String {
    DEFAULT_REGION.to_string()
}

/// One region of one account: flat lists that reference each other by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub quotas: Quotas,
    #[serde(default)]
    pub vpcs: Vec<Vpc>,
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    #[serde(default)]
    pub route_tables: Vec<RouteTable>,
    #[serde(default)]
    pub instances: Vec<Instance>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub nat_gateways: Vec<NatGateway>,
    #[serde(default)]
    pub domains: Vec<Domain>,
}

/// Which scenario to start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioSource {
    Tutorial,
    /// `instances` CVMs spread over several subnets and route tables (≤ 50,000).
    Large {
        instances: usize,
    },
    Conflict,
    File(std::path::PathBuf),
    Inline(Box<Scenario>),
}

impl ScenarioSource {
    /// `tutorial`, `large`, `conflict`, or else a path to a `.json`/`.toml` file.
    pub fn parse(name: &str, instances: usize) -> ScenarioSource {
        match name {
            "tutorial" => ScenarioSource::Tutorial,
            "large" => ScenarioSource::Large { instances },
            "conflict" => ScenarioSource::Conflict,
            path => ScenarioSource::File(path.into()),
        }
    }

    pub fn load(&self) -> anyhow::Result<Scenario> {
        Ok(match self {
            ScenarioSource::Tutorial => tutorial::scenario(),
            ScenarioSource::Large { instances } => large::scenario(*instances)?,
            ScenarioSource::Conflict => conflict::scenario(),
            ScenarioSource::File(path) => Scenario::from_file(path)?,
            ScenarioSource::Inline(s) => (**s).clone(),
        })
    }
}

impl Scenario {
    /// Reads a scenario file; `.toml` files as TOML, everything else as JSON.
    pub fn from_file(path: &Path) -> anyhow::Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read scenario file {}", path.display()))?;
        let scenario: Scenario = if path.extension().is_some_and(|e| e == "toml") {
            toml::from_str(&text)
                .with_context(|| format!("{} is not a valid TOML scenario", path.display()))?
        } else {
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid JSON scenario", path.display()))?
        };
        scenario
            .validate()
            .map_err(|e| anyhow::anyhow!("scenario {}: {e}", path.display()))?;
        Ok(scenario)
    }

    /// Writes the scenario; `.toml` paths as TOML, everything else as pretty JSON.
    pub fn to_file(&self, path: &Path) -> anyhow::Result<()> {
        let text = if path.extension().is_some_and(|e| e == "toml") {
            toml::to_string_pretty(self)?
        } else {
            serde_json::to_string_pretty(self)? + "\n"
        };
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Checks ids are unique and every reference points at something that exists.
    pub fn validate(&self) -> Result<(), String> {
        let vpcs = unique("VPC", self.vpcs.iter().map(|v| v.id.as_str()))?;
        let tables = unique(
            "route table",
            self.route_tables.iter().map(|t| t.id.as_str()),
        )?;
        let subnets = unique("subnet", self.subnets.iter().map(|s| s.id.as_str()))?;
        let instances = unique("instance", self.instances.iter().map(|i| i.id.as_str()))?;
        let nats = unique(
            "NAT gateway",
            self.nat_gateways.iter().map(|n| n.id.as_str()),
        )?;
        unique("address", self.addresses.iter().map(|a| a.id.as_str()))?;
        for v in &self.vpcs {
            Cidr::parse(&v.cidr).ok_or(format!("VPC {}: bad cidr `{}`", v.id, v.cidr))?;
        }
        for t in &self.route_tables {
            refers(&vpcs, &t.vpc_id, || format!("route table {}", t.id))?;
            for r in &t.routes {
                Cidr::parse(&r.destination).ok_or(format!(
                    "route table {}: bad destination `{}`",
                    t.id, r.destination
                ))?;
            }
        }
        for s in &self.subnets {
            refers(&vpcs, &s.vpc_id, || format!("subnet {}", s.id))?;
            refers(&tables, &s.route_table_id, || format!("subnet {}", s.id))?;
            Cidr::parse(&s.cidr).ok_or(format!("subnet {}: bad cidr `{}`", s.id, s.cidr))?;
        }
        for i in &self.instances {
            refers(&vpcs, &i.vpc_id, || format!("instance {}", i.id))?;
            refers(&subnets, &i.subnet_id, || format!("instance {}", i.id))?;
            parse_ip(&i.private_ip).ok_or(format!("instance {}: bad private_ip", i.id))?;
        }
        for n in &self.nat_gateways {
            refers(&vpcs, &n.vpc_id, || format!("NAT gateway {}", n.id))?;
        }
        for a in &self.addresses {
            if let Some(owner) = &a.instance_id
                && !instances.contains(owner.as_str())
                && !nats.contains(owner.as_str())
            {
                return Err(format!("address {} is bound to unknown `{owner}`", a.id));
            }
        }
        Ok(())
    }
}

fn unique<'a>(what: &str, ids: impl Iterator<Item = &'a str>) -> Result<HashSet<&'a str>, String> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(format!("{what} id `{id}` appears twice"));
        }
    }
    Ok(seen)
}

fn refers(known: &HashSet<&str>, id: &str, who: impl Fn() -> String) -> Result<(), String> {
    if known.contains(id) {
        Ok(())
    } else {
        Err(format!("{} refers to unknown `{id}`", who()))
    }
}
