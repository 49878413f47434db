//! Issue 12's safety guard in rollback: "release the NAT gateway's EIPs" releases exactly the
//! EIPs the run's record names as allocated for the gateway, never an EIP step 3 moved onto it
//! to keep an instance's egress IP. A kept EIP goes back to its instance; when the run's
//! records cannot say so, rollback stops with a clear error and releases nothing.

use std::collections::BTreeSet;

use natpilot::sim::ScenarioSource;
use natpilot::store::keep_egress::MarkKind;
use natpilot::store::{self, RunId, RunStatus};
use natpilot::wizard::engine::UndoEntry;
use natpilot::wizard::plan::{AllocatedEip, Undo};

use crate::harness::*;

const WORKER2: &str = "ins-worker02";
const WORKER2_IP: &str = "119.28.20.22";

/// Every EIP in the simulator: id → (IP, what it is bound to).
fn addresses(env: &Env) -> Vec<(String, String, Option<String>)> {
    env.sim.handle().with_world(|w| {
        w.addresses
            .values()
            .map(|a| (a.id.clone(), a.ip.clone(), a.instance_id.clone()))
            .collect()
    })
}

fn holder_of(env: &Env, ip: &str) -> Option<Option<String>> {
    addresses(env).into_iter().find(|a| a.1 == ip).map(|a| a.2)
}

/// A run with worker-2 keeping its EIP, taken through step 3: the EIP is on the gateway.
/// Returns the run, the gateway id and the ids of the gateway's own EIPs.
async fn kept_through_step3(env: &Env) -> (RunId, String, BTreeSet<String>) {
    let run = start_run(&env.engine).await;
    env.engine
        .set_keep_egress(run, MarkKind::Instance, WORKER2, true, "alice")
        .await
        .unwrap();
    through_step_3(&env.engine, run).await;
    let nat = env
        .engine
        .nat_gateway(run)
        .await
        .unwrap()
        .expect("the run names its gateway")
        .to_string();
    assert_eq!(
        holder_of(env, WORKER2_IP),
        Some(Some(nat.clone())),
        "step 3 moved worker-2's EIP onto the gateway"
    );
    let own: BTreeSet<String> = addresses(env)
        .into_iter()
        .filter(|a| a.2.as_deref() == Some(nat.as_str()) && a.1 != WORKER2_IP)
        .map(|a| a.0)
        .collect();
    assert_eq!(own.len(), 1, "step 2 asked for one new EIP: {own:?}");
    (run, nat, own)
}

/// The run's undo records with their decoded actions.
async fn undo_entries(env: &Env, run: RunId) -> Vec<(i64, UndoEntry)> {
    store::undo::list(env.store.readers(), run)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, serde_json::from_value(r.action).unwrap()))
        .collect()
}

async fn rollback_fails(env: &Env, run: RunId) -> (String, String) {
    env.engine.rollback(run, "alice", true).await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::Failed, "{:?}", r.last_error);
    let e = r.last_error.expect("the failure is recorded");
    (e.code, e.message)
}

#[tokio::test]
async fn rollback_with_release_gives_the_kept_eip_back_and_releases_only_the_gateways_own() {
    let env = start(ScenarioSource::Tutorial).await;
    let (run, _nat, own) = kept_through_step3(&env).await;
    let worker2_eip = addresses(&env)
        .into_iter()
        .find(|a| a.1 == WORKER2_IP)
        .unwrap()
        .0;
    let before: BTreeSet<String> = addresses(&env).into_iter().map(|a| a.0).collect();

    env.engine.rollback(run, "alice", true).await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    assert_eq!(
        holder_of(&env, WORKER2_IP),
        Some(Some(WORKER2.to_owned())),
        "worker-2's EIP exists and is bound to worker-2 again"
    );
    let after: BTreeSet<String> = addresses(&env).into_iter().map(|a| a.0).collect();
    let released: BTreeSet<String> = before.difference(&after).cloned().collect();
    assert_eq!(released, own, "only the gateway's own EIPs are released");
    // The record the release was decided from names the gateway's own EIP, not the kept one.
    let named: Vec<AllocatedEip> = undo_entries(&env, run)
        .await
        .into_iter()
        .filter_map(|(_, e)| match e.undo {
            Undo::DeleteNatGateway { allocated_eips, .. } => Some(allocated_eips),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        named
            .iter()
            .all(|a| a.ip != WORKER2_IP && a.address_id != worker2_eip),
        "{named:?}"
    );
}

/// Deletes worker-2's undo records that `which` picks (the database was changed outside
/// natpilot), then checks the rollback stops before anything is released or deleted.
async fn missing_records_stop_the_rollback(which: fn(&Undo) -> bool) {
    let env = start(ScenarioSource::Tutorial).await;
    let (run, nat, own) = kept_through_step3(&env).await;
    let gone: Vec<i64> = undo_entries(&env, run)
        .await
        .into_iter()
        .filter(|(_, e)| which(&e.undo))
        .map(|(id, _)| id)
        .collect();
    assert!(!gone.is_empty(), "step 3 recorded worker-2's move");
    for id in gone {
        natpilot::store::sql::query("DELETE FROM undo_records WHERE id = ?")
            .bind(id)
            .execute(env.store.writer())
            .await
            .unwrap();
    }

    let (code, message) = rollback_fails(&env, run).await;
    assert_eq!(code, "natpilot.KeptEipOnGateway", "{message}");
    assert!(
        message.contains(WORKER2_IP) && message.contains(WORKER2),
        "{message}"
    );
    // Nothing was released and the gateway still holds both EIPs.
    assert_eq!(holder_of(&env, WORKER2_IP), Some(Some(nat.clone())));
    for id in &own {
        assert!(
            addresses(&env).iter().any(|a| &a.0 == id),
            "{id} was released"
        );
    }
    assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1);
}

