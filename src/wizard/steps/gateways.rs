//! Issue 12: more than one NAT gateway when one cannot hold every kept egress IP.
//!
//! A gateway holds at most 10 EIPs, at least one of them its own, and 200 SNAT rules; a VPC
//! holds at most 3 gateways (addendum 2 §2.7, reference §4.9). A route table sends
//! `0.0.0.0/0` to exactly one gateway, and an SNAT rule only applies to traffic that reaches
//! its gateway, so the unit that is placed on a gateway is a route table — or several, when
//! one kept IP (a shared egress IP) serves subnets of several tables. [`assign`] places them;
//! step 2 creates the gateways, step 3 routes each table to its own.
//!
//! The run's first gateway (created or adopted as before) carries every table unless it
//! cannot; only then are further gateways planned. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use crate::wizard::ids::NatGatewayId;
use crate::wizard::observed::{Instance, Inventory, NatGateway};
use crate::wizard::steps::keep::{MAX_EIPS_PER_NAT, MAX_SNAT_RULES_PER_NAT};
use crate::wizard::steps::provision::NATS_PER_VPC;

/// New EIPs a further gateway gets of its own: one, the least a gateway keeps (every EIP more
/// is one kept IP less it can carry).
pub const EXTRA_OWN_EIPS: u32 = 1;

/// The `natpilot:run` tag value of the run's gateway number `n` (2 or 3): distinct from the
/// first gateway's, so everything that finds "the run's gateway" by its tag keeps finding the
/// first one, and each further gateway is found again by its own (no duplicate on a resume).
pub fn extra_tag(run_tag: &str, n: u32) -> String {
    format!("{run_tag}-nat{n}")
}

/// Whether a gateway was created by the run tagged `run_tag` (its first or a further one).
pub fn is_runs(n: &NatGateway, run_tag: &str) -> bool {
    n.run_tag().is_some_and(|t| {
        t == run_tag
            || t.strip_prefix(run_tag)
                .and_then(|rest| rest.strip_prefix("-nat"))
                .is_some_and(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_digit()))
    })
}

/// What a group of route tables needs on the gateway that carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    /// Route tables that must share one gateway (in id order).
    pub tables: Vec<String>,
    /// Kept EIPs moved onto the gateway for them.
    pub eips: usize,
    /// SNAT rules made on the gateway for them (keeping rules and pinning rules).
    pub rules: usize,
}

/// How much room the run has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// EIPs of the run's first gateway's own (created with, or found on an adopted one).
    pub first_own_eips: usize,
    /// SNAT rules already on the first gateway that this run did not make.
    pub first_rules_taken: usize,
    /// Gateways of the VPC that are not this run's (an adopted first gateway excluded).
    pub others: Vec<String>,
    pub vpc_id: String,
}

impl Room {
    /// How many gateways the run may use, its first included.
    pub fn usable(&self) -> usize {
        NATS_PER_VPC.saturating_sub(self.others.len()).max(1)
    }

    fn kept_room(&self, gateway: usize) -> usize {
        let own = if gateway == 0 {
            self.first_own_eips.max(1)
        } else {
            EXTRA_OWN_EIPS as usize
        };
        MAX_EIPS_PER_NAT.saturating_sub(own)
    }

    fn rule_room(&self, gateway: usize) -> usize {
        let taken = if gateway == 0 {
            self.first_rules_taken
        } else {
            0
        };
        MAX_SNAT_RULES_PER_NAT.saturating_sub(taken)
    }
}

