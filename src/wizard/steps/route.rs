//! Step 3, Route egress: `0.0.0.0/0 → NAT` in the route tables of the subnets holding the
//! VPC's instances. An existing USER default route is replaced only with consent (old route kept
//! in the undo record). The preview lists every instance whose egress flips the moment the
//! route exists — a route beats an instance's own public IP (reference §5.1).

use std::collections::{BTreeMap, BTreeSet};

use crate::wizard::input::RouteInput;
use crate::wizard::observed::Inventory;
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

pub fn plan(
    inv: &Inventory,
    nat_id: &str,
    protected: &BTreeSet<String>,
    input: &RouteInput,
) -> Plan {
    let mut plan = Plan::default();
    let tables = tables_in_use(inv);
    for table_id in &tables {
        let Some(table) = inv.route_table(table_id) else {
            plan.conflict(
                table_id,
                format!("route table {table_id} was not found; refresh and try again"),
                false,
            );
            continue;
        };
        match table.default_route() {
            None => plan.push(
                Change::CreateRoute { route_table_id: table_id.clone(), nat_id: nat_id.to_owned() },
                Undo::DeleteRoute { route_table_id: table_id.clone(), nat_id: nat_id.to_owned() },
            ),
            // Reconcile: already pointing at our gateway (an earlier attempt got through).
            Some(r) if r.gateway_type == "NAT" && r.gateway_id == nat_id => {}
            Some(r) if r.route_type != "USER" => plan.conflict(
                table_id,
                format!(
                    "{table_id} has a system ({}) 0.0.0.0/0 route to {} {} that cannot be changed",
                    r.route_type, r.gateway_type, r.gateway_id
                ),
                false,
            ),
            Some(r) if input.replace_existing_default => plan.push(
                Change::ReplaceRoute { route_table_id: table_id.clone(), nat_id: nat_id.to_owned(), old: r.clone() },
                Undo::RestoreRoute { route_table_id: table_id.clone(), old: r.clone() },
            ),
            Some(r) => plan.conflict(
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
