//! The Route step's breakdown, one section per route table of the VPC: its counts (subnets,
//! instances, whose egress flips, protected among them), the subnets it governs, its current
//! routes with next hops named, and the planned change (add, replace with the old route shown,
//! or the conflict that blocks it). A route beats an instance's own public IP (reference §5.1),
//! so every instance of a routed table flips at once; the page shows a few of them (protected
//! first) and links to the paginated list ([`super::route_flips`]) — it never inlines them all.

use std::collections::{BTreeSet, HashMap};

use crate::wizard::{
    observed::{Instance, Inventory, Route, RouteTable},
    plan::{Change, Plan},
    steps::{
        gateways::Gateways,
        route::{self, RouteDecision},
    },
};

/// How many instances a route table's section names before linking to the full list.
pub const SAMPLE: usize = 10;

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetLine {
    pub id: String,
    pub cidr: String,
    pub zone: String,
    pub instances: usize,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteLine {
    pub destination: String,
    /// `NORMAL_CVM 10.0.0.5 (ins-gateway1 egress-gateway (squid))`: [`route::next_hop`].
    pub next_hop: String,
    pub route_type: String,
    pub enabled: bool,
    pub description: String,
    /// The `0.0.0.0/0` route: the one this step adds or replaces.
    pub is_default: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlipLine {
    pub instance_id: String,
    pub name: String,
    pub public_ip: String,
    pub protected: bool,
}

/// What the plan does to one route table.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub enum TableChange {
    Create {
        nat_id: String,
    },
    Replace {
        nat_id: String,
        /// The old route's next hop in words.
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

/// Instances behind one route table, counted.
#[derive(Default, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub instances: usize,
    pub with_public_ip: usize,
    pub protected: usize,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTableView {
    pub id: String,
    pub name: String,
    pub main: bool,
    pub subnets: Vec<SubnetLine>,
    pub routes: Vec<RouteLine>,
    pub change: TableChange,
    pub counts: Counts,
    /// At most [`SAMPLE`] of its instances, protected ones first.
    pub flips: Vec<FlipLine>,
}

impl RouteTableView {
    pub fn protected_flips(&self) -> usize {
        self.counts.protected
    }

    /// Whether the sample leaves instances out (the full list is a link away).
    pub fn more_flips(&self) -> bool {
        self.counts.instances > self.flips.len()
    }

    /// The link to all of its instances, page by page (`show` empty for all), encoded.
    pub fn flips_href(&self, run: &str, show: &str) -> String {
        let mut pairs = vec![("table", self.id.as_str())];
        if !show.is_empty() {
            pairs.push(("show", show));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("/runs/{run}/flips?{query}")
    }

    /// Whether confirming the plan changes this table's egress (so its instances flip).
    pub fn flips_now(&self) -> bool {
        matches!(
            self.change,
            TableChange::Create { .. } | TableChange::Replace { .. } | TableChange::Blocked { .. }
        )
    }
}

/// The whole step at a glance, above the tables: what confirming changes now, and what waits
/// for a decision (a route that is replaced only with consent).
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSummary {
    pub tables_changed: usize,
    pub flips: usize,
    pub with_public_ip: usize,
    pub protected: usize,
    pub tables_blocked: usize,
    /// Instances behind the blocked tables: their egress flips once the block is resolved.
    pub blocked_instances: usize,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteStepView {
    pub tables: Vec<RouteTableView>,
    pub summary: RouteSummary,
}

impl RouteStepView {
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Whether the consent to replace existing default routes decides anything: some table
    /// has a default route of its own that is replaced (consent given) or waits for it, or
    /// the plan is not known yet. Without one the checkbox would only puzzle.
    pub fn consent_matters(&self) -> bool {
        self.tables.is_empty()
            || self.tables.iter().any(|t| {
                matches!(t.change, TableChange::Replace { .. } | TableChange::Unknown)
                    || t.change.needs_consent()
            })
    }
}

fn route_line(inv: &Inventory, r: &Route) -> RouteLine {
    RouteLine {
        destination: r.destination.clone(),
        next_hop: route::next_hop(inv, r),
        route_type: route::route_type_words(&r.route_type),
        enabled: r.enabled,
        description: r.description.clone(),
        is_default: r.destination == route::DEFAULT_DESTINATION,
    }
}

fn change_for(
    inv: &Inventory,
    table: &RouteTable,
    gateways: Option<&Gateways>,
    plan: Option<&Plan>,
    instances: usize,
) -> TableChange {
    let Some(plan) = plan else {
        return if instances == 0 {
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
                    old: route::next_hop(inv, old),
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
    // Against the table's own gateway: a table step 2 gave a further gateway is routed when
    // it points there, not at the first one.
    let decided = gateways.map(|g| route::decide(table, g.of(&table.id), route::Consent::No));
    match (instances, decided) {
        (0, _) => TableChange::Unused,
        (_, Some(RouteDecision::AlreadyRouted)) => TableChange::AlreadyRouted,
        _ => TableChange::Unknown,
    }
}

/// The instances of each route table, grouped in one pass over the inventory.
fn by_table(inv: &Inventory) -> HashMap<&str, Vec<&Instance>> {
    let tables = route::table_by_subnet(inv);
    let mut grouped: HashMap<&str, Vec<&Instance>> = HashMap::new();
    for i in &inv.instances {
        if let Some(t) = tables.get(i.subnet_id.as_str()) {
            grouped.entry(t).or_default().push(i);
        }
    }
    grouped
}

/// One view per route table, in the cloud's order. `plan` is the preview (or the confirmed
/// plan); `protected` the run's protected instances. Linear in the instances.
pub fn tables(
    inv: &Inventory,
    gateways: Option<&Gateways>,
    plan: Option<&Plan>,
    protected: &BTreeSet<String>,
) -> RouteStepView {
    let grouped = by_table(inv);
    let mut per_subnet: HashMap<&str, usize> = HashMap::new();
    for i in &inv.instances {
        *per_subnet.entry(i.subnet_id.as_str()).or_default() += 1;
    }
    let eips: HashMap<&str, &str> = inv
        .addresses
        .iter()
        .filter(|a| a.kind == crate::wizard::observed::AddressKind::Eip)
        .filter_map(|a| Some((a.instance_id.as_deref()?, a.ip.as_str())))
        .collect();
    let public_ip = |i: &Instance| {
        eips.get(i.id.as_str())
            .map(|ip| (*ip).to_owned())
            .or_else(|| i.public_ip.clone())
    };
    let tables: Vec<RouteTableView> = inv
        .route_tables
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
                    instances: per_subnet.get(s.id.as_str()).copied().unwrap_or(0),
                })
                .collect();
            let members = grouped.get(t.id.as_str()).map_or(&[][..], Vec::as_slice);
            let counts = Counts {
                instances: members.len(),
                with_public_ip: members.iter().filter(|i| public_ip(i).is_some()).count(),
                protected: members.iter().filter(|i| protected.contains(&i.id)).count(),
            };
            let mut sample: Vec<&Instance> = members.to_vec();
            sample.sort_unstable_by_key(|i| (!protected.contains(&i.id), i.id.as_str()));
            sample.truncate(SAMPLE);
            RouteTableView {
                change: change_for(inv, t, gateways, plan, counts.instances),
                id: t.id.clone(),
                name: t.name.clone(),
                main: t.main,
                subnets,
                routes: t.routes.iter().map(|r| route_line(inv, r)).collect(),
                counts,
                flips: sample
                    .into_iter()
                    .map(|i| FlipLine {
                        instance_id: i.id.clone(),
                        name: i.name.clone(),
                        public_ip: public_ip(i).unwrap_or_default(),
                        protected: protected.contains(&i.id),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut summary = RouteSummary::default();
    for t in tables.iter().filter(|t| t.flips_now()) {
        if t.change.kind() == "blocked" {
            summary.tables_blocked += 1;
            summary.blocked_instances += t.counts.instances;
            continue;
        }
        summary.tables_changed += 1;
        summary.flips += t.counts.instances;
        summary.with_public_ip += t.counts.with_public_ip;
        summary.protected += t.counts.protected;
    }
    RouteStepView { tables, summary }
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
            // The refusal itself is said once, in the plan's blockers; here only where it is.
            TableChange::Blocked {
                needs_consent: true,
                ..
            } => "Its 0.0.0.0/0 route goes elsewhere; it is replaced only with your consent".into(),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::wizard::ids::{GatewayType, NatGatewayId};
    use crate::wizard::observed::{Instance, InstanceState, Subnet};

    /// Route table `rtb-<n>` with subnet `subnet-<n>`, one instance, and `0.0.0.0/0 → nat`.
    fn routed(inv: &mut Inventory, n: u32, nat: &str) {
        inv.route_tables.push(RouteTable {
            id: format!("rtb-{n}"),
            name: format!("table {n}"),
            main: n == 1,
            routes: vec![Route {
                route_id: n.into(),
                item_id: format!("rti-{n}"),
                destination: route::DEFAULT_DESTINATION.into(),
                gateway_type: GatewayType::Nat,
                gateway_id: nat.into(),
                route_type: "USER".into(),
                enabled: true,
                description: String::new(),
            }],
        });
        inv.subnets.push(Subnet {
            id: format!("subnet-{n}"),
            route_table_id: format!("rtb-{n}"),
            zone: "ap-guangzhou-3".into(),
            cidr: format!("10.0.{n}.0/24"),
        });
        inv.instances.push(Instance {
            id: format!("ins-{n}"),
            name: format!("node-{n}"),
            subnet_id: format!("subnet-{n}"),
            state: InstanceState::Running,
            private_ip: Some(format!("10.0.{n}.2")),
            public_ip: None,
            tags: vec![],
            agent_online: true,
        });
    }

    #[test]
    fn a_table_routed_to_its_further_gateway_reads_as_routed() {
        let mut inv = Inventory::default();
        routed(&mut inv, 1, "nat-first");
        routed(&mut inv, 2, "nat-second");
        let first = NatGatewayId::parse("nat-first").unwrap();
        let gateways = Gateways {
            first: first.clone(),
            by_table: BTreeMap::from([(
                "rtb-2".to_owned(),
                NatGatewayId::parse("nat-second").unwrap(),
            )]),
            missing: vec![],
        };
        // A plan with no change: both tables were routed by an earlier attempt.
        let plan = Plan::default();
        let kinds = |g: &Gateways| -> Vec<&'static str> {
            tables(&inv, Some(g), Some(&plan), &BTreeSet::new())
                .tables
                .iter()
                .map(|t| t.change.kind())
                .collect()
        };
        assert_eq!(kinds(&gateways), ["routed", "routed"]);
        // Against the first gateway alone the second table is not routed (what the page said
        // before it looked at each table's own gateway).
        assert_eq!(kinds(&Gateways::single(first)), ["routed", "unknown"]);
    }
}
