//! Step 3, Route egress: `0.0.0.0/0 → NAT` in the route tables of the subnets holding the
//! VPC's instances. An existing USER default route is replaced only with consent (old route kept
//! in the undo record). The preview counts, per route table, the instances whose egress flips
//! the moment the route exists — a route beats an instance's own public IP (reference §5.1) —
//! so the plan stays small however many instances the VPC holds.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};

use crate::wizard::ids::{GatewayType, NatGatewayId};
use crate::wizard::input::RouteInput;
use crate::wizard::observed::{Inventory, Route, RouteTable};
use crate::wizard::plan::{Change, Plan, TableFlips, Undo};

pub const DEFAULT_DESTINATION: &str = "0.0.0.0/0";

/// The label of the step's consent checkbox; the refusal that asks for it quotes it, so the
/// two always agree.
pub const CONSENT_LABEL: &str = "Replace existing 0.0.0.0/0 routes";

/// How many protected instances a warning names before it says "and N more".
const NAMED_IN_WARNING: usize = 5;

/// A route's next hop in words: `CVM 10.0.0.5`, followed by the instance or NAT gateway
/// it is when the inventory knows it (`ins-gateway1 egress-gateway (squid)`), so an operator
/// sees *what* a replaced route sent traffic to, not only an IP.
pub fn next_hop(inv: &Inventory, r: &Route) -> String {
    let hop = hop_words(r);
    let known = match r.gateway_type {
        GatewayType::NormalCvm | GatewayType::Cvm | GatewayType::Havip => inv
            .instances
            .iter()
            .find(|i| {
                i.private_ip.as_deref() == Some(r.gateway_id.as_str()) || i.id == r.gateway_id
            })
            .map(|i| format!("{} {}", i.id, i.name)),
        GatewayType::Nat => inv
            .nat_gateways
            .iter()
            .find(|n| n.id.as_str() == r.gateway_id)
            .map(|n| n.name.clone()),
        _ => None,
    };
    match known {
        Some(k) if !k.trim().is_empty() => format!("{hop} ({})", k.trim()),
        _ => hop,
    }
}

/// A next hop without the inventory: its kind in words and its id (`CVM 10.0.0.5`).
pub fn hop_words(r: &Route) -> String {
    format!("{} {}", r.gateway_type.words(), r.gateway_id)
}

/// Tencent's route type in words: USER routes are the ones a person added; NETD and CCN
/// routes are put there by the system and cannot be edited.
pub fn route_type_words(route_type: &str) -> String {
    match route_type {
        "USER" => "added by a user".into(),
        "NETD" => "system (network probe)".into(),
        "CCN" => "system (CCN)".into(),
        other => other.to_owned(),
    }
}

/// Route tables that govern at least one instance of the VPC, in id order.
pub fn tables_in_use(inv: &Inventory) -> Vec<String> {
    let by_subnet = table_by_subnet(inv);
    let set: BTreeSet<&str> = inv
        .instances
        .iter()
        .filter_map(|i| by_subnet.get(i.subnet_id.as_str()).copied())
        .collect();
    set.into_iter().map(str::to_owned).collect()
}

/// The route natpilot puts in a table: `0.0.0.0/0 → nat_id`, described.
pub fn nat_route(nat_id: &NatGatewayId, description: &str) -> Route {
    Route {
        route_id: 0,
        item_id: String::new(),
        destination: DEFAULT_DESTINATION.into(),
        gateway_type: GatewayType::Nat,
        gateway_id: nat_id.to_string(),
        route_type: "USER".into(),
        enabled: true,
        description: description.to_owned(),
    }
}

/// The description of a route natpilot creates or takes over: it names natpilot and the run,
/// so nobody reads an old description ("all egress through the squid gateway") on a route
/// that now points at the NAT gateway. Rollback restores the old one.
pub fn description(run_tag: &str, nat_id: &NatGatewayId) -> String {
    format!("natpilot run {run_tag}: egress through NAT gateway {nat_id}")
}