#[tokio::test]
async fn a_kept_eip_whose_unbind_record_is_missing_stops_the_rollback_before_anything_is_released()
{
    missing_records_stop_the_rollback(
        |u| matches!(u, Undo::DisassociateNatEip { ip, .. } if ip == WORKER2_IP),
    )
    .await;
}

/// Without its records the kept EIP looks like one of the gateway's own: the release would
/// take it.
#[tokio::test]
async fn a_kept_eip_whose_move_records_are_all_missing_is_not_taken_for_the_gateways_own() {
    missing_records_stop_the_rollback(|u| {
        matches!(u, Undo::DisassociateNatEip { ip, .. } | Undo::ReassociateEip { ip, .. } if ip == WORKER2_IP)
    })
    .await;
}

#[tokio::test]
async fn a_kept_eip_whose_undo_record_does_not_decode_stops_the_rollback_before_anything_is_undone()
{
    let env = start(ScenarioSource::Tutorial).await;
    let (run, nat, own) = kept_through_step3(&env).await;
    let rebind = undo_entries(&env, run)
        .await
        .into_iter()
        .find(|(_, e)| matches!(&e.undo, Undo::ReassociateEip { ip, .. } if ip == WORKER2_IP))
        .expect("step 3 recorded the rebind")
        .0;
    natpilot::store::sql::query("UPDATE undo_records SET action = ? WHERE id = ?")
        .bind(r#"{"key": "keep:x", "undo": {"kind": "reassociate_eip"}}"#)
        .bind(rebind)
        .execute(env.store.writer())
        .await
        .unwrap();

    let (code, message) = rollback_fails(&env, run).await;
    assert_eq!(code, "natpilot.CorruptRecord", "{message}");
    assert!(message.contains("undo record"), "{message}");
    assert_eq!(holder_of(&env, WORKER2_IP), Some(Some(nat.clone())));
    for id in &own {
        assert!(addresses(&env).iter().any(|a| &a.0 == id), "{id} released");
    }
    assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1);
}

#[tokio::test]
async fn a_release_record_that_names_a_kept_eip_releases_nothing() {
    let env = start(ScenarioSource::Tutorial).await;
    let (run, nat, own) = kept_through_step3(&env).await;
    let worker2_eip = addresses(&env)
        .into_iter()
        .find(|a| a.1 == WORKER2_IP)
        .unwrap()
        .0;
    // The gateway's record was filled in wrongly: it names the kept EIP as allocated.
    let (id, mut entry) = undo_entries(&env, run)
        .await
        .into_iter()
        .find(|(_, e)| matches!(e.undo, Undo::DeleteNatGateway { .. }))
        .unwrap();
    if let Undo::DeleteNatGateway { allocated_eips, .. } = &mut entry.undo {
        allocated_eips.push(AllocatedEip {
            address_id: worker2_eip.clone(),
            ip: WORKER2_IP.into(),
        });
    }
    natpilot::store::sql::query("UPDATE undo_records SET action = ? WHERE id = ?")
        .bind(serde_json::to_string(&entry).unwrap())
        .bind(id)
        .execute(env.store.writer())
        .await
        .unwrap();

    let (code, message) = rollback_fails(&env, run).await;
    assert_eq!(code, "natpilot.KeptEipInRelease", "{message}");
    assert!(message.contains(WORKER2_IP), "{message}");
    // Step 3's records ran first: worker-2 has its EIP back; the gateway and its own EIP stay.
    assert_eq!(holder_of(&env, WORKER2_IP), Some(Some(WORKER2.to_owned())));
    for id in &own {
        assert!(addresses(&env).iter().any(|a| &a.0 == id), "{id} released");
    }
    assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1);
    let _ = nat;
}
