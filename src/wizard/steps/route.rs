//! Step 3, Route egress: `0.0.0.0/0 → NAT` in the route tables of the subnets holding the
//! VPC's instances. An existing USER default route is replaced only with consent (old route kept
//! in the undo record). The preview lists every instance whose egress flips the moment the
//! route exists — a route beats an instance's own public IP (reference §5.1).

use std::collections::{BTreeMap, BTreeSet};

use crate::wizard::ids::{GatewayType, NatGatewayId};
use crate::wizard::input::RouteInput;
use crate::wizard::observed::{Inventory, Route, RouteTable};
use crate::wizard::plan::{Change, EgressFlip, Plan, Undo};

pub const DEFAULT_DESTINATION: &str = "0.0.0.0/0";

/// Route tables that govern at least one instance of the VPC, in id order.
pub fn tables_in_use(inv: &Inventory) -> Vec<String> {
    let set: BTreeSet<String> = inv
        .instances
        .iter()
        .filter_map(|i| inv.table_of(i))
        .map(str::to_owned)
        .collect();
    set.into_iter().collect()
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
    nat_id: &NatGatewayId,
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
    let description = description(run_tag, nat_id);
    for table_id in &tables {
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
                Undo::DeleteRoute { route_table_id, nat_id },
            ),
            RouteDecision::AlreadyRouted => {}
            RouteDecision::System(r) => plan.conflict(
                table_id,
                format!(
                    "{table_id} has a system ({}) 0.0.0.0/0 route to {} {} that cannot be changed",
                    r.route_type, r.gateway_type, r.gateway_id
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
                Undo::RestoreRoute { route_table_id, old: r.clone() },
            ),
            RouteDecision::NeedsConsent(r) => plan.conflict(
                table_id,
                format!(
                    "{table_id} already sends 0.0.0.0/0 to {} {}; tick \"replace existing default route\" \
                     to replace it (the old route is kept so rollback can restore it)",
                    r.gateway_type, r.gateway_id
                ),
                true,
            ),
        }
    }
    plan.flips = flips(inv, &tables, protected);
    let guarded: Vec<&str> = plan
        .flips
        .iter()
        .filter(|f| f.protected)
        .map(|f| f.instance_id.as_str())
        .collect();
    if !guarded.is_empty() {
        plan.warnings.push(format!(
            "protected instance(s) {} will send outbound traffic through the NAT too (the route beats \
             their own public IP; inbound is unaffected). To keep their own egress IP, move them to \
             their own subnet with its own route table before this step, or add an EIP-type \
             0.0.0.0/0 route — which applies to every instance of that route table",
            guarded.join(", ")
        ));
    }
    plan
}

fn flips(inv: &Inventory, tables: &[String], protected: &BTreeSet<String>) -> Vec<EgressFlip> {
    let tables: BTreeMap<&str, ()> = tables.iter().map(|t| (t.as_str(), ())).collect();
    inv.instances
        .iter()
        .filter_map(|i| {
            let table = inv.table_of(i)?;
            tables.contains_key(table).then(|| EgressFlip {
                instance_id: i.id.clone(),
                name: i.name.clone(),
                route_table_id: table.to_owned(),
                current_public_ip: inv
                    .eip_of(i)
                    .map(|a| a.ip.clone())
                    .or_else(|| i.public_ip.clone()),
                protected: protected.contains(&i.id),
            })
        })
        .collect()
}