/// What the operator agreed to about a table's existing default route.
#[derive(Debug, Clone, Copy)]
pub enum Consent<'a> {
    /// Leave any existing default route alone.
    No,
    /// Replace whatever USER default route the table has (the step's checkbox, at plan time).
    AnyUserRoute,
    /// Replace exactly this route, the one the confirmed plan named (at apply time).
    Exactly(&'a Route),
}

/// What to do with one route table's `0.0.0.0/0`: the one decision plan, apply and the step
/// page all make, so the three can never disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteDecision<'t> {
    /// It already points at the NAT gateway (an earlier attempt got through).
    AlreadyRouted,
    /// No default route: create one.
    Create,
    /// Replace this USER route (with consent; the old one is kept for rollback).
    Replace(&'t Route),
    /// A system (NETD/CCN) route that cannot be changed.
    System(&'t Route),
    /// A USER route the operator has not agreed to replace.
    NeedsConsent(&'t Route),
}

pub fn decide<'t>(
    table: &'t RouteTable,
    nat_id: &NatGatewayId,
    consent: Consent<'_>,
) -> RouteDecision<'t> {
    let Some(current) = table.default_route() else {
        return RouteDecision::Create;
    };
    if current.points_at(nat_id) {
        return RouteDecision::AlreadyRouted;
    }
    if current.route_type != "USER" {
        return RouteDecision::System(current);
    }
    match consent {
        Consent::AnyUserRoute => RouteDecision::Replace(current),
        Consent::Exactly(old) if old.route_id == current.route_id => {
            RouteDecision::Replace(current)
        }
        Consent::No | Consent::Exactly(_) => RouteDecision::NeedsConsent(current),
    }
}

pub fn plan(
    inv: &Inventory,
    gws: &crate::wizard::steps::gateways::Gateways,
    run_tag: &str,
    protected: &BTreeSet<String>,
    input: &RouteInput,
) -> Plan {
    let mut plan = Plan::default();
    let tables = tables_in_use(inv);
    let consent = if input.replace_existing_default {
        Consent::AnyUserRoute
    } else {
        Consent::No
    };
    for table_id in &tables {
        let nat_id = gws.of(table_id);
        let description = description(run_tag, nat_id);
        let Some(table) = inv.route_table(table_id) else {
            plan.conflict(
                table_id,
                format!("route table {table_id} was not found; refresh and try again"),
                false,
            );
            continue;
        };
        let (route_table_id, nat_id) = (table_id.clone(), nat_id.clone());
        match decide(table, &nat_id, consent) {
            RouteDecision::Create => plan.push(
                Change::CreateRoute {
                    route_table_id: route_table_id.clone(),
                    nat_id: nat_id.clone(),
                    description: description.clone(),
                },
                Undo::DeleteRoute {
                    route_table_id,
                    nat_id,
                },
            ),
            RouteDecision::AlreadyRouted => {}
            RouteDecision::System(r) => plan.conflict(
                table_id,
                format!(
                    "{table_id} has a system ({}) 0.0.0.0/0 route to {} that cannot be changed",
                    r.route_type,
                    hop_words(r)
                ),
                false,
            ),
            RouteDecision::Replace(r) => plan.push(
                Change::ReplaceRoute {
                    route_table_id: route_table_id.clone(),
                    nat_id,
                    old: r.clone(),
                    description: description.clone(),
                },
                Undo::RestoreRoute {
                    route_table_id,
                    old: r.clone(),
                },
            ),
            RouteDecision::NeedsConsent(r) => {
                plan.conflict(table_id, needs_consent_message(inv, table, r), true)
            }
        }
    }
    plan.flip_tables = flip_tables(inv, &tables, protected);
    if let Some(warning) = protected_warning(inv, &tables, protected) {
        plan.warnings.push(warning);
    }
    plan
}

