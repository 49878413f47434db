//! Step 4's retirements, many instances at once, on the simulator's `large` world.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use natpilot::sim::{FaultConfig, FaultKind, ScenarioSource};
use natpilot::store::{self, RunStatus};
use natpilot::wizard::engine::UndoEntry;
use natpilot::wizard::input::*;

use crate::harness::*;

/// Every public IP of the world: ip → (address id if it is an EIP, the instance holding it).
pub fn public_ips(env: &Env) -> BTreeMap<String, (Option<String>, Option<String>)> {
    env.sim.handle().with_world(|w| {
        let eips = w
            .addresses
            .values()
            .map(|a| (a.ip.clone(), (Some(a.id.clone()), a.instance_id.clone())));
        let ordinary = w.instances().iter().filter_map(|i| {
            let ip = i.public_ip.clone()?;
            Some((ip, (None, Some(i.id.clone()))))
        });
        eips.chain(ordinary).collect()
    })
}

/// How many address records carry each IP (more than one would be a duplicate).
pub fn records_per_ip(env: &Env) -> HashMap<String, usize> {
    env.sim.handle().with_world(|w| {
        let mut n = HashMap::new();
        let ips = w.addresses.values().map(|a| a.ip.clone());
        let ordinary = w.instances().iter().filter_map(|i| i.public_ip.clone());
        for ip in ips.chain(ordinary) {
            *n.entry(ip).or_insert(0) += 1;
        }
        n
    })
}

fn offline_instances(env: &Env) -> BTreeSet<String> {
    env.sim.handle().with_world(|w| {
        w.instances()
            .iter()
            .filter(|i| format!("{:?}", i.agent) != "Online")
            .map(|i| i.id.clone())
            .collect()
    })
}

#[tokio::test]
async fn a_batch_of_retirements_under_faults_completes_with_every_ip_kept_once_and_none_created() {
    let env = start(ScenarioSource::Large { instances: 150 }).await;
    // Every kept ordinary IP becomes an EIP, which counts against the EIP quota.
    env.sim.handle().with_world(|w| w.quotas.eip_total = 1_000);
    let before = public_ips(&env);
    let offline = offline_instances(&env);
    let run = start_run_in(&env.engine, LARGE_VPC).await;
    confirm(&env.engine, run, StepInput::Assess(AssessInput::default())).await;
    confirm(&env.engine, run, provision()).await;
    confirm(&env.engine, run, StepInput::Route(RouteInput::default())).await;
    let nat_ips = public_ips(&env).len() - before.len();

    // Faults only now, on every action the retirements use: a dropped answer to a
    // DisassociateAddress or TransformAddress that did happen is the case to get right.
    let actions = [
        "DisassociateAddress",
        "TransformAddress",
        "DescribeTaskResult",
        "DescribeAddresses",
    ];
    faults_on(&env, &actions, 11);
    let verify = StepInput::Verify(VerifyInput::default());
    assert_eq!(
        confirm(&env.engine, run, verify).await,
        RunStatus::Completed
    );

    let after = public_ips(&env);
    assert_eq!(
        after.len(),
        before.len() + nat_ips,
        "no address appeared or vanished"
    );
    assert!(
        records_per_ip(&env).values().all(|n| *n == 1),
        "no IP is held by two records"
    );
    let mut retired = 0;
    for (ip, (_, holder)) in &before {
        let Some(instance) = holder else { continue };
        let (eip, now) = &after[ip];
        if offline.contains(instance) {
            assert_eq!(now.as_ref(), Some(instance), "{ip}: untestable, kept");
        } else {
            assert_eq!(*now, None, "{ip} of {instance}: retired");
            assert!(
                eip.is_some(),
                "{ip}: kept as an EIP, so rollback can bind it back"
            );
            retired += 1;
        }
    }
    assert!(retired > 40, "{retired} retirements ran");
    let ledger = store::ledger::list(env.store.readers(), run, 0, 100_000)
        .await
        .unwrap();
    let faults = ledger
        .iter()
        .filter(|c| c.step == Some(natpilot::store::Step::Verify) && c.error_code.is_some())
        .count();
    assert!(faults > 5, "the retirements met faults ({faults})");
    let undo = store::undo::list(env.store.readers(), run).await.unwrap();
    let keys: Vec<String> = undo
        .iter()
        .filter_map(|r| serde_json::from_value::<UndoEntry>(r.action.clone()).ok())
        .map(|e| e.key)
        .collect();
    let distinct: BTreeSet<&String> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len(), "one undo record per change");
}

/// From now on, 20% of the calls of each of `actions` fail: an internal error, a rate-limit
/// answer, or a dropped connection (the call may have happened), chosen with `seed`.
fn faults_on(env: &Env, actions: &[&str], seed: u64) {
    env.sim.handle().set_faults(FaultConfig {
        per_action: actions.iter().map(|a| (a.to_string(), 0.2)).collect(),
        kinds: vec![
            FaultKind::InternalError,
            FaultKind::RequestLimitExceeded,
            FaultKind::Drop,
        ],
        seed,
        ..FaultConfig::default()
    });
}

#[tokio::test]
async fn rolling_back_a_batch_of_retirements_under_faults_binds_every_address_back_once() {
    let env = start(ScenarioSource::Large { instances: 150 }).await;
    env.sim.handle().with_world(|w| w.quotas.eip_total = 1_000);
    let before = public_ips(&env);
    let run = start_run_in(&env.engine, LARGE_VPC).await;
    complete(&env.engine, run, RouteInput::default()).await;
    faults_on(
        &env,
        &[
            "AssociateAddress",
            "DescribeTaskResult",
            "DescribeAddresses",
        ],
        5,
    );
    env.engine.rollback(run, "alice", true).await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    let after = public_ips(&env);
    for (ip, (_, holder)) in &before {
        assert_eq!(&after[ip].1, holder, "{ip} is back with its instance");
    }
    assert_eq!(
        after.len(),
        before.len(),
        "the NAT's EIP was released, nothing else"
    );
    assert!(records_per_ip(&env).values().all(|n| *n == 1));
}