/// The route tables of each gateway, the run's first gateway first; one entry when one
/// gateway suffices (then it carries every table, as it always did). `Err`: a blocker that
/// says in numbers why even the gateways the VPC still allows are not enough.
pub fn assign(demands: &[Demand], room: &Room) -> Result<Vec<Vec<String>>, String> {
    let all: Vec<String> = demands
        .iter()
        .flat_map(|d| d.tables.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (eips, rules) = totals(demands);
    if eips <= room.kept_room(0) && rules <= room.rule_room(0) {
        return Ok(vec![all]);
    }
    let usable = room.usable();
    // First fit, biggest first: few gateways, and the first one fullest. The first gateway
    // is there already (step 2 creates or adopts it either way).
    let mut order: Vec<&Demand> = demands.iter().collect();
    order.sort_by(|a, b| (b.eips, b.rules, &a.tables).cmp(&(a.eips, a.rules, &b.tables)));
    let mut used: Vec<(usize, usize, Vec<String>)> = vec![(0, 0, Vec::new())];
    for d in order {
        let fits = |g: usize, (e, r): (usize, usize)| {
            e + d.eips <= room.kept_room(g) && r + d.rules <= room.rule_room(g)
        };
        let g = match used
            .iter()
            .enumerate()
            .position(|(g, u)| fits(g, (u.0, u.1)))
        {
            Some(g) => g,
            None if fits(used.len(), (0, 0)) => {
                used.push((0, 0, Vec::new()));
                used.len() - 1
            }
            None => return Err(too_big(d)),
        };
        used[g].0 += d.eips;
        used[g].1 += d.rules;
        used[g].2.extend(d.tables.iter().cloned());
    }
    if used.len() > usable {
        return Err(blocker(eips, rules, used.len(), room));
    }
    Ok(used
        .into_iter()
        .map(|(_, _, mut t)| {
            t.sort();
            t
        })
        .collect())
}

/// One group that no gateway can carry alone.
fn too_big(d: &Demand) -> String {
    format!(
        "route table(s) {} keep {} egress IPs with {} SNAT rules, and they must share one NAT gateway (a route table sends 0.0.0.0/0 to one gateway), which holds at most {MAX_EIPS_PER_NAT} EIPs, at least one of its own, and {MAX_SNAT_RULES_PER_NAT} SNAT rules: keep fewer egress IPs there, or move some of those subnets to a route table of their own",
        d.tables.join(", "),
        d.eips,
        d.rules
    )
}

fn totals(demands: &[Demand]) -> (usize, usize) {
    demands
        .iter()
        .fold((0, 0), |(e, r), d| (e + d.eips, r + d.rules))
}

fn blocker(eips: usize, rules: usize, needed: usize, room: &Room) -> String {
    let usable = room.usable();
    let others = if room.others.is_empty() {
        String::new()
    } else {
        format!(
            " and {} of them exist already ({})",
            room.others.len(),
            room.others.join(", ")
        )
    };
    format!(
        "keeping {eips} egress IPs ({rules} SNAT rules) needs {needed} NAT gateways: a gateway holds at most {MAX_EIPS_PER_NAT} EIPs (at least one of its own: the first {} of its own, each further one {EXTRA_OWN_EIPS}) and {MAX_SNAT_RULES_PER_NAT} SNAT rules, and VPC {} may have {NATS_PER_VPC} NAT gateways{others}, so this run can use {usable}: keep fewer egress IPs, give the first gateway fewer EIPs of its own, or delete unused NAT gateways of the VPC",
        room.first_own_eips, room.vpc_id
    )
}

/// The gateway each route table of the run sends `0.0.0.0/0` to: the run's first gateway,
/// unless step 2 gave the table a further one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateways {
    pub first: NatGatewayId,
    pub by_table: BTreeMap<String, NatGatewayId>,
    /// Further gateways step 2 planned that are not in the VPC (`natpilot:run` tag, tables).
    pub missing: Vec<(String, Vec<String>)>,
}

impl Gateways {
    /// One gateway for every table: the run as it was before there could be more.
    pub fn single(first: NatGatewayId) -> Gateways {
        Gateways {
            first,
            by_table: BTreeMap::new(),
            missing: Vec::new(),
        }
    }

    /// The first gateway plus the further ones step 2 planned (`(tag, tables)`), found in
    /// `inv` by their tag (a live one; a failed one carries nothing).
    pub fn resolve(first: NatGatewayId, extras: &[(String, Vec<String>)], inv: &Inventory) -> Self {
        let mut out = Gateways::single(first);
        for (tag, tables) in extras {
            match inv
                .nat_gateways
                .iter()
                .find(|n| n.run_tag() == Some(tag.as_str()) && !n.state.is_dead())
            {
                Some(n) => {
                    for t in tables {
                        out.by_table.insert(t.clone(), n.id.clone());
                    }
                }
                None => out.missing.push((tag.clone(), tables.clone())),
            }
        }
        out
    }

    pub fn of(&self, table: &str) -> &NatGatewayId {
        self.by_table.get(table).unwrap_or(&self.first)
    }

    /// The gateway of an instance (of its route table).
    pub fn of_instance(&self, inv: &Inventory, i: &Instance) -> &NatGatewayId {
        inv.table_of(i).map_or(&self.first, |t| self.of(t))
    }

    /// Every gateway, the first first.
    pub fn ids(&self) -> Vec<&NatGatewayId> {
        let mut out = vec![&self.first];
        for id in self.by_table.values() {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    pub fn is_single(&self) -> bool {
        self.ids().len() == 1
    }

    /// Route tables whose `0.0.0.0/0` points at their own gateway.
    pub fn routed_tables(&self, inv: &Inventory) -> BTreeSet<String> {
        inv.route_tables
            .iter()
            .filter(|t| {
                t.default_route()
                    .is_some_and(|r| r.points_at(self.of(&t.id)))
            })
            .map(|t| t.id.clone())
            .collect()
    }

    /// EIPs of each gateway as seen in `inv`.
    pub fn eips(&self, inv: &Inventory) -> BTreeMap<NatGatewayId, BTreeSet<String>> {
        self.ids()
            .into_iter()
            .map(|id| {
                let ips = inv
                    .nat(id)
                    .map(|n| n.eip_ips().map(str::to_owned).collect())
                    .unwrap_or_default();
                (id.clone(), ips)
            })
            .collect()
    }

    /// The message for further gateways that are not there any more.
    pub fn missing_message(&self) -> Option<String> {
        (!self.missing.is_empty()).then(|| {
            let list: Vec<String> = self
                .missing
                .iter()
                .map(|(tag, tables)| {
                    format!(
                        "the gateway tagged natpilot:run={tag} (for route table(s) {})",
                        tables.join(", ")
                    )
                })
                .collect();
            format!(
                "step 2 created {}, and it is not in the VPC (or has failed); retry step 2 or roll back",
                list.join(" and ")
            )
        })
    }
}

/// Tests name the one gateway by its id.
#[cfg(test)]
impl From<&str> for Gateways {
    fn from(id: &str) -> Gateways {
        Gateways::single(id.into())
    }
}

#[cfg(test)]
#[path = "gateways_tests.rs"]
mod tests;