/// The refusal for a USER default route the operator has not agreed to replace: what the
/// route does now, and the checkbox (by its label) that replaces it.
fn needs_consent_message(inv: &Inventory, table: &RouteTable, r: &Route) -> String {
    format!(
        "Route table {} ({}) already sends all outbound traffic to {}. Tick “{CONSENT_LABEL}” to \
         replace the route to {}; the old route is recorded and rollback restores it.",
        table.id,
        table.name,
        next_hop(inv, r),
        hop_words(r)
    )
}

/// Subnet id → route table id, built once (an instance's table without a scan per instance).
pub fn table_by_subnet(inv: &Inventory) -> HashMap<&str, &str> {
    inv.subnets
        .iter()
        .map(|s| (s.id.as_str(), s.route_table_id.as_str()))
        .collect()
}

/// Ids of the instances that have an EIP bound, built once.
pub fn with_eip(inv: &Inventory) -> HashSet<&str> {
    inv.addresses
        .iter()
        .filter(|a| a.kind == crate::wizard::observed::AddressKind::Eip)
        .filter_map(|a| a.instance_id.as_deref())
        .collect()
}

/// Per route table in `tables`, the instances whose egress flips: counted in one pass.
fn flip_tables(
    inv: &Inventory,
    tables: &[String],
    protected: &BTreeSet<String>,
) -> Vec<TableFlips> {
    let by_subnet = table_by_subnet(inv);
    let eips = with_eip(inv);
    let mut members: BTreeMap<&str, Vec<(&str, bool, bool)>> =
        tables.iter().map(|t| (t.as_str(), Vec::new())).collect();
    for i in &inv.instances {
        let Some(list) = by_subnet
            .get(i.subnet_id.as_str())
            .and_then(|t| members.get_mut(t))
        else {
            continue;
        };
        let public = i.public_ip.is_some() || eips.contains(i.id.as_str());
        list.push((i.id.as_str(), public, protected.contains(&i.id)));
    }
    members
        .into_iter()
        .map(|(table, mut list)| {
            list.sort_unstable();
            let mut hash = Sha256::new();
            for (id, _, guarded) in &list {
                hash.update(id.as_bytes());
                hash.update(if *guarded { b"+\n" } else { b"-\n" });
            }
            TableFlips {
                route_table_id: table.to_owned(),
                instances: list.len() as u64,
                with_public_ip: list.iter().filter(|m| m.1).count() as u64,
                protected: list.iter().filter(|m| m.2).count() as u64,
                members: hex::encode(hash.finalize()),
            }
        })
        .collect()
}

/// The warning for protected instances whose egress flips, naming a few of them.
fn protected_warning(
    inv: &Inventory,
    tables: &[String],
    protected: &BTreeSet<String>,
) -> Option<String> {
    let by_subnet = table_by_subnet(inv);
    let tables: HashSet<&str> = tables.iter().map(String::as_str).collect();
    let guarded: Vec<&str> = inv
        .instances
        .iter()
        .filter(|i| protected.contains(&i.id))
        .filter(|i| {
            by_subnet
                .get(i.subnet_id.as_str())
                .is_some_and(|t| tables.contains(t))
        })
        .map(|i| i.id.as_str())
        .collect();
    if guarded.is_empty() {
        return None;
    }
    let mut named = guarded[..guarded.len().min(NAMED_IN_WARNING)].join(", ");
    if guarded.len() > NAMED_IN_WARNING {
        named.push_str(&format!(" and {} more", guarded.len() - NAMED_IN_WARNING));
    }
    Some(format!(
        "Protected instance(s) {named} will send outbound traffic through the NAT too (the route \
         beats their own public IP; inbound is unaffected). To keep their own egress IP, move them \
         to their own subnet with its own route table before this step, or add an EIP-type \
         0.0.0.0/0 route — which applies to every instance of that route table"
    ))
}
