//! The Route step's breakdown, one section per route table of the VPC: the subnets it
//! governs, its current routes, the planned change (add, replace with the old route shown, or
//! the conflict that blocks it) and the instances whose egress flips the moment the route
//! exists — a route beats an instance's own public IP (reference §5.1), so protected hosts
//! are flagged with the two ways Tencent offers to keep their own egress.

use std::collections::BTreeSet;

use crate::wizard::{
    ids::NatGatewayId,
    observed::{Inventory, Route, RouteTable},
    plan::{Change, Plan},
    steps::route::{self, RouteDecision},
};

pub struct SubnetLine {
    pub id: String,
    pub cidr: String,
    pub zone: String,
    pub instances: usize,
}

pub struct RouteLine {
    pub destination: String,
    pub next_hop: String,
    pub route_type: String,
    pub enabled: bool,
    pub description: String,
    /// The `0.0.0.0/0` route: the one this step adds or replaces.
    pub is_default: bool,
}

pub struct FlipLine {
    pub instance_id: String,
    pub name: String,
    pub public_ip: String,
    pub protected: bool,
}

/// What the plan does to one route table.
pub enum TableChange {
    Create {
        nat_id: String,
    },
    Replace {
        nat_id: String,
        old: String,
    },
    Blocked {
        message: String,
        needs_consent: bool,
    },
    /// Its default route already leads to the run's NAT gateway.
    AlreadyRouted,
    /// No instance lives in its subnets: the step leaves it alone.
    Unused,
    /// No plan to compare with (the step is not open, nothing was confirmed yet).
    Unknown,
}

pub struct RouteTableView {
    pub id: String,
    pub name: String,
    pub main: bool,
    pub subnets: Vec<SubnetLine>,
    pub routes: Vec<RouteLine>,
    pub change: TableChange,
    pub flips: Vec<FlipLine>,
}

impl RouteTableView {
    pub fn protected_flips(&self) -> usize {
        self.flips.iter().filter(|f| f.protected).count()
    }
}

fn describe(r: &Route) -> String {
    format!("{} {}", r.gateway_type, r.gateway_id)
}

fn route_line(r: &Route) -> RouteLine {
    RouteLine {
        destination: r.destination.clone(),
        next_hop: describe(r),
        route_type: r.route_type.clone(),
        enabled: r.enabled,
        description: r.description.clone(),
        is_default: r.destination == "0.0.0.0/0",
    }
}

fn change_for(
    table: &RouteTable,
    nat: Option<&NatGatewayId>,
    plan: Option<&Plan>,
    flips: usize,
) -> TableChange {
    let Some(plan) = plan else {
        return if flips == 0 {
            TableChange::Unused
        } else {
            TableChange::Unknown
        };
    };
    for c in plan.changes() {
        match c {
            Change::CreateRoute {
                route_table_id,
                nat_id,
                ..
            } if *route_table_id == table.id => {
                return TableChange::Create {
                    nat_id: nat_id.to_string(),
                };
            }
            Change::ReplaceRoute {
                route_table_id,
                nat_id,
                old,
                ..
            } if *route_table_id == table.id => {
                return TableChange::Replace {
                    nat_id: nat_id.to_string(),
                    old: describe(old),
                };
            }
            _ => {}
        }
    }
    if let Some(c) = plan.conflicts.iter().find(|c| c.subject == table.id) {
        return TableChange::Blocked {
            message: c.message.clone(),
            needs_consent: c.needs_consent,
        };
    }
    // No change and no conflict for a table in use: the plan found it routed already; the same
    // decision the plan made says so.
    let decided = nat.map(|n| route::decide(table, n, route::Consent::No));
    match (flips, decided) {
        (0, _) => TableChange::Unused,
        (_, Some(RouteDecision::AlreadyRouted)) => TableChange::AlreadyRouted,
        _ => TableChange::Unknown,
    }
}

/// One view per route table, in the cloud's order. `plan` is the preview (or the confirmed
/// plan); `protected` the run's protected instances.
pub fn tables(
    inv: &Inventory,
    nat: Option<&NatGatewayId>,
    plan: Option<&Plan>,
    protected: &BTreeSet<String>,
) -> Vec<RouteTableView> {
    inv.route_tables
        .iter()
        .map(|t| {
            let subnets: Vec<SubnetLine> = inv
                .subnets
                .iter()
                .filter(|s| s.route_table_id == t.id)
                .map(|s| SubnetLine {
                    id: s.id.clone(),
                    cidr: s.cidr.clone(),
                    zone: s.zone.clone(),
                    instances: inv.instances.iter().filter(|i| i.subnet_id == s.id).count(),
                })
                .collect();
            let flips: Vec<FlipLine> = inv
                .instances
                .iter()
                .filter(|i| inv.table_of(i) == Some(t.id.as_str()))
                .map(|i| FlipLine {
                    instance_id: i.id.clone(),
                    name: i.name.clone(),
                    public_ip: inv
                        .eip_of(i)
                        .map(|a| a.ip.clone())
                        .or_else(|| i.public_ip.clone())
                        .unwrap_or_default(),
                    protected: protected.contains(&i.id),
                })
                .collect();
            RouteTableView {
                change: change_for(t, nat, plan, flips.len()),
                id: t.id.clone(),
                name: t.name.clone(),
                main: t.main,
                subnets,
                routes: t.routes.iter().map(route_line).collect(),
                flips,
            }
        })
        .collect()
}

impl TableChange {
    /// A class for the badge and a short machine-readable name for tests.
    pub fn kind(&self) -> &'static str {
        match self {
            TableChange::Create { .. } => "create",
            TableChange::Replace { .. } => "replace",
            TableChange::Blocked { .. } => "blocked",
            TableChange::AlreadyRouted => "routed",
            TableChange::Unused => "unused",
            TableChange::Unknown => "unknown",
        }
    }

    pub fn summary(&self) -> String {
        match self {
            TableChange::Create { nat_id } => format!("Add 0.0.0.0/0 → NAT {nat_id}"),
            TableChange::Replace { nat_id, old } => {
                format!("Replace 0.0.0.0/0 → {old} with 0.0.0.0/0 → NAT {nat_id}")
            }
            TableChange::Blocked { message, .. } => format!("Blocked: {message}"),
            TableChange::AlreadyRouted => "Already sends 0.0.0.0/0 to the NAT gateway".into(),
            TableChange::Unused => "No instance uses it: left alone".into(),
            TableChange::Unknown => "Preview the plan to see the change".into(),
        }
    }

    /// The route that a replacement removes (kept in the undo record for rollback).
    pub fn old_route(&self) -> Option<&str> {
        match self {
            TableChange::Replace { old, .. } => Some(old),
            _ => None,
        }
    }

    pub fn needs_consent(&self) -> bool {
        matches!(
            self,
            TableChange::Blocked {
                needs_consent: true,
                ..
            }
        )
    }
}
