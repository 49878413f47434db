//! What must hold in the cloud and the ledger after any number of `kill -9`s: one NAT gateway,
//! no route twice in a table, no EIP left allocated that nobody knows of, and a ledger row for
//! every mutating call the cloud executed.

use std::collections::{BTreeSet, HashMap};

use natpilot::store::{self, RunId};
use sqlx::AnyPool;

use super::portal::{World, ledger};

/// The ids of the EIPs in the world now (taken before the run: the scenario's own).
pub fn eip_ids(world: &World) -> BTreeSet<String> {
    world
        .sim
        .handle()
        .with_world(|w| w.addresses.keys().cloned().collect())
}

/// How many records each public IP has (an EIP, or an instance's ordinary public IP): after a
/// conversion or a rollback every IP the VPC had must still be there, once.
pub fn records_per_ip(world: &World) -> HashMap<String, usize> {
    world.sim.handle().with_world(|w| {
        let mut n = HashMap::new();
        let ips = w.addresses.values().map(|a| a.ip.clone());
        let ordinary = w.instances().iter().filter_map(|i| i.public_ip.clone());
        for ip in ips.chain(ordinary) {
            *n.entry(ip).or_insert(0) += 1;
        }
        n
    })
}

/// After a rollback that released the NAT gateway's new EIPs: every EIP the run added is
/// bound (a converted ordinary IP), none is left allocated and unbound.
pub fn assert_no_new_unbound_eip(world: &World, before: &BTreeSet<String>) {
    let unbound: Vec<(String, String)> = world.sim.handle().with_world(|w| {
        w.addresses
            .values()
            .filter(|a| a.instance_id.is_none() && !before.contains(&a.id))
            .map(|a| (a.id.clone(), a.ip.clone()))
            .collect()
    });
    assert!(
        unbound.is_empty(),
        "EIPs left allocated after the rollback: {unbound:?}"
    );
}

pub fn assert_one_nat_gateway(world: &World, vpc: &str) {
    let nats = world.sim.handle().nat_gateways(vpc);
    assert_eq!(nats.len(), 1, "NAT gateways of {vpc}: {nats:#?}");
    assert_eq!(
        world.received("CreateNatGateway"),
        1,
        "CreateNatGateway calls"
    );
}

/// No route table has two routes to one destination (a replayed CreateRoutes would add one).
pub fn assert_no_duplicate_route(world: &World) {
    world.sim.handle().with_world(|w| {
        for table in w.route_tables.values() {
            let mut seen = BTreeSet::new();
            for r in &table.routes {
                assert!(
                    seen.insert(&r.destination),
                    "route table {} has {} twice: {:#?}",
                    table.id,
                    r.destination,
                    table.routes
                );
            }
        }
    });
}

/// Every EIP is bound (to an instance or a NAT gateway), was there before the run, or is named
/// by one of the run's undo records (so a rollback releases it): none is allocated, billed and
/// forgotten.
pub async fn assert_no_orphaned_eip(
    world: &World,
    db: &AnyPool,
    run: RunId,
    before: &BTreeSet<String>,
) {
    let undo = store::undo::list(db, run).await.unwrap();
    let undo = serde_json::to_string(&undo).unwrap();
    let orphans: Vec<(String, String)> = world.sim.handle().with_world(|w| {
        w.addresses
            .values()
            .filter(|a| a.instance_id.is_none() && !before.contains(&a.id))
            .filter(|a| !undo.contains(&a.id))
            .map(|a| (a.id.clone(), a.ip.clone()))
            .collect()
    });
    assert!(
        orphans.is_empty(),
        "orphaned EIPs: {orphans:?}\nundo: {undo}"
    );
}

/// Every mutating call the simulator executed has its ledger row (see `common`); returns the
/// actions of the rows left `sent` by a killed process.
pub async fn assert_every_received_call_is_ledgered(
    world: &World,
    db: &AnyPool,
    run: RunId,
) -> Vec<String> {
    let calls = ledger(db, run).await;
    crate::common::assert_every_received_call_is_ledgered(&world.sim.handle(), &calls)
}
